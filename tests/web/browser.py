#!/usr/bin/env python3
"""browser.py - emofilter-web in a real browser, and its HTTP security.

  browser.py URL STORE SHOTDIR EXPECT.json

Part 1 (python's urllib, always): no session -> redirect to the login
page; login cookie flags; wrong password refused; POST without CSRF token
-> 403; an analyst cannot release; path-like IDs refused; no action by
GET; a foreign Origin or Host refused; hostile strings escaped in the raw
HTML.

Part 2 (headless Chromium through its DevTools protocol, when chromium is
installed): log in, the list, a filter, an entry with hostile strings, a
release, a bulk dry run, the statistics page; screenshots into SHOTDIR.

EXPECT.json (written by web.sh) names entries and counts to check. Prints
"ok - ..." / "not ok - ..." lines; exits 0 when all passed, 1 on a
failure, 77 when part 1 passed and there is no chromium.
"""
import base64
import http.cookiejar
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

BASE = STORE = SHOTS = None
X = {}
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok - " + name)
    else:
        failed += 1
        print("not ok - " + name + (": " + str(detail)[:600] if detail else ""))


# ---- part 1: HTTP -----------------------------------------------------------

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


def client():
    jar = http.cookiejar.CookieJar()
    op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    return op, jar


def req(op, path, data=None, headers=None):
    """(status, headers, body text) of a GET, or a POST when data is a dict
    (or a list of pairs)."""
    body = None
    if data is not None:
        body = urllib.parse.urlencode(data).encode()
    r = urllib.request.Request(BASE + path, data=body, headers=headers or {})
    try:
        with op.open(r, timeout=20) as resp:
            return resp.status, resp.headers, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode("utf-8", "replace")


def csrf_of(html):
    key = 'name="csrf" value="'
    i = html.find(key)
    return html[i + len(key):html.index('"', i + len(key))] if i >= 0 else None


def login(user, pw):
    op, jar = client()
    st, h, body = req(op, "/login")
    tok = csrf_of(body)
    st, h, body = req(op, "/login", {"user": user, "password": pw, "csrf": tok})
    return op, st, h, body


