#!/bin/sh
# harness.sh TEST [ARG...]: how `make check` runs each test (LOG_COMPILER),
# under automake's TAP driver, so that its summary and tests/ci.sh count
# every test case, not every program.
#
#  - the cmocka programs speak TAP themselves (CMOCKA_MESSAGE_OUTPUT=TAP);
#  - tests/integration/run.sh speaks TAP through tap-reporter.mjs, a line
#    per test case;
#  - the check-*.sh scripts are one case each: their exit status becomes
#    one TAP line, and their output comments.
#
# Each test runs under a deadline (timeout(1)), so that a hang fails one
# test with a message instead of blocking CI: TEST_TIMEOUT seconds, by
# default 2400 for the integration suite (a guard, about 5 times what it
# takes) and 300 for everything else.
test=$1
name=$(basename "$test")
case $name in
run.sh)	limit=${TEST_TIMEOUT:-2400} ;;
*)	limit=${TEST_TIMEOUT:-300} ;;
esac

case $name in
check-*.sh)
	out=$(timeout -k 10 "$limit" "$@" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/# /'
	echo "1..1"
	if [ $rc -eq 0 ]; then
		echo "ok 1 - $name"
	elif [ $rc -eq 124 ]; then
		echo "not ok 1 - $name: no result within $limit s (TEST_TIMEOUT)"
	else
		echo "not ok 1 - $name (exit $rc)"
	fi
	exit 0
	;;
esac

out=$(mktemp) || exit 1
trap 'rm -f "$out" "$out.rc"' EXIT
{ timeout -k 10 "$limit" "$@"; echo $? >"$out.rc"; } | tee "$out"
rc=$(cat "$out.rc")
if [ "$name" = run.sh ] && [ "$rc" -eq 1 ] && grep -q '^not ok ' "$out"; then
	# node's runner exits 1 when a test failed, and that test has its
	# "not ok" line: one failure, not two.
	rc=0
fi
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	# The driver counts a bail-out as an error.
	echo "Bail out! $name: no result within $limit s (TEST_TIMEOUT); it hangs"
fi
exit $rc
