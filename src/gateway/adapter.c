/*
 * adapter: this worker as one server of socket.io's Redis adapter
 * (issue 14), so that gateways, Node.js socket.io servers with
 * @socket.io/redis-adapter 8.x and backends with @socket.io/redis-emitter
 * 5.x form one cluster.  The wire format is sioredis.c's; the
 * connections are redislink.c's (g->redis publishes, g->redis_sub hears).
 *
 * Out: every deliver_room() is published once, encoded once, to the
 * room's channel (PUBLISH, or SPUBLISH in sharded mode).
 * In: a broadcast from another server goes to this worker's sockets only
 * (every worker subscribes for itself: nothing goes on the bus), and a
 * request (fetchSockets, socketsJoin, ...) is answered by each worker for
 * its own sockets: each worker is a server Node counts (NUMSUB of the
 * request channel, SHARDNUMSUB of the main one) and waits for.  What our
 * own instance's workers publish is ignored: the bus brought it already.
 *
 * Subscriptions, made once (the client re-issues them after a reconnect):
 *   classic: PSUBSCRIBE <key>#/#* and SUBSCRIBE <key>-request#/#;
 *   sharded: SSUBSCRIBE <key>#/#, <key>#/#<our uid># (answers to us), and
 *   <key>#/#<room># for each room this worker has members in, made and
 *   dropped with the room (rooms_set_hooks: subscription mode "dynamic").
 *
 * A socket's Socket.IO id is a room in socket.io (io.to(socketId)); here
 * it is no room entry (memory per connection): a target that is one of
 * this worker's sockets' ids is found in sockindex.c's table (not from
 * the id's worker bits: a recovered socket keeps an id another worker
 * made, issue 15).
 *
 * The requests themselves are adapter_req.c's (adapter.h between them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "bus.h"
#include "frame.h"
#include "gateway.h"
#include "log.h"
#include "reclog.h"
#include "redis.h"
#include "rooms.h"
#include "session.h"
#include "sid.h"
#include "sioredis.h"
#include "stats.h"
#include "transport.h"

struct pick {
	struct gateway		*g;
	const struct sior_str	*xsid[SIOR_ROOMS_MAX];	/* ids in except */
	unsigned		 nxsid;
	pick_cb			*cb;
	void			*arg;
};

static void	 on_message(struct gateway *, char, const char *, size_t,
		    const void *, size_t);

/* "<key><mid><room>#" into buf: its length, or -1 when too long. */
static int
chan(const struct gateway *g, const char *mid, const char *room,
    size_t rlen, const char *end, char *buf)
{
	int	n;

	n = snprintf(buf, CHAN_MAX, "%s%s%.*s%s", g->conf->redis_key_prefix,
	    mid, (int)rlen, room, end);
	return n < 0 || n >= CHAN_MAX ? -1 : n;
}

/* PUBLISH or SPUBLISH: 0, or -1 (the client counted a queue past max). */
static int
publish(struct gateway *g, const char *ch, size_t clen, const void *data,
    size_t len)
{
	const char	*argv[3];
	size_t		 lens[3];

	argv[0] = g->adapter->format == SIOR_SHARDED ? "SPUBLISH" : "PUBLISH";
	lens[0] = strlen(argv[0]);
	argv[1] = ch;
	lens[1] = clen;
	argv[2] = data;
	lens[2] = len;
	return redis_command(g->redis, NULL, NULL, 3, argv, lens);
}

static void
subscribe(struct gateway *g, const char *verb, const char *ch, int n)
{
	if (n < 0) {
		log_warnx("redis: a channel name is too long to subscribe to");
		return;
	}
	if (redis_subscribe(g->redis_sub, verb, ch, (size_t)n) == 0)
		g->adapter->subscriptions++;
	else
		log_warnx("redis: cannot subscribe to %.*s", n, ch);
}

/* Sharded, dynamic: a room's channel while we have members in it. */
static void
room_made(void *arg, const char *room, size_t len)
{
	struct gateway	*g = arg;
	char		 ch[CHAN_MAX];

	subscribe(g, "SSUBSCRIBE", ch, chan(g, "#/#", room, len, "#", ch));
}

