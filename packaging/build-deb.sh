#!/bin/sh
# Build the Debian package from a release tarball (make dist), the Debian
# way: the tarball becomes the .orig.tar.gz, packaging/debian/ becomes
# debian/, and dpkg-buildpackage builds the binary packages with debhelper.
# `make deb` runs it; by hand:
#
#   sh packaging/build-deb.sh socket-gateway-0.1.0.tar.gz [OUTDIR]
#
# Needs dpkg-dev and debhelper (apt-get install debhelper) and the build
# dependencies of packaging/debian/control (packaging/install-deps.sh).
# The .deb (and its -dbgsym) land in OUTDIR, by default the current
# directory.  DEB_BUILD_OPTIONS is passed through (e.g. noopt, nostrip).
set -eu

usage() {
	echo "usage: build-deb.sh TARBALL [OUTDIR]" >&2
	exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
tarball=$1
outdir=${2:-.}
here=$(cd "$(dirname "$0")" && pwd)

[ -f "$tarball" ] || { echo "build-deb.sh: $tarball: no such file" >&2; exit 1; }
for tool in dpkg-buildpackage dh; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "build-deb.sh: $tool not found: apt-get install dpkg-dev" \
		    "debhelper" >&2
		exit 1
	}
done

# socket-gateway-0.1.0.tar.gz -> socket-gateway, 0.1.0
base=$(basename "$tarball" .tar.gz)
name=${base%-*}
version=${base##*-}
[ "$name" = socket-gateway ] && [ -n "$version" ] || {
	echo "build-deb.sh: $tarball is not a socket-gateway-VERSION.tar.gz" >&2
	exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/sgw-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
cp "$tarball" "$work/${name}_$version.orig.tar.gz"
tar -xzf "$tarball" -C "$work"
src=$work/$base
# debian/ comes from the tarball when it has one (a release), else from the
# tree this script is in.
if [ -d "$src/packaging/debian" ]; then
	cp -R "$src/packaging/debian" "$src/debian"
else
	cp -R "$here/debian" "$src/debian"
fi

# The changelog names the version built; a tarball newer than its top entry
# gets an entry of its own, so the package is never mislabelled.
top=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$src/debian/changelog")
if [ "${top%-*}" != "$version" ]; then
	echo "build-deb.sh: debian/changelog is at $top; adding $version-1"
	{
		printf '%s (%s-1) unstable; urgency=medium\n\n' "$name" "$version"
		printf '  * New upstream release %s (entry added by build-deb.sh).\n\n' \
		    "$version"
		printf ' -- %s  %s\n\n' \
		    "$(sed -n 's/^Maintainer: //p' "$src/debian/control")" \
		    "$(date -R)"
		cat "$src/debian/changelog"
	} > "$src/debian/changelog.new"
	mv "$src/debian/changelog.new" "$src/debian/changelog"
fi

# Binary packages only; no signing.  Build dependencies are checked.
(cd "$src" && dpkg-buildpackage -b -us -uc -Jauto)

mkdir -p "$outdir"
found=0
for f in "$work"/*.deb "$work"/*.ddeb; do
	[ -f "$f" ] || continue
	cp "$f" "$outdir/"
	echo "build-deb.sh: $outdir/$(basename "$f")"
	found=1
done
[ "$found" -eq 1 ] || { echo "build-deb.sh: no package was built" >&2; exit 1; }
