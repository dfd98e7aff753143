/*
 * Layer 3: the worker's HTTP and WebSocket server on libwebsockets, running
 * on the worker's libev loop.  It owns every client connection of the
 * worker.
 *
 * Its files, lowest first.  Read them in this order: each calls only the
 * files before it.  Where a lower file must reach a higher one it calls
 * through struct transport_calls (below), which transport.c fills in, as
 * the application sets struct app (app.h).  tests/check-order.sh fails on
 * a call that goes up this list; keep a new file's line in it.
 *
 *	frame.c		frames, shared by recipients; the output queue
 *	client.c	TCP clients by address: limits, adoption into lws
 *	hup.c		a waiting request's client hanging up
 *	http.c		HTTP replies, CORS, the query, a body's deadline
 *	session.c	the Engine.IO session: heartbeat, queue, close
 *	socketio.c	the Socket.IO layer of a session
 *	ws.c		WebSocket
 *	polling.c	HTTP long-polling
 *	relay.c		long-polls for another worker's sessions
 *	metrics.c	/health and /metrics, a leaf the router calls
 *	uifiles.c	the Admin UI's static files (issue 18), a leaf too
 *	router.c	an HTTP request, by path: polling, metrics, the
 *			Admin UI's files, 404
 *	handoff.c	a socket passed to the worker that owns its session
 *	tlsfront.c	TLS in front of the hand-off
 *	accept.c	the accept decision: here, hand off, TLS, refuse
 *	transport.c	the lws context and its callbacks, the drain
 *
 * Below them all, in the core layer: fdpass.c (SCM_RIGHTS) and unixsock.c
 * (run_dir sockets and who may be at their other end).
 */
#ifndef SGW_TRANSPORT_H
#define SGW_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "stats.h"

struct app;
struct conn;
struct eio_packet;
struct ev_loop;
struct lws;
struct lws_context;
struct lws_vhost;
struct handoff;
struct acceptq;
struct relay;
struct body_wait;
struct session;
struct transport;

/* The methods of a relayed request (relay.c, polling.c). */
#define RELAY_GET	1
#define RELAY_POST	2

/*
 * The calls that go up the order above: a lower file reaches a higher one
 * only through this table, which transport.c, at the top, fills in (as
 * the application sets struct app for the whole transport).
 */
struct transport_calls {
	/* session.c -> socketio.c: a message for Socket.IO; a close */
	void	(*sio_receive)(struct session *, const struct eio_packet *);
	void	(*sio_closed)(struct session *, const char *);
	/* session.c -> relay.c: a relayed poll has something to answer */
	void	(*relay_wake)(struct session *);
	/* polling.c -> relay.c: a request for another worker's session */
	int	(*relay_forward)(struct relay *, struct lws *, struct conn *,
		    int, int, const char *, const void *, size_t);
	void	(*relay_cancel)(struct relay *, struct conn *);
	/* session.c, tlsfront.c -> transport.c: one went; drained yet? */
	void	(*gone)(struct transport *);
};

#define TRANSPORT_BUCKETS	4096	/* sid hash; grows with nothing */

/*
 * The longest request line or header kept whole, out of max_header_size
 * for the whole request: a longer one is answered 414 or 431 (router.c).
 */
#define HDR_TOKEN_LIMIT(size)	((int)((size) * 3 / 4))

