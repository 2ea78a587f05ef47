#!/bin/sh
# state-e2e.sh - the PPAP follow-up behind a real Postfix (postfix-lib.sh:
# a private Postfix on loopback relaying to smtp-sink, the test emofilter
# with state.enabled and a SQLite state): a mail whose password zip cannot
# be opened goes to the hold queue; its password mail arrives; the held
# mail is re-injected (quarantine.release_smtp: back through the same
# Postfix and milter, where its one-time token keeps it from being held
# again) and delivered exactly once, also when the password mail comes a
# second time. Needs root, Postfix, swaks, zip, 7z, python3; exit 77
# (skip) otherwise. KEEP=1 keeps the directory.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (Postfix)"; exit 77; }
for t in postfix smtp-sink swaks zip 7z python3 script; do
	command -v $t >/dev/null 2>&1 || { echo "SKIP: $t not installed"; exit 77; }
done
id postfix >/dev/null 2>&1 || { echo "SKIP: no postfix user"; exit 77; }
[ -x "$top_builddir/src/milter/emofilter" ] || { echo "build first"; exit 1; }

PF_DIR=$(mktemp -d /tmp/emf-state-e2e.XXXXXX)
. "$top_srcdir/tests/milter/postfix-lib.sh"
cleanup() {
	pf_stop_all
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $PF_DIR"; else rm -rf "$PF_DIR"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "not ok - $*"; }

pf_ports
pf_setup_dirs
python3 "$top_srcdir/tests/state-fixtures.py" "$PF_DIR/fx" \
    "$top_srcdir/tests/data" || exit 1
chmod -R a+rX "$PF_DIR/fx"
conf=$PF_DIR/emofilter.conf
# The shipped weights (not tests/milter/test-scores.conf, which would
# quarantine a closed zip outright: such a mail waits for nothing). Held
# mail is re-injected by SMTP into the same Postfix.
cat > "$conf" <<EOF
quarantine = { dir = "$PF_DIR/run/quarantine";
  release_smtp = "127.0.0.1:$SMTP_PORT"; };
yara = { rules_dir = "$top_srcdir/rules"; };
state = { enabled = true; path = "$PF_DIR/run/state.sqlite"; };
milter = {
  socket = "inet:$MILTER_PORT@127.0.0.1";
  user = "$EMF_USER";
  pidfile = "$PF_DIR/run/emofilter.pid";
  spool_dir = "$PF_DIR/run";
  workers = 2;
};
EOF
chmod 644 "$conf"
pf_start_sink || exit 1
pf_start_postfix milter || exit 1
pf_start_emofilter "$conf" || exit 1

send() {	# send FILE: the last SMTP reply code
	swaks --timeout 60 --server "127.0.0.1:$SMTP_PORT" \
	    --from sato@partner.example --to tanaka@corp.example \
	    --data "@$1" > "$PF_DIR/swaks.out" 2>&1
	sed -n 's/^<[~*-]* *\([2-5][0-9][0-9]\) .*/\1/p' "$PF_DIR/swaks.out" |
	    grep -v '^221$' | tail -1
}
# copies FILE: delivered messages holding FILE's Message-ID
copies() {
	mid=$(sed -n 's/^Message-ID: *//Ip' "$1" | head -1 | tr -d '\r')
	grep -lF -- "$mid" "$PF_DIR/sink/"* 2>/dev/null | wc -l
}
settle() { pf_wait_queue_empty 30; sleep 2; pf_wait_queue_empty 30; }

r=$(send "$PF_DIR/fx/ham-c.eml")
settle
if [ "$r" = 250 ] && [ "$(pf_held)" -eq 1 ] &&
    [ "$(copies "$PF_DIR/fx/ham-c.eml")" -eq 0 ] &&
    grep -q 'held, waiting for its password' "$PF_DIR/emofilter.log"; then
	ok "the PPAP mail is in the hold queue, waiting for its password"
else
	bad "hold: reply $r, held $(pf_held), delivered $(pf_delivered)"
fi
r=$(send "$PF_DIR/fx/ham-c-pw.eml")
settle
if [ "$r" = 250 ] && [ "$(copies "$PF_DIR/fx/ham-c.eml")" -eq 1 ] &&
    [ "$(copies "$PF_DIR/fx/ham-c-pw.eml")" -eq 1 ] &&
    grep -q 'resolved by this message: release' "$PF_DIR/emofilter.log"; then
	ok "its password mail arrives: the held mail is delivered"
else
	bad "release: reply $r, copies $(copies "$PF_DIR/fx/ham-c.eml"), delivered $(pf_delivered)"
fi
r=$(send "$PF_DIR/fx/ham-c-pw.eml")
settle
if [ "$(copies "$PF_DIR/fx/ham-c.eml")" -eq 1 ] &&
    [ "$(copies "$PF_DIR/fx/ham-c-pw.eml")" -eq 2 ] &&
    [ "$(pf_held)" -eq 1 ]; then
	ok "exactly once: a second password mail delivers nothing more (the Postfix hold copy stays for the admin)"
else
	bad "once: copies $(copies "$PF_DIR/fx/ham-c.eml")"
fi
held=$(grep -c 'held, waiting for its password' "$PF_DIR/emofilter.log")
if [ "$held" -eq 1 ]; then
	ok "the re-injected copy passed the milter without being held again"
else
	bad "held $held times"
fi

echo "# state-e2e.sh: $pass passed, $fail failed"
if [ $fail -ne 0 ]; then
	echo "---- emofilter log"; tail -30 "$PF_DIR/emofilter.log"
	echo "---- maillog"; tail -30 "$PF_DIR/maillog" 2>/dev/null
	exit 1
fi
