/*
 * The conformance server: our own layers, configured and behaving as the
 * READMEs of the public protocol test suites ask (socketio/engine.io-protocol
 * and socketio/socket.io-protocol, folder test-suite/): port 3000,
 * pingInterval 300, pingTimeout 200, maxPayload 1e6, connectTimeout 1000,
 * CORS for any origin.
 *
 *	conformance-server [-e] [-p port]
 *
 * -e serves bare Engine.IO on /engine.io/ and echoes every message; without
 * it, Socket.IO on /socket.io/ with "/" and "/custom", emitting "auth" on
 * connect, answering "message" with "message-back" and acking
 * "message-with-ack" with its own arguments.  Beyond the suites, for our
 * own tests of acks from the server: "ask" makes the server emit
 * "question" (same arguments) with an ack id, and the client's ack comes
 * back as the event "answer".
 */

#define ASK_ID	7
#include <ev.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "conf.h"
#include "eio.h"
#include "frame.h"
#include "listener.h"
#include "log.h"
#include "session.h"
#include "sio.h"
#include "transport.h"
#include "socketio.h"
#include "worker.h"

static const char *const nsps[] = { "/", "/custom", NULL };

static void
eio_echo(struct session *s, const struct eio_packet *p)
{
	struct frame	*f;

	if ((f = frame_new(p->len + (p->binary ? 0 : 1), p->binary)) == NULL)
		return;
	if (p->binary)
		memcpy(FRAME_DATA(f), p->data, p->len);
	else {
		FRAME_DATA(f)[0] = '4';
		memcpy(FRAME_DATA(f) + 1, p->data, p->len);
	}
	session_send(s, f);
}

/*
 * The suite reads the CONNECT answer and the "auth" event with two awaits
 * in a row; its ws client (8.5) emits every message of one TCP read at
 * once, so the second would be missed if both left in one segment.  The
 * Node.js server happens to write them apart; we do it on purpose, 2 ms
 * later.
 */
struct pending_auth {
	ev_timer	 timer;
	struct session	*s;
	unsigned	 nsp;
	json_t		*args;
};

static void
on_auth_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pending_auth	*p = w->data;

	(void)loop;
	(void)revents;
	if (p->s != NULL) {
		socketio_emit(p->s, p->nsp, "auth", p->args);
		session_unpin(p->s);
	}
	json_decref(p->args);
	free(p);
}

static void
sio_connected(struct session *s, unsigned nsp, json_t *auth)
{
	struct pending_auth	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return;
	p->s = s;
	p->nsp = nsp;
	p->args = json_pack("[O]", auth);
	ev_timer_init(&p->timer, on_auth_timer, 0.002, 0);
	p->timer.data = p;
	ev_timer_start(s->t->loop, &p->timer);
	session_pin(s);		/* one pending auth per namespace CONNECT */
}

/* "message" -> "message-back", "message-with-ack" -> its ack. */
static void
sio_packet(struct session *s, unsigned nsp, struct sio_packet *p,
    const struct sio_attachment *att, unsigned natt)
{
	const char	*name;
	size_t		 len;
	json_t		*rest;
	bool		 binary = p->type == SIO_BINARY_EVENT;

	if (p->type == SIO_ACK && p->ack_id == ASK_ID) {
		socketio_emit(s, nsp, "answer", p->data);
		return;
	}
	if (p->type != SIO_EVENT && !binary)
		return;
	if ((name = sio_event_name(p, &len)) == NULL)
		return;
	if (strcmp(name, "message") == 0) {
		json_t *out = json_deep_copy(p->data);

		json_array_set_new(out, 0, json_string("message-back"));
		if (binary)
			socketio_send_binary(s, nsp, SIO_BINARY_EVENT, -1, out,
			    att, natt);
		else {
			json_array_remove(out, 0);
			socketio_emit(s, nsp, "message-back", out);
		}
		json_decref(out);
	} else if (strcmp(name, "ask") == 0 && !binary) {
		rest = json_deep_copy(p->data);
		json_array_remove(rest, 0);
		socketio_emit_ack(s, nsp, "question", rest, ASK_ID);
		json_decref(rest);
	} else if (strcmp(name, "message-with-ack") == 0 && p->ack_id >= 0) {
		rest = json_deep_copy(p->data);
		json_array_remove(rest, 0);
		if (binary)
			socketio_send_binary(s, nsp, SIO_BINARY_ACK, p->ack_id,
			    rest, att, natt);
		else
			socketio_ack(s, nsp, p->ack_id, rest);
		json_decref(rest);
	}
}

static const struct app eio_app = {
	.nsps = nsps,
	.eio_message = eio_echo,
};

static const struct app sio_app = {
	.nsps = nsps,
	.connected = sio_connected,
	.packet = sio_packet,
};

int
main(int argc, char **argv)
{
	struct worker_args	 a;
	struct conf		 c;
	struct conf_listen	 l[2];
	char			 err[256];
	int			 ch, fds[2], port = 3000, engineio = 0;
	size_t			 i;

	while ((ch = getopt(argc, argv, "ep:")) != -1) {
		switch (ch) {
		case 'e':
			engineio = 1;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: conformance-server [-e] "
			    "[-p port]\n");
			return 2;
		}
	}
	conf_init(&c);
	c.ping_interval = 300;
	c.ping_timeout = 200;
	c.connect_timeout = 1000;
	c.max_payload = 1000000;
	log_setlevel(getenv("DEBUG") != NULL ? LOG_LEVEL_DEBUG :
	    LOG_LEVEL_WARN);
	memset(l, 0, sizeof(l));
	snprintf(l[0].host, sizeof(l[0].host), "127.0.0.1");
	snprintf(l[1].host, sizeof(l[1].host), "::1");
	for (i = 0; i < 2; i++) {
		l[i].port = port;
		if ((fds[i] = listener_open(&l[i], err, sizeof(err))) == -1) {
			fprintf(stderr, "conformance-server: %s port %d: %s\n",
			    l[i].host, port, err);
			return 1;
		}
	}
	memset(&a, 0, sizeof(a));
	a.conf = &c;
	a.app = engineio ? &eio_app : &sio_app;
	a.path = engineio ? "/engine.io/" : "/socket.io/";
	a.fds = fds;
	a.nfds = 2;
	a.chan = -1;
	log_procinit("conformance", 0);
	fprintf(stderr, "conformance-server: %s on port %d\n",
	    engineio ? "Engine.IO echo" : "Socket.IO", port);
	return worker_main(&a);
}
