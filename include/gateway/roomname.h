/*
 * roomname: the gateway's rules for room names.  Pure C: no I/O, no event
 * loop, no logging.  The room index (cluster/rooms.h) takes any name of
 * 1..ROOMS_NAME_MAX bytes and knows none of this.
 *
 * Room names (DESIGN.md):
 *	user:<id>	every socket of a user, joined by the gateway itself;
 *			nobody may join or leave it by request
 *	group:<id>	a group chat; membership is checked elsewhere
 *	chat:<a>:<b>	a private conversation, a < b (bytewise), a != b;
 *			only a and b may join
 *	presence:<id>	who hears of <id>'s presence (scoped mode)
 * An <id> is 1..ROOMNAME_ID_MAX bytes with no ':' and no control character
 * (below 0x20, or 0x7f); other bytes are left to the JSON layer, which
 * only lets valid UTF-8 through.
 */
#ifndef SGW_ROOMNAME_H
#define SGW_ROOMNAME_H

#include <stddef.h>
#include <stdbool.h>

#define ROOMNAME_ID_MAX	128
/* "chat:" + id + ":" + id, the longest valid name, without the NUL. */
#define ROOMNAME_MAX	(5 + ROOMNAME_ID_MAX + 1 + ROOMNAME_ID_MAX)
#define ROOMNAME_SIZE	(ROOMNAME_MAX + 1)

enum roomname_kind {
	ROOMNAME_USER = 1,
	ROOMNAME_GROUP,
	ROOMNAME_CHAT,
	ROOMNAME_PRESENCE	/* presence:<id>: who hears of <id>, scoped */
};

/* A parsed room name; a and b point into the name (not NUL-terminated). */
struct roomname_ref {
	enum roomname_kind kind;
	const char	*a;		/* the id; chat: the smaller id */
	size_t		 alen;
	const char	*b;		/* chat: the larger id, else NULL */
	size_t		 blen;
};

/* roomname_may_join() and _may_leave() reasons, see roomname_strerror(). */
#define ROOMNAME_OK		 0
#define ROOMNAME_ERR_PERSONAL	-1	/* user:* is managed by the gateway */
#define ROOMNAME_ERR_NOT_PARTICIPANT -2	/* chat:a:b and the user is neither */
#define ROOMNAME_ERR_INVALID	-3	/* not a room name */

/* roomname.c */
int		 roomname_user(const char *, size_t, char *);
int		 roomname_group(const char *, size_t, char *);
int		 roomname_chat(const char *, size_t, const char *, size_t,
		     char *);
bool		 roomname_id_valid(const char *, size_t);
int		 roomname_parse(const char *, size_t, struct roomname_ref *);
int		 roomname_may_join(const struct roomname_ref *, const char *,
		     size_t);
int		 roomname_may_leave(const struct roomname_ref *, const char *,
		     size_t);
const char	*roomname_strerror(int);

#endif /* SGW_ROOMNAME_H */
