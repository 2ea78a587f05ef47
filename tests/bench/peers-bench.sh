#!/bin/sh
# peers-bench.sh - emofilter beside other milters, same Postfix, same
# messages, same rounds (a benchmark, not a test; not in make check).
#
# usage: tests/bench/peers-bench.sh [MESSAGES] [MESSAGE.eml]
#   MESSAGES  messages per arm and round (default 500)
#   MESSAGE   default: tests/milter/make-messages.sh tag.eml (987 bytes)
# Environment: ROUNDS (default 3), SESSIONS (default 20), PEERS (default
# "rspamd clamav spamass": which of C D E to run; PEERS= runs only A and B).
#
# One private loopback Postfix (tests/bench/bench-lib.sh) with a smtpd
# listener per arm:
#   A  no milter
#   B  emofilter, shipped defaults (test paths)
#   C  rspamd 3.4 (Debian rspamd): its proxy worker with milter = yes in
#      front of a normal worker, the shipped /etc/rspamd configuration
#      with local.d/override.d in a private directory (ports, run and log
#      directories; DNS pointed at a closed local port so that RBL/SURBL
#      lookups fail at once instead of timing out: no network). No Redis:
#      the modules that need it stay off, as rspamd does by itself.
#   D  clamav-milter with clamd (Debian clamav-milter, clamav-daemon):
#      no signature database can be downloaded here, so clamd runs with a
#      one-line local .hdb (a hash of a test string) plus its bytecode-free
#      engine and the heuristic alerts for macros and encrypted archives
#      (HeuristicAlerts, AlertOLE2Macros, AlertEncrypted). Its figures are
#      those of ClamAV's parsing and heuristics without the signature
#      sets a real installation loads (which cost memory and time).
#   E  spamass-milter with spamd (Debian spamass-milter, spamd): spamd -L
#      (local tests only, no network), the rules Debian ships.
# The packages are installed here when missing (apt-get, not part of CI).
# Rounds interleave: A B C D E, A B C D E, ...; per arm smtp-source for
# throughput and tests/bench/smtp-lat.py for the end-of-DATA latency
# (bench_run). Printed: each arm's medians, the throughput ratio to A and
# the added latency from the same rounds (medians of the per-round
# values), CPU seconds per 1,000 messages of each filter's processes
# (utime+stime from /proc/PID/stat over its arms), PSS idle and peak.
set -u
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=${top_builddir:-$top_srcdir}
N=${1:-500}
ROUNDS=${ROUNDS:-3}
SESSIONS=${SESSIONS:-20}
PEERS=${PEERS-rspamd clamav spamass}
[ "$(id -u)" -eq 0 ] || { echo "needs root (Postfix, apt-get)"; exit 77; }

need=
for p in $PEERS; do
	case $p in
	rspamd) pk="rspamd" ;;
	clamav) pk="clamav-daemon clamav-milter" ;;
	spamass) pk="spamass-milter spamd" ;;
	*) echo "unknown peer $p"; exit 2 ;;
	esac
	for k in $pk; do
		dpkg -s "$k" >/dev/null 2>&1 || need="$need $k"
	done
done
if [ -n "$need" ]; then
	echo "installing:$need"
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
	    install -y --no-install-recommends $need >/dev/null || exit 1
