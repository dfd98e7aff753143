/*
 * The master: a libev loop that owns the process table.  Signal watchers run
 * in the loop (ev_signal), never in signal context, so every action below is
 * ordinary code.  Policy, after nginx:
 *   - a worker that dies is respawned in its slot, at once the first time and
 *     with exponential backoff while it keeps dying young;
 *   - exit status WORKER_EXIT_FATAL means it can never start: not respawned,
 *     and with no worker left the master exits 1 for systemd to restart;
 *   - SIGHUP loads the configuration anew; if it is valid a new generation
 *     starts on the same listening sockets and the old one drains;
 *   - SIGTERM/SIGINT drain every worker and exit 0; a second one kills them.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "gateway.h"
#include "conf.h"
#include "listener.h"
#include "log.h"
#include "master.h"
#include "worker.h"

#define MAX_WORKERS		256
#define BACKOFF_MIN		0.1	/* seconds before a second respawn */
#define BACKOFF_MAX		30.0
#define YOUNG			2.0	/* died younger than this: a crash loop */

struct proc {
	pid_t		 pid;		/* 0: slot empty */
	int		 slot;
	unsigned	 generation;
	int		 chan;		/* master's end of the socketpair */
	int		 exiting;	/* told to drain: do not respawn */
	ev_tstamp	 started;
};

struct slot {
	int		 fds[CONF_LISTEN_MAX];	/* kept for respawns */
	unsigned	 crashes;
	ev_timer	 respawn;
};

struct master {
	struct ev_loop		*loop;
	const struct cli_opts	*opts;
	struct conf		*conf;
	unsigned		 generation;
	int			 nslots;
	struct slot		 slots[MAX_WORKERS];
	struct proc		 procs[2 * MAX_WORKERS];
	int			 stopping;
	char			 relay_ns[32];
	ev_signal		 sig_hup, sig_term, sig_int;
	ev_child		 child;		/* libev reaps; we get each exit */
	ev_timer		 stop_timer;
};

static int	 bind_slot(struct master *, int);
static pid_t	 spawn(struct master *, int);
static void	 on_respawn(struct ev_loop *, ev_timer *, int);
static void	 on_child(struct ev_loop *, ev_child *, int);
static void	 on_hup(struct ev_loop *, ev_signal *, int);
static void	 on_term(struct ev_loop *, ev_signal *, int);
static void	 on_stop_timeout(struct ev_loop *, ev_timer *, int);
static struct proc *proc_find(struct master *, pid_t);
static int	 proc_count(struct master *);
static void	 reap_one(struct master *, pid_t, int);
static void	 conf_err(void *, const char *);

static int
worker_count(const struct conf *c)
{
	long	n;

	if (c->workers > 0)
		return (int)c->workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > MAX_WORKERS ? MAX_WORKERS : (int)n;
}

/* Bind every listen address for one slot; fatal at start-up. */
static int
bind_slot(struct master *m, int slot)
{
	char	 name[96], err[256];
	size_t	 i;
	int	 fd;

	for (i = 0; i < m->conf->nlisten; i++) {
		listener_name(&m->conf->listen[i], name, sizeof(name));
		if ((fd = listener_open(&m->conf->listen[i], err,
		    sizeof(err))) == -1) {
			log_error("listen %s: %s", name, err);
			return -1;
		}
		m->slots[slot].fds[i] = fd;
		if (slot == 0)
			log_info("listening on %s", name);
	}
	return 0;
}

