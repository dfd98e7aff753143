/*
 * One connection to Redis on a libev loop (see redis.h).
 *
 * Why not hiredis's async layer: in 0.14.1 a reply in subscribed mode is
 * routed by __redisGetSubscribeCallback(), which knows "message" and
 * "pmessage" but not "smessage", and a reply nobody asked for aborts the
 * context.  So hiredis only formats (redisFormatCommandArgv) and parses
 * (redisReader); the socket, the queues and the timers are here.  The
 * connection stays on RESP2, where a push is an array like any reply.
 *
 * A command lives in one of two queues:
 *	waitq	formatted, not yet in the output buffer: the connection is
 *		down, or AUTH/SELECT/subscriptions are still being answered;
 *	pendq	its bytes are in the output buffer or written; its reply is
 *		awaited, by a deadline (sent + timeout_ms).
 * Replies come in the order of pendq, so the head's deadline is the first
 * to pass: one ev_timer, re-armed lazily when it fires early.  The output
 * buffer is written by an ev_io write watcher, so what the loop's callbacks
 * issue in one iteration leaves in one write.  The bytes of waitq and of
 * the unwritten output together stay under queue_max: past it a command
 * is refused and counted (lost).  Subscriptions are not refused: they are
 * remembered (the caller's set, bounded by its rooms) and re-issued.
 *
 * The states: DOWN (waiting to retry), CONNECTING (non-blocking connect,
 * deadline timeout_ms), HELLO (AUTH, SELECT, CLIENT SETNAME and the
 * remembered subscriptions written; pendq holds only those), UP.  In
 * HELLO, an error to AUTH or SELECT closes and retries with backoff (logged
 * once per outage); UP comes when pendq has drained.
 *
 * A host name is resolved with getaddrinfo(), which blocks the loop while
 * the resolver works: give an address or a name in /etc/hosts.
 *
 * redis_free() may be called from inside any callback: the object is
 * only marked, no further callback runs, and it is freed when the
 * outermost of its own libev callbacks returns.  redis_free() runs no
 * callback; the callbacks of commands still waiting are dropped.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "htab.h"
#include "log.h"
#include "randpool.h"
#include "redis.h"
#include "redisurl.h"

#define BACKOFF_MIN	0.1		/* s, doubling up to BACKOFF_MAX */
#define BACKOFF_MAX	5.0
/* A deadline reads at most this many chunks before it looks again. */
#define DEADLINE_CHUNKS	64
#define READ_CHUNK	16384
#define KEEPIDLE	15		/* s of silence before a probe */
#define KEEPINTVL	5
#define KEEPCNT		3
#define OUT_KEEP	(64u * 1024)	/* keep an output buffer this big */

enum rstate { ST_DOWN, ST_CONNECTING, ST_HELLO, ST_UP };
enum rkind { K_USER, K_HELLO, K_SUB };

/* The subscribe verbs, then their unsubscribe twins (index + 3). */
static const char *const verbs[] = { "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE",
    "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE" };
static const char *const hellos[] = { "AUTH", "SELECT", "CLIENT SETNAME",
    "PING" };
#define HELLO_PING	3	/* hellos[]: the idle connection's probe */

struct rcmd {
	TAILQ_ENTRY(rcmd)	 entry;
	redis_reply_cb		*cb;
	void			*arg;
	enum rkind		 kind;
	int			 what;		/* verbs[] or hellos[] */
	ev_tstamp		 deadline;
	char			*buf;		/* in waitq only */
	size_t			 len;
};
TAILQ_HEAD(rcmds, rcmd);

/*
 * A remembered subscription: in subs, in the order re-issued, and in
 * subidx by (verb, channel), because sharded mode holds one per room and
 * a list walked per (un)subscription would cost O(rooms) each.
 */
struct sub {
	uint32_t		 hash;		/* HTAB_HASH: first */
	TAILQ_ENTRY(sub)	 entry;
	int			 verb;
	size_t			 len;
	char			 chan[];
};
TAILQ_HEAD(subs, sub);

