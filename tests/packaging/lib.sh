# lib.sh: what the packaging tests share (sourced), tests/check-packaging.sh
# included.  Each test counts its cases with ok/bad/skip and ends with
# finish, whose last line, "N passed, N failed, N skipped", tests/ci.sh
# adds to its own.
pass=0
fail=0
skipped=0
# This file's folder: that of the script sourcing it, or its packaging/
# (tests/check-packaging.sh).
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$here/lib.sh" ] || here=$here/packaging
top=$(cd "$here/../.." && pwd)

ok() {
	pass=$((pass + 1))
	echo "ok: $*"
}

bad() {
	fail=$((fail + 1))
	echo "FAIL: $*"
}

skip() {
	skipped=$((skipped + 1))
	echo "SKIP: $*"
}

# check DESCRIPTION COMMAND...: one case; the command's output is shown
# only when it fails.
check() {
	what=$1
	shift
	# Not in a subshell: a check may start a daemon and set its pid.
	if "$@" > "$check_out" 2>&1; then
		ok "$what"
	else
		tail -n 20 "$check_out"
		bad "$what"
	fi
}
check_out=$(mktemp "${TMPDIR:-/tmp}/sgw-check.XXXXXX")
trap 'rm -f "$check_out"' EXIT

# wait_for SECONDS COMMAND...: until the command succeeds (a hang guard).
wait_for() {
	n=$(($1 * 5))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

# client MODE URL SECRET_FILE [STOP_FILE]: tests/packaging/client.mjs.
client() {
	node "$here/client.mjs" "$@"
}

# The .deb to test: $DEB, else the newest in the build directory of $SGWD
# (run.sh's), else in the strict build.
find_deb() {
	if [ -n "${DEB:-}" ]; then
		echo "$DEB"
		return
	fi
	# shellcheck disable=SC2010
	ls -t "$(dirname "${SGWD:-$top/_build/strict/socket-gatewayd}")"/socket-gateway_*.deb \
	    2>/dev/null | grep -v dbgsym | head -n 1
}

# bump_deb DEB OUTDIR: the same package under a newer version
# (VERSION+test1), for the upgrade: dpkg-deb repacks it in two seconds,
# where rebuilding would take a minute, and the maintainer scripts and
# conffiles, what an upgrade exercises, are the same.
bump_deb() {
	rm -rf "$2/pkg"
	dpkg-deb -R "$1" "$2/pkg"
	v=$(sed -n 's/^Version: //p' "$2/pkg/DEBIAN/control")
	sed -i "s/^Version: .*/Version: $v+test1/" "$2/pkg/DEBIAN/control"
	dpkg-deb -b --root-owner-group "$2/pkg" "$2/socket-gateway_${v}+test1_amd64.deb" >/dev/null
	rm -rf "$2/pkg"
	echo "$2/socket-gateway_${v}+test1_amd64.deb"
}

finish() {
	echo "$pass passed, $fail failed, $skipped skipped"
	[ "$fail" -eq 0 ]
	exit
}
