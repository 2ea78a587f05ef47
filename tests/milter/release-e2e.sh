#!/bin/sh
# release-e2e.sh - the CSIRT's actions on held mail through a real private
# Postfix set up as contrib/postfix ships it: the re-injection service of
# contrib/postfix/master.cf (on a free port, not chrooted) and
# quarantine.release_smtp pointing at it, the store in the CSIRT model
# (owner the daemon user, group gid 4343, 2750).
#
#   1. held (hold queue + store, queue ID recorded, entry 0640 group 4343);
#      release as root: the hold copy is freed (postsuper -H), delivered
#      exactly once, the hold queue empty, not quarantined again; a second
#      release is refused and delivers nothing.
#   2. held; delete as root: the hold copy is gone too (postqueue -j).
#   3. held; release as the daemon user (no root: no postsuper): re-injected
#      through the no-milter port, delivered once, not scanned again, the
#      hold copy left with a note; sync (root) removes it; nothing more is
#      delivered.
#   4. held, then its store entry removed by hand: sync reports the hold
#      copy and leaves it.
#   5. stats --daemon: the daemon's counters (metrics.listen) beside the
#      store's, the held count equal to the log's.
# Every action is checked in the audit log. Needs root, Postfix, python3,
# zip, script, setpriv; exit 77 (skip) otherwise. Run by contrib/test.sh.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (Postfix)"; exit 77; }
for t in postfix postsuper postqueue postcat smtp-sink zip python3 script setpriv; do
	command -v $t >/dev/null 2>&1 || { echo "SKIP: $t not installed"; exit 77; }
done
id postfix >/dev/null 2>&1 || { echo "SKIP: no postfix user"; exit 77; }
Q=$top_builddir/src/cli/emofilter-quarantine
[ -x "$top_builddir/src/milter/emofilter" ] && [ -x "$Q" ] || { echo "build first"; exit 1; }

PF_DIR=$(mktemp -d /tmp/emf-rel.XXXXXX)
. "$top_srcdir/tests/milter/postfix-lib.sh"
cleanup() {
	pf_stop_all
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $PF_DIR"; else rm -rf "$PF_DIR"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

t0=$(date +%s)
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
log=$PF_DIR/emofilter.log
msg=$PF_DIR/msg
store=$PF_DIR/run/quarantine
audit=$store/audit.log

pf_ports
REL_PORT=$(pf_free_port)
METRICS_PORT=$(pf_free_port)
pf_setup_dirs
"$top_srcdir/tests/milter/make-messages.sh" "$msg" || exit 1
# The store as the package makes it (postinst), for the daemon user.
install -d -o "$EMF_USER" -g 4343 -m 2750 "$store"
# The shipped re-injection service, on our port and without the chroot.
PF_MASTER_EXTRA=$(pf_release_service "$REL_PORT")
case $PF_MASTER_EXTRA in
*"-o smtpd_milters="*"no_milters"*) ok "re-injection service taken from contrib/postfix/master.cf";;
*) bad "no re-injection service in contrib/postfix/master.cf"; exit 1;;
esac
conf=$PF_DIR/emofilter.conf
pf_write_emf_conf "$conf" "workers = 2;"
grep -q 'release_smtp = "127.0.0.1:10026"' "$top_srcdir/conf/emofilter.conf" &&
    ok "conf/emofilter.conf releases through 127.0.0.1:10026" ||
    bad "conf/emofilter.conf: release_smtp is not the shipped port"
sed -i "s|^quarantine = { dir = \"\([^\"]*\)\"; };|quarantine = { dir = \"\1\"; release_smtp = \"127.0.0.1:$REL_PORT\"; postfix_config = \"$PF_DIR/etc\"; sendmail = \"/bin/false\"; };\nmetrics = { listen = \"127.0.0.1:$METRICS_PORT\"; };|" "$conf"
grep -q "release_smtp = \"127.0.0.1:$REL_PORT\"" "$conf" || { bad "config not written"; exit 1; }
# emofilter -t accepts the CSIRT store, refuses a group-writable one
"$EMF_BIN" -t -c "$conf" >"$PF_DIR/t.out" 2>&1
grep -q "quarantine.*OK ($store, owner $EMF_USER, mode 2750)" "$PF_DIR/t.out" &&
    ok "emofilter -t: store 2750 OK" || bad "emofilter -t: $(cat "$PF_DIR/t.out")"
