#!/bin/sh
# e2e.sh - emofilter behind a real Postfix, end to end.
#
# A private Postfix (own config, queue and data directories under a temp
# dir) listens on 127.0.0.1:<free port>, with smtpd_milters and
# non_smtpd_milters pointing at a test emofilter running as an
# unprivileged user, and relays everything to smtp-sink -d, which stores
# each delivered message as a file. Messages come from
# tests/milter/make-messages.sh; weights from tests/milter/test-scores.conf.
# Cases: clean, tagged, quarantined (hold queue + store, byte for byte),
# rejected (550 5.7.1 + ID), a worker killed mid-scan, a scan past its
# deadline after a SIGHUP reload to on_scan_failure = accept, emofilter
# stopped (Postfix tempfails; mail queued by sendmail is delivered after
# the restart), and a load of 1,000 messages over 20 sessions, every one
# accounted for. Needs root, Postfix, swaks, smtp-source, zip, python3;
# exit 77 (skip) otherwise. Run by contrib/test.sh twice: on loopback TCP
# and with EMF_SOCKET=unix (the unix socket set-up contrib/postfix/main.cf
# describes: socket 0660 of the daemon user, postfix added to its group,
# which stays so on this machine); KEEP=1 keeps the dir.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (Postfix)"; exit 77; }
for t in postfix smtp-sink smtp-source swaks zip python3 script sendmail; do
	command -v $t >/dev/null 2>&1 || { echo "SKIP: $t not installed"; exit 77; }
done
id postfix >/dev/null 2>&1 || { echo "SKIP: no postfix user"; exit 77; }
[ -x "$top_builddir/src/milter/emofilter" ] || { echo "build first"; exit 1; }

PF_DIR=$(mktemp -d /tmp/emf-e2e.XXXXXX)
. "$top_srcdir/tests/milter/postfix-lib.sh"
cleanup() {
	pf_stop_all
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $PF_DIR"; else rm -rf "$PF_DIR"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
log=$PF_DIR/emofilter.log
msg=$PF_DIR/msg

pf_ports
pf_setup_dirs
"$top_srcdir/tests/milter/make-messages.sh" "$msg" || exit 1
conf=$PF_DIR/emofilter.conf
pf_write_emf_conf "$conf" "workers = 2; scan_timeout_ms = 4000;"
pf_start_sink || exit 1
pf_start_postfix milter || exit 1
EMOFILTER_TEST_HOOKS=1 pf_start_emofilter "$conf" || exit 1
grep -qx "smtpd_milters = $MILTER_PF" "$PF_DIR/etc/main.cf" &&
    ok "Postfix's smtpd_milters = $MILTER_PF" ||
    bad "main.cf does not point at $MILTER_PF"
case $MILTER_PF in
unix:*)
	# what the daemon makes of the socket after dropping root
	got=$(stat -c '%a %U %G' "${MILTER_PF#unix:}")
	want="660 $EMF_USER $(id -gn "$EMF_USER")"
	[ "$got" = "$want" ] && ok "socket ${MILTER_PF#unix:}: $got" ||
	    bad "socket ${MILTER_PF#unix:}: '$got', want '$want'"
	;;
esac

# swaks FILE: the transcript in $PF_DIR/swaks.out, the last reply code out.
send() {
	swaks --timeout 60 --server "127.0.0.1:$SMTP_PORT" \
	    --from alice@example.org --to bob@example.net --data "@$1" \
	    >"$PF_DIR/swaks.out" 2>&1
	sed -n 's/^<[~*-]* *\([2-5][0-9][0-9]\) .*/\1/p' "$PF_DIR/swaks.out" |
	    grep -v '^221$' | tail -1
}

# ---- clean: delivered, scored, the forged headers gone
code=$(send "$msg/clean.eml")
pf_wait_queue_empty 30
f=$(pf_find_delivered '<clean.emftest@example.org>')
if [ "$code" = 250 ] && [ -n "$f" ]; then
	ok "clean delivered"
	grep -q '^X-Emofilter-Score: 0.00' "$f" && ok "clean: X-Emofilter-Score" ||
	    bad "clean: no X-Emofilter-Score: 0.00"
	! grep -q 'X-Emofilter-Score: -100' "$f" &&
	    [ "$(grep -c '^X-Emofilter-Score:' "$f")" -eq 1 ] &&
	    [ "$(grep -c '^X-Emofilter-Action:' "$f")" -eq 1 ] &&
	    grep -q '^X-Emofilter-Action: accept' "$f" &&
	    ok "clean: forged X-Emofilter-* removed" ||
	    bad "clean: forged headers still there"
