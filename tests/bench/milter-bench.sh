#!/bin/sh
# milter-bench.sh - figures for emofilter behind a real Postfix (not a test).
#
# usage: tests/bench/milter-bench.sh [MESSAGES] [MESSAGE.eml]
#   MESSAGES  messages per arm and round (default 1000)
#   MESSAGE   the message sent (default: a generated one of 987 bytes with
#             a small zip attachment, tests/milter/make-messages.sh tag.eml)
# Environment: ROUNDS (default 5), SESSIONS (default 20), EMF_MILTER
# (extra settings for the milter group, e.g. "workers = 4;"), EMF_BIN_OLD
# (another emofilter binary, e.g. an older build: a third arm C with its
# own instance and the same config, so a change is measured against what
# it replaces in the same rounds), NULL_MILTER=1 (an arm N through
# tests/bench/null-milter, which negotiates as emofilter, accepts all and
# adds NULL_HEADERS (default 3) header fields: what any milter costs
# Postfix here, the floor under arm B), BENCH_LOG (a file the daemon's log is
# copied to at the end; with EMOFILTER_TIMING=1 it has a line of stage
# times per message), EMF_SOCKET=unix (the milters on unix sockets, as
# contrib/postfix/main.cf describes, instead of loopback TCP), PACED
# (default 0.5; 0: off): after the arms of a round, each arm once more
# with its messages paced at PACED x the lowest accept rate of that
# round's arms (a load each of them carries).
#
# One private loopback Postfix (as tests/milter/e2e.sh, relaying to
# smtp-sink) with a smtpd listener per arm: A without a milter, B with
# emofilter (N, C: above). Each round runs every arm, in an order that
# rotates from round to round (A B, B A, ... ; with N: A N B, N B A,
# B A N, ...) so that no arm always goes first; per arm:
#   - throughput: smtp-source MESSAGES over SESSIONS sessions, one
#     message per connection; msg/s until the last reply ("accepted") and
#     until the sink holds them all ("end to end");
#   - latency: tests/bench/smtp-lat.py, the same count and sessions, the
#     time from the final dot to Postfix's reply per message: at
#     saturation (closed loop: each session sends its next message at
#     once), where it mostly restates the throughput, and paced (PACED),
#     at a load every arm carries: the latency a message sees in service.
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

