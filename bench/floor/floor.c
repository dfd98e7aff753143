/*
 * floor-server: the cheapest server socket-gateway-bench can measure, to
 * show what the kernel allows on this machine (issue 7).  One process, raw
 * epoll, no authentication, no JSON parser:
 *
 *  - the WebSocket upgrade (SHA-1 of the key), then Engine.IO open, all in
 *    one write;
 *  - Socket.IO CONNECT: the user is the "sub" of the token's claims, read
 *    without verifying anything; the answer, `connected` and
 *    `online_users` (only the user, like presence_mode scoped) go out in
 *    one write;
 *  - send_message: the frame is relayed to the receiver's socket with the
 *    event renamed receive_message, and the same bytes go back to the
 *    sender as message_sent (the gateway and the anchor send both);
 *  - send_group_message: the frame, renamed, to every member of
 *    group:<id> but the sender, one send() per recipient;
 *  - join_room {group_id} or {room}: membership, and the ack if one is
 *    asked; presence:<user> rooms hear user_connected/user_disconnected.
 *
 * Ids are found by a trivial scan for "receiver_id":" and friends: the
 * bench's own frames are the only input it is meant for.
 *
 * usage: floor-server [-a address] [-p port]
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/sha.h>

#define RX_SIZE		(256 * 1024)
#define NBUCKETS	(1 << 16)
#define WS_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define OPEN_TAIL	"\",\"upgrades\":[],\"pingInterval\":25000," \
			"\"pingTimeout\":20000,\"maxPayload\":1000000}"

struct room;

struct fconn {
	int		 fd;
	int		 ws;		/* upgraded */
	char		 user[132];
	size_t		 ulen;
	char		 sid[24];
	uint8_t		*rbuf;
	size_t		 rlen, rcap;
	uint8_t		*wbuf;
	size_t		 wlen, woff, wcap;
	struct room	**rooms;	/* rooms joined */
	size_t		 nrooms, roomcap;
};

struct entry {
	struct entry	*next;
	char		*key;
	size_t		 klen;
	void		*val;
};

struct room {
	struct fconn	**m;
	size_t		 n, cap;
};

static struct entry	*users[NBUCKETS], *rooms[NBUCKETS];
static uint8_t		 rx[RX_SIZE];
static uint8_t		*tx;
static size_t		 txcap;
static int		 ep;
static unsigned long	 sidseq;

static void	 fc_close(struct fconn *);

static uint32_t
hash(const char *k, size_t n)
{
	uint32_t	h = 2166136261u;

	while (n--)
		h = (h ^ (uint8_t)*k++) * 16777619u;
	return h & (NBUCKETS - 1);
}

static struct entry **
lookup(struct entry **tab, const char *k, size_t n)
{
	struct entry	**e = &tab[hash(k, n)];

	for (; *e != NULL; e = &(*e)->next)
		if ((*e)->klen == n && memcmp((*e)->key, k, n) == 0)
			break;
	return e;
}

static void
put(struct entry **tab, const char *k, size_t n, void *val)
{
	struct entry	**e = lookup(tab, k, n);

	if (*e == NULL) {
		if ((*e = calloc(1, sizeof(**e))) == NULL ||
		    ((*e)->key = malloc(n)) == NULL)
			abort();
		memcpy((*e)->key, k, n);
		(*e)->klen = n;
	}
	(*e)->val = val;
}

static void
del(struct entry **tab, const char *k, size_t n)
{
	struct entry	**e = lookup(tab, k, n), *d;

	if ((d = *e) != NULL) {
		*e = d->next;
		free(d->key);
		free(d);
	}
}

static void
grow(uint8_t **b, size_t *cap, size_t want)
{
	size_t	c = *cap ? *cap : 256;

	if (want <= *cap)
		return;
	while (c < want)
		c *= 2;
	if ((*b = realloc(*b, c)) == NULL)
		abort();
	*cap = c;
}

