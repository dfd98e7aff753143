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
 * it is no room entry (memory per connection): a target that looks like
 * one of this worker's ids (sid_worker) is found by a walk of the
 * worker's sessions, which only the owning worker does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frame.h"
#include "gateway.h"
#include "log.h"
#include "redis.h"
#include "rooms.h"
#include "session.h"
#include "sid.h"
#include "sioredis.h"
#include "socketio.h"
#include "stats.h"
#include "transport.h"

#define CHAN_MAX	1024	/* a channel name: prefix, nsp, room */
#define REMOTE_REASON	"disconnected by another server"

struct adapter {
	int		 format;	/* SIOR_CLASSIC or SIOR_SHARDED */
	uint32_t	 gen;		/* pick(): this pass's mark */
	uint64_t	 published;
	uint64_t	 received;
	uint64_t	 ignored;
	uint64_t	 malformed;
	uint64_t	 requests;
	uint64_t	 unsupported;
	uint64_t	 subscriptions;	/* gauge */
};

/* Called once per picked socket. */
typedef void	 pick_cb(struct gateway *, struct gw_socket *, void *);

struct pick {
	struct gateway		*g;
	const struct sior_str	*xsid[SIOR_ROOMS_MAX];	/* ids in except */
	unsigned		 nxsid;
	pick_cb			*cb;
	void			*arg;
};

/* Sessions collected before a request changes them. */
struct targets {
	struct session	**v;
	size_t		  n, cap;
	bool		  nomem;
};

static void	 on_message(struct gateway *, char, const char *, size_t,
		    const void *, size_t);
static void	 respond(struct gateway *, const struct sior_msg *, json_t *);

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
	free(g->adapter);
	g->adapter = NULL;
}

/*
 * A frame of ours ("42[...]", encoded once by emit.c) to the other
 * servers' sockets in room (NULL: all), but the socket except.
 */
