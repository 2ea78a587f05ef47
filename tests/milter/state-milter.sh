#!/bin/sh
# state-milter.sh - the correlation state in the milter (state.enabled),
# driven with miltertest (no MTA): a PPAP mail is stored and held
# (smfi_quarantine "waiting for password"), its password mail releases it
# through quarantine.sendmail (a fake one here that keeps what it is
# given) with X-Emofilter-State: released and the opened verdict, exactly
# once; the re-injected copy passing the milter again is not held again;
# a macro pair is kept (a new quarantine entry with the opened report,
# nothing re-injected); the state unreachable tempfails (SQLite). Then two
# milters (two "gateways", each its own socket and quarantine) sharing one
# PostgreSQL (a private cluster under /tmp, as tests/state.sh starts it;
# skipped, saying so, without Debian's postgresql): the mail held at one
# is released, once, by its password mail arriving at the other.
# Also: each transition is in the quarantine entry's history
# (emofilter-quarantine show); the timer (state.expire_interval) expires
# a held mail with no further mail; the correspondence memory records a
# mail of an SMTP AUTH client ({auth_authen}) and a reply to it is
# KNOWN_THREAD, a forged one from a stranger REPLY_UNKNOWN_CORRESPONDENT.
# Exit 77 (skip) without miltertest, zip, 7z or python3.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
emofilter=$top_builddir/src/milter/emofilter
Q=$top_builddir/src/cli/emofilter-quarantine
for t in miltertest zip 7z python3; do
	command -v $t >/dev/null 2>&1 || { echo "SKIP: $t not installed"; exit 77; }
done

work=$(mktemp -d /tmp/emf-state-milter.XXXXXX)
pid=
pids2=
PGD=
PGBIN=
pg_as() { "$@"; }
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	for p in $pids2; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	if [ -n "$PGD" ] && [ -f "$PGD/data/postmaster.pid" ]; then
		pg_as "$PGBIN/pg_ctl" -D "$PGD/data" -m immediate stop \
		    >/dev/null 2>&1
	fi
	[ -n "$PGD" ] && rm -rf "$PGD"
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
fail=0
pass=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "not ok - $*"; }

python3 "$top_srcdir/tests/state-fixtures.py" "$work/fx" "$top_srcdir/tests/data" ||
    exit 1
chmod -R a+rX "$work/fx"

user=
[ "$(id -u)" -eq 0 ] && user=nobody
mkdir -p "$work/run" "$work/sent"
[ -n "$user" ] && chown "$user" "$work/run" "$work/sent"
# The fake sendmail: each call leaves its arguments and the message.
cat > "$work/sendmail" <<EOF
#!/bin/sh
n=\$(date +%s%N)
printf '%s\n' "\$*" > "$work/sent/\$n.args"
cat > "$work/sent/\$n.eml"
EOF
chmod 755 "$work/sendmail"

start() {	# start CONF
	"$emofilter" -f -c "$1" 2>>"$work/log" &
	pid=$!
	i=0
	while [ ! -S "$work/run/sock" ] && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
}
stop() {
	kill -TERM "$pid"; wait "$pid"; pid=
	rm -f "$work/run/sock"
}
writeconf() {	# writeconf FILE STATE-PATH [MORE-STATE-LINES]
	cat > "$1" <<EOF
quarantine = { dir = "$work/run/q"; sendmail = "$work/sendmail";
  release_smtp = ""; };
yara = { rules_dir = "$top_srcdir/rules"; };
state = { enabled = true; path = "$2"; ${3:-} };
milter = {
  socket = "unix:$work/run/sock";
  user = "$user";
  pidfile = "";
  workers = 2;
  spool_dir = "$work/run";
};
EOF
	chmod 644 "$1"
}
writeconf "$work/test.conf" "$work/run/state.sqlite"
start "$work/test.conf"

# mtsend FILE QID: one message as Postfix sends it; prints the reply:
# "accept", "quarantine" (accepted into hold), "tempfail", "other".
cat > "$work/send.lua" <<'LUA'
local f = assert(io.open(os.getenv("EMF_FILE"), "rb"))
local text = f:read("*a"):gsub("\r\n", "\n")
f:close()
local head, body = text:match("^(.-)\n\n(.*)$")
local conn = mt.connect(os.getenv("EMF_SOCKET"), 20, 0.25)
assert(mt.negotiate(conn, nil, nil, nil) == nil)
assert(mt.conninfo(conn, "mx.partner.example", "192.0.2.9") == nil)
assert(mt.helo(conn, "mx.partner.example") == nil)
if os.getenv("EMF_AUTH") then
	assert(mt.macro(conn, SMFIC_MAIL, "i", os.getenv("EMF_QID"),
	    "{auth_authen}", os.getenv("EMF_AUTH")) == nil)
