/*
 * The message bus between the workers of one gateway (layer 3, cluster).
 * A worker appends records {type, bytes} with bus_send(); everything
 * appended during one loop iteration leaves as one message per peer, in
 * order, and every record reaches every live peer exactly once unless a
 * peer's backlog passes BUS_BACKLOG_MAX (then the loss is counted on both
 * sides: "dropped" here, "gaps" there).  See bus.c for why this is a mesh of
 * push/pull sockets and not nng bus0.
 *
 * Create the bus after fork(): nng starts threads.  Callbacks run on the
 * loop's thread, never inside bus_send(); bus_free() must not be called
 * from one of them.
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
	/* Our link to wid is up: send it what it must know (a digest). */
	void	(*peer_up)(void *arg, int wid);
	/*
	 * wid is gone (its link closed, or it left the set): forget what it
	 * told us.  Also called for a peer that left the set while its link
	 * was down, if it had sent us anything since its last peer_down.
	 */
	void	(*peer_down)(void *arg, int wid);
};

struct bus_stats {
	uint64_t	batches;	/* loop iterations that sent records */
	uint64_t	sent_records;
	uint64_t	sent_msgs;	/* nng messages handed over, all peers */
	uint64_t	sent_bytes;
	uint64_t	dropped;	/* messages discarded: cap, peer gone */
	uint64_t	recv_msgs;
	uint64_t	recv_records;
	uint64_t	recv_bytes;
	uint64_t	gaps;		/* messages a sender numbered, never seen */
	uint64_t	malformed;	/* bad header, truncated, replayed */
	uint64_t	foreign;	/* from a wid not in the set, or us */
	uint64_t	backlog;	/* bytes waiting for slow peers, now */
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
