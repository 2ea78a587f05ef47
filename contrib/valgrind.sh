#!/bin/sh
# valgrind.sh - emofilter-scan under valgrind memcheck over a representative
# subset: the bundled samples (also under recipient policies), a few mails
# of each corpus folder, a few archives and Office files (--raw), and
# emofilter-quarantine over a store of the samples. Fails (exit 1) on any
# invalid read or write, use of uninitialised memory, or definite/indirect
# leak.
#
#   contrib/valgrind.sh [BUILDDIR]
#
# Needs a normal (non-sanitizer) build of src/cli/emofilter-scan in
# BUILDDIR (default: the source tree). Exits 0 with a note when valgrind
# is missing. Suppressions: contrib/valgrind.supp (libraries' own leaks,
# each explained there).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top}
scan=$build/src/cli/emofilter-scan
corpus=${EMF_CORPUS:-$top/../shared/corpus}
[ -d "$corpus" ] || [ -n "${EMF_CORPUS:-}" ] || corpus=$top/../../shared/corpus
per_dir=${EMF_VALGRIND_PER_DIR:-3}

command -v valgrind >/dev/null || { echo "valgrind: not installed, skipped"; exit 0; }
[ -x "$scan" ] || { echo "valgrind: $scan not built" >&2; exit 1; }
if nm "$scan" 2>/dev/null | grep -q __asan_init; then
	echo "valgrind: $scan is a sanitizer build; build it normally first" >&2
	exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mails=$work/mails.list
raws=$work/raws.list
: > "$mails"
: > "$raws"
if command -v zip >/dev/null && command -v 7z >/dev/null; then
	python3 "$top/contrib/make-samples.py" "$work/samples" >/dev/null
	find "$work/samples" -name '*.eml' | sort >> "$mails"
fi
# A few of each folder, spread over it (every n-th file), small ones only.
pick() {
	find "$1" -type f -size -512k ! -name '*.json' ! -name '*.md' \
	    ! -name 'LICENSE*' ! -name '*.py' ! -name '*.tsv' 2>/dev/null |
	    sort | awk -v k="$2" '{ a[NR] = $0 } END { if (NR == 0) exit;
	    s = NR / k; if (s < 1) s = 1; for (i = 1; i <= NR && n < k; i += s) { print a[int(i)]; n++ } }'
}
if [ -d "$corpus" ]; then
	for d in spamassassin-corpus mimekit-testdata thunderbird-testmail \
	    stalwart-mailparser-eml ruby-mail-fixtures gmime-testdata \
	    sisimai-set-of-emails tika-mail phishing-pot-subset \
	    spamscope-mailparser-mails nodemailer-mailparser-fixtures \
	    cpython-email-testdata yara-rules-maldocs/email; do
		pick "$corpus/$d" "$per_dir" >> "$mails"
	done
	for d in libzip-regress go-archive-zip-testdata tika-archives \
	    recursiveextractor-testdata tika-office oletools-testdata \
	    poi-testdata msoffcrypto-testdata; do
		pick "$corpus/$d" "$per_dir" >> "$raws"
	done
else
	echo "valgrind: no corpus at $corpus, samples only"
fi

vg() {
	G_SLICE=always-malloc G_DEBUG=gc-friendly valgrind -q --error-exitcode=99 \
	    --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    --show-leak-kinds=definite,indirect --track-origins=yes \
	    --suppressions="$top/contrib/valgrind.supp" "$@"
}
# The runs, one line each ("mail PATH", "raw PATH", "q ARGS" for
# emofilter-quarantine), shared out over one lane per core.
jobs=$work/jobs.list
sed 's/^/mail /' "$mails" > "$jobs"
sed 's/^/raw /' "$raws" >> "$jobs"

