#!/bin/sh
# soak.sh [MESSAGES] [SECONDS] - emofilter behind a private Postfix under
# load and faults; every message accounted for by its unique ID.
#
# A private Postfix on loopback (tests/milter/postfix-lib.sh) with
# emofilter in front of smtp-sink; the quarantine store on a small tmpfs.
# soak-send.py sends MESSAGES (default 2000) messages, a mix of clean
# (English, Japanese), tag, quarantine, reject, password zip with the
# password in the body and (one in 20) a 3 MB attachment, over SOAK_SESSIONS (30)
# concurrent sessions, released over SECONDS (default 60) seconds; a 4xx
# or a dropped connection is retried as an MTA would. Meanwhile a fault
# script, until the sending ends:
#   - SIGKILL a random scanner worker,
#   - SIGSTOP a worker for longer than the scan deadline, then SIGCONT,
#   - SIGKILL every emofilter process, restart it 1-3 s later,
#   - SIGHUP with the config switched (another subject prefix),
#   - fill the quarantine tmpfs for a few seconds, then free it,
#   - make the correlation state (state.enabled, SQLite) unreachable for
#     a few seconds: a writer holds it locked (BEGIN EXCLUSIVE) and its
#     directory is closed (mode 000, so a new worker cannot open it);
#     a message that needs the store meanwhile is tempfailed (failure=
#     store or timeout) and delivered on its retry.
# At the end, per ID: 2xx -> delivered exactly once (smtp-sink) or held
# once (Postfix hold queue); 5xx -> never delivered; no answer -> lost.
# A delivered message must carry emofilter's verdict headers and not
# X-Emofilter-Action: unscanned (unscanned-accepted), and each kind must
# end as its template scans offline (emofilter-scan). Prints
#   sent N: delivered D, held H, rejected R, retried T, lost L,
#   duplicated U, unscanned-accepted A; faults F (state_locked S)
# with the faults injected and messages/s, and exits non-zero on any
# loss, duplicate, unscanned accept or wrong outcome.
# Needs root, Postfix, smtp-sink, zip, python3 (as tests/milter/e2e.sh).
# Not part of make check. KEEP=1 keeps the work dir.
set -u
N=${1:-2000}
SECS=${2:-60}
SESSIONS=${SOAK_SESSIONS:-30}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (Postfix)"; exit 77; }
for t in postfix smtp-sink zip python3 script; do
	command -v $t >/dev/null 2>&1 || { echo "SKIP: $t not installed"; exit 77; }
done
id postfix >/dev/null 2>&1 || { echo "SKIP: no postfix user"; exit 77; }
[ -x "$top_builddir/src/milter/emofilter" ] || { echo "build first"; exit 1; }

PF_DIR=$(mktemp -d /tmp/emf-soak.XXXXXX)
. "$top_srcdir/tests/milter/postfix-lib.sh"
QDIR=$PF_DIR/run/quarantine
FAULT_PID=
cleanup() {
	[ -n "$FAULT_PID" ] && kill "$FAULT_PID" 2>/dev/null
	[ -f "$PF_DIR/emf.pid" ] && EMF_PID=$(cat "$PF_DIR/emf.pid")
	pf_stop_all
	umount "$QDIR" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $PF_DIR"; else rm -rf "$PF_DIR"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
log=$PF_DIR/emofilter.log
msg=$PF_DIR/msg
mkdir -p "$msg"

pf_ports
pf_setup_dirs
# The store on its own small file system, so that it can be filled.
mkdir -p "$QDIR"
mount -t tmpfs -o "size=${SOAK_QUARANTINE_MB:-64}m,mode=0700,uid=$(id -u "$EMF_USER")" \
    tmpfs "$QDIR" || { echo "SKIP: cannot mount a tmpfs"; exit 77; }

# ---- messages and what each kind must become -------------------------------
w=$PF_DIR/zipwork
mkdir -p "$w"
echo "hello, nothing to see" > "$w/notes.txt"
printf 'Sub AutoOpen()\nEnd Sub\n' > "$w/seikyu.txt"
(cd "$w" && zip -q -P 'not-in-the-mail' "$msg/enc.zip" notes.txt &&
    zip -q -P 'Kx8p2Q' "$msg/pw.zip" seikyu.txt) || exit 1
python3 "$top_srcdir/tests/soak/soak-send.py" make "$msg" || exit 1
conf=$PF_DIR/emofilter.conf
settings='workers = 4; scan_timeout_ms = 5000;'
pf_write_emf_conf "$PF_DIR/conf.a" "$settings subject_prefix = \"[SUSPICIOUS]\";"
pf_write_emf_conf "$PF_DIR/conf.b" "$settings subject_prefix = \"[SOAK-B]\";"
# The correlation state: SQLite in a directory of its own. A short lock
# wait, so that a locked store is a store failure, not a scan timeout.
mkdir -p "$PF_DIR/state"
chown "$EMF_USER" "$PF_DIR/state"
chmod 700 "$PF_DIR/state"
STATE_DB=$PF_DIR/state/state.sqlite
for c in a b; do
	printf 'state = { enabled = true; backend = "sqlite"; path = "%s";\n  busy_timeout_ms = 300; };\n' \
	    "$STATE_DB" >> "$PF_DIR/conf.$c"
done
cp "$PF_DIR/conf.a" "$conf"
: > "$PF_DIR/expect"
for k in clean clean_ja tag quarantine reject pwzip large; do
	a=$("$top_builddir/src/cli/emofilter-scan" -c "$conf" --json "$msg/$k.eml" |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)["action"])')
	echo "$k $a" >> "$PF_DIR/expect"
