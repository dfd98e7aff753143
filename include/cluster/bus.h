/*
 * The message bus between the workers of one gateway (layer 3, cluster).
 * A worker appends records {type, bytes} with bus_send(); what it appends
 * during one loop iteration leaves as one message per peer, and each
 * record reaches each peer of the set once, in order, while both ends
 * live.  Losses are counted, never silent: "dropped" at the sender (a
 * peer more than BUS_BACKLOG_MAX behind), and the same loss as "gaps" at
 * the receiver, so a cluster-wide figure sums one of the two.  A
 * record in flight when a link closes is lost with it; the peer_down /
 * peer_up pair below is how the state above resynchronises.  bus.c says
 * why this is a mesh of push/pull sockets and not nng bus0.
 *
 * Create the bus after fork() (nng starts threads).  Callbacks run on the
 * loop's thread: from the loop, or from bus_set_peers() (peer_down), never
 * from bus_send().  bus_free() must not be called from a callback.
 */
#ifndef SGW_BUS_H
#define SGW_BUS_H

#include <stddef.h>
#include <stdint.h>

struct bus;
struct ev_loop;

#define BUS_WID_MAX	4095			/* worker ids are 0..4095 */
#define BUS_MSG_MAX	(1024u * 1024)		/* one message on the wire */
#define BUS_HDR_LEN	20
#define BUS_REC_HDR_LEN	5			/* type u8, length u32 */
#define BUS_RECORD_MAX	(BUS_MSG_MAX - BUS_HDR_LEN - BUS_REC_HDR_LEN)
#define BUS_BACKLOG_MAX	(16u * 1024 * 1024)	/* per peer, then drop */

struct bus_ops {
	/* One call per record; data is valid only during the call. */
	void	(*recv)(void *arg, int from, uint8_t type, const void *data,
		    size_t len);
	/*
	 * Our link to wid is up, new or again: send it your whole state
	 * (a digest).  May repeat without a peer_down in between.
	 */
	void	(*peer_up)(void *arg, int wid);
	/*
	 * Forget what wid told you: its link to us closed (it died or
	 * restarted) or it left the set.  It sends its whole state again
	 * from its own peer_up.  May repeat.
	 */
	void	(*peer_down)(void *arg, int wid);
};

struct bus_stats {
	uint64_t	batches;	/* loop iterations that sent records */
	uint64_t	sent_records;
	uint64_t	sent_msgs;	/* nng messages handed over, all peers */
	uint64_t	sent_bytes;
	uint64_t	dropped;	/* lost: peer too far behind (its gap) */
	uint64_t	discarded;	/* for a link that closed: no loss */
	uint64_t	recv_msgs;
	uint64_t	recv_records;
	uint64_t	recv_bytes;
	uint64_t	gaps;		/* messages a sender numbered, never seen */
	uint64_t	malformed;	/* bad header, truncated, replayed */
	uint64_t	foreign;	/* from a wid not in the set, or us */
	uint64_t	relistens;	/* dead listener restarted (nng#1518) */
	uint64_t	backlog;	/* bytes not yet handed to nng, now */
};

/* bus.c */
struct bus	*bus_new(struct ev_loop *, const char *, int,
		    const struct bus_ops *, void *);
void		 bus_free(struct bus *);
int		 bus_set_peers(struct bus *, const int *, size_t);
int		 bus_send(struct bus *, uint8_t, const void *, size_t);
void		 bus_flush(struct bus *);
void		 bus_stats(const struct bus *, struct bus_stats *);

#endif /* SGW_BUS_H */
