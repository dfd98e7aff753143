/*
 * The accept decision.  The kernel spreads new connections over the
 * workers, but a WebSocket upgrade (and a long-poll) carries the sid of a
 * session that one worker owns.  Before libwebsockets reads a byte, the
 * accepting worker peeks at the request head: a head too long is
 * answered 414 or 431 here, a TLS ClientHello goes to the TLS front
 * (tlsfront.h), a request for another worker's session is handed off
 * (handoff.h), and the rest is served here.
 */
#ifndef SGW_ACCEPT_H
#define SGW_ACCEPT_H

struct acceptq;
struct transport;

/* accept.c */
struct acceptq	*accept_new(struct transport *);
void		 accept_free(struct acceptq *);
void		 accept_conn(struct acceptq *, struct transport *, int);
int		 accept_waiting(const struct acceptq *);

#endif /* SGW_ACCEPT_H */