def http_tests():
    op, _ = client()
    st, h, _ = req(op, "/")
    check("no session: / redirects to the login page",
          st == 303 and h.get("Location") == "/login", (st, h.get("Location")))
    st, h, _ = req(op, "/entry?id=" + X["hostile"])
    check("no session: an entry redirects to the login page", st == 303, st)
    st, h, _ = req(op, "/release", {"id": X["pending"]})
    check("no session: POST /release redirects to login, nothing done",
          st == 303 and not os.path.exists(X["pending_released_path"]), st)

    st, h, body = req(op, "/login")
    cookie = h.get("Set-Cookie", "")
    check("login form sets an HttpOnly, SameSite=Strict cookie",
          "HttpOnly" in cookie and "SameSite=Strict" in cookie, cookie)
    check("security headers (CSP without scripts, nosniff, no-store)",
          "script-src" not in h.get("Content-Security-Policy", "x script-src")
          and "default-src 'none'" in h.get("Content-Security-Policy", "")
          and h.get("X-Content-Type-Options") == "nosniff"
          and h.get("Cache-Control") == "no-store", dict(h))
    st, h, body = req(op, "/login", {"user": "alice", "password": "secret-pass"})
    check("login POST without CSRF token: 403", st == 403, st)

    op2, st, h, body = login("alice", "wrong-password")
    check("wrong password refused", st == 403 and "Wrong user name" in body, st)

    rop, st, h, _ = login("alice", "secret-pass")
    check("releaser logs in (303 to /)", st == 303 and h.get("Location") == "/", st)
    check("session cookie HttpOnly, SameSite=Strict",
          "HttpOnly" in h.get("Set-Cookie", "") and "SameSite=Strict" in h.get("Set-Cookie", ""))
    st, _, body = req(rop, "/")
    tok = csrf_of(body)
    check("list page after login", st == 200 and 'id="entries"' in body, st)

    st, _, body = req(rop, "/release", {"id": X["pending"]})
    check("POST /release without CSRF token: 403", st == 403, st)
    st, _, body = req(rop, "/release", {"id": X["pending"], "csrf": "0" * 64})
    check("POST /release with a wrong CSRF token: 403", st == 403, st)
    st, _, body = req(rop, "/delete", {"id": X["pending"], "csrf": tok},
                      {"Origin": "http://evil.example"})
    check("POST from a foreign Origin: 403", st == 403, st)
    check("nothing released or deleted by the refused POSTs",
          not os.path.exists(X["pending_released_path"])
          and os.path.exists(X["pending_json_path"]))
    st, _, _ = req(rop, "/release?id=" + X["pending"] + "&csrf=" + tok)
    check("GET /release does nothing (405)",
          st == 405 and not os.path.exists(X["pending_released_path"]), st)
    st, _, _ = req(rop, "/", headers={"Host": "attacker.example:80"})
    check("wrong Host header (DNS rebinding) refused", st == 421, st)

    for bad in ["../../../etc/passwd", "20261203T000000Z-00000000/../x",
                "..%2F..%2Fetc%2Fpasswd", "20261203T000000Z-0000000%00",
                "/etc/passwd", X["hostile"] + "/.."]:
        st, _, body = req(rop, "/entry?id=" + bad)
        check("path-like ID refused: " + bad, st == 400 and "not an entry ID" in body, st)
    st, _, body = req(rop, "/bulk", [("op", "delete"), ("id", "../" + X["pending"]),
                                    ("csrf", tok)])
    check("path-like ID refused in bulk delete",
          st == 409 and "not an entry ID" in body and os.path.exists(X["pending_json_path"]), st)

    st, _, body = req(rop, "/entry?id=" + X["hostile"])
    check("hostile entry page", st == 200, st)
    check("hostile subject: no raw <script> in the HTML", "<script" not in body.lower())
    check("hostile subject: shown as &lt;script&gt; text", "&lt;script&gt;" in body)
    check("hostile file name: no raw <img> in the HTML", "<img" not in body.lower())
    check("hostile file name: shown as &lt;img text", "&lt;img src=x onerror=" in body)
    check("ANSI escape shown as \\x1b, no raw ESC", "\\x1b[31m" in body and "\x1b" not in body)
    check("RTL override shown as \\u202e, no raw U+202E", "\\u202e" in body and "\u202e" not in body)
    st, _, body = req(rop, "/")
    check("list: hostile subject escaped too",
          "&lt;script&gt;" in body and "<script" not in body.lower() and "\u202e" not in body)

    if "carol:analyst:$6$" in open(os.path.join(os.path.dirname(X["sendmail_msg"]), "users")).read():
        cop, st, h, _ = login("carol", "carol-pass-1")
        check("a sha512-crypt ($6$) user logs in", st == 303, st)
        cop2, st, h, _ = login("carol", "carol-pass-2")
        check("a sha512-crypt user with a wrong password is refused", st == 403, st)

    st, _, _ = req(rop, "/bulk", [("op", "delete"), ("csrf", tok)] + [("id", "x" * 1000)] * 100)
    check("a request body over 64 KiB is refused (413)", st == 413, st)
    st, _, _ = req(rop, "/no/such/page")
    check("unknown page: 404", st == 404, st)
    st, _, body = req(rop, "/?since=yesterday")
    check("a bad time in a filter: 400 with the reason", st == 400 and "bad time" in body, st)
    st, _, body = req(rop, "/?symbol=%3Cscript%3E&from=%22%3E%3Cimg")
    check("filter values echoed escaped", st == 200 and "<script" not in body
          and 'value="&quot;&gt;&lt;img"' in body, st)

    aop, st, h, _ = login("bob", "analyst-pass")
    st, _, body = req(aop, "/")
    atok = csrf_of(body)
    check("analyst sees no release buttons", st == 200 and "bulk-release" not in body)
    st, _, body = req(aop, "/release", {"id": X["pending"], "csrf": atok})
    check("analyst cannot release (403)",
          st == 403 and not os.path.exists(X["pending_released_path"]), st)
    st, h, body = req(aop, "/ioc?format=stix&released=1")
    check("analyst downloads IOCs (STIX bundle)",
          st == 200 and json.loads(body)["type"] == "bundle"
          and "attachment" in h.get("Content-Disposition", ""), st)
    st, _, body = req(aop, "/logout", {"csrf": atok})
    st2, h2, _ = req(aop, "/")
    check("logout ends the session", st == 303 and st2 == 303, (st, st2))


