/*
 * One benchmark connection, by hand and as cheap as it can be: a
 * non-blocking TCP connect (from a chosen 127.0.0.x source address), the
 * WebSocket upgrade (RFC 6455; client frames masked), Engine.IO v4 (open,
 * ping/pong, close) and the Socket.IO v5 connect with the token in its
 * auth payload.  A connection is "ready" once `connected` and
 * `online_users` have arrived; from then on every event goes to
 * scenario.c.  Reads go into one buffer per process; only an incomplete
 * frame is copied into the connection (rbuf), only bytes the socket would
 * not take are kept (wbuf), so an idle connection costs its struct.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "eio.h"
#include "load.h"

#define RX_SIZE		(256 * 1024)
#define FRAME_MAX	(16 * 1024 * 1024)	/* a bigger frame is an error */
#define WS_KEY		"dGhlIHNhbXBsZSBub25jZQ=="

static uint8_t		 rx[RX_SIZE];
static uint8_t		*tx;
static size_t		 txcap;

static void	 fail(struct load *, struct conn *, const char *);
static void	 set_events(struct load *, struct conn *, uint32_t);
static int	 queue(struct conn *, const uint8_t *, size_t);
static int	 flush(struct load *, struct conn *);
static int	 send_frame(struct load *, struct conn *, int, const void *,
		    size_t);
static void	 on_bytes(struct load *, struct conn *, const uint8_t *,
		    size_t);
static size_t	 on_frames(struct load *, struct conn *, const uint8_t *,
		    size_t);
static void	 on_frame(struct load *, struct conn *, int, int,
		    const uint8_t *, size_t);
static void	 on_eio(struct load *, struct conn *, const uint8_t *, size_t);
static void	 on_sio(struct load *, struct conn *, const char *, size_t);
static int	 keep(uint8_t **, uint32_t *, uint32_t *, const uint8_t *,
		    size_t);

void
client_user_name(const struct load *l, uint32_t user, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%u", l->o->user_prefix, user);
}

/*
 * The upgrade request (the same for every connection to one server) and
 * the sources.
 */
void
client_init(struct load *l)
{
	const struct bench_opts	*o = l->o;
	unsigned		 i;
	int			 n;

	for (i = 0; i < o->ntargets; i++) {
		n = snprintf(l->upgrade[i], sizeof(l->upgrade[i]),
		    "GET %s?EIO=4&transport=websocket HTTP/1.1\r\n"
		    "Host: %s\r\n"
		    "Upgrade: websocket\r\n"
		    "Connection: Upgrade\r\n"
		    "Sec-WebSocket-Key: " WS_KEY "\r\n"
		    "Sec-WebSocket-Version: 13\r\n\r\n", o->path,
		    o->hosts[i]);
		l->upgradelen[i] = (size_t)n;
	}
	l->nsrc = o->sources;
	for (i = 0; i < l->nsrc && i < BENCH_MAXSRC; i++) {
		memset(&l->src[i], 0, sizeof(l->src[i]));
		l->src[i].sin_family = AF_INET;
		l->src[i].sin_addr.s_addr = htonl(0x7f000001u + i);
	}
	txcap = 65536;
	if ((tx = malloc(txcap)) == NULL)
		abort();
}

/* Remember the first reason anything failed, for the report. */
static void
note(struct load *l, const char *why)
{
	if (l->slot->err[0] == '\0')
		snprintf(l->slot->err, sizeof(l->slot->err), "%s", why);
}

/* Start connecting c.  Returns 0, or -1 (counted as a failure). */
int
client_open(struct load *l, struct conn *c)
{
	struct epoll_event	 ev;
	int			 fd, one = 1;

	c->fd = -1;
	c->flags &= CF_OBSERVER | CF_REJOIN;
	c->rlen = c->wlen = c->woff = 0;
	c->fraglen = 0;
	c->t_start = l->now;
	c->mask = (uint32_t)(l->now * 2654435761u) ^ (c->user * 40503u) ^ 0x5bd1e995u;
	l->c.started++;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		note(l, strerror(errno));
		l->c.failed++;
		scen_failed(l, c);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (l->nsrc > 0) {
#ifdef IP_BIND_ADDRESS_NO_PORT
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
#endif
		if (bind(fd, (struct sockaddr *)&l->src[l->c.started %
		    l->nsrc], sizeof(l->src[0])) == -1) {
			note(l, "bind: source address");
			close(fd);
			l->c.failed++;
			scen_failed(l, c);
			return -1;
		}
	}
	if (connect(fd, (const struct sockaddr *)&l->o->dsts[scen_target(l,
	    c)], sizeof(l->o->dsts[0])) == -1 && errno != EINPROGRESS) {
		note(l, strerror(errno));
		close(fd);
		l->c.failed++;
		scen_failed(l, c);
		return -1;
	}
	c->fd = fd;
	c->state = CS_CONNECTING;
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.ptr = c;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
		fail(l, c, "epoll_ctl");
		return -1;
	}
	l->c.open++;
	return 0;
}

