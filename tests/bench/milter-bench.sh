#!/bin/sh
# milter-bench.sh - figures for emofilter behind a real Postfix (not a test).
#
# usage: tests/bench/milter-bench.sh [MESSAGES] [MESSAGE.eml]
#   MESSAGES  messages per arm and round (default 1000)
#   MESSAGE   the message sent (default: a generated one of 987 bytes with
#             a small zip attachment, tests/milter/make-messages.sh tag.eml)
# Environment: ROUNDS (default 5), SESSIONS (default 20), EMF_MILTER
# (extra settings for the milter group, e.g. "workers = 4;").
#
# One private loopback Postfix (as tests/milter/e2e.sh, relaying to
# smtp-sink) with two smtpd listeners: A without a milter, B with
# emofilter. Each round runs A then B (A B, A B, ...); per arm:
#   - throughput: smtp-source MESSAGES over SESSIONS sessions, one
#     message per connection; msg/s until the last reply ("accepted") and
#     until the sink holds them all ("end to end");
#   - latency: tests/bench/smtp-lat.py, the same count and sessions, the
#     time from the final dot to Postfix's reply per message.
# Printed: per round, then medians over the rounds, the added latency
# (B - A of the same round, median over rounds), the throughput ratio
# B / A of the same round (median), emofilter's CPU seconds per 1,000
# messages (its processes, from /proc/PID/stat) and its PSS (sum of
# /proc/PID/smaps_rollup) idle before, at the peak of, and idle after the
# load. The load average is printed with every round: the figures are
# only as quiet as the machine. Needs root, Postfix, smtp-source, python3.
set -u
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=${top_builddir:-$top_srcdir}
N=${1:-1000}
ROUNDS=${ROUNDS:-5}
SESSIONS=${SESSIONS:-20}
[ "$(id -u)" -eq 0 ] || { echo "needs root (Postfix)"; exit 77; }
for t in postfix smtp-source smtp-sink python3 zip script; do
	command -v $t >/dev/null 2>&1 || { echo "$t missing"; exit 77; }
done

PF_DIR=$(mktemp -d /tmp/emf-bench.XXXXXX)
. "$top_srcdir/tests/milter/postfix-lib.sh"
. "$top_srcdir/tests/bench/bench-lib.sh"
cleanup() {
	bench_sampler_stop
	pf_stop_all
	rm -rf "$PF_DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pf_ports
pf_setup_dirs
"$top_srcdir/tests/milter/make-messages.sh" "$PF_DIR/msg" >/dev/null
msg=${2:-$PF_DIR/msg/tag.eml}
tr -d '\r' <"$msg" >"$PF_DIR/msg.lf"
conf=$PF_DIR/emofilter.conf
# Shipped defaults with the test paths.
pf_write_emf_conf "$conf" "${EMF_MILTER:-}"
pf_start_sink || exit 1
pf_start_emofilter "$conf" || exit 1
bench_postfix "A= B=inet:127.0.0.1:$MILTER_PORT" || exit 1
sleep 2
emf() { bench_tree "$EMF_PID"; }
nproc_emf=$(emf | wc -l)
echo "emofilter milter benchmark: $ROUNDS rounds x $N messages of" \
    "$(wc -c <"$msg") bytes per arm, $SESSIONS sessions, $(nproc) CPU(s)," \
    "emofilter processes: $nproc_emf (main, milter, $((nproc_emf - 2)) workers)"
idle=$(bench_pss $(emf))
echo "PSS idle: $idle kB (per process:$(for p in $(emf); do printf ' %s' "$(bench_pss "$p")"; done) kB)   load $(bench_load)"
# warm-up: the first messages fault pages in, fill caches
python3 "$top_srcdir/tests/bench/smtp-lat.py" 127.0.0.1 "$PORT_B" \
    "$PF_DIR/msg.lf" 200 "$SESSIONS" >/dev/null
bench_settle
bench_sampler_start "emf=$EMF_PID"
cpu_emf=0
rates_a= rates_b= e2e_a= e2e_b= p50_a= p50_b= p99_a= p99_b= ratio= added50= added99=
bad=0
printf '%-5s %-9s %10s %10s %9s %9s %s\n' round arm "accept/s" "e2e/s" \
    "p50 ms" "p99 ms" "load"
for r in $(seq 1 "$ROUNDS"); do
	bench_run A "$N" "$SESSIONS"
	a_rate=$B_RATE a_p50=$B_P50 a_p99=$B_P99
	bad=$((bad + B_BAD))
	printf '%-5s %-9s %10s %10s %9s %9s %s\n' "$r" "Postfix" "$B_RATE" \
	    "$B_E2E" "$B_P50" "$B_P99" "$(bench_load)"
	rates_a="$rates_a $B_RATE" e2e_a="$e2e_a $B_E2E" p50_a="$p50_a $B_P50" p99_a="$p99_a $B_P99"
	c0=$(bench_cpu $(emf))
	bench_run B "$N" "$SESSIONS"
	c1=$(bench_cpu $(emf))
	cpu_emf=$((cpu_emf + c1 - c0))
	bad=$((bad + B_BAD))
	printf '%-5s %-9s %10s %10s %9s %9s %s\n' "$r" "+emofilter" "$B_RATE" \
	    "$B_E2E" "$B_P50" "$B_P99" "$(bench_load)"
	rates_b="$rates_b $B_RATE" e2e_b="$e2e_b $B_E2E" p50_b="$p50_b $B_P50" p99_b="$p99_b $B_P99"
	ratio="$ratio $(python3 -c "print('%.3f' % ($B_RATE / $a_rate))")"
	added50="$added50 $(python3 -c "print('%.2f' % ($B_P50 - $a_p50))")"
	added99="$added99 $(python3 -c "print('%.2f' % ($B_P99 - $a_p99))")"
done
bench_sampler_stop
sleep 2
after=$(bench_pss $(emf))
scanned=$(grep -c ': id=.* result=' "$PF_DIR/emofilter.log")
echo
echo "medians over $ROUNDS rounds:"
printf '  %-22s accept %7s msg/s  e2e %7s msg/s  p50 %6s ms  p99 %6s ms\n' \
    "Postfix alone" "$(bench_median $rates_a)" "$(bench_median $e2e_a)" \
    "$(bench_median $p50_a)" "$(bench_median $p99_a)"
printf '  %-22s accept %7s msg/s  e2e %7s msg/s  p50 %6s ms  p99 %6s ms\n' \
    "Postfix + emofilter" "$(bench_median $rates_b)" "$(bench_median $e2e_b)" \
    "$(bench_median $p50_b)" "$(bench_median $p99_b)"
echo "throughput with emofilter / without, same round: median $(bench_median $ratio) (rounds:$ratio)"
echo "added latency, same round: median $(bench_median $added50) ms (rounds:$added50), p99 $(bench_median $added99) ms (rounds:$added99)"
python3 -c "print('emofilter CPU: %.2f s per 1,000 messages (%d messages in the B arms)' % ($cpu_emf / $BENCH_HZ / ($ROUNDS * 2 * $N) * 1000, $ROUNDS * 2 * $N))"
echo "emofilter PSS: idle $idle kB, peak $(cat "$PF_DIR/peak.emf") kB, idle after the load $after kB"
echo "messages scanned by emofilter: $scanned; not accepted or not delivered: $bad"
echo "load average at the end: $(bench_load)"
