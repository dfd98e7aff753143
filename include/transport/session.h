/*
 * Engine.IO sessions (layer 2): one per client, whatever its transport.
 *
 * A session starts on long-polling or WebSocket, may upgrade from the first
 * to the second, keeps the heartbeat, and queues what the application sends
 * until the transport can take it.  The Socket.IO layer (socketio.c) sits on
 * top and the application (gateway or conformance server) on top of that,
 * through struct app.
 */
#ifndef SGW_SESSION_H
#define SGW_SESSION_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "sid.h"

/* The longest pid an application gives a socket (socketio_set_ids()). */
#define SESSION_PID_MAX		32

struct app;
struct eio_packet;
struct json_t;
struct lws;
struct peer;
struct relay_peer;
struct session;
struct sio_binary;
struct transport;

enum session_kind {
	SESSION_POLLING = 0,
	SESSION_WEBSOCKET
};

enum session_state {
	SESSION_OPEN = 0,
	SESSION_UPGRADING,	/* probe done on the WebSocket, waiting for 5 */
	SESSION_CLOSED
};

struct session {
	char			 sid[SID_LEN + 1];
	char			 sio_sid[SID_LEN + 1];	/* Socket.IO "/" id */
	/* Small fields packed where the two ids leave room. */
	uint16_t		 auth_tries;	/* token checks this minute */
	uint8_t			 kind;		/* enum session_kind */
	uint8_t			 state;		/* enum session_state */
	uint8_t			 pins;		/* callers still using it */
	uint8_t			 reap_queued;	/* on the reaper's list */
	struct transport	*t;
	struct lws		*ws;		/* the WebSocket, if any */
	struct lws		*poll;		/* a pending long-poll GET */
	struct relay_peer	*rpeer;		/* ... or one another worker holds */
	struct outq		 q;
	ev_timer		 heartbeat;	/* ping interval, then timeout */
	ev_timer		 deadline;	/* connect and upgrade timeouts */
	uint8_t			 awaiting_pong;
	uint8_t			 ws_closing;	/* close once the queue is out */
	uint8_t			 corked;	/* hold frames: a burst comes */
	uint8_t			 poll_noop;	/* answer the poll with "6" */
	uint8_t			 draining;
	uint32_t		 rpoll_id;
	uint32_t		 nsp_mask;	/* Socket.IO namespaces joined */
	uint32_t		 connect_by;	/* ms, loop clock: CONNECT due */
	uint32_t		 auth_since;	/* that minute's start, loop s */
	const char		*doom;		/* close asked for in a send */
	struct session		*reap_next;	/* the reaper's list */
	struct sio_binary	*bin;		/* binary packet being assembled */
	void			*app_data;
	char			*hs_token;	/* Bearer header or ?token= */
	struct peer		*held;		/* its address, until CONNECT */
	struct session		*hnext;		/* sid hash chain */
	struct session		*prev, *next;	/* every live session */
	uint32_t		 nsp_pending;	/* CONNECTs the app answers later */
	/*
	 * Connection state recovery (issue 15): the pid the CONNECT answer
	 * carries ("": none; socketio_set_ids()), and the data of the
	 * CONNECT the app answers later (one namespace's: pending_nsp).
	 */
	char			 sio_pid[SESSION_PID_MAX + 1];
	uint8_t			 pending_nsp;
	struct json_t		*pending_auth;
	uint8_t			 admin_origin;	/* may open /admin (issue 18) */
};

/* session.c */
struct session	*session_new(struct transport *, enum session_kind);
struct session	*session_find(struct transport *, const char *, size_t);
void		 session_send(struct session *, struct frame *);
int		 session_send_text(struct session *, const char *, size_t);
void		 session_close(struct session *, const char *);
void		 session_close_soon(struct session *, const char *);
void		 session_detach_ws(struct session *);
void		 session_detach_poll(struct session *);
void		 session_pin(struct session *);
void		 session_cork(struct session *);
void		 session_uncork(struct session *);
void		 session_wake_poll(struct session *);
bool		 session_drained(const struct session *);
void		 session_unpin(struct session *);
void		 session_receive(struct session *, const struct eio_packet *);
void		 session_start_heartbeat(struct session *);
void		 session_ws_writable(struct session *);
bool		 session_upgrade_done(struct session *);
void		 session_flush_ws(struct session *);
size_t		 session_open_packet(struct session *, uint8_t *, size_t);
void		 session_take_token(struct session *, struct lws *);
double		 session_connect_left(const struct session *);
void		 session_connect_within(struct session *, double);
void		 session_unhold(struct session *);
size_t		 session_address(const struct session *, char *, size_t);

#endif /* SGW_SESSION_H */
