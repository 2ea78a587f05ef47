#!/bin/sh
# build.sh - configure and build emofilter in the source tree.
#   contrib/build.sh [configure options...]
# Re-runs autoreconf/configure only when needed or when options change.
set -eu
cd "$(dirname "$0")/.."
opts="$*"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
	autoreconf -fi
fi
if [ ! -f Makefile ] || [ "$(cat .configure-opts 2>/dev/null)" != "$opts" ] ||
    [ configure -nt Makefile ]; then
	# shellcheck disable=SC2086
	./configure -q $opts
	echo "$opts" > .configure-opts
	make -s clean >/dev/null 2>&1 || true
fi
make -s -j"$(nproc 2>/dev/null || echo 2)"