/* What a closed connection kept: its buffers go, it can be reused. */
static void
free_buffers(struct conn *c)
{
	free(c->rbuf);
	free(c->wbuf);
	free(c->frag);
	c->rbuf = c->wbuf = c->frag = NULL;
	c->rlen = c->rcap = c->wlen = c->woff = c->wcap = 0;
	c->fraglen = c->fragcap = 0;
}

/*
 * Close c.  CLOSE_PEER: the server closed it.  CLOSE_CLEAN: a WebSocket
 * close frame (code 1000), then close(2), as a client that leaves does.
 * CLOSE_ABORT: a reset (SO_LINGER 0), which leaves no TIME_WAIT behind on
 * this side so that the next run finds its ephemeral ports free; for the
 * end of a run, never for what is measured.
 */
void
client_close(struct load *l, struct conn *c, int how)
{
	static const uint8_t close_frame[] = { 0x88, 0x82, 0, 0, 0, 0,
	    0x03, 0xe8 };
	struct linger	lin = { 1, 0 };
	bool		by_us = how != CLOSE_PEER;

	if (c->fd == -1)
		return;
	if (how == CLOSE_CLEAN && c->state >= CS_EIO && c->wlen == c->woff)
		(void)send(c->fd, close_frame, sizeof(close_frame),
		    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (how == CLOSE_ABORT)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	close(c->fd);
	c->fd = -1;
	free_buffers(c);
	l->c.open--;
	if (by_us)
		l->c.closed++;
	else if (c->state == CS_READY)
		l->c.dropped++;
	c->state = CS_IDLE;
	scen_closed(l, c);
}

/* A connection that never became ready. */
static void
fail(struct load *l, struct conn *c, const char *why)
{
	note(l, why);
	if (c->state == CS_READY) {
		client_close(l, c, CLOSE_PEER);
		return;
	}
	if (c->fd != -1) {
		close(c->fd);
		l->c.open--;
	}
	c->fd = -1;
	free_buffers(c);
	c->state = CS_IDLE;
	l->c.failed++;
	scen_failed(l, c);
}

/* Handshakes that took longer than --timeout fail. */
void
client_timeouts(struct load *l)
{
	uint64_t	limit = (uint64_t)(l->o->timeout * 1e9);
	unsigned	i;

	for (i = 0; i < l->nconns; i++) {
		struct conn *c = &l->conns[i];

		if (c->fd != -1 && c->state != CS_READY &&
		    l->now - c->t_start > limit)
			fail(l, c, "handshake timeout");
	}
}

static void
set_events(struct load *l, struct conn *c, uint32_t events)
{
	struct epoll_event	ev;

	ev.events = events;
	ev.data.ptr = c;
	epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Append to a growable buffer; -1 when it would pass FRAME_MAX. */
static int
keep(uint8_t **buf, uint32_t *len, uint32_t *cap, const uint8_t *p,
    size_t n)
{
	uint8_t		*nb;
	size_t		 want = *len + n, ncap;

	if (want > FRAME_MAX + 16)
		return -1;
	if (want > *cap) {
		ncap = *cap ? *cap : 256;
		while (ncap < want)
			ncap *= 2;
		if ((nb = realloc(*buf, ncap)) == NULL)
			return -1;
		*buf = nb;
		*cap = (uint32_t)ncap;
	}
	memcpy(*buf + *len, p, n);
	*len += (uint32_t)n;
	return 0;
}

static int
queue(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->woff > 0 && c->woff == c->wlen)
		c->wlen = c->woff = 0;
	return keep(&c->wbuf, &c->wlen, &c->wcap, p, n);
}

/* Write what is queued; 0, or -1 when the connection is gone. */
static int
flush(struct load *l, struct conn *c)
{
	ssize_t	 r;

	while (c->woff < c->wlen) {
		r = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff,
		    MSG_NOSIGNAL);
		if (r == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			fail(l, c, strerror(errno));
			return -1;
		}
		c->woff += (uint32_t)r;
		l->c.bytes_out += (uint64_t)r;
	}
	c->wlen = c->woff = 0;
	if (c->wcap > 65536) {
		free(c->wbuf);
		c->wbuf = NULL;
		c->wcap = 0;
	}
	set_events(l, c, EPOLLIN);
	return 0;
}

