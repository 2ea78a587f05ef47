# postfix-lib.sh - a private Postfix on loopback with emofilter in front of
# a smtp-sink, for tests/milter/e2e.sh, contrib/postfix-demo.sh and
# tests/bench/milter-bench.sh. Sourced, not run.
#
# Needs root (Postfix's master starts as root and switches to mail_owner
# postfix). Everything lives under $PF_DIR: etc/ (main.cf, master.cf),
# queue/, data/, sink/ (one file per delivered message), run/ (emofilter's
# pid file, quarantine and spool, owned by the daemon user), and the logs
# maillog, emofilter.log, sink.log. Nothing listens beyond 127.0.0.1.
# Set before sourcing: PF_DIR, top_srcdir, top_builddir.
#
#   pf_ports                       pick free ports: SMTP_PORT SINK_PORT MILTER_PORT
#   pf_milter_addr                 the milter's address both ways, from
#                                  EMF_SOCKET, MILTER_PORT and PF_DIR:
#                                  MILTER_SOCK (emofilter's milter.socket),
#                                  MILTER_PF (Postfix's smtpd_milters)
#   pf_setup_dirs                  the tree above, and the daemon user
#   pf_write_emf_conf FILE [TEXT]  emofilter config (TEXT goes in milter = {})
#   pf_start_sink, pf_start_postfix [milter|nomilter], pf_start_emofilter CONF
#                                  (PF_MASTER_EXTRA: lines added to master.cf)
#   pf_stop_emofilter, pf_stop_all
#   pf_wait_queue_empty SECONDS    until incoming/active/deferred/maildrop are empty
#   pf_delivered, pf_held          counts

EMF_USER=${EMF_USER:-emofilter-test}
EMF_BIN=${EMF_BIN:-$top_builddir/src/milter/emofilter}
EMF_PID=
SINK_PID=

pf_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

pf_ports() {
	SMTP_PORT=$(pf_free_port)
	SINK_PORT=$(pf_free_port)
	MILTER_PORT=$(pf_free_port)
}

# EMF_SOCKET=unix: emofilter listens on a unix socket in $PF_DIR/sock
# instead of loopback TCP, deployed as contrib/postfix/main.cf says: the
# socket mode 0660 and owned by the daemon user, Postfix's user in that
# user's group (pf_setup_dirs adds it; Postfix must start after that).
# Computed when used, as some callers set MILTER_PORT and PF_DIR themselves.
pf_milter_addr() {
	if [ "${EMF_SOCKET:-inet}" = unix ]; then
		MILTER_SOCK="unix:$PF_DIR/sock/emofilter.sock"
		MILTER_PF=$MILTER_SOCK
	else
		MILTER_SOCK="inet:$MILTER_PORT@127.0.0.1"
		MILTER_PF="inet:127.0.0.1:$MILTER_PORT"
	fi
}

# $1: the daemon user; its group gets Postfix's user as a member.
pf_unix_socket_dir() {
	g=$(id -gn "$1") || return 1
	id -Gn postfix | tr ' ' '\n' | grep -qx "$g" ||
	    usermod -a -G "$g" postfix || return 1
	mkdir -p "$PF_DIR/sock"
	chown "$1:$g" "$PF_DIR/sock"
	chmod 750 "$PF_DIR/sock"
}

pf_user() {
	id "$EMF_USER" >/dev/null 2>&1 ||
	    useradd -r -M -d /nonexistent -s /usr/sbin/nologin "$EMF_USER" \
	    2>/dev/null || EMF_USER=nobody
}

pf_setup_dirs() {
	mkdir -p "$PF_DIR/etc" "$PF_DIR/queue" "$PF_DIR/data" "$PF_DIR/sink" \
	    "$PF_DIR/run"
	chmod 755 "$PF_DIR"
	chown postfix "$PF_DIR/data" "$PF_DIR/sink"
	pf_user
	chown "$EMF_USER" "$PF_DIR/run"
	chmod 700 "$PF_DIR/run"
	if [ "${EMF_SOCKET:-inet}" = unix ]; then
		pf_unix_socket_dir "$EMF_USER" || return 1
	fi
}

