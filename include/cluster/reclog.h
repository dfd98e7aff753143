/*
 * reclog: the host's recovery log, in memory shared by the master and
 * every worker (issue 15, connection state recovery).
 *
 * The master maps it before its first fork (reclog_new), so it outlives
 * any worker: a worker killed with SIGKILL loses nothing that was in it,
 * and a reload's new workers inherit the same mapping.  It holds:
 *
 *   - the log: every EVENT packet without an ack id that the host sends
 *     to a room or to one socket, as the encoded frame, in one global
 *     order.  Each entry gets the next offset of the host; the frame
 *     carries that offset as its last argument (socket.io's connection
 *     state recovery: the client keeps the last one it saw), written into
 *     a RECLOG_OFF_LEN-character placeholder the caller leaves in the
 *     frame.  A byte ring of a fixed size: the oldest entries go when
 *     space is needed.  Workers deliver from the log in its order
 *     (reclog_read), so every socket receives its frames in offset order
 *     and "everything after offset X" is exactly what it missed.
 *
 *   - the sessions: one fixed-size slot per socket that may be recovered,
 *     keyed by its pid (the private id the client gets in the CONNECT
 *     answer): its socket id, a hash of its user, the rooms it joined, the
 *     worker serving it, and whether it is live or parked (disconnected
 *     at since_ms, waiting for its client to come back).  Slots are
 *     handed out densely, so the memory touched follows the sessions.
 *
 * One process-shared robust mutex guards both: a process killed while
 * holding it leaves the region consistent (the next locker repairs what
 * the dead one was writing).  Readers copy an entry out before handing it
 * on, and never hand on an entry the writers may be overwriting.
 * Times are CLOCK_MONOTONIC milliseconds, the same in every process.
 * No I/O, no event loop, no logging: the gateway and the master decide.
 */
#ifndef SGW_RECLOG_H
#define SGW_RECLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An offset as the client holds it: 8 hex of the log's epoch, 16 of seq. */
#define RECLOG_OFF_LEN		24
/* A pid: 8 hex of the log's epoch, 16 base64url random characters. */
#define RECLOG_PID_LEN		24
#define RECLOG_SID_LEN		20	/* a Socket.IO socket id (sid.h) */
#define RECLOG_USER_HASH	16	/* bytes of the user id's hash */
/* The room names a session slot holds (each NUL-terminated). */
#define RECLOG_ROOMS_BYTES	256

/* Errors (negative): why a take or a scan cannot be done. */
#define RECLOG_E_NOSESSION	-1	/* no such pid (or expired and gone) */
#define RECLOG_E_EXPIRED	-2	/* parked longer than the limit */
#define RECLOG_E_LIVE		-3	/* still served by a live worker */
#define RECLOG_E_USER		-4	/* another user's session */
#define RECLOG_E_GONE		-5	/* the offset left the log, or is not
					   one of this log's */
#define RECLOG_E_FULL		-6	/* no free session slot */
#define RECLOG_E_ROOMS		-7	/* rooms over RECLOG_ROOMS_BYTES */
#define RECLOG_E_TOOMANY	-8	/* more missed packets than allowed */

#define RECLOG_LIVE	1
#define RECLOG_PARKED	2

/* Who an entry is for. */
#define RECLOG_TO_ROOM		0	/* the members of room */
#define RECLOG_TO_SOCKET	1	/* the socket whose sid is room */

struct reclog;

/* What a worker appends. */
struct reclog_put {
	int		 to;		/* RECLOG_TO_ROOM or _SOCKET */
	int		 worker;	/* -1: every worker delivers it; else
					   only that wid (a frame from Redis,
					   which every worker hears) */
	const char	*room;		/* room name, or the socket's sid */
	size_t		 rlen;
	const char	*except;	/* a sid left out; NULL: none */
	size_t		 elen;
	char		*frame;		/* the encoded frame, caller's */
	size_t		 flen;
	long		 patch;		/* index in frame of the RECLOG_OFF_LEN
					   placeholder; -1: none */
	int		 origin;	/* the appender's wid (issue 15, across
					   hosts: which worker published it) */
};

