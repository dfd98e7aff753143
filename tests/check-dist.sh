#!/bin/sh
# check-dist.sh SRCDIR DISTDIR: the release tarball holds every file git
# tracks, and nothing git does not, but what autoreconf generates.  make
# distcheck runs it on the unpacked tarball (distcheck-hook, mk/dist.am):
# EXTRA_DIST names folders (tests/integration, tests/fuzz,
# packaging/debian), so a file added to git but to no list, or an
# untracked file lying in one of those folders, would otherwise ship
# unnoticed, or not ship, and break a build from the tarball only.
# Outside a git checkout (a build from the tarball itself) there is
# nothing to compare: it says so and passes.
set -u
LC_ALL=C
export LC_ALL
[ $# -eq 2 ] || { echo "usage: check-dist.sh SRCDIR DISTDIR" >&2; exit 2; }
srcdir=$1
distdir=$2

if ! command -v git >/dev/null 2>&1 ||
    ! git -C "$srcdir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	echo "check-dist.sh: $srcdir is not a git checkout; nothing to compare"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-dist.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# Tracked but not shipped, on purpose: git's and CI's own files, and the
# placeholder that keeps the empty m4/ in git.
git -C "$srcdir" ls-files | grep -v -e '\(^\|/\)\.gitignore$' \
    -e '^\.ci/' -e '^m4/\.keep$' | sort > "$tmp/git"
# Shipped but not tracked: autoreconf's output.
(cd "$distdir" && find . -type f | sed 's|^\./||') |
    grep -v -x -e Makefile.in -e aclocal.m4 -e configure -e config.h.in \
    -e 'build-aux/[^/]*' | sort > "$tmp/dist"

rc=0
comm -23 "$tmp/git" "$tmp/dist" > "$tmp/missing"
if [ -s "$tmp/missing" ]; then
	echo "check-dist.sh: tracked by git, missing from the tarball" \
	    "(add them to EXTRA_DIST):"
	sed 's/^/  /' "$tmp/missing"
	rc=1
fi
comm -13 "$tmp/git" "$tmp/dist" > "$tmp/extra"
if [ -s "$tmp/extra" ]; then
	echo "check-dist.sh: in the tarball, not tracked by git" \
	    "(a stray file in an EXTRA_DIST folder?):"
	sed 's/^/  /' "$tmp/extra"
	rc=1
fi
[ "$rc" -ne 0 ] ||
    echo "check-dist.sh: the tarball holds the $(wc -l < "$tmp/git") files git tracks"
exit "$rc"
