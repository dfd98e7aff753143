/*
 * The master: a libev loop that owns the process table (proc.c spawns and
 * reaps; this file decides).  Signal watchers run in the loop (ev_signal),
 * never in signal context, so every action below is ordinary code.  Policy,
 * after nginx:
 *   - a worker that dies is respawned in its slot, at once the first time and
 *     with exponential backoff while it keeps dying young;
 *   - exit status WORKER_EXIT_FATAL means it can never start: not respawned,
 *     and with no worker left the master exits 1 for systemd to restart;
 *   - SIGHUP loads the configuration anew into a separate struct; if it is
 *     valid a new generation starts on the same listening sockets, and only
 *     when every new worker has said READY is the old generation drained (a
 *     counted handshake, as OpenBSD's httpd); if a new worker dies first,
 *     the reload is abandoned and the old generation keeps serving;
 *   - SIGTERM/SIGINT drain every worker and exit 0; a second one kills them.
 * Every second each worker reports its figures; the master sends the whole
 * list back to every worker, which serves /health and /metrics from it.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <limits.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "gateway.h"
#include "ipc.h"
#include "listener.h"
#include "log.h"
#include "master.h"
#include "proc.h"
#include "reclog.h"
#include "sdnotify.h"
#include "stats.h"
#include "worker.h"

struct master {
	struct ev_loop		*loop;
	const struct cli_opts	*opts;
	struct conf		*conf;		/* what the serving workers run */
	struct conf		*next;		/* a reload waiting for READY */
	unsigned		 generation;	/* newest generation started */
	int			 announced;	/* READY=1 sent */
	struct proc_table	 tab;		/* slots and workers */
	int			 stopping;
	char			 lock_path[PATH_MAX]; /* run_dir's, ours */
	char			 reload_failed[96]; /* kept in STATUS= */
	int			 inherited[CONF_LISTEN_MAX]; /* from systemd */
	int			 ninherited;
	ev_signal		 sig_hup, sig_term, sig_int;
	ev_child		 child;		/* libev reaps; we get each exit */
	ev_timer		 stop_timer, report;
	/* connection state recovery (issue 15): the host's log */
	struct reclog		*reclog;
	int			 reclog_failed;	/* wanted, not mapped */
};

static int	 bind_slot(struct master *, int);
static pid_t	 spawn(struct master *, int, struct conf *);
static int	 child_main(void *, int, unsigned, int, void *);
static void	 on_respawn(struct ev_loop *, ev_timer *, int);
static void	 on_child(struct ev_loop *, ev_child *, int);
static void	 on_hup(struct ev_loop *, ev_signal *, int);
static void	 on_term(struct ev_loop *, ev_signal *, int);
static void	 on_stop_timeout(struct ev_loop *, ev_timer *, int);
static void	 on_report(struct ev_loop *, ev_timer *, int);
static void	 on_chan(struct ipc *, int, const void *, size_t, void *);
static void	 reap_one(struct master *, pid_t, int);
static void	 drain_generation(struct master *, unsigned);
static void	 close_slots(struct master *, int);
static void	 check_ready(struct master *);
static void	 warn_open(const struct conf *);
static void	 abandon_reload(struct master *, const char *);
static void	 send_peers(struct master *);
static void	 conf_err(void *, const char *);
static void	 reload_warn(void *, const char *);
static int	 drop_privileges(const struct conf *);
static int	 own_run_dir(struct master *);
static void	 map_reclog(struct master *, const struct conf *);
static void	 reclog_figures(struct master *, struct worker_stats *,
		    size_t);

static int
worker_count(const struct conf *c)
{
	long	n;

	if (c->workers > 0)
		return (int)c->workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > PROC_MAX_WORKERS ? PROC_MAX_WORKERS : (int)n;
}

/*
 * Slot 0 takes the sockets systemd passed; every other slot gets its own
 * SO_REUSEPORT sibling of each (systemd's ReusePort=yes allows them), or
 * shares systemd's socket and its one accept queue.
 */
