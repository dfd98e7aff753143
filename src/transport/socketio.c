/*
 * Socket.IO over an Engine.IO session.  Decoding is sio_packet.c's; here is
 * what the reference server does with each packet: a CONNECT to a namespace
 * the application does not have gets CONNECT_ERROR "Invalid namespace"; a
 * packet that does not parse closes the whole connection ("parse error");
 * an event for a namespace the client has not joined is ignored.  An
 * application may answer a CONNECT later (APP_CONNECT_PENDING, then
 * socketio_connect_answer()): meanwhile the namespace is pending, its
 * events are ignored and a second CONNECT to it too.
 *
 * Connection state recovery (issue 15): before the CONNECT answer the
 * application may give the socket the id it had and a pid
 * (socketio_set_ids(), from struct app's accepting), and send the
 * packets the client missed, which must come first; it learns from a
 * close's reason whether the client may come back for its state
 * (socketio_recoverable()).
 */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "eio.h"
#include "jsonlimit.h"
#include "log.h"
#include "randpool.h"
#include "session.h"
#include "sid.h"
#include "sio.h"
#include "socketio.h"
#include "transport.h"

#define SMALL	1024	/* most packets encode into this on the stack */

static void	 on_connect(struct session *, struct sio_packet *);
static void	 connect_error(struct session *, const char *, const char *);
static void	 accept_connect(struct session *, unsigned, json_t *);
static void	 on_disconnect(struct session *, struct sio_packet *);
static void	 dispatch(struct session *, struct sio_packet *,
		    const struct sio_attachment *, unsigned);
static int	 nsp_index(const struct session *, const char *);
static void	 limits(const struct session *, struct sio_limits *);
static int	 send_json_packet(struct session *, unsigned, int, int64_t,
		    json_t *);
static int	 send_encoded(struct session *, const struct sio_packet *);
static void	 pending_release(struct session *, unsigned);

/*
 * The closes after which socket.io keeps a socket's state for its client
 * to recover (socket.io's RECOVERABLE_DISCONNECT_REASONS): the network or
 * the server went, not the client's DISCONNECT nor the server's own
 * disconnect of that socket (a token expired, a rate limit, an admin).
 */
static const char *const recoverable[] = {
	"transport error", "transport close", "forced close",
	"ping timeout", "server shutting down", "forced server close", NULL
};

static int
nsp_index(const struct session *s, const char *nsp)
{
	const char *const	*n = s->t->app->nsps;
	int			 i;

	for (i = 0; n[i] != NULL && i < 32; i++)
		if (strcmp(n[i], nsp) == 0)
			return i;
	return -1;
}

static void
limits(const struct session *s, struct sio_limits *l)
{
	*l = sio_limits_default;
	l->max_bytes = (size_t)s->t->conf->max_payload;
}

/* Encode a packet struct and send it as one text frame. */
static int
send_encoded(struct session *s, const struct sio_packet *p)
{
	char	 small[SMALL], *buf = small;
	size_t	 n;
	int	 rc;

	n = sio_packet_encode(p, SIO_ENCODE_EIO, small, sizeof(small));
	if (n == 0)
		return -1;
	if (n >= sizeof(small)) {
		if ((buf = malloc(n + 1)) == NULL)
			return -1;
		sio_packet_encode(p, SIO_ENCODE_EIO, buf, n + 1);
	}
	rc = session_send_text(s, buf, n);
	if (buf != small)
		free(buf);
	return rc;
}

/* A packet of any type with JSON data (borrowed), in namespace nsp. */
static int
send_json_packet(struct session *s, unsigned nsp, int type, int64_t ack,
    json_t *data)
{
	struct sio_packet	p;
	int			rc;

	sio_packet_init(&p);
	p.type = (enum sio_type)type;
	snprintf(p.nsp, sizeof(p.nsp), "%s", s->t->app->nsps[nsp]);
	p.nsp_len = strlen(p.nsp);
	p.ack_id = ack;
	p.data = data;
	rc = send_encoded(s, &p);
	p.data = NULL;
	sio_packet_clear(&p);
	return rc;
}

/* A CONNECT_ERROR to namespace name. */
static void
connect_error(struct session *s, const char *name, const char *why)
{
	char	buf[SMALL];
	size_t	n;

	n = sio_encode_connect_error(buf, sizeof(buf), name,
	    why != NULL ? why : "Not authorized");
	if (n > 0 && n < sizeof(buf))
		session_send_text(s, buf, n);
}