/* Fork one worker for a slot in the current generation. */
static pid_t
spawn(struct master *m, int slot)
{
	struct worker_args	 a;
	struct proc		*p;
	int			 sv[2], i;
	pid_t			 pid;
	sigset_t		 mask;

	if ((p = proc_find(m, 0)) == NULL) {
		log_error("process table full; worker %d not started", slot);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		log_warn("socketpair for worker %d", slot);
		return -1;
	}
	switch ((pid = fork())) {
	case -1:
		log_warn("fork for worker %d", slot);
		close(sv[0]);
		close(sv[1]);
		return -1;
	case 0:
		close(sv[0]);
		for (i = 0; i < m->nslots; i++)
			if (i != slot)
				for (size_t j = 0; j < m->conf->nlisten; j++)
					close(m->slots[i].fds[j]);
		for (i = 0; i < 2 * MAX_WORKERS; i++)
			if (m->procs[i].pid != 0)
				close(m->procs[i].chan);
		/* Free the signals from the master's loop for the worker's. */
		ev_child_stop(m->loop, &m->child);
		ev_signal_stop(m->loop, &m->sig_hup);
		ev_signal_stop(m->loop, &m->sig_term);
		ev_signal_stop(m->loop, &m->sig_int);
		ev_loop_fork(m->loop);
		ev_loop_destroy(m->loop);
		signal(SIGHUP, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		sigemptyset(&mask);
		sigprocmask(SIG_SETMASK, &mask, NULL);
		log_procinit("worker", slot);
		a.conf = m->conf;
		a.app = &gateway_app;
		a.path = "/socket.io/";
		a.slot = slot;
		a.generation = m->generation;
		a.fds = m->slots[slot].fds;
		a.nfds = m->conf->nlisten;
		a.chan = sv[1];
		a.relay_ns = m->relay_ns;
		_exit(worker_main(&a));
	}
	close(sv[1]);
	p->pid = pid;
	p->slot = slot;
	p->generation = m->generation;
	p->chan = sv[0];
	p->exiting = 0;
	p->started = ev_now(m->loop);
	log_debug("worker %d started, pid %d, generation %u", slot, (int)pid,
	    m->generation);
	return pid;
}

static struct proc *
proc_find(struct master *m, pid_t pid)
{
	int	i;

	for (i = 0; i < 2 * MAX_WORKERS; i++)
		if (m->procs[i].pid == pid)
			return &m->procs[i];
	return NULL;
}

static int
proc_count(struct master *m)
{
	int	i, n = 0;

	for (i = 0; i < 2 * MAX_WORKERS; i++)
		n += m->procs[i].pid != 0;
	return n;
}

static void
on_respawn(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct master	*m = ev_userdata(loop);
	int		 slot = (int)((struct slot *)w->data - m->slots);

	(void)revents;
	if (!m->stopping && slot < m->nslots)
		spawn(m, slot);
}

/* Decide what a dead worker's exit means and respawn it if it should be. */
static void
reap_one(struct master *m, pid_t pid, int status)
{
	struct proc	*p;
	struct slot	*s;
	ev_tstamp	 age, delay;
	int		 slot, told;

	if ((p = proc_find(m, pid)) == NULL)
		return;
	slot = p->slot;
	s = &m->slots[slot];
	age = ev_now(m->loop) - p->started;
	told = p->exiting;
	close(p->chan);
	memset(p, 0, sizeof(*p));
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
	if (told || m->stopping)
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_FATAL) {
		log_error("worker %d cannot start and will not be respawned",
		    slot);
		return;
	}
	s->crashes = age < YOUNG ? s->crashes + 1 : 0;
	delay = s->crashes <= 1 ? 0 : BACKOFF_MIN * (1 << (s->crashes > 12 ?
	    12 : s->crashes - 1));
	if (delay > BACKOFF_MAX)
		delay = BACKOFF_MAX;
	if (delay > 0)
		log_warnx("worker %d is crash looping (%u quick exits); "
		    "respawning in %.1fs", slot, s->crashes, delay);
	ev_timer_stop(m->loop, &s->respawn);
	ev_timer_set(&s->respawn, delay, 0);
	ev_timer_start(m->loop, &s->respawn);
}

/*
 * libev's default loop reaps every child itself (its own SIGCHLD handler),
 * so exits come to an ev_child watcher for pid 0, one call per child.
 */
static void
on_child(struct ev_loop *loop, ev_child *w, int revents)
{
	struct master	*m = ev_userdata(loop);

	(void)revents;
	reap_one(m, w->rpid, w->rstatus);
	if (proc_count(m) == 0 && m->stopping) {
		log_info("all workers exited; master exiting");
		ev_break(loop, EVBREAK_ALL);
	} else if (proc_count(m) == 0 && !m->stopping) {
		int i, pending = 0;

		for (i = 0; i < m->nslots; i++)
			pending += ev_is_active(&m->slots[i].respawn);
		if (pending == 0) {
			log_error("no worker can run; exiting");
			m->stopping = 2;
			ev_break(loop, EVBREAK_ALL);
		}
	}
}

static void
conf_err(void *arg, const char *msg)
{
	(void)arg;
	log_error("reload: %s", msg);
}

/*
 * SIGHUP: load into a fresh struct; on any error keep the old one.  On
 * success start the new generation on the same sockets, then tell the old
 * generation to drain.
 */
