#!/bin/sh
# run.sh - build the libFuzzer harnesses in a separate build directory and
# run each for a while; fail on any crash, leak, timeout or out-of-memory.
#
#   tests/fuzz/run.sh [-t SECONDS] [-j JOBS] [-w WORKDIR] [HARNESS...]
#
# -t   seconds per harness (default 60; contrib/test.sh uses 15)
# -j   harnesses run at once (default 1): each is one process on one core,
#      so -j2 on two cores halves the wall time for the same CPU per harness
# -w   work directory (default tests/work/fuzz): build/ is a copy of the
#      source configured with CC=clang --enable-fuzzing (the source tree's
#      own build is never touched), seeds/ the seed corpora
#      (make-seeds.sh), corpus/NAME the growing working corpus, artifacts/
#      what crashed, results.tsv one line per run (date, harness, seconds,
#      CPU seconds, executions, coverage, features, corpus size, peak RSS,
#      result).
# HARNESS: message mime charset html config zip passwords ole vba ooxml
#      biff office composite rtf xlm rels onenote state mproto (default:
#      all nineteen, in that order;
#      see the fuzz_*.c headers for what each one drives).
#
# Environment: EMF_FUZZ_SEED=N passes -seed=N to every harness (same
# seeds and corpus: the same run, as contrib/test.sh uses it);
# FUZZ_RESEED=1 rebuilds the seeds (make-seeds.sh) even if present;
# FUZZ_CC picks the compiler (default clang).
#
# Exits 0 with a note when clang or libFuzzer is missing (nothing to run),
# 1 when a harness found something: the artifact is kept, and the line to
# reproduce it printed. Runs at nice 19, one process per harness, so it
# can share a small machine.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=60
jobs=1
work=$top/tests/work/fuzz
while getopts t:j:w: o; do
	case $o in
	t) secs=$OPTARG;;
	j) jobs=$OPTARG;;
	w) work=$OPTARG;;
	*) echo "usage: $0 [-t SECONDS] [-j JOBS] [-w WORKDIR] [HARNESS...]" >&2; exit 2;;
	esac
done
shift $((OPTIND - 1))
all="message mime charset html config zip passwords ole vba ooxml biff office composite rtf"
all="$all xlm rels onenote state mproto"
harnesses=${*:-$all}

cc=${FUZZ_CC:-clang}
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "fuzz: $cc not found, fuzz smoke skipped (install clang)"
	exit 0
fi
probe=$(mktemp -d)
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' > "$probe/p.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" >/dev/null 2>&1; then
	rm -rf "$probe"
	echo "fuzz: $cc cannot link libFuzzer (Debian: libclang-rt-dev), fuzz smoke skipped"
	exit 0
fi
rm -rf "$probe"

# ---- a copy of the source, configured for fuzzing --------------------------
build=$work/build
mkdir -p "$build" "$work/artifacts" "$work/corpus"
# Tracked and new files only (never the in-tree build); tar keeps mtimes,
# so an unchanged file is not rebuilt (posix format: to the nanosecond,
# or a file changed in the second of its last compile would not be).
if [ -d "$top/.git" ] || [ -f "$top/.git" ]; then
	(cd "$top" && git ls-files -co --exclude-standard -z |
	    xargs -0 tar --format=posix -cf - --no-recursion) | (cd "$build" && tar xpf -)
else
	(cd "$top" && tar --format=posix -cf - --exclude=./tests/work --exclude='*.o' \
	    --exclude='*.a' --exclude=Makefile --exclude=config.status \
	    --exclude=config.h .) | (cd "$build" && tar xpf -)
fi
cd "$build"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
	autoreconf -fi >/dev/null 2>&1
fi
if [ ! -f Makefile ] || [ configure -nt Makefile ]; then
	CC=$cc ./configure -q --enable-fuzzing >/dev/null
fi
targets=""
for h in $harnesses; do targets="$targets tests/fuzz/fuzz_$h"; done
# shellcheck disable=SC2086
nice -n 19 make -s -j2 $targets >/dev/null

# ---- seeds -----------------------------------------------------------------
# Rebuilt when a harness has none yet (an older seed set, a new harness).
reseed=${FUZZ_RESEED:-}
for h in $harnesses; do
	[ -d "$work/seeds/$h" ] || reseed=1
done
if [ -n "$reseed" ]; then
	"$top/tests/fuzz/make-seeds.sh" "$work/seeds"
fi