/* Counters a worker reports; all only ever grow except the gauges. */
struct transport_stats {
	uint64_t	 conns;		/* gauge: open TCP connections */
	uint64_t	 sessions;	/* gauge: Engine.IO sessions */
	uint64_t	 sessions_total;
	uint64_t	 slow_readers;	/* cut off at output_queue_limit */
	uint64_t	 parse_errors;
	uint64_t	 ping_timeouts;
	uint64_t	 frames_out;
	uint64_t	 frames_in;
	uint64_t	 relayed;	/* polls relayed to the owner worker */
	uint64_t	 handed_off;	/* connections passed to their owner */
	uint64_t	 adopt_failures;
	uint64_t	 conns_refused;	/* max_connections */
	uint64_t	 conns_refused_addr;
	uint64_t	 fd_exhausted;	/* accepting paused: no descriptor */
	uint64_t	 sessions_refused_addr; /* max_unconnected_per_address */
	uint64_t	 peers_refused;	/* relay/hand-off: not our worker */
	uint64_t	 status_refused; /* /health, /metrics: status_allow */
	uint64_t	 body_timeouts;	/* POST bodies cut at body_timeout */
	uint64_t	 header_overflows; /* requests answered 431 */
	uint64_t	 handoff_waits;	/* owner's socket full: sent later */
	uint64_t	 handoff_failures; /* owner never took it: served here */
	uint64_t	 polls_dropped;	/* a waiting GET's connection closed */
	uint64_t	 polls_unwatched; /* ... could not be watched (hup.c) */
	/* Issue 16: heartbeats of clients behind on reading. */
	uint64_t	 pings_ahead;	/* put before queued frames */
	uint64_t	 pongs_late;	/* not in time, the client alive */
	/* Issue 18: the Admin UI's files (uifiles.c). */
	uint64_t	 admin_files;
	uint64_t	 admin_files_refused;
};

struct peer;

/*
 * What the transport takes from the configuration, handed over by the
 * process layer when a worker starts (conf_transport()); a reload starts
 * new workers with new settings.  Durations in ms, sizes in bytes.
 */
struct transport_conf {
	long long		 workers;	/* 0: one per CPU */
	long long		 shutdown_timeout;
	long long		 drain_batch;
	long long		 drain_interval;
	const char		*tls_cert;	/* "": plain */
	const char		*tls_key;
	char *const		*cors_origin;
	size_t			 ncors_origin;
	bool			 cors_credentials;
	long long		 max_connections;
	long long		 max_connections_per_address;	/* 0: none */
	long long		 max_unconnected_per_address;	/* 0: none */
	const char		*status_allow;	/* "": anyone */
	long long		 ping_interval;
	long long		 ping_timeout;
	long long		 max_payload;
	long long		 connect_timeout;
	long long		 upgrade_timeout;
	long long		 body_timeout;
	long long		 max_header_size;
	long long		 output_queue_limit;
	long long		 socket_unsent_max;	/* issue 16; 0: kernel's */
	/* the Socket.IO Admin UI (issue 18) */
	bool			 admin;
	const char		*admin_origins;	/* comma list; "": any */
	const char		*admin_ui_dir;	/* "": not served */
	const char		*admin_ui_path;	/* "/admin/" */
	long long		 io_collect_interval;	/* ms; 0: none */
};

struct transport {
	struct ev_loop		*loop;
	const struct transport_conf *conf;
	const struct app	*app;
	void			*app_data;	/* the application's (app.h init) */
	const struct transport_calls *up;	/* see above */
	struct lws_context	*ctx;
	struct lws_vhost	*vhost;
	int			 wid;		/* worker id, in every sid */
	struct relay		*relay;		/* to the other workers */
	struct handoff		*handoff;	/* NULL: no siblings */
	struct acceptq		*acceptq;	/* accept.h */
	const char		*path;		/* "/socket.io/" */
	struct session		*buckets[TRANSPORT_BUCKETS];
	struct session		*all;		/* list of live sessions */
	struct transport_stats	 stats;
	int			 draining;
	void			*nudge;		/* ev_timer, see transport.c */
	void			*drainer;	/* ev_timer, batches of closes */
	double			 drain_started;
	double			 sessions_gone;	/* draining, the last one went */
	int			 fronts;	/* TLS fronts (tlsfront.h) */
	long long		 started;	/* unix time */
	struct worker_stats	 agg[STATS_MAX_WORKERS]; /* the master's */
	size_t			 nagg;
	void			*peers;		/* struct htab of struct peer */
	struct peer		**byfd;		/* a TCP client's, by its fd */
	size_t			 nbyfd;
	uint64_t		 nclients;	/* TCP clients held: in byfd */
	uint64_t		 share;		/* of max_connections */
};

