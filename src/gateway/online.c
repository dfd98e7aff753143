/*
 * online: presence across workers.  Each worker sends a delta when a
 * socket of a user opens or closes here (GW_BUS_ONLINE, GW_BUS_OFFLINE);
 * each worker keeps the gateway-wide table (cluster/presence.c) and tells
 * its own sockets when a user comes online or goes offline anywhere.
 * Summaries every presence_digest_interval find lost deltas, whole
 * digests asked for then repair them (presence.h says why), and a worker
 * that dies (the master's peer list, or its bus link) has its users
 * dropped at once.  (src/cluster/presence.c is the table; this file is
 * what the gateway does with it.)
 *
 * With redis_url (issue 14) a transition here is this instance's only:
 * the user's owner hands it to hostpresence.c, which makes it the
 * cluster's, and the sockets hear what the cluster does from there, not
 * from here (that would repeat the cluster's event, or announce a user
 * still online on another host).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "events.h"
#include "frame.h"
#include "gateway.h"
#include "log.h"
#include "presence.h"
#include "presence_digest.h"
#include "roomname.h"
#include "session.h"
#include "transport.h"

#define DIGEST_PART	(64 * 1024)

static void	 announce(struct gateway *, const char *, const char *,
		    struct session *);
static void	 tell_services(struct gateway *, const char *, int);
static void	 on_online(void *, const char *);
static void	 on_offline(void *, const char *);
static void	 on_digest(struct ev_loop *, ev_timer *, int);

/* The digest timer. */
void
online_init(struct gateway *g)
{
	ev_timer_init(&g->digest, on_digest,
	    (double)g->conf->presence_digest_interval / 1000.0,
	    (double)g->conf->presence_digest_interval / 1000.0);
	g->digest.data = g;
	ev_timer_start(g->t->loop, &g->digest);
}

void
online_free(struct gateway *g)
{
	ev_timer_stop(g->t->loop, &g->digest);
}

/*
 * Tell this worker's sockets that user went online or offline.  Mode
 * "all" (the seed's): every socket (presfeed.c).  Mode "scoped": the sockets that
 * subscribed to the user with join_room presence:<user>.
 */
static void
announce(struct gateway *g, const char *event, const char *user,
    struct session *except)
{
	struct frame	*f;
	json_t		*o;
	char		 room[ROOMNAME_SIZE + 16];
	int		 n;

	if (g->conf->presence_mode == 0) {
		/* issue 16: kept up with, or coalesced when behind */
		presfeed_announce(g, user, strcmp(event, "user_connected") ==
		    0, except);
		return;
	}
	o = events_user_json(user);
	f = emit_frame(event, o);
	json_decref(o);
	if (f == NULL)
		return;
	if (g->conf->presence_mode == 0)
		emit_all(g, f, except);
	else {
		n = snprintf(room, sizeof(room), "presence:%s", user);
		deliver_local(g, room, (size_t)n, f, except);
	}
	frame_unref(f);
}

/*
 * The worker that tells the services of user's transitions: one of the
 * live workers, by a hash every worker computes alike (FNV-1a of the id).
 */
int32_t
online_owner(const struct gateway *g, const char *user)
{
	uint32_t	h = 2166136261u;

	for (; *user != '\0'; user++)
		h = (h ^ (uint8_t)*user) * 16777619u;
	return authsvc_owner(g, h);
}

/*
 * A user's first socket anywhere (online 1) or last socket anywhere (0),
 * as this worker's table of the whole gateway saw it.  Every worker sees
 * each transition, whether it happened here or elsewhere, so the user's
 * owner alone tells the presence engine and the auth service: one call
 * per gateway-wide transition, even when the user's last sockets on
 * several workers close at once (each worker then sees the user still
 * elsewhere, and the last delta makes the transition).
 */
static void
tell_services(struct gateway *g, const char *user, int online)
{
	if (online_owner(g, user) != g->t->wid)
		return;
	if (g->hostpres != NULL) {
		/* The cluster's transition, if any, calls them. */
		hostpres_local(g, user, online);
		return;
	}
	engines_presence(g, user, online);
	authstatus_tell(g, user, online);
}

static void
on_online(void *arg, const char *user)
{
	struct gateway	*g = arg;

	if (g->hostpres == NULL)
		announce(g, "user_connected", user, NULL);
	tell_services(g, user, 1);
}

/* A user went offline elsewhere: its subscribers, the rooms owed here. */
static void
on_offline(void *arg, const char *user)
{
	struct gateway	*g = arg;

	if (g->hostpres == NULL) {
		announce(g, "user_disconnected", user, NULL);
		scoped_offline(g, user, strlen(user), NULL);
	}
	tell_services(g, user, 0);
}

/* A socket of this user opened here. */
void
online_join(struct gateway *g, struct gw_socket *gs)
{
	if (presence_local_add(g->presence, gs->user) == PRESENCE_ONLINE) {
		if (g->hostpres == NULL)
			announce(g, "user_connected", gs->user, gs->s);
		tell_services(g, gs->user, 1);
	}
	if (g->bus != NULL)
		bus_send(g->bus, GW_BUS_ONLINE, gs->user, gs->ulen);
}