# tests/fuzz/dict/NAME.dict for each harness, concatenated.
dicts() {
	case $1 in
	message) echo "mime zip passwords";;
	mime) echo "mime passwords";;
	zip) echo zip;;
	biff) echo "biff ole";;
	office) echo "ole vba ooxml biff zip";;
	rtf) echo "rtf ole";;
	xlm) echo "xlm";;
	rels) echo "rels ooxml";;
	onenote) echo "onenote";;
	state) echo "state passwords mime zip";;
	*) echo "$1";;
	esac
}
# Whole files and whole streams need room; texts and XML parts do not.
maxlen() {
	case $1 in
	message|mime|zip|ole|biff|office|rtf) echo 65536;;
	onenote|state|mproto) echo 65536;;
	*) echo 16384;;
	esac
}

# ---- run -----------------------------------------------------------------
# run_one H: fuzz H for $secs seconds; its result line goes to $work/H.line
# and what to do about a finding to $work/H.found.
run_one() {
	h=$1
	dict=$work/$h.dict
	: > "$dict"
	for d in $(dicts "$h"); do cat "$top/tests/fuzz/dict/$d.dict" >> "$dict"; done
	mkdir -p "$work/corpus/$h"
	# The kept crash inputs run first under clang's sanitizers too (make
	# check replays them with gcc's, which miss some undefined behaviour,
	# such as an offset added to a null pointer); new inputs go only to
	# the first directory.
	regress=""
	[ -d "$top/tests/fuzz/regress/$h" ] && regress=$top/tests/fuzz/regress/$h
	log=$work/$h.log
	rm -f "$work/artifacts/$h-"* "$work/$h.found" "$work/$h.line"
	set +e
	# -timeout: one input taking 25 s is a hang even under ASan (the
	# scan deadline is 60 s, but real mail finishes in milliseconds).
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0} \
	LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tests/fuzz/lsan.supp:print_suppressions=0} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	G_SLICE=always-malloc \
	/usr/bin/time -f 'CPU %U %S' -o "$work/$h.time" \
	    nice -n 19 "$build/tests/fuzz/fuzz_$h" \
	    -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 \
	    -malloc_limit_mb=2048 -max_len="$(maxlen "$h")" -dict="$dict" \
	    -print_final_stats=1 -artifact_prefix="$work/artifacts/$h-" \
	    ${EMF_FUZZ_SEED:+-seed="$EMF_FUZZ_SEED"} \
	    "$work/corpus/$h" "$work/seeds/$h" $regress > "$log" 2>&1
	rc=$?
	set -e
	cpu=$(awk '/^CPU/ { printf "%.0f", $2 + $3 }' "$work/$h.time" 2>/dev/null || echo '?')
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(ls "$work/corpus/$h" | wc -l)
	if [ "$rc" -eq 0 ]; then result=ok; else result="FAIL($rc)"; fi
	printf '%-9s %6s %8s %10s %6s %7s %6s %7s %s\n' "$h" "$secs" "$cpu" \
	    "${execs:-?}" "${cov:-?}" "${ft:-?}" "$corp" "${rss:-?}" "$result" \
	    > "$work/$h.line"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	    "$h" "$secs" "$cpu" "${execs:-}" "${cov:-}" "${ft:-}" "$corp" "${rss:-}" \
	    "$result" > "$work/$h.tsv"
	[ "$rc" -eq 0 ] && return 0
	{
		grep -E 'ERROR|SUMMARY|Test unit written|contract broken|runtime error' "$log" | head -8 | sed 's/^/    /'
		for a in "$work/artifacts/$h-"*; do
			[ -e "$a" ] || continue
			echo "    reproduce: $build/tests/fuzz/fuzz_$h $a"
			echo "    keep it:   cp $a $top/tests/fuzz/regress/$h/"
		done
	} > "$work/$h.found"
}

# Report finished harnesses in the order asked (a batch at a time); a
# harness that left no result line died before it could write one.
report() {
	for h in $*; do
		if [ ! -f "$work/$h.line" ]; then
			printf '%-9s %6s ended without a result (see %s)\n' "$h" "$secs" "$work/$h.log"
			fail=1
			continue
		fi
		cat "$work/$h.line"
		cat "$work/$h.tsv" >> "$work/results.tsv"
		if [ -f "$work/$h.found" ]; then
			cat "$work/$h.found"
			fail=1
		fi
	done
}

# Every harness's dictionaries must exist before any fuzzer starts.
for h in $harnesses; do
	for d in $(dicts "$h"); do
		if [ ! -f "$top/tests/fuzz/dict/$d.dict" ]; then
			echo "run.sh: harness $h: no dictionary tests/fuzz/dict/$d.dict" >&2
			exit 1
		fi
	done
done

printf '%-9s %6s %8s %10s %6s %7s %6s %7s %s\n' harness secs cpu-s execs cov ft corpus rss-mb result
fail=0
batch=""
n=0
for h in $harnesses; do
	run_one "$h" &
	batch="$batch $h"
	n=$((n + 1))
	if [ "$n" -ge "$jobs" ]; then
		wait
		report $batch
		batch=""
		n=0
	fi
done
wait
report $batch
exit $fail
