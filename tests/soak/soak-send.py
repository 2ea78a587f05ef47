#!/usr/bin/env python3
"""soak-send.py - the sending side of tests/soak/soak.sh.

  soak-send.py make DIR
      write the message kinds (one template each) to DIR/KIND.eml
  soak-send.py send HOST PORT DIR N SESSIONS SECONDS RESULTS
      send N messages (kinds in turn) over SESSIONS concurrent SMTP
      sessions, released at N/SECONDS per second (0: at once). Every
      message carries a unique X-Soak-ID and Message-ID. A 4xx reply, a
      dropped connection or a refused connection is retried, as an MTA
      would, after 1-3 s, until 2xx or 5xx or until the give-up time (the
      sending time plus 300 s). RESULTS gets one JSON object:
      {id: [kind, final_code, attempts]}; final_code 0 = never answered.
"""
import io
import json
import random
import smtplib
import sys
import threading
import time
import zipfile
from email.message import EmailMessage
from email.policy import SMTP

KINDS = ["clean", "tag", "quarantine", "reject", "pwzip", "large", "clean_ja"]
# The order messages cycle through: one large (3 MB) in 20.
CYCLE = (["clean", "tag", "quarantine", "reject", "pwzip", "clean_ja"] * 3 +
         ["clean", "large"])


def make(out):
    rnd = random.Random(18)

    def mk(name, subj, text, att=None, fname=None):
        m = EmailMessage(policy=SMTP)
        m["From"] = "Alice <alice@example.org>"
        m["To"] = "bob@example.net"
        m["Subject"] = subj
        m["Date"] = "Wed, 25 Nov 2026 06:00:00 +0000"
        m["X-Emofilter-Score"] = "-100"
        m.set_content(text)
        if att is not None:
            m.add_attachment(att, maintype="application",
                             subtype="octet-stream", filename=fname)
        with open("%s/%s.eml" % (out, name), "wb") as f:
            f.write(m.as_bytes())

    def zipped(name, data):
        # (encrypted zips come from `zip -P` in soak.sh: enc.zip, pw.zip)
        b = io.BytesIO()
        with zipfile.ZipFile(b, "w") as z:
            z.writestr(name, data)
        return b.getvalue()

    mk("clean", "soak clean", "Hello Bob,\nthe minutes are below.\n")
    mk("clean_ja", "議事録の送付", "ボブ様\n\n議事録をお送りします。\nよろしくお願いいたします。\n")
    mk("tag", "soak tag", "see the report\n", zipped("notes.txt", "hello\n"),
       "report.pdf")
    mk("quarantine", "soak quarantine", "see the documents\n",
       open(out + "/enc.zip", "rb").read(), "documents.zip")
    mk("reject", "soak reject", "run this\n", b"@echo off\r\necho hi\r\n",
       "setup.exe")
    mk("pwzip", "請求書の送付",
       "お世話になっております。\n請求書を添付いたします。\n"
       "パスワード：Kx8p2Q\n",
       open(out + "/pw.zip", "rb").read(), "seikyu.zip")
    mk("large", "soak large", "the image archive\n",
       rnd.randbytes(3 * 1024 * 1024),
       "scan.bin")


def send(host, port, d, n, sessions, seconds, results):
    tmpl = {k: open("%s/%s.eml" % (d, k), "rb").read() for k in KINDS}
    lock = threading.Lock()
    res = {}
    # (time it may be sent, id, kind)
    start = time.monotonic()
    rate = n / seconds if seconds > 0 else 0
    pending = [(start + (i / rate if rate else 0), "s%06d" % i,
                CYCLE[i % len(CYCLE)]) for i in range(n)]
    pending.reverse()
    retry = []
    left = [n]
    give_up = start + max(seconds, 1) + 300

    def body(mid, kind):
        t = tmpl[kind]
        hdr = ("X-Soak-ID: %s\r\nMessage-ID: <%s@soak.example>\r\n"
               % (mid, mid)).encode()
        return hdr + t

    def take():
        """The next message due, or None when everything is final."""
        while True:
            with lock:
                if left[0] <= 0 or time.monotonic() > give_up:
                    return None
                now = time.monotonic()
                retry.sort()
                if retry and retry[0][0] <= now:
                    return retry.pop(0)
                if pending and pending[-1][0] <= now:
                    return pending.pop()
            time.sleep(0.05)

    def final(mid, kind, code):
        with lock:
            a = res.setdefault(mid, [kind, 0, 0])
            a[2] += 1
            if code >= 500 or 200 <= code < 300:
                a[1] = code
                left[0] -= 1
                return True
            return False

    def one(s, mid, kind):
        """The reply to the final dot; -1 when the transaction failed
        before it (retried on a fresh session: only the reply to the
        message itself is a verdict)."""
        for cmd in (lambda: s.mail("alice@example.org"),
                    lambda: s.rcpt("bob@example.net"),
                    lambda: s.docmd("DATA")):
            code, _ = cmd()
            if code >= 400:
                return -1
        if code != 354:
            return -1
        q = smtplib._quote_periods(body(mid, kind))
        if not q.endswith(b"\r\n"):
            q += b"\r\n"
        s.send(q + b".\r\n")
        code, _ = s.getreply()
        return code

    def worker():
        s = None
        while True:
            item = take()
            if item is None:
                break
            _, mid, kind = item
            try:
                if s is None:
                    s = smtplib.SMTP(host, port, timeout=120)
                    s.ehlo("sender.example.org")
                code = one(s, mid, kind)
                if code < 0:
                    code = 0
                    try:
                        s.quit()
                    except (smtplib.SMTPException, OSError):
                        pass
                    s = None
                elif 400 <= code < 500:
                    try:
                        s.rset()
                    except (smtplib.SMTPException, OSError):
                        s = None
            except (smtplib.SMTPException, OSError):
                code, s = 0, None
            if not final(mid, kind, code):
                with lock:
                    retry.append((time.monotonic() + random.uniform(1, 3),
                                  mid, kind))
        if s is not None:
            try:
                s.quit()
            except (smtplib.SMTPException, OSError):
                pass

    ts = [threading.Thread(target=worker) for _ in range(sessions)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for _, mid, kind in pending + retry:
        res.setdefault(mid, [kind, 0, 0])
    with open(results, "w") as f:
        json.dump(res, f)
    print("sending took %.1f s" % (time.monotonic() - start))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        host, port, d, n, sessions, seconds, results = sys.argv[2:9]
        send(host, int(port), d, int(n), int(sessions), float(seconds),
             results)
