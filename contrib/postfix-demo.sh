#!/bin/sh
# postfix-demo.sh - emofilter behind a real Postfix on loopback, with the
# bundled samples sent through it: what happened to each one.
#
# usage: contrib/postfix-demo.sh [SAMPLES_DIR]   (default tests/work/samples)
#
# Starts a private Postfix (own config and queue under a temp dir, SMTP on
# a free 127.0.0.1 port) with emofilter as its milter (the shipped
# configuration, quarantine in the temp dir) relaying to smtp-sink, sends
# every *.eml of SAMPLES_DIR (envelope = the From:/To: addresses), prints one line per sample (score, verdict,
# and where the message went: delivered, delivered tagged, held in the
# Postfix hold queue + quarantine store, rejected with 550), then stops
# everything it started. KEEP=1 keeps the temp dir for a look.
# Needs root, a built tree (contrib/build.sh) and contrib/install-deps.sh.
# Exit 77 when root or Postfix is missing.
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=${top_builddir:-$top_srcdir}
samples=${1:-$top_srcdir/tests/work/samples}
[ "$(id -u)" -eq 0 ] || { echo "postfix-demo: needs root (Postfix)"; exit 77; }
for t in postfix smtp-sink python3 script; do
	command -v $t >/dev/null 2>&1 || { echo "postfix-demo: $t missing"; exit 77; }
done
ls "$samples"/*.eml >/dev/null 2>&1 || { echo "postfix-demo: no samples in $samples"; exit 1; }

PF_DIR=$(mktemp -d /tmp/emf-demo.XXXXXX)
. "$top_srcdir/tests/milter/postfix-lib.sh"
cleanup() {
	pf_stop_all
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $PF_DIR"; else rm -rf "$PF_DIR"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pf_ports
pf_setup_dirs
# The shipped configuration, with the daemon's paths moved into PF_DIR.
conf=$PF_DIR/emofilter.conf
sed -e "s|^\( *dir = \)\"[^\"]*\";|\1\"$PF_DIR/run/quarantine\";|" \
    -e "s|^\( *socket = \)\"[^\"]*\";|\1\"inet:$MILTER_PORT@127.0.0.1\";|" \
    -e "s|^\( *user = \)\"[^\"]*\";|\1\"$EMF_USER\";|" \
    -e "s|^\( *pidfile = \)\"[^\"]*\";|\1\"$PF_DIR/run/emofilter.pid\";|" \
    -e "s|^\( *spool_dir = \)\"[^\"]*\";|\1\"$PF_DIR/run\";|" \
    -e "s|^\( *rules_dir = \)\"[^\"]*\";|\1\"$top_srcdir/rules\";|" \
    "$top_srcdir/conf/emofilter.conf" >"$conf"
chmod 644 "$conf"
echo "== emofilter behind Postfix on 127.0.0.1:$SMTP_PORT (milter on :$MILTER_PORT, sink on :$SINK_PORT)"
pf_start_sink || exit 1
pf_start_postfix milter || exit 1
pf_start_emofilter "$conf" || { cat "$PF_DIR/emofilter.log"; exit 1; }

log=$PF_DIR/emofilter.log
printf '%-36s %7s  %-10s %s\n' SAMPLE SCORE VERDICT "WHAT HAPPENED"
for f in "$samples"/*.eml; do
	n0=$(grep -c ': id=.* result=' "$log")
	out=$(python3 "$top_srcdir/tests/milter/smtp-send.py" 127.0.0.1 \
	    "$SMTP_PORT" "$f" 1 1 - -)
	# the log line of this message
	i=0
	while [ "$(grep -c ': id=.* result=' "$log")" -le "$n0" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	line=$(grep ': id=.* result=' "$log" | tail -1)
	qid=$(echo "$line" | sed -n 's/.*\]: \([0-9A-Za-z]*\): id=.*/\1/p')
	rid=$(echo "$line" | sed -n 's/.* id=\([^ ]*\) .*/\1/p')
	score=$(echo "$line" | sed -n 's/.* score=\([^ ]*\) .*/\1/p')
	verdict=$(echo "$line" | sed -n 's/.* action=\([^ ]*\) .*/\1/p')
	result=$(echo "$line" | sed -n 's/.* result=\([^ ]*\).*/\1/p')
	case $result in
	held)
		what="quarantined: held in Postfix ($qid), store entry $rid";;
	rejected)
		what="rejected by Postfix: 550 5.7.1 (report $rid)";;
	discarded)
		what="quarantined and discarded (store entry $rid)";;
	tempfailed)
		what="tempfailed (the sender retries)";;
	accepted)
		pf_wait_queue_empty 20
		if [ "$verdict" = tag ]; then
			what="delivered, tagged (subject prefix, X-Emofilter-* headers)"
		else
			what="delivered (X-Emofilter-Score: $score)"
		fi;;
	*)
		what="? ($out)";;
	esac
	printf '%-36s %7s  %-10s %s\n' "$(basename "$f")" "$score" "$verdict" "$what"
done
pf_wait_queue_empty 20
echo
echo "delivered to the sink: $(pf_delivered); in the Postfix hold queue: $(pf_held);" \
    "quarantine store entries: $(find "$PF_DIR/run/quarantine" -name '*.json' 2>/dev/null | wc -l)"
echo "(emofilter log: $log; Postfix log: $PF_DIR/maillog; KEEP=1 to keep them)"
