/*
 * admin: the Socket.IO Admin UI's server side (issue 18), on the /admin
 * namespace, as @socket.io/admin-ui 0.5.x's instrument() answers it.
 *
 * An Admin UI socket logs in (admin_username and a bcrypt
 * admin_password_hash, or a gateway token whose admin_jwt_claim is
 * true), gets config, then all_sockets: every worker's sockets, asked
 * over the bus (GW_BUS_ADMIN 'A', answered 'L').  After that it hears, as
 * they happen on any worker, socket_connected, socket_disconnected,
 * room_joined and room_left, and each worker's server_stats (one per
 * worker, each a server of the UI, as the workers of a Node cluster).
 *
 * Cost: nothing is recorded while no Admin UI is open anywhere: a worker
 * with one says so every admin_stats_interval ('W').  Updates are
 * batched per worker ('E'): the first after a quiet admin_flush_interval
 * goes at the next loop iteration, later ones wait for the interval to
 * have passed since, at most admin_batch_max per batch; past it the
 * batch is dropped and every dashboard gets a fresh list instead, at
 * most every ADMIN_RESYNC s.  An
 * Admin UI socket with more than admin_queue_max bytes unread gets no
 * updates until it has read, then a fresh list.  The operations (join,
 * leave, _disconnect, emit) go to every worker ('O'), each applying them
 * to its own sockets (adminops.c).
 *
 * Across hosts (redis_url): the same records, but the lists' answers,
 * are published on "<key>-gw#admin" as "<instance>\0<kind><data>", and
 * every worker of the other gateways takes them as its own workers'.  A
 * list asks them too ('A'); their sockets come back ('M', to the asking
 * worker) after all_sockets, as socket_connected, which the UI adds to
 * its list.  Gateways only: Node.js servers' admin-ui does not hear it.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "adminjson.h"
#include "auth.h"
#include "be.h"
#include "buf.h"
#include "bus.h"
#include "gateway.h"
#include "grouplist.h"
#include "isotime.h"
#include "frame.h"
#include "log.h"
#include "redis.h"
#include "rooms.h"
#include "session.h"
#include "socketio.h"
#include "sio.h"
#include "stats.h"
#include "transport.h"

#define ADMIN_NSP	1	/* nsps[1] in gateway.c */
#define ADMIN_RESYNC	10.0	/* s between two fresh lists of a socket */
#define ADMIN_LIST_WAIT	2.0	/* s a list waits for the workers */
#define ADMIN_CHUNK	(256u * 1024)	/* bytes of one 'L' record */

/* One Admin UI socket of this worker. */
struct admin_sock {
	ev_timer		 wait;		/* first: its listing's guard */
	struct admin		*a;
	struct session		*s;
	struct admin_sock	*next;
	uint32_t		 req;		/* listing: its ask; 0: none */
	uint32_t		 rreq;		/* its last ask: other hosts' */
	int			 answers;	/* workers done answering */
	struct buf		 items;		/* listing: sockets, comma'd */
	struct buf		 held;		/* listing: updates meanwhile */
	int			 stale;		/* missed updates: list again */
	double			 listed;	/* loop time of its last list */
};

struct admin {
	struct gateway		*g;
	struct admin_sock	*socks;
	size_t			 nsocks;
	ev_timer		 stats;
	ev_timer		 flush;
	double			 watched_until;	/* another worker has one */
	double			 flushed;	/* loop time: the last batch */
	struct buf		 batch;		/* u32 length, packet; ... */
	long long		 nbatch;
	int			 overflow;	/* dropped: fresh lists */
	uint32_t		 seq;
	int			 npeers;	/* other live workers */
	double			 tokens, refilled;	/* logins */
	char			 server_id[300];
	char			 chan[300];	/* "<key>-gw#admin"; "": none */
	char			 hostname[256];
	double			 started;
	uint64_t		 logins_refused, ops, ops_refused;
	uint64_t		 updates_sent, updates_dropped, truncated;
	uint64_t		 lists;
	uint64_t		 gaps;		/* the bus's gaps, as last seen */
};

