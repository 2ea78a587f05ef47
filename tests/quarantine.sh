#!/bin/sh
# quarantine.sh - emofilter-quarantine end to end over a store built here:
# entries written by emofilter-scan --quarantine and hand-made reports (one
# corrupt), listing and filters, terminal safety, path traversal, release
# through a fake sendmail and through an SMTP sink, the audit log, the
# encrypted export opened back with 7z, IOC output against known values,
# purge, and listing while entries are being written.
set -u

top_builddir=${top_builddir:-.}
SCAN="$top_builddir/src/cli/emofilter-scan"
Q="$top_builddir/src/cli/emofilter-quarantine"
for tool in python3 7z; do
	command -v $tool >/dev/null 2>&1 || { echo "SKIP: no $tool"; exit 77; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/emf-qt-XXXXXX")
SMTP_PID=
WRITER_PID=
cleanup() {
	[ -n "$SMTP_PID" ] && kill "$SMTP_PID" 2>/dev/null
	[ -n "$WRITER_PID" ] && kill "$WRITER_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

STORE="$T/store"
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }
# check NAME WANT_RC CMD...: run, keep stdout/stderr in $T/out, $T/err
check_rc() {
	name=$1; want=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" -eq "$want" ]; then ok "$name (exit $got)"
	else bad "$name: got exit $got, want $want"; sed 's/^/  | /' "$T/err"; fi
}
has() {	# has NAME FILE FIXED-STRING
	if grep -qF -- "$3" "$2"; then ok "$1"
	else bad "$1: \"$3\" not in $2"; sed 's/^/  | /' "$2" | head -20; fi
}
hasnt() {
	if grep -qF -- "$3" "$2"; then bad "$1: \"$3\" in $2"
	else ok "$1"; fi
}

cat >"$T/sendmail" <<EOF
#!/bin/sh
printf '%s\n' "\$*" > "$T/sendmail.args"
cat > "$T/sendmail.msg"
exit \${FAKE_SENDMAIL_STATUS:-0}
EOF
chmod 755 "$T/sendmail"
cat >"$T/emofilter.conf" <<EOF
quarantine = {
  dir = "$STORE";
  sendmail = "$T/sendmail";
  release_smtp = "";
  postfix_hold = false;   # no Postfix here: tests/milter/release-e2e.sh
};
EOF

# ---- the store ------------------------------------------------------------
# Mail 1: a zip attachment with known bytes (so its SHA-256 is known).
python3 - "$T" <<'EOF'
import sys, zipfile, io, base64, hashlib
t = sys.argv[1]
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("invoice.txt", "pay me\n" * 20)
data = buf.getvalue()
open(t + "/attach.zip", "wb").write(data)
b64 = base64.encodebytes(data).decode()
open(t + "/m1.eml", "w", newline="").write(
 "Return-Path: <billing@bad.example>\n"
 "From: \"Billing\" <billing@bad.example>\n"
 "To: victim@corp.example\n"
 "Subject: =?UTF-8?B?6KuL5rGC5pu4?= invoice\n"
 "Message-ID: <m1@bad.example>\n"
 "X-Emofilter-Released: forged by the sender\n"
 "MIME-Version: 1.0\n"
 "Content-Type: multipart/mixed; boundary=\"b1\"\n\n"
 "--b1\nContent-Type: text/plain\n\nPlease see the attachment.\n"
 ".a line with a leading dot\n\n"
 "--b1\nContent-Type: application/zip; name=\"invoice.zip\"\n"
 "Content-Disposition: attachment; filename=\"invoice.zip\"\n"
 "Content-Transfer-Encoding: base64\n\n" + b64 + "--b1--\n")
open(t + "/m2.eml", "w", newline="").write(
 "From: friend@good.example\nTo: boss@corp.example\n"
 "Subject: lunch\n\nsee you\n")
EOF
check_rc "scan --quarantine writes entry 1" 0 sh -c \
    "'$SCAN' --quarantine '$STORE' --json --sender billing@bad.example \
    --rcpt victim@corp.example --client-ip 192.0.2.7 --helo mx.bad.example \
    '$T/m1.eml' > '$T/r1.json' || [ \$? -eq 1 ]"
ID1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/r1.json")
sleep 1	# IDs carry seconds: make the order certain
"$SCAN" --quarantine "$STORE" --json --sender friend@good.example \
    --rcpt boss@corp.example "$T/m2.eml" >"$T/r2.json" 2>/dev/null
ID2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/r2.json")
[ -f "$STORE/${ID1%%T*}/$ID1.eml" ] && ok "entry 1 stored as $ID1" || bad "entry 1 missing"
cmp -s "$T/m1.eml" "$STORE/${ID1%%T*}/$ID1.eml" && ok "stored message is the original bytes" \
    || bad "stored message differs"

# Hand-made entries: an old one with every indicator field the Office and
# heuristics modules fill, and a corrupt one.
IDF=20200101T000000Z-0000aaaa
IDC=20261120T101010Z-0000bbbb
mkdir -p "$STORE/20200101" "$STORE/20261120"
python3 - "$STORE" "$IDF" "$IDC" <<'EOF'
import json, sys
store, idf, idc = sys.argv[1:4]
rep = {
 "id": idf, "time": "2020-01-01T00:00:00Z",
 "envelope": {"queue_id": "4AbCd", "client_ip": "198.51.100.23",
   "client_name": "host23.isp.example", "helo": "WIN-4G7H2K",
   "from": "kyomu@torihiki.example", "auth_user": None,
   "rcpts": ["keiri@corp.example", "soumu@corp.example"]},
 "headers": {"from": "\"Keiri\" <keiri@torihiki.example>", "to": None,
   "subject": "Invoice \u001b[31mRED\u001b[0m \u202egnp.exe",
   "message_id": "<x1@torihiki.example>", "date": None, "reply_to": None,
   "return_path": None, "in_reply_to": None},
 "score": 23.5, "action": "reject", "policy": "finance",
 "symbols": [
   {"name": "MACRO_AUTOEXEC", "score": 8.0, "detail": "AutoOpen",
    "object": "2/seikyu.zip/seikyu.doc", "count": 1,
    "hits": [{"detail": "AutoOpen", "object": "2/seikyu.zip/seikyu.doc"}]},
   {"name": "ARCHIVE_PASSWORD_IN_BODY", "score": 5.5, "detail": "pw",
    "object": "2/seikyu.zip", "count": 1, "hits": []}],
 "objects": [{
   "path": "2/seikyu.zip", "name": "seikyu.zip", "type": "zip",
   "size": 1000, "truncated": False,
   "sha256": "a" * 64, "encrypted": False, "children": [{
     "path": "2/seikyu.zip/seikyu.doc", "name": "seikyu.doc",
     "type": "ole2", "size": 5000, "truncated": False,
     "sha256": "b" * 64, "encrypted": True, "encryption": "ZipCrypto",
     "password": "Kx8#2pQ", "password_source": "body 1/",
     "vba_sha256": "c" * 64,
     "macros": [{"module": "ThisDocument", "sha256": "d" * 64,
       "autoexec": ["AutoOpen"], "suspicious": ["Shell", "CreateObject"],
       "urls": ["http://dl.bad.example/a.dll", "https://x.bad.example/p"]}],
     "external_links": ["http://tmpl.bad.example/t.dotm"],
     "urls": [], "lure": ["Enable Content"], "yara": ["Emotet_Doc"],
     "new_field_from_a_module": "shown anyway",
     "children": []}]}],
 "passwords": [{"password": "Kx8#2pQ", "source": "body 1/", "used": True}],
 "limits_hit": [], "scan_ms": 12}
open(f"{store}/20200101/{idf}.json", "w").write(json.dumps(rep))
open(f"{store}/20200101/{idf}.eml", "w").write("From: keiri@torihiki.example\n\nx\n")
open(f"{store}/20261120/{idc}.json", "w").write('{"id": "' + idc + '", "score": ')
open(f"{store}/20261120/{idc}.eml", "w").write("x\n")
EOF
chmod 700 "$STORE/20200101" "$STORE/20261120"
chmod 600 "$STORE"/2*/*

# ---- list, filters, terminal safety -----------------------------------------
check_rc "list with a corrupt entry reports a store error" 3 "$Q" -c "$T/emofilter.conf" list
has "corrupt entry named on stderr" "$T/err" "$IDC: unreadable entry"
lines=$(wc -l <"$T/out")
[ "$lines" -eq 4 ] && ok "list shows a header and the 3 readable entries" || bad "list: got $lines lines, want 4"
head -n 1 "$T/out" | grep -q '^ID  *TIME (UTC)  *SCORE  *ACTION  *STATUS  *SENDER  *RECIPIENT  *SUBJECT  *SYMBOLS$' \
    && ok "list header row" || bad "list header: $(head -n 1 "$T/out")"
order=$(tail -n +2 "$T/out" | cut -d' ' -f1 | tr '\n' ' ')
[ "$order" = "$ID2 $ID1 $IDF " ] && ok "newest first" || bad "order: got $order"
has "list escapes ESC" "$T/out" '\x1b[31mRED\x1b[0m'
has "list escapes bidi override" "$T/out" '\u202egnp.exe'
if LC_ALL=C grep -q "$(printf '\033')" "$T/out"; then bad "raw ESC reached the terminal"; else ok "no raw ESC in list"; fi
check_rc "show corrupt entry" 3 "$Q" -c "$T/emofilter.conf" show "$IDC"
check_rc "delete corrupt entry" 0 "$Q" -c "$T/emofilter.conf" delete "$IDC"
check_rc "list after delete" 0 "$Q" -c "$T/emofilter.conf" list --json
python3 - "$T/out" "$ID2" "$ID1" "$IDF" <<'EOF' && ok "list --json" || bad "list --json"
import json, sys
l = json.load(open(sys.argv[1]))
assert [e["id"] for e in l] == sys.argv[2:5], l
f = l[2]
assert f["score"] == 23.5 and f["action"] == "reject" and not f["released"]
assert f["policy"] == "finance" and l[1]["policy"] is None, (f, l[1])
assert f["rcpts"] == ["keiri@corp.example", "soumu@corp.example"]
assert f["symbols"] == ["MACRO_AUTOEXEC", "ARCHIVE_PASSWORD_IN_BODY"]
EOF
check_rc "list --min-score 20" 0 "$Q" -c "$T/emofilter.conf" list --no-header --min-score 20
[ "$(cut -d' ' -f1 "$T/out")" = "$IDF" ] && ok "min-score filter" || bad "min-score: $(cat "$T/out")"
check_rc "list --symbol" 0 "$Q" -c "$T/emofilter.conf" list --no-header --symbol macro_autoexec
[ "$(cut -d' ' -f1 "$T/out")" = "$IDF" ] && ok "symbol filter" || bad "symbol: $(cat "$T/out")"
check_rc "list --from" 0 "$Q" -c "$T/emofilter.conf" list --no-header --from BAD.example
[ "$(cut -d' ' -f1 "$T/out")" = "$ID1" ] && ok "from filter" || bad "from: $(cat "$T/out")"
check_rc "list --rcpt" 0 "$Q" -c "$T/emofilter.conf" list --no-header --rcpt soumu@
[ "$(cut -d' ' -f1 "$T/out")" = "$IDF" ] && ok "rcpt filter" || bad "rcpt: $(cat "$T/out")"
check_rc "list --until 2021-01-01" 0 "$Q" -c "$T/emofilter.conf" list --no-header --until 2021-01-01
[ "$(cut -d' ' -f1 "$T/out")" = "$IDF" ] && ok "until filter" || bad "until: $(cat "$T/out")"
check_rc "list --since 1d" 0 "$Q" -c "$T/emofilter.conf" list --no-header --since 1d
[ "$(wc -l <"$T/out")" -eq 2 ] && ok "since filter" || bad "since: $(cat "$T/out")"
check_rc "list --since bad" 2 "$Q" -c "$T/emofilter.conf" list --since yesterday

# ---- show -------------------------------------------------------------------
check_rc "show hand-made entry" 0 "$Q" -c "$T/emofilter.conf" show "$IDF"
for want in "MACRO_AUTOEXEC  8.00" "2/seikyu.zip/seikyu.doc  seikyu.doc  ole2" \
    "$(printf 'b%.0s' $(seq 64))" "password       Kx8#2pQ (from body 1/)" \
    "autoexec       AutoOpen" "http://dl.bad.example/a.dll" \
    "ext. links     http://tmpl.bad.example/t.dotm" "yara           Emotet_Doc" \
    "new_field_from_a_module shown anyway" "helo           WIN-4G7H2K" \
    '\x1b[31mRED' "Policy         finance"; do
	has "show: $want" "$T/out" "$want"
done
check_rc "show scanned entry" 0 "$Q" -c "$T/emofilter.conf" show "$ID1"
hasnt "show: no policy line without a policy" "$T/out" "Policy "
has "show: attachment hash" "$T/out" "$(sha256sum "$T/attach.zip" | cut -d' ' -f1)"
has "show: decoded subject" "$T/out" "請求書 invoice"

# Macro source in show: Excel 4.0 formulas of a macro sheet, read back from
# the stored message (the report only names the sheet).
python3 - "${top_srcdir:-.}/tests/data/excel4_sample_macro.xls" "$T/m3.eml" <<'EOS'
import base64, sys
b = base64.encodebytes(open(sys.argv[1], "rb").read()).decode()
open(sys.argv[2], "w").write(
 "From: a@xlm.example\nTo: c@corp.example\nSubject: xlm\nMIME-Version: 1.0\n"
 "Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nhi\n"
 "--b\nContent-Type: application/vnd.ms-excel; name=\"a.xls\"\n"
 "Content-Disposition: attachment; filename=\"a.xls\"\n"
 "Content-Transfer-Encoding: base64\n\n" + b + "--b--\n")
EOS
"$SCAN" --quarantine "$T/xlmstore" --json "$T/m3.eml" >"$T/r3.json" 2>/dev/null
ID3=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/r3.json")
check_rc "show an Excel 4.0 macro entry" 0 "$Q" -d "$T/xlmstore" show "$ID3"
has "show: the macro sheet" "$T/out" "--- module Excel 4.0 macro sheet Macro1 in 2/a.xls"
has "show: XLM formula 1" "$T/out" '    A1: =ALERT("This is a sample Excel 4 macro")'
has "show: XLM formula 2" "$T/out" "    A2: =HALT()"

# ---- analyst lookups and statistics -----------------------------------------
lookup() {	# lookup NAME WANT-IDS FILTER...
	name=$1; want=$2; shift 2
	"$Q" -c "$T/emofilter.conf" list --no-header "$@" >"$T/out" 2>"$T/err"
	got=$(cut -d' ' -f1 "$T/out" | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$want" ] && ok "lookup $name" || bad "lookup $name: got \"$got\", want \"$want\""
}
lookup "by queue ID" "$IDF" --queue-id 4AbCd
lookup "by queue ID (exact only)" "" --queue-id 4AbC
lookup "by Message-ID without brackets" "$IDF" --message-id x1@torihiki.example
lookup "by Message-ID with brackets" "$ID1" --message-id '<m1@bad.example>'
lookup "by action" "$IDF" --action REJECT
lookup "by report ID" "$ID1" --id "$ID1"
lookup "by report ID prefix" "$IDF" --id 2020
lookup "by sender" "$IDF" --sender kyomu@
lookup "by recipient" "$ID1" --recipient victim@corp
lookup "by date range" "$IDF" --since 2019-12-31 --until 2020-01-01
lookup "by symbol and sender" "" --symbol MACRO_AUTOEXEC --sender bad.example
check_rc "stats" 0 "$Q" -c "$T/emofilter.conf" stats
has "stats: total" "$T/out" "Entries  3"
has "stats: per-day header row" "$T/out" "  DAY       "
has "stats: a day row" "$T/out" "  2020-01-01"
has "stats: top symbol" "$T/out" "        1  MACRO_AUTOEXEC"
has "stats: top sender" "$T/out" "kyomu@torihiki.example"
check_rc "stats --json" 0 "$Q" -c "$T/emofilter.conf" stats --json --top 5
python3 - "$T/out" "$IDF" <<'EOS' && ok "stats --json: totals, days, symbols, senders agree" || bad "stats --json"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["total"] == 3, s
assert sum(a["count"] for a in s["actions"]) == 3
assert sum(sum(d["actions"].values()) for d in s["days"]) == 3
assert [d["day"] for d in s["days"]] == sorted(d["day"] for d in s["days"])
assert {"name": "reject", "count": 1} in s["actions"]
assert {"name": "MACRO_AUTOEXEC", "count": 1} in s["symbols"]
assert {"name": "kyomu@torihiki.example", "count": 1} in s["senders"]
assert len(s["senders"]) <= 5
EOS
check_rc "stats --action reject" 0 "$Q" -c "$T/emofilter.conf" stats --action reject
has "stats with a filter" "$T/out" "Entries  1"
check_rc "stats --top bad" 2 "$Q" -c "$T/emofilter.conf" stats --top 0

# ---- refusals and errors ------------------------------------------------------
check_rc "path traversal ID refused" 1 "$Q" -c "$T/emofilter.conf" show ../../../etc/passwd
has "says not an entry ID" "$T/err" "is not an entry ID"
check_rc "traversal in release" 1 "$Q" -c "$T/emofilter.conf" release "20200101/../../x"
check_rc "traversal in delete" 1 "$Q" -c "$T/emofilter.conf" delete "../$IDF"
check_rc "unknown ID" 1 "$Q" -c "$T/emofilter.conf" show 20990101T000000Z-00000000
has "says no such entry" "$T/err" "no such entry"
check_rc "missing store" 3 "$Q" -d "$T/nowhere" list
has "missing store named" "$T/err" "$T/nowhere"
chmod 2750 "$STORE"
check_rc "store 2750 (the CSIRT model) accepted" 0 "$Q" -c "$T/emofilter.conf" list
chmod 2770 "$STORE"
check_rc "store group-writable refused" 3 "$Q" -c "$T/emofilter.conf" list
has "says too open" "$T/err" "too open"
chmod 755 "$STORE"
check_rc "store open to others refused" 3 "$Q" -c "$T/emofilter.conf" list
has "says too open, wants 2750" "$T/err" "want 2750"
chmod 700 "$STORE"
check_rc "unknown command" 2 "$Q" -c "$T/emofilter.conf" frobnicate
check_rc "bad config" 2 "$Q" -c "$T/nonexistent.conf" list
check_rc "purge without age" 2 "$Q" -c "$T/emofilter.conf" purge

# ---- release through sendmail -------------------------------------------------
check_rc "release via sendmail" 0 "$Q" -c "$T/emofilter.conf" release "$ID1"
has "sendmail arguments" "$T/sendmail.args" "-G -i -f billing@bad.example -- victim@corp.example"
head -n 1 "$T/sendmail.msg" >"$T/hdr"
has "released header" "$T/hdr" "X-Emofilter-Released: "
has "released header names the entry" "$T/hdr" "id=$ID1"
has "released header names who" "$T/hdr" " by "
grep -v '^X-Emofilter-Released: forged' "$T/m1.eml" >"$T/m1.clean"
tail -n +2 "$T/sendmail.msg" | cmp -s - "$T/m1.clean" && ok "re-injected bytes are the original (forged header removed)" \
    || bad "re-injected message differs from the original"
check_rc "second release refused" 1 "$Q" -c "$T/emofilter.conf" release "$ID1"
has "refusal says already released" "$T/err" "already released"
check_rc "list --released" 0 "$Q" -c "$T/emofilter.conf" list --no-header --released
[ "$(cut -d' ' -f1 "$T/out")" = "$ID1" ] && ok "released filter" || bad "released: $(cat "$T/out")"
check_rc "list --pending" 0 "$Q" -c "$T/emofilter.conf" list --no-header --pending
hasnt "pending filter" "$T/out" "$ID1"
check_rc "forced release to another rcpt" 0 "$Q" -c "$T/emofilter.conf" release "$ID1" --force --to analyst@corp.example
has "forced release recipient" "$T/sendmail.args" "-- analyst@corp.example"
check_rc "refuse option-like recipient" 1 "$Q" -c "$T/emofilter.conf" release "$ID2" --to=-oQ/tmp/x
FAKE_SENDMAIL_STATUS=75 check_rc "failed delivery" 4 "$Q" -c "$T/emofilter.conf" release "$ID2"
check_rc "failed delivery leaves it pending" 0 "$Q" -c "$T/emofilter.conf" list --pending
has "still pending" "$T/out" "$ID2"

# ---- release through SMTP -------------------------------------------------------
cat >"$T/sink.py" <<'EOF'
# A one-message SMTP sink on 127.0.0.1 for the test.
import socket, sys
out = sys.argv[1]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
open(out + ".port", "w").write(str(s.getsockname()[1]))
s.settimeout(30)
c, _ = s.accept()
c.settimeout(30)
f = c.makefile("rb")
def say(x): c.sendall(x.encode() + b"\r\n")
say("220 sink ESMTP")
env = []
while True:
    line = f.readline()
    if not line:
        break
    cmd = line.decode().rstrip("\r\n")
    u = cmd.upper()
    if u.startswith("EHLO"): say("250-sink"); say("250 8BITMIME")
    elif u.startswith("MAIL FROM:") or u.startswith("RCPT TO:"):
        env.append(cmd); say("250 ok")
    elif u == "DATA":
        say("354 go")
        data = b""
        while True:
            l = f.readline()
            if l == b".\r\n": break
            if l.startswith(b".."): l = l[1:]
            data += l
        open(out, "wb").write(data)
        open(out + ".env", "w").write("\n".join(env) + "\n")
        say("250 queued")
    elif u == "QUIT": say("221 bye"); break
    else: say("250 ok")
c.close()
EOF
python3 "$T/sink.py" "$T/smtp.msg" &
SMTP_PID=$!
i=0
while [ ! -s "$T/smtp.msg.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(cat "$T/smtp.msg.port")
cat >"$T/smtp.conf" <<EOF
quarantine = {
  dir = "$STORE";
  release_smtp = "127.0.0.1:$PORT";
  helo = "review.test";
};
EOF
check_rc "release via SMTP" 0 "$Q" -c "$T/smtp.conf" release "$ID1" --force --to soc@corp.example
wait "$SMTP_PID"
SMTP_PID=
has "SMTP envelope sender" "$T/smtp.msg.env" "MAIL FROM:<billing@bad.example>"
has "SMTP recipient" "$T/smtp.msg.env" "RCPT TO:<soc@corp.example>"
has "SMTP released header" "$T/smtp.msg" "X-Emofilter-Released: "
tr -d '\r' <"$T/smtp.msg" | tail -n +2 | cmp -s - "$T/m1.clean" && \
    ok "SMTP message is the original (dot-stuffing undone)" || bad "SMTP message differs"

# ---- export ---------------------------------------------------------------------
check_rc "export" 0 "$Q" -c "$T/emofilter.conf" export "$ID1" -o "$T/sample.zip"
[ "$(stat -c %a "$T/sample.zip")" = 600 ] && ok "export is mode 0600" || bad "export mode $(stat -c %a "$T/sample.zip")"
7z l -slt "$T/sample.zip" >"$T/7zl" 2>&1
n_aes=$(grep -c '^Method = AES-256' "$T/7zl")
n_files=$(grep -c '^Path = ' "$T/7zl")
[ "$n_aes" -eq 3 ] && [ "$n_files" -eq 4 ] && ok "3 members, all AES-256" \
    || bad "7z listing: $n_aes AES-256 members of $((n_files - 1))"
mkdir "$T/x" "$T/y"
(cd "$T/y" && 7z x -y -pwrong "$T/sample.zip" >/dev/null 2>&1) && bad "wrong password opened the export" \
    || ok "wrong password refused"
(cd "$T/x" && 7z x -y -pinfected "$T/sample.zip" >/dev/null 2>&1) && ok "opened with password infected" \
    || bad "7z could not open the export"
cmp -s "$T/x/$ID1.eml" "$T/m1.eml" && ok "exported message is the original" || bad "exported message differs"
cmp -s "$T/x/attachments/1-invoice.zip" "$T/attach.zip" && ok "exported attachment is the original" \
    || bad "exported attachment differs"
has "manifest ties the attachment to the report" "$T/x/MANIFEST.txt" "attachments/1-invoice.zip  (invoice.zip; "
check_rc "export refuses to overwrite" 3 "$Q" -c "$T/emofilter.conf" export "$ID1" -o "$T/sample.zip"

# ---- IOC -------------------------------------------------------------------------
check_rc "ioc --csv leaves the released entry out" 0 "$Q" -c "$T/emofilter.conf" ioc --csv "$IDF" "$ID1"
has "ioc says the released entry is left out" "$T/err" "$ID1: released"
hasnt "ioc: no indicator of the released entry" "$T/out" "\"$ID1\""
check_rc "ioc --csv --include-released" 0 "$Q" -c "$T/emofilter.conf" ioc --csv --include-released "$IDF" "$ID1"
cp "$T/out" "$T/ioc.csv"
SHA=$(sha256sum "$T/attach.zip" | cut -d' ' -f1)
for want in \
    "\"$IDF\",\"sha256\",\"Payload delivery\",\"$(printf 'a%.0s' $(seq 64))\",1," \
    "\"$IDF\",\"sha256\",\"Payload delivery\",\"$(printf 'b%.0s' $(seq 64))\",1," \
    "\"$IDF\",\"filename\",\"Payload delivery\",\"seikyu.doc\",0," \
    "\"$IDF\",\"url\",\"Network activity\",\"http://dl.bad.example/a.dll\",1,\"URL in macro ThisDocument of 2/seikyu.zip/seikyu.doc\"" \
    "\"$IDF\",\"url\",\"Network activity\",\"https://x.bad.example/p\",1," \
    "\"$IDF\",\"url\",\"Network activity\",\"http://tmpl.bad.example/t.dotm\",1,\"external link in" \
    "\"$IDF\",\"text\",\"Other\",\"Kx8#2pQ\",0,\"archive password opening 2/seikyu.zip/seikyu.doc (found in body 1/)\"" \
    "\"$IDF\",\"email-src\",\"Payload delivery\",\"keiri@torihiki.example\",0,\"header From address\"" \
    "\"$IDF\",\"email-src\",\"Payload delivery\",\"kyomu@torihiki.example\",0,\"envelope sender (MAIL FROM)\"" \
    "\"$IDF\",\"domain\",\"Payload delivery\",\"torihiki.example\",0," \
    "\"$IDF\",\"hostname\",\"Network activity\",\"WIN-4G7H2K\",0,\"SMTP HELO/EHLO name\"" \
    "\"$IDF\",\"email-src-display-name\",\"Payload delivery\",\"Keiri\",0," \
    "\"$ID1\",\"sha256\",\"Payload delivery\",\"$SHA\",1," \
    "\"$ID1\",\"filename\",\"Payload delivery\",\"invoice.zip\",0," \
    "\"$ID1\",\"email-subject\",\"Payload delivery\",\"請求書 invoice\",0,"; do
	has "ioc csv: $want" "$T/ioc.csv" "$want"
done
n=$(grep -c "\"Kx8#2pQ\"" "$T/ioc.csv")
[ "$n" -eq 1 ] && ok "ioc deduplicates" || bad "password listed $n times"
check_rc "ioc --json" 0 "$Q" -c "$T/emofilter.conf" ioc --json "$IDF"
python3 - "$T/out" <<'EOF' && ok "ioc --json is MISP attributes" || bad "ioc --json"
import json, sys
a = json.load(open(sys.argv[1]))["Attribute"]
urls = sorted(x["value"] for x in a if x["type"] == "url")
assert urls == ["http://dl.bad.example/a.dll", "http://tmpl.bad.example/t.dotm",
                "https://x.bad.example/p"], urls
assert all(set(x) == {"type", "category", "value", "to_ids", "comment", "entry_id"} for x in a)
assert {"type": "sha256", "value": "b" * 64} .items() <= [x for x in a if x["value"] == "b" * 64][0].items()
EOF
check_rc "ioc --urlhaus" 0 "$Q" -c "$T/emofilter.conf" ioc --urlhaus --until 2021-01-01
python3 - "$T/out" <<'EOF' && ok "ioc --urlhaus submission" || bad "ioc --urlhaus"
import json, sys
s = json.load(open(sys.argv[1]))["submission"]
assert len(s) == 3 and all(x["threat"] == "malware_download" for x in s), s
EOF
check_rc "ioc unknown ID" 1 "$Q" -c "$T/emofilter.conf" ioc 20990101T000000Z-00000000
check_rc "ioc with neither IDs nor filters" 2 "$Q" -c "$T/emofilter.conf" ioc --csv

# MD5 and SHA-1 of the attachment and of the zip member, from the message.
printf 'pay me\n%.0s' $(seq 20) >"$T/invoice.txt"
for want in \
    "\"$ID1\",\"md5\",\"Payload delivery\",\"$(md5sum "$T/attach.zip" | cut -d' ' -f1)\",1," \
    "\"$ID1\",\"sha1\",\"Payload delivery\",\"$(sha1sum "$T/attach.zip" | cut -d' ' -f1)\",1," \
    "\"$ID1\",\"md5\",\"Payload delivery\",\"$(md5sum "$T/invoice.txt" | cut -d' ' -f1)\",1,\"member" \
    "\"$ID1\",\"sha1\",\"Payload delivery\",\"$(sha1sum "$T/invoice.txt" | cut -d' ' -f1)\",1,\"member"; do
	has "ioc csv: $want" "$T/ioc.csv" "$want"
done
hasnt "ioc: documentation address 192.0.2.7 left out" "$T/ioc.csv" "192.0.2.7"
hasnt "ioc: documentation address 198.51.100.23 left out" "$T/ioc.csv" "198.51.100.23"

# An entry full of local and own addresses, and two that are not.
IDL=20261121T080000Z-0000cccc
mkdir -p "$STORE/20261121"
python3 - "$STORE" "$IDL" <<'EOS'
import json, sys
store, idl = sys.argv[1:3]
urls = ["http://127.0.0.1/x", "http://localhost:8080/y", "http://10.0.0.5/a",
        "http://172.20.1.1/b", "http://192.168.1.1/c", "http://192.0.2.10/d",
        "http://198.51.100.7/e", "http://203.0.113.9/f", "https://www.example.com/g",
        "http://example.net/h", "http://sub.example.org/i", "http://[::1]/j",
        "http://[2001:db8::5]/k", "http://user@intranet.corp.example/l",
        "http://45.77.1.2/dl.dll", "https://payload.bad.example/p"]
rep = {"id": idl, "time": "2026-11-21T08:00:00Z",
       "envelope": {"client_ip": "10.1.2.3", "helo": "localhost", "from": "it@corp.example",
                    "rcpts": ["x@corp.example"]},
       "headers": {"from": "IT <it@corp.example>", "subject": "local", "reply_to": "a@example.com"},
       "score": 12, "action": "quarantine", "symbols": [],
       "objects": [{"path": "1/a.doc", "name": "a.doc", "type": "ole2", "size": 1,
                    "sha256": "e" * 64, "urls": urls, "children": []}],
       "passwords": []}
open(f"{store}/20261121/{idl}.json", "w").write(json.dumps(rep))
open(f"{store}/20261121/{idl}.eml", "w").write("From: it@corp.example\n\nx\n")
EOS
chmod 700 "$STORE/20261121"; chmod 600 "$STORE/20261121/"*
check_rc "ioc over local addresses" 0 "$Q" -c "$T/emofilter.conf" ioc --csv --own-domain corp.example "$IDL"
python3 - "$T/out" <<'EOS' && ok "ioc drops loopback, private, documentation, example and own addresses" || bad "ioc local filter"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
vals = {r["value"] for r in rows}
urls = sorted(r["value"] for r in rows if r["type"] == "url")
assert urls == ["http://45.77.1.2/dl.dll", "https://payload.bad.example/p"], urls
for v in ("10.1.2.3", "localhost", "it@corp.example", "corp.example", "a@example.com"):
    assert v not in vals, (v, vals)
assert "e" * 64 in vals
EOS
check_rc "ioc without --own-domain keeps our domain" 0 "$Q" -c "$T/emofilter.conf" ioc --csv "$IDL"
has "own domain kept without --own-domain" "$T/out" "http://user@intranet.corp.example/l"

check_rc "ioc --format stix" 0 "$Q" -c "$T/emofilter.conf" ioc --format stix --include-released "$IDF" "$ID1"
python3 - "$T/out" "$(sha256sum "$T/attach.zip" | cut -d' ' -f1)" <<'EOS' && ok "ioc stix: a STIX 2.1 bundle with its required fields" || bad "ioc stix"
import json, re, sys
b = json.load(open(sys.argv[1]))
uuid = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
ts = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"
assert b["type"] == "bundle" and re.match("bundle--" + uuid, b["id"]), b.get("id")
assert "spec_version" not in b
ids = set()
kinds = {}
for o in b["objects"]:
    for k in ("type", "spec_version", "id", "created", "modified"):
        assert k in o, (k, o)
    assert o["spec_version"] == "2.1"
    assert re.match(o["type"] + "--" + uuid, o["id"]), o["id"]
    assert re.match(ts, o["created"]) and re.match(ts, o["modified"])
    assert o["id"] not in ids
    ids.add(o["id"])
    kinds[o["type"]] = kinds.get(o["type"], 0) + 1
    if o["type"] == "indicator":
        assert o["pattern_type"] == "stix" and re.match(ts, o["valid_from"])
        assert re.match(r"^\[[a-z0-9-]+:[a-z0-9_.'A-Z-]+ = '([^'\\]|\\.)*'\]$", o["pattern"]), o["pattern"]
        assert o["created_by_ref"] in ids
    if o["type"] == "identity":
        assert o["name"]
pats = [o["pattern"] for o in b["objects"] if o["type"] == "indicator"]
assert "[file:hashes.'SHA-256' = '%s']" % sys.argv[2] in pats, pats
assert "[url:value = 'http://dl.bad.example/a.dll']" in pats
assert any(p.startswith("[file:hashes.MD5 = ") for p in pats)
assert any(p.startswith("[file:hashes.'SHA-1' = ") for p in pats)
assert "[email-addr:value = 'billing@bad.example']" in pats
assert len(pats) == len(set(pats))
assert kinds.get("identity") == 1 and kinds["indicator"] > 10, kinds
EOS
check_rc "ioc --format misp" 0 "$Q" -c "$T/emofilter.conf" ioc --format misp --include-released "$IDF" "$ID1"
python3 - "$T/out" <<'EOS' && ok "ioc misp: a MISP event with its required fields" || bad "ioc misp"
import json, re, sys
e = json.load(open(sys.argv[1]))["Event"]
uuid = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
assert e["info"] and re.match(r"\d{4}-\d\d-\d\d$", e["date"]) and re.match(uuid, e["uuid"])
assert e["threat_level_id"] in ("1", "2", "3", "4") and e["analysis"] in ("0", "1", "2")
assert e["distribution"] in ("0", "1", "2", "3", "4", "5") and e["published"] is False
cats = {"md5": "Payload delivery", "sha1": "Payload delivery", "sha256": "Payload delivery",
        "filename": "Payload delivery", "url": "Network activity", "email-src": "Payload delivery",
        "email-src-display-name": "Payload delivery", "domain": "Payload delivery",
        "ip-src": "Network activity", "hostname": "Network activity", "email-subject": "Payload delivery",
        "email-message-id": "Payload delivery", "email-reply-to": "Payload delivery", "text": "Other"}
seen = set()
for a in e["Attribute"]:
    for k in ("type", "category", "value", "to_ids", "uuid"):
        assert k in a, (k, a)
    assert a["type"] in cats and a["category"] == cats[a["type"]], a
    assert isinstance(a["to_ids"], bool) and re.match(uuid, a["uuid"]) and a["value"]
    assert (a["type"], a["value"]) not in seen
    seen.add((a["type"], a["value"]))
types = {a["type"] for a in e["Attribute"]}
assert {"md5", "sha1", "sha256", "filename", "url", "email-src"} <= types, types
EOS
check_rc "ioc unknown format" 2 "$Q" -c "$T/emofilter.conf" ioc --format yaml "$IDF"

# ---- bulk actions over a query ----------------------------------------------
check_rc "bulk delete dry run" 0 "$Q" -c "$T/emofilter.conf" delete --id "$IDL" --dry-run
has "dry run names it" "$T/out" "would delete $IDL"
[ -e "$STORE/20261121/$IDL.json" ] && ok "dry run deleted nothing" || bad "dry run deleted"
check_rc "bulk delete" 0 "$Q" -c "$T/emofilter.conf" delete --id 20261121T
has "bulk delete says how many" "$T/out" "deleted 1 entry"
[ ! -e "$STORE/20261121/$IDL.json" ] && ok "bulk delete removed it" || bad "bulk delete left it"
check_rc "bulk release dry run" 0 "$Q" -c "$T/emofilter.conf" release --sender friend@good --dry-run
has "bulk release dry run names the pending entry" "$T/out" "would release $ID2"
check_rc "bulk release skips released entries" 0 "$Q" -c "$T/emofilter.conf" release --since 2026-01-01 --dry-run
hasnt "released entry not released again" "$T/out" "$ID1"
rm -f "$T/sendmail.args"
check_rc "bulk release" 0 "$Q" -c "$T/emofilter.conf" release --sender friend@good
has "bulk release delivered" "$T/sendmail.args" "-- boss@corp.example"
has "bulk release says how many" "$T/out" "released 1 entry"
check_rc "release: IDs and filters not both" 2 "$Q" -c "$T/emofilter.conf" release "$ID2" --pending
check_rc "delete: --dry-run needs filters" 2 "$Q" -c "$T/emofilter.conf" delete "$ID2" --dry-run

# ---- purge, delete, audit ----------------------------------------------------------
check_rc "purge --dry-run" 0 "$Q" -c "$T/emofilter.conf" purge --older-than 30d --dry-run
has "dry run names the old entry" "$T/out" "would purge $IDF"
check_rc "purge --older-than 30d" 0 "$Q" -c "$T/emofilter.conf" purge --older-than 30d
has "purged one" "$T/out" "purged 1 entry"
[ ! -e "$STORE/20200101/$IDF.json" ] && [ ! -e "$STORE/20200101/$IDF.eml" ] && \
    ok "old entry gone" || bad "old entry still there"
[ -e "$STORE/${ID1%%T*}/$ID1.json" ] && ok "new entries kept" || bad "purge removed a new entry"
check_rc "delete" 0 "$Q" -c "$T/emofilter.conf" delete "$ID2"
check_rc "deleted entry is gone" 1 "$Q" -c "$T/emofilter.conf" show "$ID2"
A="$STORE/audit.log"
[ "$(stat -c %a "$A")" = 640 ] && ok "audit log is 0640" || bad "audit log mode $(stat -c %a "$A")"
python3 - "$A" "$ID1" "$ID2" "$IDF" "$IDC" <<'EOF' && ok "audit log records every action" || bad "audit log"
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
id1, id2, idf, idc = sys.argv[2:6]
def has(action, id, result):
    return any(e["action"] == action and e["id"] == id and e["result"].startswith(result)
               and e["by"] and e["time"] for e in log)
assert has("delete", idc, "ok")
assert has("release", id1, "ok")
assert has("release", id1, "refused")
assert has("release", id1, "ok (forced)")
assert has("release", id2, "failed")
assert has("export", id1, "ok")
assert has("ioc", idf, "ok")
assert has("purge", idf, "ok")
assert has("delete", id2, "ok")
r = [e for e in log if e["action"] == "release" and e["result"] == "ok"][0]
assert r["to"] == ["victim@corp.example"] and r["via"].endswith("/sendmail"), r
EOF

# ---- an audit log that cannot be written fails the action, before it is done
mv "$A" "$A.keep"
ln -s /dev/null "$A"
rm -f "$T/sendmail.args"
check_rc "release, audit log unwritable: refused" 3 "$Q" -c "$T/emofilter.conf" release "$ID1" --force
has "says the audit log" "$T/err" "audit log"
[ ! -e "$T/sendmail.args" ] && ok "audit log unwritable: nothing sent" || bad "sent without an audit line"
IDA=$("$SCAN" --quarantine "$STORE" --json "$T/m1.eml" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
check_rc "delete, audit log unwritable: refused" 3 "$Q" -c "$T/emofilter.conf" delete "$IDA"
[ -e "$STORE/${IDA%%T*}/$IDA.json" ] && ok "audit log unwritable: entry kept" || bad "deleted without an audit line"
rm -f "$A"
mv "$A.keep" "$A"
check_rc "delete once the audit log is back" 0 "$Q" -c "$T/emofilter.conf" delete "$IDA"

# ---- one permission model: daemon user, root and the CSIRT group --------------
# The store as the Debian package makes it: owner the daemon user (here
# nobody), group the CSIRT group (here gid 4343, no name needed), 2750. The
# daemon writes (as nobody, umask 077 as the milter had), root writes (the
# tool under sudo); each reads the other's entries, and so does an analyst
# in the group (uid 4242), who may only read.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 && id nobody >/dev/null 2>&1; then
	P="$T/perm"
	NB=$(id -u nobody)
	mkdir "$P"
	chown "$NB:4343" "$P"
	chmod 2750 "$P"
	chmod 711 "$T"
	chmod 644 "$T/m1.eml" "$T/emofilter.conf"
	as_daemon() { setpriv --reuid="$NB" --regid="$NB" --clear-groups sh -c 'umask 077; exec "$@"' sh "$@"; }
	as_analyst() { setpriv --reuid=4242 --regid=4242 --groups=4343 "$@"; }
	IDD=$(as_daemon "$SCAN" --quarantine "$P" --json "$T/m1.eml" 2>"$T/err" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	IDR=$("$SCAN" --quarantine "$P" --json "$T/m1.eml" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	DD="$P/${IDD%%T*}"
	[ "$(stat -c '%a %g' "$DD")" = "2750 4343" ] && ok "daemon's day directory 2750, group CSIRT" ||
	    bad "daemon's day directory: $(stat -c '%a %U %g' "$DD")"
	[ "$(stat -c '%a %U %g' "$DD/$IDD.json")" = "640 nobody 4343" ] &&
	    ok "daemon's entry 0640, group CSIRT" || bad "daemon's entry: $(stat -c '%a %U %g' "$DD/$IDD.json")"
	[ "$(stat -c '%a %U %g' "$P/${IDR%%T*}/$IDR.json")" = "640 nobody 4343" ] &&
	    ok "root's entry handed to the store owner and group" ||
	    bad "root's entry: $(stat -c '%a %U %g' "$P/${IDR%%T*}/$IDR.json")"
	check_rc "the daemon user reads root's entry" 0 as_daemon "$Q" -c "$T/emofilter.conf" -d "$P" show "$IDR"
	check_rc "root reads the daemon's entry" 0 "$Q" -c "$T/emofilter.conf" -d "$P" show "$IDD"
	check_rc "the analyst lists both" 0 as_analyst "$Q" -c "$T/emofilter.conf" -d "$P" list
	has "analyst sees the daemon's entry" "$T/out" "$IDD"
	has "analyst sees root's entry" "$T/out" "$IDR"
	check_rc "the analyst reads the daemon's entry" 0 as_analyst "$Q" -c "$T/emofilter.conf" -d "$P" show "$IDD"
	check_rc "the analyst may not release" 3 as_analyst "$Q" -c "$T/emofilter.conf" -d "$P" release "$IDD"
	has "says to run as the owner or root" "$T/err" "as the store owner or root"
	check_rc "root releases the daemon's entry" 0 "$Q" -c "$T/emofilter.conf" -d "$P" release "$IDD" --to victim@corp.example
	[ "$(stat -c '%a %U %g' "$DD/$IDD.released")" = "640 nobody 4343" ] &&
	    [ "$(stat -c '%a %U %g' "$P/audit.log")" = "640 nobody 4343" ] &&
	    ok "root's release record and audit log belong to the store" ||
	    bad "release record / audit log: $(stat -c '%a %U %g' "$DD/$IDD.released" "$P/audit.log")"
	check_rc "the daemon user sees root's release: a second one refused" 1 as_daemon "$Q" -c "$T/emofilter.conf" -d "$P" release "$IDD"
	has "says already released" "$T/err" "already released"
	check_rc "the daemon user deletes root's entry" 0 as_daemon "$Q" -c "$T/emofilter.conf" -d "$P" delete "$IDR"
	chmod 660 "$DD/$IDD.json"
	check_rc "a group-writable entry file is refused" 3 "$Q" -c "$T/emofilter.conf" -d "$P" show "$IDD"
	has "says group-writable" "$T/err" "group-writable or open to others"
	chmod 644 "$DD/$IDD.json"
	check_rc "a world-readable entry file is refused" 3 as_daemon "$Q" -c "$T/emofilter.conf" -d "$P" show "$IDD"
	chmod 640 "$DD/$IDD.json"
	chmod 700 "$T"
else
	echo "# permission model: skipped (needs root and setpriv)"
fi

# ---- listing while entries are being written --------------------------------------------
(
	i=0
	while [ $i -lt 40 ]; do
		"$SCAN" --quarantine "$STORE" "$T/m1.eml" >/dev/null 2>&1
		i=$((i + 1))
	done
) &
WRITER_PID=$!
errs=0
rounds=0
while kill -0 "$WRITER_PID" 2>/dev/null; do
	"$Q" -c "$T/emofilter.conf" list >/dev/null 2>"$T/err" || errs=$((errs + 1))
	rounds=$((rounds + 1))
done
wait "$WRITER_PID"
WRITER_PID=
n=$(ls "$STORE"/2*/ | grep -c '\.json$')
[ "$errs" -eq 0 ] && ok "$rounds lists during 40 writes saw no half entry" \
    || bad "$errs of $rounds lists failed: $(cat "$T/err")"
[ "$n" -eq 41 ] && ok "all 40 concurrent entries present" || bad "$n entries, want 41"
[ "$(ls "$STORE/tmp" | wc -l)" -eq 0 ] && ok "no temporary files left" || bad "tmp not empty"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