static void
room_gone(void *arg, const char *room, size_t len)
{
	struct gateway	*g = arg;
	char		 ch[CHAN_MAX];
	int		 n;

	if ((n = chan(g, "#/#", room, len, "#", ch)) < 0)
		return;
	if (redis_unsubscribe(g->redis_sub, "SSUBSCRIBE", ch, (size_t)n) == 0 &&
	    g->adapter->subscriptions > 0)
		g->adapter->subscriptions--;
}

/* With redis_url: the subscriptions, and the subscriber's messages. */
int
adapter_init(struct gateway *g)
{
	struct adapter	*a;
	char		 ch[CHAN_MAX];

	if (g->redis == NULL)
		return 0;
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		log_error("redis adapter: out of memory");
		return -1;
	}
	a->format = g->conf->redis_adapter == GW_REDIS_SHARDED ?
	    SIOR_SHARDED : SIOR_CLASSIC;
	if (g->logdel != NULL && (a->own_heard = calloc(BUS_WID_MAX + 1,
	    sizeof(*a->own_heard))) == NULL) {
		free(a);
		log_error("redis adapter: out of memory");
		return -1;
	}
	g->adapter = a;
	g->redis_message = on_message;
	if (a->format == SIOR_CLASSIC) {
		subscribe(g, "PSUBSCRIBE", ch, chan(g, "#/#*", "", 0, "", ch));
		subscribe(g, "SUBSCRIBE", ch,
		    chan(g, "-request#/#", "", 0, "", ch));
	} else {
		subscribe(g, "SSUBSCRIBE", ch, chan(g, "#/#", "", 0, "", ch));
		subscribe(g, "SSUBSCRIBE", ch, chan(g, "#/#", g->redis_uid,
		    strlen(g->redis_uid), "#", ch));
		rooms_set_hooks(g->rooms, room_made, room_gone, g);
	}
	return 0;
}

void
adapter_free(struct gateway *g)
{
	if (g->adapter == NULL)
		return;
	if (g->adapter->format == SIOR_SHARDED)
		rooms_set_hooks(g->rooms, NULL, NULL, NULL);
	g->redis_message = NULL;
	free(g->adapter->own_heard);
	free(g->adapter);
	g->adapter = NULL;
}

/*
 * A frame of ours ("42[...]", encoded once by emit.c) to the other
 * servers' sockets in room (NULL: all), but the socket except.
 */
static void
publish_frame(struct gateway *g, const struct sior_str *room,
    const struct frame *f, const struct session *except, bool logged)
{
	const char		*p;
	struct sior_bcast	 b;
	struct sior_str		 x;
	struct frame		*d = NULL;
	char			 ch[CHAN_MAX], off[RECLOG_OFF_LEN + 1];
	uint8_t			*out;
	size_t			 olen;
	int			 n;

	if (g->adapter == NULL)
		return;
	/*
	 * Our offset is ours: the other servers add theirs.  In the log, it
	 * goes as the broadcast's origin (sioredis.h).
	 */
	off[RECLOG_OFF_LEN] = '\0';
	if (logged)
		d = logdeliver_unpatch(f, off);
	if (d == NULL) {
		logged = false;
		d = logdeliver_strip((struct frame *)(uintptr_t)f);
	}
	f = d;
	p = (const char *)FRAME_DATA(f);
	if (f->binary || f->len < 3 || p[0] != '4' || p[1] != '2' ||
	    p[2] != '[') {
		frame_unref(d);
		return;		/* not an event of "/": nothing we send */
	}
	memset(&b, 0, sizeof(b));
	b.uid = g->redis_uid;
	b.nsp = "/";
	b.args = p + 2;
	b.argslen = f->len - 2;
	b.rooms = room;
	b.nrooms = room != NULL;
	b.origin = logged ? off : NULL;
	if (except != NULL) {
		x.p = except->sio_sid;
		x.len = strlen(except->sio_sid);
		b.except = &x;
		b.nexcept = 1;
	}
	n = sior_encode_bcast(g->adapter->format, &b, &out, &olen);
	frame_unref(d);
	if (n != 0) {
		log_warnx("redis: cannot encode a broadcast (out of memory)");
		return;
	}
	n = sior_channel_bcast(g->adapter->format, g->conf->redis_key_prefix,
	    "/", &b, ch, sizeof(ch));
	if (n > 0 && publish(g, ch, (size_t)n, out, olen) == 0)
		g->adapter->published++;
	free(out);
}

