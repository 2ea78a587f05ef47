#!/bin/sh
# samples.sh - the bundled samples get the verdicts they were built for:
# clean mail below "tag" (or at most the action expected.tsv allows), the
# Emotet-like mails quarantined or rejected.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
scan=$top_builddir/src/cli/emofilter-scan
work=$top_builddir/tests/work/samples-test

command -v zip >/dev/null && command -v 7z >/dev/null ||
    { echo "SKIP: zip or 7z missing (contrib/install-deps.sh)"; exit 77; }
rm -rf "$work"
python3 "$top_srcdir/contrib/make-samples.py" "$work" || exit 1

rank() { case $1 in accept) echo 0;; tag) echo 1;; quarantine) echo 2;; reject) echo 3;; *) echo 9;; esac; }
pass=0 fail=0
while IFS='	' read -r file lo hi; do
	case $file in \#*|"") continue;; esac
	line=$("$scan" -c "$top_srcdir/tests/emofilter-test.conf" --summary "$work/$file")
	action=$(echo "$line" | awk '{print $3}')
	r=$(rank "$action")
	if [ "$r" -ge "$(rank "$lo")" ] && [ "$r" -le "$(rank "$hi")" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $file: got $action, want $lo..$hi: $line"
	fi
done < "$work/expected.tsv"
rm -rf "$work"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
