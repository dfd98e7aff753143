/*
 * TLS in front of the hand-off (see tlsfront.h).
 *
 * Two raw lws connections per client, linked by a struct front: the
 * client's, where lws does TLS ("sgw-tls"), and our end of a unix socket
 * pair ("sgw-tls-pipe"), whose other end the serving worker has adopted as
 * a plain HTTP connection.  Bytes are copied one chunk at a time in each
 * direction: a chunk read from one side stops that side's reading until
 * the other side has written it (lws_rx_flow_control), so a slow client
 * or worker holds back the other end instead of filling our memory, and
 * the serving worker's own limits (output_queue_limit) see the slowness.
 * When one side closes, the other closes once its chunk is out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "client.h"
#include "handoff.h"
#include "log.h"
#include "reqhead.h"
#include "tlsfront.h"
#include "transport.h"
#include "unixsock.h"

#define HEAD_MAX	2048	/* as accept.c: a longer request line is ours */
#define HEAD_WAIT	20	/* s for the request line, as lws's timeout_secs */

struct chunk {
	uint8_t		*buf;		/* LWS_PRE + len, or NULL */
	size_t		 len;
};

struct front {
	struct transport	*t;
	struct lws		*tls;		/* the client; NULL once closed */
	struct lws		*pipe;		/* to the serving worker */
	struct chunk		 up;		/* client -> worker, waiting */
	struct chunk		 down;		/* worker -> client, waiting */
	char			*head;		/* read before the routing */
	size_t			 hlen;
	int			 refs;		/* wsi that point here */
};

static int	 chunk_set(struct chunk *, const void *, size_t);
static int	 chunk_write(struct chunk *, struct lws *);
static int	 route(struct front *, const void *, size_t);
static void	 unref(struct front *);
static void	 close_soon(struct lws *);

/* A TLS connection: lws does the handshake, we see clear bytes. */
int
tlsfront_adopt(struct transport *t, int fd)
{
	return client_adopt_as(t, fd, LWS_ADOPT_SOCKET |
	    LWS_ADOPT_ALLOW_SSL, TLSFRONT_PROTOCOL);
}

/*
 * Keep bytes for the other side.  Appended: lws may still deliver what it
 * had already read after we turned the flow off.
 */
static int
chunk_set(struct chunk *c, const void *in, size_t len)
{
	uint8_t	*nb;

	if ((nb = realloc(c->buf, LWS_PRE + c->len + len)) == NULL)
		return -1;
	c->buf = nb;
	memcpy(c->buf + LWS_PRE + c->len, in, len);
	c->len += len;
	return 0;
}

/* Write the waiting chunk, if any; -1 on a write error. */
static int
chunk_write(struct chunk *c, struct lws *wsi)
{
	int	rc = 0;

	if (c->buf == NULL)
		return 0;
	if (lws_write(wsi, c->buf + LWS_PRE, c->len, LWS_WRITE_RAW) <
	    (int)c->len)
		rc = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = 0;
	return rc;
}

/*
 * The request line is in: connect the client to the worker it names
 * (reqhead_route) or to us, through a new socket pair.  0: done or wait
 * for more; -1: close the client.
 */
static int
route(struct front *f, const void *in, size_t len)
{
	char			*nh;
	int			 sv[2], w;

	/* All of it goes on; the first HEAD_MAX bytes decide where. */
	if ((nh = realloc(f->head, f->hlen + len)) == NULL)
		return -1;
	f->head = nh;
	memcpy(f->head + f->hlen, in, len);
	f->hlen += len;
	if ((w = reqhead_route(f->head, f->hlen < HEAD_MAX ? f->hlen :
	    HEAD_MAX, f->t->wid)) == -2)
		return 0;
	if (unixsock_pair(sv) != 0) {
		log_warn("tls front: socketpair");
		return -1;
	}
	if ((f->pipe = lws_adopt_descriptor_vhost(f->t->vhost,
	    LWS_ADOPT_SOCKET, (lws_sock_file_fd_type){ .sockfd = sv[0] },
	    TLSFRONT_PIPE_PROTOCOL, NULL)) == NULL) {
		close(sv[1]);
		return -1;
	}
	lws_set_opaque_user_data(f->pipe, f);
	f->refs++;
	if (w < 0 || handoff_pass(f->t->handoff, sv[1], w, 'P') != 0)
		client_adopt_plain(f->t, sv[1]);
	if (chunk_set(&f->up, f->head, f->hlen) != 0)
		return -1;
	free(f->head);		/* a connection's life is long: keep it small */
	f->head = NULL;
	lws_set_timeout(f->tls, NO_PENDING_TIMEOUT, 0);
	lws_rx_flow_control(f->tls, 0);
	lws_callback_on_writable(f->pipe);
	return 0;
}

static void
unref(struct front *f)
{
	if (--f->refs > 0)
		return;
	free(f->head);
	free(f->up.buf);
	free(f->down.buf);
	f->t->fronts--;
	f->t->up->gone(f->t);
	free(f);
}

static void
close_soon(struct lws *wsi)
{
	lws_set_timeout(wsi, PENDING_TIMEOUT_KILLED_BY_PARENT,
	    LWS_TO_KILL_ASYNC);
}

/* Both protocols; is_tls: the client's side ("sgw-tls"). */
int
tlsfront_callback(struct lws *wsi, int reason, void *in, size_t len,
    int is_tls)
{
	struct transport	*t = lws_context_user(lws_get_context(wsi));
	struct front		*f = lws_get_opaque_user_data(wsi);

	if (reason == LWS_CALLBACK_RAW_ADOPT && is_tls) {
		if ((f = calloc(1, sizeof(*f))) == NULL)
			return -1;
		f->t = t;
		f->tls = wsi;
		f->refs = 1;
		t->fronts++;
		lws_set_opaque_user_data(wsi, f);
		/* A client that says nothing goes (the HTTP server's rule). */
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, HEAD_WAIT);
		return 0;
	}
	if (f == NULL)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_RAW_RX:
		if (is_tls && f->pipe == NULL)
			return route(f, in, len);
		if (chunk_set(is_tls ? &f->up : &f->down, in, len) != 0)
			return -1;
		lws_rx_flow_control(wsi, 0);
		if (is_tls)
			lws_callback_on_writable(f->pipe);
		else if (f->tls != NULL)
			lws_callback_on_writable(f->tls);
		return 0;
	case LWS_CALLBACK_RAW_WRITEABLE:
		if (chunk_write(is_tls ? &f->down : &f->up, wsi) != 0)
			return -1;
		if (is_tls ? f->pipe == NULL : f->tls == NULL)
			return -1;	/* the other side is gone */
		lws_rx_flow_control(is_tls ? f->pipe : f->tls, 1);
		return 0;
	case LWS_CALLBACK_RAW_CLOSE:
		lws_set_opaque_user_data(wsi, NULL);
		if (is_tls)
			f->tls = NULL;
		else
			f->pipe = NULL;
		/* The other side writes what it holds, then closes. */
		if (is_tls && f->pipe != NULL) {
			if (f->up.buf != NULL)
				lws_callback_on_writable(f->pipe);
			else
				close_soon(f->pipe);
		} else if (!is_tls && f->tls != NULL) {
			if (f->down.buf != NULL)
				lws_callback_on_writable(f->tls);
			else
				close_soon(f->tls);
		}
		unref(f);
		return 0;
	default:
		return 0;
	}
}