/* deliver_room()'s frame to the room on the other servers. */
void
adapter_publish(struct gateway *g, const char *room, size_t rlen,
    const struct frame *f, const struct session *except, bool logged)
{
	struct sior_str	r = { room, rlen };

	publish_frame(g, &r, f, except, logged);
}

/* A frame to every socket of the other servers but one (presence). */
void
adapter_publish_all(struct gateway *g, const struct frame *f,
    const struct session *except)
{
	publish_frame(g, NULL, f, except, false);
}

/* This worker's socket with that Socket.IO id, or NULL. */
struct gw_socket *
adapter_by_sio_sid(struct gateway *g, const char *p, size_t len)
{
	struct gw_socket	*gs = sockindex_find(g, p, len);

	if (gs == NULL || gs->s == NULL || gs->s->app_data != gs ||
	    !(gs->s->nsp_mask & 1))
		return NULL;
	return gs;
}

static void
visit(void *arg, void *sock)
{
	struct pick		*pk = arg;
	struct gw_socket	*gs = sock;
	struct session		*s = gs->s;
	unsigned		 i;

	if (gs->mark == pk->g->adapter->gen)
		return;			/* seen, or in an except room */
	gs->mark = pk->g->adapter->gen;
	if (s->state == SESSION_CLOSED || !(s->nsp_mask & 1) ||
	    s->app_data != gs)
		return;
	for (i = 0; i < pk->nxsid; i++)
		if (memcmp(s->sio_sid, pk->xsid[i]->p, SID_LEN) == 0)
			return;
	pk->cb(pk->g, gs, pk->arg);
}

static void
mark(void *arg, void *sock)
{
	struct gw_socket	*gs = sock;

	gs->mark = ((struct pick *)arg)->g->adapter->gen;
}

/* A new mark; all old ones forgotten when the counter wraps. */
static void
next_gen(struct gateway *g)
{
	struct session	*s;

	if (++g->adapter->gen != 0)
		return;
	for (s = g->t->all; s != NULL; s = s->next)
		if (s->app_data != NULL)
			((struct gw_socket *)s->app_data)->mark = 0;
	g->adapter->gen = 1;
}

/*
 * cb for each of this worker's sockets of "/" in any of rooms (none: all
 * of them) and in none of except (rooms or socket ids), each once.  cb
 * must not close sockets or change rooms (collect() first for that).
 */
void
adapter_pick(struct gateway *g, const struct sior_str *rooms,
    unsigned nrooms, const struct sior_str *except, unsigned nexcept,
    pick_cb *cb, void *arg)
{
	struct pick		 pk;
	struct session		*s;
	struct gw_socket	*gs;
	unsigned		 i;

	pk.g = g;
	pk.nxsid = 0;
	pk.cb = cb;
	pk.arg = arg;
	next_gen(g);
	for (i = 0; i < nexcept; i++) {
		if (except[i].len == SID_LEN)
			pk.xsid[pk.nxsid++] = &except[i];
		rooms_members(g->rooms, except[i].p, except[i].len, mark, &pk);
	}
	if (nrooms == 0) {
		for (s = g->t->all; s != NULL; s = s->next)
			if (s->app_data != NULL)
				visit(&pk, s->app_data);
		return;
	}
	for (i = 0; i < nrooms; i++) {
		rooms_members(g->rooms, rooms[i].p, rooms[i].len, visit, &pk);
		gs = adapter_by_sio_sid(g, rooms[i].p, rooms[i].len);
		if (gs != NULL)
			visit(&pk, gs);
	}
}

/* A broadcast's frames, made once. */
struct bsend {
	struct frame	*f;
	struct frame	*att[SIOR_ATT_MAX];
	unsigned	 natt;
	bool		 vol;
};

