#!/bin/sh
# office-bench.sh - documents per second and peak memory of the Office
# handlers over every file of the Office folders of the corpus
# (tika-office, poi-testdata, calamine-tests, oletools-testdata,
# msoffcrypto-testdata): one emofilter-scan process scans them all with
# --raw --json (as the milter's worker would, one engine for all), timed
# with GNU time. Prints the figures; it is not a test (no pass/fail).
# Usage: tests/bench/office-bench.sh [ROUNDS]   (default 3, best kept)
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
scan="$top_builddir/src/cli/emofilter-scan"
corpus=${EMF_CORPUS:-}
for c in "$top_srcdir/../shared/corpus" "$top_srcdir/../../shared/corpus"; do
	[ -z "$corpus" ] && [ -d "$c/poi-testdata" ] && corpus=$c
done
[ -n "$corpus" ] || { echo "corpus not found"; exit 77; }
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time)"; exit 77; }
rounds=${1:-3}
list=$(mktemp)
trap 'rm -f "$list" "$list.t"' EXIT
for d in tika-office poi-testdata calamine-tests oletools-testdata \
    msoffcrypto-testdata; do
	find "$corpus/$d" -type f
done | sort > "$list"
n=$(wc -l < "$list")
bytes=$(xargs -d '\n' cat < "$list" | wc -c)
best=
i=0
while [ $i -lt "$rounds" ]; do
	xargs -d '\n' /usr/bin/time -f '%e %M' -o "$list.t" "$scan" --raw \
	    --json < "$list" > /dev/null 2>&1
	set -- $(tail -1 "$list.t")
	echo "round $((i + 1)): $1 s, peak RSS $2 KiB"
	if [ -z "$best" ] || [ "$(echo "$1 < $best" | bc)" = 1 ]; then
		best=$1; rss=$2
	fi
	i=$((i + 1))
done
echo "files: $n ($((bytes / 1024)) KiB)"
echo "best time: $best s -> $(echo "scale=1; $n / $best" | bc) documents/s," \
    "$(echo "scale=1; $bytes / 1048576 / $best" | bc) MiB/s"
echo "peak RSS (one process, all files): $rss KiB"