struct redis {
	struct ev_loop		*loop;
	struct redis_ops	 ops;
	void			*arg;
	struct redisurl		 url;
	char			 addr[REDISURL_HOST_MAX + 32];
	char			*name;
	ev_tstamp		 timeout;
	size_t			 queue_max;
	enum rstate		 state;
	int			 fd;
	ev_io			 rio;
	ev_io			 wio;
	ev_timer		 retry;
	ev_timer		 deadline;
	ev_timer		 idle;		/* PING a quiet connection */
	ev_tstamp		 backoff;
	unsigned		 addr_next;	/* which resolved address */
	redisReader		*reader;
	struct buf		 out;
	struct rcmds		 waitq;
	size_t			 waitq_bytes;
	struct rcmds		 pendq;
	size_t			 npend;
	struct subs		 subs;
	struct htab		 subidx;
	int			 subscribed;	/* once: no other command */
	int			 warned_down;	/* this outage is logged */
	int			 warned_hello;
	int			 depth;		/* in our own callbacks */
	int			 dead;		/* redis_free() inside one */
	struct redis_stats	 st;
};

static void	 enter(struct redis *);
static int	 leave(struct redis *);
static void	 destroy(struct redis *);
static void	 logline(struct redis *, enum log_level, const char *,
		    const char *);
static struct rcmd *rcmd_new(int, const char **, const size_t *);
static void	 rcmd_free(struct rcmd *);
static int	 push_out(struct redis *, struct rcmd *);
static void	 start_connect(struct redis *);
static int	 open_socket(struct redis *, const char **);
static void	 connected(struct redis *);
static void	 hello(struct redis *, int, int, const char **,
		    const size_t *);
static int	 send_sub(struct redis *, int, const char *, size_t, int);
static void	 become_up(struct redis *);
static void	 lose(struct redis *, const char *, int);
static void	 drop_pending(struct redis *);
static void	 arm_deadline(struct redis *);
static void	 on_read(struct ev_loop *, ev_io *, int);
static int	 read_chunk(struct redis *);
static void	 on_write(struct ev_loop *, ev_io *, int);
static void	 on_retry(struct ev_loop *, ev_timer *, int);
static void	 on_deadline(struct ev_loop *, ev_timer *, int);
static void	 on_idle(struct ev_loop *, ev_timer *, int);
static int	 dispatch(struct redis *, redisReply *);
static int	 push(struct redis *, const redisReply *);
static int	 answer_hello(struct redis *, struct rcmd *,
		    const redisReply *);
static int	 find_verb(const char *);

static void
enter(struct redis *r)
{
	r->depth++;
}

/* 1 if r was freed (by a callback inside), so the caller must not touch it. */
static int
leave(struct redis *r)
{
	if (--r->depth == 0 && r->dead) {
		destroy(r);
		return 1;
	}
	return 0;
}

static void
logline(struct redis *r, enum log_level level, const char *msg,
    const char *why)
{
	struct logf	f;

	memset(&f, 0, sizeof(f));
	logf_str(&f, "redis", r->addr);
	if (r->name != NULL)
		logf_str(&f, "name", r->name);
	if (why != NULL)
		logf_str(&f, "why", why);
	log_emit(level, &f, "%s", msg);
}

static struct rcmd *
rcmd_new(int argc, const char **argv, const size_t *argvlen)
{
	struct rcmd	*c;
	char		*buf;
	int		 len;

	if ((len = redisFormatCommandArgv(&buf, argc, argv, argvlen)) < 0)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		redisFreeCommand(buf);
		return NULL;
	}
	c->buf = buf;
	c->len = (size_t)len;
	return c;
}

static void
rcmd_free(struct rcmd *c)
{
	if (c->buf != NULL)
		redisFreeCommand(c->buf);
	free(c);
}

/*
 * The command's bytes join the output buffer (written when the socket
 * takes them, coalesced with the rest of this loop iteration) and it waits
 * for its reply in pendq.  -1 (no memory): c is untouched, still the
 * caller's.
 */
static int
push_out(struct redis *r, struct rcmd *c)
{
	if (buf_append(&r->out, c->buf, c->len) != 0)
		return -1;
	redisFreeCommand(c->buf);
	c->buf = NULL;
	c->deadline = ev_now(r->loop) + r->timeout;
	TAILQ_INSERT_TAIL(&r->pendq, c, entry);
	r->npend++;
	r->st.commands++;
	if (!ev_is_active(&r->wio))
		ev_io_start(r->loop, &r->wio);
	if (!ev_is_active(&r->deadline))
		arm_deadline(r);
	return 0;
}

