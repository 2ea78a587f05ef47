#!/bin/sh
# calibrate.sh - the confusion table of the shipped defaults on labelled
# mail, and the acceptance figures of issue 12 as a test.
#
# Scans every message of ../shared/corpus/emotet-dev (labels.tsv: label,
# family, feature tags, SMTP envelope) with the default weights and
# composites and the rules of this tree, replaying each message's
# envelope, then the real ham of ../shared/corpus (through tests/ham.sh).
# Prints, per family and per feature tag, how many messages got each
# action, and fails (exit 1) below the acceptance figures:
#   malicious quarantined or rejected >= 99 %, every family >= 97 %;
#   legitimate: at most 1 of the set tagged, none quarantined (a mail
#   tagged for an encrypted archive it could not open is counted apart:
#   without the correlation of the password mail it is tagged, as it
#   should be; it must never be quarantined);
#   real ham: none tagged.
# Skips (77) without the corpus. CALIBRATE_OUT=FILE keeps the
# per-message lines (file, label, family, action, score, symbols), so a
# change can be compared message by message (diff two runs).
# Usage: tests/calibrate.sh [-c CONF]   (default tests/emofilter-test.conf)
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
conf=$top_srcdir/tests/emofilter-test.conf
if [ "${1:-}" = "-c" ] && [ -n "${2:-}" ]; then
	conf=$2
fi
corpus=${EMF_CORPUS:-}
for c in "$top_srcdir/../shared/corpus" "$top_srcdir/../../shared/corpus"; do
	[ -z "$corpus" ] && [ -d "$c/emotet-dev" ] && corpus=$c
done
scan=$top_builddir/src/cli/emofilter-scan
if [ -z "$corpus" ] || [ ! -f "$corpus/emotet-dev/labels.tsv" ]; then
	echo "calibrate.sh: no corpus/emotet-dev beside $top_srcdir: skipped"
	exit 77
fi
dev=$corpus/emotet-dev
out=${CALIBRATE_OUT:-$(mktemp)}
hamout=$(mktemp)
trap 'rm -f "$hamout"; [ -n "${CALIBRATE_OUT:-}" ] || rm -f "$out"' EXIT
: >"$out"

# One scan per message: each has its own envelope. The null sender "<>"
# is passed as an empty sender.
tail -n +2 "$dev/labels.tsv" |
while IFS='	' read -r file label family features from rcpt _rest; do
	[ "$from" = "<>" ] && from=
	line=$("$scan" -c "$conf" --summary --sender "$from" --rcpt "$rcpt" \
	    "$dev/$file")
	rc=$?
	if [ $rc -gt 1 ] || [ -z "$line" ]; then
		echo "calibrate.sh: emofilter-scan failed on $file ($rc)" >&2
		echo "$file	$label	$family	$features	error	0	-"
		continue
	fi
	# file score action symbols...
	echo "$line" | awk -v f="$file" -v l="$label" -v fam="$family" \
	    -v feat="$features" '{
		sym = ""
		for (i = 4; i <= NF; i++) sym = sym (i > 4 ? " " : "") $i
		printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f, l, fam, feat, $3, $2, sym
	}'
done >"$out"

# The table. "bad" is what the acceptance counts against: a malicious
# message below quarantine, a legitimate one at tag or above.
awk -F'\t' '
function add(k, a) {
	n[k]++; c[k, a]++
	if ((lab[k] == "mal" && a != "quarantine" && a != "reject") ||
	    (lab[k] == "ham" && a != "accept"))
		bad[k]++
}
function row(k, name) {
	printf "  %-34s %4d %6d %5d %6d %6d %5d\n", name, n[k], c[k, "accept"],
	    c[k, "tag"], c[k, "quarantine"], c[k, "reject"], bad[k]
}
{
	fam = "f" $2 ":" $3; lab[fam] = $2; add(fam, $5); fams[fam] = 1
	tot = "ftotal:" $2; lab[tot] = $2; add(tot, $5)
	nf = split($4, t, ",")
	for (i = 1; i <= nf; i++) {
		ft = "t" $2 ":" t[i]; lab[ft] = $2; add(ft, $5); feats[ft] = 1
	}
}
END {
	hdr = sprintf("  %-34s %4s %6s %5s %6s %6s %5s\n", "", "n",
	    "accept", "tag", "quar", "reject", "bad")
	for (pass = 1; pass <= 2; pass++) {
		l = pass == 1 ? "mal" : "ham"
		name = l == "mal" ? "malicious" : "legitimate"
		why = l == "mal" ? "below quarantine" : "tagged or worse"
		printf "%s by family (bad = %s)\n", name, why
		printf "%s", hdr
		m = 0
		for (k in fams) if (lab[k] == l) keys[++m] = k
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++)
			if (keys[j] < keys[i]) { x = keys[i]; keys[i] = keys[j]; keys[j] = x }
		for (i = 1; i <= m; i++) row(keys[i], substr(keys[i], 6))
		row("ftotal:" l, "all")
		printf "%s by feature tag\n", name
		printf "%s", hdr
		m = 0
		for (k in feats) if (lab[k] == l) keys[++m] = k
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++)
			if (keys[j] < keys[i]) { x = keys[i]; keys[i] = keys[j]; keys[j] = x }
		for (i = 1; i <= m; i++) row(keys[i], substr(keys[i], 6))
	}
}' "$out"

# The real ham of the corpus, through the ham test's own file list.
HAM_SUMMARY=$hamout sh "$top_srcdir/tests/ham.sh" >/dev/null
hamrc=$?
[ $hamrc -eq 77 ] && : >"$hamout"
ham_n=$(wc -l <"$hamout")
ham_bad=$(awk '$3 != "accept"' "$hamout" | wc -l)
echo "real ham of the corpus: $ham_n messages, $ham_bad tagged or worse"
awk '$3 != "accept"' "$hamout" | sed 's/^/  /'

# Acceptance.
awk -F'\t' -v ham_bad="$ham_bad" '
$2 == "mal" { mn++; fn[$3]++
	if ($5 == "quarantine" || $5 == "reject") { mg++; fg[$3]++ } }
$2 == "ham" { hn++
	if ($5 != "accept" && $7 ~ /ARCHIVE_PASSWORD_UNKNOWN\([1-9]/) hu++
	else if ($5 != "accept") ht++
	if ($5 == "quarantine" || $5 == "reject") hq++ }
END {
	fail = 0
	printf "acceptance: malicious quarantined or rejected %d / %d (%.1f %%, want >= 99 %%)\n",
	    mg, mn, mn ? 100 * mg / mn : 0
	if (mn == 0 || mg < 0.99 * mn) fail = 1
	for (f in fn) {
		printf "acceptance: family %s %d / %d (%.1f %%, want >= 97 %%)\n",
		    f, fg[f], fn[f], 100 * fg[f] / fn[f]
		if (fg[f] < 0.97 * fn[f])
			fail = 1
	}
	printf "acceptance: legitimate tagged or worse %d / %d (want <= 1), quarantined or worse %d (want 0)\n",
	    ht, hn, hq
	# An encrypted archive that could not be opened is tagged until
	# the correlation of the password mail (issue 14) can hold it: not
	# counted above, listed here.
	printf "acceptance: legitimate tagged for an archive that could not be opened %d (tag expected without correlation)\n",
	    hu
	if (ht > 1 || hq > 0) fail = 1
	printf "acceptance: real ham tagged or worse %d (want 0)\n", ham_bad
	if (ham_bad > 0) fail = 1
	if (fail)
		print "calibrate.sh: below the acceptance figures"
	else
		print "calibrate.sh: acceptance figures met"
	exit fail
}' "$out"