static void	on_stats(struct ev_loop *, ev_timer *, int);
static void	on_flush(struct ev_loop *, ev_timer *, int);
static void	on_wait(struct ev_loop *, ev_timer *, int);
static void	resync(struct admin *);
static void	list_start(struct admin *, struct admin_sock *);
static void	list_done(struct admin *, struct admin_sock *);
static void	redis_put(struct admin *, char, const void *, size_t,
		    const char *);
static void	redis_message(struct gateway *, const void *, size_t);

int
admin_init(struct gateway *g)
{
	struct admin	*a;
	const struct gateway_conf *c = g->conf;

	if (!c->admin)
		return 0;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -1;
	a->g = g;
	if (gethostname(a->hostname, sizeof(a->hostname) - 1) != 0)
		snprintf(a->hostname, sizeof(a->hostname), "localhost");
	snprintf(a->server_id, sizeof(a->server_id), "%s#%ld", a->hostname,
	    (long)getpid());
	a->started = ev_time();
	a->tokens = (double)c->admin_login_rate;
	a->refilled = ev_now(g->t->loop);
	ev_timer_init(&a->stats, on_stats, 0.,
	    (double)c->admin_stats_interval / 1000.0);
	a->stats.data = a;
	ev_timer_again(g->t->loop, &a->stats);
	ev_timer_init(&a->flush, on_flush, 0., 0.);
	a->flush.data = a;
	g->admin = a;
	if (g->redis_sub != NULL) {
		snprintf(a->chan, sizeof(a->chan), "%s-gw#admin",
		    g->conf->redis_key_prefix);
		g->redis_admin_message = redis_message;
		if (redis_subscribe(g->redis_sub, "SUBSCRIBE", a->chan,
		    strlen(a->chan)) != 0)
			log_warnx("admin: cannot subscribe to %s", a->chan);
	}
	return 0;
}

static void
sock_free(struct admin *a, struct admin_sock *as)
{
	ev_timer_stop(a->g->t->loop, &as->wait);
	buf_free(&as->items);
	buf_free(&as->held);
	free(as);
}

void
admin_free(struct gateway *g)
{
	struct admin		*a = g->admin;
	struct admin_sock	*as;

	if (a == NULL)
		return;
	while ((as = a->socks) != NULL) {
		a->socks = as->next;
		sock_free(a, as);
	}
	ev_timer_stop(g->t->loop, &a->stats);
	ev_timer_stop(g->t->loop, &a->flush);
	buf_free(&a->batch);
	free(a);
	g->admin = NULL;
	g->redis_admin_message = NULL;
}

/* Does anyone look?  Nothing is recorded for nobody. */
bool
admin_watched(const struct gateway *g)
{
	const struct admin	*a = g->admin;

	return a != NULL && (a->nsocks > 0 ||
	    ev_now(g->t->loop) < a->watched_until);
}

/* Another worker has a dashboard: record for it a while. */
static void
watch(struct admin *a)
{
	a->watched_until = ev_now(a->g->t->loop) + 3.0 *
	    (double)a->g->conf->admin_stats_interval / 1000.0;
}

static void
bus_put(struct admin *a, char kind, const void *p, size_t len)
{
	uint8_t	*rec;

	if (a->g->bus == NULL || len + 1 > BUS_RECORD_MAX ||
	    (rec = malloc(len + 1)) == NULL)
		return;
	rec[0] = (uint8_t)kind;
	if (len > 0)
		memcpy(rec + 1, p, len);
	(void)bus_send(a->g->bus, GW_BUS_ADMIN, rec, len + 1);
	free(rec);
}

/* A record to this worker's peers, and to the other hosts. */
static void
send_rec(struct admin *a, char kind, const void *p, size_t len)
{
	bus_put(a, kind, p, len);
	redis_put(a, kind, p, len, NULL);
}

/*
 * "<instance>\0<kind>[<to>\0]<data>" on "<key>-gw#admin": to is the
 * instance an 'M' answers.
 */
