#!/bin/sh
# limits.sh - one size limit with one meaning, and Japanese-safe headers,
# through the milter protocol (miltertest): a message above
# limits.max_message_bytes is delivered tagged X-Emofilter-Action:
# unscanned (on_oversize = "tag", the default) and logged, or rejected
# (on_oversize = "reject", after a SIGHUP); one below it is scanned; a
# Japanese subject_prefix is RFC 2047-encoded in front of an ISO-2022-JP
# and a plain subject; the log line carries queue ID, Message-ID, sender,
# recipients, score, action and symbols; the metrics endpoint counts the
# same messages (and survives the reload). Exit 77 without miltertest.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/milter/miltertest-lib.sh"
mt_setup limits
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
# GET $1 from the metrics endpoint: the body, or "HTTP <code>"
fetch() {
	python3 - "http://127.0.0.1:$mport$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode(), end="")
except urllib.error.HTTPError as e:
    print("HTTP %d" % e.code)
PY
}
# $1: on_oversize
write_conf() {
	{
		cat "$top_srcdir/tests/milter/test-scores.conf"
		cat <<EOF2
limits = { max_message_bytes = 2048; };
quarantine = { dir = "$work/run/q"; };
yara = { rules_dir = "$top_srcdir/rules"; };
milter = {
$(mt_milter_conf)
  workers = 1;
  scan_timeout_ms = 1000;
  subject_prefix = "【要注意】";
  on_oversize = "$1";
};
metrics = { listen = "127.0.0.1:$mport"; };
EOF2
	} > "$conf"
	chmod 644 "$conf"
}
write_conf tag
"$emofilter" -t -c "$conf" >/dev/null || bad "-t rejects the config"
mt_start

EMF_SOCKET="unix:$work/run/sock" EMF_DATA="$work/msg" EMF_CASE=tag-and-size \
    miltertest -s "$top_srcdir/tests/milter/limits.lua" || bad "limits.lua tag-and-size"
grep -q 'QBIG1: .* action=unscanned result=accepted .*limits=max_message_bytes symbols=\[LIMIT_EXCEEDED\]' "$work/log" ||
    bad "oversize: no log line with action=unscanned"
grep -q 'QSMALL1: id=[^ ]* msgid=<size.emftest@example.org> from=<alice@example.org> to=<bob@example.net>,<carol@example.net> rcpts=2 size=[0-9]* score=0.00 action=accept result=accepted' "$work/log" ||
    bad "log line lacks msgid/from/to/rcpts/score/action"
grep -q 'QJP1: .*action=tag .*symbols=\[FILE_TYPE_MISMATCH' "$work/log" ||
    bad "tag: no log line with the symbols"

# the metrics count the same four messages
fetch /metrics > "$work/metrics"
for want in 'emofilter_messages_total{action="tag",result="accepted"} 2' \
    'emofilter_messages_total{action="accept",result="accepted"} 1' \
    'emofilter_messages_total{action="unscanned",result="accepted"} 1' \
    'emofilter_messages_total{action="quarantine",result="held"} 0' \
    'emofilter_symbols_total{symbol="FILE_TYPE_MISMATCH"} 2' \
    'emofilter_symbols_total{symbol="LIMIT_EXCEEDED"} 1' \
    'emofilter_scan_seconds_count 3' \
    'emofilter_scan_seconds_bucket{le="+Inf"} 3' \
    'emofilter_tempfails_total 0' \
    'emofilter_worker_restarts_total 0' \
    'emofilter_messages_in_flight 0'; do
	grep -qxF "$want" "$work/metrics" || bad "metrics: no line '$want'"
done
[ "$(fetch /)" = "HTTP 404" ] || bad "metrics: / is not 404"

# a worker killed at its deadline: counted as a restart and a tempfail
EMF_SOCKET="unix:$work/run/sock" EMF_DATA="$work/msg" EMF_CASE=sleep \
    miltertest -s "$top_srcdir/tests/milter/limits.lua" || bad "limits.lua sleep"
i=0
until fetch /metrics | grep -qxF 'emofilter_worker_restarts_total 1' || [ $i -gt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
fetch /metrics > "$work/metrics"
for want in 'emofilter_worker_restarts_total 1' 'emofilter_tempfails_total 1' \
    'emofilter_messages_total{action="unscanned",result="tempfailed"} 1' \
    'emofilter_symbols_total{symbol="SCAN_FAILED"} 1' \
    'emofilter_scan_seconds_count 3'; do
	grep -qxF "$want" "$work/metrics" || bad "metrics after a killed worker: no line '$want'"
done

write_conf reject
kill -HUP "$pid"
i=0
until grep -q 'milter settings reloaded' "$work/log" || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
EMF_SOCKET="unix:$work/run/sock" EMF_DATA="$work/msg" EMF_CASE=oversize-reject \
    miltertest -s "$top_srcdir/tests/milter/limits.lua" || bad "limits.lua oversize-reject"
grep -q 'QBIG2: .* action=unscanned result=rejected' "$work/log" || bad "oversize reject not logged"
fetch /metrics > "$work/metrics2"
grep -qxF 'emofilter_messages_total{action="unscanned",result="rejected"} 1' "$work/metrics2" &&
    grep -qxF 'emofilter_messages_total{action="tag",result="accepted"} 2' "$work/metrics2" ||
    bad "metrics after the reload: $(grep messages_total "$work/metrics2")"

# the old second limit is gone: one size limit
printf 'milter = { max_message_bytes = 52428800; };\n' > "$work/old.conf"
out=$("$emofilter" -t -c "$work/old.conf" 2>&1) && bad "milter.max_message_bytes still accepted"
case $out in
*max_message_bytes*) ;;
*) bad "old key: '$out'";;
esac

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
[ $rc -eq 0 ] || bad "daemon exit status $rc"
if [ $fail -ne 0 ]; then
	echo "---- daemon log"; cat "$work/log"
	exit 1
fi
grep -E 'Q(BIG1|SMALL1|JP1):' "$work/log" | sed 's/^/  /'
echo "limits.sh: all checks passed"