static void
on_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct master	*m = ev_userdata(loop);
	struct conf	 next;
	int		 errors, i, old, n;
	unsigned	 oldgen;

	(void)w;
	(void)revents;
	log_info("signal %d (SIGHUP) received, reloading", SIGHUP);
	if (m->stopping)
		return;
	errors = conf_load_all(m->opts, &next, conf_err, NULL);
	if (errors != 0) {
		log_error("reload failed: %d error%s in %s; still serving with "
		    "the previous configuration", errors, errors == 1 ? "" :
		    "s", conf_path(m->opts));
		conf_free(&next);
		return;
	}
	if (memcmp(next.listen, m->conf->listen, sizeof(next.listen)) != 0 ||
	    next.nlisten != m->conf->nlisten)
		log_warnx("reload: listen changed; restart to apply it");
	next.nlisten = m->conf->nlisten;
	memcpy(next.listen, m->conf->listen, sizeof(next.listen));
	n = worker_count(&next);
	for (i = m->nslots; i < n; i++)
		if (bind_slot(m, i) != 0) {
			n = i;
			break;
		}
	oldgen = m->generation;
	conf_free(m->conf);
	*m->conf = next;
	log_setlevel((enum log_level)m->conf->log_level);
	m->generation++;
	if (n > m->nslots)
		m->nslots = n;
	for (i = 0; i < n; i++) {
		m->slots[i].crashes = 0;
		spawn(m, i);
	}
	for (i = 0, old = 0; i < 2 * MAX_WORKERS; i++) {
		if (m->procs[i].pid != 0 && m->procs[i].generation == oldgen) {
			m->procs[i].exiting = 1;
			kill(m->procs[i].pid, SIGTERM);
			old++;
		}
	}
	log_info("reloaded: generation %u started with %d workers, draining "
	    "%d old", m->generation, n, old);
}

static void
on_term(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct master	*m = ev_userdata(loop);
	int		 i;

	(void)revents;
	if (m->stopping) {
		log_warnx("signal %d received again; killing workers now",
		    w->signum);
		for (i = 0; i < 2 * MAX_WORKERS; i++)
			if (m->procs[i].pid != 0)
				kill(m->procs[i].pid, SIGKILL);
		m->stopping = 2;
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	log_info("signal %d (%s) received, draining", w->signum,
	    strsignal(w->signum));
	m->stopping = 1;
	for (i = 0; i < m->nslots; i++)
		ev_timer_stop(loop, &m->slots[i].respawn);
	for (i = 0; i < 2 * MAX_WORKERS; i++)
		if (m->procs[i].pid != 0) {
			m->procs[i].exiting = 1;
			kill(m->procs[i].pid, SIGTERM);
		}
	ev_timer_init(&m->stop_timer, on_stop_timeout,
	    (double)m->conf->shutdown_timeout / 1000.0 + 2.0, 0);
	ev_timer_start(loop, &m->stop_timer);
	if (proc_count(m) == 0)
		ev_break(loop, EVBREAK_ALL);
}

static void
on_stop_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct master	*m = ev_userdata(loop);
	int		 i;

	(void)w;
	(void)revents;
	log_error("workers still running after shutdown_timeout; killing");
	for (i = 0; i < 2 * MAX_WORKERS; i++)
		if (m->procs[i].pid != 0)
			kill(m->procs[i].pid, SIGKILL);
	m->stopping = 2;
	ev_break(loop, EVBREAK_ALL);
}

int
master_main(const struct cli_opts *o, struct conf *c)
{
	static struct master	 m;
	int			 i;

	m.opts = o;
	m.conf = c;
	m.generation = 1;
	snprintf(m.relay_ns, sizeof(m.relay_ns), "sgw.%ld", (long)getpid());
	log_procinit("master", -1);
	signal(SIGPIPE, SIG_IGN);
	if ((m.loop = ev_default_loop(EVFLAG_AUTO)) == NULL)
		fatalx("cannot create the event loop");
	ev_set_userdata(m.loop, &m);
	m.nslots = worker_count(c);
	for (i = 0; i < m.nslots; i++) {
		if (bind_slot(&m, i) != 0)
			return 1;
		ev_timer_init(&m.slots[i].respawn, on_respawn, 0, 0);
		m.slots[i].respawn.data = &m.slots[i];
	}
	for (i = m.nslots; i < MAX_WORKERS; i++) {
		ev_timer_init(&m.slots[i].respawn, on_respawn, 0, 0);
		m.slots[i].respawn.data = &m.slots[i];
	}
	ev_child_init(&m.child, on_child, 0, 0);
	ev_signal_init(&m.sig_hup, on_hup, SIGHUP);
	ev_signal_init(&m.sig_term, on_term, SIGTERM);
	ev_signal_init(&m.sig_int, on_term, SIGINT);
	ev_child_start(m.loop, &m.child);
	ev_signal_start(m.loop, &m.sig_hup);
	ev_signal_start(m.loop, &m.sig_term);
	ev_signal_start(m.loop, &m.sig_int);
	for (i = 0; i < m.nslots; i++)
		spawn(&m, i);
	log_info("socket-gatewayd started: %d workers, generation %u",
	    m.nslots, m.generation);
	ev_run(m.loop, 0);
	return m.stopping == 2 ? 1 : 0;
}
