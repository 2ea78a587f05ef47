#!/bin/sh
# scaling-bench.sh - emofilter's throughput by worker count and SMTP
# sessions, and what one slow (hostile) message does to the others'
# latency (a benchmark, not a test; not in make check).
#
# usage: tests/bench/scaling-bench.sh [MESSAGES]
#   MESSAGES  messages per cell (default 500), of tests/milter/make-messages.sh
#             tag.eml (987 bytes)
# Environment: WORKERS (default "1 2 4"), SESSIONS_LIST (default
# "1 20 50"), HOSTILE (default zip-10gb-nested of tests/hostile: a 52 KB
# mail whose nested zips take seconds to refuse), EMF_SOCKET=unix (the
# milter on a unix socket instead of loopback TCP).
#
# Part 1: for each milter.workers value (emofilter restarted, the same
# private Postfix), for each session count: tests/bench/smtp-lat.py
# MESSAGES -> msg/s, end-of-DATA latency p50/p99, and PSS per process
# idle. Part 2 (shipped worker count): clean mail over 4 sessions alone,
# then the same while a fifth session sends the hostile mail in a loop:
# with a worker free, the clean mail must not wait behind it (no
# head-of-line blocking). Load average with every line.
set -u
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=${top_builddir:-$top_srcdir}
N=${1:-500}
WORKERS=${WORKERS:-1 2 4}
SESSIONS_LIST=${SESSIONS_LIST:-1 20 50}
HOSTILE=${HOSTILE:-zip-10gb-nested}
[ "$(id -u)" -eq 0 ] || { echo "needs root (Postfix)"; exit 77; }
. "$top_srcdir/tests/milter/postfix-lib.sh"
. "$top_srcdir/tests/bench/bench-lib.sh"
bench_init scale
HPID=
cleanup() {
	[ -n "$HPID" ] && kill "$HPID" 2>/dev/null
	pf_stop_all
	rm -rf "$PF_DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

bench_messages
pf_start_sink || exit 1
pf_milter_addr
bench_postfix "B=$MILTER_PF" || exit 1
lat() {
	python3 "$top_srcdir/tests/bench/smtp-lat.py" 127.0.0.1 "$PORT_B" "$@"
}
field() { echo "$2" | sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }

echo "scaling: $N messages of $(wc -c <"$PF_DIR/msg/tag.eml") bytes per cell, $(nproc) CPU(s)"
printf '%-8s %-9s %9s %9s %9s  %-28s %s\n' workers sessions "msg/s" \
    "p50 ms" "p99 ms" "PSS idle kB (sum: each)" load
for w in $WORKERS; do
	pf_write_emf_conf "$PF_DIR/emofilter.conf" "workers = $w;"
	pf_start_emofilter "$PF_DIR/emofilter.conf" || exit 1
	lat "$PF_DIR/msg.lf" 50 2 >/dev/null
	bench_settle
	sleep 1
	pids=$(bench_tree "$EMF_PID")
	pss="$(bench_pss $pids): $(for p in $pids; do printf '%s ' "$(bench_pss "$p")"; done)"
	for s in $SESSIONS_LIST; do
		out=$(lat "$PF_DIR/msg.lf" "$N" "$s")
		printf '%-8s %-9s %9s %9s %9s  %-28s %s\n' "$w" "$s" \
		    "$(field rate "$out")" "$(field p50_ms "$out")" \
		    "$(field p99_ms "$out")" "$pss" "$(bench_load)"
		[ "$(field ok "$out")" = "$N" ] || echo "  (not all accepted: $out)"
		bench_settle
	done
	pf_stop_emofilter
done

echo
EMF_HOSTILE_WORK=$PF_DIR/hostile python3 "$top_srcdir/tests/hostile/hostile.py" \
    --keep "$HOSTILE" >/dev/null 2>&1
hmsg=$PF_DIR/hostile/$HOSTILE.eml
[ -f "$hmsg" ] || { echo "no hostile message $HOSTILE"; exit 1; }
pf_write_emf_conf "$PF_DIR/emofilter.conf" ""
pf_start_emofilter "$PF_DIR/emofilter.conf" || exit 1
nw=$(($(bench_tree "$EMF_PID" | wc -l) - 2))
lat "$PF_DIR/msg.lf" 50 2 >/dev/null
bench_settle
echo "head-of-line: $nw workers (shipped default), clean mail over 4 sessions; hostile: $HOSTILE ($(wc -c <"$hmsg") bytes)"
out=$(lat "$PF_DIR/msg.lf" "$N" 4)
echo "  clean alone:              $(field rate "$out") msg/s  p50 $(field p50_ms "$out") ms  p99 $(field p99_ms "$out") ms  max $(field max_ms "$out") ms   load $(bench_load)"
bench_settle
# One session sends the hostile mail again and again meanwhile.
( while :; do lat "$hmsg" 1 1 >>"$PF_DIR/hostile.out"; done ) &
HPID=$!
sleep 3
out=$(lat "$PF_DIR/msg.lf" "$N" 4)
kill "$HPID" 2>/dev/null
wait "$HPID" 2>/dev/null
HPID=
echo "  clean beside the hostile: $(field rate "$out") msg/s  p50 $(field p50_ms "$out") ms  p99 $(field p99_ms "$out") ms  max $(field max_ms "$out") ms   load $(bench_load)"
echo "  hostile mails answered meanwhile: $(grep -c 'ok=1' "$PF_DIR/hostile.out") (reply $(sed -n 's/.*p50_ms=\([^ ]*\).*/\1/p' "$PF_DIR/hostile.out" | tr '\n' ' ')ms)"
grep ': id=' "$PF_DIR/emofilter.log" | grep -c 'LIMIT\|limits=hit' | sed 's/^/  log lines with a limit hit: /'
