#!/bin/sh
# safety.sh - security properties of the offline tools as tests (issue 18):
#  - every JSON the project writes (emofilter-scan --json, the stored
#    report, emofilter-quarantine list --json / ioc --json, the audit log
#    and the release record) is strict JSON for hostile names: a Subject
#    with 0x1f, zip member names with C0 controls, DEL, ESC, U+2028 and a
#    right-to-left override, libzip's own CP437 test zips; parsed with
#    Python's strict json and scanned byte by byte;
#  - the text output of emofilter-scan shows no raw control or bidi
#    character, neither from the message nor from the file name;
#  - a release over SMTP never passes a bare CR or LF (SMTP smuggling:
#    a stored "x<CR>.<CR><LF>" must not reach DATA as it is).
set -u

top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
SCAN="$top_builddir/src/cli/emofilter-scan"
Q="$top_builddir/src/cli/emofilter-quarantine"
LIBZIP="${EMF_CORPUS:-$top_srcdir/../shared/corpus}/libzip-regress/data"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/emf-safety-XXXXXX")
SINK_PID=
cleanup() {
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }

# strict NAME FILE [lines]: FILE is one JSON document (or one per line)
# that a strict parser takes, with no raw control, DEL, U+2028/2029 or
# invalid UTF-8 byte anywhere; messages on failure go to $T/why.
cat >"$T/strict.py" <<'EOF'
import json, sys
path, mode = sys.argv[1], sys.argv[2]
raw = open(path, "rb").read()
text = raw.decode("utf-8")            # strict: invalid UTF-8 fails here
docs = [l for l in text.split("\n") if l] if mode == "lines" else [text]
if not docs:
    sys.exit("no JSON in " + path)
for d in docs:
    json.loads(d)                     # strict=True: no raw control chars
for i, c in enumerate(text):
    o = ord(c)
    if (o < 0x20 and c != "\n" and not (mode == "pretty" and c == " ")) \
            or o == 0x7f or o in (0x2028, 0x2029):
        sys.exit("raw U+%04X at %d of %s" % (o, i, path))
EOF
strict() {
	if python3 "$T/strict.py" "$2" "${3:-doc}" 2>"$T/why"; then ok "$1"
	else bad "$1: $(tail -n 1 "$T/why")"; fi
}

# ---- hostile messages -----------------------------------------------------
python3 - "$T" <<'EOF'
import base64, io, sys, zipfile
t = sys.argv[1]
hostile = ["ctl\x1fname.doc", "esc\x1b[31mred.exe", "del\x7f.txt",
           "ls\u2028ps\u2029.js", "invoice\u202efdp.exe", "nul\x01\x02.bin",
           "tab\tcr\rlf\n.txt"]
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    for n in hostile:
        z.writestr(n, "x" * 10)
zb = base64.encodebytes(buf.getvalue()).decode()
def ew(s):
    return "=?UTF-8?B?" + base64.b64encode(s.encode()).decode() + "?="
open(t + "/subj.eml", "wb").write(
    b"From: a@example.com\r\nTo: b@example.com\r\n"
    b"Subject: a\x1fb\r\n\r\nhello\r\n")
open(t + "/names.eml", "w", newline="").write(
    "From: \"x\x1fy\" <a@example.com>\nTo: b@example.com\n"
    "Subject: " + ew("s\x1f\u2028\u202e\x7f\x1b[2J") + "\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
    "--b\nContent-Type: text/plain\n\nsee attached\n\n"
    "--b\nContent-Type: application/zip\n"
    "Content-Disposition: attachment; filename=\""
    + ew("doc\u202egpj.zip") + "\"\n"
    "Content-Transfer-Encoding: base64\n\n" + zb + "--b--\n")
EOF

for m in subj names; do
	"$SCAN" --json "$T/$m.eml" >"$T/$m.json" 2>"$T/err"
	strict "scan --json strict: $m" "$T/$m.json"
done
python3 - "$T/subj.json" 2>/dev/null <<'EOF' && ok "Subject a<0x1f>b comes back intact" || bad "Subject round trip"
import json, sys
assert json.load(open(sys.argv[1]))["headers"]["subject"] == "a\x1fb"
EOF
python3 - "$T/names.json" 2>/dev/null <<'EOF' && ok "hostile member names come back intact" || bad "member names round trip"
import json, sys
r = json.load(open(sys.argv[1]))
names = []
def walk(o):
    names.append(o["name"])
    for c in o["children"]:
        walk(c)
for o in r["objects"]:
    walk(o)
for want in ["ctl\x1fname.doc", "invoice\u202efdp.exe", "ls\u2028ps\u2029.js",
             "del\x7f.txt", "doc\u202egpj.zip"]:
    assert want in names, (want, names)
EOF

for z in test-cp437.zip test-cp437-comment-utf-8.zip; do
	if [ -f "$LIBZIP/$z" ]; then
		"$SCAN" --raw --json "$LIBZIP/$z" >"$T/$z.json" 2>"$T/err"
		strict "scan --raw --json strict: libzip $z" "$T/$z.json"
	else
		echo "# $LIBZIP/$z missing: skipped"
	fi
done

