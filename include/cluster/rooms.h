/*
 * rooms: the local room index of one worker, and the rules for room
 * names.  Pure C: no I/O, no event loop, no logging.
 *
 * The index says which of this worker's sockets are in which room, both
 * ways: a room keeps a dense array of its sockets (fan-out walks it with
 * no allocation and no pointer chasing), a socket keeps the list of its
 * rooms (disconnecting costs O(its rooms)).  Each membership knows its
 * index in both arrays, so leaving is O(1) once found.  Sockets are opaque
 * pointers found through a hash table: the caller stores nothing.
 *
 * Room names (DESIGN.md):
 *	user:<id>	every socket of a user, joined by the gateway itself;
 *			nobody may join or leave it by request
 *	group:<id>	a group chat; membership is checked elsewhere
 *	chat:<a>:<b>	a private conversation, a < b (bytewise), a != b;
 *			only a and b may join
 * An <id> is 1..ROOMS_ID_MAX bytes with no ':' and no control character
 * (below 0x20, or 0x7f); other bytes are left to the JSON layer, which
 * only lets valid UTF-8 through.
 */
#ifndef SGW_ROOMS_H
#define SGW_ROOMS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define ROOMS_ID_MAX	128
/* "chat:" + id + ":" + id, the longest valid name, without the NUL. */
#define ROOMS_NAME_MAX	(5 + ROOMS_ID_MAX + 1 + ROOMS_ID_MAX)
#define ROOMS_NAME_SIZE	(ROOMS_NAME_MAX + 1)

enum rooms_kind {
	ROOMS_USER = 1,
	ROOMS_GROUP,
	ROOMS_CHAT,
	ROOMS_PRESENCE		/* presence:<id>: who hears of <id>, scoped mode */
};

/* A parsed room name; a and b point into the name (not NUL-terminated). */
struct rooms_ref {
	enum rooms_kind	 kind;
	const char	*a;		/* the id; chat: the smaller id */
	size_t		 alen;
	const char	*b;		/* chat: the larger id, else NULL */
	size_t		 blen;
};

/* rooms_may_join() and rooms_may_leave() reasons, see rooms_strerror(). */
#define ROOMS_OK		 0
#define ROOMS_ERR_PERSONAL	-1	/* user:* is managed by the gateway */
#define ROOMS_ERR_NOT_PARTICIPANT -2	/* chat:a:b and the user is neither */
#define ROOMS_ERR_INVALID	-3	/* not a room name */

/* rooms_join(): the socket is in as many rooms as rooms_set_max() allows. */
#define ROOMS_JOIN_FULL		-2

struct rooms;

typedef void	 rooms_sock_cb(void *, void *);
typedef void	 rooms_name_cb(void *, const char *, size_t);

/* rooms.c: the index */
struct rooms	*rooms_new(uint64_t);
void		 rooms_free(struct rooms *);
void		 rooms_set_max(struct rooms *, size_t);
int		 rooms_join(struct rooms *, const char *, size_t, void *);
int		 rooms_leave(struct rooms *, const char *, size_t, void *);
size_t		 rooms_leave_all(struct rooms *, void *);
void		 rooms_members(struct rooms *, const char *, size_t,
		     rooms_sock_cb *, void *);
size_t		 rooms_count(const struct rooms *, const char *, size_t);
bool		 rooms_is_member(const struct rooms *, const char *, size_t,
		     void *);
void		 rooms_of(const struct rooms *, void *, rooms_name_cb *,
		     void *);
size_t		 rooms_of_count(const struct rooms *, void *);
size_t		 rooms_total(const struct rooms *);

/* rooms.c: names */
int		 rooms_name_user(const char *, size_t, char *);
int		 rooms_name_group(const char *, size_t, char *);
int		 rooms_name_chat(const char *, size_t, const char *, size_t,
		     char *);
bool		 rooms_id_valid(const char *, size_t);
int		 rooms_parse(const char *, size_t, struct rooms_ref *);
int		 rooms_may_join(const struct rooms_ref *, const char *, size_t);
int		 rooms_may_leave(const struct rooms_ref *, const char *,
		     size_t);
const char	*rooms_strerror(int);

#endif /* SGW_ROOMS_H */