# $1: config file; $2: extra settings for the milter group.
pf_write_emf_conf() {
	pf_milter_addr
	{
		cat "$top_srcdir/tests/milter/test-scores.conf"
		printf 'quarantine = { dir = "%s/run/quarantine"; };\n' "$PF_DIR"
		printf 'yara = { rules_dir = "%s/rules"; };\n' "$top_srcdir"
		printf 'milter = {\n'
		printf '  socket = "%s";\n' "$MILTER_SOCK"
		printf '  user = "%s";\n' "$EMF_USER"
		printf '  pidfile = "%s/run/emofilter.pid";\n' "$PF_DIR"
		printf '  spool_dir = "%s/run";\n' "$PF_DIR"
		printf '  %s\n};\n' "${2:-}"
	} > "$1"
	chmod 644 "$1"
}

# $1: milter | nomilter
pf_write_postfix_conf() {
	milters=
	pf_milter_addr
	[ "${1:-milter}" = milter ] && milters=$MILTER_PF
	cat > "$PF_DIR/etc/main.cf" <<PFMAIN
compatibility_level = 3.6
queue_directory = $PF_DIR/queue
data_directory = $PF_DIR/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.emftest.invalid
mydomain = emftest.invalid
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$SINK_PORT
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
local_recipient_maps =
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtp_dns_support_level = disabled
maillog_file_prefixes = $PF_DIR
maillog_file = $PF_DIR/maillog
# the milter settings of contrib/postfix/main.cf
smtpd_milters = $milters
non_smtpd_milters = $milters
milter_default_action = tempfail
milter_protocol = 6
milter_connect_timeout = 10s
milter_command_timeout = 30s
milter_content_timeout = 300s
# quick retries, so the tests do not wait
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
smtpd_client_connection_count_limit = 100
smtpd_client_connection_rate_limit = 0
# the test senders provoke many rejects on purpose
smtpd_soft_error_limit = 10000
smtpd_hard_error_limit = 10000
default_process_limit = 60
default_destination_concurrency_limit = 40
PFMAIN
	cat > "$PF_DIR/etc/master.cf" <<PFMASTER
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
pickup    unix  n       -       n       2       1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
PFMASTER
	# more services (release-e2e.sh: the re-injection port)
	if [ -n "${PF_MASTER_EXTRA:-}" ]; then
		printf '%s\n' "$PF_MASTER_EXTRA" >>"$PF_DIR/etc/master.cf"
	fi
}

# pf_release_service PORT: the re-injection service (no milter) of
# contrib/postfix/master.cf, on PORT and without the chroot, for
# PF_MASTER_EXTRA; empty if master.cf has none.
pf_release_service() {
	awk '/^127\.0\.0\.1:10026 /{on=1; print; next} on && /^[ \t]+-o/{print; next} {on=0}' \
	    "$top_srcdir/contrib/postfix/master.cf" |
	    sed "s/^127\.0\.0\.1:10026 *inet *n *- *y /127.0.0.1:$1 inet n - n /"
}

pf_wait_port() {
	i=0
	until python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),1)" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 100 ] && { echo "port $1 never opened"; return 1; }
		sleep 0.1
	done
}

# $1: a milter address as Postfix writes it (inet:HOST:PORT, unix:PATH).
pf_wait_milter() {
	case $1 in
	unix:*)
		i=0
		until python3 -c "import socket; socket.socket(socket.AF_UNIX).connect('${1#unix:}')" 2>/dev/null; do
			i=$((i + 1))
			[ $i -gt 100 ] && { echo "socket ${1#unix:} never opened"; return 1; }
			sleep 0.1
		done ;;
	*) pf_wait_port "${1##*:}" ;;
	esac
}