/* One masked frame (opcode op); queued if the socket is backed up. */
static int
send_frame(struct load *l, struct conn *c, int op, const void *payload,
    size_t len)
{
	const uint8_t	*p = payload;
	uint8_t		 m[4], *h;
	size_t		 hl, i;
	ssize_t		 r;

	if (c->fd == -1)
		return -1;
	if (len + 14 > txcap) {
		while (txcap < len + 14)
			txcap *= 2;
		if ((tx = realloc(tx, txcap)) == NULL)
			abort();
	}
	h = tx;
	h[0] = (uint8_t)(0x80 | op);
	if (len < 126) {
		h[1] = (uint8_t)(0x80 | len);
		hl = 2;
	} else if (len < 65536) {
		h[1] = 0x80 | 126;
		h[2] = (uint8_t)(len >> 8);
		h[3] = (uint8_t)len;
		hl = 4;
	} else {
		h[1] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
		hl = 10;
	}
	memcpy(m, &c->mask, 4);
	memcpy(h + hl, m, 4);
	hl += 4;
	for (i = 0; i < len; i++)
		h[hl + i] = p[i] ^ m[i & 3];
	len += hl;
	if (c->wlen > c->woff)
		return queue(c, tx, len);
	r = send(c->fd, tx, len, MSG_NOSIGNAL);
	if (r == -1) {
		if (errno != EAGAIN && errno != EINTR) {
			fail(l, c, strerror(errno));
			return -1;
		}
		r = 0;
	}
	l->c.bytes_out += (uint64_t)r;
	if ((size_t)r < len) {
		if (queue(c, tx + r, len - (size_t)r) != 0) {
			fail(l, c, "output queue");
			return -1;
		}
		set_events(l, c, EPOLLIN | EPOLLOUT);
	}
	return 0;
}

/* A Socket.IO/Engine.IO text message from a scenario. */
int
client_send(struct load *l, struct conn *c, const char *text, size_t len)
{
	return send_frame(l, c, 0x1, text, len);
}

/* Readiness on c. */
void
client_event(struct load *l, struct conn *c, uint32_t events)
{
	ssize_t	 r;
	int	 err = 0;
	socklen_t elen = sizeof(err);
	unsigned t;

	if (c->state == CS_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
			err = errno;
		if (err != 0) {
			fail(l, c, strerror(err));
			return;
		}
		if (!(events & (EPOLLOUT | EPOLLIN)))
			return;
		c->state = CS_UPGRADING;
		t = scen_target(l, c);
		r = send(c->fd, l->upgrade[t], l->upgradelen[t], MSG_NOSIGNAL);
		if (r != (ssize_t)l->upgradelen[t]) {
			fail(l, c, "upgrade request");
			return;
		}
		l->c.bytes_out += (uint64_t)r;
		set_events(l, c, EPOLLIN);
		return;
	}
	if ((events & EPOLLOUT) && c->wlen > c->woff && flush(l, c) != 0)
		return;
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	r = recv(c->fd, rx, sizeof(rx), 0);
	if (r == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		if (c->state == CS_READY)
			client_close(l, c, CLOSE_PEER);
		else
			fail(l, c, strerror(errno));
		return;
	}
	if (r == 0) {
		if (c->state == CS_READY)
			client_close(l, c, CLOSE_PEER);
		else
			fail(l, c, "closed during the handshake");
		return;
	}
	l->c.bytes_in += (uint64_t)r;
	on_bytes(l, c, rx, (size_t)r);
}

