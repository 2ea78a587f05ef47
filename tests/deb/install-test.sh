#!/bin/sh
# install-test.sh - the Debian package, as an admin installs it.
#
#  1. dpkg-buildpackage -us -uc -b on a copy of the tree (offline;
#     DEB_BUILD_OPTIONS=nocheck: make check runs elsewhere in CI), lintian;
#  2. apt-get install ./emofilter_*.deb; emofilter -t names
#     /etc/emofilter/emofilter.conf; systemd-analyze verify on the unit;
#  3. the daemon started as the unit starts it (no systemd in CI: the
#     unit's ExecStartPre and ExecStart lines run by hand as its User=,
#     with /run/emofilter made as RuntimeDirectory= would), a private
#     Postfix (tests/milter/postfix-lib.sh) with README.Debian's milter
#     settings sends a clean and a suspicious message through it;
#  4. a second start (as the unit, and as root by hand) refuses; the
#     first daemon's socket and pid file remain;
#  5. apt-get purge leaves no file of the package, only the quarantine.
# Each step prints its time. Needs root, dpkg-buildpackage, debhelper,
# apt-get, Postfix, swaks; exit 77 (skip) otherwise. Leaves the system as
# it found it (the user and groups are removed when the test made them).
# KEEP=1 keeps the work directory.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (apt-get install)"; exit 77; }
for t in dpkg-buildpackage dh apt-get postfix smtp-sink swaks python3 script setpriv; do
	command -v $t >/dev/null 2>&1 || { echo "SKIP: $t not installed"; exit 77; }
done
if dpkg-query -W -f='${Status}' emofilter 2>/dev/null | grep -q 'ok installed'; then
	echo "SKIP: an emofilter package is installed already; not touching it"
	exit 77
fi

