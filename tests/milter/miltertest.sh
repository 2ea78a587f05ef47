#!/bin/sh
# miltertest.sh - protocol-level tests of the emofilter daemon with
# miltertest (Debian package miltertest): replies and header operations
# for clean/tag/quarantine/reject, a recipient policy, a scan past its deadline, the
# quarantine entry byte for byte, -t on a bad config, SIGHUP with a bad
# and a good config, SIGTERM, a negotiation without SMFIF_CHGHDRS refused.
# Hermetic: a unix socket in a temp dir.
# Exit 77 (skip) without miltertest, zip or python3.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/milter/miltertest-lib.sh"
# As root the daemon must drop to a user: nobody, owning the store.
mt_setup miltertest
{
	cat "$top_srcdir/tests/milter/test-scores.conf"
	cat <<EOF2
quarantine = { dir = "$work/run/q"; };
policies = ( { name = "strict"; recipients = [ "strict.example" ];
  quarantine = 4.0; reject = 4.0; } );
yara = { rules_dir = "$top_srcdir/rules"; };
milter = {
$(mt_milter_conf)
  workers = 2;
  scan_timeout_ms = 3000;
  spool_memory_bytes = 512;   # the tag and quarantine mails spill to disk
};
EOF2
} > "$conf"
chmod 644 "$conf"

# -t: a good file passes, a bad one fails naming file:line.
"$emofilter" -t -c "$conf" >/dev/null || bad "-t rejects the test config"
printf 'milter = {\n  workers = 257;\n};\n' > "$work/bad.conf"
out=$("$emofilter" -t -c "$work/bad.conf" 2>&1) && bad "-t accepts workers = 257"
case $out in
*"bad.conf:2: milter.workers: value out of range"*) ;;
*) bad "-t message: got '$out'";;
esac

mt_start

EMF_SOCKET="unix:$work/run/sock" EMF_DATA="$work/msg" \
    miltertest -s "$top_srcdir/tests/milter/protocol.lua" || bad "protocol.lua"

# The socket: the MTA's group may connect, others may not.
if [ -n "$user" ]; then
	m=$(stat -c '%a %U' "$work/run/sock")
	[ "$m" = "660 $user" ] || bad "socket mode/owner: $m, want 660 $user"
fi

# The store holds the quarantined and the two rejected messages, byte for byte.
n=$(find "$work/run/q" -name '*.json' | wc -l)
[ "$n" -eq 3 ] || bad "store: got $n entries, want 3"
grep -q 'QPOL1: .* rcpts=2 .*action=reject policy=strict result=rejected' "$work/log" ||
    bad "policy verdict not logged"
grep -q 'QTAG1: .*action=tag result=' "$work/log" || bad "tag without policy not logged"
grep -l '"queue_id":"QPOL1"' "$work/run/q/"*/*.json | xargs grep -q '"policy":"strict"' ||
    bad "report of QPOL1 does not name the policy"
qid=$(sed -n 's/.*QQUAR1: id=\([^ ]*\) .*/\1/p' "$work/log")
f=$(find "$work/run/q" -name "$qid.eml")
if [ -z "$qid" ] || [ -z "$f" ]; then
	bad "quarantine entry for QQUAR1 not found (id '$qid')"
else
	cmp "$f" "$work/msg/quarantine.eml" || bad "stored message differs from the one sent"
	grep -q '"queue_id":"QQUAR1"' "$work/run/q/"*/"$qid.json" ||
	    bad "report lacks the envelope"
	mode=$(stat -c %a "$f")
	[ "$mode" = 640 ] || bad "entry mode $mode, want 640 (the CSIRT group reads)"
fi
grep -q 'QSLEEP1: scan exceeded 3000 ms: killing scanner pid' "$work/log" ||
    bad "timeout not logged"
grep -q 'QSLEEP1: .*action=unscanned result=tempfailed' "$work/log" ||
    bad "timeout did not tempfail"
# No body text in the log: the sentence of every test body.
grep -q 'please find the document' "$work/log" && bad "body text in the log"

