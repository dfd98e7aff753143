/*
 * Connection hand-off between workers.  The kernel spreads new connections
 * over the workers, but a WebSocket upgrade (and a long-poll) carries the
 * sid of a session that one worker owns.  Before libwebsockets reads a
 * byte, the accepting worker peeks at the request line; if the sid names
 * another worker, the socket itself is passed to that worker (SCM_RIGHTS)
 * and served there, unread, as if it had been accepted there.
 */
#ifndef SGW_HANDOFF_H
#define SGW_HANDOFF_H

struct handoff;
struct transport;

/* handoff.c */
struct handoff	*handoff_new(struct transport *, const char *);
void		 handoff_free(struct handoff *);
void		 handoff_accept(struct handoff *, struct transport *, int);
int		 handoff_waiting(const struct handoff *);
int		 handoff_pass_plain(struct handoff *, int, int);

#endif /* SGW_HANDOFF_H */
