/*
 * presence: who is online in the whole gateway, as one worker sees it.
 * Pure C: no I/O, no event loop, no logging.
 *
 * Each worker owns its local sockets and learns the others' from their
 * deltas on the bus ("worker 3: user u +1").  The bus drops messages, so
 * every worker also sends, now and then, a digest of its local users with
 * their socket counts; a receiver replaces all it knows about that worker
 * with the digest (presence_apply_digest), which repairs any lost delta.
 * A worker that dies is dropped at once (presence_drop_worker).
 *
 * Per user the table keeps the local socket count, a small array of
 * (worker, count) pairs for the other workers (most users have none or
 * one) and the total.  A user id is 1..PRESENCE_USER_MAX bytes of valid
 * UTF-8 without NUL (so it can always go into JSON); anything else is
 * refused with -1.  A user is online while the total is above zero.
 * The return values PRESENCE_ONLINE and PRESENCE_OFFLINE are the only
 * moments user_connected / user_disconnected are due.
 *
 * A digest too big for one bus message is cut into parts (presence_digest()
 * does it against a size cap; an empty table is one part with no entry),
 * in the wire format of presence_digest.h.  A receiver applies each part
 * as it comes (the counts in it are true) and, on the last part of a
 * digest it received whole and in order, removes what the digest did not
 * mention.  A part out of sequence, or any delta from that worker in the
 * middle of a digest, cancels that removal: the next digest will do it.
 * bus0 keeps one sender's messages in order, and a worker builds all parts
 * of a digest in one loop iteration, so this is only a safety net.
 *
 * Whole digests cost every receiver a lookup per user of the sender and a
 * sweep of its whole table: with W workers, W * W * users every interval,
 * which at 14 workers and 250,000 users kept an idle host's CPUs busy
 * (issue 16).  So a worker sends, every interval, only a summary of its
 * local sockets (presence_summary(): how many, and the sum of their users'
 * hashes), which each receiver compares with the same sum of what it
 * holds of that worker, kept up to date as deltas and digests come
 * (presence_check_summary(): O(1)).  Only a worker whose summary differs
 * (a delta was lost, or it is new to us) is asked for a whole digest
 * (presence_asks()); a worker sends one, too, when a peer's link comes up.
 */
#ifndef SGW_PRESENCE_H
#define SGW_PRESENCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define PRESENCE_USER_MAX	128	/* bytes of a user id */
#define PRESENCE_WID_MAX	4095	/* highest worker id */

/* Results of the add and del functions (or -1: bad argument, no memory). */
#define PRESENCE_NOCHANGE	0
#define PRESENCE_ONLINE		1	/* first socket in the gateway */
#define PRESENCE_OFFLINE	2	/* last socket in the gateway closed */

struct presence;

/* Produces a digest part by part: see presence_digest(). */
struct presence_digest_cursor {
	uint64_t	 gen;		/* table generation at the start */
	size_t		 slot;		/* next slot to look at */
	uint32_t	 id;
	uint16_t	 part;
	bool		 done;
};

/* A summary of one worker's sockets: see above. */
struct presence_sum {
	uint64_t	 hash;		/* sum of count * FNV-1a 64 (user) */
	uint64_t	 sockets;	/* sum of count */
};

/* Called with a user id valid only during the call. */
typedef void	 presence_cb(void *, const char *);

/* presence.c */
struct presence	*presence_new(unsigned, uint64_t);
void		 presence_free(struct presence *);
int		 presence_local_add(struct presence *, const char *);
int		 presence_local_del(struct presence *, const char *);
int		 presence_remote_add(struct presence *, unsigned,
		     const char *);
int		 presence_remote_del(struct presence *, unsigned,
		     const char *);
int		 presence_drop_worker(struct presence *, unsigned,
		     presence_cb *, void *);
bool		 presence_online(const struct presence *, const char *);
uint32_t	 presence_local_count(const struct presence *, const char *);
uint64_t	 presence_total_count(const struct presence *, const char *);
size_t		 presence_count(const struct presence *);
size_t		 presence_local_users(const struct presence *);
void		 presence_list(const struct presence *, presence_cb *, void *);

/* presence.c: digests of the table (the wire format: presence_digest.h) */
void		 presence_digest_begin(struct presence *,
		     struct presence_digest_cursor *);
int		 presence_digest(struct presence *,
		     struct presence_digest_cursor *, uint8_t *, size_t,
		     size_t *);
void		 presence_summary(const struct presence *,
		     struct presence_sum *);
int		 presence_check_summary(struct presence *, unsigned,
		     const struct presence_sum *);
size_t		 presence_asks(struct presence *, uint16_t *, size_t);
int		 presence_apply_digest(struct presence *, unsigned,
		     const uint8_t *, size_t, presence_cb *, presence_cb *,
		     void *);

#endif /* SGW_PRESENCE_H */
