/*
 * doorbell: one worker wakes others without nng (issue 16).  Each worker
 * binds a unix datagram socket <dir>/bell-<wid>; a ring is one byte sent
 * to each peer's, and the peer's loop hears it at once.  It carries
 * nothing: what the ring means is elsewhere (the host's recovery log,
 * logdeliver.c).  Measured against the bus (nng's threads hand each
 * message over twice, with futexes): see doorbell.c.
 */
#ifndef SGW_DOORBELL_H
#define SGW_DOORBELL_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#define DOORBELL_PEERS_MAX	512

struct doorbell;
typedef void	 doorbell_fn(void *);

struct doorbell_stats {
	uint64_t	 rung;		/* rings sent to a peer */
	uint64_t	 missed;	/* a peer's bell not there (yet) */
	uint64_t	 heard;		/* wakes of ours */
};

/* doorbell.c */
struct doorbell	*doorbell_new(struct ev_loop *, const char *, int,
		    doorbell_fn *, void *);
void		 doorbell_free(struct doorbell *);
int		 doorbell_set_peers(struct doorbell *, const int *, size_t);
size_t		 doorbell_ring(struct doorbell *);
size_t		 doorbell_npeers(const struct doorbell *);
void		 doorbell_stats(const struct doorbell *,
		    struct doorbell_stats *);

#endif /* SGW_DOORBELL_H */
