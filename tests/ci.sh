#!/bin/sh
# The whole test suite: what the README's test command and .ci/run run.
#
#  1. install what is missing (Debian packages, the tests' npm packages);
#  2. a strict build (-Wall -Wextra -Werror) and `make distcheck`: the
#     release tarball built strictly out of the source tree, its `make
#     check` without the integration suite (unit tests, documentation,
#     layering and packaging checks), install and uninstall;
#  3. the whole `make check` built with AddressSanitizer and
#     UndefinedBehaviorSanitizer: the same, and the integration tests
#     against a running gateway;
#  4. every fuzzer for a short while (FUZZ_SECONDS, default 10);
#  5. the packages: .deb and .rpm built from the tarball make distcheck
#     checked, linted, installed, upgraded and removed, run under systemd
#     (tests/packaging/run.sh).
#
# It ends with one line "N passed, N failed, N skipped, N todo" counting
# every test case (each cmocka case, each node test, each fuzzer); a skip
# fails the run, as does a build that fails.  A todo is a test of what is
# not built yet (node:test's todo, automake's XFAIL): it runs and must
# fail, is not counted as passed, and fails the run once it passes
# (XPASS), so that its mark is taken off.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)

sh packaging/install-deps.sh --tests
# The README's first command configures in the source tree, which
# out-of-tree builds refuse ("source directory already configured").
if [ -f config.status ]; then
	echo "ci.sh: the source tree is configured in place; make distclean"
	make distclean >/dev/null 2>&1 || rm -f config.status config.h
fi
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi

passed=0
failed=0
skipped=0
todo=0
count() {
	# Sum the :test-result: lines automake's TAP driver wrote for one
	# build: a line per test case.
	trs=$(cat "$1"/tests/*.trs "$1"/tests/*/*.trs 2>/dev/null)
	p=$(printf '%s\n' "$trs" | grep -c '^:test-result: PASS' || true)
	x=$(printf '%s\n' "$trs" | grep -c '^:test-result: XFAIL' || true)
	f=$(printf '%s\n' "$trs" | grep -c '^:test-result: \(FAIL\|ERROR\|XPASS\)' || true)
	s=$(printf '%s\n' "$trs" | grep -c '^:test-result: SKIP' || true)
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	todo=$((todo + x))
	echo "build $name: $p passed, $f failed, $s skipped, $x todo"
}

# The same from the summary automake prints at the end of a make check
# (make distcheck removes its tree, .trs files included, once it passed):
# its counts are test cases too.
count_summary() {
	sum() {
		sed -n "s/^# $1: *\([0-9]*\)\$/\1/p" "$log" |
		    awk '{ n += $1 } END { print n + 0 }'
	}
	log=$1
	p=$(sum PASS)
	x=$(sum XFAIL)
	f=$(($(sum FAIL) + $(sum ERROR) + $(sum XPASS)))
	s=$(sum SKIP)
	if [ "$(sum TOTAL)" -eq 0 ]; then
		echo "build $name: no test summary in $log"
		f=$((f + 1))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	todo=$((todo + x))
	echo "build $name: $p passed, $f failed, $s skipped, $x todo"
}

