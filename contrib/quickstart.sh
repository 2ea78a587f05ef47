#!/bin/sh
# quickstart.sh - install what is missing, build, and run emofilter on the
# bundled sample mails: a table of file, score, action and symbols.
#
# Run from anywhere as root (or with sudo available) on Debian 12.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

contrib/install-deps.sh
contrib/build.sh

samples=tests/work/samples
rm -rf "$samples"
python3 contrib/make-samples.py "$samples"

# tests/emofilter-test.conf: the built-in defaults (what conf/emofilter.conf
# lists) with the YARA rules of this tree instead of the installed ones.
echo
echo "== emofilter-scan on the bundled samples (default scores, rules/)"
printf '%-40s %7s  %-10s %s\n' FILE SCORE ACTION SYMBOLS
set +e
(cd "$samples" && "$top/src/cli/emofilter-scan" \
    -c "$top/tests/emofilter-test.conf" --summary ./*.eml) > "$samples/summary.txt"
rc=$?
set -e
sed 's|^\./|  |' "$samples/summary.txt"
echo
echo "Full report of one sample: src/cli/emofilter-scan -c tests/emofilter-test.conf $samples/emotet-password-zip.eml"
echo "JSON for scripts:          src/cli/emofilter-scan -c tests/emofilter-test.conf --json FILE"
[ "$rc" -le 1 ] || exit 1

# The same samples through the milter behind a private Postfix on
# loopback: what happened to each (delivered, tagged, held, rejected).
echo
echo "== the samples through Postfix + the emofilter milter (loopback only)"
set +e
sh contrib/postfix-demo.sh "$samples"
rc=$?
set -e
case $rc in
0) ;;
77) echo "(skipped: the Postfix demo needs root and Postfix)";;
*) exit "$rc";;
esac