# An MTA that offers no header changes (SMFIF_CHGHDRS) could not have the
# forged X-Emofilter-* headers removed: the negotiation is refused (the
# MTA then applies milter_default_action) and nothing is accepted.
# miltertest takes the MTA's actions as the 4th argument of mt.negotiate
# and exits when the filter closes the connection, so the log decides.
cat >"$work/nochg.lua" <<'LUA'
local conn = mt.connect(os.getenv("EMF_SOCKET"), 20, 0.25)
assert(mt.negotiate(conn, nil, nil, SMFIF_ADDHDRS + SMFIF_QUARANTINE) == nil)
assert(mt.conninfo(conn, "h.example", "192.0.2.1") == nil)
assert(mt.macro(conn, SMFIC_MAIL, "i", "QNOCHG1") == nil)
assert(mt.mailfrom(conn, "<nochg@example.org>") == nil)
assert(mt.rcptto(conn, "<b@example.org>") == nil)
assert(mt.header(conn, "X-Emofilter-Action", "accept") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.bodystring(conn, "hi\r\n") == nil)
assert(mt.eom(conn) == nil)
assert(mt.getreply(conn) ~= SMFIR_ACCEPT, "accepted without SMFIF_CHGHDRS")
LUA
EMF_SOCKET="unix:$work/run/sock" miltertest -s "$work/nochg.lua" >"$work/nochg.out" 2>&1
grep -q 'milter negotiation refused: the MTA offers actions 0x21' "$work/log" ||
    bad "negotiation without SMFIF_CHGHDRS not refused"
grep -q 'from=<nochg@example.org>.*result=accepted' "$work/log" &&
    bad "message accepted over a negotiation without SMFIF_CHGHDRS"

# Hostile names never reach a log line as themselves: an envelope sender
# with ESC, CR, LF and a right-to-left override (the milter protocol
# carries them), a Subject and an attachment name with the same.
cat >"$work/hostile.lua" <<'LUA'
local conn = mt.connect(os.getenv("EMF_SOCKET"), 20, 0.25)
assert(mt.negotiate(conn, nil, nil, nil) == nil)
assert(mt.conninfo(conn, "h.example", "192.0.2.1") == nil)
assert(mt.mailfrom(conn, "<ev\27[31mil\r\nFAKE: line\226\128\174gnp.exe@example.org>") == nil)
assert(mt.rcptto(conn, "<b@example.org>") == nil)
assert(mt.header(conn, "Subject", "s\27[2J\226\128\174x") == nil)
assert(mt.header(conn, "MIME-Version", "1.0") == nil)
assert(mt.header(conn, "Content-Type", "multipart/mixed; boundary=b") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.bodystring(conn, "--b\r\nContent-Type: application/octet-stream\r\n" ..
    "Content-Disposition: attachment; filename=\"a\27[1m\226\128\174fdp.exe\"\r\n\r\n" ..
    "MZ\r\n--b--\r\n") == nil)
assert(mt.eom(conn) == nil)
LUA
EMF_SOCKET="unix:$work/run/sock" miltertest -s "$work/hostile.lua" >"$work/hostile.out" 2>&1 ||
    bad "hostile.lua: $(cat "$work/hostile.out")"
sleep 0.2
grep -q 'from=<ev\\x1b\[31mil\\x0d\\x0aFAKE: line\\u202egnp.exe@example.org>' "$work/log" ||
    bad "hostile sender not logged escaped"
LC_ALL=C grep -q "$(printf '\033')" "$work/log" && bad "raw ESC in the log"
grep -q "$(printf '\342\200\256')" "$work/log" && bad "raw U+202E in the log"
grep -q '^FAKE: line' "$work/log" && bad "a forged log line"

# SIGHUP with a broken config keeps running; a good one reloads.
cp "$conf" "$conf.good"
echo 'limits = { mime_depth = "x"; };' >> "$conf"
kill -HUP "$pid"
sleep 1
grep -q 'reload failed, keeping the running configuration: .*test.conf:[0-9]*: limits.mime_depth' "$work/log" ||
    bad "bad reload not reported with file:line"