fi
# Every filter on loopback TCP, so the transport is the same for all arms.
EMF_SOCKET=inet
. "$top_srcdir/tests/milter/postfix-lib.sh"
. "$top_srcdir/tests/bench/bench-lib.sh"
bench_init peers
PEER_PIDS=
cleanup() {
	bench_sampler_stop
	for p in $PEER_PIDS; do
		kill "$p" 2>/dev/null
	done
	sleep 1
	for p in $PEER_PIDS; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	pf_stop_all
	[ -n "${KEEP:-}" ] && { echo "kept $PF_DIR"; return; }
	rm -rf "$PF_DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

msg=${2:-$PF_DIR/msg/tag.eml}
bench_messages "$msg"

# ---- B: emofilter ----
pf_write_emf_conf "$PF_DIR/emofilter.conf" ""
pf_start_sink || exit 1
pf_start_emofilter "$PF_DIR/emofilter.conf" || exit 1
ARMS="A= B=$MILTER_PF"
ROOTS="emofilter=$EMF_PID"
NAMES="A:none B:emofilter"

# ---- C: rspamd ----
start_rspamd() {
	d=$PF_DIR/rspamd
	mkdir -p "$d/local.d" "$d/override.d" "$d/run" "$d/db" "$d/log"
	pn=$(pf_free_port) pc=$(pf_free_port) pp=$(pf_free_port)
	dns=$(pf_free_port)
	printf 'bind_socket = "127.0.0.1:%s";\n' "$pn" >"$d/override.d/worker-normal.inc"
	printf 'bind_socket = "127.0.0.1:%s";\n' "$pc" >"$d/override.d/worker-controller.inc"
	cat >"$d/override.d/worker-proxy.inc" <<EOF
bind_socket = "127.0.0.1:$pp";
milter = yes;
timeout = 120s;
upstream "local" {
  default = yes;
  hosts = "127.0.0.1:$pn";
}
count = 1;
EOF
	# Nothing listens on this port: lookups fail at once (no network).
	cat >"$d/local.d/options.inc" <<EOF
dns {
  nameserver = ["127.0.0.1:$dns"];
  timeout = 0.2s;
  retransmits = 1;
}
EOF
	chown -R _rspamd "$d"
	$PF_SESSION rspamd -f -u _rspamd -g _rspamd -c /etc/rspamd/rspamd.conf \
	    --var "LOCAL_CONFDIR=$d" --var "RUNDIR=$d/run" \
	    --var "DBDIR=$d/db" --var "LOGDIR=$d/log" \
	    >"$d/stdout.log" 2>&1 &
	RSPAMD_PID=$!
	PEER_PIDS="$PEER_PIDS $RSPAMD_PID"
	pf_wait_port "$pp" || { tail -20 "$d/stdout.log" "$d/log/rspamd.log"; return 1; }
	ARMS="$ARMS C=inet:127.0.0.1:$pp"
	ROOTS="$ROOTS rspamd=$RSPAMD_PID"
	NAMES="$NAMES C:rspamd"
}

# ---- D: clamav-milter + clamd ----
start_clamav() {
	d=$PF_DIR/clamav
	mkdir -p "$d/db"
	# One signature (clamd refuses to start without any): the MD5 and
	# size of a test string no mail here contains.
	s="emofilter peers-bench local signature"
	printf '%s:%s:Emofilter.Bench.Local\n' \
	    "$(printf '%s' "$s" | md5sum | cut -d' ' -f1)" "${#s}" >"$d/db/local.hdb"
	pm=$(pf_free_port)
	cat >"$d/clamd.conf" <<EOF
LocalSocket $d/clamd.sock
FixStaleSocket yes
User clamav
Foreground yes
DatabaseDirectory $d/db
LogFile $d/clamd.log
PidFile $d/clamd.pid
ScanMail yes
ScanArchive yes
ScanOLE2 yes
HeuristicAlerts yes
AlertOLE2Macros yes
AlertEncrypted yes
EOF
	cat >"$d/clamav-milter.conf" <<EOF
MilterSocket inet:$pm@127.0.0.1
User clamav
Foreground yes
ClamdSocket unix:$d/clamd.sock
OnInfected Reject
OnFail Defer
AddHeader Replace
LogFile $d/clamav-milter.log
PidFile $d/clamav-milter.pid
EOF
	chown -R clamav "$d"
	$PF_SESSION clamd -c "$d/clamd.conf" >"$d/clamd.out" 2>&1 &
	CLAMD_PID=$!
	PEER_PIDS="$PEER_PIDS $CLAMD_PID"
	i=0
	while [ ! -S "$d/clamd.sock" ] && [ $i -lt 600 ]; do
		kill -0 "$CLAMD_PID" 2>/dev/null || { cat "$d/clamd.out"; return 1; }
		sleep 0.1
		i=$((i + 1))
	done
	$PF_SESSION clamav-milter -c "$d/clamav-milter.conf" >"$d/milter.out" 2>&1 &
	CLMILTER_PID=$!
	PEER_PIDS="$PEER_PIDS $CLMILTER_PID"
	pf_wait_port "$pm" || { cat "$d/milter.out"; return 1; }
	ARMS="$ARMS D=inet:127.0.0.1:$pm"
	ROOTS="$ROOTS clamav=$CLAMD_PID,$CLMILTER_PID"
	NAMES="$NAMES D:clamav-milter"
}

# ---- E: spamass-milter + spamd ----
start_spamass() {
	d=$PF_DIR/spamass
	mkdir -p "$d"
	ps=$(pf_free_port) pm=$(pf_free_port)
	chown debian-spamd "$d"
	$PF_SESSION spamd -L -x --listen="127.0.0.1:$ps" --allowed-ips=127.0.0.1 \
	    --username=debian-spamd --pidfile="$d/spamd.pid" \
	    --syslog="$d/spamd.log" >"$d/spamd.out" 2>&1 &
	SPAMD_PID=$!
	PEER_PIDS="$PEER_PIDS $SPAMD_PID"
	pf_wait_port "$ps" || { cat "$d/spamd.out"; return 1; }
	$PF_SESSION spamass-milter -p "inet:$pm@127.0.0.1" -- -d 127.0.0.1 -p "$ps" \
	    >"$d/milter.out" 2>&1 &
	SAMILTER_PID=$!
	PEER_PIDS="$PEER_PIDS $SAMILTER_PID"
	pf_wait_port "$pm" || { cat "$d/milter.out"; return 1; }
	ARMS="$ARMS E=inet:127.0.0.1:$pm"
	ROOTS="$ROOTS spamass=$SPAMD_PID,$SAMILTER_PID"
	NAMES="$NAMES E:spamass-milter"
}

for p in $PEERS; do
	"start_$p" || { echo "$p did not start"; exit 1; }
done
bench_postfix "$ARMS" || exit 1
sleep 3

# The processes of a filter: the trees of its roots (comma-separated).
roots_of() {
	for f in $ROOTS; do
		[ "${f%%=*}" = "$1" ] && echo "${f#*=}" | tr ',' ' '
	done
}
procs_of() {
	bench_tree $(roots_of "$1")
}
filter_of() {
	case $1 in
	B) echo emofilter ;; C) echo rspamd ;; D) echo clamav ;;
	E) echo spamass ;; *) echo "" ;;
	esac
}
arms=$(for a in $ARMS; do printf '%s ' "${a%%=*}"; done)
echo "peers benchmark: $ROUNDS rounds x $N messages of $(wc -c <"$msg") bytes" \
    "per arm, $SESSIONS sessions, $(nproc) CPU(s); arms: $NAMES"
