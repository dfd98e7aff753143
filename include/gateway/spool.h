/*
 * spool: a durable queue on disk for what a downstream service could not
 * take yet (issue 13: the chat service's messages), replayed in order when
 * the service answers again, also after a restart.  The spool knows
 * nothing of messages: a record is an opaque payload (the caller puts the
 * message and its idempotency key in it).
 *
 * Files.  Each worker appends to its own file, spool_dir/w<id>-<k>.spool
 * (spool_rec.h gives the format), which it holds under an exclusive
 * flock(2) for as long as it has it open; k is the first number whose file
 * no live process holds, so that a new generation's worker 2 does not
 * touch the file the old generation's worker 2 still drains.  A file that
 * no process holds belongs to a worker that is gone; spool_open() takes
 * back every such file of its own worker id, and spool_adopt() also those
 * of ids no worker has any more (the worker count went down).  A handle
 * replays the files it holds oldest first (by their creation time), and a
 * file taken over is deleted once all of it was taken.  Taking a file is
 * safe against every race: the lock, then a check that the name still
 * names the locked file (a file compacted by rename or deleted is
 * retried or left alone).
 *
 * Guarantees.
 *  - spool_append() writes the record with one write(2) before it
 *    returns: a crash of the process after that loses nothing; only a
 *    crash of the machine (power, kernel) can lose it, until the batched
 *    fdatasync(2) that makes it durable.  That fsync runs sync_ms after
 *    the first record not yet durable, or at once when sync_records are
 *    waiting; spool_durable() and the durable callback say up to which
 *    seq the records are on disk, so that a caller can hold its
 *    acknowledgement ("queued") until then and promise nothing that a
 *    power cut can take back.
 *  - Records are replayed in the order they were appended (per file;
 *    files oldest first).  spool_ack() drops the oldest; the ACK is
 *    written with the next fsync, so a crash can replay a record that
 *    was already taken, never skip one: the spool is at least once.
 *    The chat service's idempotency key (the message id) turns that into
 *    exactly once.
 *  - A torn tail (a crash during a write, or unsynced blocks lost) is
 *    found by the length and the CRC-32C of each record, cut when the file
 *    is opened, counted (torn, torn_bytes) and logged: never replayed as
 *    garbage.  Only records that were never durable can be in it.
 *  - A file never grows past max_bytes: the acked prefix is compacted
 *    away first (a new file renamed over the old one), and an append that
 *    would still pass it fails with EFBIG and is counted (refused).  When
 *    everything was taken, the file is truncated to its header.
 *
 * The calls block on the disk (write, fdatasync, and the rename of a
 * compaction); the batching keeps the fsyncs few.  Not thread-safe: one
 * handle per worker, on the worker's loop.  spool_peek_nth() reads ahead
 * of the oldest record without taking anything: the n-th record not
 * taken yet (0 is spool_peek()'s), counted from the oldest at each call,
 * so that an ack, a compaction or a dropped file never makes it stale;
 * a caller that keeps records read ahead keeps copies and takes them
 * with spool_ack() in order.  A file taken over by spool_adopt() may go
 * before the ones held (it is older): a caller with records read ahead
 * adopts only once it has taken them.  The durable callback runs
 * inside spool_append() or spool_sync() (or the timer) and must not
 * call back into the spool.  spool_dir must be on a local file system:
 * the locks are flock(2)'s.
 */
#ifndef SGW_SPOOL_H
#define SGW_SPOOL_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

struct spool;

struct spool_conf {
	const char	*dir;		/* spool_dir; must exist */
	int		 wid;		/* this worker's id, >= 0 */
	uint64_t	 max_bytes;	/* one file's size limit */
	unsigned	 sync_ms;	/* fsync this long after an append */
	unsigned	 sync_records;	/* or when this many wait; 0: 1 */
	struct ev_loop	*loop;		/* runs the sync timer; NULL: the
					   caller calls spool_sync() */
	void		(*durable)(void *, uint64_t);	/* after a sync */
	void		*arg;
};

struct spool_stats {
	uint64_t	 depth;		/* records not taken yet, all files */
	uint64_t	 bytes;		/* their payload bytes */
	uint64_t	 file_bytes;	/* the size of the files held */
	unsigned	 files;		/* files held, this worker's one too */
	uint64_t	 appended;	/* spool_append()s that succeeded */
	uint64_t	 acked;		/* spool_ack()s */
	uint64_t	 refused;	/* appends past max_bytes (EFBIG) */
	uint64_t	 errors;	/* appends that failed otherwise */
	uint64_t	 syncs;		/* fdatasync()s */
	uint64_t	 compactions;
	uint64_t	 torn;		/* torn tails cut */
	uint64_t	 torn_bytes;	/* and their bytes */
	uint64_t	 adopted;	/* files taken over from gone workers */
};

/* spool.c */
struct spool	*spool_open(const struct spool_conf *);
void		 spool_close(struct spool *);
int		 spool_append(struct spool *, const void *, size_t,
		     uint64_t *);
int		 spool_sync(struct spool *);
uint64_t	 spool_durable(const struct spool *);
int		 spool_peek(struct spool *, const void **, size_t *);
int		 spool_ack(struct spool *);
int		 spool_peek_nth(struct spool *, uint64_t, const void **,
		     size_t *);
int		 spool_adopt(struct spool *, int);
void		 spool_stats(const struct spool *, struct spool_stats *);

#endif /* SGW_SPOOL_H */
