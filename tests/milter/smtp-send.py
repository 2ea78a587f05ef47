#!/usr/bin/env python3
"""smtp-send.py - send one message file N times over S parallel SMTP sessions.

Used by the milter tests and benchmark where smtp-source does not fit
(smtp-source stops at the first 5xx reply). Prints one line:
  sent=N ok=N tempfail=N reject=N error=N p50_ms=X p99_ms=X
with the time from the end of DATA to the server's reply per message.
usage: smtp-send.py HOST PORT FILE COUNT SESSIONS [FROM] [TO]
FROM or TO "-": the address in the message's From: or To: header.
"""
import email
import email.utils
import smtplib
import sys
import threading
import time


def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    count, sessions = int(sys.argv[4]), int(sys.argv[5])
    sender = sys.argv[6] if len(sys.argv) > 6 else 'alice@example.org'
    rcpt = sys.argv[7] if len(sys.argv) > 7 else 'bob@example.net'
    data = open(path, 'rb').read()
    hdr = email.message_from_bytes(data)
    if sender == '-':
        sender = email.utils.parseaddr(str(hdr.get('From', '')))[1]
    if rcpt == '-':
        rcpt = email.utils.parseaddr(str(hdr.get('To', '')))[1] or 'bob@example.net'
    lock = threading.Lock()
    counts = {'ok': 0, 'tempfail': 0, 'reject': 0, 'error': 0}
    lat = []
    todo = [count]

    def take():
        with lock:
            if todo[0] <= 0:
                return False
            todo[0] -= 1
            return True

    def one(s):
        """Send once on session s; returns (reply code, latency ms)."""
        s.mail(sender)
        s.rcpt(rcpt)
        code, _ = s.docmd('DATA')
        if code != 354:
            return code, None
        q = smtplib._quote_periods(data)
        if not q.endswith(b'\r\n'):
            q += b'\r\n'
        s.send(q)
        # The reply to the final dot is what the milter delays.
        t0 = time.monotonic()
        s.send(b'.\r\n')
        code, _ = s.getreply()
        return code, (time.monotonic() - t0) * 1000

    def worker():
        s = None
        while take():
            # A dropped session is retried on a new one (up to 3 times),
            # so a message is never silently not sent.
            for attempt in range(3):
                try:
                    if s is None:
                        s = smtplib.SMTP(host, port, timeout=600)
                        s.ehlo('sender.example.org')
                    code, dt = one(s)
                    if code in (421, -1):
                        raise smtplib.SMTPServerDisconnected(code)
                    break
                except smtplib.SMTPRecipientsRefused as e:
                    code, dt = list(e.recipients.values())[0][0], None
                    s.rset()
                    break
                except smtplib.SMTPResponseException as e:
                    code, dt = e.smtp_code, None
                    if code == 421:
                        s = None
                        continue
                    try:
                        s.rset()
                    except (smtplib.SMTPException, OSError):
                        s = None
                    break
                except (smtplib.SMTPException, OSError):
                    code, dt, s = 0, None, None
            kind = ('ok' if 200 <= code < 300 else 'tempfail' if 400 <= code < 500
                    else 'reject' if code >= 500 else 'error')
            with lock:
                counts[kind] += 1
                if dt is not None:
                    lat.append(dt)
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
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else 0.0
    print('sent=%d ok=%d tempfail=%d reject=%d error=%d p50_ms=%.1f p99_ms=%.1f'
          % (count, counts['ok'], counts['tempfail'], counts['reject'],
             counts['error'], pct(0.50), pct(0.99)))


if __name__ == '__main__':
    main()
