/*
 * buf: one growing byte buffer (buf.h).  It doubles from BUF_MIN, so n
 * appends cost O(n) copies, and it never grows past the maximum its caller
 * gives.  Pure: no I/O, no logging.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define BUF_MIN	512	/* the first allocation, at least */

/*
 * Make room for n more bytes, without letting the buffer hold more than
 * max in all.  -1 with errno EMSGSIZE past max, ENOMEM without memory;
 * the buffer is unchanged then.
 */
int
buf_reserve(struct buf *b, size_t n, size_t max)
{
	size_t	 need, ncap;
	uint8_t	*np;

	if (n > SIZE_MAX - b->len || b->len + n > max) {
		errno = EMSGSIZE;
		return -1;
	}
	need = b->len + n;
	if (need <= b->cap)
		return 0;
	for (ncap = b->cap != 0 ? b->cap : BUF_MIN; ncap < need;) {
		if (ncap > SIZE_MAX / 2) {
			ncap = need;
			break;
		}
		ncap *= 2;
	}
	if (ncap > max)
		ncap = max;
	if ((np = realloc(b->p, ncap)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	b->p = np;
	b->cap = ncap;
	return 0;
}

/* Append len bytes; -1 without memory, and nothing is appended. */
int
buf_append(struct buf *b, const void *data, size_t len)
{
	if (len == 0)
		return 0;	/* an empty append: b->p may stay NULL */
	if (buf_reserve(b, len, BUF_NOMAX) != 0)
		return -1;
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

/*
 * Append printf-formatted text, without its NUL (the buffer keeps room for
 * one after it).  -1 on a format error or without memory, and nothing is
 * appended.
 */
int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 room = b->cap - b->len;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(room != 0 ? (char *)b->p + b->len : NULL, room, fmt,
	    ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= room) {
		if (buf_reserve(b, (size_t)n + 1, BUF_NOMAX) != 0)
			return -1;
		va_start(ap, fmt);
		n = vsnprintf((char *)b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
	}
	b->len += (size_t)n;
	return 0;
}

/* Drop the first n bytes (what was written or handled). */
void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

/*
 * Give the memory back once the buffer is empty and holds more than keep
 * bytes, so that a burst does not stay allocated.
 */
void
buf_release(struct buf *b, size_t keep)
{
	if (b->len == 0 && b->cap > keep)
		buf_free(b);
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