static int
inherit_slot(struct master *m, int slot)
{
	char	 name[96], err[256];
	int	 i, fd;

	for (i = 0; i < m->ninherited; i++) {
		fd = m->inherited[i];
		if (slot > 0 && (fd = listener_sibling(fd, err,
		    sizeof(err))) == -1) {
			if (slot == 1)
				log_warnx("socket from systemd: %s; the workers "
				    "share its accept queue (set ReusePort=yes "
				    "in the .socket unit)", err);
			fd = dup(m->inherited[i]);
		}
		if (fd == -1) {
			log_warn("dup");
			return -1;
		}
		m->tab.slots[slot].fds[i] = fd;
		listener_fdname(fd, name, sizeof(name));
		if (slot == 0)
			log_info("listening on %s (socket from systemd)", name);
	}
	return 0;
}

/* Bind every listen address for one slot. */
static int
bind_slot(struct master *m, int slot)
{
	char	 name[96], err[256];
	size_t	 i;
	int	 fd;

	if (m->ninherited > 0)
		return inherit_slot(m, slot);

	for (i = 0; i < m->tab.nlisten; i++) {
		listener_name(&m->conf->listen[i], name, sizeof(name));
		if ((fd = listener_open(&m->conf->listen[i], err,
		    sizeof(err))) == -1) {
			log_error("listen %s: %s", name, err);
			return -1;
		}
		m->tab.slots[slot].fds[i] = fd;
		if (slot == 0)
			log_info("listening on %s", name);
	}
	return 0;
}

/*
 * In the child, once proc_spawn() has closed what belongs to other
 * workers: leave the master's loop and signals, then run the worker of a
 * slot and generation on conf c.
 */
static int
child_main(void *arg, int slot, unsigned generation, int chan, void *data)
{
	struct master		*m = arg;
	struct conf		*c = data;
	struct worker_args	a;
	struct gateway_conf	gc;
	sigset_t		mask;

	/* Free the signals from the master's loop for the worker's. */
	ev_signal_stop(m->loop, &m->sig_hup);
	ev_signal_stop(m->loop, &m->sig_term);
	ev_signal_stop(m->loop, &m->sig_int);
	ev_child_stop(m->loop, &m->child);
	ev_loop_fork(m->loop);
	ev_loop_destroy(m->loop);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	/*
	 * TERM and INT wait, blocked, until the worker's loop handles them
	 * (worker_main unblocks them): the master's TERM to a worker it has
	 * just respawned (a terminal's ^C lets a worker with nothing to drain
	 * exit before the master hears its own INT) killed it by the default
	 * action instead of draining it.
	 */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	log_procinit("worker", slot);
	memset(&a, 0, sizeof(a));
	a.conf = c;
	conf_gateway(c, &gc);
	gc.reclog = c->connection_recovery ? m->reclog : NULL;
	gateway_configure(&gc);
	a.app = &gateway_app;
	a.path = "/socket.io/";
	a.slot = slot;
	a.generation = generation;
	a.fds = m->tab.slots[slot].fds;
	a.nfds = m->tab.nlisten;
	a.chan = chan;
	a.relay_ns = c->run_dir;
	return worker_main(&a);
}

/* Fork one worker for a slot of the newest generation. */
static pid_t
spawn(struct master *m, int slot, struct conf *c)
{
	pid_t	pid;

	if ((pid = proc_spawn(&m->tab, slot, m->generation, child_main,
	    c)) == -1)
		return -1;
	send_peers(m);
	return pid;
}

/* Every worker learns which workers live, for the bus between them. */
static void
send_peers(struct master *m)
{
	int32_t	wids[PROC_MAX];
	size_t	n = 0;
	int	i;

	for (i = 0; i < PROC_MAX; i++)
		if (m->tab.procs[i].pid != 0 && !m->tab.procs[i].exiting)
			wids[n++] = worker_id(m->tab.procs[i].slot,
			    m->tab.procs[i].generation);
	for (i = 0; i < PROC_MAX; i++)
		if (m->tab.procs[i].pid != 0)
			ipc_send(&m->tab.procs[i].chan, IPC_PEERS, wids,
			    n * sizeof(wids[0]));
}