static void
publish_frame(struct gateway *g, const struct sior_str *room,
    const struct frame *f, const struct session *except)
{
	const char		*p = (const char *)FRAME_DATA(f);
	struct sior_bcast	 b;
	struct sior_str		 x;
	char			 ch[CHAN_MAX];
	uint8_t			*out;
	size_t			 olen;
	int			 n;

	if (g->adapter == NULL || f->binary || f->len < 3 || p[0] != '4' ||
	    p[1] != '2' || p[2] != '[')
		return;		/* not an event of "/": nothing we send */
	memset(&b, 0, sizeof(b));
	b.uid = g->redis_uid;
	b.nsp = "/";
	b.args = p + 2;
	b.argslen = f->len - 2;
	b.rooms = room;
	b.nrooms = room != NULL;
	if (except != NULL) {
		x.p = except->sio_sid;
		x.len = strlen(except->sio_sid);
		b.except = &x;
		b.nexcept = 1;
	}
	if (sior_encode_bcast(g->adapter->format, &b, &out, &olen) != 0) {
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
    const struct frame *f, const struct session *except)
{
	struct sior_str	r = { room, rlen };

	publish_frame(g, &r, f, except);
}

/* A frame to every socket of the other servers but one (presence). */
void
adapter_publish_all(struct gateway *g, const struct frame *f,
    const struct session *except)
{
	publish_frame(g, NULL, f, except);
}

/* Is this the Socket.IO id of one of this worker's sockets, maybe? */
static bool
ours_sidlike(const struct gateway *g, const char *p, size_t len)
{
	return len == SID_LEN && sid_worker(p, len) == g->t->wid;
}

/* This worker's socket with that Socket.IO id, or NULL (a walk). */
static struct gw_socket *
by_sio_sid(struct gateway *g, const char *p, size_t len)
{
	struct session	*s;

	if (!ours_sidlike(g, p, len))
		return NULL;
	for (s = g->t->all; s != NULL; s = s->next)
		if (s->app_data != NULL && (s->nsp_mask & 1) &&
		    memcmp(s->sio_sid, p, SID_LEN) == 0)
			return s->app_data;
	return NULL;
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
static void
pick(struct gateway *g, const struct sior_str *rooms, unsigned nrooms,
    const struct sior_str *except, unsigned nexcept, pick_cb *cb, void *arg)
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
		if ((gs = by_sio_sid(g, rooms[i].p, rooms[i].len)) != NULL)
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
			respond(g, m, json_pack("{s:i}", "clientCount", 0));
		return;
	}
	b.vol = (m->flags & SIOR_F_VOLATILE) != 0;
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
	pick(g, m->rooms, m->nrooms, m->except, m->nexcept, send_one, &b);
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

static void
collect_one(struct gateway *g, struct gw_socket *gs, void *arg)
{
	struct targets	*t = arg;
	struct session	**v;
	size_t		  cap;

	(void)g;
	if (t->n == t->cap) {
		cap = t->cap == 0 ? 16 : t->cap * 2;
		if ((v = reallocarray(t->v, cap, sizeof(*v))) == NULL) {
			t->nomem = true;
			return;
		}
		t->v = v;
		t->cap = cap;
	}
	session_pin(gs->s);
	t->v[t->n++] = gs->s;
}

/*
 * The sockets a request is for, pinned: one (sid), or those its rooms and
 * except pick.  release() unpins them.
 */
static void
collect(struct gateway *g, const struct sior_msg *m, struct targets *t)
{
	struct gw_socket	*gs;

	memset(t, 0, sizeof(*t));
	if (m->sid.len > 0) {
		if ((gs = by_sio_sid(g, m->sid.p, m->sid.len)) != NULL)
			collect_one(g, gs, t);
	} else
		pick(g, m->rooms, m->nrooms, m->except, m->nexcept,
		    collect_one, t);
	if (t->nomem)
		log_warnx("redis: a request reached only part of its sockets: "
		    "out of memory");
}

static void
release(struct targets *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		session_unpin(t->v[i]);
	free(t->v);
}

/* The answer to a request, on the channel the requester hears. */
static void
respond(struct gateway *g, const struct sior_msg *m, json_t *body)
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

static void
id_of(struct gateway *g, struct gw_socket *gs, void *arg)
{
	(void)g;
	json_array_append_new(arg, json_string(gs->s->sio_sid));
}

static void
room_name(void *arg, const char *name, size_t len)
{
	json_array_append_new(arg, json_stringn(name, len));
}

/* ALL_ROOMS: our rooms, and each socket's own, as socket.io has them. */
static json_t *
all_rooms(struct gateway *g)
{
	json_t		*v = json_array();
	struct session	*s;

	rooms_each(g->rooms, room_name, v);
	for (s = g->t->all; s != NULL; s = s->next)
		if (s->app_data != NULL && (s->nsp_mask & 1))
			json_array_append_new(v, json_string(s->sio_sid));
	return json_pack("{s:o}", "rooms", v);
}

/*
 * The handshake fetchSockets() shows, with what the gateway keeps: no
 * headers, and of the query only what the protocol puts there (the
 * token, in the query or the auth, is never shown).
 */
static json_t *
handshake(struct gateway *g, struct gw_socket *gs)
{
	struct session	*s = gs->s;
	const char	*kind = s->kind == SESSION_WEBSOCKET ? "websocket" :
			    "polling";
	char		 when[96], addr[64], url[64];
	time_t		 t = (time_t)(gs->issued / 1000);
	struct tm	 tm;

	gmtime_r(&t, &tm);
	/* JavaScript's Date.prototype.toString(), in UTC. */
	strftime(when, sizeof(when),
	    "%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)", &tm);
	session_address(s, addr, sizeof(addr));
	snprintf(url, sizeof(url), "/socket.io/?EIO=4&transport=%s", kind);
	return json_pack("{s:{},s:s,s:s,s:b,s:b,s:I,s:s,s:{s:s,s:s},s:{}}",
	    "headers", "time", when, "address", addr, "xdomain", 0,
	    "secure", g->t->conf->tls_cert != NULL &&
	    g->t->conf->tls_cert[0] != '\0', "issued", (json_int_t)gs->issued,
	    "url", url, "query", "EIO", "4", "transport", kind, "auth");
}

static void
fetch_one(struct gateway *g, struct gw_socket *gs, void *arg)
{
	json_t	*rooms = json_array();

	json_array_append_new(rooms, json_string(gs->s->sio_sid));
	rooms_of(g->rooms, gs, room_name, rooms);
	json_array_append_new(arg, json_pack("{s:s,s:o,s:o,s:{s:s%}}",
	    "id", gs->s->sio_sid, "handshake", handshake(g, gs),
	    "rooms", rooms, "data", "user_id", gs->user, gs->ulen));
}

/* JOIN and LEAVE: the limits of a client's join_room hold. */
static void
join_leave(struct gateway *g, const struct sior_msg *m)
{
	struct targets		 t;
	struct gw_socket	*gs;
	const struct sior_str	*r = m->targets;
	unsigned		 nr = m->ntargets, k;
	size_t			 i;

	if (m->sid.len > 0) {		/* the one-socket form: {sid, room} */
		r = m->rooms;
		nr = m->nrooms > 0;
	}

	collect(g, m, &t);
	for (i = 0; i < t.n; i++) {
		if ((gs = t.v[i]->app_data) == NULL)
			continue;
		for (k = 0; k < nr; k++) {
			if (m->op == SIOR_OP_LEAVE)
				rooms_leave(g->rooms, r[k].p, r[k].len, gs);
			else if (rooms_join(g->rooms, r[k].p, r[k].len, gs) ==
			    ROOMS_JOIN_FULL)
				g->rooms_refused++;
		}
	}
	if (m->sid.len > 0 && t.n > 0 && m->request_id.len > 0)
		respond(g, m, json_object());
	release(&t);
}

/* DISCONNECT: the normal way out (presence, rooms, membership). */
static void
disconnect(struct gateway *g, const struct sior_msg *m)
{
	struct targets	t;
	size_t		i;

	collect(g, m, &t);
	for (i = 0; i < t.n; i++) {
		if (t.v[i]->state == SESSION_CLOSED)
			continue;
		socketio_disconnect(t.v[i], 0);	/* frees its gw_socket */
		/* The DISCONNECT is queued: it leaves before the close. */
		if (m->close)
			session_close_soon(t.v[i], REMOTE_REASON);
	}
	if (m->sid.len > 0 && t.n > 0 && m->request_id.len > 0)
		respond(g, m, json_object());
	release(&t);
}

/* A request of another server. */
static void
request(struct gateway *g, const struct sior_msg *m)
{
	json_t	*v;

	g->adapter->requests++;
	switch (m->op) {
	case SIOR_OP_SOCKETS:
		v = json_array();
		pick(g, m->rooms, m->nrooms, NULL, 0, id_of, v);
		respond(g, m, json_pack("{s:o}", "sockets", v));
		break;
	case SIOR_OP_ALL_ROOMS:
		respond(g, m, all_rooms(g));
		break;
	case SIOR_OP_JOIN:
	case SIOR_OP_LEAVE:
		join_leave(g, m);
		break;
	case SIOR_OP_DISCONNECT:
		disconnect(g, m);
		break;
	case SIOR_OP_FETCH:
		v = json_array();
		pick(g, m->rooms, m->nrooms, m->except, m->nexcept, fetch_one,
		    v);
		respond(g, m, json_pack("{s:o}", "sockets", v));
		break;
	case SIOR_OP_SERVER_EMIT:
		/*
		 * The gateway has no server-side handlers.  Asked for an ack,
		 * each worker answers null: a Node server's
		 * serverSideEmitWithAck() counts every server and would
		 * otherwise wait for us until its timeout.
		 */
		if (m->request_id.len > 0)
			respond(g, m, json_pack("{s:n}", "data"));
		break;
	default:
		break;
	}
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
	if (m.op == SIOR_OP_IGNORE || redislink_ours(g, m.uid.p, m.uid.len) ||
	    m.nsp.len != 1 || m.nsp.p[0] != '/')
		g->adapter->ignored++;
	else if (m.op == SIOR_OP_BROADCAST)
		broadcast(g, &m);
	else {
		g->adapter->received++;
		request(g, &m);
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
