#!/bin/sh
# Build the RPM package from a release tarball (make dist) with rpmbuild
# and packaging/socket-gateway.spec.  `make rpm` runs it; by hand:
#
#   sh packaging/build-rpm.sh socket-gateway-0.1.0.tar.gz [OUTDIR]
#
# Needs rpmbuild (Debian: apt-get install rpm) and the libraries of the
# build (packaging/install-deps.sh).  BuildRequires name Fedora packages,
# which the rpm database of a Debian machine does not know, so they are
# not checked here (--nodeps): configure checks the libraries itself.
# The .rpm lands in OUTDIR, by default the current directory.
set -eu

usage() {
	echo "usage: build-rpm.sh TARBALL [OUTDIR]" >&2
	exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
tarball=$1
outdir=${2:-.}
here=$(cd "$(dirname "$0")" && pwd)

[ -f "$tarball" ] || { echo "build-rpm.sh: $tarball: no such file" >&2; exit 1; }
command -v rpmbuild >/dev/null 2>&1 || {
	echo "build-rpm.sh: rpmbuild not found: apt-get install rpm" >&2
	exit 1
}

base=$(basename "$tarball" .tar.gz)
name=${base%-*}
version=${base##*-}
[ "$name" = socket-gateway ] && [ -n "$version" ] || {
	echo "build-rpm.sh: $tarball is not a socket-gateway-VERSION.tar.gz" >&2
	exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/sgw-rpm.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/SOURCES" "$work/SPECS" "$work/BUILD" "$work/RPMS" \
    "$work/SRPMS" "$work/BUILDROOT"
cp "$tarball" "$work/SOURCES/"
# The spec of the tarball when it has one (a release), else this tree's.
if tar -tzf "$tarball" "$base/packaging/socket-gateway.spec" >/dev/null 2>&1
then
	tar -xzf "$tarball" -O "$base/packaging/socket-gateway.spec" \
	    > "$work/SPECS/socket-gateway.spec"
else
	cp "$here/socket-gateway.spec" "$work/SPECS/"
fi

jobs=$(nproc 2>/dev/null || echo 1)
rpmbuild -bb --nodeps \
    --define "_topdir $work" \
    --define "upstream_version $version" \
    --define "_smp_mflags -j$jobs" \
    "$work/SPECS/socket-gateway.spec"

mkdir -p "$outdir"
found=0
for f in "$work"/RPMS/*/*.rpm; do
	[ -f "$f" ] || continue
	cp "$f" "$outdir/"
	echo "build-rpm.sh: $outdir/$(basename "$f")"
	found=1
done
[ "$found" -eq 1 ] || { echo "build-rpm.sh: no package was built" >&2; exit 1; }
