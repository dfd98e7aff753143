/*
 * rooms: the local room index of one worker (rooms.h).  Pure: no I/O, no
 * logging.
 */
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "rooms.h"

struct rsock;

/* A socket in a room: room->m[i]. */
struct member {
	void		*sock;
	struct rsock	*rs;
	uint32_t	 li;		/* index of the link in rs->l */
};

struct room {
	uint32_t	 hash;		/* first, for htab */
	uint32_t	 n;
	uint32_t	 cap;
	uint32_t	 busy;		/* rooms_members() walks in progress */
	struct member	*m;
	uint16_t	 len;
	char		 name[];
};

/* A room of a socket: rs->l[i]. */
struct link {
	struct room	*room;
	uint32_t	 mi;		/* index of the member in room->m */
};

#define RSOCK_INLINE	2	/* a user room and one more: no allocation */
#define RSOCK_INDEX_MIN	8	/* from this many rooms, an index of links */

/*
 * A socket's rooms.  Past RSOCK_INDEX_MIN of them, ix indexes l by room
 * (open addressing on the room's hash, linear probing, entries li + 1,
 * 0 free, load at most 1/2), so that finding one of a socket's rooms is
 * not a scan: a socket in n rooms would make joining and leaving them all
 * cost n squared.
 */
struct rsock {
	uint32_t	 hash;		/* first, for htab */
	uint32_t	 n;
	uint32_t	 cap;		/* RSOCK_INLINE: l is inl */
	uint32_t	 ixcap;		/* 0: no index yet */
	void		*sock;
	struct link	*l;
	uint32_t	*ix;
	struct link	 inl[RSOCK_INLINE];
};

struct rooms {
	struct htab	 rooms;
	struct htab	 socks;
	size_t		 max_per_sock;	/* 0: no limit */
	rooms_name_cb	*made;		/* rooms_set_hooks() */
	rooms_name_cb	*gone;
	void		*hook_arg;
};

struct key {
	const char	*s;
	size_t		 len;
};

static bool		 room_eq(const void *, const void *);
static bool		 sock_eq(const void *, const void *);
static bool		 same_ptr(const void *, const void *);
static struct room	*room_find(const struct rooms *, const char *, size_t);
static struct rsock	*sock_find(const struct rooms *, void *);
static void		 room_drop(struct rooms *, struct room *);
static void		 room_gone(struct rooms *, struct room *);
static void		 sock_drop(struct rooms *, struct rsock *);
static int		 room_reserve(struct room *);
static int		 sock_reserve(struct rsock *);
static void		 unlink_at(struct rooms *, struct rsock *, uint32_t);
static int		 link_find(const struct rsock *, const struct room *);
static int		 ix_slot(const struct rsock *, const struct room *);
static int		 ix_build(struct rsock *, uint32_t);
static void		 ix_add(struct rsock *, uint32_t);
static void		 ix_del(struct rsock *, uint32_t);

struct rooms *
rooms_new(uint64_t seed)
{
	struct rooms	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (NULL);
	if (htab_init(&r->rooms, seed) != 0) {
		free(r);
		return (NULL);
	}
	if (htab_init(&r->socks, seed ^ 0x5bd1e995) != 0) {
		htab_free(&r->rooms);
		free(r);
		return (NULL);
	}
	return (r);
}

void
rooms_free(struct rooms *r)
{
	struct room	*room;
	struct rsock	*rs;
	size_t		 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->rooms.cap; i++) {
		if ((room = r->rooms.slot[i]) != NULL) {
			free(room->m);
			free(room);
		}
	}
	for (i = 0; i < r->socks.cap; i++) {
		if ((rs = r->socks.slot[i]) != NULL) {
			if (rs->l != rs->inl)
				free(rs->l);
			free(rs->ix);
			free(rs);
		}
	}
	htab_free(&r->rooms);
	htab_free(&r->socks);
	free(r);
}

static bool
room_eq(const void *e, const void *k)
{
	const struct room	*room = e;
	const struct key	*key = k;

	return (room->len == key->len &&
	    memcmp(room->name, key->s, key->len) == 0);
}

static bool
sock_eq(const void *e, const void *k)
{
	return (((const struct rsock *)e)->sock == k);
}

static bool
same_ptr(const void *e, const void *k)
{
	return (e == k);
}

