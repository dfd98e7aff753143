/*
 * sockindex: this worker's Socket.IO sockets by their id, for what names
 * a socket by id (socket.io's io.to(socketId), an adapter's request for
 * one socket).  The id's first characters name the worker that made it,
 * but a recovered socket (issue 15) keeps the id it had, made by any
 * worker: so a socket is looked up, never assumed from its id.  The
 * record lives in struct gw_socket (byid): no allocation per socket.
 */
#include <string.h>

#include "gateway.h"
#include "htab.h"
#include "log.h"
#include "session.h"
#include "sid.h"

static bool	 sid_eq(const void *, const void *);
static bool	 same_ptr(const void *, const void *);

int
sockindex_init(struct gateway *g, uint64_t seed)
{
	return htab_init(&g->bysid, seed);
}

void
sockindex_free(struct gateway *g)
{
	htab_free(&g->bysid);
}

static bool
sid_eq(const void *e, const void *k)
{
	const struct gw_sidref	*r = e;

	return memcmp(r->gs->s->sio_sid, k, SID_LEN) == 0;
}

static bool
same_ptr(const void *e, const void *k)
{
	return e == k;
}

/* gs's session has its Socket.IO id (after its CONNECT answer). */
void
sockindex_add(struct gateway *g, struct gw_socket *gs)
{
	if (gs->indexed)
		return;
	gs->byid.gs = gs;
	gs->byid.hash = htab_hash(&g->bysid, gs->s->sio_sid, SID_LEN);
	if (htab_insert(&g->bysid, &gs->byid) != 0) {
		log_warnx("socket %s: out of memory for its index: requests "
		    "naming it will not find it", gs->s->sio_sid);
		return;
	}
	gs->indexed = 1;
}

void
sockindex_del(struct gateway *g, struct gw_socket *gs)
{
	size_t	at;

	if (!gs->indexed)
		return;
	if (htab_find(&g->bysid, gs->byid.hash, same_ptr, &gs->byid, &at) !=
	    NULL)
		htab_remove(&g->bysid, at);
	gs->indexed = 0;
}

/* This worker's socket with that Socket.IO id, or NULL. */
struct gw_socket *
sockindex_find(struct gateway *g, const char *sid, size_t len)
{
	struct gw_sidref	*r;

	if (len != SID_LEN)
		return NULL;
	r = htab_find(&g->bysid, htab_hash(&g->bysid, sid, len), sid_eq, sid,
	    NULL);
	return r != NULL ? r->gs : NULL;
}
