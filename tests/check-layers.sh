#!/bin/sh
# The layers (../DESIGN.md "Layers"), lowest first: core, proto, transport,
# cluster, gateway, process.  A file in src/<layer>/ or include/<layer>/
# includes only headers of its own layer and of the layers below; the
# build already refuses an upward include (each layer compiles with its own
# include paths), and this says which file and which header in words.
#
# Pure modules (the protocol layer, and the tables of the others) include
# no event loop, socket library or logger: bytes in, structs out, so that
# they are unit tested and fuzzed without I/O.
srcdir=${srcdir:-.}
layers="core proto transport cluster gateway process"
bad=0

rank() {
	i=0
	for l in $layers; do
		[ "$l" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
	echo -1
}

# The layer whose include/ folder holds header $1, or nothing.
owner() {
	for l in $layers; do
		[ -f "$srcdir/include/$l/$1" ] && { echo "$l"; return; }
	done
}

for l in $layers; do
	r=$(rank "$l")
	for f in "$srcdir"/src/"$l"/*.c "$srcdir"/include/"$l"/*.h; do
		[ -f "$f" ] || continue
		for h in $(sed -n 's/^#include *"\([^"]*\)".*/\1/p' "$f"); do
			o=$(owner "$h")
			if [ -z "$o" ]; then
				[ -f "$(dirname "$f")/$h" ] && continue
				echo "check-layers: ${f#"$srcdir"/} includes $h," \
				    "which is in no layer's include/" >&2
				bad=1
			elif [ "$(rank "$o")" -gt "$r" ]; then
				echo "check-layers: ${f#"$srcdir"/} ($l) includes" \
				    "$h of $o, a layer above it" >&2
				bad=1
			fi
		done
	done
done

for f in "$srcdir"/src/proto/*.c "$srcdir"/include/proto/*.h \
    "$srcdir"/src/core/htab.c "$srcdir"/include/core/htab.h \
    "$srcdir"/src/core/base64.c "$srcdir"/include/core/base64.h \
    "$srcdir"/src/core/buf.c "$srcdir"/include/core/buf.h \
    "$srcdir"/src/core/bw.c "$srcdir"/include/core/bw.h \
    "$srcdir"/src/cluster/bus_wire.c "$srcdir"/include/cluster/bus_wire.h \
    "$srcdir"/src/cluster/presence.c "$srcdir"/include/cluster/presence.h \
    "$srcdir"/src/cluster/presence_digest.c \
    "$srcdir"/include/cluster/presence_digest.h \
    "$srcdir"/src/cluster/rooms.c "$srcdir"/include/cluster/rooms.h \
    "$srcdir"/src/cluster/redisurl.c "$srcdir"/include/cluster/redisurl.h \
    "$srcdir"/src/gateway/events.c "$srcdir"/include/gateway/events.h \
    "$srcdir"/src/gateway/roomname.c "$srcdir"/include/gateway/roomname.h \
    "$srcdir"/src/gateway/breaker.c "$srcdir"/include/gateway/breaker.h \
    "$srcdir"/src/gateway/backoff.c "$srcdir"/include/gateway/backoff.h \
    "$srcdir"/src/gateway/spool_rec.c "$srcdir"/include/gateway/spool_rec.h; do
	[ -f "$f" ] || continue
	if grep -nE '#include *[<"](ev\.h|libwebsockets\.h|nng/|curl/|hiredis|sys/socket\.h|sys/random\.h|log\.h|unistd\.h|fcntl\.h)' "$f"; then
		echo "check-layers: ${f#"$srcdir"/} is pure but includes an" \
		    "I/O header" >&2
		bad=1
	fi
done
[ $bad -eq 0 ] && echo "check-layers: every include goes down a layer or" \
    "stays in its own; the pure modules have no I/O"
exit $bad