. "$top_srcdir/tests/milter/postfix-lib.sh"
. "$top_srcdir/tests/bench/bench-lib.sh"
bench_init bench
OLD_PID=
cleanup() {
	bench_sampler_stop
	[ -n "$OLD_PID" ] && { kill "$OLD_PID" 2>/dev/null; wait "$OLD_PID" 2>/dev/null; }
	[ -n "${NULL_PID:-}" ] && { kill "$NULL_PID" 2>/dev/null; wait "$NULL_PID" 2>/dev/null; }
	pf_stop_all
	[ -n "${BENCH_LOG:-}" ] && cp "$PF_DIR/emofilter.log" "$BENCH_LOG"
	rm -rf "$PF_DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

bench_messages "${2:-}"
msg=${2:-$PF_DIR/msg/tag.eml}
conf=$PF_DIR/emofilter.conf
# Shipped defaults with the test paths.
pf_write_emf_conf "$conf" "${EMF_MILTER:-}"
pf_start_sink || exit 1
pf_start_emofilter "$conf" || exit 1
arms_cf="A= B=$MILTER_PF"
# A milter address of arm $1 (C: old, N: null), on the kind of socket
# arm B has: MILTER_SOCK as the milter writes it, MILTER_PF as Postfix.
arm_addr() {
	if [ "${EMF_SOCKET:-inet}" = unix ]; then
		ARM_SOCK="unix:$PF_DIR/sock/$1.sock"
		ARM_PF=$ARM_SOCK
	else
		arm_port=$(pf_free_port)
		ARM_SOCK="inet:$arm_port@127.0.0.1"
		ARM_PF="inet:127.0.0.1:$arm_port"
	fi
}
if [ -n "${EMF_BIN_OLD:-}" ]; then
	arm_addr old
	mkdir -p "$PF_DIR/run-old"
	chown "$EMF_USER" "$PF_DIR/run-old"
	chmod 700 "$PF_DIR/run-old"
	sed -e "s|\"$MILTER_SOCK\"|\"$ARM_SOCK\"|" \
	    -e "s|$PF_DIR/run/emofilter.pid|$PF_DIR/run-old/emofilter.pid|" \
	    "$conf" >"$PF_DIR/emofilter-old.conf"
	chmod 644 "$PF_DIR/emofilter-old.conf"
	$PF_SESSION "$EMF_BIN_OLD" -f -c "$PF_DIR/emofilter-old.conf" \
	    >>"$PF_DIR/emofilter-old.log" 2>&1 &
	OLD_PID=$!
	pf_wait_milter "$ARM_PF" && pf_own_session "$OLD_PID" || exit 1
	arms_cf="$arms_cf C=$ARM_PF"
fi
NULL_PID=
NULL_HEADERS=${NULL_HEADERS:-3}
if [ "${NULL_MILTER:-0}" = 1 ]; then
	[ -x "$top_builddir/tests/bench/null-milter" ] ||
	    make -C "$top_builddir" -s tests/bench/null-milter || exit 1
	arm_addr null
	# umask 0: its socket writable by Postfix (the directory is 0750,
	# the daemon user's group, as emofilter's)
	(umask 0; exec $PF_SESSION "$top_builddir/tests/bench/null-milter" \
	    "$ARM_SOCK" "$NULL_HEADERS") >>"$PF_DIR/null-milter.log" 2>&1 &
	NULL_PID=$!
	pf_wait_milter "$ARM_PF" && pf_own_session "$NULL_PID" || exit 1
	arms_cf="$arms_cf N=$ARM_PF"
fi
bench_postfix "$arms_cf" || exit 1
sleep 2
emf() { bench_tree "$EMF_PID"; }
old() { bench_tree "$OLD_PID"; }
pfx() { bench_tree "$(cat "$PF_DIR/queue/pid/master.pid" 2>/dev/null | tr -d ' ')"; }
nproc_emf=$(emf | wc -l)
echo "emofilter milter benchmark: $ROUNDS rounds x $N messages of" \
    "$(wc -c <"$msg") bytes per arm, $SESSIONS sessions, $(nproc) CPU(s)," \
    "emofilter processes: $nproc_emf (main, milter, $((nproc_emf - 2)) workers)"
idle=$(bench_pss $(emf))
[ -n "$OLD_PID" ] && echo "C ($EMF_BIN_OLD): $(old | wc -l) processes, PSS idle $(bench_pss $(old)) kB (per process:$(for p in $(old); do printf ' %s' "$(bench_pss "$p")"; done) kB)"
echo "PSS idle: $idle kB (per process:$(for p in $(emf); do printf ' %s' "$(bench_pss "$p")"; done) kB)   load $(bench_load)"
# warm-up: the first messages fault pages in, fill caches
for a in B ${OLD_PID:+C} ${NULL_PID:+N}; do
	eval "port=\$PORT_$a"
	python3 "$top_srcdir/tests/bench/smtp-lat.py" 127.0.0.1 "$port" \
	    "$PF_DIR/msg.lf" 200 "$SESSIONS" >/dev/null
done
bench_settle
bench_sampler_start "emf=$EMF_PID"
rates_C= ratio_C= added50_C= added99_C= rates_N= ratio_N= added50_N= added99_N=
rates_a= rates_b= e2e_a= e2e_b= p50_a= p50_b= p99_a= p99_b= ratio= added50= added99=
bad=0
PACED=${PACED:-0.5}
q50_A= q50_B= qadd50_B= qadd99_B= qadd50_N= qadd99_N= qadd50_C= qadd99_C=
printf '%-5s %-9s %10s %10s %9s %9s %s\n' round arm "accept/s" "e2e/s" \
    "p50 ms" "p99 ms" "load"
# The arms in a rotating order: round r starts with the r-th (A N B C,
# N B C A, ...), so that no arm always runs first (the first of a round
# gained about 0.06 in ratio, whichever it was). Ratios and differences
# are taken against A of the same round once all its arms have run.
ARMS="A ${NULL_PID:+N} B ${OLD_PID:+C}"
arm_order() {
	k=$(echo $ARMS | wc -w) i=0 head= tail=
	for a in $ARMS; do
		if [ $i -lt $(($1 % k)) ]; then tail="$tail $a"; else head="$head $a"; fi
		i=$((i + 1))
	done
	echo $head $tail
}
arm_root() {
	case $1 in B) echo "$EMF_PID" ;; N) echo "$NULL_PID" ;; C) echo "$OLD_PID" ;; esac
}
arm_label() {
	case $1 in A) echo Postfix ;; B) echo +emofilter ;; N) echo +null ;; C) echo "+C (old)" ;; esac
}
# The filter's CPU (its process tree), or 0 for arm A.
arm_cpu() {
	root=$(arm_root "$1")
	if [ -n "$root" ]; then bench_cpu $(bench_tree "$root"); else echo 0; fi
}
cpu_A=0 cpu_B=0 cpu_N=0 cpu_C=0 cpu_pfA=0 cpu_pfB=0 cpu_pfN=0 cpu_pfC=0
for r in $(seq 1 "$ROUNDS"); do
	order=$(arm_order $((r - 1)))
	round_rates=
	for a in $order; do
		c0=$(arm_cpu "$a") x0=$(bench_cpu $(pfx))
		bench_run "$a" "$N" "$SESSIONS"
		c1=$(arm_cpu "$a") x1=$(bench_cpu $(pfx))
		eval "cpu_$a=\$((cpu_$a + c1 - c0)) cpu_pf$a=\$((cpu_pf$a + x1 - x0))
		    R_$a=$B_RATE E_$a=$B_E2E L50_$a=$B_P50 L99_$a=$B_P99"
		round_rates="$round_rates${round_rates:+, }$B_RATE"
		bad=$((bad + B_BAD))
		printf '%-5s %-9s %10s %10s %9s %9s %s\n' "$r" "$(arm_label "$a")" \
		    "$B_RATE" "$B_E2E" "$B_P50" "$B_P99" "$(bench_load)"
	done
	rates_a="$rates_a $R_A" e2e_a="$e2e_a $E_A" p50_a="$p50_a $L50_A" p99_a="$p99_a $L99_A"
	rates_b="$rates_b $R_B" e2e_b="$e2e_b $E_B" p50_b="$p50_b $L50_B" p99_b="$p99_b $L99_B"
	ratio="$ratio $(python3 -c "print('%.3f' % ($R_B / $R_A))")"
	added50="$added50 $(python3 -c "print('%.2f' % ($L50_B - $L50_A))")"
	added99="$added99 $(python3 -c "print('%.2f' % ($L99_B - $L99_A))")"
	for a in ${NULL_PID:+N} ${OLD_PID:+C}; do
		eval "rates_$a=\"\$rates_$a \$R_$a\"
		    ratio_$a=\"\$ratio_$a \$(python3 -c \"print('%.3f' % (\$R_$a / $R_A))\")\"
		    added50_$a=\"\$added50_$a \$(python3 -c \"print('%.2f' % (\$L50_$a - $L50_A))\")\"
		    added99_$a=\"\$added99_$a \$(python3 -c \"print('%.2f' % (\$L99_$a - $L99_A))\")\""
	done
	[ "$PACED" = 0 ] && continue
	pace=$(python3 -c "print('%.1f' % ($PACED * min([$round_rates])))")
	for a in $order; do
		bench_paced "$a" "$N" "$SESSIONS" "$pace"
		bad=$((bad + B_QBAD))
		printf '%-5s %-9s %10s %10s %9s %9s %s\n' "$r" "paced $a" \
		    "$pace" "late $B_QLATE" "$B_Q50" "$B_Q99" "$(bench_load)"
		eval "Q50_$a=$B_Q50 Q99_$a=$B_Q99"
	done
	q50_A="$q50_A $Q50_A" q50_B="$q50_B $Q50_B"
	for a in B ${NULL_PID:+N} ${OLD_PID:+C}; do
		eval "qadd50_$a=\"\$qadd50_$a \$(python3 -c \"print('%.2f' % (\$Q50_$a - $Q50_A))\")\"
		    qadd99_$a=\"\$qadd99_$a \$(python3 -c \"print('%.2f' % (\$Q99_$a - $Q99_A))\")\""
	done
