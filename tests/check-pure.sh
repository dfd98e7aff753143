#!/bin/sh
# The protocol layer is pure (DESIGN.md, layer 1): bytes in, structs out.  It
# must not include an event loop, a socket library or a logger.  This fails
# the build's tests if one of its files does.
srcdir=${srcdir:-.}
bad=0
for f in "$srcdir"/src/eio_*.c "$srcdir"/src/sio_*.c "$srcdir"/src/sid.c \
    "$srcdir"/src/jsonlimit.c "$srcdir"/include/eio.h "$srcdir"/include/sio.h \
    "$srcdir"/src/reqhead.c "$srcdir"/include/reqhead.h \
    "$srcdir"/include/sid.h "$srcdir"/include/jsonlimit.h \
    "$srcdir"/src/htab.c "$srcdir"/src/presence.c "$srcdir"/src/rooms.c \
    "$srcdir"/src/events.c "$srcdir"/include/htab.h \
    "$srcdir"/include/presence.h "$srcdir"/include/rooms.h \
    "$srcdir"/include/events.h; do
	[ -f "$f" ] || continue
	if grep -nE '#include *[<"](ev\.h|libwebsockets\.h|nng/|curl/|hiredis|sys/socket\.h|sys/random\.h|log\.h|unistd\.h|fcntl\.h)' "$f"; then
		echo "check-pure: $f includes an I/O header" >&2
		bad=1
	fi
done
[ $bad -eq 0 ] && echo "check-pure: protocol layer has no I/O dependency"
exit $bad
