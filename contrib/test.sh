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

step "build and make check"
contrib/build.sh
make -s -j2 check || { cat tests/*.log tests/unit/*.log 2>/dev/null | tail -80; exit 1; }

step "make check under ASan+UBSan"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
contrib/build.sh --enable-sanitizers
make -s -j2 check || { cat tests/*.log tests/unit/*.log 2>/dev/null | tail -80; exit 1; }
unset ASAN_OPTIONS UBSAN_OPTIONS

# Leave a normal build behind for the quick start and the benchmarks.
step "rebuild without sanitizers"
contrib/build.sh

echo
echo "all test suites passed"
