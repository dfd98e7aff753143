/*
 * The head of a connection's first request, before libwebsockets reads
 * it (reqhead.h).  Both functions look at bytes peeked from the socket:
 * they never read past len and need no terminating NUL.
 */
#include <stddef.h>
#include <string.h>

#include "reqhead.h"
#include "sid.h"

/* A request line longer than this names no session we could route. */
#define ROUTE_MAX	2048

/*
 * The worker that owns the request's session, from its request line:
 * "GET /socket.io/?EIO=4&transport=websocket&sid=<sid> HTTP/1.1".
 * Returns the worker id, -1 when the line names none or names self, or
 * REQHEAD_MORE when the line is not complete yet.
 */
int
reqhead_route(const char *buf, size_t len, int self)
{
	const char	*eol, *p, *q;
	int		 w;

	if ((eol = memchr(buf, '\n', len)) == NULL)
		return len >= ROUTE_MAX ? -1 : REQHEAD_MORE;
	for (p = buf; p + 5 + SID_LEN <= eol; p++) {
		if ((*p != '?' && *p != '&') || memcmp(p + 1, "sid=", 4) != 0)
			continue;
		q = p + 5;
		if (q + SID_LEN == eol || memchr("& \r", q[SID_LEN], 3) != NULL) {
			w = sid_worker(q, SID_LEN);
			return w == self ? -1 : w;
		}
	}
	return -1;
}

/*
 * Does the head (request line and headers, up to the empty line) fit in
 * max bytes, the header buffer?  0 when it is whole and fits, 414 when
 * the request line alone passes three quarters of max (libwebsockets'
 * limit for one token, see transport.c), 431 when the head passes max,
 * REQHEAD_MORE when it is neither whole nor too long yet.  A head ends at
 * "\r\n\r\n" or, leniently, "\n\n".
 */
int
reqhead_check(const char *buf, size_t len, size_t max)
{
	const char	*eol;
	size_t		 i, scan;

	eol = memchr(buf, '\n', len < max ? len : max);
	if ((eol == NULL && len >= max * 3 / 4) ||
	    (eol != NULL && (size_t)(eol - buf) > max * 3 / 4))
		return 414;
	scan = len < max ? len : max;
	for (i = eol == NULL ? scan : (size_t)(eol - buf); i + 1 < scan; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n' ||
		    (buf[i + 1] == '\r' && i + 2 < scan && buf[i + 2] == '\n'))
			return 0;
	}
	return len >= max ? 431 : REQHEAD_MORE;
}
