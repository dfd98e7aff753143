/*
 * jsonwrite: JSON text out for the protocol layer, pure C (in is
 * jsonlimit.h).
 *
 * jsonwrite_dump() writes a json_t exactly as JavaScript's JSON.stringify()
 * would (shortest round-trip numbers, lower-case \u escapes), into a
 * caller's buffer, so bytes the gateway sends match what a Node.js
 * Socket.IO server sends.
 */
#ifndef SGW_JSONWRITE_H
#define SGW_JSONWRITE_H

#include <stddef.h>

#include <jansson.h>

/* jsonwrite.c */
size_t		 jsonwrite_dump(const json_t *, char *, size_t);
size_t		 jsonwrite_string(const char *, size_t, char *, size_t);

#endif /* SGW_JSONWRITE_H */
