/*
 * lwsmin-server: libwebsockets' own minimum per idle WebSocket connection
 * (issue 16), to set the gateway's memory per connection against.  The
 * shape of lws's minimal-ws-server example: one context, lws's own
 * listener and poll loop, one protocol with the gateway's rx buffer (256
 * bytes, src/transport/transport.c's RX_BUFFER) and a per-connection
 * state of a few bytes.  It answers socket-gateway-bench's conns scenario
 * and nothing more: the Engine.IO open at the upgrade; at the Socket.IO
 * CONNECT, its answer, `connected` and `online_users` (fixed ids: nothing
 * is parsed, nothing verified); pongs to nothing (the tool's pings are the
 * server's to send, and this one sends none).
 *
 * With -e, lws runs as the gateway runs it: on a libev loop of ours
 * (LWS_SERVER_OPTION_LIBEV, a foreign loop), every connection accepted
 * by us and adopted (lws_adopt_descriptor_vhost, LWS_ADOPT_HTTP), with
 * the gateway's max_http_header_data2 (16 KB): what that costs beyond
 * lws's own listener is lws's too.
 *
 * usage: lwsmin-server [-e] [-p port]
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ev.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RX_BUFFER	256	/* the gateway's */

/* What a connection still has to write: one frame per writable. */
struct pss {
	unsigned char	 next;	/* 0: nothing, 1: open, 2..4: CONNECT's */
};

static const char *const frames[] = {
	"",
	"0{\"sid\":\"lwsminlwsminlwsmin00\",\"upgrades\":[],"
	    "\"pingInterval\":25000,\"pingTimeout\":20000,"
	    "\"maxPayload\":1000000}",
	"40{\"sid\":\"lwsminlwsminlwsmin01\"}",
	"42[\"connected\",{\"socket_id\":\"lwsminlwsminlwsmin01\","
	    "\"user_id\":\"u\"}]",
	"42[\"online_users\",[\"u\"]]",
};

static volatile int	 stop;

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct pss	*p = user;
	unsigned char	 buf[LWS_PRE + 160];
	size_t		 n;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		p->next = 1;
		lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_RECEIVE:
		if (len >= 2 && memcmp(in, "40", 2) == 0) {
			p->next = 2;
			lws_callback_on_writable(wsi);
		}
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (p->next == 0 || p->next > 4)
			break;
		n = strlen(frames[p->next]);
		memcpy(buf + LWS_PRE, frames[p->next], n);
		if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n)
			return -1;
		p->next = (p->next == 1 || p->next == 4) ? 0 : p->next + 1;
		if (p->next != 0)
			lws_callback_on_writable(wsi);
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "lwsmin", callback, sizeof(struct pss), RX_BUFFER, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static struct lws_vhost	*vhost;

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	lws_sock_file_fd_type	 u;
	int			 fd;

	(void)revents;
	while ((fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) >= 0) {
		u.sockfd = fd;
		if (lws_adopt_descriptor_vhost(vhost, LWS_ADOPT_HTTP |
		    LWS_ADOPT_SOCKET, u, NULL, NULL) == NULL)
			close(fd);	/* lws may have: EBADF is fine */
	}
}

static void
on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static int
listener(int port)
{
	struct sockaddr_in	 sin;
	int			 fd, on = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, 4096) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* -e: the gateway's shape. */
static int
run_ev(struct lws_context_creation_info *info, int port)
{
	struct ev_loop		*loop = ev_default_loop(0);
	struct lws_context	*ctx;
	void			*loops[1] = { loop };
	ev_io			 w;
	ev_signal		 sigint, sigterm;
	int			 fd;

	info->options |= LWS_SERVER_OPTION_LIBEV;
	info->foreign_loops = loops;
	info->port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info->iface = NULL;
	info->vhost_name = "default";
	info->max_http_header_data2 = 16384;
	if ((ctx = lws_create_context(info)) == NULL ||
	    (vhost = lws_get_vhost_by_name(ctx, "default")) == NULL ||
	    (fd = listener(port)) < 0) {
		fprintf(stderr, "lwsmin-server: cannot start (libev)\n");
		return 1;
	}
	ev_io_init(&w, on_accept, fd, EV_READ);
	ev_io_start(loop, &w);
	ev_signal_init(&sigint, on_stop, SIGINT);
	ev_signal_start(loop, &sigint);
	ev_signal_init(&sigterm, on_stop, SIGTERM);
	ev_signal_start(loop, &sigterm);
	ev_run(loop, 0);
	lws_context_destroy(ctx);
	return 0;
}

int
main(int argc, char **argv)
{
	struct lws_context_creation_info	 info;
	struct lws_context			*ctx;
	int					 c, port = 7681, ev = 0;

	while ((c = getopt(argc, argv, "ep:")) != -1) {
		if (c == 'e')
			ev = 1;
		else if (c == 'p')
			port = atoi(optarg);
		else {
			fprintf(stderr, "usage: lwsmin-server [-e] [-p port]\n");
			return 2;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
	memset(&info, 0, sizeof(info));
	info.port = port;
	info.iface = "127.0.0.1";
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	info.timeout_secs = 20;
	if (ev)
		return run_ev(&info, port);
	if ((ctx = lws_create_context(&info)) == NULL) {
		fprintf(stderr, "lwsmin-server: lws_create_context failed\n");
		return 1;
	}
	while (!stop)
		if (lws_service(ctx, 0) < 0)
			break;
	lws_context_destroy(ctx);
	return 0;
}
