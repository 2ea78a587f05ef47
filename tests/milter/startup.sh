#!/bin/sh
# startup.sh - start-up that cannot surprise: --version on every program,
# -t names the file it reads and checks the pid directory, socket and
# quarantine directory; a missing pid directory is created (root) or
# reported with the fix; a second instance refuses to start and leaves
# the first one's socket and pid file alone (locked pid file, and a live
# unix socket without a pid file); the installed configuration layout
# (emofilter.conf including local.conf) loads. Needs no root: as root the
# daemon runs as nobody. Run by make check.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
emofilter=$top_builddir/src/milter/emofilter
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }

work=$(mktemp -d /tmp/emf-startup.XXXXXX)
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
fail=0
bad() { echo "FAIL: $*"; fail=1; }
ok() { echo "ok: $*"; }

user=$(id -un)
[ "$(id -u)" -eq 0 ] && user=nobody

# ---- --version on every program, from PACKAGE_VERSION
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top_builddir/config.h")
for prog in src/milter/emofilter src/cli/emofilter-scan src/cli/emofilter-quarantine; do
	name=${prog##*/}
	out=$("$top_builddir/$prog" --version 2>&1)
	[ $? -eq 0 ] && [ "$out" = "$name $version" ] && ok "$name --version" ||
	    bad "$name --version: got '$out', want '$name $version'"
done

# $1: dir; $2: pidfile ("" for none)
write_conf() {
	mkdir -p "$1"
	[ "$(id -u)" -eq 0 ] && chown "$user" "$1"
	cat > "$1/test.conf" <<EOF2
quarantine = { dir = "$1/q"; };
yara = { rules_dir = "$top_srcdir/rules"; };
milter = {
  socket = "unix:$1/sock";
  user = "$user";
  pidfile = "$2";
  workers = 1;
  spool_dir = "$1";
};
EOF2
	chmod 644 "$1/test.conf"
}

# unix socket $1 accepts connections
listening() {
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' "$1" 2>/dev/null
}

wait_sock() {
	i=0
	while ! listening "$1" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	listening "$1"
}

# ---- -t names the file and what start-up would meet
d=$work/a
write_conf "$d" "$d/run/emofilter.pid"
out=$("$emofilter" -t -c "$d/test.conf" 2>&1)
rc=$?
case $out in
*"configuration file $d/test.conf"*) ok "-t names the configuration file";;
*) bad "-t does not name the file: '$out'";;
esac
if [ "$(id -u)" -eq 0 ]; then
	[ $rc -eq 0 ] && echo "$out" | grep -q "directory $d/run will be created (owner nobody" &&
	    ok "-t as root: the pid directory will be created" ||
	    bad "-t as root, missing pid dir: rc $rc, '$out'"
else
	[ $rc -ne 0 ] && echo "$out" | grep -q "ERROR: directory $d/run: No such file or directory; create it: install -d -o $user -m 0755 $d/run" &&
	    ok "-t: a missing pid directory is an error with the fix" ||
	    bad "-t, missing pid dir: rc $rc, '$out'"
fi

# ---- start: the missing pid directory
"$emofilter" -f -c "$d/test.conf" >"$d/log" 2>&1 &
p1=$!
pids="$pids $p1"
if [ "$(id -u)" -eq 0 ]; then
	wait_sock "$d/sock" || bad "first daemon not listening"
	[ "$(stat -c %U "$d/run")" = nobody ] && ok "pid directory created, owned by the run user" ||
	    bad "pid directory: $(ls -ld "$d/run" 2>&1)"
else
	wait "$p1"
	rc=$?
	pids=
	[ $rc -ne 0 ] && grep -q "pid file $d/run/emofilter.pid: directory $d/run: No such file or directory; create it (install -d" "$d/log" &&
	    ok "not root: a missing pid directory stops the start, with the fix" ||
	    bad "missing pid dir, not root: rc $rc, $(cat "$d/log")"
	mkdir "$d/run"
	"$emofilter" -f -c "$d/test.conf" >"$d/log" 2>&1 &
	p1=$!
	pids="$pids $p1"
	wait_sock "$d/sock" || bad "first daemon not listening"
fi
[ "$(cat "$d/run/emofilter.pid" 2>/dev/null)" = "$p1" ] && ok "pid file holds the first pid" ||
    bad "pid file: '$(cat "$d/run/emofilter.pid" 2>&1)', want $p1"

