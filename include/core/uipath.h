/*
 * uipath: a request path to a file under a directory served over HTTP
 * (the Admin UI's files, issue 18), or a refusal.  Pure: no I/O.
 *
 * The path must start with the prefix (which ends with "/"); what follows
 * must be a relative name of segments made of [A-Za-z0-9._-], none empty,
 * none starting with "." (so no "..", no hidden file), at most
 * UIPATH_MAX bytes, with an extension of a known content type.  Nothing
 * is decoded: a '%' (an encoded byte that survived the server's own
 * decoding: a double-encoded "..", slash or NUL) is refused, as is any
 * other byte.  Symbolic links are the caller's to refuse (uifiles.c).
 */
#ifndef SGW_UIPATH_H
#define SGW_UIPATH_H

#include <stddef.h>

#define UIPATH_MAX	255
#define UIPATH_INDEX	"index.html"

/* uipath.c */
const char	*uipath_resolve(const char *, const char *, char *, size_t);
const char	*uipath_type(const char *);

#endif /* SGW_UIPATH_H */