# The logs of the tests of build $1 that failed, or were skipped; a
# failed make distcheck leaves its tree, whose logs are shown too.
show_failed() {
	for log in "_build/$1"/tests/*.log "_build/$1"/tests/*/*.log \
	    "_build/$1"/socket-gateway-*/_build/sub/tests/*.log \
	    "_build/$1"/socket-gateway-*/_build/sub/tests/*/*.log; do
		[ -f "$log" ] || continue
		if grep -q '^:test-result: \(FAIL\|ERROR\|XPASS\|SKIP\)' \
		    "${log%.log}.trs" 2>/dev/null; then
			echo "--- $log"
			grep '^\(not ok\|ok .*# SKIP\|Bail out\)' "$log" | head -n 40
			tail -n 60 "$log"
		fi
	done
}

run_build() {
	name=$1
	shift
	echo "=== build $name: configure $*"
	rm -rf "_build/$name"
	mkdir -p "_build/$name"
	# A build that fails is a failure, not an empty count.
	if ! (cd "_build/$name" && ../../configure -q "$@" &&
	    make -j"$jobs" >/dev/null); then
		echo "build $name: configure or make failed"
		failed=$((failed + 1))
		rc=1
		return
	fi
	(cd "_build/$name" && make -j"$jobs" check) || rc=1
	count "_build/$name"
	show_failed "$name"
}

# The strict build is make distcheck's: the release tarball, unpacked
# read-only, configured with DISTCHECK_CONFIGURE_FLAGS (--enable-debug:
# -Werror; --disable-integration-tests) and built out of its tree; its
# make check (unit tests, documentation, layering and packaging checks),
# install, uninstall and a second tarball.  This tree is only configured,
# for its Makefile (make distcheck, make fuzz): building it as well would
# compile the same sources with the same flags a second time.
run_distcheck() {
	name=strict
	echo "=== build strict: make distcheck"
	rm -rf _build/strict
	mkdir -p _build/strict
	if ! (cd _build/strict &&
	    ../../configure -q --enable-debug --disable-integration-tests); then
		echo "build strict: configure failed"
		failed=$((failed + 1))
		rc=1
		return
	fi
	if ! (cd _build/strict && make -j"$jobs" distcheck > distcheck.log 2>&1)
	then
		echo "build strict: make distcheck failed; the end of its log:"
		tail -n 40 _build/strict/distcheck.log
		rc=1
	fi
	count_summary _build/strict/distcheck.log
	show_failed strict
}

rc=0
# The strict build (make distcheck, above) runs no integration test: the
# integration suite (a gateway with several workers, real clients and stub
# services) runs once, in the sanitizer build below, where it also finds
# memory errors: twice took the whole command past 20 minutes on a 2-core
# machine.
t0=$(date +%s)
run_distcheck
echo "build strict (make distcheck): $(($(date +%s) - t0))s"
# The quarantine (freed memory ASan holds back to catch a use after free)
# is bounded at 32 MB: at its default of 256 MB it fills during the
# slow-reader test and reads as RSS growth (measured: 100 -> 290 MB over
# three rounds at the default, flat at 70 MB with 32 MB).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:quarantine_size_mb=32
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_build asan --enable-debug --enable-asan CFLAGS="-g -O1"
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "=== fuzzers, ${FUZZ_SECONDS:-10}s each"
# tests/fuzz/run.sh ends with a line per fuzzer: "name: ok, ..." or
# "name: FAILED ..." / "name: BUILD FAILED".
(cd _build/strict && make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-10}" \
    >fuzz.log 2>&1) || rc=1
fp=$(grep -c '^[a-z_0-9]*: ok,' _build/strict/fuzz.log || true)
ff=$(grep -c '^[a-z_0-9]*: \(FAILED\|BUILD FAILED\)' _build/strict/fuzz.log || true)
n=$(ls tests/fuzz/*_fuzz.c | wc -l)
echo "fuzzers: $fp clean, $ff failed, of $n"
if [ "$fp" -ne "$n" ]; then
	tail -n 60 _build/strict/fuzz.log
	ff=$((n - fp))
	rc=1
fi
passed=$((passed + fp))
failed=$((failed + ff))

# The packages (issue 17): the .deb and .rpm built once from the tarball
# make distcheck checked, linted, the .deb installed, upgraded and removed
# here and run under a real systemd (tests/packaging/run.sh, about 4
# minutes).  Its checks of the unit against the daemon's defaults take the
# sanitizer build's daemon and unit: the strict tree is not built.
echo "=== packaging"
t0=$(date +%s)
tarball=$(ls -t "$top"/_build/strict/socket-gateway-*.tar.gz 2>/dev/null |
    head -n 1)
SGWD="$top/_build/asan/socket-gatewayd" TARBALL=$tarball \
    sh tests/packaging/run.sh \
    > _build/strict/packaging.log 2>&1 || rc=1
grep -v '^ok: ' _build/strict/packaging.log | tail -n 60
last=$(tail -n 1 _build/strict/packaging.log)
pp=$(echo "$last" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
pf=$(echo "$last" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
ps=$(echo "$last" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
[ -n "$pp" ] && [ -n "$pf" ] || { pp=0; pf=1; ps=0; }
echo "packaging: $pp passed, $pf failed, ${ps:-0} skipped, $(($(date +%s) - t0))s"
passed=$((passed + pp))
failed=$((failed + pf))
skipped=$((skipped + ${ps:-0}))

# A skipped test is a dependency missing on this machine: CI fails on it.
if [ "$skipped" -ne 0 ]; then
	echo "ci.sh: $skipped test(s) skipped: a dependency is missing (see above)"
	rc=1
fi
echo "$passed passed, $failed failed, $skipped skipped, $todo todo"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
