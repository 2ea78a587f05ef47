#!/bin/sh
# test.sh - install, build and run every test suite; non-zero on any failure.
#
# 1. make check (unit suites, samples, corpus) on a normal build;
# 2. make check again under AddressSanitizer + UndefinedBehaviorSanitizer;
# Further suites (valgrind, Postfix end-to-end, fuzz smoke) are added as
# they land. Works as root with no terminal (CI calls it from .ci/run).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

contrib/install-deps.sh

step() { echo; echo "==== $*"; }

# Show the logs of failed tests, then fail.
failed() {
	grep -l ':test-result: FAIL\|:test-result: ERROR' $(find tests -name '*.trs') 2>/dev/null |
	    while read -r trs; do echo "---- ${trs%.trs}.log"; tail -60 "${trs%.trs}.log"; done
	exit 1
}

# Count automake test results of the last make check into the totals.
passed=0 nfailed=0 skipped=0
count() {
	for trs in $(find tests -name '*.trs'); do
		case $(sed -n 's/^:test-result: //p' "$trs" | head -1) in
		PASS) passed=$((passed + 1));;
		SKIP) skipped=$((skipped + 1)); echo "skipped: ${trs%.trs}";;
		*) nfailed=$((nfailed + 1));;
		esac
	done
}

step "build and make check"
contrib/build.sh
make -s -j2 check || failed
count

step "make check under ASan+UBSan"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
contrib/build.sh --enable-sanitizers
make -s -j2 check || failed
count
unset ASAN_OPTIONS UBSAN_OPTIONS

# Leave a normal build behind for the quick start and the benchmarks.
step "rebuild without sanitizers"
contrib/build.sh

echo
echo "all test suites passed"
echo "$passed passed, $nfailed failed, $skipped skipped"