/* A non-blocking socket with its connect() started; -1 on failure. */
static int
open_socket(struct redis *r, const char **why)
{
	struct addrinfo		 hints, *res, *ai;
	struct sockaddr_un	 sun;
	char			 port[8];
	unsigned		 n, i;
	int			 fd, one = 1, v, rc;

	if (r->url.unix_path) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, r->url.path, strlen(r->url.path));
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0)) == -1)
			return -1;
		rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	} else {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		snprintf(port, sizeof(port), "%u", r->url.port);
		if ((rc = getaddrinfo(r->url.host, port, &hints, &res)) !=
		    0) {
			*why = gai_strerror(rc);
			return -1;
		}
		/* Each attempt tries the next address. */
		for (n = 0, ai = res; ai != NULL; ai = ai->ai_next)
			n++;
		for (i = 0, ai = res; i < r->addr_next++ % n; i++)
			ai = ai->ai_next;
		if ((fd = socket(ai->ai_family, ai->ai_socktype |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol)) == -1) {
			freeaddrinfo(res);
			return -1;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one,
		    sizeof(one));
		v = KEEPIDLE;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v));
		v = KEEPINTVL;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v,
		    sizeof(v));
		v = KEEPCNT;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(v));
		rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
		freeaddrinfo(res);
	}
	if (rc == -1 && errno != EINPROGRESS) {
		rc = errno;
		close(fd);
		errno = rc;
		return -1;
	}
	return fd;
}

/* From DOWN: a new socket, connected when it turns writable. */
static void
start_connect(struct redis *r)
{
	const char	*why = NULL;
	int		 fd;

	if ((fd = open_socket(r, &why)) == -1) {
		r->st.disconnects++;	/* an attempt lost at once */
		lose(r, why != NULL ? why : strerror(errno), 0);
		return;
	}
	r->fd = fd;
	r->state = ST_CONNECTING;
	ev_io_set(&r->rio, fd, EV_READ);
	ev_io_set(&r->wio, fd, EV_WRITE);
	ev_io_start(r->loop, &r->wio);
	arm_deadline(r);
}

/* A hello command (AUTH, SELECT, CLIENT SETNAME) written first. */
static void
hello(struct redis *r, int what, int argc, const char **argv,
    const size_t *len)
{
	struct rcmd	*c;

	if ((c = rcmd_new(argc, argv, len)) == NULL) {
		lose(r, "out of memory", 0);
		return;
	}
	c->kind = K_HELLO;
	c->what = what;
	if (push_out(r, c) != 0) {
		rcmd_free(c);
		lose(r, "out of memory", 0);
	}
}

/*
 * A (un)subscription on the wire: at once when UP or in the hello batch,
 * else into waitq (during HELLO) to follow it.  Never refused by
 * queue_max: the set is remembered anyway.  -1: no memory.
 */
static int
send_sub(struct redis *r, int verb, const char *chan, size_t len, int now)
{
	const char	*argv[2] = { verbs[verb], chan };
	size_t		 argvlen[2] = { strlen(verbs[verb]), len };
	struct rcmd	*c;

	if ((c = rcmd_new(2, argv, argvlen)) == NULL)
		return -1;
	c->kind = K_SUB;
	c->what = verb;
	if (now) {
		if (push_out(r, c) != 0) {
			rcmd_free(c);
			return -1;
		}
		return 0;
	}
	TAILQ_INSERT_TAIL(&r->waitq, c, entry);
	r->waitq_bytes += c->len;
	return 0;
}

/* The socket is connected: AUTH, SELECT, SETNAME, then subscriptions. */
static void
connected(struct redis *r)
{
	const char	*argv[3];
	size_t		 len[3];
	char		 db[16];
	struct sub	*s;
	int		 n = 0;

	r->state = ST_HELLO;
	ev_io_start(r->loop, &r->rio);
	if (r->url.has_password) {
		argv[n] = "AUTH";
		len[n++] = 4;
		if (r->url.user[0] != '\0') {
			argv[n] = r->url.user;
			len[n] = strlen(r->url.user);
			n++;
		}
		argv[n] = r->url.password;
		len[n] = strlen(r->url.password);
		hello(r, 0, n + 1, argv, len);
	}
	if (r->state == ST_HELLO && r->url.db != 0) {
		snprintf(db, sizeof(db), "%d", r->url.db);
		argv[0] = "SELECT";
		len[0] = 6;
		argv[1] = db;
		len[1] = strlen(db);
		hello(r, 1, 2, argv, len);
	}
	if (r->state == ST_HELLO && r->name != NULL) {
		argv[0] = "CLIENT";
		len[0] = 6;
		argv[1] = "SETNAME";
		len[1] = 7;
		argv[2] = r->name;
		len[2] = strlen(r->name);
		hello(r, 2, 3, argv, len);
	}
	TAILQ_FOREACH(s, &r->subs, entry) {
		if (r->state != ST_HELLO)
			return;
		if (send_sub(r, s->verb, s->chan, s->len, 1) != 0) {
			lose(r, "out of memory", 0);
			return;
		}
	}
	if (r->state == ST_HELLO && r->npend == 0)
		become_up(r);
}