# ---- -t while it runs (ExecReload): passes, says so
out=$("$emofilter" -t -c "$d/test.conf" 2>&1)
rc=$?
[ $rc -eq 0 ] && echo "$out" | grep -q "locked by the running emofilter (pid $p1)" &&
    echo "$out" | grep -q "in use by the running emofilter" &&
    ok "-t beside the running daemon" || bad "-t beside the running daemon: rc $rc, '$out'"

# ---- a second instance refuses; the first keeps socket and pid file
ino=$(stat -c %i "$d/sock")
"$emofilter" -f -c "$d/test.conf" >"$d/log2" 2>&1 &
p2=$!
i=0
while kill -0 "$p2" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$p2" 2>/dev/null; then
	kill "$p2"
	bad "second instance still running"
fi
wait "$p2"
rc=$?
[ $rc -ne 0 ] && grep -q "already running (pid $p1 holds $d/run/emofilter.pid): not starting" "$d/log2" &&
    ok "second instance exits $rc: $(sed 's/^emofilter\[[0-9]*\]: //' "$d/log2")" ||
    bad "second instance: rc $rc, $(cat "$d/log2")"
[ "$(stat -c %i "$d/sock" 2>/dev/null)" = "$ino" ] && listening "$d/sock" &&
    ok "the first daemon's socket is untouched and answers" || bad "socket replaced or gone"
[ "$(cat "$d/run/emofilter.pid" 2>/dev/null)" = "$p1" ] && ok "the first daemon's pid file is untouched" ||
    bad "pid file after the second start: '$(cat "$d/run/emofilter.pid" 2>&1)'"
kill -0 "$p1" 2>/dev/null || bad "first daemon died"

# ---- no pid file: a live unix socket is still not taken over
b=$work/b
write_conf "$b" ""
sed "s|pidfile = \"\";|pidfile = \"\"; socket = \"unix:$d/sock\";|; s|socket = \"unix:$b/sock\";||" \
    "$b/test.conf" > "$b/same.conf"
chmod 644 "$b/same.conf"
"$emofilter" -f -c "$b/same.conf" >"$b/log" 2>&1 &
p3=$!
i=0
while kill -0 "$p3" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 "$p3" 2>/dev/null && { kill "$p3"; bad "instance without pid file still running"; }
wait "$p3"
rc=$?
[ $rc -ne 0 ] && grep -q "another process listens on $d/sock: not starting" "$b/log" &&
    [ "$(stat -c %i "$d/sock" 2>/dev/null)" = "$ino" ] &&
    ok "no pid file: a live socket is not replaced" || bad "no pid file: rc $rc, $(cat "$b/log")"

# ---- stop: the first removes its pid file
kill -TERM "$p1"
wait "$p1"
rc=$?
pids=
[ $rc -eq 0 ] || bad "first daemon exit status $rc"
[ -e "$d/run/emofilter.pid" ] && bad "pid file left behind" || ok "pid file removed at stop"
# a stale (unlocked) pid file does not stop a start
echo 99999 > "$d/run/emofilter.pid"
[ "$(id -u)" -eq 0 ] && chown "$user" "$d/run/emofilter.pid"
"$emofilter" -f -c "$d/test.conf" >"$d/log3" 2>&1 &
p4=$!
pids="$p4"
wait_sock "$d/sock" && [ "$(cat "$d/run/emofilter.pid")" = "$p4" ] &&
    ok "a stale pid file is taken over" || bad "stale pid file: $(cat "$d/log3")"
kill -TERM "$p4"
wait "$p4"
pids=

# ---- the installed layout: emofilter.conf including local.conf
c=$work/etc
mkdir -p "$c"
cp "$top_srcdir/conf/emofilter.conf.site" "$c/emofilter.conf"
cp "$top_srcdir/conf/local.conf" "$c/local.conf"
mkdir "$c/rules"
sed -i "s|extra_dirs = \\[ \"rules\" \\];|& rules_dir = \"$top_srcdir/rules\";|" "$c/local.conf"
out=$("$emofilter" -t -c "$c/emofilter.conf" 2>&1)
echo "$out" | grep -q "$c/emofilter.conf: configuration and rules OK" &&
    ok "emofilter.conf with local.conf loads" || bad "installed layout: '$out'"
rm "$c/local.conf"
out=$("$emofilter" -t -c "$c/emofilter.conf" 2>&1) && bad "a missing local.conf passes"
case $out in
*'@include "local.conf"'*) ok "a missing local.conf is named";;
*) bad "missing local.conf: '$out'";;
esac

[ $fail -eq 0 ] || exit 1
echo "startup.sh: all checks passed"