kill -0 "$pid" 2>/dev/null || bad "daemon died on a bad reload"
cp "$conf.good" "$conf"
kill -HUP "$pid"
sleep 1
grep -q 'reloaded ' "$work/log" || bad "good reload not logged"
grep -q 'milter settings reloaded' "$work/log" || bad "milter process did not reload"
EMF_SOCKET="unix:$work/run/sock" EMF_DATA="$work/msg" miltertest -s /dev/stdin <<'LUA' || bad "scan after reload"
local conn = mt.connect(os.getenv("EMF_SOCKET"), 20, 0.25)
assert(mt.negotiate(conn, nil, nil, nil) == nil)
assert(mt.conninfo(conn, "h.example", "192.0.2.1") == nil)
assert(mt.mailfrom(conn, "<a@example.org>") == nil)
assert(mt.rcptto(conn, "<b@example.org>") == nil)
assert(mt.header(conn, "Subject", "after reload") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.bodystring(conn, "hi\r\n") == nil)
assert(mt.eom(conn) == nil)
assert(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted after reload")
LUA

# ---- failures: milter.on_failure per case (reloaded with SIGHUP) --------
# send QID FILE: one message; the reply code in $work/QID.out
send_one() {
	EMF_SOCKET="unix:$work/run/sock" EMF_QID=$1 EMF_FILE=$2 \
	    miltertest -s "$top_srcdir/tests/milter/send-one.lua" >"$work/$1.out" 2>&1
}
reload_with() {	# reload_with TEXT [SED]: the test config plus TEXT in milter
	n0=$(grep -c 'milter settings reloaded' "$work/log")
	sed -e "s|^milter = {|milter = { $1|" -e "${2:-}" "$conf.good" > "$conf"
	kill -HUP "$pid"
	i=0
	while [ "$(grep -c 'milter settings reloaded' "$work/log")" -le "$n0" ] &&
	    [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}
# send_sleeper QID: sleep.eml in the background ($mtpid) once a scanner
# sleeps in it ($wpid, its pid from the test hook's log line).
send_sleeper() {
	h0=$(grep -c 'test hook: scanner pid' "$work/log")
	send_one "$1" "$work/msg/sleep.eml" &
	mtpid=$!
	i=0
	while [ "$(grep -c 'test hook: scanner pid' "$work/log")" -le "$h0" ] &&
	    [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	wpid=$(grep 'test hook: scanner pid' "$work/log" | tail -n 1 |
	    sed -n 's/.*scanner pid \([0-9]*\) sleeping/\1/p')
}
# The default: every failure tempfails (timeout seen above). Per case:
# a timeout rejected, a crash accepted tagged unscanned, a spool that
# cannot spill to disk tempfailed.
reload_with 'on_failure = { timeout = "reject"; crash = "accept"; };'
send_one QFTIME "$work/msg/sleep.eml"
grep -q 'QFTIME: .*action=unscanned result=rejected failure=timeout' "$work/log" ||
    bad "on_failure.timeout = reject: $(grep QFTIME "$work/log")"
send_sleeper QFCRASH
[ -n "$wpid" ] && kill -9 "$wpid"
wait "$mtpid"
grep -q 'QFCRASH: .*action=unscanned result=accepted failure=crash' "$work/log" ||
    bad "on_failure.crash = accept: $(grep QFCRASH "$work/log")"
grep -q 'reply=.*' "$work/QFCRASH.out" || bad "crash case: $(cat "$work/QFCRASH.out")"
reload_with "" "s|spool_dir = .*|spool_dir = \"$work/no-such-dir\";|"
send_one QFSTORE "$work/msg/tag.eml"
grep -q 'QFSTORE: spool: ' "$work/log" || bad "spool failure not logged"
grep -q 'QFSTORE: .*action=unscanned result=tempfailed failure=store' "$work/log" ||
    bad "spool failure not tempfailed: $(grep QFSTORE "$work/log")"
cp "$conf.good" "$conf"
reload_with ""

# A worker that hangs outside a scan (stopped before it takes the
# message) is killed at the deadline and replaced, not left to fail
# every message given to its slot.
mp=$(sed -n 's/.*milter process started, pid \([0-9]*\).*/\1/p' "$work/log" | tail -n 1)
stopped=
for p in $(pgrep -P "$pid"); do
	[ "$p" != "$mp" ] && kill -STOP "$p" && stopped="$stopped $p"
done
send_one QHANG1 "$work/msg/clean.eml"
grep -q 'QHANG1: no scanner took the message within 3000 ms: killing hung scanner pid' "$work/log" ||
    bad "hung worker not killed: $(grep QHANG1 "$work/log")"
for p in $stopped; do kill -CONT "$p" 2>/dev/null; done
sleep 0.5

# A scanner stopped in the middle of a scan is still ended at the
# message's deadline (its own timer sends SIGKILL, which a stopped
# process cannot hold off), and the message is a timeout.
send_sleeper QSTOP1
spid=$wpid
[ -n "$spid" ] && kill -STOP "$spid"
wait "$mtpid"
grep -q "QSTOP1: scan exceeded 3000 ms: killing scanner pid $spid" "$work/log" ||
    bad "stopped scanner: $(grep QSTOP1 "$work/log")"
grep -q 'QSTOP1: .*action=unscanned result=tempfailed failure=timeout' "$work/log" ||
    bad "stopped scanner not a timeout: $(grep QSTOP1 "$work/log")"
i=0
while [ -n "$spid" ] && kill -0 "$spid" 2>/dev/null &&
    [ "$(ps -o stat= -p "$spid" | cut -c1)" != Z ] && [ $i -lt 20 ]; do
	sleep 0.1; i=$((i + 1))
done
[ -n "$spid" ] && kill -0 "$spid" 2>/dev/null &&
    [ "$(ps -o stat= -p "$spid" | cut -c1)" != Z ] &&
    { bad "stopped scanner $spid still there 2 s after its deadline"; kill -KILL "$spid"; }
grep -q "worker [0-9]* (pid $spid) killed by signal 9" "$work/log" ||
    bad "stopped scanner's end not logged"
send_one QHANG2 "$work/msg/clean.eml"
grep -q 'QHANG2: .*action=accept result=accepted' "$work/log" ||
    bad "after a hung worker: $(grep QHANG2 "$work/log")"

# As root, every process (main, workers, milter) runs as the
# unprivileged user: real, effective, saved and file-system IDs, no
# supplementary group, no capability, no_new_privs set.
if [ -n "$user" ]; then
	uid=$(id -u "$user")
	gid=$(id -g "$user")
	n=0
	for p in $(pgrep -f "emofilter -f -c $conf"); do
		n=$((n + 1))
		st=/proc/$p/status
		grep -q "^Uid:	$uid	$uid	$uid	$uid\$" "$st" ||
		    bad "process $p: $(grep ^Uid: "$st")"
		grep -q "^Gid:	$gid	$gid	$gid	$gid\$" "$st" ||
		    bad "process $p: $(grep ^Gid: "$st")"
		grep -q '^Groups:[[:space:]]*$' "$st" ||
		    bad "process $p keeps supplementary groups: $(grep ^Groups: "$st")"
		grep -q '^CapEff:[[:space:]]*0*$' "$st" ||
		    bad "process $p: $(grep ^CapEff: "$st")"
		grep -q '^NoNewPrivs:[[:space:]]*1$' "$st" ||
		    bad "process $p: no_new_privs not set"
	done
	[ $n -ge 4 ] || bad "found $n daemon processes, want main, 2 workers, milter"
fi

kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 "$pid" 2>/dev/null && bad "daemon did not stop on SIGTERM"
wait "$pid"
rc=$?
[ $rc -eq 0 ] || bad "daemon exit status $rc (a sanitizer report?)"
grep -q -e 'Sanitizer' -e 'runtime error' "$work/log" && bad "sanitizer report in the log"
pid=
[ -e "$work/run/pid" ] && bad "pid file left behind"
pgrep -f "emofilter -f -c $conf" >/dev/null && bad "processes left behind"

# A symbolic link in the quarantine directory's path: root neither
# creates nor hands over anything through it (the store is then
# unwritable and quarantine verdicts tempfail; the daemon still runs).
if [ -n "$user" ]; then
	mkdir -p "$work/victim" "$work/run2"
	chown "$user" "$work/run2"
	ln -s "$work/victim" "$work/link"
	sed -e "s|$work/run/q|$work/link/q|" -e "s|$work/run/|$work/run2/|g" \
	    "$conf" > "$work/link.conf"
	"$emofilter" -f -c "$work/link.conf" 2>"$work/log2" &
	pid2=$!
	i=0
	while [ ! -S "$work/run2/sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill -TERM "$pid2" 2>/dev/null
	wait "$pid2"
	[ -e "$work/victim/q" ] && bad "quarantine dir created through a symlink"
	[ "$(stat -c %U "$work/victim")" = root ] || bad "symlink target handed over"
	grep -q "quarantine directory $work/link/q: .*not handed over" "$work/log2" ||
	    bad "symlinked quarantine path not reported: $(cat "$work/log2")"
fi

if [ $fail -ne 0 ]; then
	echo "---- daemon log"; cat "$work/log"
	exit 1
fi
echo "miltertest.sh: all checks passed"
