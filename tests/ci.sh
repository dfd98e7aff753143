#!/bin/sh
# The whole test suite: what the README's test command and .ci/run run.
#
#  1. install what is missing (Debian packages, the tests' npm packages);
#  2. a strict build (-Wall -Wextra -Werror) and `make check`: unit tests,
#     documentation checks, integration tests against a running gateway;
#  3. the same `make check` built with AddressSanitizer and
#     UndefinedBehaviorSanitizer;
#  4. every fuzzer for a short while (FUZZ_SECONDS, default 15).
#
# It ends with one line "N passed, N failed" counting every test run.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)

sh packaging/install-deps.sh --tests
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi

passed=0
failed=0
count() {
	# Sum the :test-result: lines automake wrote for one build.
	p=$(cat "$1"/tests/*.trs "$1"/tests/*/*.trs 2>/dev/null |
	    grep -c '^:test-result: PASS' || true)
	f=$(cat "$1"/tests/*.trs "$1"/tests/*/*.trs 2>/dev/null |
	    grep -c '^:test-result: \(FAIL\|ERROR\)' || true)
	passed=$((passed + p))
	failed=$((failed + f))
}

run_build() {
	name=$1
	shift
	echo "=== build $name: configure $*"
	rm -rf "_build/$name"
	mkdir -p "_build/$name"
	(cd "_build/$name" && ../../configure -q "$@" &&
	    make -j"$jobs" >/dev/null && make -j"$jobs" check) || rc=1
	count "_build/$name"
	for log in "_build/$name"/tests/*.log "_build/$name"/tests/*/*.log; do
		[ -f "$log" ] || continue
		if grep -q '^:test-result: \(FAIL\|ERROR\)' "${log%.log}.trs" \
		    2>/dev/null; then
			echo "--- $log"
			tail -n 60 "$log"
		fi
	done
}

rc=0
run_build strict --enable-debug
# The quarantine (freed memory ASan holds back to catch a use after free)
# is bounded at 32 MB: at its default of 256 MB it fills during the
# slow-reader test and reads as RSS growth (measured: 100 -> 290 MB over
# three rounds at the default, flat at 70 MB with 32 MB).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:quarantine_size_mb=32
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_build asan --enable-debug --enable-asan CFLAGS="-g -O1"
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "=== fuzzers, ${FUZZ_SECONDS:-15}s each"
if (cd _build/strict && make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-15}" \
    >fuzz.log 2>&1); then
	n=$(ls tests/fuzz/*_fuzz.c | wc -l)
	passed=$((passed + n))
	echo "fuzzers: $n clean"
else
	failed=$((failed + 1))
	tail -n 60 _build/strict/fuzz.log
	rc=1
fi

echo "$passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