/* A socket of this user closed here. */
void
online_leave(struct gateway *g, struct gw_socket *gs, int tell)
{
	int	rc = presence_local_del(g->presence, gs->user);

	if (rc != PRESENCE_OFFLINE)
		scoped_owe(g, gs);
	else if (g->hostpres != NULL) {
		/*
		 * Redis: the rooms hear it when the cluster says so; and even
		 * in a drain the instance's table goes to Redis at once (the
		 * instance may live on: a reload retires only workers).  In a
		 * drain the owner may be exiting too, before our bus record
		 * reaches it: this worker sends the script as well (it is
		 * idempotent; the one that takes the user out answers).
		 */
		scoped_owe(g, gs);
		if (!tell && online_owner(g, gs->user) != g->t->wid)
			hostpres_local(g, gs->user, 0);
		tell_services(g, gs->user, 0);
	} else if (tell) {
		announce(g, "user_disconnected", gs->user, gs->s);
		scoped_offline(g, gs->user, gs->ulen, gs);
		tell_services(g, gs->user, 0);
	}
	if (g->bus != NULL)
		bus_send(g->bus, GW_BUS_OFFLINE, gs->user, gs->ulen);
}

/* A GW_BUS_ONLINE or GW_BUS_OFFLINE record from worker `from`. */
void
online_recv(struct gateway *g, int from, uint8_t type, const void *data,
    size_t len)
{
	char	user[PRESENCE_USER_MAX + 1];
	int	rc;

	if (len == 0 || len > PRESENCE_USER_MAX)
		return;
	memcpy(user, data, len);
	user[len] = '\0';
	rc = type == GW_BUS_ONLINE ?
	    presence_remote_add(g->presence, (unsigned)from, user) :
	    presence_remote_del(g->presence, (unsigned)from, user);
	if (rc == PRESENCE_ONLINE)
		on_online(g, user);
	else if (rc == PRESENCE_OFFLINE)
		on_offline(g, user);
}

/* Every part of this worker's digest, all in this loop iteration. */
void
online_digest_send(struct gateway *g)
{
	struct presence_digest_cursor	 c;
	static uint8_t			 buf[DIGEST_PART];
	size_t				 len;
	int				 more;

	if (g->bus == NULL)
		return;
	g->digest_last = ev_now(g->t->loop);
	g->digests_sent++;
	presence_digest_begin(g->presence, &c);
	do {
		more = presence_digest(g->presence, &c, buf, sizeof(buf),
		    &len);
		if (more < 0)
			return;
		bus_send(g->bus, GW_BUS_DIGEST, buf, len);
	} while (more == 1);
}

/*
 * Every interval: a whole digest if one was asked for since the last,
 * else this worker's summary, with the workers whose summaries differed
 * from what we hold of them (they send a whole digest on hearing it).
 */
static void
on_digest(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct gateway			*g = w->data;
	struct presence_summary_msg	 m;
	uint8_t				 buf[PRESENCE_SUMMARY_MAX];

	(void)loop;
	(void)revents;
	if (g->bus == NULL)
		return;
	if (g->digest_due) {
		g->digest_due = 0;
		online_digest_send(g);
	}
	memset(&m, 0, sizeof(m));
	m.wid = (uint16_t)g->t->wid;
	presence_summary(g->presence, &m.sum);
	m.nasks = (uint16_t)presence_asks(g->presence, m.asks,
	    PRESENCE_SUMMARY_ASKS);
	bus_send(g->bus, GW_BUS_PSUM, buf, presence_summary_encode(buf, &m));
	g->psum_sent++;
}

/*
 * A GW_BUS_PSUM from worker `from`.  Asked for a whole digest: send it now,
 * unless one went less than half an interval ago (then at the next tick),
 * so that a crowd of asks costs one digest.  A summary that matches what
 * we hold of `from` is as good as its digest for sync.c.
 */
void
online_summary_recv(struct gateway *g, int from, const void *data,
    size_t len)
{
	struct presence_summary_msg	 m;
	double				 half;
	uint16_t			 i;

	if (presence_summary_decode(data, len, &m) != 0 || m.wid != from) {
		log_debug("bad presence summary from worker %d", from);
		return;
	}
	half = (double)g->conf->presence_digest_interval / 2000.0;
	for (i = 0; i < m.nasks; i++) {
		if (m.asks[i] != g->t->wid)
			continue;
		if (ev_now(g->t->loop) - g->digest_last >= half)
			online_digest_send(g);
		else
			g->digest_due = 1;
	}
	switch (presence_check_summary(g->presence, (unsigned)from, &m.sum)) {
	case 0:
		sync_digest(g, from);
		break;
	case 1:
		g->psum_differed++;
		break;
	}
}

void
online_stats(struct gateway *g, struct worker_stats *st)
{
	st->presence_summaries = g->psum_sent;
	st->presence_summaries_differed = g->psum_differed;
	st->presence_digests = g->digests_sent;
}

/* A GW_BUS_DIGEST record from worker `from`: 0 applied, -1 refused. */
int
online_digest_recv(struct gateway *g, int from, const void *data,
    size_t len)
{
	if (presence_apply_digest(g->presence, (unsigned)from, data,
	    len, on_online, on_offline, g) < 0) {
		log_debug("bad presence digest from worker %d", from);
		return -1;
	}
	return 0;
}

/* A worker is gone: its users are offline unless they are elsewhere. */
void
online_drop_worker(struct gateway *g, int wid)
{
	int	n;

	n = presence_drop_worker(g->presence, (unsigned)wid, on_offline, g);
	log_debug("worker %d gone: %d users offline", wid, n);
}
