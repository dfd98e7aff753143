/*
 * adapter_req: the requests of the other servers of socket.io's Redis
 * adapter (issue 14), each answered by each worker for its own sockets:
 * SOCKETS, ALL_ROOMS, JOIN, LEAVE, DISCONNECT, FETCH and SERVER_EMIT
 * (README.md, "Several hosts (Redis)", has the answers).  adapter.c takes
 * the messages and hands the requests here; both share adapter.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapter.h"
#include "adminjson.h"
#include "gateway.h"
#include "log.h"
#include "rooms.h"
#include "session.h"
#include "sioredis.h"
#include "socketio.h"
#include "transport.h"

#define REMOTE_REASON	"disconnected by another server"

/* Sessions collected before a request changes them. */
struct targets {
	struct session	**v;
	size_t		  n, cap;
	bool		  nomem;
};

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
		if ((gs = adapter_by_sio_sid(g, m->sid.p, m->sid.len)) != NULL)
			collect_one(g, gs, t);
	} else
		adapter_pick(g, m->rooms, m->nrooms, m->except, m->nexcept,
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
 * token, in the query or the auth, is never shown); the Admin UI's
 * (adminjson.c) is the same.
 */
static json_t *
handshake(struct gateway *g, struct gw_socket *gs)
{
	char	addr[64];

	session_address(gs->s, addr, sizeof(addr));
	return adminjson_handshake(gs->s->kind == SESSION_WEBSOCKET, addr,
	    gs->issued, g->t->conf->tls_cert != NULL &&
	    g->t->conf->tls_cert[0] != '\0');
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
		recslot_rooms(g, gs);	/* what a recovery rejoins */
	}
	if (m->sid.len > 0 && t.n > 0 && m->request_id.len > 0)
		adapter_respond(g, m, json_object());
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
		adapter_respond(g, m, json_object());
	release(&t);
}

/* A request of another server. */
void
adapter_request(struct gateway *g, const struct sior_msg *m)
{
	json_t	*v;

	g->adapter->requests++;
	switch (m->op) {
	case SIOR_OP_SOCKETS:
		v = json_array();
		adapter_pick(g, m->rooms, m->nrooms, NULL, 0, id_of, v);
		adapter_respond(g, m, json_pack("{s:o}", "sockets", v));
		break;
	case SIOR_OP_ALL_ROOMS:
		adapter_respond(g, m, all_rooms(g));
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
		adapter_pick(g, m->rooms, m->nrooms, m->except, m->nexcept,
		    fetch_one, v);
		adapter_respond(g, m, json_pack("{s:o}", "sockets", v));
		break;
	case SIOR_OP_SERVER_EMIT:
		/*
		 * The gateway has no server-side handlers.  Asked for an ack,
		 * each worker answers null: a Node server's
		 * serverSideEmitWithAck() counts every server and would
		 * otherwise wait for us until its timeout.
		 */
		if (m->request_id.len > 0)
			adapter_respond(g, m, json_pack("{s:n}", "data"));
		break;
	default:
		break;
	}
}