else
	bad "clean: code $code, delivered file '$f'"
fi

# ---- forged X-Emofilter-* headers in any case, folded, repeated, in the
# middle: every one gone through the real MTA, ours added once
printf '%s\r\n' 'From: Alice <alice@example.org>' 'To: bob@example.net' \
    'x-emofilter-score: -100' 'Subject: forged headers' \
    'X-EMOFILTER-ACTION: accept' 'X-Emofilter-Symbols: NONE' \
    '	folded-forged-line' 'Message-ID: <forged.emftest@example.org>' \
    'X-Emofilter-Score: -200' 'X-Emofilter-ID: forged-id' \
    'X-eMoFiLtEr-Score: -300' 'Date: Wed, 25 Nov 2026 06:00:00 +0000' \
    'X-Emofilter-Released: forged release' 'X-Emofilter-Score: -400' \
    'X-Emofilter-Action:' '  accept' '' 'hello' > "$PF_DIR/forged.eml"
code=$(send "$PF_DIR/forged.eml")
pf_wait_queue_empty 30
f=$(pf_find_delivered '<forged.emftest@example.org>')
if [ "$code" = 250 ] && [ -n "$f" ]; then
	hdr=$(sed '/^\r\{0,1\}$/q' "$f")
	n_score=$(echo "$hdr" | grep -ic '^x-emofilter-score:')
	n_action=$(echo "$hdr" | grep -ic '^x-emofilter-action:')
	n_id=$(echo "$hdr" | grep -ic '^x-emofilter-id:')
	if [ "$n_score" -eq 1 ] && [ "$n_action" -eq 1 ] && [ "$n_id" -eq 1 ] &&
	    echo "$hdr" | grep -q '^X-Emofilter-Score: 0.00' &&
	    echo "$hdr" | grep -q '^X-Emofilter-Action: accept' &&
	    ! echo "$hdr" | grep -q -e '-[1-4]00' -e forged-id -e folded-forged \
	    -e 'Symbols: NONE' -e 'Released' &&
	    echo "$hdr" | grep -q '^Subject: forged headers' &&
	    echo "$hdr" | grep -q '^Date: Wed, 25 Nov 2026'; then
		ok "forged: every X-Emofilter-* removed (case, folded, repeated, middle)"
	else
		bad "forged: headers left: $(echo "$hdr" | grep -i -A1 '^x-emofilter')"
	fi
else
	bad "forged: code $code, delivered file '$f'"
fi

# ---- tag: delivered with the verdict and the subject prefix
code=$(send "$msg/tag.eml")
pf_wait_queue_empty 30
f=$(pf_find_delivered '<tag.emftest@example.org>')
if [ "$code" = 250 ] && [ -n "$f" ]; then
	grep -q '^Subject: \[SUSPICIOUS\] tag me' "$f" &&
	    grep -q '^X-Emofilter-Action: tag' "$f" &&
	    grep -q '^X-Emofilter-Symbols: FILE_TYPE_MISMATCH(5)' "$f" &&
	    grep -q '^X-Emofilter-ID: [0-9]\{8\}T[0-9]\{6\}Z-[0-9a-f]\{8\}' "$f" &&
	    ok "tag: delivered, prefixed, headers" ||
	    bad "tag: headers or subject wrong: $(grep -e '^Subject' -e '^X-Emofilter' "$f")"
else
	bad "tag: code $code, delivered file '$f'"
fi

# ---- quarantine: held in Postfix, stored byte for byte, not delivered
# (smtp-send.py sends the file's bytes exactly; swaks adds a line)
out=$(python3 "$top_srcdir/tests/milter/smtp-send.py" 127.0.0.1 "$SMTP_PORT" \
    "$msg/quarantine.eml" 1 1)
