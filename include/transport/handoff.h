/*
 * Connection hand-off between workers: a socket passed (SCM_RIGHTS,
 * fdpass.h) to the worker that owns the session its client named, and
 * served there, unread, as if it had been accepted there; or the plain
 * end of a TLS front (tlsfront.h).  Whether and where to pass one is
 * decided above, in accept.c and tlsfront.c.
 */
#ifndef SGW_HANDOFF_H
#define SGW_HANDOFF_H

struct handoff;
struct transport;

/* handoff.c */
struct handoff	*handoff_new(struct transport *, const char *);
void		 handoff_free(struct handoff *);
int		 handoff_pass(struct handoff *, int, int, char);
int		 handoff_waiting(const struct handoff *);

#endif /* SGW_HANDOFF_H */
