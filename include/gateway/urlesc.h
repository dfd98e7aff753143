/*
 * urlesc: an id as one segment of a URL path (RFC 3986 2.3: unreserved
 * bytes as they are, every other byte as %XX), for the services' paths
 * that name a user or a group (issue 13).  Pure C.
 */
#ifndef SGW_URLESC_H
#define SGW_URLESC_H

#include <stddef.h>
#include <sys/types.h>

/* The most bytes an id of n bytes takes escaped, without the NUL. */
#define URLESC_SIZE(n)	(3 * (n))

/* urlesc.c */
ssize_t	urlesc_segment(const char *, size_t, char *, size_t);

#endif /* SGW_URLESC_H */