# The CSIRT tool over a store of the samples: every read-only command and
# an export (the AES zip writer); release and purge change the store and
# are exercised by tests/quarantine.sh.
quar=$build/src/cli/emofilter-quarantine
store=$work/store
if [ -x "$quar" ] && [ -d "$work/samples" ]; then
	install -d -m 0700 "$store"
	"$scan" -c "$top/tests/emofilter-test.conf" --quarantine "$store" \
	    "$work/samples"/*.eml > /dev/null 2>&1 || [ $? -eq 1 ]
	ids=$("$quar" -d "$store" list --json | grep -o '"id":"[^"]*"' |
	    sed 's/"id":"\(.*\)"/\1/')
	{
		echo "q list"
		echo "q list --json --min-score 10"
		for id in $ids; do
			echo "q show $id"
			echo "q export $id -o $work/export-$id.zip"
		done
		echo "q ioc --json" $ids
		echo "q ioc --csv" $ids
	} >> "$jobs"
fi

# Recipient policies: the samples for recipients under several policies.
if [ -d "$work/samples" ]; then
	{
		echo "yara = { rules_dir = \"$top/rules\"; };"
		sed 's/^actions.*//' "$top/tests/fuzz/regress/config/policies.conf"
	} > "$work/tests-policies.conf"
	echo "policy $work/samples" >> "$jobs"
fi
# The milter protocol engine: its unit test (no fork, so valgrind sees
# the engine's threads) and its fuzz regression inputs, built here (a
# rebuild after the sanitizer build leaves no test programs).
for t in tests/unit/check_mproto tests/fuzz/fuzz_mproto_replay; do
	make -C "$build" -s "$t" >/dev/null 2>&1 || true
	if [ -x "$build/$t" ]; then
		echo "prog $build/$t" >> "$jobs"
	else
		echo "valgrind: $t could not be built" >&2
		exit 1
	fi
done

job() {
	case $1 in
	policy) vg "$scan" -c "$work/tests-policies.conf" --json \
	    --rcpt keiri@example.co.jp --rcpt x@a.fin.example.co.jp \
	    --rcpt abuse@example.org --rcpt b@example.net "$2"/*.eml;;
	mail) vg "$scan" -c "$top/tests/emofilter-test.conf" --json "$2";;
	raw) vg "$scan" -c "$top/tests/emofilter-test.conf" --json --raw "$2";;
	# shellcheck disable=SC2086
	q) vg "$quar" -d "$store" $2;;
	prog) CK_FORK=no top_srcdir=$top vg "$2";;
	esac
}
# lane K: the jobs of lane K; counts to lane-K.sum, failures to lane-K.out.
lane() {
	n=0 fail=0
	: > "$work/lane-$1.out"
	while read -r kind rest; do
		n=$((n + 1))
		set +e
		job "$kind" "$rest" > /dev/null 2> "$work/vg-$1.err"
		rc=$?
		set -e
		if [ "$rc" -ge 2 ]; then
			fail=$((fail + 1))
			{ echo "FAIL (exit $rc): $kind $rest"; head -40 "$work/vg-$1.err"; } \
			    >> "$work/lane-$1.out"
		fi
	done
	echo "$n $fail" > "$work/lane-$1.sum"
}
lanes=${EMF_VALGRIND_JOBS:-$(nproc 2>/dev/null || echo 1)}
k=0
while [ "$k" -lt "$lanes" ]; do
	awk -v k="$k" -v n="$lanes" 'NR % n == k' "$jobs" | lane "$k" &
	k=$((k + 1))
done
wait
fail=0 n=0
k=0
while [ "$k" -lt "$lanes" ]; do
	cat "$work/lane-$k.out"
	read -r ln lf < "$work/lane-$k.sum"
	n=$((n + ln)) fail=$((fail + lf))
	k=$((k + 1))
done
nq=$(grep -c '^q ' "$jobs" || true)
np=$(grep -c '^prog ' "$jobs" || true)
echo "valgrind: $n runs ($(wc -l < "$mails") mails, $(wc -l < "$raws") raw files, $nq quarantine commands, 1 of the samples under recipient policies, $np milter protocol programs) over $lanes lanes, $fail failed"
[ "$fail" -eq 0 ]
