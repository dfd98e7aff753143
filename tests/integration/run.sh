#!/bin/sh
# The integration tests (tests/integration/*.test.mjs): node's test runner
# with the real socket.io-client, a real socket-gatewayd and the conformance
# server.  Run by make check, whose AM_TESTS_ENVIRONMENT exports SGWD and
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
# INTEGRATION_EXCLUDE: space-separated test file names left out of this run
# (tests/ci.sh uses it for a known sanitizer-build hang, see there).
files=
for f in integration/*.test.mjs; do
	case " ${INTEGRATION_EXCLUDE:-} " in
	*" $(basename "$f" .test.mjs) "*) echo "run.sh: leaving out $f" ;;
	*) files="$files $f" ;;
	esac
done
# shellcheck disable=SC2086
exec node --test --test-concurrency=1 $files
