/*
 * recslot: a socket's session slot in the host's recovery log (issue 15,
 * cluster/reclog.h): what a client that comes back after a lost
 * connection recovers.  Put at its CONNECT with a new pid (which the
 * CONNECT answer carries), rewritten with its rooms at each join and
 * leave (so a worker killed at any time leaves them right), parked at a
 * close the client may come back from, dropped at any other.  The
 * user's own room and the socket's id are derived, not kept.  A socket
 * whose rooms do not fit, or that finds no free slot, is not recoverable
 * (counted: recovery_failed_rooms, _full) and its client gets no pid.
 */
#include <string.h>

#include "gateway.h"
#include "log.h"
#include "randpool.h"
#include "reclog.h"
#include "roomname.h"
#include "rooms.h"
#include "session.h"
#include "socketio.h"
#include "transport.h"

struct fill {
	struct reclog_sess	*rs;
	char			 uroom[ROOMNAME_SIZE];
	size_t			 ulen;
	int			 err;
};

static void	 add_room(void *, const char *, size_t);
static int	 fill(struct gateway *, struct gw_socket *,
		    struct reclog_sess *);
static void	 unrecoverable(struct gateway *, struct gw_socket *, int);

static void
add_room(void *arg, const char *name, size_t len)
{
	struct fill	*f = arg;

	if (f->err != 0 || (len == f->ulen && memcmp(name, f->uroom, len) ==
	    0))
		return;
	f->err = recovery_rooms_add(f->rs, name, len);
}

/* gs's slot as it is now: live here, with its rooms. */
static int
fill(struct gateway *g, struct gw_socket *gs, struct reclog_sess *rs)
{
	struct fill	f;
	int		n;

	memset(rs, 0, sizeof(*rs));
	memcpy(rs->pid, gs->pid, sizeof(rs->pid));
	memcpy(rs->sid, gs->s->sio_sid, sizeof(rs->sid));
	memcpy(rs->user, gs->uhash, sizeof(rs->user));
	rs->worker = g->t->wid;
	rs->state = RECLOG_LIVE;
	f.rs = rs;
	f.err = 0;
	n = roomname_user(gs->user, gs->ulen, f.uroom);
	f.ulen = n > 0 ? (size_t)n : 0;
	rooms_of(g->rooms, gs, add_room, &f);
	return f.err;
}

/* Counted; logged at the 1st, 2nd, 4th, 8th... time: not a storm. */
static void
unrecoverable(struct gateway *g, struct gw_socket *gs, int why)
{
	uint64_t	n = ++g->recovery->failed[why];

	if ((n & (n - 1)) == 0)
		log_info("socket %s cannot be recovered: %s (%llu times)",
		    gs->s->sio_sid, why == GW_REC_ROOMS ? "its rooms' names "
		    "pass the slot's bytes" : "no free session slot "
		    "(recovery_sessions)", (unsigned long long)n);
	gs->pid[0] = '\0';
	gs->s->sio_pid[0] = '\0';
}

/*
 * An accepted CONNECT that recovers nothing (s's id is its new one): a
 * new pid, its slot, and the pid in its CONNECT answer.
 */
void
recslot_new(struct gateway *g, struct session *s, struct gw_socket *gs)
{
	struct reclog		*rl = g->conf->reclog;
	struct reclog_sess	 rs;
	uint8_t			 rnd[RECOVERY_PID_RANDOM];

	gs->pid[0] = '\0';
	if (randpool_get(rnd, sizeof(rnd)) != 0 ||
	    recovery_user_hash(gs->user, gs->ulen, gs->uhash) != 0)
		return;
	recovery_pid_make(reclog_epoch(rl), rnd, gs->pid);
	if (fill(g, gs, &rs) != 0 || reclog_sess_put(rl, &rs) != 0) {
		unrecoverable(g, gs, GW_REC_FULL);
		return;
	}
	(void)socketio_set_ids(s, NULL, gs->pid);
}

/* gs joined or left a room: its slot says so. */
void
recslot_rooms(struct gateway *g, struct gw_socket *gs)
{
	struct reclog_sess	rs;
	int			rc;

	if (g->recovery == NULL || gs->pid[0] == '\0' || gs->s == NULL)
		return;
	if ((rc = fill(g, gs, &rs)) == 0 &&
	    (rc = reclog_sess_put(g->conf->reclog, &rs)) == 0)
		return;
	(void)reclog_sess_drop(g->conf->reclog, gs->pid);
	unrecoverable(g, gs, rc == RECLOG_E_ROOMS ? GW_REC_ROOMS :
	    GW_REC_FULL);
}

/*
 * gs's socket closed for reason: 1 when its slot is parked for its
 * client to come back, else 0 (dropped, or none).
 */
int
recslot_close(struct gateway *g, struct gw_socket *gs, const char *reason)
{
	struct reclog	*rl = g->conf->reclog;
	int		 parked = 0;

	if (g->recovery == NULL || gs->pid[0] == '\0')
		return 0;
	if (socketio_recoverable(reason))
		parked = reclog_sess_park(rl, gs->pid, reclog_now_ms()) == 0;
	else
		(void)reclog_sess_drop(rl, gs->pid);
	return parked;
}
