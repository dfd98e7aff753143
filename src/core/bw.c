/*
 * bw: one bounded writer (bw.h).  The rule is snprintf(3)'s: what fits is
 * written, everything is counted, so the caller learns both that the text
 * was cut and how big a buffer it would need.  Pure: no I/O, no logging.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bw.h"

/* Write into cap bytes at p (p may be NULL when cap is 0: count only). */
void
bw_init(struct bw *w, char *p, size_t cap)
{
	w->p = p;
	w->cap = p != NULL ? cap : 0;
	w->len = 0;
}

/* Append n bytes; what does not fit is counted, not written. */
void
bw_append(struct bw *w, const void *s, size_t n)
{
	size_t	 room = bw_room(w);

	if (room != 0)
		memcpy(w->p + w->len, s, n < room ? n : room);
	w->len += n;
}

void
bw_puts(struct bw *w, const char *s)
{
	bw_append(w, s, strlen(s));
}

void
bw_putc(struct bw *w, char c)
{
	bw_append(w, &c, 1);
}

/*
 * Append printf-formatted text.  When it does not fit, the bytes that do
 * are written and the last of the buffer is a NUL (vsnprintf's rule).  -1
 * on a format error, and nothing is counted.
 */
int
bw_vprintf(struct bw *w, const char *fmt, va_list ap)
{
	size_t	 room = bw_room(w);
	int	 n;

	n = vsnprintf(room != 0 ? w->p + w->len : NULL, room, fmt, ap);
	if (n < 0)
		return -1;
	w->len += (size_t)n;
	return 0;
}

int
bw_printf(struct bw *w, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc;

	va_start(ap, fmt);
	rc = bw_vprintf(w, fmt, ap);
	va_end(ap);
	return rc;
}

/* Bytes left at the end, 0 once full or truncated. */
size_t
bw_room(const struct bw *w)
{
	return w->len < w->cap ? w->cap - w->len : 0;
}

/* Where the next byte goes, for a writer of its own (up to bw_room()). */
char *
bw_tail(const struct bw *w)
{
	return bw_room(w) != 0 ? w->p + w->len : NULL;
}

/* Count n bytes that a writer of its own put, or asked for, at bw_tail(). */
void
bw_advance(struct bw *w, size_t n)
{
	w->len += n;
}

/* 1 when the text and its NUL did not fit. */
int
bw_truncated(const struct bw *w)
{
	return w->len >= w->cap;
}

/* NUL-terminate when there is room; the length asked for either way. */
size_t
bw_finish(struct bw *w)
{
	if (w->len < w->cap)
		w->p[w->len] = '\0';
	return w->len;
}
