/*
 * The master's process table, after nginx's ngx_processes[] and OpenBSD's
 * proc.c: one slot per worker position (its listening sockets, its crash
 * count and respawn timer) and one entry per live worker process (pid,
 * slot, generation, state bits, channel, last figures).  proc.c only
 * spawns and reaps; what an exit means, and whether a slot is respawned,
 * is the master's policy (master.c).
 */
#ifndef SGW_PROC_H
#define SGW_PROC_H

#include <sys/types.h>

#include <ev.h>
#include <stddef.h>

#include "conf.h"
#include "ipc.h"
#include "stats.h"

#define PROC_MAX_WORKERS	256
#define PROC_MAX		(2 * PROC_MAX_WORKERS) /* two generations */

struct proc {
	pid_t			 pid;		/* 0: entry empty */
	int			 slot;
	unsigned		 generation;
	int			 exiting;	/* told to drain: no respawn */
	int			 ready;
	ev_tstamp		 started;
	struct ipc		 chan;
	struct worker_stats	 stats;
};

struct proc_slot {
	int		 fds[CONF_LISTEN_MAX];	/* kept for respawns */
	unsigned	 crashes;
	ev_timer	 respawn;
};

struct proc_table {
	struct ev_loop		*loop;
	int			 nslots;
	size_t			 nlisten;	/* sockets per slot */
	struct proc_slot	 slots[PROC_MAX_WORKERS];
	struct proc		 procs[PROC_MAX];
	ipc_fn			 on_chan;	/* each channel's messages */
	void			*arg;		/* for on_chan and the child */
};

/* How a worker ended, for the master to decide what follows. */
struct proc_exit {
	int		 slot;
	unsigned	 generation;
	int		 exiting;	/* it had been told to drain */
	int		 fatal;		/* WORKER_EXIT_FATAL: can never start */
	ev_tstamp	 age;		/* seconds it lived */
};

/*
 * Runs in the new child, once the other slots' sockets and the other
 * workers' channels are closed: (table's arg, slot, generation, channel
 * fd, spawn's data).  Its return value is the child's exit status.
 */
typedef int (*proc_main_fn)(void *, int, unsigned, int, void *);

/* proc.c */
void	proc_init(struct proc_table *, struct ev_loop *, ipc_fn,
	    void (*)(struct ev_loop *, ev_timer *, int), void *);
pid_t	proc_spawn(struct proc_table *, int, unsigned, proc_main_fn, void *);
int	proc_count(struct proc_table *, unsigned, int);
int	proc_reap(struct proc_table *, pid_t, int, struct proc_exit *);
void	proc_respawn(struct proc_table *, int, ev_tstamp);

#endif /* SGW_PROC_H */
