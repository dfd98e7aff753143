/*
 * adminjson: what the Socket.IO Admin UI (issue 18, @socket.io/admin-ui
 * 0.5.x, its dist/typed-events.d.ts) reads, built from plain values, and
 * its basic authentication checked.  Pure C on jansson and libcrypt: no
 * I/O, no logging.
 *
 * A socket is serialised as the reference's serialize() does it: id,
 * clientId (the first 12 characters of the Engine.IO id), transport, nsp,
 * data (the gateway's: {user_id}), handshake and rooms (its own id
 * first, as socket.io has it).  The handshake has what the gateway keeps:
 * no headers, of the query only what the protocol puts there, and an
 * empty auth: the token is never shown.
 */
#ifndef SGW_ADMINJSON_H
#define SGW_ADMINJSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADMINJSON_CLIENT_ID	12	/* characters of the Engine.IO id */
/*
 * The UI's session: after a password login the reference sends a
 * sessionId the UI logs in with again after a reload.  Ours is made, not
 * stored, so any worker of any gateway with the same admin_password_hash
 * takes it: its expiry (16 hex digits, unix s) and an HMAC-SHA256 of it
 * keyed by the hash (32 hex digits).  It lasts ADMINJSON_SESSION_TTL.
 */
#define ADMINJSON_SESSION_LEN	48
#define ADMINJSON_SESSION_TTL	86400

struct adminjson_sock {
	const char	*id;		/* the Socket.IO id */
	const char	*eio_sid;	/* the Engine.IO id */
	bool		 websocket;	/* else polling */
	const char	*user;
	size_t		 ulen;
	const char	*address;
	int64_t		 issued;	/* unix ms */
	bool		 secure;
};

struct adminjson_stats {
	const char	*server_id;	/* "<host>#<pid>" */
	const char	*hostname;
	long		 pid;
	double		 uptime;	/* s */
	uint64_t	 clients;	/* Engine.IO sessions */
	uint64_t	 polling;	/* of which on long-polling */
	uint64_t	 sockets;	/* in "/" */
	uint64_t	 admins;	/* in "/admin" */
};

/* An operation of the UI (its ClientEvents), checked: strings borrowed. */
#define ADMINJSON_OP_JOIN	1
#define ADMINJSON_OP_LEAVE	2
#define ADMINJSON_OP_DISCONNECT	3
#define ADMINJSON_OP_EMIT	4
#define ADMINJSON_ROOM_MAX	262	/* rooms.h's ROOMS_NAME_MAX */
#define ADMINJSON_EVENT_MAX	256

struct adminjson_op {
	int		 kind;
	const char	*room;		/* join, leave */
	size_t		 rlen;
	const char	*filter;	/* a room or a socket id; NULL: all */
	size_t		 flen;
	bool		 close;		/* _disconnect */
	const char	*event;		/* emit */
	size_t		 first_arg;	/* emit: index of its first argument */
};

/* adminjson.c */
json_t	*adminjson_handshake(bool, const char *, int64_t, bool);
json_t	*adminjson_socket(const struct adminjson_sock *, json_t *);
json_t	*adminjson_stats(const struct adminjson_stats *);
json_t	*adminjson_config(bool);
char	*adminjson_packet(const char *, json_t *, size_t *);
int	 adminjson_login(const char *, const char *, json_t *);
bool	 adminjson_hash_valid(const char *);
int	 adminjson_op(json_t *, struct adminjson_op *);
int	 adminjson_session_make(const char *, int64_t, char *, size_t);
int	 adminjson_session_check(const char *, const char *, int64_t);

#endif /* SGW_ADMINJSON_H */