/* Every hello answered: what waited goes out, in order, and up() runs. */
static void
become_up(struct redis *r)
{
	struct rcmd	*c;

	r->state = ST_UP;
	r->backoff = 0;
	r->warned_down = 0;
	r->warned_hello = 0;
	r->st.connects++;
	while ((c = TAILQ_FIRST(&r->waitq)) != NULL) {
		TAILQ_REMOVE(&r->waitq, c, entry);
		r->waitq_bytes -= c->len;
		if (push_out(r, c) != 0) {
			TAILQ_INSERT_HEAD(&r->waitq, c, entry);
			r->waitq_bytes += c->len;
			lose(r, "out of memory", 0);
			return;
		}
	}
	logline(r, LOG_LEVEL_INFO, "redis: connected", NULL);
	if (r->ops.up != NULL)
		r->ops.up(r->arg);
}

/*
 * The connection is gone (or never came): close it, give every awaited
 * reply NULL, keep what waits in waitq (but the subscriptions, re-issued
 * from the remembered set), and retry after a jittered backoff.
 */
static void
lose(struct redis *r, const char *why, int timeout)
{
	struct rcmd	*c, *next;
	uint32_t	 rnd = 0;
	int		 was_up = r->state == ST_UP;

	if (r->fd != -1) {
		ev_io_stop(r->loop, &r->rio);
		ev_io_stop(r->loop, &r->wio);
		close(r->fd);
		r->fd = -1;
		r->st.disconnects++;
		if (timeout)
			r->st.timeouts++;
	}
	ev_timer_stop(r->loop, &r->deadline);
	r->state = ST_DOWN;
	r->out.len = 0;
	buf_release(&r->out, OUT_KEEP);
	redisReaderFree(r->reader);
	r->reader = redisReaderCreate();
	for (c = TAILQ_FIRST(&r->waitq); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->kind == K_SUB) {
			TAILQ_REMOVE(&r->waitq, c, entry);
			r->waitq_bytes -= c->len;
			rcmd_free(c);
		}
	}
	if (r->backoff == 0)
		r->backoff = BACKOFF_MIN;
	(void)randpool_get(&rnd, sizeof(rnd));
	ev_timer_set(&r->retry, r->backoff / 2 + r->backoff / 2 *
	    (rnd / 4294967295.0), 0);
	ev_timer_start(r->loop, &r->retry);
	r->backoff = r->backoff * 2 < BACKOFF_MAX ? r->backoff * 2 :
	    BACKOFF_MAX;

	if (was_up || !r->warned_down)
		logline(r, LOG_LEVEL_WARN, was_up ? "redis: connection lost, "
		    "reconnecting" : "redis: cannot connect, retrying", why);
	else
		logline(r, LOG_LEVEL_DEBUG, "redis: still down", why);
	r->warned_down = 1;
	if (r->reader == NULL) {
		/* Nothing can be parsed: the next attempt tries again. */
		logline(r, LOG_LEVEL_ERROR, "redis: out of memory", NULL);
	}
	drop_pending(r);
	if (was_up && !r->dead && r->ops.down != NULL)
		r->ops.down(r->arg, why);
}

/* Every awaited reply gets NULL, once; none after redis_free(). */
static void
drop_pending(struct redis *r)
{
	struct rcmds	 q;
	struct rcmd	*c;

	TAILQ_INIT(&q);
	TAILQ_CONCAT(&q, &r->pendq, entry);
	r->npend = 0;
	while ((c = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, c, entry);
		if (c->kind == K_USER && c->cb != NULL && !r->dead)
			c->cb(c->arg, NULL);
		rcmd_free(c);
	}
}

