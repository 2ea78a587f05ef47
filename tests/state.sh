#!/bin/sh
# state.sh - PPAP follow-up correlation (emofilter-scan --state) against
# both state backends: SQLite (a file here) and PostgreSQL (a private
# cluster started here from Debian's postgresql package: initdb under
# /tmp, a unix socket only, stopped at the end; as root it runs as the
# postgres user). The PostgreSQL half is skipped, saying so, when the
# server binaries are missing.
#
# Per backend:
#   - every ppap_separate_pw mail of ../shared/corpus/emotet-dev, then its
#     related password mail (the envelope from labels.tsv) resolves to
#     release, below quarantine;
#   - malicious pairs built here (tests/state-fixtures.py: a password zip
#     holding a macro workbook, the password in a second mail, ZipCrypto
#     and AES) resolve to keep;
#   - a password mail from another sender, or to another recipient, does
#     not resolve; the right one then does, exactly once;
#   - window expiry with both actions; the per-sender cap (the oldest
#     expires, the new mail has LIMIT_EXCEEDED); the store unreachable is
#     exit 2 ("tempfail");
#   - several processes at once on one store (SQLite: 4 writers; two
#     "gateways" with their own configuration on one PostgreSQL).
set -u

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
SCAN="$top_builddir/src/cli/emofilter-scan"
CORPUS="$top_srcdir/../shared/corpus/emotet-dev"
for tool in python3 zip 7z; do
	command -v $tool >/dev/null 2>&1 || { echo "SKIP: no $tool"; exit 77; }
done
if [ ! -f "$CORPUS/labels.tsv" ]; then
	echo "SKIP: no $CORPUS (../shared beside the source tree)"
	exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/emf-state-XXXXXX")
PGD=
PGBIN=
pg_as() { "$@"; }
cleanup() {
	if [ -n "$PGD" ] && [ -f "$PGD/data/postmaster.pid" ]; then
		pg_as "$PGBIN/pg_ctl" -D "$PGD/data" -m immediate stop \
		    >/dev/null 2>&1
	fi
	[ -n "$PGD" ] && rm -rf "$PGD"
	rm -rf "$T"
}
trap cleanup EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }

python3 "$top_srcdir/tests/state-fixtures.py" "$T/fx" "$top_srcdir/tests/data" ||
    { echo "fixtures failed"; exit 1; }
FX="$T/fx"

# conf NAME BACKEND-LINES...: a configuration with the test rules.
conf() {
	name=$1; shift
	{
		echo "yara = { rules_dir = \"$top_srcdir/rules\"; };"
		echo "state = { $* };"
	} > "$T/$name.conf"
}

# events FILE KIND: the event lines of one kind ("held", "resolved").
events() { grep "^{\"event\":\"$2\"" "$1"; }

# field FILE KEY: the string values of KEY in the resolved events of FILE
# ("null" for null; json-glib writes "key":"value" without blanks, and
# the values here hold no quote).
field() {
	events "$1" resolved |
	    sed -n -e "s/.*\"$2\":\"\([^\"]*\)\".*/\1/p" \
	    -e "s/.*\"$2\":null.*/null/p"
}