case $out in *" ok=1 "*) code=250;; *) code="$out";; esac
pf_wait_queue_empty 30
qline=$(grep 'action=quarantine result=held' "$log" | tail -1)
qid=$(echo "$qline" | sed -n 's/.*\]: \([0-9A-F]*\): id=.*/\1/p')
rid=$(echo "$qline" | sed -n 's/.* id=\([^ ]*\) .*/\1/p')
if [ "$code" = 250 ] && [ -n "$qid" ] && [ -n "$rid" ]; then
	[ -f "$PF_DIR/queue/hold/$qid" ] && ok "quarantine: $qid in the hold queue" ||
	    bad "quarantine: $qid not in the hold queue"
	[ -z "$(pf_find_delivered '<quarantine.emftest@example.org>')" ] &&
	    ok "quarantine: not delivered" || bad "quarantine: delivered"
	e=$(find "$PF_DIR/run/quarantine" -name "$rid.eml")
	if [ -n "$e" ] && cmp -s "$e" "$msg/quarantine.eml"; then
		ok "quarantine: store entry $rid byte-identical to the message sent"
	else
		bad "quarantine: store entry '$e' missing or different"
	fi
	j=${e%.eml}.json
	grep -q "\"queue_id\":\"$qid\"" "$j" && grep -q '"client_ip":"127.0.0.1"' "$j" &&
	    ok "quarantine: report has the envelope" || bad "quarantine: report envelope"
	# A store the milter made itself: private (0700); entry files 0640
	# (release-e2e.sh checks the 2750 CSIRT store).
	[ "$(stat -c %a "$PF_DIR/run/quarantine")" = 700 ] && [ "$(stat -c %a "$e")" = 640 ] &&
	    [ "$(stat -c %U "$e")" = "$EMF_USER" ] &&
	    ok "quarantine: store 0700, entry 0640 owned by $EMF_USER" ||
	    bad "quarantine: modes or owner $(stat -c '%a %U' "$PF_DIR/run/quarantine" "$e")"
	postcat -c "$PF_DIR/etc" -q "$qid" 2>/dev/null | grep -q "X-Emofilter-ID: $rid" &&
	    ok "quarantine: held message carries X-Emofilter-ID" ||
	    bad "quarantine: held message lacks the ID header"
else
	bad "quarantine: code $code, qid '$qid', id '$rid'"
fi

# ---- reject: 550 5.7.1 naming the report ID, which is in the store
code=$(send "$msg/reject.eml")
rid=$(sed -n 's/.*550 5\.7\.1 .*(report \([^)]*\)).*/\1/p' "$PF_DIR/swaks.out" | head -1)
if [ "$code" = 550 ] && [ -n "$rid" ]; then
	ok "reject: 550 5.7.1 with report $rid"
	[ -n "$(find "$PF_DIR/run/quarantine" -name "$rid.json")" ] &&
	    ok "reject: report $rid in the store" || bad "reject: $rid not stored"
else
	bad "reject: code $code; $(grep '^<' "$PF_DIR/swaks.out" | tail -2)"
fi

# ---- a worker killed mid-scan: the default on_scan_failure (tempfail)
send "$msg/sleep.eml" >"$PF_DIR/code.kill" &
spid=$!
i=0
wpid=
while [ -z "$wpid" ] && [ $i -lt 100 ]; do
	wpid=$(sed -n 's/.*test hook: scanner pid \([0-9]*\) sleeping.*/\1/p' "$log" | tail -1)
	sleep 0.1
	i=$((i + 1))
done
if [ -n "$wpid" ]; then
	echo "killing scanner pid $wpid mid-scan"
	kill -KILL "$wpid"
fi
wait $spid
code=$(cat "$PF_DIR/code.kill")
case $code in
4*) ok "killed worker: tempfailed ($code), the sender keeps the message";;
*) bad "killed worker: code '$code'";;
esac
grep -q "scanner pid $wpid died" "$log" && ok "killed worker: noticed at once" ||
    bad "killed worker: death not noticed"
grep -q 'action=unscanned result=tempfailed' "$log" || bad "killed worker: no log line"
n=$(grep -c 'worker [0-9] started' "$log")
[ "$n" -ge 3 ] && ok "killed worker: replaced" || bad "killed worker: not replaced"

# ---- reload to on_scan_failure = accept, then a scan past its deadline
pf_write_emf_conf "$conf" 'workers = 2; scan_timeout_ms = 4000; on_scan_failure = "accept";'
kill -HUP "$EMF_PID"
i=0
until grep -q 'milter settings reloaded' "$log" || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
grep -q 'milter settings reloaded' "$log" && ok "SIGHUP: reloaded" || bad "SIGHUP: no reload"
code=$(send "$msg/sleep.eml")
pf_wait_queue_empty 30
f=$(pf_find_delivered '<sleep.emftest@example.org>')
grep -q 'scan exceeded 4000 ms: killing scanner pid' "$log" &&
    ok "timeout: the late scanner was killed" || bad "timeout: not logged"
if [ "$code" = 250 ] && [ -n "$f" ] && grep -q '^X-Emofilter-Action: unscanned' "$f" &&
    grep -q '^X-Emofilter-Symbols: SCAN_FAILED' "$f"; then
	ok "timeout: accepted, tagged unscanned (on_scan_failure = accept)"