static void
on_chan(struct ipc *c, int type, const void *data, size_t len, void *arg)
{
	struct master	*m = arg;
	struct proc	*p = (struct proc *)((char *)c -
	    offsetof(struct proc, chan));

	switch (type) {
	case IPC_READY:
		p->ready = 1;
		check_ready(m);
		break;
	case IPC_STATS:
		if (len == sizeof(p->stats))
			memcpy(&p->stats, data, len);
		break;
	default:
		break;		/* -1: the worker closed; SIGCHLD follows */
	}
}

/*
 * group_membership open (the default without a chat service): anyone may
 * join any group, read it and post in it.  Said once, at start, loudly.
 */
static void
warn_open(const struct conf *c)
{
	struct logf	f;

	if (conf_membership(c) != GW_MEMBERSHIP_OPEN)
		return;
	memset(&f, 0, sizeof(f));
	logf_str(&f, "key", "group_membership");
	logf_str(&f, "mode", "open");
	log_emit(LOG_LEVEL_WARN, &f, "group membership is not checked: any "
	    "user may join any group, read it and post in it; set "
	    "chat_service_url or group_membership token");
}

/*
 * All workers of the newest generation serve: tell systemd, and if this
 * was a reload, drain the old generation now.
 */
static void
check_ready(struct master *m)
{
	int	want = worker_count(m->next != NULL ? m->next : m->conf);

	if (proc_count(&m->tab, m->generation, 1) < want || m->stopping)
		return;
	if (m->next != NULL) {
		conf_free(m->conf);
		free(m->conf);
		m->conf = m->next;
		m->next = NULL;
		log_setlevel((enum log_level)m->conf->log_level);
		drain_generation(m, m->generation - 1);
		/* Slots no worker serves any more would swallow connections. */
		close_slots(m, want);
		m->reload_failed[0] = '\0';
		log_info("reloaded: generation %u serves with %d workers",
		    m->generation, want);
	} else if (!m->announced) {
		log_info("socket-gatewayd ready: %d workers, generation %u",
		    want, m->generation);
		warn_open(m->conf);
	}
	m->announced = 1;
	sdnotify_ready();
	sdnotify_status("serving, generation %u, %d workers", m->generation,
	    want);
}

/*
 * Close the listening sockets of slots from first on: a SO_REUSEPORT
 * socket that nobody accepts on still gets its share of connections.
 */
static void
close_slots(struct master *m, int first)
{
	int	i;
	size_t	j;

	for (i = first; i < m->tab.nslots; i++)
		for (j = 0; j < m->tab.nlisten; j++)
			if (m->tab.slots[i].fds[j] >= 0) {
				close(m->tab.slots[i].fds[j]);
				m->tab.slots[i].fds[j] = -1;
			}
	if (first > 0 && first < m->tab.nslots)
		m->tab.nslots = first;
}

/* Tell every worker of older generations (gen and below) to drain. */
static void
drain_generation(struct master *m, unsigned gen)
{
	int	i;

	for (i = 0; i < PROC_MAX; i++)
		if (m->tab.procs[i].pid != 0 &&
		    m->tab.procs[i].generation <= gen &&
		    !m->tab.procs[i].exiting) {
			m->tab.procs[i].exiting = 1;
			kill(m->tab.procs[i].pid, SIGTERM);
		}
	send_peers(m);
}