/* The deadline: the connect's, or the oldest awaited reply's. */
static void
arm_deadline(struct redis *r)
{
	struct rcmd	*c;
	ev_tstamp	 at;

	ev_timer_stop(r->loop, &r->deadline);
	if (r->state == ST_CONNECTING)
		at = ev_now(r->loop) + r->timeout;
	else if ((c = TAILQ_FIRST(&r->pendq)) != NULL)
		at = c->deadline;
	else
		return;
	at -= ev_now(r->loop);
	ev_timer_set(&r->deadline, at > 0 ? at : 0, 0);
	ev_timer_start(r->loop, &r->deadline);
}

/*
 * A deadline passed.  The loop may have been busy past it (a connect
 * storm) with the answer already in the socket: libev runs a due timer
 * before a readable or writable watcher of the same iteration, so what
 * is there is read first, and only an answer still missing is a timeout
 * (calling our own slowness Redis's dropped the subscriber's messages).
 */
static void
on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct redis	*r = w->data;
	struct rcmd	*c;
	struct pollfd	 p;
	int		 n = 1, chunks = 0;

	(void)loop;
	(void)revents;
	enter(r);
	if (r->state == ST_CONNECTING) {
		p.fd = r->fd;
		p.events = POLLOUT;
		if (poll(&p, 1, 0) == 1)	/* on_write's turn next */
			arm_deadline(r);
		else
			lose(r, "connect timed out", 1);
		leave(r);
		return;
	}
	while (!r->dead && (c = TAILQ_FIRST(&r->pendq)) != NULL &&
	    c->deadline <= ev_now(r->loop) && chunks++ < DEADLINE_CHUNKS &&
	    (n = read_chunk(r)) > 0)
		;
	if (n > 0 && chunks > DEADLINE_CHUNKS) {
		/* Still coming: Redis is alive; look again after the rest. */
		ev_timer_stop(r->loop, &r->deadline);
		ev_timer_set(&r->deadline, 0.01, 0);
		ev_timer_start(r->loop, &r->deadline);
	} else if (n >= 0 && !r->dead) {
		if ((c = TAILQ_FIRST(&r->pendq)) != NULL &&
		    c->deadline <= ev_now(r->loop))
			lose(r, "reply timed out", 1);
		else
			arm_deadline(r);
	}
	leave(r);
}

static void
on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct redis	*r = w->data;

	(void)loop;
	(void)revents;
	if (r->reader == NULL && (r->reader = redisReaderCreate()) == NULL) {
		enter(r);
		lose(r, "out of memory", 0);
		leave(r);
		return;
	}
	enter(r);
	start_connect(r);
	leave(r);
}

static void
on_write(struct ev_loop *loop, ev_io *w, int revents)
{
	struct redis	*r = w->data;
	ssize_t		 n;
	socklen_t	 sl = sizeof(int);
	int		 err = 0;

	(void)loop;
	(void)revents;
	enter(r);
	if (r->state == ST_CONNECTING) {
		if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1)
			err = errno;
		ev_io_stop(r->loop, &r->wio);
		if (err != 0)
			lose(r, strerror(err), 0);
		else {
			ev_timer_stop(r->loop, &r->deadline);
			connected(r);
		}
		leave(r);
		return;
	}
	while (r->out.len > 0) {
		n = write(r->fd, r->out.p, r->out.len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0) {
			lose(r, strerror(errno), 0);
			leave(r);
			return;
		}
		r->st.bytes_out += (uint64_t)n;
		buf_consume(&r->out, (size_t)n);
	}
	if (r->out.len == 0) {
		ev_io_stop(r->loop, &r->wio);
		buf_release(&r->out, OUT_KEEP);
	}
	leave(r);
}

/*
 * Read one chunk and dispatch its replies, inside enter()/leave().
 * 1: read some; 0: nothing there; -1: the connection was lost, or r
 * freed, meanwhile.
 */
static int
read_chunk(struct redis *r)
{
	char		 in[READ_CHUNK];
	void		*reply;
	ssize_t		 n;

	n = read(r->fd, in, sizeof(in));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		lose(r, n == 0 ? "closed by the server" : strerror(errno), 0);
		return -1;
	}
	r->st.bytes_in += (uint64_t)n;
	if (redisReaderFeed(r->reader, in, (size_t)n) != REDIS_OK) {
		lose(r, "protocol error", 0);
		return -1;
	}
	for (;;) {
		if (redisReaderGetReply(r->reader, &reply) != REDIS_OK) {
			lose(r, "protocol error", 0);
			return -1;
		}
		if (reply == NULL)
			return 1;
		if (dispatch(r, reply) != 0)
			return -1;
	}
}

