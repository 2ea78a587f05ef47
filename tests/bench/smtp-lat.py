#!/usr/bin/env python3
"""smtp-lat.py - end-of-DATA reply latency over parallel SMTP sessions.

usage: smtp-lat.py HOST PORT FILE COUNT SESSIONS [PER_CONN [RATE]]

Sends FILE COUNT times over SESSIONS concurrent sessions (one event loop,
no threads), PER_CONN messages per SMTP connection (default 1, like
smtp-source). With RATE (messages per second, > 0) the load is paced
instead of closed-loop: message k starts its own connection at k / RATE
seconds, at most SESSIONS at once (one that finds them all busy starts
late, and is counted), so latency is measured at a load the server can
carry rather than at saturation, where it is mostly queueing.

Each command group is one write (MAIL, RCPT and DATA pipelined; the
message and its final dot together) on a TCP_NODELAY socket, so no
Nagle / delayed-ACK pause is measured. Latency is from
writing the message with its final dot to reading the reply: the time the
server (and its milter) takes for the end of DATA.

Prints one line:
  sent=N ok=N tempfail=N reject=N error=N p50_ms=X p99_ms=X max_ms=X
  elapsed_s=X rate=X late=N
(rate: replies per second over the whole run; late: paced messages that
started more than 10 ms after their time).
"""
import asyncio
import socket
import sys
import time


async def reply(r):
    """One SMTP reply (possibly multi-line); returns its code."""
    while True:
        line = await r.readline()
        if not line:
            raise ConnectionError('closed')
        if len(line) < 4 or line[3:4] != b'-':
            return int(line[:3])


async def session(host, port, data, remaining, per_conn, res):
    r = w = None
    sent_here = 0
    while remaining[0] > 0:
        remaining[0] -= 1
        try:
            if w is None or sent_here >= per_conn:
                if w is not None:
                    w.write(b'QUIT\r\n')
                    await w.drain()
                    w.close()
                r, w = await asyncio.open_connection(host, port)
                w.get_extra_info('socket').setsockopt(
                    socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sent_here = 0
                if await reply(r) != 220:
                    raise ConnectionError('greeting')
                w.write(b'EHLO sender.example.org\r\n')
                if await reply(r) != 250:
                    raise ConnectionError('ehlo')
            w.write(b'MAIL FROM:<alice@example.org>\r\n'
                    b'RCPT TO:<bob@example.net>\r\nDATA\r\n')
            c1, c2, c3 = await reply(r), await reply(r), await reply(r)
            sent_here += 1
            if c3 != 354:
                code = c3 if c3 >= 400 else (c2 if c2 >= 400 else c1)
                if c3 < 400:
                    raise ConnectionError('data')
                w.write(b'RSET\r\n')
                await reply(r)
            else:
                t0 = time.monotonic()
                w.write(data)
                code = await reply(r)
                res['lat'].append((time.monotonic() - t0) * 1000)
        except (ConnectionError, OSError, ValueError):
            code = 0
            w = None
        kind = ('ok' if 200 <= code < 300 else 'tempfail' if 400 <= code < 500
                else 'reject' if code >= 500 else 'error')
        res[kind] += 1
    if w is not None:
        try:
            w.write(b'QUIT\r\n')
            await w.drain()
            w.close()
        except OSError:
            pass


async def paced(host, port, data, count, sessions, rate, res):
    """Message k on a connection of its own from k / rate seconds on."""
    slots = asyncio.Semaphore(sessions)
    t0 = time.monotonic()
    tasks = []

    async def one():
        try:
            await session(host, port, data, [1], 1, res)
        finally:
            slots.release()

    for k in range(count):
        due = t0 + k / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await slots.acquire()
        if time.monotonic() - due > 0.010:
            res['late'] += 1
        tasks.append(asyncio.ensure_future(one()))
    await asyncio.gather(*tasks)


async def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    count, sessions = int(sys.argv[4]), int(sys.argv[5])
    per_conn = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    rate = float(sys.argv[7]) if len(sys.argv) > 7 else 0.0
    raw = open(path, 'rb').read().replace(b'\r\n', b'\n')
    # CRLF line ends, dot-stuffed, and the final dot in the same write.
    lines = [(b'.' + l if l.startswith(b'.') else l) for l in raw.split(b'\n')]
    if lines and lines[-1] == b'':
        lines.pop()
    data = b'\r\n'.join(lines) + b'\r\n.\r\n'
    res = {'ok': 0, 'tempfail': 0, 'reject': 0, 'error': 0, 'lat': [],
           'late': 0}
    remaining = [count]
    t0 = time.monotonic()
    if rate > 0:
        await paced(host, port, data, count, sessions, rate, res)
    else:
        await asyncio.gather(*[session(host, port, data, remaining,
                                       per_conn, res)
                               for _ in range(sessions)])
    el = time.monotonic() - t0
    lat = sorted(res['lat'])
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else 0.0
    print('sent=%d ok=%d tempfail=%d reject=%d error=%d p50_ms=%.2f '
          'p99_ms=%.2f max_ms=%.2f elapsed_s=%.3f rate=%.1f late=%d'
          % (count, res['ok'], res['tempfail'], res['reject'], res['error'],
             pct(0.50), pct(0.99), lat[-1] if lat else 0.0, el, count / el,
             res['late']))


if __name__ == '__main__':
    asyncio.run(main())
