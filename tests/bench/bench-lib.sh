# bench-lib.sh - shared by milter-bench.sh, peers-bench.sh and
# scaling-bench.sh. Sourced.
#
# One private Postfix (tests/milter/postfix-lib.sh) with one smtpd
# listener per arm, each with its own smtpd_milters, so the arms of a
# round differ only in the port the sender uses: rounds interleave
# (A B C ..., A B C ...) without restarting anything.
#
#   bench_postfix "NAME=MILTER ..."  start Postfix; MILTER "" is none.
#                                    Sets PORT_<NAME>.
#   bench_run NAME N SESSIONS        one arm: smtp-source N messages
#                                    (throughput), then smtp-lat.py N
#                                    (latency at saturation); sets B_RATE
#                                    B_E2E B_P50 B_P99 B_BAD
#   bench_paced NAME N SESSIONS RATE smtp-lat.py N paced at RATE msg/s
#                                    (latency at a load that is carried);
#                                    sets B_Q50 B_Q99 B_QLATE B_QBAD
#   bench_tree PID...                PID and all its descendants
#   bench_pss PID...                 sum of Pss (kB) from smaps_rollup
#   bench_cpu PID...                 sum of utime+stime (+ reaped
#                                    children) in clock ticks
#   bench_median V...                median of numbers
#   bench_init NAME                  exit 77 without postfix, smtp-source,
#                                    smtp-sink, python3, zip or script;
#                                    PF_DIR=/tmp/emf-NAME.XXXXXX;
#                                    PF_SESSION=setsid unless set
#   bench_messages [MSG]             pf_ports, pf_setup_dirs, the test
#                                    messages in $PF_DIR/msg, and MSG
#                                    (default their tag.eml) with LF line
#                                    ends in $PF_DIR/msg.lf (what is sent)
#   bench_sampler_start "NAME=PID ..." / bench_sampler_stop: peak PSS
#                                    of each PID's tree every 0.2 s, into
#                                    $PF_DIR/peak.NAME (pss-sampler.py)
# Needs top_srcdir set and postfix-lib.sh sourced; PF_DIR (bench_init).

BENCH_HZ=$(getconf CLK_TCK)

