/*
 * A worker: one libev loop with libwebsockets on it, serving the listening
 * sockets the master gave it.  Exit status WORKER_EXIT_FATAL means it can
 * never start (bad key file, no memory for the context): the master does not
 * respawn it.
 */
#ifndef SGW_WORKER_H
#define SGW_WORKER_H

#include <stddef.h>

#define WORKER_EXIT_FATAL	2

struct app;
struct conf;

struct worker_args {
	const struct conf	*conf;
	const struct app	*app;
	const char		*path;		/* Engine.IO path, "/socket.io/" */
	int			 slot;
	unsigned		 generation;
	const int		*fds;		/* listening sockets */
	size_t			 nfds;
	int			 chan;		/* socketpair end to the master */
	const char		*relay_ns;	/* run_dir, for the relay and
						   hand-off sockets; NULL: none */
};

/*
 * The id in every sid: the slot, and the generation's low bits so that
 * during a reload the old and the new worker of a slot differ.
 */
#define worker_id(slot, gen)	((int)((((gen) & 0xfu) << 8) | \
				    ((unsigned)(slot) & 0xffu)))

/* worker.c */
int	worker_main(const struct worker_args *);

#endif /* SGW_WORKER_H */