# ---- the store and emofilter-quarantine's JSON ------------------------------
STORE="$T/store"
cat >"$T/sendmail" <<EOF
#!/bin/sh
cat > "$T/sendmail.msg"
EOF
chmod 755 "$T/sendmail"
cat >"$T/q.conf" <<EOF
quarantine = {
  dir = "$STORE";
  sendmail = "$T/sendmail";
  release_smtp = "";
};
EOF
"$SCAN" --quarantine "$STORE" --json "$T/names.eml" >"$T/q1.json" 2>"$T/err"
ID=$(sed -n 's/.*quarantined as //p' "$T/err")
strict "stored report strict" "$STORE/${ID%%T*}/$ID.json"
"$Q" -c "$T/q.conf" list --json >"$T/list.json" 2>"$T/err"
strict "quarantine list --json strict" "$T/list.json"
"$Q" -c "$T/q.conf" ioc "$ID" --json >"$T/ioc.json" 2>"$T/err"
strict "quarantine ioc --json strict" "$T/ioc.json" pretty
# A recipient with U+2028 is a valid address for the tool: it must be
# escaped in the audit log and the release record.
LS=$(printf 'soc\342\200\250x@example.com')
"$Q" -c "$T/q.conf" release "$ID" --to "$LS" >"$T/out" 2>"$T/err"
strict "audit log strict (release to a U+2028 address)" "$STORE/audit.log" lines
rec=$(find "$STORE" -name "$ID.released" | head -n 1)
if [ -n "$rec" ]; then strict "release record strict" "$rec" lines
else bad "no release record for $ID: $(ls "$STORE/${ID%%T*}")"; fi

# ---- text output ------------------------------------------------------------
RTL=$(printf '\342\200\256')
cp "$T/names.eml" "$T/x${RTL}lme.eml"
for mode in text summary; do
	opt=
	[ $mode = summary ] && opt=--summary
	"$SCAN" $opt "$T/x${RTL}lme.eml" >"$T/$mode.out" 2>&1
	if grep -q "$RTL" "$T/$mode.out"; then
		bad "scan $mode output holds a raw U+202E"
	else ok "scan $mode output: no raw U+202E"; fi
	if LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$T/$mode.out"; then
		bad "scan $mode output holds a raw control character"
	else ok "scan $mode output: no raw control character"; fi
	if grep -qF 'x\u202elme.eml' "$T/$mode.out"; then
		ok "scan $mode output shows the file name's override escaped"
	else bad "scan $mode: file name not shown escaped"; fi
done
grep -qF 'invoice\u202efdp.exe' "$T/text.out" && \
    ok "scan text shows a member's override escaped" || bad "member name not escaped"
grep -qF 'esc\x1b[31mred.exe' "$T/text.out" && \
    ok "scan text shows ESC as \\x1b" || bad "ESC not shown escaped"

# ---- release over SMTP: no bare CR or LF --------------------------------------
cat >"$T/sink.py" <<'EOF'
# One-message SMTP sink: keeps the DATA bytes exactly as received.
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
while True:
    line = f.readline()
    if not line:
        break
    u = line.decode("latin-1").rstrip("\r\n").upper()
    if u == "DATA":
        say("354 go")
        data = b""
        while not data.endswith(b"\r\n.\r\n"):
            b = f.read(1)
            if not b:
                break
            data += b
        open(out, "wb").write(data)
        say("250 queued")
    elif u == "QUIT":
        say("221 bye")
        break
    else:
        say("250 ok")
c.close()
EOF
printf 'From: a@example.com\nTo: b@example.com\nSubject: smuggle\n\nx\r.\r\nMAIL FROM:<evil@example.com>\r\nlone\rcr\n.dot\n' >"$T/smuggle.eml"
"$SCAN" --quarantine "$STORE" --json "$T/smuggle.eml" >"$T/s.json" 2>"$T/err"
SID=$(sed -n 's/.*quarantined as //p' "$T/err")
python3 "$T/sink.py" "$T/data" &
SINK_PID=$!
i=0
while [ ! -s "$T/data.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
cat >"$T/smtp.conf" <<EOF
quarantine = {
  dir = "$STORE";
  release_smtp = "127.0.0.1:$(cat "$T/data.port")";
  helo = "review.test";
};
EOF
"$Q" -c "$T/smtp.conf" release "$SID" --to soc@example.com >"$T/out" 2>"$T/err"
rc=$?
wait "$SINK_PID"
SINK_PID=
[ $rc -eq 0 ] && ok "release over SMTP" || bad "release over SMTP: exit $rc: $(cat "$T/err")"
python3 - "$T/data" <<'EOF' && ok "DATA has CRLF only, dots stuffed, ends once" || bad "DATA line ends"
import sys
d = open(sys.argv[1], "rb").read()
body = d[:-5]                                      # before CRLF . CRLF
assert d.endswith(b"\r\n.\r\n"), d[-20:]
assert b"\r\n.\r\n" not in body, "DATA ends early"
assert b"\n" not in body.replace(b"\r\n", b""), "bare LF"
assert b"\r" not in body.replace(b"\r\n", b""), "bare CR"
assert b"\r\nx\r\n..\r\nMAIL FROM:<evil@example.com>\r\n" in d, d
assert b"\r\nlone\r\ncr\r\n..dot\r\n" in d, d
EOF

echo "# safety: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