static void
on_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct redis	*r = w->data;

	(void)loop;
	(void)revents;
	enter(r);
	(void)read_chunk(r);
	leave(r);
}

/*
 * Every timeout, a connection that is up and awaits nothing sends a PING
 * (answered "pong" even in subscribed mode), so that the reply deadline
 * covers a quiet subscriber too: a Redis that stopped answering, or a
 * link that died without a reset, is noticed within twice the timeout
 * instead of waiting for TCP keepalive or for the next command.
 */
static void
on_idle(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct redis	*r = w->data;
	const char	*argv[1] = { "PING" };
	size_t		 len[1] = { 4 };

	(void)loop;
	(void)revents;
	if (r->state == ST_UP && TAILQ_EMPTY(&r->pendq))
		hello(r, HELLO_PING, 1, argv, len);
}

/* One reply; frees it.  Non-zero: stop reading (closed or freed). */
static int
dispatch(struct redis *r, redisReply *reply)
{
	struct rcmd	*c = TAILQ_FIRST(&r->pendq);
	int		 rc = 0;

	r->st.replies++;
	if (reply->type == REDIS_REPLY_ERROR)
		r->st.errors++;
	if (c != NULL && c->kind == K_USER) {
		TAILQ_REMOVE(&r->pendq, c, entry);
		r->npend--;
		if (c->cb != NULL)
			c->cb(c->arg, reply);
		rcmd_free(c);
	} else if (r->subscribed && (rc = push(r, reply)) != 0) {
		rc = rc < 0 ? 0 : rc;
	} else if (c != NULL) {
		TAILQ_REMOVE(&r->pendq, c, entry);
		r->npend--;
		rc = answer_hello(r, c, reply);
		rcmd_free(c);
	} else {
		lose(r, "a reply to no command", 0);
		rc = 1;
	}
	freeReplyObject(reply);
	if (rc == 0 && !r->dead && r->state == ST_HELLO && r->npend == 0)
		become_up(r);
	if (r->dead || r->state == ST_DOWN)
		return 1;
	if (TAILQ_EMPTY(&r->pendq))
		ev_timer_stop(r->loop, &r->deadline);
	return rc;
}

/*
 * A push in subscribed mode: a message to the caller, or a confirmation
 * that answers the head of pendq.  0: not a push (the caller goes on);
 * -1: handled.
 */
static int
push(struct redis *r, const redisReply *p)
{
	struct rcmd		*c = TAILQ_FIRST(&r->pendq);
	const redisReply	*ch, *data;
	const char		*kind;
	int			 verb;

	if (p->type != REDIS_REPLY_ARRAY || p->elements < 3 ||
	    p->element[0]->type != REDIS_REPLY_STRING)
		return 0;
	kind = p->element[0]->str;
	if ((verb = find_verb(kind)) >= 0) {
		if (c != NULL && c->kind == K_SUB && c->what == verb) {
			TAILQ_REMOVE(&r->pendq, c, entry);
			r->npend--;
			rcmd_free(c);
		}
		return -1;
	}
	if (strcmp(kind, "pmessage") == 0 && p->elements == 4) {
		ch = p->element[2];
		data = p->element[3];
	} else if ((strcmp(kind, "message") == 0 ||
	    strcmp(kind, "smessage") == 0) && p->elements == 3) {
		ch = p->element[1];
		data = p->element[2];
	} else
		return 0;
	if (ch->type != REDIS_REPLY_STRING || data->type != REDIS_REPLY_STRING)
		return 0;
	r->st.replies--;
	r->st.messages++;
	if (r->ops.message != NULL)
		r->ops.message(r->arg, kind[0], ch->str, ch->len, data->str,
		    data->len);
	return -1;
}

/* A hello or subscription answered outside subscribed mode's pushes. */
static int
answer_hello(struct redis *r, struct rcmd *c, const redisReply *reply)
{
	char	what[64];

	if (reply->type != REDIS_REPLY_ERROR)
		return 0;
	snprintf(what, sizeof(what), "redis: %s refused",
	    c->kind == K_HELLO ? hellos[c->what] : verbs[c->what]);
	if (c->kind == K_SUB || (c->kind == K_HELLO && c->what == 2)) {
		/* Not fatal: the connection works without it. */
		logline(r, LOG_LEVEL_WARN, what, reply->str);
		return 0;
	}
	if (!r->warned_hello)
		logline(r, LOG_LEVEL_ERROR, what, reply->str);
	r->warned_hello = 1;
	r->warned_down = 1;
	lose(r, what + 7, 0);
	return 1;
}

