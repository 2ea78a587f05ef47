#!/usr/bin/env python3
"""pss-sampler.py - peak PSS of process trees while a benchmark runs.

usage: pss-sampler.py DIR INTERVAL NAME=PID [NAME=PID ...]

Every INTERVAL seconds, for each NAME, sums Pss (kB) from
/proc/P/smaps_rollup over PID and all its descendants (found through
/proc/P/task/T/children) and writes the highest sum seen so far to
DIR/peak.NAME. Runs until killed.

One process reading /proc, because the shell sampler it replaces forked
pgrep, awk and cat several times a tick: about a third of the two CPUs
the benchmark measures went to the sampler itself (perf, 2026-12-04).
"""
import os
import sys
import time


def children(pid):
    out = []
    try:
        for tid in os.listdir('/proc/%d/task' % pid):
            with open('/proc/%d/task/%s/children' % (pid, tid)) as f:
                out.extend(int(c) for c in f.read().split())
    except OSError:
        pass
    return out


def tree(root):
    seen, pending = set(), [root]
    while pending:
        p = pending.pop()
        if p in seen or not os.path.isdir('/proc/%d' % p):
            continue
        seen.add(p)
        pending.extend(children(p))
    return seen


def pss(pid):
    try:
        with open('/proc/%d/smaps_rollup' % pid) as f:
            for line in f:
                if line.startswith('Pss:'):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def main():
    if len(sys.argv) < 4:
        sys.exit('usage: pss-sampler.py DIR INTERVAL NAME=PID...')
    out, interval = sys.argv[1], float(sys.argv[2])
    roots = {}
    for arg in sys.argv[3:]:
        name, _, pid = arg.partition('=')
        roots[name] = int(pid)
    peak = dict.fromkeys(roots, 0)
    for name in roots:
        with open(os.path.join(out, 'peak.' + name), 'w') as f:
            f.write('0\n')
    while True:
        for name, root in roots.items():
            v = sum(pss(p) for p in tree(root))
            if v > peak[name]:
                peak[name] = v
                tmp = os.path.join(out, '.peak.' + name)
                with open(tmp, 'w') as f:
                    f.write('%d\n' % v)
                os.replace(tmp, os.path.join(out, 'peak.' + name))
        time.sleep(interval)


if __name__ == '__main__':
    main()
