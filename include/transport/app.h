/*
 * What an application built on the transport provides: its namespaces and
 * its handlers.  The gateway (gateway.c) and the conformance test server
 * (tests/conformance/) are the two applications.
 */
#ifndef SGW_APP_H
#define SGW_APP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct eio_packet;
struct evscan;
struct session;
struct sio_attachment;
struct sio_packet;

struct transport;
struct worker_stats;

/*
 * connect's answer "later": the application verifies elsewhere (an HTTP
 * call) and calls socketio_connect_answer() when it knows.  Until then the
 * namespace is pending: the client's packets for it are dropped.
 */
#define APP_CONNECT_PENDING	1

struct app {
	const char *const *nsps;	/* NULL-terminated, "/" first */
	/*
	 * Once per worker before serving; -1 means it can never serve.  The
	 * application keeps its own state in t->app_data.
	 */
	int	(*init)(struct transport *);
	/* Engine.IO only: every message goes here, Socket.IO is skipped. */
	void	(*eio_message)(struct session *, const struct eio_packet *);
	/*
	 * A CONNECT to nsps[nsp]: 0 accepts, APP_CONNECT_PENDING answers
	 * later (socketio_connect_answer()), else *err says why not.
	 */
	int	(*connect)(struct session *, unsigned, json_t *,
		    const char **);
	/* After the CONNECT answer is queued. */
	void	(*connected)(struct session *, unsigned, json_t *);
	/* EVENT or ACK (binary ones with their attachments). */
	void	(*packet)(struct session *, unsigned, struct sio_packet *,
		    const struct sio_attachment *, unsigned);
	void	(*disconnect)(struct session *, unsigned, const char *);
	/* The session is gone; app_data must be released here. */
	void	(*closed)(struct session *, const char *);
	/* The master's list of live worker ids changed. */
	void	(*peers)(struct transport *, const int32_t *, size_t);
	/* Add the application's figures to this worker's report. */
	void	(*stats)(struct transport *, struct worker_stats *);
	/* The worker is done serving: release what init made (optional). */
	void	(*fini)(struct transport *);
	/*
	 * A CONNECT to nsps[nsp] is accepted (at once or later), its answer
	 * not yet sent; auth is its data (optional).  The application may
	 * choose the socket's id and a pid (socketio_set_ids()) and send
	 * what must reach the client first: a recovery's missed packets
	 * (issue 15).  It must not close the session here.
	 */
	void	(*accepting)(struct session *, unsigned, json_t *);
	/*
	 * An EVENT to a joined nsps[nsp], before its payload is parsed
	 * (optional, issue 16): its scan (evscan.h; the payload passed the
	 * limits), its ack id.  1: done with; 0: it goes on to packet(), as
	 * any other.
	 */
	int	(*event_raw)(struct session *, unsigned, const struct evscan *,
		    int64_t);
	/* The session moved from long-polling to WebSocket (optional). */
	void	(*upgraded)(struct session *);
};

#endif /* SGW_APP_H */
