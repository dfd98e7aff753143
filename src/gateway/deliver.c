/*
 * deliver: a frame to a room on every worker.  It is written to the room's
 * local members at once and sent once on the bus (GW_BUS_EMIT); every
 * other worker writes it to its own members of the room (deliver_recv).
 * Nobody keeps a gateway-wide membership table: each worker knows only
 * its sockets, and the frame is encoded once at the origin and sent
 * unchanged to every recipient.
 */
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "frame.h"
#include "gateway.h"
#include "log.h"
#include "reclog.h"
#include "rooms.h"
#include "session.h"

struct fanout {
	struct gateway	*g;
	struct frame	*f;
	struct session	*except;
};

static void	 fan(void *, void *);

static void
fan(void *arg, void *sock)
{
	struct fanout		*fo = arg;
	struct gw_socket	*gs = sock;

	if (gs->s == fo->except)
		return;
	session_send(gs->s, frame_ref(fo->f));
	fo->g->messages++;
}

static void
fan_local(struct gateway *g, const char *room, size_t rlen,
    struct frame *f, struct session *except)
{
	struct fanout	fo = { g, f, except };

	rooms_members(g->rooms, room, rlen, fan, &fo);
}

/*
 * A frame to this worker's members of room R but one session; the caller
 * keeps its reference.  With the recovery log, through it: this worker's
 * entry (presence, which every worker computes for itself).
 */
void
deliver_local(struct gateway *g, const char *room, size_t rlen,
    struct frame *f, struct session *except)
{
	if (logdeliver_put(g, RECLOG_TO_ROOM, false, room, rlen,
	    except != NULL ? except->sio_sid : NULL, f, NULL, NULL, NULL) == 0)
		return;
	f = logdeliver_strip(f);
	fan_local(g, room, rlen, f, except);
	frame_unref(f);
}

/*
 * Deliver a frame to room R on every worker, except one session (the
 * sender's, for group messages), and to the other servers over Redis
 * (adapter.c) when there are some.  Takes over the caller's reference.
 * With the recovery log, the frame goes into it once, for every worker
 * (logdeliver.c), and the bus only wakes them; else on the bus.
 */
void
deliver_room(struct gateway *g, const char *room, size_t rlen,
    struct frame *f, struct session *except)
{
	struct frame	*d;
	uint8_t		*rec;
	uint16_t	 n = (uint16_t)rlen;
	size_t		 len;

	/*
	 * Appended first, then published with its offset as its origin:
	 * a frame published is in the log (issue 15, recremote.c).
	 */
	if (logdeliver_put(g, RECLOG_TO_ROOM, true, room, rlen,
	    except != NULL ? except->sio_sid : NULL, f, NULL, NULL,
	    NULL) == 0) {
		adapter_publish(g, room, rlen, f, except, true);
		frame_unref(f);
		return;
	}
	adapter_publish(g, room, rlen, f, except, false);
	d = logdeliver_strip(f);
	frame_unref(f);
	f = d;
	len = 2 + rlen + f->len;
	fan_local(g, room, rlen, f, except);
	if (g->bus != NULL && len > BUS_RECORD_MAX) {
		/* max_payload keeps this from happening; say so if it does. */
		log_warnx("a %zu-byte frame for %.*s is too large for the bus; "
		    "only this worker's sockets got it", len, (int)rlen, room);
		g->bus_too_big++;
	} else if (g->bus != NULL && (rec = malloc(len)) != NULL) {
		memcpy(rec, &n, 2);
		memcpy(rec + 2, room, rlen);
		memcpy(rec + 2 + rlen, FRAME_DATA(f), f->len);
		bus_send(g->bus, GW_BUS_EMIT, rec, len);
		free(rec);
	}
	frame_unref(f);
}

/* A GW_BUS_EMIT record from another worker: to our members of its room. */
void
deliver_recv(struct gateway *g, const void *data, size_t len)
{
	const uint8_t	*p = data;
	struct frame	*f;
	uint16_t	 rlen;

	if (len < 2)
		return;
	memcpy(&rlen, p, 2);
	if ((size_t)rlen + 2 > len ||
	    (f = frame_text(p + 2 + rlen, len - 2 - rlen)) == NULL)
		return;
	fan_local(g, (const char *)p + 2, rlen, f, NULL);
	frame_unref(f);
}