work=$(mktemp -d /tmp/emf-deb.XXXXXX)
chmod 755 "$work"
PF_DIR=$work/pf
mkdir -p "$PF_DIR"
. "$top_srcdir/tests/milter/postfix-lib.sh"
had_user=no had_csirt=no
getent passwd emofilter >/dev/null && had_user=yes
getent group emofilter-csirt >/dev/null && had_csirt=yes
cleanup() {
	pf_stop_all
	[ -n "${DPID:-}" ] && kill "$DPID" 2>/dev/null
	if dpkg-query -W -f='${Status}' emofilter 2>/dev/null | grep -q installed; then
		apt-get -o DPkg::Lock::Timeout=600 purge -y -q emofilter >/dev/null 2>&1
	fi
	rm -rf /var/lib/emofilter /run/emofilter
	if [ $had_user = no ] && getent passwd emofilter >/dev/null; then
		userdel emofilter 2>/dev/null
		getent group emofilter >/dev/null && groupdel emofilter 2>/dev/null
	fi
	[ $had_csirt = no ] && getent group emofilter-csirt >/dev/null &&
	    groupdel emofilter-csirt 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
t0=$(date +%s)
ts=$t0
# step NAME: the time of the step before, then the new one's title.
step() {
	now=$(date +%s)
	[ -n "${name:-}" ] && echo "---- $name: $((now - ts)) s"
	ts=$now
	name=$1
	[ -n "$name" ] && echo "==== $name"
}

# ---- 1. build
step "build the package (dpkg-buildpackage -us -uc -b)"
ver=$(sed -n '1s/^emofilter (\([^)]*\)).*/\1/p' "$top_srcdir/debian/changelog")
src=$work/emofilter-$ver
mkdir -p "$src"
# The tree as git has it (a fresh clone), or every file when there is no git.
if git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$top_srcdir" ls-files -z --cached --others --exclude-standard |
	    (cd "$top_srcdir" && tar --null -T - -cf -) | tar -xf - -C "$src"
else
	(cd "$top_srcdir" && tar --exclude=.git -cf - .) | tar -xf - -C "$src"
fi
if ! (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc 2>/dev/null || echo 2)" \
    dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
	tail -40 "$work/build.log"
	echo "FAIL: dpkg-buildpackage"
	exit 1
fi
deb=$(ls "$work"/emofilter_"$ver"_*.deb)
ok "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"

step "lintian"
if command -v lintian >/dev/null 2>&1; then
	lintian --allow-root "$work"/emofilter_"$ver"_*.changes >"$work/lintian.out" 2>&1
	sed 's/^/  /' "$work/lintian.out"
	e=$(grep -c '^E:' "$work/lintian.out")
	w=$(grep -c '^W:' "$work/lintian.out")
	[ "$e" -eq 0 ] && ok "lintian: $e errors, $w warnings" || bad "lintian: $e errors"
else
	echo "lintian not installed: not checked"
fi

# ---- 2. install
step "apt-get install ./$(basename "$deb")"
cp "$deb" "$work/pkg.deb"
if ! (cd "$work" && apt-get -o DPkg::Lock::Timeout=600 install -y -q \
    --no-install-recommends "./$(basename "$deb")") >"$work/install.log" 2>&1; then
	tail -30 "$work/install.log"
	echo "FAIL: apt-get install"
	exit 1
fi
ok "installed"
for f in /usr/sbin/emofilter /usr/bin/emofilter-scan /usr/bin/emofilter-quarantine \
    /etc/emofilter/emofilter.conf /etc/emofilter/local.conf /etc/emofilter/rules \
    /usr/share/emofilter/rules/emf_vba.yar /lib/systemd/system/emofilter.service \
    /usr/share/man/man8/emofilter.8.gz /etc/logrotate.d/emofilter; do
	[ -e "$f" ] || bad "not installed: $f"
done
# dh_compress gzips a README.Debian over 4 KiB.
[ -e /usr/share/doc/emofilter/README.Debian ] ||
    [ -e /usr/share/doc/emofilter/README.Debian.gz ] ||
    bad "not installed: /usr/share/doc/emofilter/README.Debian"
dpkg-query -W -f='${Conffiles}\n' emofilter | grep -q '/etc/emofilter/local.conf' &&
    ok "/etc/emofilter/*.conf are conffiles" || bad "local.conf is not a conffile"
[ -L /etc/systemd/system/multi-user.target.wants/emofilter.service ] &&
    ok "unit enabled (multi-user.target.wants)" || echo "note: unit not enabled (no systemd helper?)"
getent passwd emofilter >/dev/null && getent group emofilter-csirt >/dev/null &&
    ok "user emofilter, group emofilter-csirt" || bad "user or CSIRT group missing"
q=/var/lib/emofilter/quarantine
[ "$(stat -c '%U %G %a' "$q" 2>/dev/null)" = "emofilter emofilter-csirt 2750" ] &&
    ok "$q: emofilter:emofilter-csirt, 2750" || bad "$q: $(ls -ld "$q" 2>&1)"
[ -e /lib/systemd/system/emofilter-quarantine-sync.timer ] &&
    [ -e /lib/systemd/system/emofilter-quarantine-sync.service ] &&
    grep -q '^ExecStart=/usr/bin/emofilter-quarantine -c /etc/emofilter/emofilter.conf sync$' \
    /lib/systemd/system/emofilter-quarantine-sync.service &&
    ok "sync timer and service installed" || bad "sync timer/service not installed"
{ grep -q '^127.0.0.1:10026 ' /usr/share/doc/emofilter/examples/master.cf ||
    zgrep -q '^127.0.0.1:10026 ' /usr/share/doc/emofilter/examples/master.cf.gz; } 2>/dev/null &&
    ok "examples/master.cf has the re-injection service" ||
    bad "examples/master.cf lacks the re-injection service"

out=$(emofilter -t 2>&1)
rc=$?
echo "$out" | sed 's/^/  /'
[ $rc -eq 0 ] && echo "$out" | grep -q '^emofilter: configuration file /etc/emofilter/emofilter.conf$' &&
    ok "emofilter -t names /etc/emofilter/emofilter.conf" || bad "emofilter -t: rc $rc"
for p in emofilter emofilter-scan emofilter-quarantine; do
	[ "$($p --version)" = "$p $ver" ] || bad "$p --version: $($p --version 2>&1)"
done
unit=/lib/systemd/system/emofilter.service
if command -v systemd-analyze >/dev/null 2>&1; then
	if systemd-analyze verify "$unit" >"$work/verify.out" 2>&1 && [ ! -s "$work/verify.out" ]; then
		ok "systemd-analyze verify: clean"
	else
		cat "$work/verify.out"
		bad "systemd-analyze verify"
	fi
fi

# ---- 3. the daemon as the unit starts it, behind a private Postfix
step "start as the unit does, mail through Postfix"
unit_cmd() { sed -n "s/^$1=//p" "$unit" | head -1; }
uuser=$(sed -n 's/^User=//p' "$unit")
ugroup=$(sed -n 's/^Group=//p' "$unit")
rdir=/run/$(sed -n 's/^RuntimeDirectory=//p' "$unit")
rmode=$(sed -n 's/^RuntimeDirectoryMode=//p' "$unit")
umask_u=$(sed -n 's/^UMask=//p' "$unit")
install -d -o "$uuser" -g "$ugroup" -m "$rmode" "$rdir"
# as systemd runs a command of the unit: its user, group, umask (call it
# in a subshell: it execs, so the subshell's pid is the daemon's)
as_unit() {
	umask "$umask_u"
	exec setpriv --reuid="$uuser" --regid="$ugroup" --init-groups \
	    --no-new-privs -- "$@"
}
# shellcheck disable=SC2046
(as_unit $(unit_cmd ExecStartPre)) >"$work/pre.out" 2>&1 &&
    ok "ExecStartPre as $uuser: $(unit_cmd ExecStartPre)" ||
    { cat "$work/pre.out"; bad "ExecStartPre failed"; }
MILTER_PORT=$(sed -n 's/^ *socket = "inet:\([0-9]*\)@127.0.0.1".*/\1/p' \
    /usr/share/doc/emofilter/examples/emofilter.conf)
python3 -c "import socket; socket.create_connection(('127.0.0.1',$MILTER_PORT),1)" 2>/dev/null &&
    { echo "FAIL: port $MILTER_PORT is in use; cannot run the installed daemon"; exit 1; }
log=$work/daemon.log
# shellcheck disable=SC2046
(as_unit $(unit_cmd ExecStart)) >"$log" 2>&1 &
DPID=$!
pf_wait_port "$MILTER_PORT" || { cat "$log"; exit 1; }
pidf=$rdir/emofilter.pid
i=0
while [ ! -s "$pidf" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(cat "$pidf" 2>/dev/null)" = "$DPID" ] && ok "pid file $pidf holds $DPID" ||
    bad "pid file: '$(cat "$pidf" 2>&1)' want $DPID"
[ "$(ps -o user= -p "$DPID")" = "$uuser" ] || bad "daemon runs as $(ps -o user= -p "$DPID")"

SMTP_PORT=$(pf_free_port)
SINK_PORT=$(pf_free_port)
mkdir -p "$PF_DIR/etc" "$PF_DIR/queue" "$PF_DIR/data" "$PF_DIR/sink"
chown postfix "$PF_DIR/data" "$PF_DIR/sink"
"$top_srcdir/tests/milter/make-messages.sh" "$work/msg" >/dev/null || exit 1
pf_start_sink || exit 1
pf_start_postfix milter || exit 1
grep -q "^smtpd_milters = inet:127.0.0.1:$MILTER_PORT" "$PF_DIR/etc/main.cf" ||
    bad "Postfix not pointed at $MILTER_PORT"
send() {
	swaks --timeout 60 --server "127.0.0.1:$SMTP_PORT" --from alice@example.org \
	    --to bob@example.net --data "@$1" >"$work/swaks.out" 2>&1
}
send "$work/msg/clean.eml" || bad "clean: swaks: $(tail -3 "$work/swaks.out")"
send "$work/msg/reject.eml" || bad "exe: swaks: $(tail -3 "$work/swaks.out")"
pf_wait_queue_empty 30 || bad "Postfix queue not empty after 30 s"
f=$(pf_find_delivered '<clean.emftest@example.org>')
[ -n "$f" ] && grep -q '^X-Emofilter-Action: accept' "$f" &&
    ok "clean mail delivered with X-Emofilter-Action: accept" || bad "clean mail: '$f'"
f=$(pf_find_delivered '<reject.emftest@example.org>')
if [ -n "$f" ]; then
	a=$(sed -n 's/^X-Emofilter-Action: //p' "$f")
	s=$(sed -n 's/^X-Emofilter-Symbols: //p' "$f")
	case $s in
	*EXECUTABLE_ATTACHMENT*) ok "setup.exe mail: action $a, symbols $s";;
	*) bad "setup.exe mail: symbols '$s'";;
	esac
