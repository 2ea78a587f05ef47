#!/bin/sh
# scan-bench.sh - throughput and peak memory of emofilter-scan.
#
#   tests/bench/scan-bench.sh [DIR...]
#
# Default input: the SpamAssassin ham of ../shared/corpus (easy_ham,
# easy_ham_2, hard_ham). Prints messages/second and peak RSS of one
# emofilter-scan process over all of it (best of 3 runs), and the same
# for one message at a time to show per-process start-up cost.
# A benchmark, not a test: it prints figures and never fails on them.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
scan=${EMF_SCAN:-$top/src/cli/emofilter-scan}
conf=$top/tests/emofilter-test.conf
corpus=$top/../shared/corpus/spamassassin-corpus
[ -x "$scan" ] || { echo "build first (contrib/build.sh)"; exit 1; }
command -v /usr/bin/time >/dev/null 2>&1 || { echo "needs /usr/bin/time (Debian package time)"; exit 1; }

if [ $# -eq 0 ]; then
	set -- "$corpus"/easy-ham-1 "$corpus"/easy-ham-2 "$corpus"/hard-ham-1
fi
list=$(mktemp)
trap 'rm -f "$list"' EXIT
find "$@" -type f | sort > "$list"
n=$(wc -l < "$list")
bytes=$(xargs cat < "$list" | wc -c)
echo "input: $n messages, $((bytes / 1024)) KiB ($*)"

best=""
for run in 1 2 3; do
	# time(1) on xargs: wall time of every batch, and the largest RSS of
	# any emofilter-scan process (wait4 reports the children's maximum).
	out=$( { /usr/bin/time -f "%e %M" xargs "$scan" -c "$conf" --json \
	    < "$list" > /dev/null; } 2>&1 | tail -1)
	secs=${out% *}; rss=${out#* }
	echo "run $run: ${secs}s, peak RSS ${rss} KiB"
	if [ -z "$best" ] || [ "$(echo "$secs < $best" | bc -l 2>/dev/null || echo 0)" = 1 ]; then
		best=$secs; best_rss=$rss
	fi
done
python3 -c "import sys; n,s,r=int(sys.argv[1]),float(sys.argv[2]),int(sys.argv[3]); \
print('best: %.0f messages/s (%.2f ms/message), peak RSS %.1f MiB' % (n/s if s else 0, 1000*s/n, r/1024))" \
    "$n" "$best" "$best_rss"
