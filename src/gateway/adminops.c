/*
 * adminops: the Admin UI's operations (issue 18) on this worker's
 * sockets: join, leave, _disconnect and emit, each to every socket of
 * "/", or to those of a room, or to the one socket a filter names (a
 * socket's id is a room of its own in socket.io).  admin.c checks an
 * operation once, applies it here and sends it to every other worker,
 * which applies it here too.
 */
#include <stdlib.h>
#include <string.h>

#include "adminjson.h"
#include "frame.h"
#include "gateway.h"
#include "log.h"
#include "rooms.h"
#include "session.h"
#include "sid.h"
#include "socketio.h"
#include "transport.h"

#define ADMIN_REASON	"disconnected by the admin"

/* The sockets an operation is for, pinned before it changes them. */
struct picked {
	struct session	**v;
	size_t		  n, cap;
};

static void
pick(void *arg, void *sock)
{
	struct picked	 *t = arg;
	struct gw_socket *gs = sock;
	struct session	**v;
	size_t		  i, cap;

	for (i = 0; i < t->n; i++)	/* a room, and a socket's own id */
		if (t->v[i] == gs->s)
			return;
	if (t->n == t->cap) {
		cap = t->cap == 0 ? 16 : t->cap * 2;
		if ((v = reallocarray(t->v, cap, sizeof(*v))) == NULL)
			return;
		t->v = v;
		t->cap = cap;
	}
	session_pin(gs->s);
	t->v[t->n++] = gs->s;
}

static void
collect(struct gateway *g, const struct adminjson_op *op, struct picked *t)
{
	struct session		*s;
	struct gw_socket	*gs;

	memset(t, 0, sizeof(*t));
	if (op->filter == NULL) {
		for (s = g->t->all; s != NULL; s = s->next)
			if (s->app_data != NULL && (s->nsp_mask & 1) &&
			    s->state != SESSION_CLOSED)
				pick(t, s->app_data);
		return;
	}
	rooms_members(g->rooms, op->filter, op->flen, pick, t);
	if (op->flen == SID_LEN &&
	    (gs = sockindex_find(g, op->filter, op->flen)) != NULL &&
	    gs->s != NULL && (gs->s->nsp_mask & 1))
		pick(t, gs);
}

/* emit: [event, ...args] as one frame, made once for every socket. */
static struct frame *
emit_frame_of(json_t *ev, const struct adminjson_op *op)
{
	json_t		*arr = json_array();
	struct frame	*f = NULL;
	char		*text;
	size_t		 i, n;

	json_array_append_new(arr, json_string(op->event));
	for (i = op->first_arg; i < json_array_size(ev); i++)
		json_array_append(arr, json_array_get(ev, i));
	text = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	if (text == NULL)
		return NULL;
	n = strlen(text);
	if ((f = frame_new(n + 2, false)) != NULL) {
		FRAME_DATA(f)[0] = '4';
		FRAME_DATA(f)[1] = '2';
		memcpy(FRAME_DATA(f) + 2, text, n);
		f->len = (uint32_t)(n + 2);
	}
	free(text);
	return f;
}

static void
apply(struct gateway *g, json_t *ev, const struct adminjson_op *op)
{
	struct picked		 t;
	struct gw_socket	*gs;
	struct frame		*f = NULL;
	size_t			 i;
	int			 rc;

	if (op->kind == ADMINJSON_OP_EMIT &&
	    (f = emit_frame_of(ev, op)) == NULL)
		return;
	collect(g, op, &t);
	for (i = 0; i < t.n; i++) {
		if (t.v[i]->state == SESSION_CLOSED ||
		    (gs = t.v[i]->app_data) == NULL)
			continue;
		switch (op->kind) {
		case ADMINJSON_OP_JOIN:
			rc = rooms_join(g->rooms, op->room, op->rlen, gs);
			if (rc == ROOMS_JOIN_FULL)
				g->rooms_refused++;
			else if (rc == 1)
				admin_room(g, gs, op->room, op->rlen, true);
			recslot_rooms(g, gs);
			break;
		case ADMINJSON_OP_LEAVE:
			if (rooms_leave(g->rooms, op->room, op->rlen, gs) == 1)
				admin_room(g, gs, op->room, op->rlen, false);
			recslot_rooms(g, gs);
			break;
		case ADMINJSON_OP_DISCONNECT:
			socketio_disconnect(t.v[i], 0);	/* frees gs */
			if (op->close)
				session_close_soon(t.v[i], ADMIN_REASON);
			break;
		case ADMINJSON_OP_EMIT:
			session_send(t.v[i], frame_ref(f));
			g->messages++;
			break;
		}
	}
	for (i = 0; i < t.n; i++)
		session_unpin(t.v[i]);
	free(t.v);
	if (f != NULL)
		frame_unref(f);
}

/* 0: an operation of the UI's shape (adminjson_op()); else -1. */
int
adminops_valid(json_t *ev)
{
	struct adminjson_op	op;

	return adminjson_op(ev, &op);
}

/* An operation as JSON text (from admin.c, ours or another worker's). */
void
adminops_apply(struct gateway *g, const char *text, size_t len)
{
	struct adminjson_op	 op;
	json_error_t		 err;
	json_t			*ev;

	if ((ev = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err)) ==
	    NULL)
		return;
	if (adminjson_op(ev, &op) == 0)
		apply(g, ev, &op);
	else
		log_debug("admin: an operation not of its shape");
	json_decref(ev);
}