/* A new generation failed before it served: keep the old one. */
static void
abandon_reload(struct master *m, const char *why)
{
	int	i;

	log_error("reload failed: %s; still serving generation %u with the "
	    "previous configuration", why, m->generation - 1);
	for (i = 0; i < PROC_MAX; i++)
		if (m->tab.procs[i].pid != 0 &&
		    m->tab.procs[i].generation == m->generation) {
			m->tab.procs[i].exiting = 1;
			kill(m->tab.procs[i].pid, SIGTERM);
		}
	conf_free(m->next);
	free(m->next);
	m->next = NULL;
	m->generation--;
	sdnotify_ready();
	snprintf(m->reload_failed, sizeof(m->reload_failed), "%s", why);
	sdnotify_status("Reload failed: %s", why);
	send_peers(m);
}

static void
on_respawn(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct master	*m = ev_userdata(loop);
	int		 slot = (int)((struct proc_slot *)w->data -
	    m->tab.slots);

	(void)revents;
	if (!m->stopping && slot < m->tab.nslots)
		spawn(m, slot, m->next != NULL ? m->next : m->conf);
}

/* Decide what a dead worker's exit means and respawn it if it should be. */
static void
reap_one(struct master *m, pid_t pid, int status)
{
	struct proc_exit	e;
	size_t			n;

	if (proc_reap(&m->tab, pid, status, &e) != 0)
		return;
	send_peers(m);
	/* Its sockets' sessions wait for their clients now (issue 15). */
	if (m->reclog != NULL && (n = reclog_worker_gone(m->reclog,
	    worker_id(e.slot, e.generation), reclog_now_ms())) > 0)
		log_info("worker %d gone: %zu recoverable sessions parked",
		    e.slot, n);
	if (e.exiting || m->stopping)
		return;
	if (m->next != NULL && e.generation == m->generation) {
		abandon_reload(m, e.fatal ? "a new worker cannot start" :
		    "a new worker died");
		return;
	}
	if (e.fatal) {
		log_error("worker %d cannot start and will not be respawned",
		    e.slot);
		return;
	}
	proc_respawn(&m->tab, e.slot, e.age);
}

/*
 * libev's default loop reaps every child itself (its own SIGCHLD handler),
 * so exits come to an ev_child watcher for pid 0, one call per child.
 */