static void
watch(struct fconn *c, uint32_t events)
{
	struct epoll_event	ev = { .events = events, .data.ptr = c };

	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Bytes to c: straight to the socket unless some are already waiting. */
static void
out(struct fconn *c, const void *p, size_t n)
{
	ssize_t	r = 0;

	if (c->wlen == c->woff) {
		c->wlen = c->woff = 0;
		r = send(c->fd, p, n, MSG_NOSIGNAL);
		if (r == -1) {
			if (errno != EAGAIN && errno != EINTR)
				return;		/* the read side will see it */
			r = 0;
		}
		if ((size_t)r == n)
			return;
		watch(c, EPOLLIN | EPOLLOUT);
	}
	grow(&c->wbuf, &c->wcap, c->wlen + n - (size_t)r);
	memcpy(c->wbuf + c->wlen, (const uint8_t *)p + r, n - (size_t)r);
	c->wlen += n - (size_t)r;
}

static void
flush(struct fconn *c)
{
	ssize_t	r;

	while (c->woff < c->wlen) {
		r = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff,
		    MSG_NOSIGNAL);
		if (r <= 0)
			return;
		c->woff += (size_t)r;
	}
	c->wlen = c->woff = 0;
	watch(c, EPOLLIN);
}

/* A server frame header for a text message of n bytes; its length. */
static size_t
header(uint8_t *h, size_t n)
{
	h[0] = 0x81;
	if (n < 126) {
		h[1] = (uint8_t)n;
		return 2;
	}
	if (n < 65536) {
		h[1] = 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		return 4;
	}
	h[1] = 127;
	for (int i = 0; i < 8; i++)
		h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
	return 10;
}

/* Appends one text frame to tx at *len. */
static void
frame(size_t *len, const char *a, size_t an, const char *b, size_t bn)
{
	grow(&tx, &txcap, *len + an + bn + 10);
	*len += header(tx + *len, an + bn);
	memcpy(tx + *len, a, an);
	memcpy(tx + *len + an, b, bn);
	*len += an + bn;
}

static size_t
b64(const uint8_t *in, size_t len, char *o, int url)
{
	const char *t = url ?
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" :
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t	i, n = 0;
	unsigned v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		o[n++] = t[v >> 18];
		o[n++] = t[(v >> 12) & 63];
		o[n++] = t[(v >> 6) & 63];
		o[n++] = t[v & 63];
	}
	if (len - i == 1) {
		v = (unsigned)in[i] << 16;
		o[n++] = t[v >> 18];
		o[n++] = t[(v >> 12) & 63];
		o[n++] = '=';
		o[n++] = '=';
	} else if (len - i == 2) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		o[n++] = t[v >> 18];
		o[n++] = t[(v >> 12) & 63];
		o[n++] = t[(v >> 6) & 63];
		o[n++] = '=';
	}
	o[n] = '\0';
	return n;
}

static int
unb64url(const char *in, size_t n, char *o, size_t cap)
{
	unsigned	v = 0, bits = 0;
	size_t		len = 0;
	const char	*p;
	int		d;

	for (p = in; p < in + n; p++) {
		if (*p >= 'A' && *p <= 'Z')
			d = *p - 'A';
		else if (*p >= 'a' && *p <= 'z')
			d = *p - 'a' + 26;
		else if (*p >= '0' && *p <= '9')
			d = *p - '0' + 52;
		else if (*p == '-' || *p == '+')
			d = 62;
		else if (*p == '_' || *p == '/')
			d = 63;
		else
			break;
		v = v << 6 | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (len + 1 >= cap)
				return -1;
			o[len++] = (char)(v >> bits);
		}
	}
	o[len] = '\0';
	return (int)len;
}

/* The string value after "key":" in p (no escapes), or NULL. */
static const char *
field(const char *p, size_t n, const char *key, size_t *len)
{
	const char	*s, *e;

	if ((s = memmem(p, n, key, strlen(key))) == NULL)
		return NULL;
	s += strlen(key);
	if ((e = memchr(s, '"', n - (size_t)(s - p))) == NULL)
		return NULL;
	*len = (size_t)(e - s);
	return s;
}

static void
presence(const char *event, struct fconn *c)
{
	char		 name[160], msg[200];
	struct entry	*e;
	struct room	*r;
	size_t		 i, len = 0;
	int		 n;

	n = snprintf(name, sizeof(name), "presence:%.*s", (int)c->ulen,
	    c->user);
	if ((e = *lookup(rooms, name, (size_t)n)) == NULL)
		return;
	r = e->val;
	n = snprintf(msg, sizeof(msg), "42[\"%s\",{\"user_id\":\"%.*s\"}]",
	    event, (int)c->ulen, c->user);
	frame(&len, msg, (size_t)n, "", 0);
	for (i = 0; i < r->n; i++)
		out(r->m[i], tx, len);
}