done
echo "kinds: $(tr '\n' ' ' < "$PF_DIR/expect")"

pf_start_sink || exit 1
pf_start_postfix milter || exit 1
pf_start_emofilter "$conf" || exit 1

# ---- the fault script --------------------------------------------------------
# Counts go to $PF_DIR/faults (one word per fault injected).
workers() {	# live worker pids of the running daemon
	m=$(sed -n 's/.*milter process started, pid \([0-9]*\).*/\1/p' "$log" | tail -n 1)
	for p in $(pgrep -P "$(cat "$PF_DIR/emf.pid")" 2>/dev/null); do
		[ "$p" != "$m" ] && echo "$p"
	done
}
pick() { shuf -n 1 2>/dev/null; }
daemon_pids() {	# the daemon we started (by its pid) and its children
	mp=$(cat "$PF_DIR/emf.pid")
	kill -0 "$mp" 2>/dev/null && echo "$mp"
	pgrep -P "$mp" 2>/dev/null
}
restart_emofilter() {
	pids=$(daemon_pids)
	for p in $pids; do kill -KILL "$p" 2>/dev/null; done
	for p in $pids; do
		while kill -0 "$p" 2>/dev/null; do sleep 0.1; done
	done
	wait "$(cat "$PF_DIR/emf.pid")" 2>/dev/null
	sleep "$(shuf -i 1-3 -n 1)"
	EMOFILTER_TEST_HOOKS=0 "$EMF_BIN" -f -c "$conf" >>"$log" 2>&1 &
	echo $! > "$PF_DIR/emf.pid"
	pf_wait_port "$MILTER_PORT" >/dev/null
}
# state_down SECONDS: as the daemon's user (never creating a file root
# would own), lock the state for writers and close its directory; then
# open both again. Its pid goes to $PF_DIR/state.pid.
state_down() {
	[ -f "$STATE_DB" ] || return 1
	python3 - "$STATE_DB" "$1" "$EMF_USER" <<'PY' &
import os, pwd, sqlite3, sys, time
db, secs, user = sys.argv[1], float(sys.argv[2]), pwd.getpwnam(sys.argv[3])
os.setgid(user.pw_gid)
os.setuid(user.pw_uid)
c = sqlite3.connect(db, timeout=10, isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
os.chmod(os.path.dirname(db), 0)
try:
    time.sleep(secs)
finally:
    os.chmod(os.path.dirname(db), 0o700)
    c.execute("COMMIT")
PY
	echo $! > "$PF_DIR/state.pid"
	wait $!
}
faults() {
	cur=a
	f=11	# the first fault is the state's, so that every run has one
	while :; do
		sleep "$(shuf -i 2-5 -n 1)"
		case $f in
		1|2|3)	p=$(workers | pick)
			[ -n "$p" ] && kill -KILL "$p" 2>/dev/null && echo worker_kill ;;
		4|5)	p=$(workers | pick)
			if [ -n "$p" ] && kill -STOP "$p" 2>/dev/null; then
				echo worker_hang
				sleep 7
				kill -CONT "$p" 2>/dev/null
			fi ;;
		6)	restart_emofilter; echo milter_restart ;;
		7|8)	if [ $cur = a ]; then cur=b; else cur=a; fi
			cp "$PF_DIR/conf.$cur" "$conf"
			kill -HUP "$(cat "$PF_DIR/emf.pid")" 2>/dev/null && echo sighup ;;
		9|10)	dd if=/dev/zero of="$QDIR/fill" bs=1M 2>/dev/null
			echo store_full
			sleep 4
			rm -f "$QDIR/fill" ;;
		11)	state_down "$(shuf -i 3-6 -n 1)" && echo state_locked ;;
		esac
		f=$(shuf -i 1-11 -n 1)
	done >> "$PF_DIR/faults"
}
echo "$EMF_PID" > "$PF_DIR/emf.pid"
: > "$PF_DIR/faults"
faults &
FAULT_PID=$!