static void
on_child(struct ev_loop *loop, ev_child *w, int revents)
{
	struct master	*m = ev_userdata(loop);
	int		 i, pending = 0;

	(void)revents;
	reap_one(m, w->rpid, w->rstatus);
	if (proc_count(&m->tab, 0, 0) > 0)
		return;
	if (m->stopping) {
		log_info("all workers exited; master exiting");
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	for (i = 0; i < m->tab.nslots; i++)
		pending += ev_is_active(&m->tab.slots[i].respawn);
	if (pending == 0) {
		log_error("no worker can run; exiting");
		m->stopping = 2;
		ev_break(loop, EVBREAK_ALL);
	}
}

static void
conf_err(void *arg, const char *msg)
{
	(void)arg;
	log_error("reload: %s", msg);
}

static void
reload_warn(void *arg, const char *msg)
{
	(void)arg;
	log_warnx("reload: %s", msg);
}

/* SIGHUP: see the top of this file. */
static void
on_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct master	*m = ev_userdata(loop);
	struct conf	*next;
	int		 errors, i, n;

	(void)w;
	(void)revents;
	log_info("signal %d (SIGHUP) received, reloading", SIGHUP);
	if (m->stopping)
		return;
	if (m->next != NULL) {
		log_warnx("reload: already in progress; ignored");
		return;
	}
	if ((next = calloc(1, sizeof(*next))) == NULL)
		return;
	errors = conf_load_all(m->opts, next, conf_err, NULL);
	if (errors != 0) {
		log_error("reload failed: %d error%s in %s; still serving with "
		    "the previous configuration", errors, errors == 1 ? "" :
		    "s", conf_path(m->opts));
		snprintf(m->reload_failed, sizeof(m->reload_failed),
		    "configuration errors");
		sdnotify_status("Reload failed: configuration errors");
		conf_free(next);
		free(next);
		return;
	}
	if (next->nlisten != m->conf->nlisten || memcmp(next->listen,
	    m->conf->listen, sizeof(next->listen)) != 0)
		log_warnx("reload: listen changed; restart to apply it");
	conf_keep_fixed(next, m->conf, reload_warn, NULL);
	next->nlisten = m->conf->nlisten;
	memcpy(next->listen, m->conf->listen, sizeof(next->listen));
	if (next->recovery_log_size != m->conf->recovery_log_size ||
	    next->recovery_sessions != m->conf->recovery_sessions)
		log_warnx("reload: recovery_log_size and recovery_sessions "
		    "keep their values; restart to apply them");
	map_reclog(m, next);
	n = worker_count(next);
	for (i = m->tab.nslots; i < n; i++)
		if (bind_slot(m, i) != 0) {
			next->workers = i;
			n = i;
			break;
		}
	if (n > m->tab.nslots)
		m->tab.nslots = n;
	sdnotify_reloading();
	m->next = next;
	m->generation++;
	for (i = 0; i < n; i++) {
		m->tab.slots[i].crashes = 0;
		ev_timer_stop(loop, &m->tab.slots[i].respawn);
		spawn(m, i, next);
	}
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
		for (i = 0; i < PROC_MAX; i++)
			if (m->tab.procs[i].pid != 0)
				kill(m->tab.procs[i].pid, SIGKILL);
		m->stopping = 2;
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	log_info("signal %d (%s) received, draining", w->signum,
	    strsignal(w->signum));
	sdnotify_stopping();
	m->stopping = 1;
	/* New connections are refused at once, so balancers move on. */
	close_slots(m, 0);
	for (i = 0; i < m->tab.nslots; i++)
		ev_timer_stop(loop, &m->tab.slots[i].respawn);
	drain_generation(m, m->generation);
	ev_timer_init(&m->stop_timer, on_stop_timeout,
	    (double)m->conf->shutdown_timeout / 1000.0 + 2.0, 0);
	ev_timer_start(loop, &m->stop_timer);
	if (proc_count(&m->tab, 0, 0) == 0)
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
	for (i = 0; i < PROC_MAX; i++)
		if (m->tab.procs[i].pid != 0)
			kill(m->tab.procs[i].pid, SIGKILL);
	m->stopping = 2;
	ev_break(loop, EVBREAK_ALL);
}

/* Every second: every worker gets every worker's figures. */
static void
on_report(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct master		*m = ev_userdata(loop);
	static struct worker_stats all[PROC_MAX];
	uint64_t		 sessions = 0;
	size_t			 n = 0;
	int			 i;

	(void)w;
	(void)revents;
	for (i = 0; i < PROC_MAX; i++)
		if (m->tab.procs[i].pid != 0 &&
		    m->tab.procs[i].stats.pid != 0) {
			all[n++] = m->tab.procs[i].stats;
			sessions += m->tab.procs[i].stats.sessions;
		}
	reclog_figures(m, all, n);
	for (i = 0; i < PROC_MAX; i++)
		if (m->tab.procs[i].pid != 0)
			ipc_send(&m->tab.procs[i].chan, IPC_AGGREGATE, all,
			    n * sizeof(all[0]));
	/* A failed reload stays in the status until one succeeds. */
	if (m->announced && !m->stopping && m->next == NULL)
		sdnotify_status("serving %llu connections, generation %u%s%s",
		    (unsigned long long)sessions, m->generation,
		    m->reload_failed[0] != '\0' ? "; last reload failed: " :
		    "", m->reload_failed);
}

/*
 * The run directory belongs to this instance alone (issue 11.19): created
 * or tightened to mode 0700, so that no other user reaches the bus, relay
 * and hand-off sockets in it, and locked (flock on socket-gatewayd.pid,
 * which holds our pid), so that a second gateway given the same run_dir
 * stops here, naming the first, instead of running with its workers'
 * sockets taken and its messages between workers silently lost.  The
 * descriptor is not closed on fork: the lock lasts while any process of
 * this instance does.
 */
