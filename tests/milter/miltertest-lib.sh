# miltertest-lib.sh - what the miltertest scripts (miltertest.sh,
# limits.sh, failures.sh) share; sourced after set -u and top_srcdir:
#
#   mt_setup NAME   exit 77 (skip) without miltertest, zip or python3; a
#                   work directory /tmp/emf-NAME.XXXXXX ($work, removed on
#                   exit unless KEEP=1, the daemon $pid stopped), the test
#                   messages in $work/msg (make-messages.sh), $work/run
#                   owned by $user (nobody as root: the daemon drops to
#                   it), $conf; fail=0 and bad MESSAGE.
#   mt_milter_conf  the milter = { } lines every script has (socket,
#                   user, pidfile, spool_dir in $work/run), for a
#                   here-document inside its milter group.
#   mt_start        the daemon on $conf with the test hooks, logging to
#                   $work/log; $pid; returns once its socket is there
#                   (or after 5 s).
top_builddir=${top_builddir:-$top_srcdir}
emofilter=$top_builddir/src/milter/emofilter

mt_cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}

bad() { echo "FAIL: $*"; fail=1; }

mt_setup() {
	for t in miltertest zip python3; do
		command -v $t >/dev/null 2>&1 ||
		    { echo "SKIP: $t not installed"; exit 77; }
	done
	work=$(mktemp -d "/tmp/emf-$1.XXXXXX")
	pid=
	trap mt_cleanup EXIT
	chmod 755 "$work"
	fail=0
	"$top_srcdir/tests/milter/make-messages.sh" "$work/msg" || exit 1
	chmod -R a+rX "$work/msg"
	user=
	[ "$(id -u)" -eq 0 ] && user=nobody
	mkdir -p "$work/run" && [ -n "$user" ] && chown "$user" "$work/run"
	conf=$work/test.conf
}

mt_milter_conf() {
	cat <<EOF
  socket = "unix:$work/run/sock";
  user = "$user";
  pidfile = "$work/run/pid";
  spool_dir = "$work/run";
EOF
}

mt_start() {
	EMOFILTER_TEST_HOOKS=1 "$emofilter" -f -c "$conf" 2>"$work/log" &
	pid=$!
	i=0
	while [ ! -S "$work/run/sock" ] && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
}