else
	assert(mt.macro(conn, SMFIC_MAIL, "i", os.getenv("EMF_QID")) == nil)
end
assert(mt.mailfrom(conn, "<" .. (os.getenv("EMF_FROM") or
    "sato@partner.example") .. ">") == nil)
assert(mt.rcptto(conn, "<" .. (os.getenv("EMF_RCPT") or
    "tanaka@corp.example") .. ">") == nil)
local hdrs = {}
for line in (head .. "\n"):gmatch("(.-)\n") do
	if line:match("^[ \t]") and #hdrs > 0 then
		hdrs[#hdrs].value = hdrs[#hdrs].value .. "\n" .. line
	else
		local n, v = line:match("^([^:]+): ?(.*)$")
		table.insert(hdrs, { name = n, value = v })
	end
end
for _, h in ipairs(hdrs) do
	assert(mt.header(conn, h.name, h.value) == nil)
end
assert(mt.eoh(conn) == nil)
assert(mt.bodystring(conn, (body:gsub("\n", "\r\n"))) == nil)
assert(mt.eom(conn) == nil)
local r = mt.getreply(conn)
if r == SMFIR_ACCEPT and mt.eom_check(conn, MT_QUARANTINE) then
	print("quarantine")
elseif r == SMFIR_ACCEPT then
	print("accept")
elseif r == SMFIR_TEMPFAIL or r == SMFIR_REPLYCODE then
	print("tempfail")	-- 451 with a text (do_tempfail)
else
	print("other")
end
LUA
mtsend() {	# mtsend FILE QID [SOCKET]
	EMF_SOCKET="unix:${3:-$work/run/sock}" EMF_FILE="$1" EMF_QID="$2" \
	    miltertest -s "$work/send.lua"
}
sent() { find "$work/sent" -name '*.eml' | wc -l; }

# ---- a PPAP pair: held, then released once
r=$(mtsend "$work/fx/ham-c.eml" QHAMC1)
if [ "$r" = quarantine ] &&
    grep -q 'QHAMC1: state: id=.* held, waiting for its password' "$work/log" &&
    grep -q 'QHAMC1: .*result=held-waiting-for-password quarantined=yes' "$work/log"
then ok "PPAP mail stored and held waiting for its password"
else bad "PPAP mail: reply '$r'"; fi
r=$(mtsend "$work/fx/ham-c-pw.eml" QHAMC2)
f=$(find "$work/sent" -name '*.eml' | head -1)
if [ "$r" = accept ] && [ "$(sent)" -eq 1 ] &&
    grep -q '^X-Emofilter-State: released' "$f" &&
    grep -q '^X-Emofilter-Action: ' "$f" &&
    grep -q 'tanaka@corp.example' "${f%.eml}.args" &&
    grep -q 'QHAMC2: state: id=.* (queue QHAMC1) resolved by this message: release' "$work/log"
then ok "its password mail re-injects it (X-Emofilter-State: released)"
else bad "release: reply '$r', $(sent) sent"; fi
r=$(mtsend "$work/fx/ham-c-pw.eml" QHAMC3)
if [ "$(sent)" -eq 1 ]; then ok "a second password mail releases nothing more"
else bad "released twice"; fi
# The re-injected copy comes back through the milter: not held again.
if [ -n "$f" ]; then
	r=$(mtsend "$f" QHAMC4)
	if [ "$r" = accept ] &&
	    ! grep -q 'QHAMC4: state: id=.* held' "$work/log" &&
	    grep -q 'QHAMC4: .*result=accepted-released' "$work/log"; then
		ok "the re-injected copy is not held a second time, keeps its verdict"
	else
		bad "re-injected copy held again ($r)"
	fi
	r=$(mtsend "$f" QHAMC5)
	if [ "$r" = quarantine ]; then
		ok "its token works once: a replay is held like any mail"
	else
		bad "token replay: $r"
	fi
fi

# showq QID: emofilter-quarantine show of the entry held as QID
heldid() { sed -n "s/.*$1: state: id=\([^ ]*\) held.*/\1/p" "$work/log" | head -1; }
showq() { "$Q" -c "$work/test.conf" show "$1" 2>&1; }
id=$(heldid QHAMC1)
showq "$id" > "$work/show"
if sed -n '/^History/,$p' "$work/show" | grep -q 'held: waiting for password (queue QHAMC1' &&
    sed -n '/^History/,$p' "$work/show" | grep -q 'resolved: release, opened by the password of mail QHAMC2' &&
    sed -n '/^History/,$p' "$work/show" | grep -q 'released: re-injected via .* to 1 recipient(s) (released)'
then ok "show: the held entry's history (held, resolved: release, released)"
else bad "held entry history"; cat "$work/show"; fi

# ---- a macro pair: kept, nothing re-injected
before=$(find "$work/run/q" -name '*.json' | wc -l)
mtsend "$work/fx/mal-a.eml" QMALA1 >/dev/null
r=$(mtsend "$work/fx/mal-a-pw.eml" QMALA2)
after=$(find "$work/run/q" -name '*.json' | wc -l)
if [ "$(sent)" -eq 1 ] && [ "$after" -eq $((before + 2)) ] &&
    grep -q 'QMALA2: state: id=.* resolved by this message: keep' "$work/log"
then ok "a macro workbook behind the password is kept (opened report stored)"
else bad "macro pair: $(sent) sent, entries $before -> $after"; fi
id=$(heldid QMALA1)
showq "$id" > "$work/show"
kid=$(sed -n 's/.*kept: the opened report is entry \([^ ]*\).*/\1/p' "$work/show")
if grep -q 'resolved: keep, opened by the password of mail QMALA2' "$work/show" &&
    [ -n "$kid" ] && showq "$kid" | grep -q "opened: the held entry $id (queue QMALA1)"
then ok "show: kept: the held entry names the opened one, which names it back"
else bad "kept history"; cat "$work/show"; fi

# ---- the timer: a held mail expires with no further mail
stop
writeconf "$work/timer.conf" "$work/run/timer.sqlite" \
    'window = 1; expire_interval = 1; expiry_action = "release_tagged";'
start "$work/timer.conf"
n0=$(sent)
r=$(mtsend "$work/fx/ham-c.eml" QTIME1)
i=0
while [ "$(sent)" -eq "$n0" ] && [ $i -lt 80 ]; do sleep 0.1; i=$((i + 1)); done
f=$(ls -t "$work/sent"/*.eml 2>/dev/null | head -1)
id=$(heldid QTIME1)
if [ "$r" = quarantine ] && [ "$(sent)" -eq $((n0 + 1)) ] &&
    grep -q '^X-Emofilter-State: expired' "$f" &&
    grep -q "timer: state: id=$id (queue QTIME1) expired (window): release_tagged" "$work/log" &&
    showq "$id" | grep -q 'expired (no password within the window): release_tagged'
then ok "timer: the held mail expires without new mail (released tagged, in its history) after $((i / 10)).$((i % 10)) s"
else bad "timer: reply '$r', $(sent) sent (was $n0)"; grep timer "$work/log"; fi
sleep 2
if [ "$(sent)" -eq $((n0 + 1)) ]; then ok "timer: expired once only"
else bad "timer: expired more than once"; fi

# ---- the correspondence memory: outbound by SMTP AUTH
stop
writeconf "$work/mem.conf" "$work/run/mem.sqlite" 'memory = { enabled = true; };'
start "$work/mem.conf"
r=$(EMF_AUTH=tanaka EMF_FROM=tanaka@corp.example EMF_RCPT=sato@partner.example \
    mtsend "$work/fx/mem-out.eml" QMEM1)
r2=$(mtsend "$work/fx/mem-reply.eml" QMEM2)
r3=$(mtsend "$work/fx/mem-forged.eml" QMEM3)
if [ "$r" = accept ] &&
    grep -q 'QMEM1: state: memory: outbound id=.* recorded (1 recipient(s))' "$work/log" &&
    grep 'QMEM2: .*symbols=' "$work/log" | grep -q KNOWN_THREAD &&
    ! grep 'QMEM2: .*symbols=' "$work/log" | grep -q FAKE_ORIGINAL_MESSAGE &&
    grep 'QMEM3: .*symbols=' "$work/log" | grep -q REPLY_UNKNOWN_CORRESPONDENT
then ok "memory: an SMTP AUTH client's mail is recorded; the reply is KNOWN_THREAD, the forged one REPLY_UNKNOWN_CORRESPONDENT"
else bad "memory in the milter: '$r' '$r2' '$r3'"; grep 'QMEM' "$work/log"; fi
# a mail we released (emofilter-quarantine release, the state's own
# re-injection) is not recorded, even from an outbound client
{ printf 'X-Emofilter-Released: 2026-12-03T00:00:00Z by test\r\n'
  cat "$work/fx/mem-out2.eml"; } > "$work/released.eml"
r=$(EMF_AUTH=tanaka EMF_FROM=tanaka@corp.example mtsend "$work/released.eml" QMEM4)
if [ "$r" = accept ] && grep -q 'QMEM4: .*result=' "$work/log" &&
    ! grep -q 'QMEM4: state: memory: outbound' "$work/log"
then ok "memory: a released mail from an outbound client is not recorded"
else bad "memory: released mail recorded ($r)"; grep QMEM4 "$work/log"; fi

# ---- the state unreachable: tempfail
stop
writeconf "$work/bad.conf" "$work/no/such/dir/state.sqlite"
start "$work/bad.conf"
r=$(mtsend "$work/fx/ham-c.eml" QBAD1)
if [ "$r" = tempfail ] &&
    grep -q 'QBAD1: .*result=tempfailed failure=store' "$work/log"; then
	ok "state unreachable: tempfail, failure=store"
else bad "state unreachable: got '$r'"; fi
stop

# ---- two milters, one PostgreSQL
for d in /usr/lib/postgresql/*/bin; do
	[ -x "$d/initdb" ] && PGBIN=$d
done
gwconf() {	# gwconf G: the configuration of gateway G
	cat > "$work/gw$1.conf" <<EOF
quarantine = { dir = "$work/gw$1/q"; sendmail = "$work/sendmail";
  release_smtp = ""; };
yara = { rules_dir = "$top_srcdir/rules"; };
state = { enabled = true; backend = "postgresql";
  conninfo = "host=$PGD port=5432 user=postgres dbname=emf"; };
milter = { socket = "unix:$work/gw$1/sock"; user = "$user"; pidfile = "";
  workers = 2; spool_dir = "$work/gw$1"; };
EOF
	chmod 644 "$work/gw$1.conf"
}
if [ -z "$PGBIN" ]; then
	echo "# SKIP: two gateways on PostgreSQL: no initdb (Debian package postgresql)"
else
	PGD=$(mktemp -d /tmp/emf-pg-XXXXXX)
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres "$PGD"
		pg_as() { runuser -u postgres -- "$@"; }
	fi
	chmod 755 "$PGD"	# the daemons' user reaches the socket
	if pg_as "$PGBIN/initdb" -D "$PGD/data" -A trust -U postgres \
	    --no-sync -E UTF8 --locale=C > "$work/initdb.log" 2>&1 &&
	    pg_as "$PGBIN/pg_ctl" -D "$PGD/data" -l "$PGD/log" -w \
	    -o "-k $PGD -c listen_addresses= -p 5432 -c fsync=off" \
	    start > "$work/pgctl.log" 2>&1 &&
	    pg_as "$PGBIN/createdb" -h "$PGD" -U postgres emf; then
		for g in a b; do
			mkdir -p "$work/gw$g"
			[ -n "$user" ] && chown "$user" "$work/gw$g"
			gwconf $g
			"$emofilter" -f -c "$work/gw$g.conf" 2>>"$work/log" &
			pids2="$pids2 $!"
			i=0
			while [ ! -S "$work/gw$g/sock" ] && [ $i -lt 100 ]; do
				sleep 0.1; i=$((i + 1))
			done
		done
		n0=$(sent)
		ra=$(mtsend "$work/fx/ham-c.eml" QGWA1 "$work/gwa/sock")
		rb=$(mtsend "$work/fx/ham-c-pw.eml" QGWB1 "$work/gwb/sock")
		mtsend "$work/fx/ham-c-pw.eml" QGWA2 "$work/gwa/sock" >/dev/null
		if [ "$ra" = quarantine ] && [ "$rb" = accept ] &&
		    [ "$(sent)" -eq $((n0 + 1)) ] &&
		    grep -q 'QGWB1: state: id=.* (queue QGWA1) resolved by this message: release' "$work/log"
		then
			ok "postgresql: held at gateway A, released once by its password mail at gateway B"
		else
			bad "two gateways: A '$ra', B '$rb', $(sent) sent (was $n0)"
		fi
		for p in $pids2; do kill -TERM "$p"; wait "$p"; done
		pids2=
	else
		echo "# SKIP: two gateways on PostgreSQL: the private cluster did not start"
		tail -5 "$work/initdb.log" "$work/pgctl.log" 2>/dev/null | sed 's/^/#   /'
	fi
fi
grep -q -e 'Sanitizer' -e 'runtime error' "$work/log" && bad "sanitizer report in the log"

echo "# state-milter.sh: $pass passed, $fail failed"
if [ $fail -ne 0 ]; then
	echo "---- daemon log"; cat "$work/log"
	exit 1
fi