static void
redis_put(struct admin *a, char kind, const void *p, size_t len,
    const char *to)
{
	struct gateway	*g = a->g;
	struct buf	 b = { NULL, 0, 0 };
	const char	*argv[3];
	size_t		 lens[3];

	if (g->redis == NULL || a->chan[0] == '\0')
		return;
	if (buf_append(&b, g->redis_instance, strlen(g->redis_instance) + 1)
	    == 0 && buf_append(&b, &kind, 1) == 0 && (to == NULL ||
	    buf_append(&b, to, strlen(to) + 1) == 0) && (len == 0 ||
	    buf_append(&b, p, len) == 0)) {
		argv[0] = "PUBLISH";
		lens[0] = 7;
		argv[1] = a->chan;
		lens[1] = strlen(a->chan);
		argv[2] = (const char *)b.p;
		lens[2] = b.len;
		(void)redis_command(g->redis, NULL, NULL, 3, argv, lens);
	}
	buf_free(&b);
}

/*
 * A packet to one Admin UI socket.  An update (not stats) missed while
 * the socket is behind makes it stale: it gets a fresh list later.
 */
static void
to_sock(struct admin *a, struct admin_sock *as, struct frame *f,
    bool update)
{
	uint8_t	hdr[4];

	if (as->req != 0 && update) {	/* after its all_sockets */
		be_put32(hdr, f->len);
		if (as->held.len + f->len + 4 >
		    (size_t)a->g->conf->admin_queue_max ||
		    buf_append(&as->held, hdr, 4) != 0 ||
		    buf_append(&as->held, FRAME_DATA(f), f->len) != 0) {
			as->stale = 1;
			a->updates_dropped++;
		}
		return;
	}
	if (as->s->q.bytes > (size_t)a->g->conf->admin_queue_max) {
		if (update)
			as->stale = 1;
		a->updates_dropped++;
		return;
	}
	session_send(as->s, frame_ref(f));
	a->updates_sent++;
}

/*
 * Packets "u32 length, text" one after the other, to every socket of
 * this worker (or one, when only is not NULL): each made a frame once.
 */
static void
to_all(struct admin *a, const uint8_t *p, size_t len, bool update,
    struct admin_sock *only)
{
	struct admin_sock	*as;
	struct frame		*f;
	uint32_t		 n;

	while (len >= 4 && (a->socks != NULL || only != NULL)) {
		n = be_get32(p);
		if (n > len - 4 || (f = frame_text(p + 4, n)) == NULL)
			return;
		for (as = a->socks; as != NULL; as = as->next)
			if (only == NULL || as == only)
				to_sock(a, as, f, update);
		frame_unref(f);
		p += 4 + n;
		len -= 4 + n;
	}
}

/*
 * A batch holds something: it goes at once after a quiet interval, else
 * when admin_flush_interval has passed since the last.
 */
static void
flush_soon(struct admin *a)
{
	double	at, now = ev_now(a->g->t->loop);

	if (ev_is_active(&a->flush))
		return;
	at = a->flushed + (double)a->g->conf->admin_flush_interval / 1000.0;
	ev_timer_set(&a->flush, at > now ? at - now : 0., 0.);
	ev_timer_start(a->g->t->loop, &a->flush);
}

/*
 * An update of a local socket, batched until the next flush; past
 * admin_batch_max the batch is dropped: a fresh list instead.
 */
static void
record(struct admin *a, const char *name, json_t *args)
{
	char	*text;
	size_t	 len;
	uint8_t	 hdr[4];

	if (a->overflow || a->nbatch >= a->g->conf->admin_batch_max) {
		json_decref(args);
		a->overflow = 1;
		a->updates_dropped++;
		flush_soon(a);
		return;
	}
	if ((text = adminjson_packet(name, args, &len)) == NULL)
		return;
	be_put32(hdr, (uint32_t)len);
	if (a->batch.len + len + 4 > BUS_RECORD_MAX / 2 ||
	    buf_append(&a->batch, hdr, 4) != 0 ||
	    buf_append(&a->batch, text, len) != 0) {
		a->overflow = 1;
		a->updates_dropped++;
	} else
		a->nbatch++;
	free(text);
	flush_soon(a);
}

static void
room_name(void *arg, const char *name, size_t len)
{
	json_array_append_new(arg, json_stringn(name, len));
}