static struct room *
room_find(const struct rooms *r, const char *name, size_t len)
{
	struct key	key = { name, len };

	if (name == NULL || len == 0 || len > ROOMS_NAME_MAX)
		return (NULL);
	return (htab_find(&r->rooms, htab_hash(&r->rooms, name, len),
	    room_eq, &key, NULL));
}

static struct rsock *
sock_find(const struct rooms *r, void *sock)
{
	return (htab_find(&r->socks, htab_hash_ptr(&r->socks, sock), sock_eq,
	    sock, NULL));
}

static void
room_drop(struct rooms *r, struct room *room)
{
	size_t	idx;

	if (htab_find(&r->rooms, room->hash, same_ptr, room, &idx) != NULL)
		htab_remove(&r->rooms, idx);
	free(room->m);
	free(room);
}

/* An emptied room goes: its hook hears it first. */
static void
room_gone(struct rooms *r, struct room *room)
{
	if (r->gone != NULL)
		r->gone(r->hook_arg, room->name, room->len);
	room_drop(r, room);
}

static void
sock_drop(struct rooms *r, struct rsock *rs)
{
	size_t	idx;

	if (htab_find(&r->socks, rs->hash, same_ptr, rs, &idx) != NULL)
		htab_remove(&r->socks, idx);
	if (rs->l != rs->inl)
		free(rs->l);
	free(rs->ix);
	free(rs);
}

/* Room for one more member. */
static int
room_reserve(struct room *room)
{
	struct member	*m;
	uint32_t	 cap;

	if (room->n < room->cap)
		return (0);
	if (room->cap >= UINT32_MAX / 2)
		return (-1);
	cap = room->cap == 0 ? 1 : room->cap * 2;
	if ((m = realloc(room->m, cap * sizeof(*m))) == NULL)
		return (-1);
	room->m = m;
	room->cap = cap;
	return (0);
}

/* Room for one more link. */
static int
sock_reserve(struct rsock *rs)
{
	struct link	*l;
	uint32_t	 cap;

	if (rs->n < rs->cap)
		return (0);
	if (rs->cap >= UINT32_MAX / 2)
		return (-1);
	cap = rs->cap * 2;
	if (rs->l == rs->inl) {
		if ((l = malloc(cap * sizeof(*l))) == NULL)
			return (-1);
		memcpy(l, rs->inl, sizeof(rs->inl));
	} else if ((l = realloc(rs->l, cap * sizeof(*l))) == NULL)
		return (-1);
	rs->l = l;
	rs->cap = cap;
	return (0);
}

/* The index of room in rs's links, or -1. */
static int
link_find(const struct rsock *rs, const struct room *room)
{
	uint32_t	i;
	int		slot;

	if (rs->ix != NULL) {
		if ((slot = ix_slot(rs, room)) < 0)
			return (-1);
		return ((int)rs->ix[slot] - 1);
	}
	for (i = 0; i < rs->n; i++) {
		if (rs->l[i].room == room)
			return ((int)i);
	}
	return (-1);
}

/* The slot of rs->ix that holds room's link, or -1. */
static int
ix_slot(const struct rsock *rs, const struct room *room)
{
	uint32_t	mask = rs->ixcap - 1, i;

	for (i = room->hash & mask; rs->ix[i] != 0; i = (i + 1) & mask) {
		if (rs->l[rs->ix[i] - 1].room == room)
			return ((int)i);
	}
	return (-1);
}

/* (Re)build the index with cap slots (a power of two > 2 * rs->n). */
static int
ix_build(struct rsock *rs, uint32_t cap)
{
	uint32_t	*ix, *old = rs->ix, i;

	if ((ix = calloc(cap, sizeof(*ix))) == NULL)
		return (-1);
	rs->ix = ix;
	rs->ixcap = cap;
	for (i = 0; i < rs->n; i++)
		ix_add(rs, i);
	free(old);
	return (0);
}

/* Index link li (the caller made room for it). */
static void
ix_add(struct rsock *rs, uint32_t li)
{
	uint32_t	mask = rs->ixcap - 1, i;

	for (i = rs->l[li].room->hash & mask; rs->ix[i] != 0;
	    i = (i + 1) & mask)
		;
	rs->ix[i] = li + 1;
}