/* verbs[] index of a verb, or of a confirmation ("ssubscribe"). */
static int
find_verb(const char *s)
{
	int	i;

	for (i = 0; i < 6; i++)
		if (strcasecmp(s, verbs[i]) == 0)
			return i;
	return -1;
}

static void
destroy(struct redis *r)
{
	struct rcmd	*c;
	struct sub	*s;

	ev_io_stop(r->loop, &r->rio);
	ev_io_stop(r->loop, &r->wio);
	ev_timer_stop(r->loop, &r->retry);
	ev_timer_stop(r->loop, &r->deadline);
	ev_timer_stop(r->loop, &r->idle);
	if (r->fd != -1)
		close(r->fd);
	while ((c = TAILQ_FIRST(&r->waitq)) != NULL) {
		TAILQ_REMOVE(&r->waitq, c, entry);
		rcmd_free(c);
	}
	while ((c = TAILQ_FIRST(&r->pendq)) != NULL) {
		TAILQ_REMOVE(&r->pendq, c, entry);
		rcmd_free(c);
	}
	while ((s = TAILQ_FIRST(&r->subs)) != NULL) {
		TAILQ_REMOVE(&r->subs, s, entry);
		free(s);
	}
	htab_free(&r->subidx);
	if (r->reader != NULL)
		redisReaderFree(r->reader);
	buf_free(&r->out);
	explicit_bzero(&r->url, sizeof(r->url));
	free(r->name);
	free(r);
}

/*
 * A connection to conf->url, opening now (no callback runs in here).
 * NULL if the URL is wrong (logged, without its password) or on no memory.
 */
