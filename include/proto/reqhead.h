/*
 * The head of a connection's first HTTP request, read (peeked) before
 * libwebsockets sees a byte (layer 1: pure, no I/O).  Two questions:
 * which worker owns the session the request line names (the hand-off),
 * and whether the head fits the header buffer at all.  libwebsockets
 * closes a connection whose head overflows its buffer without a word;
 * asked first, we answer 414 or 431 ourselves.
 */
#ifndef SGW_REQHEAD_H
#define SGW_REQHEAD_H

#include <stddef.h>

#define REQHEAD_MORE	(-2)	/* incomplete: peek again later */

/* reqhead.c */
int	reqhead_route(const char *, size_t, int);
int	reqhead_check(const char *, size_t, size_t);

#endif /* SGW_REQHEAD_H */