/* A local socket as the UI reads it; NULL: out of memory. */
static json_t *
serialize(struct gateway *g, struct gw_socket *gs)
{
	struct adminjson_sock	 k;
	char			 addr[64];
	json_t			*rooms = json_array();

	if (rooms != NULL)
		rooms_of(g->rooms, gs, room_name, rooms);
	session_address(gs->s, addr, sizeof(addr));
	k.id = gs->s->sio_sid;
	k.eio_sid = gs->s->sid;
	k.websocket = gs->s->kind == SESSION_WEBSOCKET;
	k.user = gs->user;
	k.ulen = gs->ulen;
	k.address = addr;
	k.issued = gs->issued;
	k.secure = g->t->conf->tls_cert != NULL &&
	    g->t->conf->tls_cert[0] != '\0';
	return adminjson_socket(&k, rooms);
}

static json_t *
now_iso(void)
{
	char	when[ISOTIME_SIZE];

	isotime_now(when);
	return json_string(when);
}

/* A socket of this worker connected to "/" (gateway.c). */
void
admin_socket_connected(struct gateway *g, struct gw_socket *gs)
{
	json_t	*o;

	if (!admin_watched(g) || (o = serialize(g, gs)) == NULL)
		return;
	record(g->admin, "socket_connected", json_pack("[o,o]", o,
	    now_iso()));
}

/* ... and left it, for reason. */
void
admin_socket_gone(struct gateway *g, struct gw_socket *gs,
    const char *reason)
{
	if (!admin_watched(g))
		return;
	record(g->admin, "socket_disconnected", json_pack("[s,s,s,o]", "/",
	    gs->s->sio_sid, reason, now_iso()));
}

/* ... moved from long-polling to WebSocket: socket_updated. */
void
admin_socket_upgraded(struct gateway *g, struct gw_socket *gs)
{
	if (!admin_watched(g))
		return;
	record(g->admin, "socket_updated", json_pack("[{s:s,s:s,s:s}]", "id",
	    gs->s->sio_sid, "nsp", "/", "transport", "websocket"));
}

/* ... joined (or left) a room. */
void
admin_room(struct gateway *g, struct gw_socket *gs, const char *room,
    size_t len, bool joined)
{
	if (!admin_watched(g))
		return;
	record(g->admin, joined ? "room_joined" : "room_left",
	    json_pack("[s,s%,s,o]", "/", room, len, gs->s->sio_sid,
	    now_iso()));
}

/* This worker's server_stats, as a packet; NULL: out of memory. */
static char *
stats_packet(struct admin *a, size_t *len)
{
	struct adminjson_stats	 st;
	struct session		*s;
	json_t			*o;

	memset(&st, 0, sizeof(st));
	st.server_id = a->server_id;
	st.hostname = a->hostname;
	st.pid = (long)getpid();
	st.uptime = ev_time() - a->started;
	for (s = a->g->t->all; s != NULL; s = s->next) {
		st.clients++;
		if (s->kind == SESSION_POLLING)
			st.polling++;
		if (s->app_data != NULL && (s->nsp_mask & 1))
			st.sockets++;
	}
	st.admins = a->nsocks;
	if ((o = adminjson_stats(&st)) == NULL)
		return NULL;
	return adminjson_packet("server_stats", json_pack("[o]", o), len);
}

/*
 * The bus drops records when a peer falls behind (NOTES.md), counting
 * them as gaps: any of them may have been another worker's batch or its
 * 'R', so every dashboard here is stale and gets a fresh list.
 */
static void
lost_records(struct admin *a)
{
	struct admin_sock	*as;
	struct bus_stats	 bs;

	if (a->g->bus == NULL)
		return;
	bus_stats(a->g->bus, &bs);
	if (bs.gaps == a->gaps)
		return;
	a->gaps = bs.gaps;
	for (as = a->socks; as != NULL; as = as->next)
		as->stale = 1;
}

/* Every admin_stats_interval: "I have a dashboard", and our stats. */
static void
on_stats(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct admin	*a = w->data;
	char		*p;
	size_t		 len;
	uint8_t		 hdr[4];
	struct buf	 b = { NULL, 0, 0 };

	(void)loop;
	(void)revents;
	lost_records(a);
	resync(a);
	if (a->nsocks > 0)
		send_rec(a, 'W', NULL, 0);
	if (!admin_watched(a->g) || (p = stats_packet(a, &len)) == NULL)
		return;
	be_put32(hdr, (uint32_t)len);
	if (buf_append(&b, hdr, 4) == 0 && buf_append(&b, p, len) == 0) {
		to_all(a, b.p, b.len, false, NULL);
		send_rec(a, 'S', b.p, b.len);
	}
	buf_free(&b);
	free(p);
}