chmod 2770 "$store"
"$EMF_BIN" -t -c "$conf" >"$PF_DIR/t.out" 2>&1 && bad "emofilter -t passed a 2770 store"
grep -q "has mode 2770: its group may change the quarantine" "$PF_DIR/t.out" &&
    ok "emofilter -t: store 2770 refused" || bad "emofilter -t 2770: $(cat "$PF_DIR/t.out")"
chmod 2750 "$store"
pf_start_sink || exit 1
pf_start_postfix milter || exit 1
pf_wait_port "$REL_PORT" || exit 1
pf_start_emofilter "$conf" || exit 1

# hold NAME: send quarantine.eml with Message-ID <NAME.emftest@example.org>;
# sets QID and RID from the log line.
n_held=0
hold() {
	sed "s/quarantine\.emftest/$1.emftest/" "$msg/quarantine.eml" >"$PF_DIR/$1.eml"
	python3 "$top_srcdir/tests/milter/smtp-send.py" 127.0.0.1 "$SMTP_PORT" \
	    "$PF_DIR/$1.eml" 1 1 >/dev/null
	pf_wait_queue_empty 30
	n_held=$((n_held + 1))
	i=0
	until [ "$(grep -c 'action=quarantine result=held' "$log")" -ge $n_held ] || [ $i -gt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	line=$(grep 'action=quarantine result=held' "$log" | tail -1)
	QID=$(echo "$line" | sed -n 's/.*\]: \([0-9A-Za-z]*\): id=.*/\1/p')
	RID=$(echo "$line" | sed -n 's/.* id=\([^ ]*\) .*/\1/p')
	[ -n "$QID" ] && [ -n "$RID" ] && [ -f "$PF_DIR/queue/hold/$QID" ]
}
# delivered NAME: how many copies the sink got
delivered() { grep -l -F -- "<$1.emftest@example.org>" "$PF_DIR"/sink/* 2>/dev/null | wc -l; }
# in_queue QID: whether postqueue -j lists it (any queue)
in_queue() { postqueue -c "$PF_DIR/etc" -j | grep -q "\"queue_id\": *\"$1\""; }
# audited ACTION ID PREFIX: a line of the audit log with that result
audited() {
	python3 - "$audit" "$1" "$2" "$3" <<'EOF'
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
a, i, p = sys.argv[2:5]
sys.exit(0 if any(e["action"] == a and e["id"] == i and e["result"].startswith(p) for e in log) else 1)
EOF
}
# wait_delivered NAME N: until the sink has N copies (10 s)
wait_delivered() {
	i=0
	until [ "$(delivered "$1")" -ge "$2" ] || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
}

# ---- 1. held; release as root frees the hold copy
if hold rel1; then
	ok "held: $QID in the hold queue, entry $RID"
	j=$(find "$store" -name "$RID.json")
	grep -q "\"queue_id\":\"$QID\"" "$j" && ok "held: the entry records queue ID $QID" ||
	    bad "held: queue ID not in the report"
	[ "$(stat -c '%a %U %g' "$j")" = "640 $EMF_USER 4343" ] &&
	    [ "$(stat -c '%a %g' "$(dirname "$j")")" = "2750 4343" ] &&
	    ok "held: entry 0640 and day directory 2750, group CSIRT (milter-written)" ||
	    bad "held: modes $(stat -c '%a %U %g' "$j" "$(dirname "$j")")"
	q1=$QID
	r1=$RID
	"$Q" -c "$conf" release "$r1" >"$PF_DIR/out" 2>&1 && ok "release $r1: exit 0" ||
	    bad "release $r1: $(cat "$PF_DIR/out")"
	wait_delivered rel1 1
	pf_wait_queue_empty 30
	sleep 1
	[ "$(delivered rel1)" -eq 1 ] && ok "release: delivered exactly once" ||
	    bad "release: delivered $(delivered rel1) times"
	[ ! -e "$PF_DIR/queue/hold/$q1" ] && ! in_queue "$q1" &&
	    ok "release: hold copy $q1 gone from the queue" || bad "release: $q1 still queued"
	[ "$(grep -c 'action=quarantine result=held' "$log")" -eq $n_held ] &&
	    ok "release: not quarantined again" || bad "release: held again"
	f=$(grep -l -F '<rel1.emftest@example.org>' "$PF_DIR"/sink/* | head -1)
	grep -q "^X-Emofilter-ID: $r1" "$f" && ok "release: the held copy itself left (its X-Emofilter-ID)" ||
	    bad "release: delivered copy lacks X-Emofilter-ID $r1"
	audited release "$r1" "started" && audited release "$r1" "ok; hold copy $q1 freed" &&
	    ok "release: audit log (started, ok; hold copy freed)" || bad "release: audit log"
	"$Q" -c "$conf" release "$r1" >"$PF_DIR/out" 2>&1
	rc=$?
	sleep 3
	[ $rc -eq 1 ] && grep -q "already released" "$PF_DIR/out" && [ "$(delivered rel1)" -eq 1 ] &&
	    ok "second release refused (exit 1), still 1 delivery" ||
	    bad "second release: exit $rc, $(delivered rel1) deliveries: $(cat "$PF_DIR/out")"
	audited release "$r1" "refused" && ok "second release: audited as refused" ||
	    bad "second release: not in the audit log"
else
	bad "rel1 not held"
fi

# ---- 2. held; delete as root removes the hold copy too
if hold del1; then
	q2=$QID
	r2=$RID
	"$Q" -c "$conf" delete "$r2" >"$PF_DIR/out" 2>&1 && ok "delete $r2: exit 0" ||
	    bad "delete: $(cat "$PF_DIR/out")"
	! in_queue "$q2" && [ ! -e "$PF_DIR/queue/hold/$q2" ] &&
	    ok "delete: hold copy $q2 gone (postqueue -j)" || bad "delete: $q2 still queued"
	[ -z "$(find "$store" -name "$r2.*")" ] && ok "delete: entry gone" || bad "delete: entry left"
	audited delete "$r2" "ok; hold copy $q2 removed" && ok "delete: audit log" ||
	    bad "delete: audit log"
	sleep 2
	[ "$(delivered del1)" -eq 0 ] && ok "delete: nothing delivered" || bad "delete: delivered"
else
	bad "del1 not held"
fi

# ---- 3. release without root: re-injected through the no-milter port,
# the hold copy left for sync
if hold rel2; then
	q3=$QID
	r3=$RID
	nlines=$(grep -c ': id=.* result=' "$log")
	uid=$(id -u "$EMF_USER")
	gid=$(id -g "$EMF_USER")
	setpriv --reuid="$uid" --regid="$gid" --clear-groups "$Q" -c "$conf" release "$r3" \
	    >"$PF_DIR/out" 2>&1 && ok "release as $EMF_USER: exit 0" ||
	    bad "release as $EMF_USER: $(cat "$PF_DIR/out")"
	grep -q "hold copy $q3 left for sync (.*); run emofilter-quarantine sync as root" "$PF_DIR/out" &&
	    ok "release as $EMF_USER: says the hold copy is left, and why" ||
	    bad "release as $EMF_USER: no word on the hold copy: $(cat "$PF_DIR/out")"
	wait_delivered rel2 1
	pf_wait_queue_empty 30
	sleep 1
	[ "$(delivered rel2)" -eq 1 ] && ok "re-injected: delivered exactly once" ||
	    bad "re-injected: delivered $(delivered rel2) times"
	f=$(grep -l -F '<rel2.emftest@example.org>' "$PF_DIR"/sink/* | head -1)
	[ -n "$f" ] && grep -q '^X-Emofilter-Released: ' "$f" && ! grep -q '^X-Emofilter-Action' "$f" &&
	    [ "$(grep -c ': id=.* result=' "$log")" -eq "$nlines" ] &&
	    ok "re-injected: not scanned again (no milter on the port)" ||
	    bad "re-injected: scanned again or not marked released"
	[ -f "$PF_DIR/queue/hold/$q3" ] && [ -n "$(find "$store" -name "$r3.hold")" ] &&
	    ok "re-injected: hold copy $q3 left, noted for sync" || bad "re-injected: no hold copy or note"
	audited release "$r3" "ok; hold copy $q3 left for sync" && ok "re-injected: audit log says so" ||
	    bad "re-injected: audit log"
	"$Q" -c "$conf" sync >"$PF_DIR/sync.out" 2>&1 && ok "sync: exit 0" ||
	    bad "sync: $(cat "$PF_DIR/sync.out")"
	sed 's/^/  sync| /' "$PF_DIR/sync.out"
	! in_queue "$q3" && [ -z "$(find "$store" -name "$r3.hold")" ] &&
	    ok "sync: hold copy $q3 removed, note gone" || bad "sync: $q3 still queued"
	audited sync "$r3" "ok: hold copy $q3 removed" && ok "sync: audit log" || bad "sync: audit log"
	sleep 2
	[ "$(delivered rel2)" -eq 1 ] && ok "sync: still exactly one delivery" ||
	    bad "sync: $(delivered rel2) deliveries"
else
	bad "rel2 not held"
fi

# ---- 4. a hold copy whose entry is not in the store: reported, left
if hold orphan; then
	q4=$QID
	find "$store" -name "$RID.*" -delete
	"$Q" -c "$conf" sync >"$PF_DIR/sync.out" 2>&1
	grep -q "hold copy $q4 carries X-Emofilter-ID $RID, which is not in the store" "$PF_DIR/sync.out" &&
	    [ -f "$PF_DIR/queue/hold/$q4" ] && ok "sync: orphan hold copy $q4 reported, left alone" ||
	    bad "sync: orphan: $(cat "$PF_DIR/sync.out")"
else
	bad "orphan not held"
fi

# ---- 5. stats reads the daemon's counters
"$Q" -c "$conf" stats --daemon >"$PF_DIR/stats.out" 2>&1 && ok "stats --daemon: exit 0" ||
    bad "stats --daemon: $(cat "$PF_DIR/stats.out")"
grep -q '^Daemon counters' "$PF_DIR/stats.out" &&
    grep -Eq "^  quarantine +held +$n_held\$" "$PF_DIR/stats.out" &&
    grep -Eq '^  tempfails \(451\) +0$' "$PF_DIR/stats.out" &&
    ok "stats --daemon: quarantine/held $n_held as the log says, tempfails 0" ||
    bad "stats --daemon: $(cat "$PF_DIR/stats.out")"
"$Q" -c "$conf" stats --json --metrics "http://127.0.0.1:$METRICS_PORT/metrics" |
    python3 -c '
import json, sys
d = json.load(sys.stdin)
held = [m["count"] for m in d["daemon"]["messages"] if m["action"] == "quarantine" and m["result"] == "held"]
assert held == [int(sys.argv[1])], d["daemon"]
assert d["store"]["total"] >= 1, d["store"]
' "$n_held" && ok "stats --json --metrics URL: store and daemon" || bad "stats --json --metrics"
"$Q" -c "$conf" stats --metrics "127.0.0.1:$(pf_free_port)" >"$PF_DIR/out" 2>&1
[ $? -eq 3 ] && grep -q "connect" "$PF_DIR/out" && ok "stats --metrics: no daemon there, exit 3" ||
    bad "stats --metrics to nothing: $(cat "$PF_DIR/out")"

echo "release-e2e.sh: $(($(date +%s) - t0)) s"
if [ $fail -ne 0 ]; then
	echo "---- emofilter log (tail)"; tail -20 "$log"
	echo "---- Postfix log (tail)"; tail -30 "$PF_DIR/maillog"
	echo "---- audit log"; cat "$audit"
	exit 1
fi
echo "release-e2e.sh: all checks passed"