/* Bytes from the socket: the upgrade response, then frames. */
static void
on_bytes(struct load *l, struct conn *c, const uint8_t *p, size_t n)
{
	const uint8_t	*end;
	size_t		 used, hl;

	if (c->state == CS_UPGRADING) {
		if (keep(&c->rbuf, &c->rlen, &c->rcap, p, n) != 0) {
			fail(l, c, "upgrade response too long");
			return;
		}
		end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
		if (end == NULL) {
			if (c->rlen > 8192)
				fail(l, c, "upgrade response too long");
			return;
		}
		if (c->rlen < 12 || memcmp(c->rbuf, "HTTP/1.1 101", 12) != 0) {
			fail(l, c, "upgrade refused");
			return;
		}
		hl = (size_t)(end - c->rbuf) + 4;
		c->state = CS_EIO;
		c->rlen -= (uint32_t)hl;
		memmove(c->rbuf, c->rbuf + hl, c->rlen);
		if (c->rlen == 0)
			return;
		/* Frames right behind the response: parse them from rbuf. */
		used = on_frames(l, c, c->rbuf, c->rlen);
		if (c->fd == -1)
			return;
		c->rlen -= (uint32_t)used;
		memmove(c->rbuf, c->rbuf + used, c->rlen);
		return;
	}
	if (c->rlen > 0) {
		if (keep(&c->rbuf, &c->rlen, &c->rcap, p, n) != 0) {
			fail(l, c, "frame too big");
			return;
		}
		used = on_frames(l, c, c->rbuf, c->rlen);
		if (c->fd == -1)
			return;
		c->rlen -= (uint32_t)used;
		if (c->rlen == 0 && c->rcap > 65536) {
			free(c->rbuf);
			c->rbuf = NULL;
			c->rcap = 0;
		} else
			memmove(c->rbuf, c->rbuf + used, c->rlen);
		return;
	}
	used = on_frames(l, c, p, n);
	if (c->fd == -1 || used == n)
		return;
	if (keep(&c->rbuf, &c->rlen, &c->rcap, p + used, n - used) != 0)
		fail(l, c, "frame too big");
}

/* Whole frames in p; returns the bytes used (the rest is incomplete). */
static size_t
on_frames(struct load *l, struct conn *c, const uint8_t *p, size_t n)
{
	size_t		 off = 0, hl, i;
	uint64_t	 plen;
	int		 fin, op, masked;

	while (n - off >= 2) {
		const uint8_t *f = p + off;

		fin = f[0] & 0x80;
		op = f[0] & 0x0f;
		masked = f[1] & 0x80;
		plen = f[1] & 0x7f;
		hl = 2;
		if (plen == 126) {
			if (n - off < 4)
				break;
			plen = (uint64_t)f[2] << 8 | f[3];
			hl = 4;
		} else if (plen == 127) {
			if (n - off < 10)
				break;
			plen = 0;
			for (i = 0; i < 8; i++)
				plen = plen << 8 | f[2 + i];
			hl = 10;
		}
		if (plen > FRAME_MAX) {
			fail(l, c, "frame too big");
			return off;
		}
		if (masked)
			hl += 4;
		if (n - off < hl + plen)
			break;
		if (masked) {
			/* Servers do not mask; unmask in place if one does. */
			uint8_t *d = (uint8_t *)(uintptr_t)(f + hl);

			for (i = 0; i < plen; i++)
				d[i] ^= f[hl - 4 + (i & 3)];
		}
		off += hl + (size_t)plen;
		on_frame(l, c, op, fin, f + hl, (size_t)plen);
		if (c->fd == -1)
			return off;
	}
	return off;
}

