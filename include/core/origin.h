/*
 * origin: is a browser's Origin header one a list allows (admin_origins,
 * issue 18), or the gateway's own?  Pure: no I/O, no logging.
 */
#ifndef SGW_ORIGIN_H
#define SGW_ORIGIN_H

#include <stdbool.h>

/* origin.c */
bool	origin_listed(const char *, const char *);
bool	origin_same(const char *, const char *);

#endif /* SGW_ORIGIN_H */