/*
 * The batch to every dashboard; a batch dropped makes them all stale
 * (resync() gives them a fresh list).
 */
static void
on_flush(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct admin		*a = w->data;
	struct admin_sock	*as;

	(void)revents;
	a->flushed = ev_now(loop);
	if (a->nbatch > 0 && !a->overflow) {
		to_all(a, a->batch.p, a->batch.len, true, NULL);
		send_rec(a, 'E', a->batch.p, a->batch.len);
	}
	if (a->overflow) {
		send_rec(a, 'R', NULL, 0);
		for (as = a->socks; as != NULL; as = as->next)
			as->stale = 1;
	}
	a->batch.len = 0;
	a->nbatch = 0;
	a->overflow = 0;
	resync(a);
}

/*
 * Stale dashboards that have read get a fresh list, each at most every
 * ADMIN_RESYNC s.
 */
static void
resync(struct admin *a)
{
	struct admin_sock	*as;
	double			 now = ev_now(a->g->t->loop);

	for (as = a->socks; as != NULL; as = as->next)
		if (as->stale && as->req == 0 && now - as->listed >=
		    ADMIN_RESYNC && as->s->q.bytes <
		    (size_t)a->g->conf->admin_queue_max / 2)
			list_start(a, as);
}

/*
 * This worker's sockets, serialised, comma separated, into b: at most its
 * share of admin_list_max (the rest counted).  With chunk, b goes to it
 * each time it holds ADMIN_CHUNK bytes, and starts again.
 */
static void
list_local(struct admin *a, struct buf *b,
    void (*chunk)(void *, struct buf *, bool), void *arg)
{
	struct session	*s;
	json_t		*o;
	char		*text;
	long long	 n = 0, max;

	max = a->g->conf->admin_list_max / (a->npeers + 1);
	if (max < 1)
		max = 1;
	for (s = a->g->t->all; s != NULL; s = s->next) {
		if (s->app_data == NULL || !(s->nsp_mask & 1) ||
		    s->state == SESSION_CLOSED)
			continue;
		if (n >= max) {
			a->truncated++;
			continue;
		}
		if ((o = serialize(a->g, s->app_data)) == NULL)
			continue;
		text = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		if (text == NULL)
			continue;
		if ((b->len == 0 || buf_append(b, ",", 1) == 0) &&
		    buf_append(b, text, strlen(text)) == 0)
			n++;
		free(text);
		if (chunk != NULL && b->len >= ADMIN_CHUNK) {
			chunk(arg, b, false);
			b->len = 0;
		}
	}
}

/* Items from another worker, or ours, into a listing. */
static void
list_add(struct admin_sock *as, const void *p, size_t len)
{
	if (len == 0)
		return;
	if (as->items.len > 0)
		(void)buf_append(&as->items, ",", 1);
	(void)buf_append(&as->items, p, len);
}

/* A fresh all_sockets for as: ours now, the other workers' asked. */
static void
list_start(struct admin *a, struct admin_sock *as)
{
	struct buf	b = { NULL, 0, 0 };
	uint8_t		ask[8];

	as->req = ++a->seq == 0 ? ++a->seq : a->seq;
	as->rreq = as->req;
	as->answers = 0;
	as->items.len = 0;
	as->held.len = 0;
	as->stale = 0;
	a->lists++;
	list_local(a, &b, NULL, NULL);
	list_add(as, b.p, b.len);
	buf_free(&b);
	be_put32(ask, (uint32_t)a->g->t->wid);
	be_put32(ask + 4, as->req);
	redis_put(a, 'A', ask, sizeof(ask), NULL);
	if (a->npeers == 0 || a->g->bus == NULL) {
		list_done(a, as);
		return;
	}
	bus_put(a, 'A', ask, sizeof(ask));
	ev_timer_init(&as->wait, on_wait, ADMIN_LIST_WAIT, 0.);
	ev_timer_start(a->g->t->loop, &as->wait);
}