echo "load average at the start: $(bench_load)"
# Warm-up (lazy initialisation), and proof that each filter saw the
# mail: the header it adds, or its log line per message.
proof() {
	case $1 in
	B) grep -l '^X-Emofilter-ID:' "$PF_DIR"/sink/* 2>/dev/null | wc -l ;;
	C) grep -c 'rspamd_task_write_log' "$PF_DIR/rspamd/log/rspamd.log" 2>/dev/null ;;
	D) grep -l '^X-Virus-Scanned:' "$PF_DIR"/sink/* 2>/dev/null | wc -l ;;
	E) grep -l '^X-Spam-Checker-Version:' "$PF_DIR"/sink/* 2>/dev/null | wc -l ;;
	*) echo - ;;
	esac
}
for a in $arms; do
	eval "port=\$PORT_$a"
	python3 "$top_srcdir/tests/bench/smtp-lat.py" 127.0.0.1 "$port" \
	    "$PF_DIR/msg.lf" 20 2 >/dev/null
	pf_wait_queue_empty 120
	echo "warm-up $a: 20 sent, $(bench_sink_count) delivered, filter saw: $(proof "$a")"
	bench_settle
done
sleep 2
for a in $arms; do
	f=$(filter_of "$a")
	[ -n "$f" ] || continue
	eval "idle_$a=$(bench_pss $(procs_of "$f"))"
done
samp=
for f in $ROOTS; do samp="$samp ${f%%=*}=$(echo "${f#*=}" | tr ',' ' ' | cut -d' ' -f1)"; done
# the sampler follows one root per filter; the others are added below
bench_sampler_start "$samp"
printf '%-5s %-15s %9s %9s %9s %9s %s\n' round arm "accept/s" "e2e/s" \
    "p50 ms" "p99 ms" load
for a in $arms; do eval "cpu_$a=0 rates_$a= p50s_$a= p99s_$a= ratio_$a= add_$a="; done
for r in $(seq 1 "$ROUNDS"); do
	for a in $arms; do
		f=$(filter_of "$a")
		c0=0
		[ -n "$f" ] && c0=$(bench_cpu $(procs_of "$f"))
		bench_run "$a" "$N" "$SESSIONS"
		if [ -n "$f" ]; then
			c1=$(bench_cpu $(procs_of "$f"))
			eval "cpu_$a=\$((cpu_$a + c1 - c0))"
			v=$(bench_pss $(procs_of "$f"))
			eval "pk=\${peak_$a:-0}"
			[ "$v" -gt "$pk" ] && eval "peak_$a=$v"
		fi
		[ "$a" = A ] && { a_rate=$B_RATE a_p50=$B_P50; }
		eval "rates_$a=\"\$rates_$a $B_RATE\" p50s_$a=\"\$p50s_$a $B_P50\" p99s_$a=\"\$p99s_$a $B_P99\""
		eval "ratio_$a=\"\$ratio_$a $(python3 -c "print('%.3f' % ($B_RATE / $a_rate))")\""
		eval "add_$a=\"\$add_$a $(python3 -c "print('%.2f' % ($B_P50 - $a_p50))")\""
		name=$(echo "$NAMES" | tr ' ' '\n' | sed -n "s/^$a://p")
		printf '%-5s %-15s %9s %9s %9s %9s %s%s\n' "$r" "$name" "$B_RATE" \
		    "$B_E2E" "$B_P50" "$B_P99" "$(bench_load)" \
		    "$( [ "$B_BAD" -gt 0 ] && echo "  ($B_BAD not accepted/delivered)")"
	done
done
bench_sampler_stop
echo
echo "medians over $ROUNDS rounds (ratio and added latency: per round against A, then the median):"
printf '%-15s %9s %7s %8s %8s %9s %10s %9s %9s\n' arm "accept/s" "vs A" \
    "p50 ms" "p99 ms" "+p50 ms" "CPU s/1k" "PSS idle" "PSS peak"
for a in $arms; do
	name=$(echo "$NAMES" | tr ' ' '\n' | sed -n "s/^$a://p")
	f=$(filter_of "$a")
	eval "rs=\$rates_$a p5=\$p50s_$a p9=\$p99s_$a ra=\$ratio_$a ad=\$add_$a c=\$cpu_$a"
	if [ -n "$f" ]; then
		eval "id=\${idle_$a:-0} pk=\${peak_$a:-0}"
		sp=$(cat "$PF_DIR/peak.$f" 2>/dev/null || echo 0)
		[ "$sp" -gt "$pk" ] && pk=$sp
		cpu=$(python3 -c "print('%.2f' % ($c / $BENCH_HZ / ($ROUNDS * 2 * $N) * 1000))")
		id="${id} kB" pk="${pk} kB"
	else
		cpu=- id=- pk=-
	fi
	printf '%-15s %9s %7s %8s %8s %9s %10s %9s %9s\n' "$name" \
	    "$(bench_median $rs)" "$(bench_median $ra)" "$(bench_median $p5)" \
	    "$(bench_median $p9)" "$(bench_median $ad)" "$cpu" "$id" "$pk"
done
echo "load average at the end: $(bench_load)"
echo "CPU s/1k: the filter's processes' utime+stime over its arms / messages sent to it x 1,000 (smtp-source and smtp-lat.py, $((2 * N)) per round)"