struct redis *
redis_new(struct ev_loop *loop, const struct redis_conf *conf,
    const struct redis_ops *ops, void *arg)
{
	struct redis	*r;
	char		 err[256];
	uint64_t	 seed = 0;

	if (conf->url == NULL || (r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if (redisurl_parse(conf->url, &r->url, err, sizeof(err)) != 0) {
		logline(r, LOG_LEVEL_ERROR, "redis: redis_url refused", err);
		free(r);
		return NULL;
	}
	redisurl_print(&r->url, r->addr, sizeof(r->addr));
	if ((conf->name != NULL && (r->name = strdup(conf->name)) == NULL) ||
	    (r->reader = redisReaderCreate()) == NULL) {
		free(r->name);
		free(r);
		return NULL;
	}
	r->loop = loop;
	if (ops != NULL)
		r->ops = *ops;
	r->arg = arg;
	r->timeout = conf->timeout_ms > 0 ? conf->timeout_ms / 1000.0 : 5.0;
	r->queue_max = conf->queue_max > 0 ? (size_t)conf->queue_max : 0;
	r->fd = -1;
	TAILQ_INIT(&r->waitq);
	TAILQ_INIT(&r->pendq);
	TAILQ_INIT(&r->subs);
	(void)randpool_get(&seed, sizeof(seed));
	if (htab_init(&r->subidx, seed) != 0) {
		redisReaderFree(r->reader);
		free(r->name);
		free(r);
		return NULL;
	}
	ev_io_init(&r->rio, on_read, -1, EV_READ);
	ev_io_init(&r->wio, on_write, -1, EV_WRITE);
	ev_timer_init(&r->retry, on_retry, 0, 0);
	ev_timer_init(&r->deadline, on_deadline, 0, 0);
	ev_timer_init(&r->idle, on_idle, r->timeout, r->timeout);
	r->rio.data = r->wio.data = r->retry.data = r->deadline.data = r;
	r->idle.data = r;
	ev_timer_start(loop, &r->idle);
	/* The first attempt from the loop, so that no callback runs here. */
	ev_timer_set(&r->retry, 0, 0);
	ev_timer_start(loop, &r->retry);
	return r;
}

/* The key subidx is searched with. */
struct subkey {
	int		 verb;
	const char	*chan;
	size_t		 len;
};

static bool
sub_eq(const void *rec, const void *key)
{
	const struct sub	*s = rec;
	const struct subkey	*k = key;

	return s->verb == k->verb && s->len == k->len &&
	    memcmp(s->chan, k->chan, k->len) == 0;
}

/* The remembered subscription (verb, chan), its hash and slot; or NULL. */
static struct sub *
sub_find(const struct redis *r, int verb, const char *chan, size_t len,
    uint32_t *hash, size_t *slot)
{
	struct subkey	k = { verb, chan, len };

	*hash = htab_hash(&r->subidx, chan, len) ^ (uint32_t)verb;
	return htab_find(&r->subidx, *hash, sub_eq, &k, slot);
}

/* Safe inside any of r's callbacks (see the top of this file). */
void
redis_free(struct redis *r)
{
	if (r == NULL)
		return;
	if (r->depth > 0) {
		r->dead = 1;
		ev_io_stop(r->loop, &r->rio);
		ev_io_stop(r->loop, &r->wio);
		ev_timer_stop(r->loop, &r->retry);
		ev_timer_stop(r->loop, &r->deadline);
		ev_timer_stop(r->loop, &r->idle);
		return;
	}
	destroy(r);
}

/*
 * Send a command (argv, argvlen as redisCommandArgv); cb (may be NULL)
 * gets the reply, or NULL, later on the loop.  -1: refused (a subscribed
 * connection, a bad command, no memory, or past queue_max: counted lost).
 */
int
redis_command(struct redis *r, redis_reply_cb *cb, void *arg, int argc,
    const char **argv, const size_t *argvlen)
{
	struct rcmd	*c;

	if (r->dead || r->subscribed || argc < 1)
		return -1;
	if ((c = rcmd_new(argc, argv, argvlen)) == NULL)
		return -1;
	if (r->waitq_bytes + r->out.len + c->len > r->queue_max) {
		r->st.lost++;
		rcmd_free(c);
		return -1;
	}
	c->kind = K_USER;
	c->cb = cb;
	c->arg = arg;
	if (r->state == ST_UP) {
		if (push_out(r, c) != 0) {
			rcmd_free(c);
			return -1;
		}
		return 0;
	}
	TAILQ_INSERT_TAIL(&r->waitq, c, entry);
	r->waitq_bytes += c->len;
	return 0;
}

int
redis_subscribe(struct redis *r, const char *verb, const char *chan,
    size_t len)
{
	struct sub	*s;
	uint32_t	 hash;
	size_t		 slot;
	int		 v;

	if (r->dead || (v = find_verb(verb)) < 0 || v > 2)
		return -1;
	if (sub_find(r, v, chan, len, &hash, &slot) != NULL)
		return 0;
	if ((s = malloc(sizeof(*s) + len + 1)) == NULL)
		return -1;
	s->hash = hash;
	s->verb = v;
	s->len = len;
	memcpy(s->chan, chan, len);
	s->chan[len] = '\0';
	if (htab_insert(&r->subidx, s) != 0) {
		free(s);
		return -1;
	}
	TAILQ_INSERT_TAIL(&r->subs, s, entry);
	r->subscribed = 1;
	if ((r->state == ST_UP || r->state == ST_HELLO) &&
	    send_sub(r, v, chan, len, r->state == ST_UP) != 0) {
		(void)sub_find(r, v, chan, len, &hash, &slot);
		htab_remove(&r->subidx, slot);
		TAILQ_REMOVE(&r->subs, s, entry);
		free(s);
		return -1;
	}
	return 0;
}

/* verb: the one given to redis_subscribe() (or its UN- twin). */
int
redis_unsubscribe(struct redis *r, const char *verb, const char *chan,
    size_t len)
{
	struct sub	*s;
	uint32_t	 hash;
	size_t		 slot;
	int		 v;

	if (r->dead || (v = find_verb(verb)) < 0)
		return -1;
	v %= 3;
	if ((s = sub_find(r, v, chan, len, &hash, &slot)) == NULL)
		return -1;
	htab_remove(&r->subidx, slot);
	TAILQ_REMOVE(&r->subs, s, entry);
	free(s);
	/* No memory: the server keeps it until the next reconnect. */
	if (r->state == ST_UP || r->state == ST_HELLO)
		(void)send_sub(r, v + 3, chan, len, r->state == ST_UP);
	return 0;
}

bool
redis_up(const struct redis *r)
{
	return r->state == ST_UP;
}

void
redis_stats(const struct redis *r, struct redis_stats *st)
{
	*st = r->st;
	st->queued = r->waitq_bytes + r->out.len;
	st->pending = r->npend;
	st->up = r->state == ST_UP;
}