/* all_sockets, then what happened meanwhile. */
static void
list_done(struct admin *a, struct admin_sock *as)
{
	static const char	 head[] = "42/admin,[\"all_sockets\",[";
	struct buf		 b = { NULL, 0, 0 };
	struct buf		 held = as->held;

	ev_timer_stop(a->g->t->loop, &as->wait);
	as->req = 0;
	as->listed = ev_now(a->g->t->loop);
	if (buf_append(&b, head, sizeof(head) - 1) == 0 &&
	    (as->items.len == 0 || buf_append(&b, as->items.p,
	    as->items.len) == 0) && buf_append(&b, "]]", 2) == 0)
		(void)session_send_text(as->s, (const char *)b.p, b.len);
	buf_free(&b);
	buf_free(&as->items);
	memset(&as->held, 0, sizeof(as->held));
	to_all(a, held.p, held.len, true, as);
	buf_free(&held);
}

/* A worker did not answer in time: the list goes with what it has. */
static void
on_wait(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct admin_sock	*as = (struct admin_sock *)w;

	(void)loop;
	(void)revents;
	log_warnx("admin: a worker did not answer the list in time");
	list_done(as->a, as);
}

/* An answer to another worker's list: [wid, req, last, sockets]. */
struct answer {
	struct admin	*a;
	uint8_t		 head[8];
	const char	*to;		/* another host's instance: 'M' */
};

static void
answer_chunk(void *arg, struct buf *b, bool last)
{
	struct answer	*an = arg;
	uint8_t		*rec;

	if ((rec = malloc(9 + b->len)) == NULL)
		return;
	memcpy(rec, an->head, 8);
	rec[8] = last;
	if (b->len > 0)
		memcpy(rec + 9, b->p, b->len);
	if (an->to != NULL)
		redis_put(an->a, 'M', rec, 9 + b->len, an->to);
	else
		bus_put(an->a, 'L', rec, 9 + b->len);
	free(rec);
}

/*
 * Another worker asks for our sockets: 'L' records, the last marked; or
 * a worker of another host (to: its instance): 'M' records.
 */
static void
answer_list(struct admin *a, const uint8_t *p, size_t len, const char *to)
{
	struct answer	an;
	struct buf	b = { NULL, 0, 0 };

	if (len != 8)
		return;
	watch(a);
	an.a = a;
	an.to = to;
	memcpy(an.head, p, 8);
	list_local(a, &b, answer_chunk, &an);
	answer_chunk(&an, &b, true);
	buf_free(&b);
}

/* Part of the answer to one of our lists. */
static void
take_list(struct admin *a, const uint8_t *p, size_t len)
{
	struct admin_sock	*as;
	uint32_t		 req;

	if (len < 9 || (int)be_get32(p) != a->g->t->wid)
		return;
	req = be_get32(p + 4);
	for (as = a->socks; as != NULL; as = as->next)
		if (as->req == req)
			break;
	if (as == NULL)
		return;			/* done already, or gone */
	if (as->items.len + len > (size_t)a->g->conf->admin_queue_max)
		a->truncated++;
	else
		list_add(as, p + 9, len - 9);
	if (p[8] && ++as->answers >= a->npeers)
		list_done(a, as);
}

/* A GW_BUS_ADMIN record of another worker (gateway.c). */
void
admin_recv(struct gateway *g, const void *data, size_t len)
{
	struct admin		*a = g->admin;
	const uint8_t		*p = data;
	struct admin_sock	*as;

	if (a == NULL || len < 1)
		return;
	switch (p[0]) {
	case 'W':
		watch(a);
		break;
	case 'S':
		to_all(a, p + 1, len - 1, false, NULL);
		break;
	case 'E':
		to_all(a, p + 1, len - 1, true, NULL);
		break;
	case 'R':
		for (as = a->socks; as != NULL; as = as->next)
			as->stale = 1;
		break;
	case 'A':
		answer_list(a, p + 1, len - 1, NULL);
		break;
	case 'L':
		take_list(a, p + 1, len - 1);
		break;
	case 'O':
		adminops_apply(g, (const char *)p + 1, len - 1);
		break;
	}
}

/*
 * Sockets of another host for one of our lists ([wid, req, last,
 * sockets]): after its all_sockets, each as socket_connected.
 */
