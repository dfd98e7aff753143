/*
 * buf: one growing byte buffer, for whatever is read or queued a piece at a
 * time (a request body, a WebSocket message, the messages between the
 * processes and the workers, a /metrics page).  Pure: no I/O, no logging.
 *
 * The three fields are the whole of it, so a struct buf costs no more than
 * the pointer and the length and capacity it replaces.  A buffer that
 * grows on a peer's say is given a maximum at buf_reserve(), so that the
 * peer cannot grow it without bound.
 */
#ifndef SGW_BUF_H
#define SGW_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t	*p;		/* NULL until the first byte */
	size_t	 len;		/* bytes in use */
	size_t	 cap;		/* bytes allocated */
};

#define BUF_NOMAX	SIZE_MAX	/* buf_reserve(): no maximum */

/* buf.c */
int	buf_reserve(struct buf *, size_t, size_t);
int	buf_append(struct buf *, const void *, size_t);
int	buf_printf(struct buf *, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));
void	buf_consume(struct buf *, size_t);
void	buf_release(struct buf *, size_t);
void	buf_free(struct buf *);

#endif /* SGW_BUF_H */