# ---- send ------------------------------------------------------------------------
start=$(date +%s)
python3 "$top_srcdir/tests/soak/soak-send.py" send 127.0.0.1 "$SMTP_PORT" \
    "$msg" "$N" "$SESSIONS" "$SECS" "$PF_DIR/results.json"
sent_secs=$(($(date +%s) - start))
kill "$FAULT_PID" 2>/dev/null
wait "$FAULT_PID" 2>/dev/null
FAULT_PID=
# A fault may have left a worker stopped or the store full: undo, let
# Postfix deliver what it has.
rm -f "$QDIR/fill"
[ -f "$PF_DIR/state.pid" ] && kill "$(cat "$PF_DIR/state.pid")" 2>/dev/null
chmod 700 "$PF_DIR/state"
for p in $(daemon_pids); do kill -CONT "$p" 2>/dev/null; done
kill -0 "$(cat "$PF_DIR/emf.pid")" 2>/dev/null || restart_emofilter
pf_wait_queue_empty 300 || echo "warning: Postfix queue not empty after 300 s"
secs=$(($(date +%s) - start))

# ---- accounting --------------------------------------------------------------------
python3 - "$PF_DIR" "$N" "$sent_secs" "$secs" <<'EOF'
import collections, glob, json, re, sys
d, n, sent_secs, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
res = json.load(open(d + "/results.json"))
expect = dict(l.split() for l in open(d + "/expect"))
idre = re.compile(rb"^X-Soak-ID: (s\d+)\r?$", re.M)
delivered = collections.Counter()
unscanned = []
for f in glob.glob(d + "/sink/*"):
    data = open(f, "rb").read()
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    m = idre.search(head)
    if not m:
        continue
    mid = m.group(1).decode()
    delivered[mid] += 1
    if (re.search(rb"^X-Emofilter-Action: unscanned", head, re.M) or
            not re.search(rb"^X-Emofilter-ID: ", head, re.M)):
        unscanned.append(mid)
held = collections.Counter()
for f in glob.glob(d + "/queue/hold/**/*", recursive=True):
    try:
        data = open(f, "rb").read()
    except (IsADirectoryError, OSError):
        continue
    for m in re.finditer(rb"X-Soak-ID: (s\d+)", data):
        held[m.group(1).decode()] += 1
        break
lost, dup, wrong, retried = [], [], [], 0
counts = collections.Counter()
for mid, (kind, code, attempts) in sorted(res.items()):
    if attempts > 1:
        retried += 1
    nd, nh = delivered[mid], held[mid]
    want = expect[kind]
    if 200 <= code < 300:
        if nd + nh == 0:
            lost.append(mid)
        elif nd + nh > 1:
            dup.append(mid)
        if nd:
            counts["delivered"] += 1
            if want not in ("accept", "tag"):
                wrong.append((mid, kind, "delivered"))
        elif nh:
            counts["held"] += 1
            if want != "quarantine":
                wrong.append((mid, kind, "held"))
    elif code >= 500:
        counts["rejected"] += 1
        if nd or nh:
            dup.append(mid)
        if want != "reject":
            wrong.append((mid, kind, "rejected %d" % code))
    else:
        lost.append(mid)
missing = n - len(res)
faults = collections.Counter(l.strip() for l in open(d + "/faults") if l.strip())
print("faults: " + ", ".join("%s %d" % kv for kv in sorted(faults.items())))
print("time: sending %d s, until the queue was empty %d s; %.1f messages/s"
      % (sent_secs, secs, n / max(secs, 1)))
if wrong:
    print("wrong outcome (%d), first: %s" % (len(wrong), wrong[:5]))
for name, l in (("lost", lost), ("duplicated", dup), ("unscanned-accepted", unscanned)):
    if l:
        print("%s: %s" % (name, " ".join(l[:20])))
print("sent %d: delivered %d, held %d, rejected %d, retried %d, lost %d, "
      "duplicated %d, unscanned-accepted %d; faults %d (state_locked %d)"
      % (n, counts["delivered"], counts["held"], counts["rejected"], retried,
         len(lost) + missing, len(dup), len(unscanned), sum(faults.values()),
         faults["state_locked"]))
sys.exit(1 if lost or missing or dup or unscanned or wrong else 0)
EOF
rc=$?
echo "emofilter log: $(grep -c ': id=.* result=' "$log") message lines," \
    "$(grep -c 'failure=' "$log") with failure= ($(sed -n 's/.*failure=\([a-z_]*\).*/\1/p' "$log" | sort | uniq -c | tr -s ' ' | tr '\n' ';'))"
exit $rc
