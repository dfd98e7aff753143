#!/bin/sh
# The order of the transport's files, lowest first, is the list at the top
# of include/transport/transport.h.  A file calls functions of the files
# before it in the list, never of those after it: a lower file reaches a
# higher one only through a function table the higher one fills in
# (struct transport_calls, struct app), and those calls (p->fn(...)) are
# not seen here.  So the files call each other in no cycle, and a
# newcomer can read them in that order.  A file's functions are the
# prototypes under its "/* file.c */" block in include/transport/*.h.
srcdir=${srcdir:-.}
hdr="$srcdir/include/transport/transport.h"
tmp=${TMPDIR:-/tmp}/check-order.$$
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"
bad=0

order=$(sed -n 's/^ \*	\([a-z_]*\)\.c	.*/\1/p' "$hdr")
if [ -z "$order" ]; then
	echo "check-order: no file order at the top of $hdr" >&2
	exit 1
fi

rank() {
	i=0
	for f in $order; do
		[ "$f" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
	echo -1
}

# Each file's functions, from the headers' "/* file.c */" blocks.
awk -v dir="$tmp" '
	/^\/\* [a-z_]+\.c \*\/$/ { f = $2; sub(/\.c$/, "", f); next }
	/^$/ || /^#/ { f = ""; next }
	f != "" && /^[a-z]/ && match($0, /[a-z_][a-z0-9_]*\(/) {
		print substr($0, RSTART, RLENGTH - 1) > (dir "/" f)
	}' "$srcdir"/include/transport/*.h

for c in "$srcdir"/src/transport/*.c; do
	x=$(basename "$c" .c)
	rx=$(rank "$x")
	if [ "$rx" -lt 0 ]; then
		echo "check-order: src/transport/$x.c is not in the order at" \
		    "the top of include/transport/transport.h" >&2
		bad=1
		continue
	fi
	# The code without its comments.
	awk '{
		s = $0; out = ""
		while (s != "") {
			if (inc) {
				if ((i = index(s, "*/")) == 0) { s = ""; break }
				s = substr(s, i + 2); inc = 0
			} else if ((i = index(s, "/*")) > 0) {
				out = out substr(s, 1, i - 1)
				s = substr(s, i + 2); inc = 1
			} else { out = out s; s = "" }
		}
		print out
	}' "$c" > "$tmp/code"
	for y in $order; do
		[ "$y" = "$x" ] && continue
		[ -f "$tmp/$y" ] || continue
		ry=$(rank "$y")
		[ "$ry" -gt "$rx" ] || continue
		for fn in $(cat "$tmp/$y"); do
			if grep -Eq "(^|[^>.a-z0-9_])$fn[[:space:]]*\\(" \
			    "$tmp/code"; then
				echo "check-order: src/transport/$x.c calls" \
				    "$fn() of $y.c, which comes after it in" \
				    "transport.h's order" >&2
				bad=1
			fi
		done
	done
done
[ $bad -eq 0 ] && echo "check-order: each transport file calls only" \
    "files before it in transport.h's order"
exit $bad
