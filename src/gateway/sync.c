/*
 * A worker that starts knows no other worker's users until their presence
 * digests come: each peer sends one when its link to us comes up, a few
 * to a few hundred milliseconds after our start.  A client greeted before
 * that would get an `online_users` missing those users (they would come
 * later, one `user_connected` each).  So a new socket's `online_users`
 * waits until every worker of the master's list has sent a digest, or
 * SYNC_WAIT seconds have passed (a peer that is stuck or dying), and goes
 * out then.  `connected` is not held back.  The greeting is here: it is
 * what waits.
 */
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "gateway.h"
#include "log.h"
#include "presence.h"
#include "session.h"
#include "transport.h"

#define SYNC_WAIT	1.0	/* seconds */

static void	on_sync_wait(struct ev_loop *, ev_timer *, int);
static void	sync_done(struct gateway *, const char *);
static void	greet(struct gateway *, struct session *, struct gw_socket *);
static void	add_user(void *, const char *);

/*
 * In sync at once when there is no bus: no other worker to hear from.
 * Else we wait for the master's list of workers (sync_peers).
 */
void
sync_init(struct gateway *g)
{
	g->nwant = -1;
	g->synced = g->bus == NULL;
	ev_timer_init(&g->sync_wait, on_sync_wait, SYNC_WAIT, 0);
	g->sync_wait.data = g;
	if (!g->synced)
		ev_timer_start(g->t->loop, &g->sync_wait);
}

void
sync_free(struct gateway *g)
{
	ev_timer_stop(g->t->loop, &g->sync_wait);
}

static int
heard(const struct gateway *g, int wid)
{
	return (g->heard[wid / 8] >> (wid % 8)) & 1;
}

/* Have we heard from every peer the master names? */
static void
check(struct gateway *g)
{
	size_t	i;

	if (g->synced || g->nwant < 0)
		return;
	for (i = 0; i < (size_t)g->nwant; i++)
		if (g->want[i] != g->t->wid && !heard(g, g->want[i]))
			return;
	sync_done(g, "every worker's presence is in");
}

/* The master's list of live workers (the first one is what we wait for). */
void
sync_peers(struct gateway *g, const int32_t *wids, size_t n)
{
	size_t	i;

	if (g->synced || g->nwant >= 0)
		return;
	g->nwant = 0;
	for (i = 0; i < n && i < GW_SYNC_MAX; i++)
		if (wids[i] >= 0 && wids[i] <= BUS_WID_MAX)
			g->want[g->nwant++] = wids[i];
	check(g);
}

/* A digest from worker wid has been applied. */
void
sync_digest(struct gateway *g, int wid)
{
	if (g->synced || wid < 0 || wid > BUS_WID_MAX)
		return;
	g->heard[wid / 8] |= (uint8_t)(1u << (wid % 8));
	check(g);
}

/* A new socket: its `online_users` now, or once in sync (sync_done). */
void
sync_greet(struct gateway *g, struct session *s, struct gw_socket *gs)
{
	if (g->synced)
		greet(g, s, gs);
	else
		gs->greet = 1;
}

static void
on_sync_wait(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	sync_done(w->data, "waited long enough for the other workers");
}

/* Greet the sockets that waited. */
static void
sync_done(struct gateway *g, const char *why)
{
	struct session		*s;
	struct gw_socket	*gs;

	g->synced = 1;
	ev_timer_stop(g->t->loop, &g->sync_wait);
	log_debug("presence in sync: %s", why);
	for (s = g->t->all; s != NULL; s = s->next)
		if ((gs = s->app_data) != NULL && gs->greet &&
		    s->state != SESSION_CLOSED) {
			gs->greet = 0;
			greet(g, s, gs);
		}
}

static void
add_user(void *arg, const char *user)
{
	json_array_append_new(arg, json_string(user));
}

/* Who is online, for a new socket (in scoped mode: only its user). */
static void
greet(struct gateway *g, struct session *s, struct gw_socket *gs)
{
	json_t	*o = json_array();

	if (g->conf->presence_mode == 0) {
		presence_list(g->presence, add_user, o);
		hostpres_list(g, add_user, o);	/* the other hosts' */
	} else
		json_array_append_new(o, json_string(gs->user));
	emit_to(g, s, "online_users", o);
	json_decref(o);
}
