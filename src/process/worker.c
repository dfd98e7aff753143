/*
 * A worker process: its own libev loop, libwebsockets on that loop as a
 * foreign loop, and an ev_io per inherited listening socket that accepts and
 * hands each connection to lws (lws cannot listen in several processes:
 * ../shared/NOTES.md).  Created after fork, never before.
 */
#include <sys/socket.h>

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "client.h"
#include "conf.h"
#include "ipc.h"
#include "stats.h"
#include "log.h"
#include "accept.h"
#include "handoff.h"
#include "relay.h"
#include "transport.h"
#include "worker.h"

struct acceptor {
	ev_io		 io;
	struct worker	*w;
};

struct worker {
	struct ev_loop		*loop;
	const struct worker_args *args;
	struct transport	*transport;
	struct acceptor		 acceptors[CONF_LISTEN_MAX];
	ev_signal		 sig_term, sig_int, sig_hup;
	struct ipc		 chan;
	ev_timer		 report;
	ev_timer		 resume;	/* accepting paused: EMFILE */
	int			 spare;		/* a descriptor kept for EMFILE */
	double			 fd_logged;	/* last EMFILE log line */
	uint64_t		 fd_unlogged;	/* EMFILEs since then */
	int			 draining;
};

/*
 * Out of descriptors, accepting pauses this long: the listening socket
 * stays readable, so without a pause the loop would spin on accept4().
 */
#define ACCEPT_PAUSE	0.25

static void	on_accept(struct ev_loop *, ev_io *, int);
static void	on_term(struct ev_loop *, ev_signal *, int);
static void	on_chan(struct ipc *, int, const void *, size_t, void *);
static void	on_report(struct ev_loop *, ev_timer *, int);
static void	on_resume(struct ev_loop *, ev_timer *, int);
static void	out_of_fds(struct worker *, int);
static void	stop_accepting(struct worker *);
static void	drain(struct worker *, const char *);

/* Accept until EAGAIN and give every connection to lws. */
static void
on_accept(struct ev_loop *loop, ev_io *io, int revents)
{
	struct acceptor		*a = (struct acceptor *)io;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	int			 fd;

	(void)loop;
	(void)revents;
	for (;;) {
		sl = sizeof(ss);
		fd = accept4(io->fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				out_of_fds(a->w, io->fd);
			else if (errno != EAGAIN)
				log_warn("accept");
			return;
		}
		if (client_admit(a->w->transport, fd, &ss, sl) != 0)
			continue;
		accept_conn(a->w->transport->acceptq, a->w->transport, fd);
	}
}

/*
 * No descriptor for a new connection (EMFILE or ENFILE).  The spare one
 * we keep is given up to accept one waiting client and close it at once,
 * so that it hears a close instead of hanging (libuv's trick), and every
 * acceptor pauses for ACCEPT_PAUSE (nginx's): the others wait in the
 * backlog until connections close.  One log line a second at most.
 */
