/*
 * chatspool: the chat service's durable spool on one worker (chat.h,
 * spool.h): what the service could not take is appended to it, its
 * sender hears `queued` once the record is on disk (after the batched
 * fdatasync, never before: a power cut cannot take back what was
 * promised), and it is replayed in order, one record at a time, when the
 * service answers again; also after a restart, since the worker's spool
 * file outlives it, and a gone worker's files are taken over.  Each
 * message record taken is told to chat.c (chat->taken), which counts
 * each sender's records in the spool; records this process did not write
 * make the spool global (chat.h) until it is drained.
 *
 * A replayed record is dropped (acked) on 2xx or 409 (there already), and
 * on a refusal for good (another 4xx), logged and counted: never replayed
 * forever.  Any other answer leaves it first in the spool, tried again
 * after a pause that doubles up to REPLAY_MAX (the breaker, when open,
 * refuses the try at no cost).
 */
#include <sys/stat.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "chatrec.h"
#include "gateway.h"
#include "log.h"
#include "spool.h"
#include "transport.h"

#define REPLAY_MIN	0.1	/* s: the first pause after a failure */
#define REPLAY_MAX	5.0	/* s: the longest */
#define ADOPT_EVERY	10.0	/* s: look for gone workers' files */
#define PATH_SIZE	4096

static void	durable(void *, uint64_t);
static void	adopt_cb(struct ev_loop *, ev_timer *, int);
static void	replay_cb(struct ev_loop *, ev_timer *, int);
static void	replayed(int, const struct httpc_result *, void *);

/*
 * The worker's spool, in spool_dir (made if missing: only its last
 * component).  -1 and a log line if there is none: the gateway serves on,
 * /health says why, and what should be spooled is refused and counted.
 */
int
chatspool_open(struct chat *c)
{
	const struct gateway_conf	*gc = c->g->conf;
	struct spool_conf		 sc;

	TAILQ_INIT(&c->waiting);
	ev_timer_init(&c->replay, replay_cb, 0., 0.);
	c->replay.data = c;
	if (mkdir(gc->spool_dir, 0700) == -1 && errno != EEXIST)
		log_warn("spool_dir %s", gc->spool_dir);
	memset(&sc, 0, sizeof(sc));
	sc.dir = gc->spool_dir;
	sc.wid = c->g->t->wid & 0xff;	/* the slot: generations share it */
	sc.max_bytes = (uint64_t)gc->spool_max_bytes;
	sc.sync_ms = (unsigned)gc->spool_sync_interval;
	sc.sync_records = (unsigned)gc->spool_sync_records;
	sc.loop = c->g->t->loop;
	sc.durable = durable;
	sc.arg = c;
	if ((c->spool = spool_open(&sc)) == NULL) {
		log_error("chat service: no spool in %s: messages the service "
		    "cannot take are not stored; /health says degraded",
		    gc->spool_dir);
		return -1;
	}
	if (chatspool_busy(c))
		c->global = 1;		/* an earlier process's records */
	ev_timer_init(&c->adopt, adopt_cb, ADOPT_EVERY, ADOPT_EVERY);
	c->adopt.data = c;
	ev_timer_start(c->g->t->loop, &c->adopt);
	chatspool_kick(c);
	return 0;
}

/*
 * Now and then: the files of gone workers (a slot no worker has any
 * more, or this slot's previous process, which drained after a reload)
 * are taken over and replayed here.
 */
static void
adopt_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct chat	*c = w->data;
	struct chat_msg	*m;

	(void)loop;
	(void)revents;
	/*
	 * The sync timer makes the waiting durable within sync_interval;
	 * if they still wait, an fdatasync failed and they never will be.
	 */
	if (!TAILQ_EMPTY(&c->waiting) && spool_sync(c->spool) == -1) {
		log_warnx("chat service: the spool cannot be synced: the "
		    "messages waiting for it are not stored");
		while ((m = TAILQ_FIRST(&c->waiting)) != NULL) {
			TAILQ_REMOVE(&c->waiting, m, entry);
			m->waiting = 0;
			c->spool_failed++;
			chatmsg_fail(m, "not_stored", "the spool cannot be "
			    "written: this message was delivered but is not "
			    "stored");
			if (!m->inflight)
				chatmsg_free(m);
		}
	}
	/* Not before the master's list: 0 would take every slot's files. */
	if (c->nworkers > 0 && spool_adopt(c->spool, c->nworkers) > 0) {
		c->global = 1;
		chatspool_kick(c);
	}
}