static void
join(struct fconn *c, const char *name, size_t n)
{
	struct entry	**e = lookup(rooms, name, n);
	struct room	 *r;
	size_t		  i;

	if (*e == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			abort();
		put(rooms, name, n, r);
	} else
		r = (*e)->val;
	for (i = 0; i < r->n; i++)
		if (r->m[i] == c)
			return;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 8;
		if ((r->m = realloc(r->m, r->cap * sizeof(*r->m))) == NULL)
			abort();
	}
	r->m[r->n++] = c;
	if (c->nrooms == c->roomcap) {
		c->roomcap = c->roomcap ? c->roomcap * 2 : 4;
		if ((c->rooms = realloc(c->rooms, c->roomcap *
		    sizeof(*c->rooms))) == NULL)
			abort();
	}
	c->rooms[c->nrooms++] = r;
}

/* Socket.IO CONNECT: the user from the token, three frames in one write. */
static void
on_connect(struct fconn *c, const char *p, size_t n)
{
	char		 claims[512], msg[400];
	const char	*tok, *dot, *sub;
	size_t		 tlen, slen, len = 0;
	int		 k;

	if ((tok = field(p, n, "\"token\":\"", &tlen)) == NULL ||
	    (dot = memchr(tok, '.', tlen)) == NULL ||
	    unb64url(dot + 1, tlen - (size_t)(dot + 1 - tok), claims,
	    sizeof(claims)) < 0 ||
	    (sub = field(claims, strlen(claims), "\"sub\":\"", &slen)) ==
	    NULL || slen == 0 || slen >= sizeof(c->user)) {
		k = snprintf(msg, sizeof(msg),
		    "44{\"message\":\"Invalid authentication token\"}");
		frame(&len, msg, (size_t)k, "", 0);
		out(c, tx, len);
		return;
	}
	memcpy(c->user, sub, slen);
	c->ulen = slen;
	put(users, c->user, c->ulen, c);
	k = snprintf(msg, sizeof(msg), "40{\"sid\":\"%s\"}", c->sid);
	frame(&len, msg, (size_t)k, "", 0);
	k = snprintf(msg, sizeof(msg), "42[\"connected\",{\"socket_id\":\"%s\","
	    "\"user_id\":\"%s\"}]", c->sid, c->user);
	frame(&len, msg, (size_t)k, "", 0);
	k = snprintf(msg, sizeof(msg), "42[\"online_users\",[\"%s\"]]",
	    c->user);
	frame(&len, msg, (size_t)k, "", 0);
	out(c, tx, len);
	presence("user_connected", c);
}

/* 42["send_message",{...}] and 42["send_group_message",{...}]. */
static void
on_message(struct fconn *c, const char *p, size_t n, int group)
{
	static const char recv[] = "42[\"receive_message\",";
	static const char sent[] = "42[\"message_sent\",";
	const char	*rest, *id;
	char		 name[160];
	size_t		 restlen, idlen, len = 0, i;
	struct entry	*e;
	struct room	*r;
	int		 k;

	rest = memchr(p, ',', n);
	if (rest == NULL)
		return;
	rest++;
	restlen = n - (size_t)(rest - p);
	frame(&len, recv, sizeof(recv) - 1, rest, restlen);
	if (!group) {
		if ((id = field(rest, restlen, "\"receiver_id\":\"", &idlen)) ==
		    NULL)
			return;
		if ((e = *lookup(users, id, idlen)) != NULL)
			out(e->val, tx, len);
		len = 0;
		frame(&len, sent, sizeof(sent) - 1, rest, restlen);
		out(c, tx, len);
		return;
	}
	if ((id = field(rest, restlen, "\"group_id\":\"", &idlen)) == NULL ||
	    idlen > 128)
		return;
	k = snprintf(name, sizeof(name), "group:%.*s", (int)idlen, id);
	if ((e = *lookup(rooms, name, (size_t)k)) == NULL)
		return;
	r = e->val;
	for (i = 0; i < r->n; i++)
		if (r->m[i] != c)
			out(r->m[i], tx, len);
}

/* 42<ack>["join_room",{"group_id":"g"} or {"room":"r"}]. */
static void
on_join(struct fconn *c, const char *ack, size_t acklen, const char *p,
    size_t n)
{
	const char	*id;
	char		 name[160], msg[64];
	size_t		 idlen, len = 0;
	int		 k;

	if ((id = field(p, n, "\"group_id\":\"", &idlen)) != NULL &&
	    idlen <= 128)
		k = snprintf(name, sizeof(name), "group:%.*s", (int)idlen, id);
	else if ((id = field(p, n, "\"room\":\"", &idlen)) != NULL &&
	    idlen < sizeof(name))
		k = snprintf(name, sizeof(name), "%.*s", (int)idlen, id);
	else
		return;
	join(c, name, (size_t)k);
	if (acklen > 0 && acklen < 20) {
		k = snprintf(msg, sizeof(msg), "43%.*s[{\"ok\":true}]",
		    (int)acklen, ack);
		frame(&len, msg, (size_t)k, "", 0);
		out(c, tx, len);
	}
}

