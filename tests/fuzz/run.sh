#!/bin/sh
# run.sh SECONDS [NAME...]: build every libFuzzer harness tests/fuzz/*_fuzz.c
# (or only the NAMEs given, e.g. eio_packet) against the protocol sources
# that exist (src/proto/*.c, and the pure modules of the other layers:
# src/core/htab.c src/core/base64.c src/core/allow.c src/core/buf.c
# src/core/bw.c src/core/uipath.c src/core/origin.c src/cluster/bus_wire.c
# src/cluster/presence.c src/cluster/presence_digest.c src/cluster/rooms.c
# src/gateway/events.c src/gateway/roomname.c src/gateway/msgsplice.c
# src/gateway/spool_rec.c
# src/gateway/chatrec.c, src/gateway/urlesc.c, src/gateway/authcache.c,
# src/cluster/redisurl.c, src/cluster/reclog.c, src/gateway/recmatch.c,
# src/gateway/recwire.c,
# the src/proto/sior*.c codec,
# with libcrypto and msgpack-c),
# then run each for SECONDS
# with its seed corpus and dictionary.  Exits non-zero if a harness fails
# to build or any run finds a crash, leak, timeout or UB.
#
# Works from the source tree and from a VPATH build: sources are found from
# $srcdir or this script's own location; everything written (objects,
# binaries, the growing corpus, crash artifacts) goes under $FUZZ_BUILD,
# default ./tests/fuzz/build in the current directory.  The seed corpora
# in the source tree are only read.  CC: $FUZZ_CC, default clang.
set -u

usage() {
	echo "usage: run.sh SECONDS [NAME...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
secs=$1
shift
case $secs in
''|*[!0-9]*) usage ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${srcdir:-}" ] && [ -f "$srcdir/tests/fuzz/run.sh" ]; then
	top=$(cd "$srcdir" && pwd)
else
	top=$(cd "$here/../.." && pwd)
fi
fuzzdir=$top/tests/fuzz
build=${FUZZ_BUILD:-$PWD/tests/fuzz/build}
cc=${FUZZ_CC:-clang}

mkdir -p "$build/obj" "$build/corpus" || exit 1
build=$(cd "$build" && pwd)

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "run.sh: $cc not found:" \
	    "apt-get install clang libclang-rt-14-dev" >&2
	exit 1
fi
if ! jansson=$(pkg-config --cflags --libs jansson libcrypto msgpack); then
	echo "run.sh: jansson, libcrypto or msgpack-c not found:" \
	    "apt-get install libjansson-dev libssl-dev libmsgpack-dev" >&2
	exit 1
fi

san="-fsanitize=address,undefined -fno-sanitize-recover=all"
cflags="-g -O1 -fno-omit-frame-pointer -Wall -Wextra -Wno-unused-parameter"
for l in core proto cluster gateway; do
	cflags="$cflags -I$top/include/$l"
done
cflags="$cflags -I$top -I$PWD"

# The pure sources, built once with coverage but without libFuzzer's
# main(), then linked into every harness.
objs=
for src in "$top"/src/proto/*.c "$top"/src/core/htab.c \
    "$top"/src/core/base64.c "$top"/src/core/isotime.c \
    "$top"/src/core/buf.c "$top"/src/core/bw.c \
    "$top"/src/core/allow.c "$top"/src/cluster/bus_wire.c \
    "$top"/src/core/uipath.c "$top"/src/core/origin.c \
    "$top"/src/cluster/presence.c \
    "$top"/src/cluster/presence_digest.c "$top"/src/cluster/rooms.c \
    "$top"/src/gateway/events.c "$top"/src/gateway/roomname.c \
    "$top"/src/gateway/msgsplice.c \
    "$top"/src/gateway/spool_rec.c "$top"/src/gateway/chatrec.c \
    "$top"/src/gateway/urlesc.c "$top"/src/gateway/authcache.c \
    "$top"/src/cluster/redisurl.c "$top"/src/cluster/reclog.c \
    "$top"/src/gateway/recmatch.c "$top"/src/gateway/recwire.c; do
	[ -f "$src" ] || continue
	obj=$build/obj/$(basename "$src" .c).o
	echo "run.sh: CC $src"
	# shellcheck disable=SC2086,SC2046
	$cc $cflags $san -fsanitize=fuzzer-no-link \
	    $(pkg-config --cflags jansson msgpack) -c "$src" -o "$obj" || exit 1
	objs="$objs $obj"
done

if [ $# -gt 0 ]; then
	harnesses=
	for name in "$@"; do
		harnesses="$harnesses $fuzzdir/${name%_fuzz}_fuzz.c"
	done
else
	harnesses=$(ls "$fuzzdir"/*_fuzz.c 2>/dev/null)
fi
[ -n "$harnesses" ] || { echo "run.sh: no harness in $fuzzdir" >&2; exit 1; }

failed=0
summary=
for h in $harnesses; do
	if [ ! -f "$h" ]; then
		echo "run.sh: $h: no such harness" >&2
		failed=1
		continue
	fi
	name=$(basename "$h" _fuzz.c)
	bin=$build/${name}_fuzz
	echo "run.sh: CCLD $bin"
	# shellcheck disable=SC2086
	if ! $cc $cflags $san -fsanitize=fuzzer "$h" $objs $jansson -o "$bin"
	then
		echo "run.sh: $name: build failed" >&2
		failed=1
		summary="$summary
$name: BUILD FAILED"
		continue
	fi

	# New inputs go to the first (writable) corpus dir; seeds are read.
	work=$build/corpus/$name
	mkdir -p "$work" "$build/artifacts/$name"
	set -- "$work"
	[ -d "$fuzzdir/corpus/$name" ] && set -- "$@" "$fuzzdir/corpus/$name"
	dict=
	[ -f "$fuzzdir/$name.dict" ] && dict=-dict=$fuzzdir/$name.dict
	log=$build/$name.log
	echo "run.sh: running $name for ${secs}s (log $log)"
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=25 \
	    -print_final_stats=1 \
	    -artifact_prefix="$build/artifacts/$name/" $dict "$@" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ $rc -ne 0 ]; then
		failed=1
		echo "run.sh: $name FAILED (exit $rc); the end of $log:" >&2
		tail -n 40 "$log" >&2
		summary="$summary
$name: FAILED exit $rc, ${execs:-?} execs, artifacts in $build/artifacts/$name"
	else
		summary="$summary
$name: ok, ${secs}s, ${execs:-?} execs"
	fi
done

echo "run.sh: summary:$summary"
exit $failed
