/*
 * The process table (see proc.h): spawning a worker into a free entry with
 * its channel, and reaping one, as nginx's ngx_spawn_process() and
 * ngx_process_get_status() do.  Nothing here decides anything: the master
 * says which slot to start and for which generation, and is told how each
 * worker ended; when a slot should come back, proc_respawn() spaces the
 * respawns of a worker that keeps dying young.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <ev.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "proc.h"
#include "unixsock.h"
#include "worker.h"

#define BACKOFF_MIN		0.1	/* seconds before a second respawn */
#define BACKOFF_MAX		30.0
#define YOUNG			2.0	/* died younger than this: a crash loop */

static struct proc *proc_find(struct proc_table *, pid_t);
static void	 close_others(struct proc_table *, int);

/*
 * An empty table on loop: on_chan gets every channel's messages and
 * on_respawn fires a slot's respawn timer (its data is the slot), both
 * with arg at hand.
 */
void
proc_init(struct proc_table *t, struct ev_loop *loop, ipc_fn on_chan,
    void (*on_respawn)(struct ev_loop *, ev_timer *, int), void *arg)
{
	int	i;

	t->loop = loop;
	t->on_chan = on_chan;
	t->arg = arg;
	for (i = 0; i < PROC_MAX; i++)
		t->procs[i].chan.io.fd = -1;
	for (i = 0; i < PROC_MAX_WORKERS; i++) {
		ev_timer_init(&t->slots[i].respawn, on_respawn, 0, 0);
		t->slots[i].respawn.data = &t->slots[i];
	}
}

/* In the child: close what belongs to others. */
static void
close_others(struct proc_table *t, int slot)
{
	int	i;
	size_t	j;

	for (i = 0; i < t->nslots; i++)
		if (i != slot)
			for (j = 0; j < t->nlisten; j++)
				close(t->slots[i].fds[j]);
	for (i = 0; i < PROC_MAX; i++)
		if (t->procs[i].pid != 0 && t->procs[i].chan.io.fd >= 0)
			close(t->procs[i].chan.io.fd);
}

/*
 * Fork one worker for a slot of a generation, with a channel to it; the
 * child runs fn(t->arg, slot, generation, its end of the channel, data)
 * and exits with what it returns.  The pid, or -1 (logged).
 */
pid_t
proc_spawn(struct proc_table *t, int slot, unsigned generation,
    proc_main_fn fn, void *data)
{
	struct proc	*p;
	int		 sv[2];
	pid_t		 pid, parent;

	if ((p = proc_find(t, 0)) == NULL) {
		log_error("process table full; worker %d not started", slot);
		return -1;
	}
	if (unixsock_pair(sv) != 0) {
		log_warn("socketpair for worker %d", slot);
		return -1;
	}
	parent = getpid();
	switch ((pid = fork())) {
	case -1:
		log_warn("fork for worker %d", slot);
		close(sv[0]);
		close(sv[1]);
		return -1;
	case 0:
		/*
		 * A worker whose master is gone (SIGKILL, a crash) drains and
		 * exits: nothing would respawn, reload or report for it, and
		 * it would hold the ports and its parent's pipes forever.  The
		 * master may have died before the prctl: then at once.
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
		    getppid() != parent)
			_exit(0);
		close(sv[0]);
		close_others(t, slot);
		_exit(fn(t->arg, slot, generation, sv[1], data));
		/* NOTREACHED */
	}
	close(sv[1]);
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->slot = slot;
	p->generation = generation;
	p->started = ev_now(t->loop);
	ipc_init(&p->chan, t->loop, sv[0], t->on_chan, t->arg);
	log_debug("worker %d started, pid %d, generation %u", slot, (int)pid,
	    generation);
	return pid;
}

/* The entry of a pid; pid 0 finds a free one. */
static struct proc *
proc_find(struct proc_table *t, pid_t pid)
{
	int	i;

	for (i = 0; i < PROC_MAX; i++)
		if (t->procs[i].pid == pid)
			return &t->procs[i];
	return NULL;
}

/* Live workers of a generation (0: any), only ready ones if asked. */
int
proc_count(struct proc_table *t, unsigned gen, int ready)
{
	int	i, n = 0;

	for (i = 0; i < PROC_MAX; i++)
		if (t->procs[i].pid != 0 && (gen == 0 ||
		    t->procs[i].generation == gen) &&
		    (!ready || t->procs[i].ready))
			n++;
	return n;
}

/*
 * A worker has exited with status: free its entry and channel, log how it
 * ended (an exit it was not told to make is an error), and say what the
 * master needs to decide on it in *e.  -1 when the pid is not a worker.
 */
int
proc_reap(struct proc_table *t, pid_t pid, int status, struct proc_exit *e)
{
	struct proc	*p;
	int		 slot, told;

	if ((p = proc_find(t, pid)) == NULL)
		return -1;
	slot = p->slot;
	memset(e, 0, sizeof(*e));
	e->slot = slot;
	e->generation = p->generation;
	e->age = ev_now(t->loop) - p->started;
	e->exiting = told = p->exiting;
	ipc_close(&p->chan);
	memset(p, 0, sizeof(*p));
	p->chan.io.fd = -1;
	if (WIFSIGNALED(status))
		log_error("worker %d pid %d exited on signal %d (%s)%s", slot,
		    (int)pid, WTERMSIG(status), strsignal(WTERMSIG(status)),
		    WCOREDUMP(status) ? " (core dumped)" : "");
	else if (WEXITSTATUS(status) != 0 || !told)
		log_emit(told ? LOG_LEVEL_INFO : LOG_LEVEL_ERROR, NULL,
		    "worker %d pid %d exited with code %d", slot, (int)pid,
		    WEXITSTATUS(status));
	else
		log_info("worker %d pid %d exited after draining", slot,
		    (int)pid);
	e->fatal = WIFEXITED(status) && WEXITSTATUS(status) ==
	    WORKER_EXIT_FATAL;
	return 0;
}

/*
 * Start a slot's respawn timer for a worker that died at age: at once the
 * first time, then with exponential backoff while it keeps dying young,
 * so that a crash loop does not spin the machine.
 */
void
proc_respawn(struct proc_table *t, int slot, ev_tstamp age)
{
	struct proc_slot	*s = &t->slots[slot];
	ev_tstamp		 delay;

	s->crashes = age < YOUNG ? s->crashes + 1 : 0;
	delay = s->crashes <= 1 ? 0 : BACKOFF_MIN * (1 << (s->crashes > 12 ?
	    12 : s->crashes - 1));
	if (delay > BACKOFF_MAX)
		delay = BACKOFF_MAX;
	if (delay > 0)
		log_warnx("worker %d is crash looping (%u quick exits); "
		    "respawning in %.1fs", slot, s->crashes, delay);
	ev_timer_stop(t->loop, &s->respawn);
	ev_timer_set(&s->respawn, delay, 0);
	ev_timer_start(t->loop, &s->respawn);
}