else
	grep -q 'reject.emftest' "$PF_DIR/maillog" && ok "setup.exe mail not delivered (held or rejected)" ||
	    bad "setup.exe mail lost"
fi
grep -q 'action=' "$log" && ok "log line: $(grep 'action=' "$log" | tail -1 | cut -c1-160)" ||
    bad "no log line"

# ---- 4. a second start refuses
step "second start refuses"
ino=$(stat -c %i "$pidf")
# shellcheck disable=SC2046
(as_unit $(unit_cmd ExecStart)) >"$work/second.out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "already running (pid $DPID holds $pidf): not starting" "$work/second.out" &&
    ok "second start as the unit: exit $rc, $(sed 's/^emofilter\[[0-9]*\]: //' "$work/second.out")" ||
    bad "second start as the unit: rc $rc, $(cat "$work/second.out")"
/usr/sbin/emofilter -f >"$work/third.out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "already running" "$work/third.out" &&
    ok "second start as root by hand: exit $rc" || bad "second start as root: rc $rc, $(cat "$work/third.out")"
[ "$(cat "$pidf" 2>/dev/null)" = "$DPID" ] && [ "$(stat -c %i "$pidf")" = "$ino" ] &&
    kill -0 "$DPID" 2>/dev/null &&
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$MILTER_PORT),1)" &&
    ok "the first daemon keeps its pid file and socket" || bad "first daemon disturbed"
