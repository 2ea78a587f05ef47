#!/bin/sh
# ham.sh - every ham message of ../shared/corpus must stay below "tag".
#
# Scans the legitimate mail of the shared corpus (SpamAssassin easy/hard
# ham, MimeKit, Thunderbird, Stalwart, ruby-mail, GMime, sisimai) with the
# default weights and the rules of this tree, and fails listing every
# message that reaches tag or worse. Skips (77) without the corpus.
# HAM_SUMMARY=FILE keeps the per-message lines (score distribution:
# contrib/doc/scores.md explains how it was made).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
# The corpus sits beside the main checkout (../shared/corpus); from a
# worktree under wt/ it is one level further up.
corpus=${EMF_CORPUS:-}
for c in "$top_srcdir/../shared/corpus" "$top_srcdir/../../shared/corpus"; do
	[ -z "$corpus" ] && [ -d "$c/spamassassin-corpus" ] && corpus=$c
done
scan=$top_builddir/src/cli/emofilter-scan
conf=$top_srcdir/tests/emofilter-test.conf

if [ -z "$corpus" ] || [ ! -d "$corpus/spamassassin-corpus" ]; then
	echo "ham.sh: no corpus beside $top_srcdir: skipped"
	exit 77
fi

list=$(mktemp) out=${HAM_SUMMARY:-$(mktemp)}
trap 'rm -f "$list"; [ -n "${HAM_SUMMARY:-}" ] || rm -f "$out"' EXIT

for d in easy-ham-1 easy-ham-2 hard-ham-1; do
	find "$corpus/spamassassin-corpus/$d" -type f -name '*.txt'
done >"$list"
# The other ham folders hold test mail plus licences, expected parse
# results and binary fixtures: keep what is mail.
for d in mimekit-testdata thunderbird-testmail stalwart-mailparser-eml \
    ruby-mail-fixtures gmime-testdata sisimai-set-of-emails; do
	[ -d "$corpus/$d" ] || continue
	find "$corpus/$d" -type f ! -name '*.json' ! -name '*.tnef' \
	    ! -name '*.list' ! -name '*.out' ! -name '*.html' ! -name '*.msg' \
	    ! -name '*.md' ! -name 'LICENSE*' ! -name 'COPYING*' \
	    ! -name '*.p12' ! -name '*.pem' ! -name '*.key' ! -name '*.crt' \
	    ! -name '*.png' ! -name '*.jpg' ! -name '*.gif' ! -name '*.pdf' \
	    ! -name '*.zip' ! -name '*.sql' ! -name '*.db' ! -name '*.msf'
done >>"$list"

n=$(wc -l <"$list")
start=$(date +%s)
# Exit status 1 means "something was tagged": judged below from the lines.
tr '\n' '\0' <"$list" | xargs -0 "$scan" -c "$conf" --summary >"$out"
rc=$?
end=$(date +%s)
if [ $rc -gt 123 ]; then
	echo "ham.sh: emofilter-scan failed ($rc)"
	exit 1
fi
msgs=$(wc -l <"$out")
echo "ham.sh: $n files, $msgs messages in $((end - start)) s"
awk '{ print $2 }' "$out" | sort -n | uniq -c | sort -k2 -n |
    awk '{ printf "  score %-6s %6d\n", $2, $1 }'
bad=$(awk '$3 != "accept"' "$out")
if [ -n "$bad" ]; then
	echo "ham.sh: ham at tag or above:"
	echo "$bad"
	exit 1
fi
echo "ham.sh: all ham below tag"
