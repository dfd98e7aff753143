/*
 * Cross-worker long-polling.  Every sid names the worker that owns the
 * session (sid.h), and any worker may receive a client's next HTTP request:
 * the kernel spreads connections over the workers' sockets and clients
 * reuse keep-alive connections across sessions.  A request for a session of
 * another worker is relayed to its owner over a local stream socket and the
 * owner's answer is written back, so no sticky load balancer is needed.
 * The relay and hand-off sockets live in run_dir and serve only the
 * gateway's own workers (unixsock_sibling).
 */
#ifndef SGW_RELAY_H
#define SGW_RELAY_H

#include <stddef.h>
#include <stdint.h>

struct conn;
struct lws;
struct relay;
struct session;
struct transport;

/* relay.c */
struct relay	*relay_new(struct transport *, const char *);
void		 relay_free(struct relay *);
int		 relay_forward(struct relay *, struct lws *, struct conn *,
		    int, int, const char *, const void *, size_t);
void		 relay_cancel(struct relay *, struct conn *);
void		 relay_schedule(struct session *);

#endif /* SGW_RELAY_H */
