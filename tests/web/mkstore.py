#!/usr/bin/env python3
"""mkstore.py - a large quarantine store for measuring emofilter-web.

  mkstore.py SRC-STORE DST-STORE N [DAYS]

Writes N entries into DST-STORE (the layout of src/lib/store/quarantine.h:
0700 directories, 0600 files), each a copy of one of the real entries of
SRC-STORE (written by emofilter-scan --quarantine) under a new ID spread
over the last DAYS days (default 30), with its own sender and recipient,
and about one in ten released. The raw message is the source entry's.
"""
import json
import os
import random
import sys
import time

src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
days = int(sys.argv[4]) if len(sys.argv) > 4 else 30
rnd = random.Random(15)
templates = []
for d in sorted(os.listdir(src)):
    if not d.isdigit():
        continue
    for f in sorted(os.listdir(os.path.join(src, d))):
        if f.endswith(".json"):
            base = os.path.join(src, d, f[:-5])
            templates.append((json.load(open(base + ".json")), open(base + ".eml", "rb").read()))
if not templates:
    sys.exit("no entries in " + src)
os.makedirs(dst, mode=0o700, exist_ok=True)
os.chmod(dst, 0o700)
now = int(time.time())
seen = set()
for i in range(n):
    rep, eml = rnd.choice(templates)
    t = now - rnd.randrange(days * 86400)
    while True:
        eid = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t)) + "-%08x" % rnd.getrandbits(32)
        if eid not in seen:
            seen.add(eid)
            break
    r = json.loads(json.dumps(rep))
    r["id"] = eid
    r["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    r.setdefault("envelope", {})["from"] = "sender%d@host%d.example" % (i % 997, i % 89)
    r["envelope"]["rcpts"] = ["user%d@corp.example" % (i % 300)]
    r["envelope"]["queue_id"] = "Q%08X" % i
    day = os.path.join(dst, eid[:8])
    if not os.path.isdir(day):
        os.mkdir(day, 0o700)
    for ext, data in ((".eml", eml), (".json", json.dumps(r).encode())):
        fd = os.open(os.path.join(day, eid + ext), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, data)
        os.close(fd)
    if i % 10 == 3:
        rec = {"time": r["time"], "by": "bench", "to": r["envelope"]["rcpts"], "via": "bench"}
        fd = os.open(os.path.join(day, eid + ".released"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, json.dumps(rec).encode())
        os.close(fd)
print("%d entries in %s" % (n, dst))
