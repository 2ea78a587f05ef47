#!/bin/sh
# layers.sh - the include rules of src/lib (src/lib/README.md):
#   - no source file directly in src/lib, only emf.h there;
#   - a file includes its own folder's headers by bare name, other
#     folders' by stage path ("core/scan.h");
#   - a stage includes its own headers, core's and emf.h, never another
#     stage's;
#   - core includes no stage header, except core/modules.h (the handler
#     table the driver calls through).
# Prints every breach with file:line; exit 1 on any.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
lib=$top_srcdir/src/lib
cd "$lib" || exit 1

bad=0
breach() { echo "layers: src/lib/$1: $2"; bad=1; }

for f in *.c *.h; do
	[ -e "$f" ] || continue
	[ "$f" = emf.h ] || breach "$f" "belongs in a stage folder"
done

for f in */*.c */*.h; do
	[ -e "$f" ] || continue
	stage=${f%%/*}
	grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
	    sed 's/^\([0-9]*\):.*"\([^"]*\)".*/\1 \2/' > "${TMPDIR:-/tmp}/layers.$$"
	while read -r line inc; do
		where="$f:$line"
		case $inc in
		config.h|emf.h) ;;
		*/*)
			istage=${inc%%/*}
			if [ ! -f "$inc" ]; then
				breach "$where" "\"$inc\" does not exist"
			elif [ "$istage" = "$stage" ]; then
				breach "$where" "own folder's header by bare name: \"${inc#*/}\""
			elif [ "$istage" != core ] &&
			    [ "$f" != core/modules.h ]; then
				breach "$where" "$stage/ includes $inc (stages meet only through core/modules.h and the dispatcher)"
			fi;;
		*)
			[ -f "$stage/$inc" ] ||
			    breach "$where" "\"$inc\" is not in $stage/ (name its stage: \"STAGE/$inc\")";;
		esac
	done < "${TMPDIR:-/tmp}/layers.$$"
	rm -f "${TMPDIR:-/tmp}/layers.$$"
done

[ $bad -eq 0 ] && echo "layers: src/lib follows its include rules"
exit $bad
