#!/bin/sh
# state-e2e.sh - the PPAP follow-up behind a real Postfix (postfix-lib.sh:
# a private Postfix on loopback relaying to smtp-sink, the test emofilter
# with state.enabled and a SQLite state): a mail whose password zip cannot
# be opened goes to the hold queue; its password mail arrives; the held
# mail is re-injected and delivered exactly once, also when the password
# mail comes a second time, with its opened verdict and without the
# X-Emofilter-State-Token header. Re-injected as shipped: by SMTP to
# quarantine.release_smtp, the no-milter service of contrib/postfix/
# master.cf (no token: nothing scans it again); then by sendmail
# (release_smtp = ""; a stand-in that submits to the milter port, as
# Postfix's sendmail passes non_smtpd_milters), where the milter takes
# its one-time token (not held again) and removes it. Run with the SQLite state, then with a private PostgreSQL
# cluster (skipped, saying so, without Debian's postgresql). Then two
# gateways on that PostgreSQL: a second private Postfix (its own
# directory, ports and queue) with its own emofilter; the zip mail goes
# through gateway A (held in A's hold queue), its password mail through
# gateway B, and the held mail is re-injected at B and delivered exactly
# once, also when a second password mail comes to A (each gateway
# re-injects through its own no-milter port). Needs root,
# Postfix, swaks, zip, 7z, python3; exit 77 (skip) otherwise. KEEP=1
# keeps the directory.
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
PGD=
PGBIN=
B_DIR=
B_EMF=
cleanup() {
	if [ -n "$B_DIR" ]; then
		[ -n "$B_EMF" ] && kill -TERM "$B_EMF" 2>/dev/null &&
		    wait "$B_EMF" 2>/dev/null
		postfix -c "$B_DIR/etc" stop >/dev/null 2>&1
	fi
	pf_stop_all
	if [ -n "$PGD" ] && [ -f "$PGD/data/postmaster.pid" ]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGD/data" \
		    -m immediate stop >/dev/null 2>&1
	fi
	[ -n "$PGD" ] && rm -rf "$PGD"
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $PF_DIR"; else rm -rf "$PF_DIR"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "not ok - $*"; }

pf_ports
REL_PORT=$(pf_free_port)
pf_setup_dirs
conf=$PF_DIR/emofilter.conf
PF_MASTER_EXTRA=$(pf_release_service "$REL_PORT")
case $PF_MASTER_EXTRA in
*"-o smtpd_milters="*) ;;
*) echo "no re-injection service in contrib/postfix/master.cf"; exit 1;;
esac
pf_start_sink || exit 1
pf_start_postfix milter || exit 1
# A sendmail whose mail passes the milter, as Postfix's does with
# non_smtpd_milters (its own -C directory is refused to a user other than
# root): SENDMAIL -G -i -f SENDER -- RCPTS into the milter port.
cat > "$PF_DIR/sendmail" <<EOF
#!/usr/bin/python3
import smtplib, sys
a = sys.argv[1:]
rcpts = a[a.index("--") + 1:]
with smtplib.SMTP("127.0.0.1", $SMTP_PORT, timeout=60) as s:
    s.sendmail(a[a.index("-f") + 1], rcpts, sys.stdin.buffer.read())
EOF
chmod 755 "$PF_DIR/sendmail"