# run_backend NAME STATE-LINES: the whole suite against one backend.
run_backend() {
	be=$1; shift
	base="$*"
	S="$T/$be"
	mkdir -p "$S"
	nstate=0
	# newstate: a fresh state for the next group (SQLite: a directory;
	# PostgreSQL: a database).
	newstate() {
		nstate=$((nstate + 1))
		if [ "$be" = sqlite ]; then
			DIR="$S/state$nstate"
			STATE_LINES="$base"
		else
			pg_as "$PGBIN/createdb" -h "$PGD" -p "$PGPORT" -U postgres \
			    "emf$nstate" || bad "$be: createdb emf$nstate"
			DIR="$S/state$nstate"
			STATE_LINES="$base conninfo = \"host=$PGD port=$PGPORT user=postgres dbname=emf$nstate\";"
		fi
	}

	# -- acceptance on the corpus pairs
	newstate
	conf "$be" "$STATE_LINES"
	n=0; rel=0; clean=0; other=""
	grep -P '\tppap_separate_pw\t' "$CORPUS/labels.tsv" > "$T/pairs"
	while IFS='	' read -r f _l _fam _feat ef er _pw _src related _sha; do
		n=$((n + 1))
		"$SCAN" -c "$T/$be.conf" --summary --state "$DIR" \
		    --sender "$ef" --rcpt "$er" "$CORPUS/$f" "$CORPUS/$related" \
		    > "$T/out" 2> "$T/err"
		o=$(field "$T/out" outcome)
		a=$(field "$T/out" action)
		if [ "$o" = release ] && { [ "$a" = accept ] || [ "$a" = tag ]; }
		then
			rel=$((rel + 1))
			[ "$a" = accept ] && clean=$((clean + 1))
		else
			other="$other $f:$o/$a"
		fi
	done < "$T/pairs"
	if [ "$n" -ge 35 ] && [ "$rel" -eq "$n" ]; then
		ok "$be: $rel/$n ppap_separate_pw pairs resolve to release ($clean accept, $((rel - clean)) tag)"
	else
		bad "$be: $rel/$n ppap_separate_pw pairs release;$other"
	fi

	# -- malicious pairs: keep
	for p in mal-a mal-b; do
		"$SCAN" -c "$T/$be.conf" --summary --state "$DIR" \
		    "$FX/$p.eml" "$FX/$p-pw.eml" > "$T/out" 2> "$T/err"
		o=$(field "$T/out" outcome)
		a=$(field "$T/out" action)
		if [ "$o" = keep ] && { [ "$a" = quarantine ] || [ "$a" = reject ]; }
		then ok "$be: $p (macro in a password zip) resolves to keep ($a)"
		else bad "$be: $p resolves to '$o/$a', want keep"; cat "$T/out" "$T/err"
		fi
	done

	# -- other sender / other recipient do not resolve; then exactly once
	newstate
	conf "$be" "$STATE_LINES"
	"$SCAN" -c "$T/$be.conf" --summary --state "$DIR" "$FX/ham-c.eml" \
	    "$FX/ham-c-pw-other.eml" "$FX/ham-c-pw-elsewhere.eml" \
	    > "$T/out" 2> "$T/err"
	if [ "$(events "$T/out" held | wc -l)" -eq 1 ] &&
	    [ "$(events "$T/out" resolved | wc -l)" -eq 0 ]; then
		ok "$be: another sender's or recipient's password mail resolves nothing"
	else
		bad "$be: cross-sender/recipient"; cat "$T/out"
	fi
	"$SCAN" -c "$T/$be.conf" --summary --state "$DIR" "$FX/ham-c-pw.eml" \
	    "$FX/ham-c-pw.eml" > "$T/out" 2> "$T/err"
	if [ "$(events "$T/out" resolved | wc -l)" -eq 1 ] &&
	    [ "$(field "$T/out" outcome)" = release ] &&
	    [ "$(field "$T/out" opened_by)" = "$FX/ham-c-pw.eml" ]; then
		ok "$be: the sender's password mail (\"パスワード: X!\") releases it, once"
	else
		bad "$be: ham-c release once"; cat "$T/out" "$T/err"
	fi

	# -- expiry: release_tagged, keep
	for action in release_tagged keep; do
		newstate
		conf "$be-w" "$STATE_LINES window = 1; expiry_action = \"$action\";"
		"$SCAN" -c "$T/$be-w.conf" --summary --state "$DIR" \
		    "$FX/ham-c.eml" > "$T/out" 2> "$T/err"
		sleep 2
		"$SCAN" -c "$T/$be-w.conf" --summary --state "$DIR" \
		    "$FX/ham-c-pw.eml" > "$T/out" 2> "$T/err"
		if [ "$(field "$T/out" outcome)" = expired ] &&
		    [ "$(field "$T/out" action)" = "$action" ] &&
		    [ "$(events "$T/out" resolved | wc -l)" -eq 1 ]; then
			ok "$be: no password within the window: expired, $action"
		else
			bad "$be: expiry $action"; cat "$T/out" "$T/err"
		fi
	done

	# -- per-sender cap: the oldest goes first, the new one says LIMIT
	newstate
	conf "$be-cap" "$STATE_LINES max_per_sender = 2; max_total = 10;"
	"$SCAN" -c "$T/$be-cap.conf" --summary --state "$DIR" "$FX/flood-1.eml" \
	    "$FX/flood-2.eml" "$FX/flood-3.eml" > "$T/out" 2> "$T/err"
	if [ "$(events "$T/out" held | wc -l)" -eq 3 ] &&
	    [ "$(field "$T/out" file)" = "$FX/flood-1.eml" ] &&
	    [ "$(field "$T/out" reason)" = evicted ] &&
	    grep "flood-3.eml" "$T/out" | grep -q LIMIT_EXCEEDED; then
		ok "$be: max_per_sender: flood-1 expires first, flood-3 has LIMIT_EXCEEDED"
	else
		bad "$be: per-sender cap"; cat "$T/out" "$T/err"
	fi

	# -- concurrent writers on one store
	newstate
	conf "$be" "$STATE_LINES"
	pids=""
	for k in 0 1 2 3; do
		files=""
		for i in 1 2 3 4 5; do
			files="$files $FX/spread-$((k * 5 + i)).eml"
		done
		# shellcheck disable=SC2086
		"$SCAN" -c "$T/$be.conf" --summary --state "$DIR" $files \
		    > "$T/par$k" 2>&1 &
		pids="$pids $!"
	done
	st=0
	for p in $pids; do wait "$p" || [ $? -eq 1 ] || st=1; done
	held=$(cat "$T/par0" "$T/par1" "$T/par2" "$T/par3" | grep -c '^{"event":"held"')
	if [ "$st" -eq 0 ] && [ "$held" -eq 20 ]; then
		ok "$be: 4 processes at once hold 20 mails"
	else
		bad "$be: concurrent writers: $held held, status $st"
		cat "$T/par0" "$T/par1" "$T/par2" "$T/par3" | grep -v '^{"event"' | head
	fi
	# -- the correspondence memory (state.memory)
	newstate
	conf "$be" "$STATE_LINES"
	"$SCAN" -c "$T/$be.conf" --summary --state "$DIR" "$FX/mem-reply.eml" \
	    > "$T/out" 2> "$T/err"
	if grep -q FAKE_ORIGINAL_MESSAGE "$T/out" &&
	    ! grep -q KNOWN_THREAD "$T/out"; then
		ok "$be: memory off: the webmail reply keeps its false alarm"
	else
		bad "$be: memory off"; cat "$T/out" "$T/err"
	fi
	"$SCAN" -c "$T/$be.conf" --summary --state "$DIR" --memory \
	    --outbound "$FX/mem-out.eml" "$FX/mem-reply.eml" \
	    "$FX/mem-reply-irt.eml" "$FX/mem-forged.eml" "$FX/mem-hijack.eml" \
	    > "$T/out" 2> "$T/err"
	line() { grep "/$1.eml " "$T/out"; }
	if grep -q '^{"event":"recorded".*"message_id":"mem-out-1@corp.example","rows":1}' "$T/out" &&
	    line mem-reply | grep -q KNOWN_THREAD &&
	    ! line mem-reply | grep -q 'FAKE_ORIGINAL_MESSAGE\|REPLY_WITHOUT_THREAD' &&
	    line mem-reply-irt | grep -q KNOWN_THREAD; then
		ok "$be: memory: a reply to our recorded mail is KNOWN_THREAD, its false alarm gone"
	else
		bad "$be: memory: known thread"; cat "$T/out" "$T/err"
	fi
	if line mem-forged | grep -q REPLY_UNKNOWN_CORRESPONDENT &&
	    line mem-forged | grep -q FAKE_ORIGINAL_MESSAGE &&
	    ! line mem-forged | grep -q KNOWN_THREAD &&
	    ! line mem-hijack | grep -q KNOWN_THREAD &&
	    ! line mem-reply | grep -q REPLY_UNKNOWN_CORRESPONDENT; then
		ok "$be: memory: a forged reply from a party we never wrote to has REPLY_UNKNOWN_CORRESPONDENT; a stolen thread is not KNOWN_THREAD"
	else
		bad "$be: memory: forged reply"; cat "$T/out" "$T/err"
	fi
	# the memory outlives the run; a config turns it on as --memory does
	conf "$be-mem" "$STATE_LINES memory = { enabled = true; };"
	"$SCAN" -c "$T/$be-mem.conf" --summary --state "$DIR" \
	    "$FX/mem-reply.eml" > "$T/out" 2> "$T/err"
	if line mem-reply | grep -q KNOWN_THREAD; then
		ok "$be: memory: state.memory.enabled, a later run: still KNOWN_THREAD"
	else
		bad "$be: memory: later run"; cat "$T/out" "$T/err"
	fi
	# per-sender cap 2: mail to two others pushes sato's row out (the
	# reply is then from a party we never wrote to); recorded again, it
	# is back
	newstate
	conf "$be-mcap" "$STATE_LINES memory = { enabled = true; max_per_sender = 2; };"
	"$SCAN" -c "$T/$be-mcap.conf" --summary --state "$DIR" \
	    --outbound "$FX/mem-out.eml" > "$T/out" 2> "$T/err"
	"$SCAN" -c "$T/$be-mcap.conf" --summary --state "$DIR" \
	    --outbound "$FX/mem-out2.eml" "$FX/mem-reply.eml" > "$T/out2" 2>&1
	"$SCAN" -c "$T/$be-mcap.conf" --summary --state "$DIR" \
	    --outbound "$FX/mem-out.eml" "$FX/mem-reply.eml" > "$T/out3" 2>&1
	if grep -q '"rows":1' "$T/out" && grep -q '"rows":2' "$T/out2" &&
	    grep mem-reply "$T/out2" | grep -q REPLY_UNKNOWN_CORRESPONDENT &&
	    grep mem-reply "$T/out3" | grep -q KNOWN_THREAD; then
		ok "$be: memory: max_per_sender drops the oldest row; recorded again, the thread is known"
	else
		bad "$be: memory: cap"; cat "$T/out" "$T/out2" "$T/out3"
	fi

	if [ "$be" = postgresql ]; then
		# A second gateway (its own configuration and state DIR) on the
		# same server: the password mail arrives there.
		newstate
		conf "$be" "$STATE_LINES"
		cp "$T/$be.conf" "$T/$be-gw2.conf"
		"$SCAN" -c "$T/$be.conf" --summary --state "$S/gw1" \
		    "$FX/ham-c.eml" > "$T/out" 2> "$T/err"
		"$SCAN" -c "$T/$be-gw2.conf" --summary --state "$S/gw2" \
		    "$FX/ham-c-pw.eml" > "$T/out2" 2> "$T/err"
		if [ "$(events "$T/out" held | wc -l)" -eq 1 ] &&
		    [ "$(field "$T/out2" outcome)" = release ]; then
			ok "$be: held at one gateway, released by the password mail at the other"
		else
			bad "$be: two gateways"; cat "$T/out" "$T/out2" "$T/err"
		fi
	fi
}