static void
send_one(struct gateway *g, struct gw_socket *gs, void *arg)
{
	struct bsend	*b = arg;
	unsigned	 i;

	/* volatile: a socket that has not taken what it had may miss it. */
	if (b->vol && gs->s->q.n != 0)
		return;
	session_send(gs->s, frame_ref(b->f));
	for (i = 0; i < b->natt; i++)
		session_send(gs->s, frame_ref(b->att[i]));
	g->messages++;
}

struct bcall {
	const struct sior_msg	*m;
	struct bsend		*b;
};

/* logdeliver_put()'s delivery of a broadcast: b's frame, patched. */
static void
send_logged(struct gateway *g, struct frame *f, void *arg)
{
	struct bcall	*c = arg;

	(void)f;
	adapter_pick(g, c->m->rooms, c->m->nrooms, c->m->except,
	    c->m->nexcept, send_one, c->b);
}

/*
 * With the recovery log (issue 15): the broadcast as our frame with the
 * offset placeholder, appended for this worker alone (every worker hears
 * it), delivered in the log's order.  0: done; -1: deliver it as it is
 * (volatile, with attachments, no log, or not an event of ours).
 */
static int
broadcast_logged(struct gateway *g, const struct sior_msg *m,
    struct bsend *b)
{
	static const char	 ph[] = ",\"xxxxxxxxxxxxxxxxxxxxxxxx\"]";
	struct bcall		 c = { m, b };
	struct frame		*f;
	const char		*room = LOGDEL_ALL, *xp = NULL;
	char			 x[SID_LEN + 1];
	size_t			 rlen = sizeof(LOGDEL_ALL) - 1;
	int			 rc;

	if (g->logdel == NULL || b->vol || m->natt != 0 || m->textlen < 4 ||
	    m->text[0] != '2' || m->text[1] != '[' ||
	    m->text[m->textlen - 1] != ']' || m->text[m->textlen - 2] == '[')
		return -1;
	if ((f = frame_new(m->textlen + sizeof(ph) - 1, false)) == NULL)
		return -1;
	FRAME_DATA(f)[0] = '4';
	memcpy(FRAME_DATA(f) + 1, m->text, m->textlen - 1);
	memcpy(FRAME_DATA(f) + m->textlen, ph, sizeof(ph) - 1);
	/* For a recovery's scan: the first room, the one socket left out. */
	if (m->nrooms > 0) {
		room = m->rooms[0].p;
		rlen = m->rooms[0].len;
	}
	if (m->nexcept == 1 && m->except[0].len == SID_LEN) {
		memcpy(x, m->except[0].p, SID_LEN);
		x[SID_LEN] = '\0';
		xp = x;
	}
	b->f = f;
	rc = logdeliver_put(g, RECLOG_TO_ROOM, false, room, rlen, xp, f, NULL,
	    send_logged, &c);
	b->f = NULL;
	frame_unref(f);
	return rc;
}

/* Another server's broadcast to this worker's sockets. */
static void
broadcast(struct gateway *g, const struct sior_msg *m)
{
	struct bsend	 b;
	unsigned	 i;

	memset(&b, 0, sizeof(b));
	if (m->with_ack || (m->flags & SIOR_F_LOCAL)) {
		/*
		 * Local should not have left its server.  Acks are not
		 * relayed: none of our clients is counted, so that the
		 * sender's broadcastWithAck() does not wait for them.
		 */
		g->adapter->unsupported++;
		if (m->with_ack)
			adapter_respond(g, m, json_pack("{s:i}",
			    "clientCount", 0));
		return;
	}
	b.vol = (m->flags & SIOR_F_VOLATILE) != 0;
	if (broadcast_logged(g, m, &b) == 0) {
		g->adapter->received++;
		return;
	}
	if ((b.f = frame_new(m->textlen + 1, false)) == NULL)
		goto nomem;
	FRAME_DATA(b.f)[0] = '4';
	memcpy(FRAME_DATA(b.f) + 1, m->text, m->textlen);
	for (; b.natt < m->natt; b.natt++) {
		if ((b.att[b.natt] = frame_new(m->att[b.natt].len, true)) ==
		    NULL)
			goto nomem;
		memcpy(FRAME_DATA(b.att[b.natt]), m->att[b.natt].p,
		    m->att[b.natt].len);
	}
	adapter_pick(g, m->rooms, m->nrooms, m->except, m->nexcept, send_one,
	    &b);
	g->adapter->received++;
	goto done;
nomem:
	log_warnx("redis: a broadcast lost: out of memory");
done:
	if (b.f != NULL)
		frame_unref(b.f);
	for (i = 0; i < b.natt; i++)
		frame_unref(b.att[i]);
}

