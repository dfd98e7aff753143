/*
 * rooms: the local room index of one worker.  Pure C: no I/O, no event
 * loop, no logging.
 *
 * The index says which of this worker's sockets are in which room, both
 * ways: a room keeps a dense array of its sockets (fan-out walks it with
 * no allocation and no pointer chasing), a socket keeps the list of its
 * rooms (disconnecting costs O(its rooms)).  Each membership knows its
 * index in both arrays, so leaving is O(1) once found.  Sockets are opaque
 * pointers found through a hash table: the caller stores nothing.
 *
 * A room is any name of 1..ROOMS_NAME_MAX bytes: what the names mean, and
 * which are valid, is the gateway's business (gateway/roomname.h).
 */
#ifndef SGW_ROOMS_H
#define SGW_ROOMS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* The longest room name the index takes (roomname.h's names fit). */
#define ROOMS_NAME_MAX	262

/* rooms_join(): the socket is in as many rooms as rooms_set_max() allows. */
#define ROOMS_JOIN_FULL		-2

struct rooms;

typedef void	 rooms_sock_cb(void *, void *);
typedef void	 rooms_name_cb(void *, const char *, size_t);

/* rooms.c */
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
void		 rooms_set_hooks(struct rooms *, rooms_name_cb *,
		     rooms_name_cb *, void *);
void		 rooms_each(const struct rooms *, rooms_name_cb *, void *);

#endif /* SGW_ROOMS_H */