send() {	# send FILE [PORT]: the last SMTP reply code
	swaks --timeout 60 --server "127.0.0.1:${2:-$SMTP_PORT}" \
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

# gwconf FILE DIR RELEASE-SMTP MILTER-PORT STATE-SETTINGS: the emofilter
# of one gateway. The shipped weights (not tests/milter/test-scores.conf,
# which would quarantine a closed zip outright: such a mail waits for
# nothing). Held mail is re-injected into the gateway's Postfix: by SMTP
# to RELEASE-SMTP (host:port), or by DIR/sendmail when that is "".
gwconf() {
	cat > "$1" <<EOF
quarantine = { dir = "$2/run/quarantine";
  release_smtp = "$3"; sendmail = "$2/sendmail"; };
yara = { rules_dir = "$top_srcdir/rules"; };
state = { enabled = true; $5 };
milter = {
  socket = "inet:$4@127.0.0.1";
  user = "$EMF_USER";
  pidfile = "$2/run/emofilter.pid";
  spool_dir = "$2/run";
  workers = 2;
};
EOF
	chmod 644 "$1"
}

# run BACKEND STATE-SETTINGS [RELEASE-SMTP]: the case with one backend
# (new fixtures, so new Message-IDs; counts relative to what is there
# already); re-injected to the no-milter port, or as RELEASE-SMTP says.
run() {
	be=$1
	rel=${3-127.0.0.1:$REL_PORT}
	fx=$PF_DIR/fx-$be
	python3 "$top_srcdir/tests/state-fixtures.py" "$fx" \
	    "$top_srcdir/tests/data" || exit 1
	chmod -R a+rX "$fx"
	gwconf "$conf" "$PF_DIR" "$rel" "$MILTER_PORT" "$2"
	: > "$PF_DIR/emofilter.log"
	pf_start_emofilter "$conf" || exit 1
	held0=$(pf_held)

	r=$(send "$fx/ham-c.eml")
	settle
	if [ "$r" = 250 ] && [ "$(pf_held)" -eq $((held0 + 1)) ] &&
	    [ "$(copies "$fx/ham-c.eml")" -eq 0 ] &&
	    grep -q 'held, waiting for its password' "$PF_DIR/emofilter.log"
	then
		ok "$be: the PPAP mail is in the hold queue, waiting for its password"
	else
		bad "$be: hold: reply $r, held $(pf_held), delivered $(pf_delivered)"
	fi
	r=$(send "$fx/ham-c-pw.eml")
	settle
	if [ "$r" = 250 ] && [ "$(copies "$fx/ham-c.eml")" -eq 1 ] &&
	    [ "$(copies "$fx/ham-c-pw.eml")" -eq 1 ] &&
	    grep -q 'resolved by this message: release' "$PF_DIR/emofilter.log"
	then
		ok "$be: its password mail arrives: the held mail is delivered"
	else
		bad "$be: release: reply $r, copies $(copies "$fx/ham-c.eml"), delivered $(pf_delivered)"
	fi
	r=$(send "$fx/ham-c-pw.eml")
	settle
	if [ "$(copies "$fx/ham-c.eml")" -eq 1 ] &&
	    [ "$(copies "$fx/ham-c-pw.eml")" -eq 2 ] &&
	    [ "$(pf_held)" -eq $((held0 + 1)) ]; then
		ok "$be: exactly once: a second password mail delivers nothing more (the hold-queue copy stays for the admin)"
	else
		bad "$be: once: copies $(copies "$fx/ham-c.eml")"
	fi
	held=$(grep -c 'held, waiting for its password' "$PF_DIR/emofilter.log")
	mid=$(sed -n 's/^Message-ID: *//Ip' "$fx/ham-c.eml" | head -1 | tr -d '\r')
	got=$(grep -lF -- "$mid" "$PF_DIR/sink/"* 2>/dev/null | head -1)
	if [ -n "$got" ] && grep -q '^X-Emofilter-State: released' "$got" &&
	    grep -q '^X-Emofilter-Released: ' "$got" &&
	    ! grep -qi '^X-Emofilter-State-Token' "$got" &&
	    [ "$(grep -c '^X-Emofilter-Action: ' "$got")" -eq 1 ]; then
		ok "$be: delivered with its opened verdict and X-Emofilter-State, the token gone"
	else
		bad "$be: the delivered copy's headers"; grep '^X-Emofilter' "$got" 2>/dev/null
	fi
	if [ "$held" -eq 1 ]; then
		ok "$be: the re-injected copy passed the milter without being held again"
	else
		bad "$be: held $held times"
	fi
	cat "$PF_DIR/emofilter.log" >> "$PF_DIR/emofilter-all.log"
	pf_stop_emofilter
}

# two_gateways STATE-SETTINGS: gateway A (the Postfix above) and gateway B
# (a second private Postfix), each with its own emofilter, one state.
two_gateways() {
	fx=$PF_DIR/fx-2gw
	python3 "$top_srcdir/tests/state-fixtures.py" "$fx" \
	    "$top_srcdir/tests/data" || exit 1
	chmod -R a+rX "$fx"
	# gateway B: the postfix-lib.sh functions on B's directory and ports
	# (the same smtp-sink behind both)
	A_DIR=$PF_DIR A_SMTP=$SMTP_PORT A_MILTER=$MILTER_PORT A_EXTRA=$PF_MASTER_EXTRA
	B_DIR=$PF_DIR/gwb
	PF_DIR=$B_DIR
	SMTP_PORT=$(pf_free_port)
	MILTER_PORT=$(pf_free_port)
	B_SMTP=$SMTP_PORT B_MILTER=$MILTER_PORT B_REL=$(pf_free_port)
	PF_MASTER_EXTRA=$(pf_release_service "$B_REL")
	pf_setup_dirs
	gwconf "$B_DIR/emofilter.conf" "$B_DIR" "127.0.0.1:$B_REL" "$B_MILTER" "$1"
	pf_start_emofilter "$B_DIR/emofilter.conf" || exit 1
	B_EMF=$EMF_PID
	EMF_PID=
	pf_start_postfix milter || exit 1
	PF_DIR=$A_DIR SMTP_PORT=$A_SMTP MILTER_PORT=$A_MILTER PF_MASTER_EXTRA=$A_EXTRA
	gwconf "$conf" "$PF_DIR" "127.0.0.1:$REL_PORT" "$MILTER_PORT" "$1"
	: > "$PF_DIR/emofilter.log"
	pf_start_emofilter "$conf" || exit 1
	held0=$(pf_held)
	heldb=$(find "$B_DIR/queue/hold" -type f 2>/dev/null | wc -l)
	settle_both() { settle; PF_DIR=$B_DIR pf_wait_queue_empty 30; sleep 1; }

	ra=$(send "$fx/ham-c.eml" "$A_SMTP")
	settle_both
	rb=$(send "$fx/ham-c-pw.eml" "$B_SMTP")
	settle_both
	if [ "$ra" = 250 ] && [ "$rb" = 250 ] &&
	    [ "$(pf_held)" -eq $((held0 + 1)) ] &&
	    [ "$(find "$B_DIR/queue/hold" -type f | wc -l)" -eq "$heldb" ] &&
	    grep -q 'held, waiting for its password' "$PF_DIR/emofilter.log" &&
	    grep -q 'resolved by this message: release' "$B_DIR/emofilter.log" &&
	    [ "$(copies "$fx/ham-c.eml")" -eq 1 ] &&
	    [ "$(copies "$fx/ham-c-pw.eml")" -eq 1 ]; then
		ok "two Postfix gateways, one PostgreSQL: held at A, its password mail at B delivers it"
	else
		bad "two gateways: A $ra, B $rb, A held $(pf_held) (was $held0), copies $(copies "$fx/ham-c.eml")"
	fi
	send "$fx/ham-c-pw.eml" "$A_SMTP" >/dev/null
	settle_both
	mid=$(sed -n 's/^Message-ID: *//Ip' "$fx/ham-c.eml" | head -1 | tr -d '\r')
	got=$(grep -lF -- "$mid" "$PF_DIR/sink/"* 2>/dev/null | head -1)
	nheld=$(cat "$PF_DIR/emofilter.log" "$B_DIR/emofilter.log" |
	    grep -c 'held, waiting for its password')
	if [ "$(copies "$fx/ham-c.eml")" -eq 1 ] &&
	    [ "$(copies "$fx/ham-c-pw.eml")" -eq 2 ] &&
	    [ -n "$got" ] && grep -q '^X-Emofilter-State: released' "$got" &&
	    ! grep -qi '^X-Emofilter-State-Token' "$got" &&
	    [ "$nheld" -eq 1 ]; then
		ok "two gateways: exactly once (a second password mail at A delivers nothing more; the copy re-injected at B was not held again)"
	else
		bad "two gateways: once: copies $(copies "$fx/ham-c.eml"), held $nheld times"
	fi
	cat "$PF_DIR/emofilter.log" "$B_DIR/emofilter.log" >> "$PF_DIR/emofilter-all.log"
	pf_stop_emofilter
	kill -TERM "$B_EMF" 2>/dev/null && wait "$B_EMF" 2>/dev/null
	B_EMF=
	postfix -c "$B_DIR/etc" stop >/dev/null 2>&1
	i=0	# postfix stop returns before the master has gone
	while kill -0 "$(cat "$B_DIR/queue/pid/master.pid" 2>/dev/null)" \
	    2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
}

run sqlite "path = \"$PF_DIR/run/state.sqlite\";"
run sqlite-sendmail "path = \"$PF_DIR/run/state.sqlite\";" ""

for d in /usr/lib/postgresql/*/bin; do
	[ -x "$d/initdb" ] && PGBIN=$d
done
if [ -z "$PGBIN" ]; then
	echo "# SKIP: PostgreSQL: no initdb (Debian package postgresql)"
else
	PGD=$(mktemp -d /tmp/emf-pg-XXXXXX)
	chown postgres "$PGD"
	chmod 755 "$PGD"	# the daemon's user reaches the socket
	pg() { runuser -u postgres -- "$@"; }
	if pg "$PGBIN/initdb" -D "$PGD/data" -A trust -U postgres --no-sync \
	    -E UTF8 --locale=C > "$PF_DIR/initdb.log" 2>&1 &&
	    pg "$PGBIN/pg_ctl" -D "$PGD/data" -l "$PGD/log" -w \
	    -o "-k $PGD -c listen_addresses= -p 5432 -c fsync=off" start \
	    > "$PF_DIR/pgctl.log" 2>&1 &&
	    pg "$PGBIN/createdb" -h "$PGD" -U postgres emf; then
		run postgresql "backend = \"postgresql\"; conninfo = \"host=$PGD port=5432 user=postgres dbname=emf\";"
		pg "$PGBIN/createdb" -h "$PGD" -U postgres emf2 &&
		    two_gateways "backend = \"postgresql\"; conninfo = \"host=$PGD port=5432 user=postgres dbname=emf2\";"
	else
		echo "# SKIP: PostgreSQL: the private cluster did not start"
	fi
fi

echo "# state-e2e.sh: $pass passed, $fail failed"
if [ $fail -ne 0 ]; then
	echo "---- emofilter log"; tail -30 "$PF_DIR/emofilter-all.log" "$PF_DIR/emofilter.log"
	echo "---- maillog"; tail -30 "$PF_DIR/maillog" 2>/dev/null
	exit 1
fi
