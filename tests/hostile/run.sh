#!/bin/sh
# run.sh - the hostile-input suite for make check (tests/hostile/hostile.py).
# Skips (77) without python3; the inputs are generated at test time under
# tests/work/hostile and removed after each case.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
exec python3 "$top_srcdir/tests/hostile/hostile.py" "$@"