static void
take_remote(struct admin *a, const uint8_t *p, size_t len)
{
	struct admin_sock	*as;
	struct buf		 b = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	json_t			*v, *o;
	char			*text;
	size_t			 i, n;
	uint8_t			 hdr[4];
	uint32_t		 req;

	if (len < 9 || (int)be_get32(p) != a->g->t->wid)
		return;
	req = be_get32(p + 4);
	for (as = a->socks; as != NULL && as->rreq != req; as = as->next)
		;
	if (as == NULL || len == 9 || buf_append(&b, "[", 1) != 0 ||
	    buf_append(&b, p + 9, len - 9) != 0 ||
	    buf_append(&b, "]", 1) != 0 ||
	    (v = json_loadb((const char *)b.p, b.len, 0, NULL)) == NULL) {
		buf_free(&b);
		return;
	}
	buf_free(&b);
	json_array_foreach(v, i, o) {
		if ((text = adminjson_packet("socket_connected",
		    json_pack("[O,o]", o, now_iso()), &n)) == NULL)
			continue;
		be_put32(hdr, (uint32_t)n);
		if (buf_append(&out, hdr, 4) != 0 ||
		    buf_append(&out, text, n) != 0)
			a->truncated++;
		free(text);
	}
	json_decref(v);
	to_all(a, out.p, out.len, true, as);
	buf_free(&out);
}

/*
 * A message of another gateway on "<key>-gw#admin" (redislink.c):
 * "<instance>\0<kind><data>"; ours (our workers had it by the bus) is
 * dropped.
 */
static void
redis_message(struct gateway *g, const void *data, size_t len)
{
	struct admin	*a = g->admin;
	const char	*p = data, *z, *to;
	size_t		 n;

	if (a == NULL || (z = memchr(p, '\0', len)) == NULL ||
	    (size_t)(z - p) + 2 > len)
		return;
	n = (size_t)(z - p);
	if (n == strlen(g->redis_instance) &&
	    memcmp(p, g->redis_instance, n) == 0)
		return;
	switch (z[1]) {
	case 'A':
		answer_list(a, (const uint8_t *)z + 2, len - n - 2, p);
		break;
	case 'M':
		to = z + 2;
		if ((z = memchr(to, '\0', len - n - 2)) == NULL ||
		    strcmp(to, g->redis_instance) != 0)
			return;
		take_remote(a, (const uint8_t *)z + 1,
		    len - (size_t)((const char *)z + 1 - p));
		break;
	case 'L':
		break;
	default:
		admin_recv(g, z + 1, len - n - 1);
		break;
	}
}

/* The master's list of live workers: how many answer a list. */
void
admin_peers(struct gateway *g, const int32_t *wids, size_t n)
{
	size_t	i;
	int	others = 0;

	if (g->admin == NULL)
		return;
	for (i = 0; i < n; i++)
		if (wids[i] != g->t->wid)
			others++;
	g->admin->npeers = others;
}

/* A password check may run now: admin_login_rate per second. */
static bool
login_allowed(struct admin *a)
{
	double	now = ev_now(a->g->t->loop), rate;

	rate = (double)a->g->conf->admin_login_rate;
	a->tokens += (now - a->refilled) * rate;
	if (a->tokens > rate)
		a->tokens = rate;
	a->refilled = now;
	if (a->tokens < 1.0)
		return false;
	a->tokens -= 1.0;
	return true;
}

/*
 * A CONNECT to /admin: the origin, the room left, then a gateway token
 * with admin_jwt_claim true, or the basic authentication.  0, or -1 and
 * *why (the reference's "invalid credentials" for a refusal).
 */