/* The answer to a request, on the channel the requester hears. */
void
adapter_respond(struct gateway *g, const struct sior_msg *m,
    json_t *body)
{
	char	 ch[CHAN_MAX], *text;
	size_t	 len;
	int	 n;

	if (g->adapter->format == SIOR_CLASSIC)
		n = chan(g, "-response#/#", "", 0, "", ch);
	else
		n = chan(g, "#/#", m->uid.p, m->uid.len, "#", ch);
	text = sior_response(g->adapter->format, g->redis_uid, "/", m, body,
	    &len);
	/* text NULL: no memory, or nothing this format answers. */
	if (n > 0 && text != NULL)
		(void)publish(g, ch, (size_t)n, text, len);
	free(text);
	json_decref(body);
}

/*
 * A broadcast of this instance's worker, heard back: it went out to the
 * cluster at this point of Redis's one order (issue 15, recremote.c).
 * Each worker appends, then publishes, in its log's order, so all of its
 * frames up to this one's seq are out.
 */
static void
own_heard(struct gateway *g, const struct sior_msg *m)
{
	size_t		 n = strlen(g->redis_instance), i;
	uint64_t	 seq;
	long		 wid = 0;

	if (g->adapter->own_heard == NULL || m->uid.len <= n + 1 ||
	    m->uid.len > n + 5 || reclog_parse_off(g->conf->reclog,
	    m->origin.p, m->origin.len, &seq) != 0)
		return;
	for (i = n + 1; i < m->uid.len; i++) {
		if (m->uid.p[i] < '0' || m->uid.p[i] > '9')
			return;
		wid = wid * 10 + (m->uid.p[i] - '0');
	}
	if (wid <= BUS_WID_MAX && g->adapter->own_heard[wid] < seq + 1)
		g->adapter->own_heard[wid] = seq + 1;
}

/* 1 + the seq of worker wid's last broadcast heard back; 0: none. */
uint64_t
adapter_own_heard(const struct gateway *g, int wid)
{
	if (g->adapter == NULL || g->adapter->own_heard == NULL || wid < 0 ||
	    wid > BUS_WID_MAX)
		return 0;
	return g->adapter->own_heard[wid];
}

/* What the subscriber heard on the adapter's channels. */
static void
on_message(struct gateway *g, char kind, const char *ch, size_t clen,
    const void *data, size_t len)
{
	struct sior_msg	m;

	(void)kind;
	(void)ch;
	(void)clen;
	if (g->adapter == NULL)
		return;
	if (sior_decode(g->adapter->format, data, len, &m) != 0) {
		g->adapter->malformed++;
		return;
	}
	if (m.op == SIOR_OP_BROADCAST && m.origin.len > 0 &&
	    redislink_ours(g, m.uid.p, m.uid.len))
		own_heard(g, &m);
	if (m.op == SIOR_OP_IGNORE || redislink_ours(g, m.uid.p, m.uid.len) ||
	    m.nsp.len != 1 || m.nsp.p[0] != '/')
		g->adapter->ignored++;
	else if (m.op == SIOR_OP_BROADCAST)
		broadcast(g, &m);
	else {
		g->adapter->received++;
		adapter_request(g, &m);
	}
	sior_free(&m);
}

void
adapter_stats(const struct gateway *g, struct worker_stats *st)
{
	const struct adapter	*a = g->adapter;

	if (a == NULL)
		return;
	st->redis_published += a->published;
	st->redis_received += a->received;
	st->redis_ignored += a->ignored;
	st->redis_malformed += a->malformed;
	st->redis_requests += a->requests;
	st->redis_unsupported += a->unsupported;
	st->redis_subscriptions += a->subscriptions;
}