else
	bad "timeout: code $code, file '$f'"
fi

# ---- emofilter stopped: Postfix tempfails; queued mail goes after restart
pf_stop_emofilter
code=$(send "$msg/clean.eml")
case $code in
4*) ok "stopped: Postfix tempfails ($code)";;
*) bad "stopped: code '$code'";;
esac
sed 's/clean\.emftest/queued.emftest/' "$msg/clean.eml" |
    sendmail -C "$PF_DIR/etc" -f alice@example.org bob@example.net
sleep 5
[ -z "$(pf_find_delivered '<queued.emftest@example.org>')" ] &&
    ok "stopped: locally submitted mail waits" || bad "stopped: delivered unscanned"
EMOFILTER_TEST_HOOKS=1 pf_start_emofilter "$conf"
i=0
until [ -n "$(pf_find_delivered '<queued.emftest@example.org>')" ] || [ $i -gt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
f=$(pf_find_delivered '<queued.emftest@example.org>')
[ -n "$f" ] && grep -q '^X-Emofilter-Score:' "$f" &&
    ok "restarted: the queued mail was scanned and delivered" ||
    bad "restarted: queued mail not delivered"

# ---- load: 1,000 messages over 20 sessions, every one accounted for
pf_wait_queue_empty 30
d0=$(pf_delivered)
h0=$(pf_held)
r0=$(grep -c 'result=rejected' "$log")
l0=$(grep -c ': id=.* result=' "$log")
for k in clean tag quarantine; do
	tr -d '\r' <"$msg/$k.eml" >"$PF_DIR/$k.lf"
done
start=$(date +%s)
smtp-source -s 5 -m 250 -f alice@example.org -t bob@example.net \
    -F "$PF_DIR/clean.lf" "127.0.0.1:$SMTP_PORT" >"$PF_DIR/src1.out" 2>&1 &
p1=$!
smtp-source -s 5 -m 250 -f alice@example.org -t bob@example.net \
    -F "$PF_DIR/tag.lf" "127.0.0.1:$SMTP_PORT" >"$PF_DIR/src2.out" 2>&1 &
p2=$!
smtp-source -s 5 -m 250 -f alice@example.org -t bob@example.net \
    -F "$PF_DIR/quarantine.lf" "127.0.0.1:$SMTP_PORT" >"$PF_DIR/src3.out" 2>&1 &
p3=$!
# smtp-source gives up at the first 5xx: the rejected share goes by smtplib.
python3 "$top_srcdir/tests/milter/smtp-send.py" 127.0.0.1 "$SMTP_PORT" \
    "$msg/reject.eml" 250 5 >"$PF_DIR/src4.out" 2>&1
srcfail=0
for p in $p1 $p2 $p3; do wait $p || srcfail=1; done
[ $srcfail -eq 0 ] || bad "load: smtp-source failed: $(cat "$PF_DIR"/src[123].out)"
pf_wait_queue_empty 120 || bad "load: queue not empty after 120 s"
secs=$(($(date +%s) - start))
delivered=$(($(pf_delivered) - d0))
held=$(($(pf_held) - h0))
rejected=$(($(grep -c 'result=rejected' "$log") - r0))
lines=$(($(grep -c ': id=.* result=' "$log") - l0))
echo "load: delivered=$delivered held=$held rejected=$rejected log_lines=$lines in ${secs}s; $(cat "$PF_DIR/src4.out")"
[ $((delivered + held + rejected)) -eq 1000 ] && [ "$delivered" -eq 500 ] &&
    [ "$held" -eq 250 ] && [ "$rejected" -eq 250 ] && [ "$lines" -eq 1000 ] &&
    ok "load: 1000 sent = $delivered delivered + $held quarantined + $rejected rejected" ||
    bad "load: messages unaccounted for"
grep -q 'sent=250 ok=0 tempfail=0 reject=250' "$PF_DIR/src4.out" ||
    bad "load: rejects seen by the client: $(cat "$PF_DIR/src4.out")"

# The daemon never logged body text or passwords.
grep -q -e 'please find the document' -e 'not-in-the-mail' "$log" &&
    bad "body text or a password in the log"

if [ $fail -ne 0 ]; then
	echo "---- emofilter log (tail)"; tail -40 "$log"
	echo "---- Postfix log (tail)"; tail -20 "$PF_DIR/maillog"
	exit 1
fi
echo "e2e.sh: all checks passed"