/* The application accepted a CONNECT to nsps[i]: answer, then greet. */
static void
accept_connect(struct session *s, unsigned i, json_t *auth)
{
	const char	*name = s->t->app->nsps[i];
	char		 buf[SMALL], sid[SID_LEN + 1];
	uint8_t		 rnd[SID_RANDOM_BYTES];
	size_t		 n;

	if (randpool_get(rnd, sizeof(rnd)) != 0 ||
	    sid_encode(rnd, (unsigned)s->t->wid, sid) != 0) {
		session_close(s, "no randomness");
		return;
	}
	session_cork(s);	/* the answer and the app's greeting: one write */
	s->nsp_mask |= 1u << i;
	session_unhold(s);
	if (i == 0) {
		memcpy(s->sio_sid, sid, sizeof(s->sio_sid));
		s->sio_pid[0] = '\0';
		if (s->t->app->accepting != NULL)
			s->t->app->accepting(s, i, auth);
		memcpy(sid, s->sio_sid, sizeof(sid));
	}
	if (s->state != SESSION_UPGRADING)
		ev_timer_stop(s->t->loop, &s->deadline);
	n = sio_encode_connect_pid(buf, sizeof(buf), name, sid,
	    i == 0 && s->sio_pid[0] != '\0' ? s->sio_pid : NULL);
	if (n > 0 && n < sizeof(buf))
		session_send_text(s, buf, n);
	if (s->t->app->connected != NULL)
		s->t->app->connected(s, i, auth);
	session_uncork(s);
}

static void
on_connect(struct session *s, struct sio_packet *p)
{
	const char	*why = NULL;
	json_t		*auth;
	int		 i, rc = 0;

	if ((i = nsp_index(s, p->nsp)) < 0) {
		connect_error(s, p->nsp, "Invalid namespace");
		return;
	}
	if ((s->nsp_mask | s->nsp_pending) & (1u << i)) {
		/*
		 * Connected already (or being verified): running the connect
		 * path again would count the user online once more, for
		 * good.  The reference has no answer for this; a client that
		 * means it sent a DISCONNECT first.
		 */
		log_debug("session %s: CONNECT to %s, already connected; "
		    "ignored", s->sid, p->nsp);
		return;
	}
	auth = p->data != NULL ? json_incref(p->data) : json_object();
	if (s->t->app->connect != NULL)
		rc = s->t->app->connect(s, (unsigned)i, auth, &why);
	if (rc == APP_CONNECT_PENDING) {
		s->nsp_pending |= 1u << i;	/* the answer comes later */
		if (s->pending_auth == NULL) {	/* accepting() reads it */
			s->pending_auth = json_incref(auth);
			s->pending_nsp = (uint8_t)i;
		}
	} else if (rc != 0)
		connect_error(s, p->nsp, why);
	else
		accept_connect(s, (unsigned)i, auth);
	json_decref(auth);
}

/*
 * The application's later answer to a pending CONNECT to nsps[nsp]: why
 * NULL accepts (hs is the data for the app's accepting() and connected(),
 * NULL for the CONNECT's own), else CONNECT_ERROR why.  -1 when nothing was pending any
 * more (the client left the namespace or the session closed): the caller
 * releases what it made for the connection.
 */
int
socketio_connect_answer(struct session *s, unsigned nsp, const char *why,
    json_t *hs)
{
	json_t	*auth;

	if (s == NULL || nsp >= 32 || s->state == SESSION_CLOSED ||
	    !(s->nsp_pending & (1u << nsp)))
		return -1;
	s->nsp_pending &= ~(1u << nsp);
	if (why != NULL) {
		pending_release(s, nsp);
		connect_error(s, s->t->app->nsps[nsp], why);
		return 0;
	}
	if (hs != NULL)
		auth = json_incref(hs);
	else if (s->pending_auth != NULL && s->pending_nsp == nsp)
		auth = json_incref(s->pending_auth);
	else
		auth = json_object();
	pending_release(s, nsp);
	accept_connect(s, nsp, auth);
	json_decref(auth);
	return 0;
}

/* The kept data of a pending CONNECT to nsps[nsp] (nsp 32: any). */
static void
pending_release(struct session *s, unsigned nsp)
{
	if (s->pending_auth == NULL || (nsp < 32 && s->pending_nsp != nsp))
		return;
	json_decref(s->pending_auth);
	s->pending_auth = NULL;
}

/*
 * The socket's Socket.IO id (a recovered socket keeps its old one) and
 * the pid its CONNECT answer carries (NULL: none), from the application's
 * accepting().  0, or -1 when either is not fit for the wire.
 */
int
socketio_set_ids(struct session *s, const char *sid, const char *pid)
{
	size_t	n = pid != NULL ? strlen(pid) : 0;

	if ((sid != NULL && !sid_valid(sid, strlen(sid))) ||
	    n > SESSION_PID_MAX)
		return -1;
	if (sid != NULL)
		memcpy(s->sio_sid, sid, SID_LEN + 1);
	if (pid != NULL)
		memcpy(s->sio_pid, pid, n + 1);
	return 0;
}

