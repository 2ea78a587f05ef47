#!/bin/sh
# web-bench.sh - how long emofilter-web takes to open the list page over a
# store of N entries (default 10,000), generated here by tests/web/mkstore.py
# from entries emofilter-scan --quarantine wrote for the bundled samples.
# Not a test: run it by hand (make check does not).
#
# usage: tests/bench/web-bench.sh [N] [BUILDDIR]
# Prints: the time the server takes to read the store at start (every
# report parsed once), the first list page after that, then the median
# and maximum of 20 more (a walk over the day directories each), a
# filtered list, the statistics page, and the same list page opened in headless Chromium (navigation start to load
# event) when chromium is installed, with screenshots of that list and
# of the statistics page in BUILDDIR/tests/work/web/*-big.png. Times in ms.
set -eu
N=${1:-10000}
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
B=${2:-$top_srcdir}
T=$(mktemp -d "${TMPDIR:-/tmp}/emf-wbench-XXXXXX")
WEB_PID=
trap '[ -n "$WEB_PID" ] && kill $WEB_PID; rm -rf "$T"' EXIT
python3 "$top_srcdir/contrib/make-samples.py" "$T/samples" >/dev/null
for f in "$T"/samples/*.eml; do
	"$B/src/cli/emofilter-scan" -c "$top_srcdir/tests/emofilter-test.conf" \
	    --quarantine "$T/src" "$f" >/dev/null 2>&1 || true
done
python3 "$top_srcdir/tests/web/mkstore.py" "$T/src" "$T/store" "$N"
du -sh "$T/store" | sed 's/^/store size: /'
printf 'bench-pass-1\n' | "$B/src/web/emofilter-web" -u "$T/users" --add-user bench --role releaser >/dev/null
printf 'quarantine = { dir = "%s"; };\n' "$T/store" >"$T/web.conf"
"$B/src/web/emofilter-web" -c "$T/web.conf" -u "$T/users" --listen 127.0.0.1:0 2>"$T/log" &
WEB_PID=$!
i=0
while ! grep -q 'listening on' "$T/log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sed -n 's/^emofilter-web: \([0-9]* entries read in .*\)/server start: \1/p' "$T/log"
URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$T/log" | head -n 1)
SHOTS="$B/tests/work/web" WEBTESTS="$top_srcdir/tests/web" python3 - "$URL" <<'EOS'
import http.cookiejar, urllib.error, json, os, shutil, statistics, subprocess, sys, tempfile, time, urllib.parse, urllib.request
base = sys.argv[1].rstrip("/")
jar = http.cookiejar.CookieJar()
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None
op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
page = op.open(base + "/login").read().decode()
k = 'name="csrf" value="'
tok = page[page.index(k) + len(k):][:64]
try:  # the 303 to / is not followed: the first list below is the cold one
    op.open(base + "/login", urllib.parse.urlencode({"user": "bench", "password": "bench-pass-1", "csrf": tok}).encode()).read()
except urllib.error.HTTPError as e:
    assert e.code == 303, e.code
def t(path):
    t0 = time.perf_counter()
    body = op.open(base + path).read()
    return (time.perf_counter() - t0) * 1000, body
ms, body = t("/")
print("list page, first after start: %.0f ms, %d bytes" % (ms, len(body)))
assert b"matching entries" in body
warm = [t("/")[0] for _ in range(20)]
print("list page, warm: median %.1f ms, max %.1f ms (20 requests)" % (statistics.median(warm), max(warm)))
f = [t("/?symbol=MACRO_AUTOEXEC&status=pending&page=3")[0] for _ in range(5)]
print("filtered list (symbol, status, page 3): median %.1f ms" % statistics.median(f))
s = [t("/stats")[0] for _ in range(5)]
print("statistics page: median %.1f ms" % statistics.median(s))
exe = shutil.which("chromium")
if exe:
    sys.path.insert(0, os.environ["WEBTESTS"])
    import browser
    cookie = [c for c in jar if c.name == "emf_session"][0].value
    proc, prof, port = browser.start_chromium(exe)
    try:
        pg = browser.open_page(port)
        pg.call("Network.enable")
        pg.call("Network.setCookie", name="emf_session", value=cookie, url=base + "/")
        times = []
        for _ in range(6):
            pg.go(base + "/")
            times.append(pg.js("performance.getEntriesByType('navigation')[0].loadEventEnd"))
        rows = pg.js("document.querySelectorAll('#entries tr').length - 1")
        print("list page in Chromium (navigation to load event): first %.0f ms, then median %.0f ms "
              "(%d rows shown of the first page)" % (times[0], statistics.median(times[1:]), rows))
        browser.SHOTS = os.environ["SHOTS"]
        os.makedirs(browser.SHOTS, exist_ok=True)
        print("screenshots: " + pg.shot("list-big.png"), end=" ")
        pg.go(base + "/stats")
        print(pg.shot("stats-big.png"))
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(prof, ignore_errors=True)
EOS
