#!/bin/sh
# state-bench.sh - the latency the correlation state adds per message
# (median, p99) and the store size per 10,000 messages, SQLite and, when
# Debian's postgresql is installed, a private PostgreSQL cluster (unix
# socket under /tmp, stopped at the end; as root it runs as postgres).
#
#   tests/bench/state-bench.sh [N]      (default 10000)
#   ONLY=memory tests/bench/state-bench.sh [N]   the memory runs only
#
# Two loads per backend: the whole emotet-dev set cycled to N messages
# (each file a new sender: every PPAP mail with a separate password and
# every unopenable zip is held, nothing resolves: the lookups and holds of
# ordinary traffic), and its 35 ppap_separate_pw pairs cycled to N (every
# other message holds, the next resolves it: rescans included). Then the
# first load again with the correspondence memory on (-m: every scan asks
# it, every other message is recorded as outbound): the state time per
# message then counts the memory's lookups and records too, and the size
# of its table (emf_sent) is given.
# A benchmark, not a test: it prints figures and never fails on them.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-10000}
corpus=$top/../shared/corpus/emotet-dev
bench=$top/tests/bench/state-bench
(cd "$top" && make -s tests/bench/state-bench) || { echo "build first"; exit 1; }
T=$(mktemp -d /tmp/emf-state-bench.XXXXXX)
PGD=
PGBIN=
pg_as() { "$@"; }
cleanup() {
	if [ -n "$PGD" ] && [ -f "$PGD/data/postmaster.pid" ]; then
		pg_as "$PGBIN/pg_ctl" -D "$PGD/data" -m immediate stop >/dev/null 2>&1
	fi
	[ -n "$PGD" ] && rm -rf "$PGD"
	rm -rf "$T"
}
trap cleanup EXIT
echo "yara = { rules_dir = \"$top/rules\"; };" > "$T/bench.conf"
awk -F'\t' -v C="$corpus" 'NR > 1 { print C "/" $1 }' "$corpus/labels.tsv" > "$T/all"
awk -F'\t' -v C="$corpus" '$3 == "ppap_separate_pw" { print C "/" $1; print C "/" $9 }' \
    "$corpus/labels.tsv" > "$T/pairs"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"

only=${ONLY:-}
if [ "$only" != memory ]; then
# shellcheck disable=SC2046
"$bench" -c "$T/bench.conf" -n "$n" "$T/s1" $(cat "$T/all")
# shellcheck disable=SC2046
"$bench" -c "$T/bench.conf" -n "$n" -p "$T/s2" $(cat "$T/pairs")
fi
echo "with the correspondence memory:"
# shellcheck disable=SC2046
"$bench" -c "$T/bench.conf" -n "$n" -m "$T/s3" $(cat "$T/all")
python3 - "$T/s3/state.sqlite" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
def size(like):
    return c.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE ?",
                     (like,)).fetchone()[0] or 0
rows = c.execute("SELECT count(*) FROM emf_sent").fetchone()[0]
sent = size("emf_sent%")
print("  store size: emf_held %.1f MiB, emf_sent %.1f MiB with its indexes "
      "(%d rows, %.0f bytes a row) (dbstat)" % (size("emf_held%") / 1048576.0,
      sent / 1048576.0, rows, sent / rows if rows else 0))
PY

for d in /usr/lib/postgresql/*/bin; do
	[ -x "$d/initdb" ] && PGBIN=$d
done
[ -n "$PGBIN" ] || { echo "no PostgreSQL (Debian package postgresql): SQLite only"; exit 0; }
PGD=$(mktemp -d /tmp/emf-pg-XXXXXX)
if [ "$(id -u)" -eq 0 ]; then
	chown postgres "$PGD"
	pg_as() { runuser -u postgres -- "$@"; }
fi
pg_as "$PGBIN/initdb" -D "$PGD/data" -A trust -U postgres -E UTF8 \
    --locale=C >/dev/null
pg_as "$PGBIN/pg_ctl" -D "$PGD/data" -l "$PGD/log" -w \
    -o "-k $PGD -c listen_addresses= -p 5432" start >/dev/null
for db in b1 b2 b3; do
	pg_as "$PGBIN/createdb" -h "$PGD" -U postgres "$db"
done
ci="host=$PGD port=5432 user=postgres dbname"
size() {	# size DB [TABLE]
	pg_as "$PGBIN/psql" -h "$PGD" -U postgres -d "$1" -Atc \
	    "SELECT pg_size_pretty(pg_total_relation_size('${2:-emf_held}'))"
}
if [ "$only" != memory ]; then
# shellcheck disable=SC2046
"$bench" -c "$T/bench.conf" -n "$n" -b postgresql -C "$ci=b1" "$T/p1" $(cat "$T/all")
echo "  store size (pg_total_relation_size emf_held, TOAST and indexes): $(size b1)"
# shellcheck disable=SC2046
"$bench" -c "$T/bench.conf" -n "$n" -b postgresql -C "$ci=b2" -p "$T/p2" $(cat "$T/pairs")
echo "  store size (pg_total_relation_size emf_held, TOAST and indexes): $(size b2)"
fi
echo "with the correspondence memory:"
# shellcheck disable=SC2046
"$bench" -c "$T/bench.conf" -n "$n" -b postgresql -C "$ci=b3" -m "$T/p3" $(cat "$T/all")
echo "  store size: emf_held $(size b3), emf_sent $(size b3 emf_sent) (pg_total_relation_size)"
