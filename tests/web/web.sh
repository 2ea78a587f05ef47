#!/bin/sh
# web.sh - emofilter-web end to end: a store written by emofilter-scan
# --quarantine over the bundled samples and a hostile mail (HTML, an ANSI
# escape and an RTL override in its subject, HTML in its file name), two
# users, the server on a free loopback port, then tests/web/browser.py:
# the HTTP security checks, and headless Chromium through login, list,
# filter, entry, release, bulk dry run and statistics, with screenshots in
# tests/work/web/. Exit 77 (skip) when chromium is not installed.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
SCAN=$top_builddir/src/cli/emofilter-scan
Q=$top_builddir/src/cli/emofilter-quarantine
WEB=$top_builddir/src/web/emofilter-web
SHOTS=$top_builddir/tests/work/web
for tool in python3 zip 7z; do
	command -v $tool >/dev/null 2>&1 || { echo "SKIP: no $tool"; exit 77; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/emf-web-XXXXXX")
WEB_PID=
cleanup() {
	[ -n "$WEB_PID" ] && kill "$WEB_PID" 2>/dev/null && wait "$WEB_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
STORE=$T/store

cat >"$T/sendmail" <<EOS
#!/bin/sh
printf '%s\n' "\$*" > "$T/sendmail.args"
cat > "$T/sendmail.msg"
EOS
chmod 755 "$T/sendmail"
cat >"$T/web.conf" <<EOS
quarantine = {
  dir = "$STORE";
  sendmail = "$T/sendmail";
  release_smtp = "";
};
EOS

# ---- the store --------------------------------------------------------------
python3 "$top_srcdir/contrib/make-samples.py" "$T/samples" >/dev/null || exit 1
python3 - "$T/samples/hostile.eml" <<'EOS'
import sys, base64, io, zipfile
subj = "<script>alert(1)</script> \x1b[31mRED\x1b[0m \u202egnp.exe"
enc = "=?UTF-8?B?" + base64.b64encode(subj.encode()).decode() + "?="
fname = "<img src=x onerror=alert(1)>.zip"
fenc = "=?UTF-8?B?" + base64.b64encode(fname.encode()).decode() + "?="
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("a.txt", "hello\n")
b64 = base64.encodebytes(buf.getvalue()).decode()
open(sys.argv[1], "w", newline="").write(
    "From: \"<b>Boss</b>\" <boss@bad.example>\nTo: victim@corp.example\n"
    "Subject: " + enc + "\nMessage-ID: <hostile@bad.example>\nMIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\n"
    "see attached\n--b\nContent-Type: application/zip; name=\"" + fenc + "\"\n"
    "Content-Disposition: attachment; filename=\"" + fenc + "\"\n"
    "Content-Transfer-Encoding: base64\n\n" + b64 + "--b--\n")
EOS
for f in "$T"/samples/*.eml; do
	b=$(basename "$f" .eml)
	"$SCAN" -c "$top_srcdir/tests/emofilter-test.conf" --quarantine "$STORE" --json \
	    --sender "sender@$b.example" --rcpt victim@corp.example "$f" \
	    >"$T/$b.json" 2>/dev/null
	[ -s "$T/$b.json" ] || { echo "scan of $f failed"; exit 1; }
done
"$Q" -c "$T/web.conf" list --json >"$T/list.json" || { echo "list failed"; exit 1; }

python3 - "$T" "$STORE" <<'EOS' || exit 1
import json, sys, os
t, store = sys.argv[1:3]
idof = lambda n: json.load(open(f"{t}/{n}.json"))["id"]
lst = json.load(open(f"{t}/list.json"))
syms = {}
for e in lst:
    for s in e["symbols"]:
        syms[s] = syms.get(s, 0) + 1
# A symbol some entries have and others not.
sym = sorted((s for s, n in syms.items() if 1 < n < len(lst)), key=lambda s: -syms[s])[0]
rich = idof("emotet-password-zip")
rep = json.load(open(f"{store}/{rich[:8]}/{rich}.json"))
expect = [s["name"] for s in rep["symbols"]][:3] + [rep["objects"][-1]["path"]]
expect += [p["password"] for p in rep["passwords"] if p["used"]]
expect += ["Macro source", "Private Sub Workbook_Open()", "Passwords found"]
pending = idof("emotet-velvet-lure")
d = f"{store}/{pending[:8]}/{pending}"
json.dump({"total": len(lst), "symbol": sym, "symbol_count": syms[sym],
           "hostile": idof("hostile"), "rich": rich, "rich_expect": expect,
           "pending": pending, "pending_released_path": d + ".released",
           "pending_json_path": d + ".json", "sendmail_msg": t + "/sendmail.msg"},
          open(f"{t}/expect.json", "w"), indent=1)
EOS

RICH=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rich"])' "$T/expect.json")
"$Q" -c "$T/web.conf" show "$RICH" >"$T/show.txt" || { echo "not ok - show"; exit 1; }
if grep -q '^Macro source' "$T/show.txt" && grep -q -- '--- module ThisWorkbook in 2/' "$T/show.txt" &&
    grep -q '^    Private Sub Workbook_Open()' "$T/show.txt" &&
    grep -q 'password       L51ylaH (from body 1 line 6' "$T/show.txt"; then
	echo "ok - show: macro source from the password zip, and the password with where it was found"
else
	echo "not ok - show: macro source"; sed -n '/Macro source/,+5p' "$T/show.txt"; exit 1
fi
printf 'secret-pass\n' | "$WEB" -u "$T/users" --add-user alice --role releaser >/dev/null || exit 1
printf 'analyst-pass\n' | "$WEB" -u "$T/users" --add-user bob >/dev/null || exit 1
[ "$(stat -c %a "$T/users")" = 600 ] && echo "ok - users file is 0600" || { echo "not ok - users file mode"; exit 1; }
grep -q '^alice:releaser:\$y\$' "$T/users" && echo "ok - yescrypt hash stored" || { echo "not ok - hash"; exit 1; }
grep -q 'secret-pass' "$T/users" && { echo "not ok - password in clear"; exit 1; }
printf 'short\n' | "$WEB" -u "$T/users" --add-user carol >/dev/null 2>&1 && { echo "not ok - short password accepted"; exit 1; }
printf 'long-enough\n' | "$WEB" -u "$T/users" --add-user '../x' >/dev/null 2>&1 && { echo "not ok - bad name accepted"; exit 1; }
echo "ok - short password and bad user name refused"
# A sha512-crypt ("$6$") line, as an admin may copy from elsewhere.
if command -v openssl >/dev/null 2>&1; then
	echo "carol:analyst:$(openssl passwd -6 carol-pass-1)" >>"$T/users"
fi

# ---- the server ---------------------------------------------------------------
: >"$T/web.log"
"$WEB" -c "$T/web.conf" -u "$T/users" --listen 127.0.0.1:0 2>"$T/web.log" &
WEB_PID=$!
i=0
while ! grep -q 'listening on' "$T/web.log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$T/web.log" | head -n 1)
[ -n "$URL" ] || { echo "server did not start:"; cat "$T/web.log"; exit 1; }
echo "# server at $URL"

mkdir -p "$SHOTS"
python3 "$top_srcdir/tests/web/browser.py" "$URL" "$STORE" "$SHOTS" "$T/expect.json"
rc=$?
[ $rc -eq 0 ] || sed "s/^/  log: /" "$T/web.log" | tail -n 30
grep -q 'release .* by alice: ok' "$T/web.log" && echo "ok - release logged by the server" || \
    { echo "not ok - release not in the server log"; [ $rc -eq 0 ] && rc=1; }
python3 - "$STORE/audit.log" <<'EOS' && echo "ok - audit log names the web user" || { echo "not ok - audit log"; [ $rc -eq 0 ] && rc=1; }
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
assert any(e["action"] == "release" and e["result"] == "ok" and e["by"].startswith("alice (emofilter-web")
           for e in log), log
assert any(e["action"] == "release" and e["result"].startswith("refused") for e in log)
EOS
# Stop the server: it must exit 0 and cleanly (under ASan: no report).
kill "$WEB_PID"
wait "$WEB_PID"
wrc=$?
WEB_PID=
if [ $wrc -eq 0 ] && ! grep -q 'Sanitizer' "$T/web.log"; then
	echo "ok - server stops on SIGTERM, exit 0, no sanitizer report"
else
	echo "not ok - server exit $wrc"; grep -A20 'Sanitizer' "$T/web.log" | head -40; rc=1
fi
exit $rc