send "$work/msg/clean.eml" && pf_wait_queue_empty 30 &&
    [ "$(pf_delivered)" -ge 2 ] && ok "mail still flows" || bad "mail after the second start"

# A quarantine entry, written by the installed tools as the daemon user.
(as_unit /usr/bin/emofilter-scan --quarantine "$q" "$work/msg/quarantine.eml") >/dev/null 2>&1
n=$(find "$q" -name '*.eml' | wc -l)
[ "$n" -ge 1 ] && ok "quarantine entry stored ($n)" || bad "no quarantine entry"
# The CSIRT model: the entry has the group, an analyst in it reads it.
e=$(find "$q" -name '*.json' | head -1)
[ "$(stat -c '%U %G %a' "$e")" = "emofilter emofilter-csirt 640" ] &&
    [ "$(stat -c '%G %a' "$(dirname "$e")")" = "emofilter-csirt 2750" ] &&
    ok "entry emofilter:emofilter-csirt 0640 in a 2750 day directory" ||
    bad "entry: $(stat -c '%U %G %a' "$e" "$(dirname "$e")")"
cg=$(getent group emofilter-csirt | cut -d: -f3)
setpriv --reuid=4242 --regid=4242 --groups="$cg" /usr/bin/emofilter-quarantine list \
    >"$work/analyst.out" 2>&1 && grep -q "$(basename "$e" .json)" "$work/analyst.out" &&
    ok "an analyst in emofilter-csirt lists the daemon's entry" ||
    bad "analyst list: $(cat "$work/analyst.out")"

kill -TERM "$DPID"
wait "$DPID"
rc=$?
DPID=
[ $rc -eq 0 ] || bad "daemon exit status $rc"
[ -e "$pidf" ] && bad "pid file left at stop" || ok "stopped; pid file removed"
pf_stop_all

# ---- 5. purge
step "apt-get purge"
dpkg-deb -c "$work/pkg.deb" | awk '{print $6}' | sed 's|^\.||' | grep -v '/$' >"$work/files"
apt-get -o DPkg::Lock::Timeout=600 purge -y -q emofilter >"$work/purge.log" 2>&1 ||
    { tail -20 "$work/purge.log"; bad "apt-get purge"; }
left=$(while read -r f; do [ -e "$f" ] && echo "$f"; done <"$work/files")
[ -z "$left" ] && ok "no file of the package left" || bad "left after purge: $left"
[ -e /etc/emofilter ] && bad "/etc/emofilter left after purge" || ok "/etc/emofilter removed"
wants=$(find /etc/systemd/system -name 'emofilter*' 2>/dev/null)
[ -z "$wants" ] && ok "no unit links left in /etc/systemd/system" || bad "left: $wants"
n=$(find "$q" -name '*.eml' 2>/dev/null | wc -l)
[ "$n" -ge 1 ] && ok "the quarantine is kept ($n entries in $q)" || bad "quarantine lost at purge"
other=$(find /var/lib/emofilter -mindepth 1 -not -path "$q" -not -path "$q/*" 2>/dev/null)
[ -z "$other" ] && ok "nothing else in /var/lib/emofilter" || bad "left: $other"
step ""
echo "install-test.sh: $(($(date +%s) - t0)) s in all"
[ $fail -eq 0 ] || exit 1
echo "install-test.sh: all checks passed"
