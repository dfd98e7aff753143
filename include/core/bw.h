/*
 * bw: one bounded writer, for text built in a caller's fixed buffer (a log
 * line, a JSON packet, a notification).  It never writes past the buffer
 * and it remembers how much was asked for, as snprintf(3) does: len can
 * pass cap, and then the text is truncated.  Pure: no I/O, no logging.
 */
#ifndef SGW_BW_H
#define SGW_BW_H

#include <stdarg.h>
#include <stddef.h>

struct bw {
	char	*p;		/* the caller's buffer */
	size_t	 cap;		/* its size */
	size_t	 len;		/* bytes asked for: past cap, truncated */
};

/* bw.c */
void	bw_init(struct bw *, char *, size_t);
void	bw_append(struct bw *, const void *, size_t);
void	bw_puts(struct bw *, const char *);
void	bw_putc(struct bw *, char);
int	bw_printf(struct bw *, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));
int	bw_vprintf(struct bw *, const char *, va_list)
	    __attribute__((__format__ (printf, 2, 0)));
size_t	bw_room(const struct bw *);
char	*bw_tail(const struct bw *);
void	bw_advance(struct bw *, size_t);
int	bw_truncated(const struct bw *);
size_t	bw_finish(struct bw *);

#endif /* SGW_BW_H */