/* May the client of a socket closed for reason recover its state? */
bool
socketio_recoverable(const char *reason)
{
	size_t	i;

	for (i = 0; reason != NULL && recoverable[i] != NULL; i++)
		if (strcmp(reason, recoverable[i]) == 0)
			return true;
	return false;
}

static void
on_disconnect(struct session *s, struct sio_packet *p)
{
	int	i;

	if ((i = nsp_index(s, p->nsp)) < 0)
		return;
	s->nsp_pending &= ~(1u << i);	/* its answer will find nothing */
	pending_release(s, (unsigned)i);
	if (!(s->nsp_mask & (1u << i)))
		return;
	s->nsp_mask &= ~(1u << i);
	if (s->nsp_mask == 0)
		session_connect_within(s,
		    (double)s->t->conf->connect_timeout / 1000.0);
	if (s->t->app->disconnect != NULL)
		s->t->app->disconnect(s, (unsigned)i,
		    "client namespace disconnect");
}

static void
dispatch(struct session *s, struct sio_packet *p,
    const struct sio_attachment *att, unsigned natt)
{
	int	i;

	if ((i = nsp_index(s, p->nsp)) < 0 || !(s->nsp_mask & (1u << i)))
		return;
	if (s->t->app->packet != NULL)
		s->t->app->packet(s, (unsigned)i, p, att, natt);
}

/*
 * The application's look at an EVENT before its tree (app.h), for a
 * namespace the client joined, as dispatch() would.  1: it took it.
 */
static int
event_raw(struct session *s, const struct sio_packet *p,
    const struct evscan *sc)
{
	int	i;

	if ((i = nsp_index(s, p->nsp)) < 0 || !(s->nsp_mask & (1u << i)))
		return 0;
	return s->t->app->event_raw(s, (unsigned)i, sc, p->ack_id);
}

/* One Engine.IO message: a Socket.IO packet or a binary attachment. */
void
socketio_receive(struct session *s, const struct eio_packet *e)
{
	struct sio_limits	 l;
	struct sio_packet	 p;
	struct evscan		 sc;
	int			 rc;

	if (e->binary) {
		if (s->bin == NULL ||
		    sio_binary_add(s->bin, e->data, e->len) < 0) {
			s->t->stats.parse_errors++;
			session_close(s, "parse error");
			return;
		}
		if (sio_binary_complete(s->bin)) {
			dispatch(s, &s->bin->pkt, s->bin->att,
			    s->bin->pkt.attachments);
			sio_binary_clear(s->bin);
			free(s->bin);
			s->bin = NULL;
		}
		return;
	}
	limits(s, &l);
	sio_packet_init(&p);
	if (s->t->app->event_raw != NULL && e->len > 0 &&
	    ((const char *)e->data)[0] == '0' + SIO_EVENT) {
		/* Scanned first: a hot event may need no tree (issue 16). */
		rc = sio_packet_decode_scan((const char *)e->data, e->len, &l,
		    &p, &sc);
		if (rc == 0 && s->bin == NULL && event_raw(s, &p, &sc)) {
			sio_packet_clear(&p);
			return;
		}
		if (rc == 0)
			rc = sio_packet_decode_tree(&p, &l);
	} else
		rc = sio_packet_decode((const char *)e->data, e->len, &l, &p);
	if (rc < 0 || s->bin != NULL) {
		log_debug("session %s: bad packet: %s", s->sid,
		    rc < 0 ? sio_strerror(rc) : "attachments outstanding");
		sio_packet_clear(&p);
		s->t->stats.parse_errors++;
		session_close(s, "parse error");
		return;
	}
	switch (p.type) {
	case SIO_CONNECT:
		on_connect(s, &p);
		break;
	case SIO_DISCONNECT:
		on_disconnect(s, &p);
		break;
	case SIO_EVENT:
	case SIO_ACK:
		dispatch(s, &p, NULL, 0);
		break;
	case SIO_BINARY_EVENT:
	case SIO_BINARY_ACK:
		/*
		 * Attachments are held until the last one comes (several
		 * times max_payload): not for a client that has not
		 * connected to the namespace, whose packet would be ignored.
		 */
		if ((rc = nsp_index(s, p.nsp)) < 0 ||
		    !(s->nsp_mask & (1u << rc))) {
			log_debug("session %s: binary packet before CONNECT",
			    s->sid);
			s->t->stats.parse_errors++;
			session_close(s, "binary packet before CONNECT");
			break;
		}
		if ((s->bin = calloc(1, sizeof(*s->bin))) == NULL) {
			session_close(s, "out of memory");
			break;
		}
		sio_binary_init(s->bin);
		if (sio_binary_start(s->bin, &p, &l) != SIO_NEED_MORE) {
			sio_binary_clear(s->bin);
			free(s->bin);
			s->bin = NULL;
			s->t->stats.parse_errors++;
			session_close(s, "parse error");
		}
		break;		/* on success the assembler took p's data */
	default:
		s->t->stats.parse_errors++;
		session_close(s, "parse error");
		break;
	}
	sio_packet_clear(&p);
}

