/*
 * httpc: the HTTP client every call to a downstream service goes through.
 * libcurl's multi-socket API driven by a worker's libev loop: no thread of
 * ours, no blocking call; connections are kept alive and reused (HTTP/1.1,
 * or HTTP/2 multiplexing where an https service offers it).
 *
 * One struct httpc per service per worker: a base URL, headers sent with
 * every request (service-to-service auth), and a bound on the requests in
 * flight.  A request names a method, a path under the base, an optional
 * JSON body (copied), extra headers (an Idempotency-Key), a deadline and a
 * bound on the response body; its callback runs once, from the loop, never
 * from inside httpc_request().
 *
 * Lifetimes:
 *  - httpc_request() fails at once (HTTPC_ERR_BUSY) when max_inflight
 *    requests are in flight: the caller sheds or queues.
 *  - httpc_cancel() frees a pending request; its callback never runs.
 *  - When a callback runs, its request is already gone (the handle must
 *    not be used again, not even to cancel it), and so is the body after
 *    the callback returns.  The callback may cancel other requests, start
 *    new ones, free what the user pointers point to, or httpc_free() the
 *    client.
 *  - httpc_free() cancels every pending request (no callback runs).
 */
#ifndef SGW_HTTPC_H
#define SGW_HTTPC_H

#include <stddef.h>

struct ev_loop;
struct httpc;
struct httpc_req;

#define HTTPC_TIMEOUT_DEFAULT	10.0		/* s, as opossum */
#define HTTPC_BODY_MAX_DEFAULT	(1024 * 1024)	/* response bytes */
#define HTTPC_HEADERS_MAX	16		/* per client, per request */

enum httpc_method {
	HTTPC_GET = 0,
	HTTPC_POST,
	HTTPC_PUT,
	HTTPC_PATCH,
	HTTPC_DELETE
};

/* Results: in struct httpc_result's error, and httpc_request()'s return. */
#define HTTPC_OK		 0	/* an HTTP answer: see status */
#define HTTPC_ERR_CONNECT	-1	/* refused, unreachable, unresolved */
#define HTTPC_ERR_TIMEOUT	-2	/* the deadline passed */
#define HTTPC_ERR_TOOBIG	-3	/* response body past its bound: cut */
#define HTTPC_ERR_TRANSPORT	-4	/* any other failure on the wire */
#define HTTPC_ERR_BUSY		-5	/* httpc_request: max_inflight reached */
#define HTTPC_ERR_INVALID	-6	/* httpc_request: bad call or header */
#define HTTPC_ERR_NOMEM		-7	/* httpc_request: out of memory */

/* A finished request, valid only during its callback. */
struct httpc_result {
	int		 error;		/* HTTPC_OK or HTTPC_ERR_* */
	long		 status;	/* the HTTP status; 0 without one */
	const char	*body;		/* NUL-terminated; TOOBIG: the cut */
	size_t		 len;		/* <= the request's max_body */
	double		 elapsed;	/* s, httpc_request() to completion */
	const char	*detail;	/* libcurl's words for an error, or "" */
};

typedef void	(*httpc_cb)(const struct httpc_result *, void *);

/* What httpc_request() sends; all of it is copied. */
struct httpc_call {
	enum httpc_method	  method;
	const char		 *path;		/* appended to the base URL */
	const char		 *body;		/* JSON, or NULL for none */
	size_t			  len;
	const char *const	 *headers;	/* "Name: value", NULL-ended */
	double			  timeout;	/* s; 0: HTTPC_TIMEOUT_DEFAULT */
	size_t			  max_body;	/* 0: HTTPC_BODY_MAX_DEFAULT */
	httpc_cb		  cb;
	void			 *arg;
};

/* httpc.c */
struct httpc	*httpc_new(struct ev_loop *, const char *, unsigned int);
int		 httpc_header(struct httpc *, const char *);
void		 httpc_free(struct httpc *);
int		 httpc_request(struct httpc *, const struct httpc_call *,
		     struct httpc_req **);
void		 httpc_cancel(struct httpc_req *);
unsigned int	 httpc_inflight(const struct httpc *);
const char	*httpc_strerror(int);

#endif /* SGW_HTTPC_H */
