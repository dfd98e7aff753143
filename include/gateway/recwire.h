/*
 * recwire: the messages of connection state recovery across hosts
 * (issue 15, recremote.c), pure: JSON text in and out, no I/O.  Both
 * travel over Redis, on the gateways' own channels, which socket.io's
 * adapters do not subscribe to:
 *
 *   <key>-gw#rec		the ask, heard by every gateway worker:
 *	{"t":"ask","id":N,"uid":U,"pid":P,"off":O,"user":H}
 *	N the asker's number for it, U its worker's uid (its answer
 *	channel), P and O the client's pid and offset, H its user's id
 *	(the answering host checks it against the session's, and derives
 *	the user's room from it, as for a local recovery);
 *   <key>-gw#rec#<uid>	the answer, heard by the asker alone:
 *	{"t":"ans","id":N,"why":-1,"sid":S,"rooms":[...],"frames":[...]}
 *	or {"t":"ans","id":N,"why":R} (R a GW_REC_* reason, not recovered).
 *
 * Whatever comes from Redis may come from anybody who can publish there:
 * recwire_ans_decode() checks every field's type, shape and size, and
 * refuses the message whole (RECWIRE_MAX, RECWIRE_FRAMES_MAX).
 */
#ifndef SGW_RECWIRE_H
#define SGW_RECWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "reclog.h"

#define RECWIRE_MAX		(1024u * 1024)	/* bytes of one message */
#define RECWIRE_UID_MAX		127	/* a worker's uid (redislink.c) */
#define RECWIRE_FRAMES_MAX	10000	/* frames in one answer */
#define RECWIRE_USER_MAX	128	/* a user id (auth.h's AUTH_USER_MAX) */

struct recwire_ask {
	uint64_t	 id;
	char		 uid[RECWIRE_UID_MAX + 1];
	char		 pid[RECLOG_PID_LEN + 1];
	char		 off[RECLOG_OFF_LEN + 1];
	char		 user[RECWIRE_USER_MAX + 1];
};

struct recwire_ans {
	uint64_t	 id;
	int		 why;		/* -1: recovered; else a reason >= 0 */
	char		 sid[RECLOG_SID_LEN + 1];
	size_t		 rooms_len;	/* "a\0b\0", as a slot keeps them */
	char		 rooms[RECLOG_ROOMS_BYTES];
	size_t		 n;		/* frames, each malloc'd */
	char		**f;
	size_t		*flen;
};

/* recwire.c; the encoders' text is malloc'd (NULL: no memory, too big) */
char	*recwire_ask_encode(const struct recwire_ask *, size_t *);
int	 recwire_ask_decode(const char *, size_t, struct recwire_ask *);
char	*recwire_ans_encode(uint64_t, int, const char *, const char *,
	    size_t, char *const *, const size_t *, size_t, size_t *);
int	 recwire_ans_decode(const char *, size_t, size_t,
	    struct recwire_ans *);
void	 recwire_ans_free(struct recwire_ans *);

#endif /* SGW_RECWIRE_H */