/* The session is gone: every joined namespace is disconnected. */
void
socketio_closed(struct session *s, const char *reason)
{
	unsigned	i;

	if (s->bin != NULL) {
		sio_binary_clear(s->bin);
		free(s->bin);
		s->bin = NULL;
	}
	s->nsp_pending = 0;
	pending_release(s, 32);
	for (i = 0; i < 32; i++) {
		if (!(s->nsp_mask & (1u << i)))
			continue;
		s->nsp_mask &= ~(1u << i);
		if (s->t->app->disconnect != NULL)
			s->t->app->disconnect(s, i, reason);
	}
}

/* Emit event name with args (a JSON array, borrowed) to one session. */
int
socketio_emit(struct session *s, unsigned nsp, const char *event,
    json_t *args)
{
	return socketio_emit_ack(s, nsp, event, args, -1);
}

/* The same, asking the client for an ack with this id (-1: none). */
int
socketio_emit_ack(struct session *s, unsigned nsp, const char *event,
    json_t *args, int64_t ack)
{
	json_t	*data;
	size_t	 i;
	int	 rc;

	if ((data = json_array()) == NULL)
		return -1;
	json_array_append_new(data, json_string(event));
	for (i = 0; args != NULL && i < json_array_size(args); i++)
		json_array_append(data, json_array_get(args, i));
	rc = send_json_packet(s, nsp, SIO_EVENT, ack, data);
	json_decref(data);
	return rc;
}

int
socketio_ack(struct session *s, unsigned nsp, int64_t ack, json_t *args)
{
	return send_json_packet(s, nsp, SIO_ACK, ack, args);
}

/* The same, its one argument already JSON text (len bytes). */
int
socketio_ack_text(struct session *s, unsigned nsp, int64_t ack,
    const char *json, size_t len)
{
	char		 small[SMALL], *buf = small;
	const char	*nspname = s->t->app->nsps[nsp];
	size_t		 n;
	int		 rc;

	n = sio_encode_ack(small, sizeof(small), nspname, ack, &json, &len, 1);
	if (n == 0)
		return -1;
	if (n >= sizeof(small)) {
		if ((buf = malloc(n + 1)) == NULL)
			return -1;
		sio_encode_ack(buf, n + 1, nspname, ack, &json, &len, 1);
	}
	rc = session_send_text(s, buf, n);
	if (buf != small)
		free(buf);
	return rc;
}

/*
 * A BINARY_EVENT or BINARY_ACK whose data already holds placeholders
 * numbered into att: the header, then each attachment as a binary frame.
 */
int
socketio_send_binary(struct session *s, unsigned nsp, int type, int64_t ack,
    json_t *data, const struct sio_attachment *att, unsigned natt)
{
	struct sio_attachment	 out[32];
	struct sio_packet	 p;
	struct frame		*f;
	unsigned		 i, nout = 0;
	int			 rc;

	if (natt > 32 || sio_binary_deconstruct(data, att, natt, out,
	    &nout) != SIO_OK)
		return -1;
	att = out;
	natt = nout;
	sio_packet_init(&p);
	p.type = (enum sio_type)type;
	snprintf(p.nsp, sizeof(p.nsp), "%s", s->t->app->nsps[nsp]);
	p.nsp_len = strlen(p.nsp);
	p.ack_id = ack;
	p.attachments = natt;
	p.data = data;
	rc = send_encoded(s, &p);
	p.data = NULL;
	sio_packet_clear(&p);
	for (i = 0; rc == 0 && i < natt; i++) {
		if ((f = frame_new(att[i].len, true)) == NULL)
			return -1;
		memcpy(FRAME_DATA(f), att[i].data, att[i].len);
		session_send(s, f);
	}
	return rc;
}

/* The server leaves a namespace: tell the client, then the application. */
void
socketio_disconnect(struct session *s, unsigned nsp)
{
	char	buf[SIO_NSP_MAX + 8];
	size_t	n;

	if (!(s->nsp_mask & (1u << nsp)))
		return;
	n = sio_encode_disconnect(buf, sizeof(buf), s->t->app->nsps[nsp]);
	if (n > 0 && n < sizeof(buf))
		session_send_text(s, buf, n);
	s->nsp_mask &= ~(1u << nsp);
	if (s->nsp_mask == 0)
		session_connect_within(s,
		    (double)s->t->conf->connect_timeout / 1000.0);
	if (s->t->app->disconnect != NULL)
		s->t->app->disconnect(s, nsp, "server namespace disconnect");
}
