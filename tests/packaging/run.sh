#!/bin/sh
# run.sh: the packaging part of tests/ci.sh (issue 17).  Builds the .deb
# and the .rpm once (tests/check-packaging.sh with RUN_PACKAGING=1, which
# also checks what they hold), lints them, then reuses the .deb for the
# install/upgrade/remove test and the systemd test.  Prints each part's
# time and ends with "N passed, N failed, N skipped" over all of them.
#
#   SGWD=_build/strict/socket-gatewayd sh tests/packaging/run.sh   (root)
#
# TARBALL=FILE builds the packages from that release tarball (tests/ci.sh:
# the one make distcheck checked) instead of a new make dist for each.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${SGWD:=$top/_build/strict/socket-gatewayd}"
export SGWD
builddir=$(cd "$(dirname "$SGWD")" && pwd)
P=0 F=0 S=0

part() {
	name=$1
	shift
	echo "--- packaging: $name"
	t0=$(date +%s)
	"$@" > "$builddir/packaging-$name.log" 2>&1
	t1=$(date +%s)
	grep -v '^ok: ' "$builddir/packaging-$name.log" | tail -n 40
	last=$(tail -n 1 "$builddir/packaging-$name.log")
	p=$(echo "$last" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
	f=$(echo "$last" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	s=$(echo "$last" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
	if [ -z "$p" ] || [ -z "$f" ]; then
		echo "packaging: $name ended without its count"
		p=0 f=1
	fi
	P=$((P + p)) F=$((F + f)) S=$((S + ${s:-0}))
	echo "packaging: $name: $p passed, $f failed, ${s:-0} skipped, $((t1 - t0))s"
}

lint() {
	pass=0 fail=0
	deb=$(ls -t "$builddir"/socket-gateway_*.deb | grep -v dbgsym | head -n 1)
	rpm=$(ls -t "$builddir"/socket-gateway-*.rpm | head -n 1)
	# Errors and warnings fail; each remaining one is overridden, with
	# its reason, in packaging/debian/socket-gateway.lintian-overrides.
	if lintian --fail-on error,warning --pedantic "$deb"; then
		pass=$((pass + 1)); echo "ok: lintian $(basename "$deb")"
	else
		fail=$((fail + 1)); echo "FAIL: lintian $(basename "$deb")"
	fi
	if rpmlint -c "$top/packaging/rpmlint.toml" \
	    "$top/packaging/socket-gateway.spec" "$rpm"; then
		pass=$((pass + 1)); echo "ok: rpmlint the spec and $(basename "$rpm")"
	else
		fail=$((fail + 1)); echo "FAIL: rpmlint"
	fi
	echo "$pass passed, $fail failed, 0 skipped"
}

rm -f "$builddir"/socket-gateway_*.deb "$builddir"/socket-gateway-*.deb \
    "$builddir"/socket-gateway-*.rpm
part build env RUN_PACKAGING=1 sh "$top/tests/check-packaging.sh"
part lint lint
part install sh "$here/install.sh"
part systemd sh "$here/nspawn.sh"
[ -f "$here/container.sh" ] && part container sh "$here/container.sh"
echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
