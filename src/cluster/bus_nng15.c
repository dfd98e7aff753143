/*
 * bus_nng15: the bus's workarounds for nng 1.5.2 (bus_nng15.h).  Each
 * one says what it works around; bus.c calls them from a few places,
 * each marked "nng 1.5.2".
 *
 * nng 1.5.2 bug (nng#1518, fixed in 1.6.0): a client that disconnects
 * during the handshake (nng's own stale-socket probe does) can stop the
 * listener for good; new links then hang unseen.  When a peer we reach has
 * not reached us for BUS_NNG15_WATCHDOG seconds, a canary message sent to
 * ourselves tells a dead listener from a peer that does not dial us, and a
 * dead listener is restarted (bus_nng15_watch(), bus_nng15_canary_seen()).
 *
 * nng 1.5.2 bug (the ipc twin of nng#1636, fixed for tcp in 1.6.0):
 * closing an incoming pipe while a message is arriving leaves the
 * protocol's receive pending for good; nng's reaper thread then waits on
 * it forever, and nothing nng frees afterwards is ever closed: every
 * failed redial leaks a socket, and nng's poller thread spins on their
 * EPOLLHUP (seen after a few reloads as a worker at 100% CPU, and under
 * ASan as a worker that hangs; gdb on a debug build of 1.5.2 showed the
 * reaper in pull0_pipe_stop).  So bus.c never closes a live incoming
 * pipe: a peer that joins the set after its records were ignored is asked,
 * by a flag in our first message to it (BUS_WIRE_RESYNC), to send again
 * what a new peer gets.  That flag is part of the wire format and stays
 * until the ipc transport is known to be fixed too.
 *
 * Closing a push socket 1-3 ms after its dial to a live listener also
 * leaked links in a test program (108 in 300; after 20-50 ms, none).  So
 * a socket we no longer use is not closed at once: it waits SETTLE
 * seconds in the graveyard (bus_nng15_bury()), and the watchdog then
 * closes it.
 */
#include <sys/queue.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/push.h>
#include <stdio.h>
#include <stdlib.h>

#include "bus_nng15.h"
#include "bus_wire.h"
#include "log.h"

#define CALM		30.	/* s without a test after a good one */
#define SETTLE		1.	/* s in the graveyard */

static void	 canary_send(struct bus_nng15 *, uint32_t);

/* path (our listener's file) must outlive n. */
void
bus_nng15_init(struct bus_nng15 *n, struct ev_loop *loop, const char *path,
    int wid)
{
	n->loop = loop;
	n->path = path;
	n->wid = wid;
	TAILQ_INIT(&n->graves);
}

/*
 * A push socket we no longer use goes to the graveyard; if even that
 * fails, it is closed now, leak or not.
 */
void
bus_nng15_bury(struct bus_nng15 *n, nng_socket sock)
{
	struct bus_nng15_grave	*g;

	if ((g = malloc(sizeof(*g))) != NULL) {
		g->sock = sock;
		g->buried = ev_now(n->loop);
		TAILQ_INSERT_TAIL(&n->graves, g, entry);
	} else
		nng_close(sock);
}

/* Close the graveyard's sockets that have SETTLEd, or all of them. */
void
bus_nng15_graves_close(struct bus_nng15 *n, int all)
{
	struct bus_nng15_grave	*g;

	while ((g = TAILQ_FIRST(&n->graves)) != NULL &&
	    (all || ev_now(n->loop) - g->buried >= SETTLE)) {
		TAILQ_REMOVE(&n->graves, g, entry);
		nng_close(g->sock);
		free(g);
	}
}

/*
 * Once a second, from bus.c's watchdog.  unreached: a peer we have
 * reached for BUS_NNG15_WATCHDOG seconds has no link to us.  Either it does
 * not dial us (then test again in CALM seconds), or our listener is dead
 * (nng#1518): a canary sent to ourselves, on a channel of its own taken
 * from *chan_next, tells which.  Returns 1 when the listener is dead:
 * bus.c restarts it, which closes every incoming link; each peer sees its
 * link drop and comes back with peer_up.
 */
int
bus_nng15_watch(struct bus_nng15 *n, int unreached, uint32_t *chan_next)
{
	bus_nng15_graves_close(n, 0);
	if (nng_socket_id(n->canary) > 0) {
		if (ev_now(n->loop) - n->canary_at < 1.)
			return (0);
		nng_close(n->canary);
		n->canary.id = 0;
		if (n->canary_ok) {
			n->calm_until = ev_now(n->loop) + CALM;
			return (0);
		}
		log_warnx("bus: %s accepts no link: restarting it", n->path);
		return (1);
	}
	if (ev_now(n->loop) < n->calm_until)
		return (0);
	if (unreached)
		canary_send(n, (*chan_next)++);
	return (0);
}

/* An empty message from ourselves on a channel of its own. */
static void
canary_send(struct bus_nng15 *n, uint32_t chan)
{
	uint8_t	h[BUS_HDR_LEN];
	char	url[300];

	n->canary_at = ev_now(n->loop);
	n->canary_ok = 0;
	n->canary_chan = chan;
	bus_wire_put_hdr(h, n->wid, n->canary_chan, 1, 0);
	snprintf(url, sizeof(url), "ipc://%s", n->path);
	/* One message may wait in nng until the link is up. */
	if (nng_push0_open(&n->canary) != 0 ||
	    nng_socket_set_int(n->canary, NNG_OPT_SENDBUF, 1) != 0 ||
	    nng_dial(n->canary, url, NULL, NNG_FLAG_NONBLOCK) != 0 ||
	    nng_send(n->canary, h, sizeof(h), NNG_FLAG_NONBLOCK) != 0)
		n->canary_ok = 1;	/* cannot test: assume alive */
}

/*
 * A well-framed message from our own wid on channel chan came in: 1 if it
 * is the canary of a test under way, 0 if not (then it is foreign).
 */
int
bus_nng15_canary_seen(struct bus_nng15 *n, uint32_t chan)
{
	if (chan == n->canary_chan && nng_socket_id(n->canary) > 0) {
		n->canary_ok = 1;
		return (1);
	}
	return (0);
}

/* Close the canary of a test under way. */
void
bus_nng15_free(struct bus_nng15 *n)
{
	if (nng_socket_id(n->canary) > 0)
		nng_close(n->canary);
}