/* At the worker's end: the records are synced; the waiting told nothing. */
void
chatspool_close(struct chat *c)
{
	struct chat_msg	*m;

	ev_timer_stop(c->g->t->loop, &c->replay);
	ev_timer_stop(c->g->t->loop, &c->adopt);
	spool_close(c->spool);		/* syncs */
	c->spool = NULL;
	while ((m = TAILQ_FIRST(&c->waiting)) != NULL) {
		TAILQ_REMOVE(&c->waiting, m, entry);
		chatmsg_free(m);
	}
}

/* Does the spool hold anything (so that new calls go behind it)? */
int
chatspool_busy(struct chat *c)
{
	struct spool_stats	st;

	if (c->spool == NULL)
		return 0;
	spool_stats(c->spool, &st);
	return st.depth > 0;
}

/*
 * Append a call as a record: 0 and its seq, or -1 and errno (EFBIG: past
 * spool_max_bytes; ENOSPC: there is no spool).
 */
int
chatspool_put(struct chat *c, int type, const char *id, const char *key,
    const char *body, size_t blen, uint64_t *seq)
{
	struct chatrec	 r;
	uint8_t		*buf;
	size_t		 n;
	int		 rc;

	if (c->spool == NULL) {
		errno = ENOSPC;
		return -1;
	}
	r.type = type;
	r.id = id;
	r.idlen = strlen(id);
	r.key = key;
	r.keylen = strlen(key);
	r.body = body;
	r.blen = blen;
	if ((n = chatrec_size(&r)) == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((buf = malloc(n)) == NULL)
		return -1;
	chatrec_encode(&r, buf, n);
	rc = spool_append(c->spool, buf, n, seq);
	free(buf);
	if (rc == 0)
		chatspool_kick(c);
	return rc;
}

/*
 * A message to the spool (it left its sender's FIFO): its sender hears
 * `queued` once the record is durable, or an error now.  0 if it is in
 * the spool, -1 if not.
 */
int
chatspool_message(struct chat *c, struct chat_msg *m)
{
	int	rc;

	m->from = NULL;
	rc = chatspool_put(c, CHATREC_MESSAGE, m->id, m->id, m->body,
	    m->blen, &m->seq);
	if (rc != 0) {
		if (errno == EFBIG) {
			chatmsg_fail(m, "spool_full", "the chat service cannot "
			    "take messages now and the spool is full: this "
			    "message was delivered but is not stored");
		} else {
			c->spool_failed++;
			chatmsg_fail(m, "not_stored", "the chat service cannot "
			    "take messages now and the spool cannot be "
			    "written: this message was delivered but is not "
			    "stored");
		}
		log_warnx("chat service: message %s not spooled: %s", m->id,
		    c->spool == NULL ? "no spool" : strerror(errno));
		if (!m->inflight)
			chatmsg_free(m);
		return -1;
	}
	if (spool_durable(c->spool) >= m->seq) {
		chatmsg_tell(m, "queued");
		if (!m->inflight)
			chatmsg_free(m);
		return 0;
	}
	m->waiting = 1;
	TAILQ_INSERT_TAIL(&c->waiting, m, entry);
	return 0;
}

/* The spool synced up to seq: those waiting for it hear `queued`. */
static void
durable(void *arg, uint64_t seq)
{
	struct chat	*c = arg;
	struct chat_msg	*m;

	while ((m = TAILQ_FIRST(&c->waiting)) != NULL && m->seq <= seq) {
		TAILQ_REMOVE(&c->waiting, m, entry);
		m->waiting = 0;
		chatmsg_tell(m, "queued");
		if (!m->inflight)
			chatmsg_free(m);
	}
}

/* Replay soon, unless a replay runs or waits already. */
void
chatspool_kick(struct chat *c)
{
	struct ev_loop	*loop = c->g->t->loop;

	if (c->spool == NULL || c->replaying || ev_is_active(&c->replay))
		return;
	ev_timer_set(&c->replay, 0., 0.);
	ev_timer_start(loop, &c->replay);
}

/* Try again after a pause that doubles with each failure in a row. */
static void
replay_later(struct chat *c)
{
	double	d = REPLAY_MIN;
	unsigned i;

	for (i = 0; i < c->fails && d < REPLAY_MAX; i++)
		d *= 2;
	if (d > REPLAY_MAX)
		d = REPLAY_MAX;
	c->fails++;
	ev_timer_set(&c->replay, d, 0.);
	ev_timer_start(c->g->t->loop, &c->replay);
}

/*
 * The call of a record: POST the message, POST its status, DELETE it.
 * Returns services_call()'s result (SERVICES_FAILED if the path does not
 * fit).  The key is sent as the Idempotency-Key.
 */
int
chatspool_call(struct chat *c, int type, const char *id, size_t idlen,
    const char *key, size_t keylen, const char *body, size_t blen,
    services_cb cb, void *arg)
{
	const char		*base = c->g->conf->chat_messages_path;
	struct services_call	 sc;
	char			 path[PATH_SIZE], k[CHATREC_FIELD_MAX + 1];

	if (keylen > CHATREC_FIELD_MAX)
		return SERVICES_FAILED;
	memset(&sc, 0, sizeof(sc));
	if (type == CHATREC_MESSAGE) {
		sc.method = HTTPC_POST;
		sc.path = base;
	} else {
		if (chatrec_path(base, id, idlen, type == CHATREC_STATUS ?
		    "/status" : "", path, sizeof(path)) < 0)
			return SERVICES_FAILED;
		sc.method = type == CHATREC_STATUS ? HTTPC_POST : HTTPC_DELETE;
		sc.path = path;
	}
	memcpy(k, key, keylen);
	k[keylen] = '\0';
	sc.body = body;
	sc.len = blen;
	sc.idempotent = true;
	sc.key = k;
	sc.cb = cb;
	sc.arg = arg;
	return services_call(c->g->services, STATS_SVC_CHAT, &sc);
}

/*
 * The oldest record is done with: its sender (a message's sender_id) is
 * told to chat.c, and it leaves the spool.
 */
static void
take(struct chat *c)
{
	const void	*data;
	size_t		 len;
	struct chatrec	 r;
	json_t		*o, *v;

	if (spool_peek(c->spool, &data, &len) == 1 &&
	    chatrec_decode(data, len, &r) == 0 && r.type == CHATREC_MESSAGE &&
	    (o = json_loadb(r.body, r.blen, 0, NULL)) != NULL) {
		v = json_object_get(o, "sender_id");
		if (json_is_string(v))
			c->taken(c, json_string_value(v),
			    json_string_length(v));
		json_decref(o);
	}
	spool_ack(c->spool);
}

/* The oldest record, to the service. */
static void
replay_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct chat	*c = w->data;
	struct chatrec	 r;
	const void	*data;
	size_t		 len;

	(void)loop;
	(void)revents;
	if (spool_peek(c->spool, &data, &len) != 1) {
		c->fails = 0;
		c->global = 0;		/* drained: every record was ours */
		c->taken(c, NULL, 0);
		return;
	}
	if (chatrec_decode(data, len, &r) != 0) {
		log_warnx("chat service: a spool record that is not one "
		    "(%zu bytes) dropped", len);
		c->refused++;
		take(c);
		chatspool_kick(c);
		return;
	}
	if (chatspool_call(c, r.type, r.id, r.idlen, r.key, r.keylen, r.body,
	    r.blen, replayed, c) == SERVICES_SENT)
		c->replaying = 1;
	else
		replay_later(c);
}

/* The answer to a replayed record. */
static void
replayed(int outcome, const struct httpc_result *r, void *arg)
{
	struct chat	*c = arg;
	long		 status = r != NULL && r->error == HTTPC_OK ?
			    r->status : 0;

	c->replaying = 0;
	if (outcome == SERVICES_OK || status == 409) {
		c->replayed++;
		c->fails = 0;
		take(c);
		chatspool_kick(c);
		return;
	}
	if (chatmsg_refused(status)) {
		const void	*data;
		size_t		 len;
		struct chatrec	 rec;

		c->refused++;
		if (spool_peek(c->spool, &data, &len) == 1 &&
		    chatrec_decode(data, len, &rec) == 0)
			log_warnx("chat service: refused %c record %.*s for "
			    "good (HTTP %ld): dropped from the spool",
			    rec.type, (int)rec.idlen, rec.id, status);
		take(c);
		chatspool_kick(c);
		return;
	}
	replay_later(c);
}
