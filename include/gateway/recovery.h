/*
 * recovery: the pure parts of connection state recovery (issue 15),
 * recmatch.c: a socket's pid, what a reconnecting client asks for in its
 * CONNECT auth ({pid, offset}: hostile strings), the rooms a session slot
 * keeps, and which of the log's entries a session missed.  No I/O, no
 * event loop, no logging: recovery.c does the rest (gateway.h).
 */
#ifndef SGW_RECOVERY_H
#define SGW_RECOVERY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reclog.h"

/*
 * A log entry's room that means every socket (logdeliver.c's LOGDEL_ALL:
 * presence in mode "all"); socket.io replays such a broadcast to every
 * session.
 */
#define RECOVERY_ROOM_ALL	"*"

/* Random bytes in a pid: 16 base64url characters. */
#define RECOVERY_PID_RANDOM	12

/* recovery_ask(): what the CONNECT's auth asks. */
#define RECOVERY_ASK_NONE	0	/* no pid and offset: a new socket */
#define RECOVERY_ASK		1	/* both, well formed */
#define RECOVERY_ASK_BAD	-1	/* there, but not of our shape */

/* A reconnecting client's ask, checked for its shape. */
struct recovery_ask {
	char		 pid[RECLOG_PID_LEN + 1];
	char		 off[RECLOG_OFF_LEN + 1];
};

/* recmatch.c */
void	recovery_pid_make(uint32_t, const uint8_t [RECOVERY_PID_RANDOM],
	    char [RECLOG_PID_LEN + 1]);
bool	recovery_pid_valid(const char *, size_t);
int	recovery_ask(json_t *, struct recovery_ask *);
int	recovery_user_hash(const char *, size_t, uint8_t [RECLOG_USER_HASH]);
void	recovery_rooms_clear(struct reclog_sess *);
int	recovery_rooms_add(struct reclog_sess *, const char *, size_t);
bool	recovery_wants(const struct reclog_sess *, int, const char *, size_t,
	    const struct reclog_ent *);

#endif /* SGW_RECOVERY_H */
