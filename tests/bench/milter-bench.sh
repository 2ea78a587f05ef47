#!/bin/sh
# milter-bench.sh - figures for emofilter behind a real Postfix (not a test).
#
# usage: tests/bench/milter-bench.sh [MESSAGES] [MESSAGE.eml]
#   MESSAGES  messages per run (default 1000), over 20 SMTP sessions
#   MESSAGE   the message sent (default: a generated clean one with a small
#             zip attachment, tests/milter/make-messages.sh tag.eml)
#
# Prints, for Postfix alone and Postfix + emofilter (same private loopback
# Postfix as tests/milter/e2e.sh, relaying to smtp-sink):
#   messages/second end to end (first SMTP connection until the sink holds
#   them all), the time from the end of DATA to Postfix's reply per message
#   (median and p99, smtp-send.py over 20 sessions), and the RSS of
#   emofilter's processes (main, milter, workers) idle and at the peak of
#   the 20-session run. Needs root, Postfix, smtp-source, python3, zip.
set -u
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=${top_builddir:-$top_srcdir}
N=${1:-1000}
[ "$(id -u)" -eq 0 ] || { echo "needs root (Postfix)"; exit 77; }
for t in postfix smtp-source smtp-sink python3 zip script; do
	command -v $t >/dev/null 2>&1 || { echo "$t missing"; exit 77; }
done

PF_DIR=$(mktemp -d /tmp/emf-bench.XXXXXX)
. "$top_srcdir/tests/milter/postfix-lib.sh"
cleanup() {
	[ -n "${SAMPLER:-}" ] && kill "$SAMPLER" 2>/dev/null
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
# Shipped defaults (4 workers) with the test paths.
pf_write_emf_conf "$conf" ""
pf_start_sink || exit 1

# Sum of VmRSS (kB) of the pids given, and the list "pid:kB".
rss() {
	t=0
	for p in "$@"; do
		k=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		t=$((t + ${k:-0}))
	done
	echo $t
}
emf_pids() {
	echo "$EMF_PID $(pgrep -P "$EMF_PID" | tr '\n' ' ')"
}

# run LABEL: throughput and latency against the current Postfix.
run() {
	d0=$(pf_delivered)
	t0=$(date +%s.%N)
	smtp-source -s 20 -m "$N" -f alice@example.org -t bob@example.net \
	    -F "$PF_DIR/msg.lf" "127.0.0.1:$SMTP_PORT" || return 1
	while [ $(($(pf_delivered) - d0)) -lt "$N" ]; do sleep 0.05; done
	t1=$(date +%s.%N)
	rate=$(python3 -c "print('%.1f' % ($N / ($t1 - $t0)))")
	lat=$(python3 "$top_srcdir/tests/milter/smtp-send.py" 127.0.0.1 \
	    "$SMTP_PORT" "$msg" "$N" 20)
	pf_wait_queue_empty 60
	p50=$(echo "$lat" | sed -n 's/.*p50_ms=\([^ ]*\).*/\1/p')
	p99=$(echo "$lat" | sed -n 's/.*p99_ms=\([^ ]*\).*/\1/p')
	printf '%-22s %8s msg/s   end-of-DATA reply: median %6s ms  p99 %6s ms\n' \
	    "$1" "$rate" "$p50" "$p99"
	echo "$p50 $p99" >"$PF_DIR/lat.$2"
}

echo "emofilter milter benchmark: $N messages of $(wc -c <"$msg") bytes over 20 sessions, $(nproc) CPU(s)"
pf_start_postfix nomilter || exit 1
run "Postfix alone" plain || exit 1
pf_stop_all
pf_start_sink || exit 1
pf_start_postfix milter || exit 1
pf_start_emofilter "$conf" || exit 1
sleep 1
idle=$(rss $(emf_pids))
echo "emofilter RSS idle: ${idle} kB total ($(for p in $(emf_pids); do printf '%s:%skB ' "$p" "$(rss "$p")"; done))"
# Peak RSS while loaded, sampled every 0.2 s.
(
	peak=0
	while :; do
		r=$(rss $(emf_pids))
		[ "$r" -gt "$peak" ] && { peak=$r; echo "$peak" >"$PF_DIR/peak"; }
		sleep 0.2
	done
) &
SAMPLER=$!
run "Postfix + emofilter" milter || exit 1
kill "$SAMPLER" 2>/dev/null
SAMPLER=
echo "emofilter RSS peak under 20 sessions: $(cat "$PF_DIR/peak") kB total (main + milter + $(($(echo $(emf_pids) | wc -w) - 2)) workers)"
set -- $(cat "$PF_DIR/lat.plain") $(cat "$PF_DIR/lat.milter")
python3 -c "print('added latency per message: median %.1f ms, p99 %.1f ms' % ($3 - $1, $4 - $2))"
grep -c ': id=.* result=' "$PF_DIR/emofilter.log" | sed 's/^/messages scanned by emofilter: /'