# ---- part 2: Chromium through the DevTools protocol ------------------------

class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol: text frames,
    client masking, fragmented and long messages."""

    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.s = socket.create_connection((u.hostname, u.port), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n"
                        % (u.path, u.hostname, u.port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.s.recv(4096)
            if not chunk:
                raise IOError("websocket handshake failed")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise IOError("websocket handshake: " + head.decode("latin1"))
        self.buf = head.split(b"\r\n\r\n", 1)[1]

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(1 << 16)
            if not chunk:
                raise IOError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, text):
        data = text.encode()
        n = len(data)
        head = bytes([0x81])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv(self):
        msg = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7f
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            op = b0 & 0x0f
            if op == 8:
                raise IOError("websocket closed by the browser")
            if op in (0, 1, 2):
                msg += payload
                if b0 & 0x80:
                    return msg.decode()


class Page:
    def __init__(self, ws):
        self.ws, self.next_id, self.events = ws, 0, []

    def call(self, method, **params):
        self.next_id += 1
        me = self.next_id
        self.ws.send(json.dumps({"id": me, "method": method, "params": params}))
        while True:
            m = json.loads(self.ws.recv())
            if m.get("id") == me:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_load(self, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            for i, e in enumerate(self.events):
                if e.get("method") == "Page.loadEventFired":
                    del self.events[:i + 1]
                    return True
            self.events.append(json.loads(self.ws.recv()))
        return False

    def js(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError("js %s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def go(self, url):
        self.events.clear()
        self.call("Page.navigate", url=url)
        return self.wait_load()

    def click(self, selector):
        """Click what selector finds and wait for the next page."""
        self.events.clear()
        self.js("document.querySelector(%s).click()" % json.dumps(selector))
        return self.wait_load()

    def shot(self, name):
        h = self.js("Math.min(Math.max(document.documentElement.scrollHeight, 600), 3000)")
        self.call("Emulation.setDeviceMetricsOverride", width=1400, height=int(h),
                  deviceScaleFactor=1, mobile=False)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path = os.path.join(SHOTS, name)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path


def start_chromium(exe):
    prof = tempfile.mkdtemp(prefix="emf-chromium-")
    args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync",
            "--user-data-dir=" + prof, "--remote-debugging-port=0",
            "--remote-allow-origins=*", "about:blank"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = os.path.join(prof, "DevToolsActivePort")
    end = time.time() + 30
    while time.time() < end and not os.path.exists(port_file):
        time.sleep(0.1)
    time.sleep(0.2)
    port = int(open(port_file).read().split()[0])
    return proc, prof, port


def open_page(port):
    r = urllib.request.Request("http://127.0.0.1:%d/json/new?about:blank" % port, method="PUT")
    with urllib.request.urlopen(r, timeout=20) as resp:
        target = json.load(resp)
    page = Page(WebSocket(target["webSocketDebuggerUrl"]))
    page.call("Page.enable")
    return page


def rows(page):
    return page.js("document.querySelectorAll('#entries tr').length - 1")


def browser_tests(page):
    page.go(BASE + "/")
    check("browser: no session lands on the login page",
          page.js("location.pathname") == "/login", page.js("location.href"))
    page.shot("login.png")
    page.js("document.querySelector('input[name=user]').value='alice';"
            "document.querySelector('input[name=password]').value='secret-pass'")
    page.click("#login")
    check("browser: login leads to the list", page.js("location.pathname") == "/",
          page.js("location.href"))
    n = rows(page)
    check("browser: list shows every entry (%s)" % n, n == X["total"], n)
    check("browser: the logged-in user is named",
          "alice (releaser)" in page.js("document.querySelector('.who').textContent"))
    check("browser: no script element anywhere",
          page.js("document.querySelectorAll('script').length") == 0)
    print("# list: " + page.shot("list.png"))

    page.js("document.querySelector('input[name=symbol]').value=%s" % json.dumps(X["symbol"]))
    page.click("#filter")
    n = rows(page)
    check("browser: filter by symbol %s gives %d entries (got %s)"
          % (X["symbol"], X["symbol_count"], n), n == X["symbol_count"], n)
    check("browser: the filter is kept in the form",
          page.js("document.querySelector('input[name=symbol]').value") == X["symbol"])
    page.shot("filter.png")

    page.go(BASE + "/entry?id=" + X["hostile"])
    subj = page.js("[...document.querySelectorAll('#headers tr')]"
                   ".find(r => r.cells[0] && r.querySelector('th').textContent=='Subject')"
                   ".querySelector('td').textContent")
    check("browser: hostile subject rendered as text",
          subj is not None and "<script>" in subj and "\\x1b[31m" in subj and "\\u202e" in subj, subj)
    check("browser: hostile entry injected no element",
          page.js("document.querySelectorAll('script, img, iframe').length") == 0)
    names = page.js("[...document.querySelectorAll('.tree .name')].map(e => e.textContent).join('|')")
    check("browser: hostile file name rendered as text", "<img src=x onerror=" in names, names)
    page.shot("entry-hostile.png")

    page.go(BASE + "/entry?id=" + X["rich"])
    txt = page.js("document.body.innerText")
    check("browser: entry shows symbols, object tree and passwords",
          all(s in txt for s in X["rich_expect"]), [s for s in X["rich_expect"] if s not in txt])
    print("# entry: " + page.shot("entry.png"))

    page.go(BASE + "/entry?id=" + X["pending"])
    page.click("#release")
    txt = page.js("document.body.innerText")
    check("browser: release says delivered", "released to 1 recipient" in txt, txt[:300])
    check("browser: release record written", os.path.exists(X["pending_released_path"]))
    check("browser: the message went to the (fake) sendmail",
          os.path.exists(X["sendmail_msg"]) and "X-Emofilter-Released:" in
          open(X["sendmail_msg"], errors="replace").read())
    page.shot("release.png")
    page.go(BASE + "/?status=released")
    n = rows(page)
    check("browser: the released entry is listed as released (%s)" % n,
          n == 1 and X["pending"] in page.js("document.querySelector('#entries').innerText"), n)
    page.go(BASE + "/entry?id=" + X["pending"])
    page.click("#release")
    txt = page.js("document.body.innerText")
    check("browser: a second release is refused", "already released" in txt, txt[:300])

    page.go(BASE + "/")
    page.js("document.querySelectorAll('#entries input[type=checkbox]').forEach((c, i) => { if (i < 2) c.checked = true });"
            "document.querySelector('input[name=dry_run]').checked = true")
    page.click("#bulk-delete")
    txt = page.js("document.body.innerText")
    check("browser: bulk delete dry run names two entries",
          txt.count("would be deleted") == 2, txt[:400])
    check("browser: dry run deleted nothing",
          len([f for d in os.listdir(STORE) if d.isdigit() for f in os.listdir(os.path.join(STORE, d))
               if f.endswith(".json")]) == X["total"])

    page.go(BASE + "/entry?id=" + X["hostile"])
    page.click("#delete")
    txt = page.js("document.body.innerText")
    check("browser: delete says deleted", "deleted" in txt, txt[:300])
    check("browser: the entry's files are gone",
          not os.path.exists(os.path.join(STORE, X["hostile"][:8], X["hostile"] + ".json")))
    page.go(BASE + "/")
    n = rows(page)
    check("browser: the list has one entry less (%s)" % n, n == X["total"] - 1, n)
    page.go(BASE + "/entry?id=" + X["hostile"])
    check("browser: the deleted entry is not found",
          "no such entry" in page.js("document.body.innerText"))

    page.go(BASE + "/stats")
    bars = page.js("document.querySelectorAll('#chart-days rect').length")
    syms = page.js("document.querySelectorAll('#chart-symbols rect').length")
    check("browser: statistics page draws the per-day chart (%s shapes)" % bars, bars >= 2, bars)
    check("browser: statistics page draws the top symbols (%s bars)" % syms, syms >= 3, syms)
    print("# stats: " + page.shot("stats.png"))


def main():
    global BASE, STORE, SHOTS, X
    BASE, STORE, SHOTS = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
    X = json.load(open(sys.argv[4]))
    os.makedirs(SHOTS, exist_ok=True)
    http_tests()
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        print("# no chromium: browser part skipped")
        print("%d passed, %d failed" % (passed, failed))
        sys.exit(1 if failed else 77)
    proc, prof, port = start_chromium(exe)
    try:
        browser_tests(open_page(port))
    except Exception as e:  # a broken browser session is a failure, said
        check("browser session", False, repr(e))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(prof, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