/*
 * Per-connection data lws allocates for every wsi (kept small: it is part of
 * the memory of every idle connection).
 */
enum conn_method {
	CONN_OTHER = 0,
	CONN_GET,
	CONN_POST,
	CONN_OPTIONS,
	CONN_HEAD		/* uifiles.c: headers without the body */
};

struct conn {
	struct session	*s;		/* the Engine.IO session, if any */
	uint8_t		 method;	/* enum conn_method */
	uint8_t		 is_ws;
	uint8_t		 is_poll;	/* a GET waiting in s->poll */
	uint8_t		 rx_binary;	/* WebSocket message being rebuilt */
	uint8_t		 too_big;	/* POST body over max_payload */
	uint8_t		 post;		/* collecting a POST body */
	uint8_t		 closing;	/* close once the reply is out */
	uint32_t	 relay_id;	/* waiting for another worker's answer */
	int		 owner;		/* 1 + the worker to relay to, or 0 */
	char		 sid[20];	/* the session's, when relayed */
	int		 status;	/* HTTP reply, when queued */
	const char	*ctype;
	struct buf	 buf;		/* reply body, POST body or rx */
	struct body_wait *bw;		/* the body's deadline, while it comes */
	int		 hup_fd;	/* 1 + the fd hup.c watches, or 0 */
	uint8_t		 hung_up;	/* its client closed it: close */
};

/* transport.c */
struct transport *transport_new(struct ev_loop *,
		    const struct transport_conf *, int, const struct app *,
		    const char *);
void	transport_drain(struct transport *);
int	transport_free(struct transport *);
void	transport_stats(const struct transport *, struct worker_stats *);

/* hup.c */
void	hup_watch(struct transport *, struct lws *, struct conn *);
void	hup_stop(struct conn *);
void	hup_free(void);

/* uifiles.c */
bool	uifiles_match(const struct transport *, const char *);
int	uifiles_request(struct transport *, struct lws *, struct conn *,
	    const char *);

/* http.c */
extern const char	http_bad_request[];	/* the reference's JSON body */
#define HTTP_BAD_REQUEST_LEN	34
size_t	http_query(struct lws *, char *, size_t);
int	http_reply(struct lws *, struct conn *, int, const char *,
	    const void *, size_t);
int	http_error(struct lws *, struct conn *, int);
int	http_writeable(struct transport *, struct lws *, struct conn *);
void	http_conn_free(struct conn *);
int	http_body_wait(struct transport *, struct lws *, struct conn *);
void	http_body_stop(struct conn *);

/* polling.c */
int	polling_request(struct transport *, struct lws *, struct conn *,
	    const char *);
int	polling_body(struct transport *, struct lws *, struct conn *,
	    const void *, size_t);
int	polling_body_done(struct transport *, struct lws *, struct conn *);
int	polling_writeable(struct transport *, struct lws *, struct conn *);
void	polling_closed(struct transport *, struct conn *, int);
void	polling_dropped(struct session *);
int	polling_relayed(struct transport *, struct session *, int,
	    const uint8_t *, size_t, uint8_t *, size_t, size_t *,
	    const char **);
uint8_t	*polling_take(struct session *, size_t *);

/* router.c */
int	router_request(struct transport *, struct lws *, struct conn *,
	    const char *);

/* ws.c */
int	ws_confirm(struct transport *, struct lws *);
int	ws_established(struct transport *, struct lws *, struct conn *);
int	ws_receive(struct transport *, struct lws *, struct conn *,
	    const void *, size_t);
int	ws_writeable(struct transport *, struct lws *, struct conn *);
void	ws_closed(struct conn *);

#endif /* SGW_TRANSPORT_H */