static void
on_frame(struct load *l, struct conn *c, int op, int fin, const uint8_t *p,
    size_t n)
{
	switch (op) {
	case 0x0:		/* continuation */
		if (keep(&c->frag, &c->fraglen, &c->fragcap, p, n) != 0) {
			fail(l, c, "fragmented message too big");
			return;
		}
		if (fin) {
			uint8_t *m = c->frag;
			uint32_t mlen = c->fraglen;

			c->frag = NULL;
			c->fraglen = c->fragcap = 0;
			on_eio(l, c, m, mlen);
			free(m);
		}
		return;
	case 0x1:
	case 0x2:
		if (!fin) {
			c->fraglen = 0;
			if (keep(&c->frag, &c->fraglen, &c->fragcap, p,
			    n) != 0)
				fail(l, c, "fragmented message too big");
			return;
		}
		on_eio(l, c, p, n);
		return;
	case 0x8:
		if (c->state == CS_READY)
			client_close(l, c, CLOSE_PEER);
		else
			fail(l, c, "WebSocket close during the handshake");
		return;
	case 0x9:
		send_frame(l, c, 0xA, p, n);
		return;
	default:
		return;
	}
}

/* An Engine.IO packet. */
static void
on_eio(struct load *l, struct conn *c, const uint8_t *p, size_t n)
{
	struct eio_packet	 pkt;
	char			 user[64], msg[512];
	int			 len;

	if (eio_packet_decode(&pkt, p, n, NULL, 0) != EIO_OK) {
		l->c.errors++;
		return;
	}
	switch (pkt.type) {
	case EIO_OPEN:
		if (c->state != CS_EIO)
			return;
		client_user_name(l, c->user, user, sizeof(user));
		memcpy(msg, "40{\"token\":\"", 12);
		len = jwt_hs256(l->o->secret, l->o->secretlen, user,
		    (long)time(NULL) - 10, (long)time(NULL) + 3600, msg + 12,
		    sizeof(msg) - 16);
		if (len < 0) {
			fail(l, c, "token");
			return;
		}
		memcpy(msg + 12 + len, "\"}", 2);
		c->state = CS_SIO;
		send_frame(l, c, 0x1, msg, (size_t)len + 14);
		return;
	case EIO_CLOSE:
		if (c->state == CS_READY)
			client_close(l, c, CLOSE_PEER);
		else
			fail(l, c, "Engine.IO close during the handshake");
		return;
	case EIO_PING:
		l->c.pings++;
		send_frame(l, c, 0x1, "3", 1);
		return;
	case EIO_MESSAGE:
		if (!pkt.binary && pkt.len > 0)
			on_sio(l, c, (const char *)pkt.data, pkt.len);
		return;
	default:
		return;
	}
}

/*
 * A Socket.IO packet (main namespace only): CONNECT's answer, events and
 * acks.  An event is 2[<ack>]["name",<args>]: the name is cut out by hand,
 * the arguments go to the scenario unparsed.
 */
static void
on_sio(struct load *l, struct conn *c, const char *p, size_t n)
{
	const char	*name, *q, *end = p + n;
	size_t		 namelen;

	switch (p[0]) {
	case '0':
		c->flags |= CF_SIO_OK;
		return;
	case '1':
		if (c->state == CS_READY)
			client_close(l, c, CLOSE_PEER);
		else
			fail(l, c, "Socket.IO disconnect during the handshake");
		return;
	case '3':
		l->c.acks++;
		scen_ack(l, c);
		return;
	case '4':
		fail(l, c, "connect_error");
		return;
	case '2':
		break;
	default:
		return;
	}
	for (q = p + 1; q < end && *q >= '0' && *q <= '9'; q++)
		;
	if (end - q < 4 || q[0] != '[' || q[1] != '"') {
		l->c.errors++;
		return;
	}
	name = q + 2;
	if ((q = memchr(name, '"', (size_t)(end - name))) == NULL) {
		l->c.errors++;
		return;
	}
	namelen = (size_t)(q - name);
	q++;
	if (q < end && *q == ',')
		q++;
	if (c->state != CS_READY) {
		if (namelen == 9 && memcmp(name, "connected", 9) == 0)
			c->flags |= CF_CONNECTED;
		else if (namelen == 12 && memcmp(name, "online_users", 12) ==
		    0 && c->state == CS_SIO) {
			c->state = CS_READY;
			l->c.ready++;
			hist_add(&l->connlat, l->now - c->t_start);
			if (c->rlen == 0 && c->rcap > 0) {
				free(c->rbuf);
				c->rbuf = NULL;
				c->rcap = 0;
			}
			scen_ready(l, c);
			scen_event(l, c, name, namelen, q, (size_t)(end - q));
		}
		return;
	}
	scen_event(l, c, name, namelen, q, (size_t)(end - q));
}