static void
out_of_fds(struct worker *w, int lfd)
{
	size_t	i;
	int	fd;

	w->transport->stats.fd_exhausted++;
	if (w->spare >= 0) {
		close(w->spare);
		w->spare = -1;
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
			close(fd);
		w->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	for (i = 0; i < w->args->nfds; i++)
		ev_io_stop(w->loop, &w->acceptors[i].io);
	if (!ev_is_active(&w->resume)) {
		ev_timer_set(&w->resume, ACCEPT_PAUSE, 0);
		ev_timer_start(w->loop, &w->resume);
	}
	w->fd_unlogged++;
	if (ev_now(w->loop) - w->fd_logged >= 1.0) {
		log_warnx("accept: out of file descriptors (%llu times since "
		    "the last line); pausing accepts", (unsigned long long)
		    w->fd_unlogged);
		w->fd_logged = ev_now(w->loop);
		w->fd_unlogged = 0;
	}
}

/* The pause is over: accept again (a drain may have closed the sockets). */
static void
on_resume(struct ev_loop *loop, ev_timer *tm, int revents)
{
	struct worker	*w = ev_userdata(loop);
	size_t		 i;

	(void)tm;
	(void)revents;
	if (w->draining)
		return;
	if (w->spare < 0)
		w->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (i = 0; i < w->args->nfds; i++)
		ev_io_start(loop, &w->acceptors[i].io);
}

static void
stop_accepting(struct worker *w)
{
	size_t	i;

	ev_timer_stop(w->loop, &w->resume);
	for (i = 0; i < w->args->nfds; i++) {
		if (ev_is_active(&w->acceptors[i].io))
			ev_io_stop(w->loop, &w->acceptors[i].io);
		close(w->acceptors[i].io.fd);
	}
}

/* Stop accepting, tell the clients to reconnect, exit when they are gone. */
static void
drain(struct worker *w, const char *why)
{
	if (w->draining)
		return;
	w->draining = 1;
	log_info("draining: %s", why);
	stop_accepting(w);
	/*
	 * The signal watchers stay: stopping them would restore SIG_DFL,
	 * and the master's TERM after a terminal's INT would kill us.
	 */
	transport_drain(w->transport);
	on_report(w->loop, &w->report, 0);
}

static void
on_term(struct ev_loop *loop, ev_signal *s, int revents)
{
	struct worker	*w = ev_userdata(loop);

	(void)revents;
	drain(w, s->signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/*
 * A message from the master.  The channel closing means the master is
 * gone (HAProxy's rule): drain and exit.
 */
static void
on_chan(struct ipc *c, int type, const void *data, size_t len, void *arg)
{
	struct worker		*w = arg;
	struct transport	*t = w->transport;
	const struct app	*app = w->args->app;

	(void)c;
	switch (type) {
	case -1:
		ev_timer_stop(w->loop, &w->report);
		drain(w, "master went away");
		break;
	case IPC_AGGREGATE:
		if (len % sizeof(struct worker_stats) != 0 ||
		    len / sizeof(struct worker_stats) > STATS_MAX_WORKERS)
			break;
		memcpy(t->agg, data, len);
		t->nagg = len / sizeof(struct worker_stats);
		break;
	case IPC_PEERS:
		if (len % sizeof(int32_t) == 0 && app->peers != NULL)
			app->peers(t, data, len / sizeof(int32_t));
		break;
	default:
		break;
	}
}

/* This worker's figures, for the master; also the local fallback. */
static void
on_report(struct ev_loop *loop, ev_timer *tm, int revents)
{
	struct worker		*w = ev_userdata(loop);
	struct transport	*t = w->transport;
	struct worker_stats	 st;

	(void)tm;
	(void)revents;
	transport_stats(t, &st);
	st.slot = w->args->slot;
	st.generation = w->args->generation;
	st.draining = (uint8_t)w->draining;
	st.peers_refused = t->stats.peers_refused;
	st.status_refused = t->stats.status_refused;
	/* A worker that should reach its siblings and cannot is an error. */
	st.isolated = w->args->relay_ns != NULL && (t->relay == NULL ||
	    t->handoff == NULL);
	if (w->args->app->stats != NULL)
		w->args->app->stats(t, &st);
	if (w->chan.io.fd >= 0)
		ipc_send(&w->chan, IPC_STATS, &st, sizeof(st));
	if (t->nagg == 0 || w->chan.io.fd < 0) {
		t->agg[0] = st;
		t->nagg = 1;
	}
}

int
worker_main(const struct worker_args *args)
{
	struct worker		 w;
	struct transport_conf	 tc;
	sigset_t		 mask;
	size_t			 i;
	int			 rc;

	memset(&w, 0, sizeof(w));
	conf_transport(args->conf, &tc);
	w.args = args;
	if ((w.loop = ev_loop_new(EVFLAG_AUTO)) == NULL) {
		log_error("cannot create the event loop");
		return WORKER_EXIT_FATAL;
	}
	/* Fewer, larger wakes where workers share CPUs (issue 16). */
	if (tc.io_collect_interval > 0)
		ev_set_io_collect_interval(w.loop,
		    (double)tc.io_collect_interval / 1000.0);
	ev_set_userdata(w.loop, &w);
	signal(SIGPIPE, SIG_IGN);
	if ((w.transport = transport_new(w.loop, &tc, worker_id(args->slot,
	    args->generation), args->app, args->path)) == NULL)
		return WORKER_EXIT_FATAL;
	if (args->relay_ns != NULL && ((w.transport->relay =
	    relay_new(w.transport, args->relay_ns)) == NULL ||
	    (w.transport->handoff = handoff_new(w.transport,
	    args->relay_ns)) == NULL ||
	    (w.transport->acceptq = accept_new(w.transport)) == NULL))
		log_error("requests will not reach other workers' sessions; "
		    "/health reports this worker as isolated");
	/* Alone, each first request's head is still checked. */
	if (args->relay_ns == NULL && (w.transport->acceptq =
	    accept_new(w.transport)) == NULL)
		return WORKER_EXIT_FATAL;
	if (args->app->init != NULL && args->app->init(w.transport) != 0)
		return WORKER_EXIT_FATAL;
	for (i = 0; i < args->nfds; i++) {
		w.acceptors[i].w = &w;
		ev_io_init(&w.acceptors[i].io, on_accept, args->fds[i],
		    EV_READ);
		ev_io_start(w.loop, &w.acceptors[i].io);
	}
	ev_signal_init(&w.sig_term, on_term, SIGTERM);
	ev_signal_init(&w.sig_int, on_term, SIGINT);
	ev_signal_start(w.loop, &w.sig_term);
	ev_signal_start(w.loop, &w.sig_int);
	/* Blocked since the fork (child_main): a TERM that came is ours now. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	w.chan.io.fd = -1;
	if (args->chan >= 0) {
		ipc_init(&w.chan, w.loop, args->chan, on_chan, &w);
		ipc_send(&w.chan, IPC_READY, NULL, 0);
	}
	ev_timer_init(&w.report, on_report, 0, 1.0);
	ev_timer_start(w.loop, &w.report);
	ev_timer_init(&w.resume, on_resume, ACCEPT_PAUSE, 0);
	w.spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	/* SIGHUP belongs to the master; a worker ignores a stray one. */
	signal(SIGHUP, SIG_IGN);
	log_debug("worker serving, generation %u", args->generation);
	ev_run(w.loop, 0);
	/*
	 * Done serving: a TERM or INT from now on (the master's TERM after a
	 * terminal's INT) must not kill the exit.  libev holds them blocked
	 * for its signalfd; destroying the loop unblocks them, and a pending
	 * one would then take the default action: exit on signal 15.
	 */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	ev_timer_stop(w.loop, &w.report);
	ev_timer_stop(w.loop, &w.resume);
	if (args->app->fini != NULL)
		args->app->fini(w.transport);
	if (w.spare >= 0)
		close(w.spare);
	ipc_close(&w.chan);
	accept_free(w.transport->acceptq);
	relay_free(w.transport->relay);
	handoff_free(w.transport->handoff);
	/* lws_context_destroy() calls back, and drained() looks at these. */
	w.transport->acceptq = NULL;
	w.transport->relay = NULL;
	w.transport->handoff = NULL;
	rc = transport_free(w.transport);
	ev_loop_destroy(w.loop);
	return rc;
}