int
admin_connect(struct gateway *g, struct session *s, json_t *auth,
    const char **why)
{
	struct admin		*a = g->admin;
	const struct gateway_conf *c = g->conf;
	struct auth_result	 r;
	const char		*token, *e;

	if (a == NULL) {
		*why = "Invalid namespace";
		return -1;
	}
	*why = "invalid credentials";
	if (!s->admin_origin || a->nsocks >= (size_t)c->admin_sockets_max) {
		a->logins_refused++;
		log_info("admin: a login refused (%s)", !s->admin_origin ?
		    "origin not in admin_origins" : "admin_sockets_max");
		return -1;
	}
	token = json_string_value(json_object_get(auth, "token"));
	if (token != NULL && c->admin_jwt_claim[0] != '\0' &&
	    g->auth != NULL && auth_verify(g->auth, token, time(NULL), &r,
	    &e) == 0) {
		grouplist_free(r.groups);
		if (r.flag)
			return 0;
	}
	/* A sessionId of an earlier password login (a reload of the UI). */
	if (c->admin_username[0] != '\0' && adminjson_session_check(
	    c->admin_password_hash, json_string_value(json_object_get(auth,
	    "sessionId")), (int64_t)time(NULL)) == 0)
		return 0;
	if (c->admin_username[0] != '\0' &&
	    json_object_get(auth, "password") != NULL) {
		if (!login_allowed(a)) {
			a->logins_refused++;
			*why = "too many login attempts";
			return -1;
		}
		if (adminjson_login(c->admin_username,
		    c->admin_password_hash, auth) == 0)
			return 0;
	}
	a->logins_refused++;
	log_info("admin: a login refused (invalid credentials)");
	return -1;
}

/* Logged in: a session after a password, config, our stats, the list. */
void
admin_connected(struct gateway *g, struct session *s, json_t *auth)
{
	struct admin		*a = g->admin;
	struct admin_sock	*as;
	char			*p, id[ADMINJSON_SESSION_LEN + 1];
	size_t			 len;

	if (a == NULL || (as = calloc(1, sizeof(*as))) == NULL) {
		socketio_disconnect(s, ADMIN_NSP);
		return;
	}
	as->a = a;
	as->s = s;
	as->next = a->socks;
	a->socks = as;
	a->nsocks++;
	log_info("admin: an Admin UI socket logged in");
	if (json_object_get(auth, "password") != NULL &&
	    adminjson_session_make(g->conf->admin_password_hash,
	    (int64_t)time(NULL), id, sizeof(id)) == 0 &&
	    (p = adminjson_packet("session", json_pack("[s]", id), &len)) !=
	    NULL) {
		(void)session_send_text(s, p, len);
		free(p);
	}
	if ((p = adminjson_packet("config", json_pack("[o]",
	    adminjson_config(g->conf->admin_read_only)), &len)) != NULL) {
		(void)session_send_text(s, p, len);
		free(p);
	}
	if ((p = stats_packet(a, &len)) != NULL) {
		(void)session_send_text(s, p, len);
		free(p);
	}
	send_rec(a, 'W', NULL, 0);	/* the others record from now */
	list_start(a, as);
}

/* An Admin UI socket left. */
void
admin_disconnect(struct gateway *g, struct session *s)
{
	struct admin		*a = g->admin;
	struct admin_sock	**pp, *as;

	if (a == NULL)
		return;
	for (pp = &a->socks; (as = *pp) != NULL; pp = &as->next)
		if (as->s == s) {
			*pp = as->next;
			a->nsocks--;
			sock_free(a, as);
			return;
		}
}

/*
 * An event of an Admin UI socket: an operation, to every worker.  In
 * read-only mode none is answered (config offered none), only counted.
 */
void
admin_packet(struct gateway *g, struct session *s, struct sio_packet *p)
{
	struct admin	*a = g->admin;
	char		*text;

	(void)s;
	if (a == NULL || p->data == NULL || !json_is_array(p->data))
		return;
	if (g->conf->admin_read_only) {
		a->ops_refused++;
		return;
	}
	if (adminops_valid(p->data) != 0) {
		a->ops_refused++;
		return;
	}
	a->ops++;
	if ((text = json_dumps(p->data, JSON_COMPACT)) == NULL)
		return;
	log_info("admin: operation %s",
	    json_string_value(json_array_get(p->data, 0)));
	adminops_apply(g, text, strlen(text));
	send_rec(a, 'O', text, strlen(text));
	free(text);
}

void
admin_stats(const struct gateway *g, struct worker_stats *st)
{
	const struct admin	*a = g->admin;

	if (a == NULL)
		return;
	st->admin_sockets = a->nsocks;
	st->admin_logins_refused = a->logins_refused;
	st->admin_ops = a->ops;
	st->admin_ops_refused = a->ops_refused;
	st->admin_updates_sent = a->updates_sent;
	st->admin_updates_dropped = a->updates_dropped;
	st->admin_list_truncated = a->truncated;
	st->admin_lists = a->lists;
}
