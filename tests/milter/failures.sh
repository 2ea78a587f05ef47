#!/bin/sh
# failures.sh - two fail-safe cases of milter.on_failure through the
# milter protocol (miltertest), each under real conditions:
#
# overload: one scanner (workers = 1) stuck in a message (it sleeps on
#   the EMOFILTER_TEST_HOOKS marker of the other milter tests, and is
#   stopped with SIGSTOP so that nothing, not even the reload's SIGTERM,
#   ends its scan) under a long scan_timeout_ms; a SIGHUP then shortens
#   the timeout, so the next message finds no scanner free before its
#   deadline. By default
#   (on_failure.overload = "") it is tempfailed (SMFIR_TEMPFAIL) with a
#   log line "overload: no scanner free" and failure=overload; with
#   on_failure.overload = "accept" it is accepted, tagged unscanned.
# refused header change: the MTA is gone when the verdict's headers are
#   written (it stopped waiting for the end-of-message reply), so
#   smfi_chgheader / smfi_addheader fail: the message is tempfailed and
#   logged so, never logged as accepted.
#
# (A negotiation without SMFIF_CHGHDRS is refused: miltertest.sh.)
# Exit 77 (skip) without miltertest, zip or python3.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/milter/miltertest-lib.sh"
mt_setup failures
# write_conf TIMEOUT_MS [MILTER SETTINGS]
write_conf() {
	{
		cat "$top_srcdir/tests/milter/test-scores.conf"
		cat <<EOF2
quarantine = { dir = "$work/run/q"; };
yara = { rules_dir = "$top_srcdir/rules"; };
milter = {
$(mt_milter_conf)
  workers = 1;
  scan_timeout_ms = $1;
  ${2:-}
};
EOF2
	} > "$conf"
	chmod 644 "$conf"
}
send_one() {	# send_one QID FILE: reply=N in $work/QID.out
	EMF_SOCKET="unix:$work/run/sock" EMF_QID=$1 EMF_FILE=$2 \
	    miltertest -s "$top_srcdir/tests/milter/send-one.lua" >"$work/$1.out" 2>&1
}
count() { grep -c "$1" "$work/log"; }
wait_log() {	# wait_log PATTERN N: until PATTERN is logged more than N times
	i=0
	while [ "$(count "$1")" -le "$2" ] && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	[ "$(count "$1")" -gt "$2" ]
}
reload() {	# reload TIMEOUT_MS [SETTINGS]: SIGHUP, until the milter has it
	n0=$(count 'milter settings reloaded')
	write_conf "$@"
	kill -HUP "$pid"
	wait_log 'milter settings reloaded' "$n0" || bad "reload not taken"
}
# reply codes as miltertest prints them (SMFIR_*: ASCII): accept, and
# the reply with a text (smfi_setreply "451 4.7.1" on a tempfail)
R_ACCEPT=97
R_TEMPFAIL=121

write_conf 30000
"$emofilter" -t -c "$conf" >/dev/null || bad "-t rejects the config"
mt_start

# ---- overload -------------------------------------------------------------
# The one scanner is stuck in QBUSY1 (30 s deadline, taken at its start).
h0=$(count 'test hook: scanner pid')
send_one QBUSY1 "$work/msg/sleep.eml" &
busy=$!
wait_log 'test hook: scanner pid' "$h0" || bad "the scanner did not take QBUSY1"
wpid=$(grep 'test hook: scanner pid' "$work/log" | tail -n 1 |
    sed -n 's/.*scanner pid \([0-9]*\) sleeping/\1/p')
[ -n "$wpid" ] && kill -STOP "$wpid"
reload 1000
send_one QOVER1 "$work/msg/clean.eml"
grep -q 'QOVER1: overload: no scanner free within 1000 ms' "$work/log" ||
    bad "overload not logged: $(grep QOVER1 "$work/log")"
grep -q 'QOVER1: .*action=unscanned result=tempfailed failure=overload' "$work/log" ||
    bad "overload not tempfailed by default: $(grep QOVER1 "$work/log")"
grep -q "reply=$R_TEMPFAIL" "$work/QOVER1.out" ||
    bad "overload: $(cat "$work/QOVER1.out")"
reload 1000 'on_failure = { overload = "accept"; };'
send_one QOVER2 "$work/msg/clean.eml"
grep -q 'QOVER2: .*action=unscanned result=accepted failure=overload' "$work/log" ||
    bad "on_failure.overload = accept: $(grep QOVER2 "$work/log")"
grep -q "reply=$R_ACCEPT" "$work/QOVER2.out" ||
    bad "overload accept: $(cat "$work/QOVER2.out")"
# The stuck scan ends as a crash (tempfailed: crash follows
# on_scan_failure), and a new scanner takes the next message.
[ -n "$wpid" ] && kill -KILL "$wpid"
wait "$busy"
grep -q 'QBUSY1: .*action=unscanned result=tempfailed failure=crash' "$work/log" ||
    bad "stuck scan: $(grep QBUSY1 "$work/log")"

# ---- a refused header change ------------------------------------------------
# The verdict comes after 2 s (a timeout, accepted tagged unscanned, so
# headers are written); the MTA stops waiting after 1 s and hangs up.
reload 2000 'on_failure = { timeout = "accept"; };'
cat >"$work/gone.lua" <<'LUA'
local conn = mt.connect(os.getenv("EMF_SOCKET"), 20, 0.25)
assert(conn)
assert(mt.negotiate(conn, nil, nil, nil) == nil)
assert(mt.conninfo(conn, "h.example", "192.0.2.1") == nil)
assert(mt.helo(conn, "h.example") == nil)
assert(mt.macro(conn, SMFIC_MAIL, "i", "QGONE1") == nil)
assert(mt.mailfrom(conn, "<gone@example.org>") == nil)
assert(mt.rcptto(conn, "<b@example.org>") == nil)
assert(mt.header(conn, "Subject", "emf-test-sleep") == nil)
assert(mt.header(conn, "X-Emofilter-Action", "accept") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.bodystring(conn, "hello\r\n") == nil)
mt.set_timeout(1)
local ok = pcall(mt.eom, conn)
mt.echo("eom returned: " .. tostring(ok))
mt.disconnect(conn)
LUA
h0=$(count 'test hook: scanner pid')
EMF_SOCKET="unix:$work/run/sock" miltertest -s "$work/gone.lua" >"$work/gone.out" 2>&1
wait_log 'QGONE1: .*action=unscanned result=' 0 ||
    bad "no log line for QGONE1: $(grep QGONE1 "$work/log")"
grep -q 'QGONE1: the MTA refused a header change' "$work/log" ||
    bad "failed header change not logged: $(grep QGONE1 "$work/log")"
grep -q 'QGONE1: .*result=tempfailed failure=timeout' "$work/log" ||
    bad "failed header change not tempfailed: $(grep QGONE1 "$work/log")"
grep -q 'QGONE1: .*result=accepted' "$work/log" &&
    bad "accepted although its headers could not be written"
# The milter survived the broken connection.
send_one QAFTER1 "$work/msg/clean.eml"
grep -q "reply=$R_ACCEPT" "$work/QAFTER1.out" ||
    bad "after the broken connection: $(cat "$work/QAFTER1.out")"

[ $fail -eq 0 ] && echo "PASS: failures.sh (overload tempfail/accept, refused header change)"
exit $fail
