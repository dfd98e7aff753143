/*
 * A worker process: its own libev loop, libwebsockets on that loop as a
 * foreign loop, and an ev_io per inherited listening socket that accepts and
 * hands each connection to lws (lws cannot listen in several processes:
 * ../shared/NOTES.md).  Created after fork, never before.
 */
#include <sys/socket.h>

#include <errno.h>
#include <ev.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "conf.h"
#include "log.h"
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
	ev_io			 chan;
	int			 draining;
};

static void	on_accept(struct ev_loop *, ev_io *, int);
static void	on_term(struct ev_loop *, ev_signal *, int);
static void	on_chan(struct ev_loop *, ev_io *, int);
static void	stop_accepting(struct worker *);
static void	drain(struct worker *, const char *);

/* Accept until EAGAIN and give every connection to lws. */
static void
on_accept(struct ev_loop *loop, ev_io *io, int revents)
{
	struct acceptor	*a = (struct acceptor *)io;
	int		 fd;

	(void)loop;
	(void)revents;
	for (;;) {
		fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				log_warn("accept: out of file descriptors");
			else if (errno != EAGAIN)
				log_warn("accept");
			return;
		}
		if (transport_adopt(a->w->transport, fd) != 0)
			return;
	}
}

static void
stop_accepting(struct worker *w)
{
	size_t	i;

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
	ev_signal_stop(w->loop, &w->sig_term);
	ev_signal_stop(w->loop, &w->sig_int);
	if (ev_is_active(&w->chan))
		ev_io_stop(w->loop, &w->chan);
	transport_drain(w->transport);
}

static void
on_term(struct ev_loop *loop, ev_signal *s, int revents)
{
	struct worker	*w = ev_userdata(loop);

	(void)revents;
	drain(w, s->signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* The master's end closed: the master is gone, so drain and exit. */
static void
on_chan(struct ev_loop *loop, ev_io *io, int revents)
{
	struct worker	*w = ev_userdata(loop);
	char		 buf[256];
	ssize_t		 n;

	(void)revents;
	n = read(io->fd, buf, sizeof(buf));
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
		drain(w, "master went away");
}

int
worker_main(const struct worker_args *args)
{
	struct worker	 w;
	size_t		 i;
	int		 rc;

	memset(&w, 0, sizeof(w));
	w.args = args;
	if ((w.loop = ev_loop_new(EVFLAG_AUTO)) == NULL) {
		log_error("cannot create the event loop");
		return WORKER_EXIT_FATAL;
	}
	ev_set_userdata(w.loop, &w);
	signal(SIGPIPE, SIG_IGN);
	if ((w.transport = transport_new(w.loop, args, args->app,
	    args->path)) == NULL)
		return WORKER_EXIT_FATAL;
	if (args->app->init != NULL && args->app->init(w.transport) != 0)
		return WORKER_EXIT_FATAL;
	if (args->relay_ns != NULL && (w.transport->relay =
	    relay_new(w.transport, args->relay_ns)) == NULL)
		log_warnx("long-polling requests will not be relayed");
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
	if (args->chan >= 0) {
		ev_io_init(&w.chan, on_chan, args->chan, EV_READ);
		ev_io_start(w.loop, &w.chan);
	}
	/* SIGHUP belongs to the master; a worker ignores a stray one. */
	signal(SIGHUP, SIG_IGN);
	log_debug("worker serving, generation %u", args->generation);
	ev_run(w.loop, 0);
	relay_free(w.transport->relay);
	rc = transport_free(w.transport);
	ev_loop_destroy(w.loop);
	return rc;
}
