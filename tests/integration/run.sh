#!/bin/sh
# The integration tests (tests/integration/*.test.mjs): node's test runner
# with the real socket.io-client, a real socket-gatewayd and the conformance
# server; TAP on stdout, a line per test case.  Run by make check, whose AM_TESTS_ENVIRONMENT exports SGWD and
# CONFORMANCE (absolute paths into the build directory) and srcdir.

: "${srcdir:=$(dirname "$0")/../..}"
if [ -z "$SGWD" ] || [ -z "$CONFORMANCE" ]; then
	echo "run.sh: SGWD and CONFORMANCE must name the built socket-gatewayd" \
	    "and conformance-server (make check sets them)" >&2
	exit 1
fi
case $SGWD in /*) ;; *) SGWD=$(pwd)/$SGWD ;; esac
case $CONFORMANCE in /*) ;; *) CONFORMANCE=$(pwd)/$CONFORMANCE ;; esac
for f in "$SGWD" "$CONFORMANCE"; do
	if [ ! -x "$f" ]; then
		echo "run.sh: $f is not an executable; build first" >&2
		exit 1
	fi
done
cd "$srcdir/tests" || exit 1
if [ ! -d node_modules ]; then
	echo "run: sh packaging/install-deps.sh --tests" >&2
	exit 1
fi
if ! command -v node >/dev/null 2>&1; then
	echo "run.sh: node is missing; run: sh packaging/install-deps.sh --tests" >&2
	exit 1
fi
export SGWD CONFORMANCE
# One TAP line per test case (tap-reporter.mjs), for make check's TAP
# driver; a test case that hangs fails after 5 minutes (--test-timeout),
# the whole suite under tests/harness.sh's deadline.
exec node --test --test-concurrency=1 --test-timeout=300000 \
    --test-reporter=./integration/tap-reporter.mjs \
    integration/*.test.mjs