/* One client text message (Engine.IO packet). */
static void
on_text(struct fconn *c, const char *p, size_t n)
{
	const char	*ack, *q;

	if (n < 2 || p[0] != '4')
		return;		/* pongs and the rest */
	if (p[1] == '0') {
		on_connect(c, p, n);
		return;
	}
	if (p[1] == '1') {
		fc_close(c);
		return;
	}
	if (p[1] != '2' || c->ulen == 0)
		return;
	ack = p + 2;
	for (q = ack; q < p + n && *q >= '0' && *q <= '9'; q++)
		;
	if (p + n - q > 21 && memcmp(q, "[\"send_message\",", 16) == 0)
		on_message(c, q, (size_t)(p + n - q), 0);
	else if (p + n - q > 22 && memcmp(q, "[\"send_group_message\",",
	    22) == 0)
		on_message(c, q, (size_t)(p + n - q), 1);
	else if (p + n - q > 13 && memcmp(q, "[\"join_room\",", 13) == 0)
		on_join(c, ack, (size_t)(q - ack), q, (size_t)(p + n - q));
}

/* The upgrade request: 101, then the Engine.IO open, in one write. */
static int
on_http(struct fconn *c)
{
	static const char guid[] = WS_GUID;
	char		 keybuf[128], acc[32], resp[512];
	unsigned char	 sha[SHA_DIGEST_LENGTH];
	const char	*end, *line, *k;
	size_t		 klen, len = 0;
	int		 n;

	end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
	if (end == NULL)
		return c->rlen > 8192 ? -1 : 0;
	k = NULL;
	klen = 0;
	for (line = (char *)c->rbuf; line < end;) {
		const char *eol = memmem(line, (size_t)(end + 2 - line),
		    "\r\n", 2);

		if (eol == NULL)
			break;
		if (eol - line > 18 && strncasecmp(line, "Sec-WebSocket-Key:",
		    18) == 0) {
			k = line + 18;
			while (*k == ' ')
				k++;
			klen = (size_t)(eol - k);
		}
		line = eol + 2;
	}
	if (k == NULL || klen + sizeof(guid) > sizeof(keybuf))
		return -1;
	memcpy(keybuf, k, klen);
	memcpy(keybuf + klen, guid, sizeof(guid) - 1);
	SHA1((unsigned char *)keybuf, klen + sizeof(guid) - 1, sha);
	b64(sha, sizeof(sha), acc, 0);
	snprintf(c->sid, sizeof(c->sid), "floor%015lu", ++sidseq);
	n = snprintf(resp, sizeof(resp), "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
	grow(&tx, &txcap, (size_t)n + 256);
	memcpy(tx, resp, (size_t)n);
	len = (size_t)n;
	n = snprintf(resp, sizeof(resp), "0{\"sid\":\"%s" OPEN_TAIL, c->sid);
	{
		uint8_t h[10];
		size_t hl = header(h, (size_t)n);

		memcpy(tx + len, h, hl);
		memcpy(tx + len + hl, resp, (size_t)n);
		len += hl + (size_t)n;
	}
	out(c, tx, len);
	c->ws = 1;
	len = (size_t)(end + 4 - (char *)c->rbuf);
	memmove(c->rbuf, c->rbuf + len, c->rlen - len);
	c->rlen -= len;
	return 0;
}

/* Whole client frames in c->rbuf. */
static int
on_frames(struct fconn *c)
{
	size_t		 off = 0, hl, i;
	uint64_t	 plen;
	uint8_t		*f, *m;

	while (c->rlen - off >= 2) {
		f = c->rbuf + off;
		plen = f[1] & 0x7f;
		hl = 2;
		if (plen == 126) {
			if (c->rlen - off < 4)
				break;
			plen = (uint64_t)f[2] << 8 | f[3];
			hl = 4;
		} else if (plen == 127) {
			if (c->rlen - off < 10)
				break;
			plen = 0;
			for (i = 0; i < 8; i++)
				plen = plen << 8 | f[2 + i];
			hl = 10;
		}
		if (!(f[1] & 0x80) || plen > (1 << 24))
			return -1;	/* clients mask; size sanity */
		m = f + hl;
		hl += 4;
		if (c->rlen - off < hl + plen)
			break;
		for (i = 0; i < plen; i++)
			f[hl + i] ^= m[i & 3];
		off += hl + plen;
		switch (f[0] & 0x0f) {
		case 0x1:
			on_text(c, (char *)f + hl, (size_t)plen);
			if (c->fd == -1)
				return -1;
			break;
		case 0x8:
			return -1;
		case 0x9: {
			size_t len = 0;

			frame(&len, (char *)f + hl, (size_t)plen, "", 0);
			tx[0] = 0x8a;
			out(c, tx, len);
			break;
		}
		default:
			break;
		}
	}
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
	return 0;
}

static void
fc_close(struct fconn *c)
{
	struct entry	*e;
	size_t		 i, j;

	if (c->fd == -1)
		return;
	close(c->fd);
	c->fd = -1;
	for (i = 0; i < c->nrooms; i++) {
		struct room *r = c->rooms[i];

		for (j = 0; j < r->n; j++)
			if (r->m[j] == c) {
				r->m[j] = r->m[--r->n];
				break;
			}
	}
	c->nrooms = 0;
	if (c->ulen > 0 && (e = *lookup(users, c->user, c->ulen)) != NULL &&
	    e->val == c) {
		del(users, c->user, c->ulen);
		presence("user_disconnected", c);
	}
}

static void
fc_free(struct fconn *c)
{
	free(c->rbuf);
	free(c->wbuf);
	free(c->rooms);
	free(c);
}

static void
on_readable(struct fconn *c)
{
	ssize_t	r;

	r = recv(c->fd, rx, sizeof(rx), 0);
	if (r == 0 || (r == -1 && errno != EAGAIN && errno != EINTR)) {
		fc_close(c);
		return;
	}
	if (r == -1)
		return;
	grow(&c->rbuf, &c->rcap, c->rlen + (size_t)r);
	memcpy(c->rbuf + c->rlen, rx, (size_t)r);
	c->rlen += (size_t)r;
	if (!c->ws && on_http(c) != 0) {
		fc_close(c);
		return;
	}
	if (c->ws && c->rlen > 0 && on_frames(c) != 0) {
		fc_close(c);
		return;
	}
	if (c->rlen == 0 && c->rcap > 4096) {
		free(c->rbuf);
		c->rbuf = NULL;
		c->rcap = 0;
	}
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sin;
	struct epoll_event	 evs[512], ev;
	struct rlimit		 rl;
	struct fconn		*c, **dead = NULL;
	size_t			 ndead = 0, deadcap = 0, i;
	const char		*addr = "127.0.0.1";
	int			 lfd, fd, n, ch, one = 1, port = 3002;
	static int		 listener;

	while ((ch = getopt(argc, argv, "a:p:")) != -1) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: floor-server [-a address] "
			    "[-p port]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "floor-server: bad address %s\n", addr);
		return 2;
	}
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 4096) == -1) {
		perror("floor-server: listen");
		return 1;
	}
	if ((ep = epoll_create1(0)) == -1) {
		perror("floor-server: epoll_create1");
		return 1;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &listener;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	fprintf(stderr, "{\"msg\":\"floor listening\",\"address\":\"%s\","
	    "\"port\":%d,\"pid\":%d}\n", addr, port, (int)getpid());
	for (;;) {
		n = epoll_wait(ep, evs, 512, -1);
		for (i = 0; i < (size_t)(n > 0 ? n : 0); i++) {
			if (evs[i].data.ptr == &listener) {
				while ((fd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK)) != -1) {
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
					    &one, sizeof(one));
					if ((c = calloc(1, sizeof(*c))) == NULL)
						abort();
					c->fd = fd;
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			c = evs[i].data.ptr;
			if (c->fd == -1)
				continue;
			if (evs[i].events & EPOLLOUT)
				flush(c);
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				on_readable(c);
			if (c->fd == -1) {
				if (ndead == deadcap) {
					deadcap = deadcap ? deadcap * 2 : 64;
					dead = realloc(dead, deadcap *
					    sizeof(*dead));
					if (dead == NULL)
						abort();
				}
				dead[ndead++] = c;
			}
		}
		/* Freed after the batch: later events may still name them. */
		for (i = 0; i < ndead; i++)
			fc_free(dead[i]);
		ndead = 0;
	}
}