bench_postfix() {
	pf_write_postfix_conf milter
	for arm in $1; do
		name=${arm%%=*}
		m=${arm#*=}
		p=$(pf_free_port)
		eval "PORT_$name=$p"
		# Each listener its own milter ("" none); commas need braces.
		printf '127.0.0.1:%s inet n - n - - smtpd -o {smtpd_milters=%s}\n' \
		    "$p" "$m" >>"$PF_DIR/etc/master.cf"
	done
	script -qec "postfix -c $PF_DIR/etc check" /dev/null >"$PF_DIR/postfix-start.log" 2>&1 &&
	    script -qec "postfix -c $PF_DIR/etc start" /dev/null >>"$PF_DIR/postfix-start.log" 2>&1 ||
	    { cat "$PF_DIR/postfix-start.log"; return 1; }
	for arm in $1; do
		eval "pf_wait_port \$PORT_${arm%%=*}" || return 1
	done
}

bench_sink_count() {
	ls -f "$PF_DIR/sink" | grep -vc '^\.\.\?$'
}

# The queue empty and the sink cleared, so an arm starts from nothing.
bench_settle() {
	pf_wait_queue_empty 120
	find "$PF_DIR/sink" -type f -delete
}

bench_run() {
	eval "port=\$PORT_$1"
	bench_settle
	t0=$(date +%s.%N)
	smtp-source -s "$3" -m "$2" -f alice@example.org -t bob@example.net \
	    -F "$PF_DIR/msg.lf" "127.0.0.1:$port" >/dev/null 2>&1
	t1=$(date +%s.%N)
	i=0
	while [ "$(bench_sink_count)" -lt "$2" ] && [ $i -lt 2400 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	t2=$(date +%s.%N)
	B_RATE=$(python3 -c "print('%.1f' % ($2 / ($t1 - $t0)))")
	B_E2E=$(python3 -c "print('%.1f' % ($2 / ($t2 - $t0)))")
	B_DELIVERED=$(bench_sink_count)
	bench_settle
	lat=$(python3 "$top_srcdir/tests/bench/smtp-lat.py" 127.0.0.1 "$port" \
	    "$PF_DIR/msg.lf" "$2" "$3")
	B_P50=$(lat_field p50_ms) B_P99=$(lat_field p99_ms) B_OK=$(lat_field ok)
	B_BAD=$(( $2 - ${B_OK:-0} + $2 - B_DELIVERED ))
}

# Closed-loop latency (bench_run) is taken at saturation, where a reply
# waits mostly behind other messages: it restates the throughput. Paced,
# each message opens its own connection at its time, so this is the time
# the end of DATA takes at a load the server keeps up with.
bench_paced() {
	eval "port=\$PORT_$1"
	bench_settle
	lat=$(python3 "$top_srcdir/tests/bench/smtp-lat.py" 127.0.0.1 "$port" \
	    "$PF_DIR/msg.lf" "$2" "$3" 1 "$4")
	B_Q50=$(lat_field p50_ms) B_Q99=$(lat_field p99_ms)
	B_QLATE=$(lat_field late) ok=$(lat_field ok)
	B_QBAD=$(( $2 - ${ok:-0} ))
}

# Field $1 of smtp-lat.py's line in $lat (every field but the first
# follows a space).
lat_field() {
	echo "$lat" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"
}

# Children from /proc/P/task/T/children: no pgrep (which reads all of
# /proc for each process it is asked about).
bench_tree() {
	for p in "$@"; do
		[ -d "/proc/$p" ] || continue
		echo "$p"
		bench_tree $(cat /proc/"$p"/task/*/children 2>/dev/null)
	done
}

bench_pss() {
	t=0
	for p in "$@"; do
		k=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
		t=$((t + ${k:-0}))
	done
	echo $t
}

bench_cpu() {
	t=0
	for p in "$@"; do
		# Fields after the ")" of comm: utime is the 12th, stime 13th,
		# cutime 14th, cstime 15th.
		k=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null |
		    awk '{ print $12 + $13 + $14 + $15 }')
		t=$((t + ${k:-0}))
	done
	echo $t
}

bench_median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
	    END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
	    else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# $1: "NAME=ROOTPID ..." ; the tree of each root is sampled, by one
# python3 process (tests/bench/pss-sampler.py) at nice 10, so that the
# sampling takes little of the CPU being measured.
bench_sampler_start() {
	nice -n 10 python3 "$top_srcdir/tests/bench/pss-sampler.py" "$PF_DIR" \
	    0.2 $1 &
	SAMPLER=$!
}

bench_sampler_stop() {
	[ -n "${SAMPLER:-}" ] && kill "$SAMPLER" 2>/dev/null
	wait "$SAMPLER" 2>/dev/null
	SAMPLER=
}

bench_load() {
	cut -d' ' -f1-3 /proc/loadavg
}

bench_init() {
	for t in postfix smtp-source smtp-sink python3 zip script; do
		command -v $t >/dev/null 2>&1 || { echo "$t missing"; exit 77; }
	done
	PF_DIR=$(mktemp -d "/tmp/emf-$1.XXXXXX")
	# Each filter daemon in a session of its own, as in service
	# (postfix-lib.sh); PF_SESSION= keeps them in the bench's session.
	PF_SESSION=${PF_SESSION-setsid}
}

bench_messages() {
	pf_ports
	pf_setup_dirs
	"$top_srcdir/tests/milter/make-messages.sh" "$PF_DIR/msg" >/dev/null
	tr -d '\r' <"${1:-$PF_DIR/msg/tag.eml}" >"$PF_DIR/msg.lf"
}