/* An entry as a reader sees it: a private copy, valid during the call. */
struct reclog_ent {
	uint64_t	 seq;
	uint64_t	 ms;		/* appended, monotonic ms */
	int		 to;
	int		 worker;
	const char	*room;
	size_t		 rlen;
	const char	*except;	/* NULL: none */
	size_t		 elen;
	const char	*frame;
	size_t		 flen;
	int		 origin;	/* the appender's wid */
};

/* A reader's place in the log (one per worker). */
struct reclog_cursor {
	uint64_t	 next;		/* the seq it reads next */
	uint64_t	 lost;		/* entries it fell behind and missed */
};

/* A session slot as the callers see it. */
struct reclog_sess {
	char		 pid[RECLOG_PID_LEN + 1];
	char		 sid[RECLOG_SID_LEN + 1];
	uint8_t		 user[RECLOG_USER_HASH];
	int		 worker;	/* wid serving it, while live */
	int		 state;		/* RECLOG_LIVE, RECLOG_PARKED */
	uint64_t	 since_ms;	/* parked: when it was */
	size_t		 rooms_len;	/* bytes used in rooms */
	char		 rooms[RECLOG_ROOMS_BYTES];	/* "a\0b\0" */
};

struct reclog_stats {
	uint64_t	 log_bytes;	/* the ring's size */
	uint64_t	 log_used;	/* bytes held now */
	uint64_t	 entries;	/* held now */
	uint64_t	 appended;	/* since the start */
	uint64_t	 evicted;	/* entries dropped for space */
	uint64_t	 too_big;	/* appends refused: over a quarter */
	uint64_t	 sessions;	/* slots in use */
	uint64_t	 sessions_max;
	uint64_t	 parked;	/* slots parked now */
	uint64_t	 repaired;	/* a dead locker's writes undone */
};

/* Called for each entry; nonzero stops the walk after this entry. */
typedef int	 reclog_cb(void *, const struct reclog_ent *);

/* reclog.c: made by the master before fork; NULL and err on failure. */
struct reclog	*reclog_new(size_t, size_t, uint32_t, char *, size_t);
void		 reclog_free(struct reclog *);
uint64_t	 reclog_now_ms(void);
uint32_t	 reclog_epoch(const struct reclog *);

/* The log. */
int		 reclog_append(struct reclog *, const struct reclog_put *,
		     uint64_t *);
void		 reclog_format_off(const struct reclog *, uint64_t,
		     char [RECLOG_OFF_LEN]);
int		 reclog_parse_off(const struct reclog *, const char *, size_t,
		     uint64_t *);
void		 reclog_cursor_init(struct reclog *, struct reclog_cursor *);
size_t		 reclog_read(struct reclog *, struct reclog_cursor *,
		     size_t, reclog_cb *, void *);
int		 reclog_scan(struct reclog *, uint64_t, uint64_t, reclog_cb *,
		     void *);
uint64_t	 reclog_head(struct reclog *);

/* The sessions. */
int		 reclog_sess_put(struct reclog *, const struct reclog_sess *);
int		 reclog_sess_park(struct reclog *, const char *, uint64_t);
int		 reclog_sess_drop(struct reclog *, const char *);
/*
 * take: the slot becomes live on the taker's wid; *out is it as taken,
 * but with worker the wid that served it before (its frames from Redis,
 * who keeps its ghost).  Another user's slot is RECLOG_E_USER whatever
 * its state, then a live one RECLOG_E_LIVE.
 */
int		 reclog_sess_take(struct reclog *, const char *,
		     const uint8_t [RECLOG_USER_HASH], int, uint64_t,
		     struct reclog_sess *);
/*
 * get: a copy of the slot as it is now, changing nothing (a live
 * session's worker and sid: the takeover of a live session; who serves it
 * for an ask from another host), or RECLOG_E_NOSESSION.
 */
int		 reclog_sess_get(struct reclog *, const char *,
		    struct reclog_sess *);
size_t		 reclog_worker_gone(struct reclog *, int, uint64_t);
size_t		 reclog_expire(struct reclog *, uint64_t, uint64_t);
void		 reclog_stats(struct reclog *, struct reclog_stats *);

/*
 * Tests only: called inside the locked writes, at 1 (an entry half
 * copied), 2 (an entry published, the head not yet moved) and 3 (a
 * session slot written, the slot count not yet).  NULL in the daemon.
 */
extern void	(*reclog_test_hook)(int);

#endif /* SGW_RECLOG_H */