done
cpu_emf=$cpu_B cpu_pfa=$cpu_pfA cpu_pfb=$cpu_pfB
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
if [ "$PACED" != 0 ]; then
	echo "paced at $PACED x the round's lowest accept rate (\"paced\" lines: the rate in msg/s, and how many messages started over 10 ms late):"
	echo "  p50 medians: Postfix alone $(bench_median $q50_A) ms, with emofilter $(bench_median $q50_B) ms"
	echo "  added latency, same round: median $(bench_median $qadd50_B) ms (rounds:$qadd50_B), p99 $(bench_median $qadd99_B) ms (rounds:$qadd99_B)"
	for a in ${NULL_PID:+N} ${OLD_PID:+C}; do
		eval "echo \"  arm $a: added latency median \$(bench_median \$qadd50_$a) ms (rounds:\$qadd50_$a), p99 \$(bench_median \$qadd99_$a) ms (rounds:\$qadd99_$a)\""
	done
fi
python3 -c "
k = 1000.0 / $BENCH_HZ / ($ROUNDS * 2 * $N)
print('CPU s per 1,000 messages: emofilter %.2f; Postfix (master and its children, sink not counted) %.2f alone, %.2f with emofilter (%d messages per arm)' % ($cpu_emf * k, $cpu_pfa * k, $cpu_pfb * k, $ROUNDS * 2 * $N))"
# $1 arm, $2 label, $3 its root pid
extra_summary() {
	eval "echo \"$2: accept \$(bench_median \$rates_$1) msg/s, / Postfix alone \$(bench_median \$ratio_$1) (rounds:\$ratio_$1), added latency median \$(bench_median \$added50_$1) ms (rounds:\$added50_$1), p99 \$(bench_median \$added99_$1) ms\""
	eval "python3 -c \"print('$2 CPU s per 1,000 messages: the milter %.2f, Postfix with it %.2f' % (\$cpu_$1 * 1000.0 / $BENCH_HZ / ($ROUNDS * 2 * $N), \$cpu_pf$1 * 1000.0 / $BENCH_HZ / ($ROUNDS * 2 * $N)))\""
	echo "$2 PSS idle after the load: $(bench_pss $(bench_tree "$3")) kB"
}
[ -n "$NULL_PID" ] && extra_summary N "N (null milter, $NULL_HEADERS header fields)" "$NULL_PID"
[ -n "$OLD_PID" ] && extra_summary C "C ($EMF_BIN_OLD)" "$OLD_PID"
echo "emofilter PSS: idle $idle kB, peak $(cat "$PF_DIR/peak.emf") kB, idle after the load $after kB"
echo "messages scanned by emofilter: $scanned; not accepted or not delivered: $bad"
echo "load average at the end: $(bench_load)"