pf_start_sink() {
	# -d: one file per delivered message, named from the template.
	smtp-sink -u postfix -d "$PF_DIR/sink/%Y%m%d%H%M%S." \
	    "127.0.0.1:$SINK_PORT" 256 >"$PF_DIR/sink.log" 2>&1 &
	SINK_PID=$!
	pf_wait_port "$SINK_PORT"
}

pf_start_postfix() {
	pf_write_postfix_conf "${1:-milter}"
	# postfix reports errors on a terminal only (there may be no syslog)
	script -qec "postfix -c $PF_DIR/etc check" /dev/null >"$PF_DIR/postfix-start.log" 2>&1 &&
	    script -qec "postfix -c $PF_DIR/etc start" /dev/null >>"$PF_DIR/postfix-start.log" 2>&1 ||
	    { cat "$PF_DIR/postfix-start.log"; return 1; }
	pf_wait_port "$SMTP_PORT"
}

# $1: config; the daemon logs to $PF_DIR/emofilter.log (appended).
# PF_SESSION=setsid (the benches): the daemons in sessions of their own,
# as daemon() or systemd starts them. With the kernel's autogroup
# scheduler (/proc/sys/kernel/sched_autogroup_enabled) each session is
# one scheduling group with one share of the CPU: a milter started in the
# bench's own session would share that share with the load generators it
# is measured under, and Postfix (whose master is a session of its own)
# would get the rest. setsid execs in place here (a background job of a
# shell without job control is no process group leader), so $! stays the
# daemon's pid; pf_own_session checks it. Unset or empty: the caller's
# session (the tests).
pf_start_emofilter() {
	EMOFILTER_TEST_HOOKS=${EMOFILTER_TEST_HOOKS:-0} ${PF_SESSION:-} \
	    "$EMF_BIN" -f -c "$1" >>"$PF_DIR/emofilter.log" 2>&1 &
	EMF_PID=$!
	pf_milter_addr
	pf_wait_milter "$MILTER_PF" && pf_own_session "$EMF_PID"
}

# With PF_SESSION set: fails unless process $1 leads a session of its own.
pf_own_session() {
	[ -n "${PF_SESSION:-}" ] || return 0
	sid=$(ps -o sid= -p "$1" | tr -d ' ')
	[ "$sid" = "$1" ] && return 0
	echo "pid $1 is not in a session of its own (session ${sid:-none})" >&2
	return 1
}

pf_stop_emofilter() {
	[ -n "$EMF_PID" ] || return 0
	kill -TERM "$EMF_PID" 2>/dev/null
	i=0
	while kill -0 "$EMF_PID" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$EMF_PID" 2>/dev/null
	wait "$EMF_PID" 2>/dev/null
	EMF_PID=
}

pf_stop_all() {
	pf_stop_emofilter
	postfix -c "$PF_DIR/etc" stop >/dev/null 2>&1
	if [ -n "$SINK_PID" ]; then
		kill "$SINK_PID" 2>/dev/null
		wait "$SINK_PID" 2>/dev/null
	fi
	SINK_PID=
	# postfix stop returns before the master has gone
	i=0
	while [ -f "$PF_DIR/queue/pid/master.pid" ] &&
	    kill -0 "$(cat "$PF_DIR/queue/pid/master.pid" 2>/dev/null)" 2>/dev/null &&
	    [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

pf_wait_queue_empty() {
	i=0
	while [ $i -lt $(($1 * 10)) ]; do
		n=$(find "$PF_DIR/queue/incoming" "$PF_DIR/queue/active" \
		    "$PF_DIR/queue/deferred" "$PF_DIR/queue/maildrop" -type f \
		    2>/dev/null | wc -l)
		[ "$n" -eq 0 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

pf_delivered() {
	find "$PF_DIR/sink" -type f | wc -l
}

pf_held() {
	find "$PF_DIR/queue/hold" -type f 2>/dev/null | wc -l
}

# The delivered file that holds the string $1 (first match).
pf_find_delivered() {
	grep -l -F -- "$1" "$PF_DIR"/sink/* 2>/dev/null | head -1
}
