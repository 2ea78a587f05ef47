#!/bin/sh
# rules.sh - the shipped rules/ compile through the program an admin uses
# (emofilter-scan --check-rules), and a broken rule file is refused with
# its file:line and a non-zero exit.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
scan=$top_builddir/src/cli/emofilter-scan
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

if ! out=$("$scan" -c "$top_srcdir/tests/emofilter-test.conf" --check-rules 2>&1); then
	echo "rules.sh: shipped rules refused: $out"
	fail=1
fi

mkdir "$tmp/rules"
printf 'rule ok { condition: true }\n\nrule bad { condition: $nope }\n' \
    >"$tmp/rules/bad.yar"
printf 'yara = { rules_dir = "rules"; };\n' >"$tmp/test.conf"
out=$("$scan" -c "$tmp/test.conf" --check-rules 2>&1)
rc=$?
if [ $rc -ne 2 ]; then
	echo "rules.sh: broken rule: got exit $rc, want 2"
	fail=1
fi
case $out in
*"$tmp/rules/bad.yar:3: "*) ;;
*)	echo "rules.sh: broken rule: got \"$out\", want $tmp/rules/bad.yar:3:"
	fail=1 ;;
esac
[ $fail -eq 0 ] && echo "rules.sh: ok"
exit $fail