static int
own_run_dir(struct master *m)
{
	const char	*dir = m->conf->run_dir;
	struct stat	 st;
	char		 other[32];
	ssize_t		 n;
	int		 fd;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_error("run_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		log_error("run_dir %s: not a directory", dir);
		return -1;
	}
	if (st.st_uid != geteuid() && geteuid() != 0) {
		log_error("run_dir %s belongs to uid %ld, not to this gateway's "
		    "uid %ld", dir, (long)st.st_uid, (long)geteuid());
		return -1;
	}
	if ((st.st_mode & 077) != 0 && chmod(dir, 0700) != 0) {
		log_error("run_dir %s: chmod 0700: %s", dir, strerror(errno));
		return -1;
	}
	if ((size_t)snprintf(m->lock_path, sizeof(m->lock_path),
	    "%s/socket-gatewayd.pid", dir) >= sizeof(m->lock_path)) {
		log_error("run_dir %s: name too long", dir);
		return -1;
	}
	if ((fd = open(m->lock_path, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		log_error("%s: %s", m->lock_path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK) {
			n = pread(fd, other, sizeof(other) - 1, 0);
			other[n > 0 ? n : 0] = '\0';
			other[strcspn(other, "\n")] = '\0';
			log_error("run_dir %s is in use by another "
			    "socket-gatewayd (pid %s); give each instance its "
			    "own run_dir", dir, other[0] != '\0' ? other :
			    "unknown");
		} else
			log_error("%s: flock: %s", m->lock_path,
			    strerror(errno));
		close(fd);
		return -1;
	}
	n = snprintf(other, sizeof(other), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, other, (size_t)n, 0) != n)
		log_warn("%s", m->lock_path);
	return 0;
}

/*
 * Connection state recovery (issue 15): the host's log, mapped once,
 * before the first fork, so that every worker and every reload's workers
 * share it and it outlives any of them.  A reload that turns recovery on
 * maps it then; one that turns it off keeps it for the old generation.
 * No log: the gateway serves without recovery, loudly (an error here,
 * /health degraded, socketgw_recovery_log_down).
 */
static void
map_reclog(struct master *m, const struct conf *c)
{
	struct logf	f;
	char		err[256];
	uint32_t	epoch;

	if (!c->connection_recovery || m->reclog != NULL)
		return;
	if (getrandom(&epoch, sizeof(epoch), 0) != (ssize_t)sizeof(epoch))
		epoch = (uint32_t)time(NULL) ^ (uint32_t)getpid() << 16;
	m->reclog = reclog_new((size_t)c->recovery_log_size,
	    (size_t)c->recovery_sessions, epoch, err, sizeof(err));
	memset(&f, 0, sizeof(f));
	logf_int(&f, "recovery_log_size", c->recovery_log_size);
	logf_int(&f, "recovery_sessions", c->recovery_sessions);
	if (m->reclog == NULL) {
		m->reclog_failed = 1;
		logf_str(&f, "error", err);
		log_emit(LOG_LEVEL_ERROR, &f, "connection recovery is off: "
		    "the recovery log cannot be mapped; clients that reconnect "
		    "start new sessions and miss what was sent meanwhile");
		return;
	}
	m->reclog_failed = 0;
	log_emit(LOG_LEVEL_INFO, &f, "connection recovery: the recovery log "
	    "is mapped");
}

/*
 * Every second: parked sessions past max_disconnection_duration go, and
 * the log's figures (the host's, the same for all) ride in every worker's
 * report to the workers that render /metrics and /health.
 */
static void
reclog_figures(struct master *m, struct worker_stats *all, size_t n)
{
	struct reclog_stats	rs;
	size_t			i;

	memset(&rs, 0, sizeof(rs));
	if (m->reclog != NULL) {
		reclog_expire(m->reclog, reclog_now_ms(),
		    (uint64_t)m->conf->max_disconnection_duration);
		reclog_stats(m->reclog, &rs);
	}
	for (i = 0; i < n; i++) {
		all[i].recovery_log_down = m->reclog_failed &&
		    m->conf->connection_recovery;
		all[i].recovery_log_bytes = rs.log_bytes;
		all[i].recovery_log_used = rs.log_used;
		all[i].recovery_log_entries = rs.entries;
		all[i].recovery_log_appended = rs.appended;
		all[i].recovery_log_evicted = rs.evicted;
		all[i].recovery_log_too_big = rs.too_big;
		all[i].recovery_log_sessions = rs.sessions;
		all[i].recovery_log_sessions_max = rs.sessions_max;
		all[i].recovery_log_parked = rs.parked;
		all[i].recovery_log_repaired = rs.repaired;
	}
}

/* Started as root with `user` set: become that user once bound. */
static int
drop_privileges(const struct conf *c)
{
	struct passwd	*pw;

	if (geteuid() != 0 || c->user[0] == '\0')
		return 0;
	if ((pw = getpwnam(c->user)) == NULL) {
		log_error("user %s: no such user", c->user);
		return -1;
	}
	if (chown(c->run_dir, pw->pw_uid, pw->pw_gid) != 0)
		log_warn("chown %s", c->run_dir);
	if (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		log_warn("cannot become user %s", c->user);
		return -1;
	}
	log_info("running as user %s", c->user);
	return 0;
}

int
master_main(const struct cli_opts *o, struct conf *c)
{
	static struct master	 m;
	char			 err[256];
	int			 i;

	m.opts = o;
	if ((m.conf = calloc(1, sizeof(*m.conf))) == NULL)
		return 1;
	*m.conf = *c;		/* the master owns it from now on */
	memset(c, 0, sizeof(*c));
	m.generation = 1;
	log_procinit("master", -1);
	signal(SIGPIPE, SIG_IGN);
	if (own_run_dir(&m) != 0)
		return 1;
	if ((m.loop = ev_default_loop(EVFLAG_AUTO)) == NULL)
		fatalx("cannot create the event loop");
	ev_set_userdata(m.loop, &m);
	proc_init(&m.tab, m.loop, on_chan, on_respawn, &m);
	m.tab.nlisten = m.conf->nlisten;
	if ((m.ninherited = listener_inherited(m.inherited, CONF_LISTEN_MAX,
	    err, sizeof(err))) < 0) {
		log_error("socket activation: %s", err);
		return 1;
	}
	if (m.ninherited > 0) {
		m.tab.nlisten = (size_t)m.ninherited;
		log_info("socket activation: %d sockets from systemd; the "
		    "listen lines are not used", m.ninherited);
	}
	m.tab.nslots = worker_count(m.conf);
	for (i = 0; i < m.tab.nslots; i++)
		if (bind_slot(&m, i) != 0)
			return 1;
	if (drop_privileges(m.conf) != 0)
		return 1;
	ev_child_init(&m.child, on_child, 0, 0);
	ev_signal_init(&m.sig_hup, on_hup, SIGHUP);
	ev_signal_init(&m.sig_term, on_term, SIGTERM);
	ev_signal_init(&m.sig_int, on_term, SIGINT);
	ev_child_start(m.loop, &m.child);
	ev_signal_start(m.loop, &m.sig_hup);
	ev_signal_start(m.loop, &m.sig_term);
	ev_signal_start(m.loop, &m.sig_int);
	ev_timer_init(&m.report, on_report, 1.0, 1.0);
	ev_timer_start(m.loop, &m.report);
	sdnotify_watchdog_start(m.loop);
	map_reclog(&m, m.conf);
	for (i = 0; i < m.tab.nslots; i++)
		spawn(&m, i, m.conf);
	ev_run(m.loop, 0);
	/* The lock goes with our last descriptor; the name can go now. */
	if (m.stopping != 2)
		unlink(m.lock_path);
	return m.stopping == 2 ? 1 : 0;
}