# ---- SQLite ------------------------------------------------------------------
run_backend sqlite 'backend = "sqlite";'

# The store unreachable: exit 2, never a verdict.
: > "$T/not-a-dir"
conf sqlite-bad 'backend = "sqlite";'
"$SCAN" -c "$T/sqlite-bad.conf" --summary --state "$T/not-a-dir" \
    "$FX/ham-c.eml" > "$T/out" 2> "$T/err"
if [ $? -eq 2 ]; then ok "sqlite: state unusable: exit 2"
else bad "sqlite: state unusable: want exit 2"; cat "$T/err"; fi

# ---- PostgreSQL ----------------------------------------------------------------
for d in /usr/lib/postgresql/*/bin; do
	[ -x "$d/initdb" ] && PGBIN=$d
done
if [ -z "$PGBIN" ]; then
	echo "# SKIP: PostgreSQL half: no initdb (Debian package postgresql)"
else
	PGD=$(mktemp -d /tmp/emf-pg-XXXXXX)
	PGPORT=5432
	if [ "$(id -u)" -eq 0 ]; then
		# The server refuses to run as root: its user owns the cluster.
		chown postgres "$PGD"
		pg_as() { runuser -u postgres -- "$@"; }
	fi
	if pg_as "$PGBIN/initdb" -D "$PGD/data" -A trust -U postgres \
	    --no-sync -E UTF8 --locale=C > "$T/initdb.log" 2>&1 &&
	    pg_as "$PGBIN/pg_ctl" -D "$PGD/data" -l "$PGD/log" -w \
	    -o "-k $PGD -c listen_addresses= -p $PGPORT -c fsync=off" \
	    start > "$T/pgctl.log" 2>&1; then
		run_backend postgresql 'backend = "postgresql";'
		conf pg-bad "backend = \"postgresql\"; conninfo = \"host=$PGD/none port=$PGPORT user=postgres dbname=emf1\";"
		"$SCAN" -c "$T/pg-bad.conf" --summary --state "$T/x" \
		    "$FX/ham-c.eml" > "$T/out" 2> "$T/err"
		if [ $? -eq 2 ] && grep -q "tempfail\|connect" "$T/err"; then
			ok "postgresql: server unreachable: exit 2"
		else
			bad "postgresql: unreachable: want exit 2"; cat "$T/err"
		fi
	else
		echo "# SKIP: PostgreSQL half: the private cluster did not start:"
		sed 's/^/#   /' "$T/initdb.log" "$T/pgctl.log" "$PGD/log" 2>/dev/null | tail -5
	fi
fi

echo "# state.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