/* Empty slot i, shifting back the entries after it (no tombstones). */
static void
ix_del(struct rsock *rs, uint32_t i)
{
	uint32_t	mask = rs->ixcap - 1, j = i, k;

	rs->ix[i] = 0;
	for (;;) {
		j = (j + 1) & mask;
		if (rs->ix[j] == 0)
			return;
		k = rs->l[rs->ix[j] - 1].room->hash & mask;
		/* Stays if its home is cyclically in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		rs->ix[i] = rs->ix[j];
		rs->ix[j] = 0;
		i = j;
	}
}

/* Caps joins at n rooms per socket; 0: no limit. */
void
rooms_set_max(struct rooms *r, size_t n)
{
	r->max_per_sock = n;
}

/*
 * Joins sock to the room (any name of 1..ROOMS_NAME_MAX bytes: the index
 * does not care about kinds).  1: joined, 0: already in, -1: bad argument
 * or out of memory, ROOMS_JOIN_FULL: sock is in rooms_set_max() rooms
 * already (then nothing changed).
 */
int
rooms_join(struct rooms *r, const char *name, size_t len, void *sock)
{
	struct key	 key = { name, len };
	struct room	*room;
	struct rsock	*rs;
	bool		 newroom = false, newsock = false;
	uint32_t	 h;

	if (name == NULL || len == 0 || len > ROOMS_NAME_MAX || sock == NULL)
		return (-1);
	h = htab_hash(&r->rooms, name, len);
	room = htab_find(&r->rooms, h, room_eq, &key, NULL);
	if (r->max_per_sock > 0 && (rs = sock_find(r, sock)) != NULL &&
	    rs->n >= r->max_per_sock)
		return (room != NULL && link_find(rs, room) >= 0 ? 0 :
		    ROOMS_JOIN_FULL);
	if (room == NULL) {
		if ((room = calloc(1, sizeof(*room) + len + 1)) == NULL)
			return (-1);
		room->hash = h;
		room->len = (uint16_t)len;
		memcpy(room->name, name, len);
		if (htab_insert(&r->rooms, room) != 0) {
			free(room);
			return (-1);
		}
		newroom = true;
	}
	if ((rs = sock_find(r, sock)) == NULL) {
		if ((rs = calloc(1, sizeof(*rs))) == NULL)
			goto fail;
		rs->hash = htab_hash_ptr(&r->socks, sock);
		rs->sock = sock;
		rs->l = rs->inl;
		rs->cap = RSOCK_INLINE;
		if (htab_insert(&r->socks, rs) != 0) {
			free(rs);
			rs = NULL;
			goto fail;
		}
		newsock = true;
	} else if (!newroom && link_find(rs, room) >= 0)
		return (0);
	if (room_reserve(room) != 0 || sock_reserve(rs) != 0)
		goto fail;
	if (rs->n + 1 >= RSOCK_INDEX_MIN && (rs->n + 1) * 2 >= rs->ixcap &&
	    ix_build(rs, rs->ixcap == 0 ? 4 * RSOCK_INDEX_MIN : rs->ixcap * 2)
	    != 0)
		goto fail;
	room->m[room->n].sock = sock;
	room->m[room->n].rs = rs;
	room->m[room->n].li = rs->n;
	rs->l[rs->n].room = room;
	rs->l[rs->n].mi = room->n;
	room->n++;
	rs->n++;
	if (rs->ix != NULL)
		ix_add(rs, rs->n - 1);
	if (newroom && r->made != NULL)
		r->made(r->hook_arg, room->name, room->len);
	return (1);
fail:
	if (newroom)
		room_drop(r, room);
	if (newsock)
		sock_drop(r, rs);
	return (-1);
}

/*
 * Removes rs's link li and the matching member, swapping the last of each
 * array into the hole and fixing its back index.  Frees the room when it
 * empties and no walk is on it; the caller frees rs when it empties.
 */
static void
unlink_at(struct rooms *r, struct rsock *rs, uint32_t li)
{
	struct room	*room = rs->l[li].room;
	uint32_t	 mi = rs->l[li].mi, last;
	struct member	*m;
	int		 slot;

	last = --room->n;
	if (mi != last) {
		room->m[mi] = room->m[last];
		room->m[mi].rs->l[room->m[mi].li].mi = mi;
	}
	last = rs->n - 1;
	if (rs->ix != NULL) {
		/* Before the array changes: slots find links through it. */
		ix_del(rs, (uint32_t)ix_slot(rs, room));
		if (li != last && (slot = ix_slot(rs, rs->l[last].room)) >= 0)
			rs->ix[slot] = li + 1;
	}
	--rs->n;
	if (li != last) {
		rs->l[li] = rs->l[last];
		rs->l[li].room->m[rs->l[li].mi].li = li;
	}
	if (room->n == 0 && room->busy == 0)
		room_gone(r, room);
	else if (room->cap > 8 && room->n * 4 <= room->cap) {
		m = realloc(room->m, room->cap / 2 * sizeof(*m));
		if (m != NULL) {
			room->m = m;
			room->cap /= 2;
		}
	}
}

/* 1: left, 0: was not in it. */
int
rooms_leave(struct rooms *r, const char *name, size_t len, void *sock)
{
	struct room	*room;
	struct rsock	*rs;
	int		 li;

	if ((room = room_find(r, name, len)) == NULL ||
	    (rs = sock_find(r, sock)) == NULL ||
	    (li = link_find(rs, room)) < 0)
		return (0);
	unlink_at(r, rs, (uint32_t)li);
	if (rs->n == 0)
		sock_drop(r, rs);
	return (1);
}

/* On disconnect: leaves every room, O(rooms of sock).  Returns how many. */
size_t
rooms_leave_all(struct rooms *r, void *sock)
{
	struct rsock	*rs;
	size_t		 n;

	if ((rs = sock_find(r, sock)) == NULL)
		return (0);
	n = rs->n;
	while (rs->n > 0)
		unlink_at(r, rs, rs->n - 1);
	sock_drop(r, rs);
	return (n);
}

/*
 * Fan-out: cb(arg, sock) for every socket of the room, from a walk over
 * the room's own array (no allocation).  The walk goes from the end, so cb
 * may remove the socket it was given (rooms_leave, rooms_leave_all: a
 * write error that closes it) and every other member is still visited
 * exactly once.  Any other change from cb is memory-safe but may skip or
 * repeat members.  The room lives until the walk ends even if it empties.
 */
void
rooms_members(struct rooms *r, const char *name, size_t len,
    rooms_sock_cb *cb, void *arg)
{
	struct room	*room;
	uint32_t	 i;

	if ((room = room_find(r, name, len)) == NULL)
		return;
	room->busy++;
	for (i = room->n; i-- > 0;) {
		if (i < room->n)
			cb(arg, room->m[i].sock);
	}
	if (--room->busy == 0 && room->n == 0)
		room_gone(r, room);
}

size_t
rooms_count(const struct rooms *r, const char *name, size_t len)
{
	struct room	*room;

	if ((room = room_find(r, name, len)) == NULL)
		return (0);
	return (room->n);
}

bool
rooms_is_member(const struct rooms *r, const char *name, size_t len,
    void *sock)
{
	struct room	*room;
	struct rsock	*rs;

	return ((room = room_find(r, name, len)) != NULL &&
	    (rs = sock_find(r, sock)) != NULL && link_find(rs, room) >= 0);
}

/* cb(arg, name, len) for each room of sock; cb must not change r. */
void
rooms_of(const struct rooms *r, void *sock, rooms_name_cb *cb, void *arg)
{
	struct rsock	*rs;
	uint32_t	 i;

	if ((rs = sock_find(r, sock)) == NULL)
		return;
	for (i = 0; i < rs->n; i++)
		cb(arg, rs->l[i].room->name, rs->l[i].room->len);
}

size_t
rooms_of_count(const struct rooms *r, void *sock)
{
	struct rsock	*rs;

	return ((rs = sock_find(r, sock)) == NULL ? 0 : rs->n);
}

size_t
rooms_total(const struct rooms *r)
{
	return (r->rooms.n);
}

/*
 * made(arg, name, len) when a room gets its first member, gone() when it
 * loses its last (before it is freed): a caller that keeps something per
 * room (a Redis subscription) follows the index without asking it.  The
 * hooks must not change r.
 */
void
rooms_set_hooks(struct rooms *r, rooms_name_cb *made, rooms_name_cb *gone,
    void *arg)
{
	r->made = made;
	r->gone = gone;
	r->hook_arg = arg;
}

/* cb(arg, name, len) for every room; cb must not change r. */
void
rooms_each(const struct rooms *r, rooms_name_cb *cb, void *arg)
{
	const struct room	*room;
	size_t			 i;

	for (i = 0; i < r->rooms.cap; i++)
		if ((room = r->rooms.slot[i]) != NULL)
			cb(arg, room->name, room->len);
}
