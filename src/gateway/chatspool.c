/*
 * chatspool: the chat service's durable spool on one worker (chat.h,
 * spool.h): what the service could not take is appended to it, its
 * sender hears `queued` once the record is on disk (after the batched
 * fdatasync, never before: a power cut cannot take back what was
 * promised), and it is replayed in order when the service answers again; also after a restart, since the worker's spool
 * file outlives it, and a gone worker's files are taken over.  Each
 * message record taken is told to chat.c (chat->taken), which counts
 * each sender's records in the spool; records this process did not write
 * make the spool global (chat.h) until it is drained.
 *
 * A replayed record is done on 2xx or 409 (there already), and on a
 * refusal for good (another 4xx), logged and counted: never replayed
 * forever.  Any other answer leaves it in the spool, tried again after a
 * pause that doubles up to REPLAY_MAX (the breaker, when open, refuses
 * the try at no cost).
 *
 * The window.  Up to spool_replay_window of the spool's oldest records
 * are read ahead (copies, spool_peek_nth()) and replayed at once: a
 * record goes when no earlier record of the same sender (a message's
 * sender_id) is undone, so each sender's order holds while different
 * senders' records go in parallel.  A status or delete record is a
 * barrier: it goes when everything before it is done, and nothing after
 * it goes before it is done (a receipt never overtakes its message).
 * Records leave the spool in order (spool_ack() drops the oldest): one
 * done early waits in the window for those before it.  A failure stops
 * new sends; the undone records go again after the pause (the
 * Idempotency-Key makes a repeat harmless).  Gone workers' files are
 * adopted only when the window is empty: an older file would go before
 * the records read ahead.
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
static void	replay_later(struct chat *);
static void	adopt(struct chat *);
static void	replay_free(struct chat_replay *);

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
	c->wmax = gc->spool_replay_window > 0 ?
	    (unsigned)gc->spool_replay_window : 1;
	c->win = calloc(c->wmax, sizeof(*c->win));	/* NULL: no replay */
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
	if (c->nworkers <= 0)
		return;
	if (c->nwin > 0) {
		c->adopt_wait = 1;	/* replay_run() adopts */
		return;
	}
	adopt(c);
	chatspool_kick(c);
}

/* At the worker's end: the records are synced; the waiting told nothing. */
void
chatspool_close(struct chat *c)
{
	struct chat_msg	*m;

	ev_timer_stop(c->g->t->loop, &c->replay);
	ev_timer_stop(c->g->t->loop, &c->adopt);
	while (c->nwin > 0)
		replay_free(c->win[--c->nwin]);
	free(c->win);
	c->win = NULL;
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

	if (c->spool == NULL || c->stalled || ev_is_active(&c->replay))
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
 * A record of the replay's window: a copy of one of the spool's oldest
 * records (they are read ahead with spool_peek_nth() and taken with
 * spool_ack() in order), its sender, and how far it got.
 */
struct chat_replay {
	struct chat	*c;
	uint8_t		*data;
	size_t		 len;
	int		 type;		/* CHATREC_*; 0: not a record */
	char		*sender;	/* a message's; NULL: a barrier */
	int		 state;
};
#define REPLAY_NEW	0	/* to send (again) */
#define REPLAY_SENT	1	/* its call runs */
#define REPLAY_DONE	2	/* stored, there already, or refused */

static void
replay_free(struct chat_replay *rr)
{
	free(rr->data);
	free(rr->sender);
	free(rr);
}

/*
 * The oldest record (the window's first) is done with: its sender is
 * told to chat.c, and it leaves the spool.
 */
static void
take(struct chat *c)
{
	struct chat_replay	*rr = c->win[0];

	if (rr->type == CHATREC_MESSAGE && rr->sender != NULL)
		c->taken(c, rr->sender);
	spool_ack(c->spool);
	replay_free(rr);
	memmove(c->win, c->win + 1, --c->nwin * sizeof(*c->win));
}

/*
 * A copy of the record after the window's last, or NULL if there is none
 * (or no memory: the window is smaller for now).  Its sender is a
 * message's sender_id; a status or delete record (or a message without
 * one) is a barrier: sent after everything before it, and nothing after
 * it before it.
 */
static struct chat_replay *
replay_read(struct chat *c)
{
	struct chat_replay	*rr;
	struct chatrec		 r;
	const void		*data;
	size_t			 len;
	json_t			*o, *v;

	/* The oldest through spool_peek(), which cuts an unreadable one. */
	if ((c->nwin == 0 ? spool_peek(c->spool, &data, &len) :
	    spool_peek_nth(c->spool, c->nwin, &data, &len)) != 1)
		return NULL;
	if ((rr = calloc(1, sizeof(*rr))) == NULL ||
	    (rr->data = malloc(len > 0 ? len : 1)) == NULL) {
		free(rr);
		return NULL;
	}
	rr->c = c;
	memcpy(rr->data, data, len);
	rr->len = len;
	if (chatrec_decode(rr->data, len, &r) != 0) {
		log_warnx("chat service: a spool record that is not one "
		    "(%zu bytes) dropped", len);
		c->refused++;
		rr->state = REPLAY_DONE;
		return rr;
	}
	rr->type = r.type;
	if (r.type == CHATREC_MESSAGE &&
	    (o = json_loadb(r.body, r.blen, 0, NULL)) != NULL) {
		v = json_object_get(o, "sender_id");
		if (json_is_string(v))
			rr->sender = strdup(json_string_value(v));
		json_decref(o);
	}
	return rr;
}

/* May the i-th record of the window go now (its sender's order)? */
static int
replay_may(struct chat *c, unsigned i)
{
	const struct chat_replay	*rr = c->win[i], *e;
	unsigned			 j;

	for (j = 0; j < i; j++) {
		e = c->win[j];
		if (e->state == REPLAY_DONE)
			continue;
		if (rr->sender == NULL || e->sender == NULL ||
		    strcmp(rr->sender, e->sender) == 0)
			return 0;
	}
	return 1;
}

/* Send what may go; 0, or -1 if a call could not be made. */
static int
replay_send(struct chat *c)
{
	struct chat_replay	*rr;
	struct chatrec		 r;
	unsigned		 i;

	for (i = 0; i < c->nwin; i++) {
		rr = c->win[i];
		if (rr->state != REPLAY_NEW || !replay_may(c, i))
			continue;
		if (chatrec_decode(rr->data, rr->len, &r) != 0 ||
		    chatspool_call(c, r.type, r.id, r.idlen, r.key, r.keylen,
		    r.body, r.blen, replayed, rr) != SERVICES_SENT)
			return -1;
		rr->state = REPLAY_SENT;
		c->replaying++;
	}
	return 0;
}

/* Adopt gone workers' files (never with records read ahead). */
static void
adopt(struct chat *c)
{
	c->adopt_wait = 0;
	if (c->nworkers > 0 && spool_adopt(c->spool, c->nworkers) > 0)
		c->global = 1;
}

/*
 * The replay: the records done at the window's head leave the spool, the
 * window is filled up from the spool, and every record whose sender has
 * no earlier record undone is sent; after a failure nothing new is sent
 * until the pause is over and the calls running have ended.
 */
static void
replay_run(struct chat *c)
{
	struct chat_replay	*rr;

	if (c->win == NULL)
		return;		/* no memory at the start: kept for later */
	while (c->nwin > 0 && c->win[0]->state == REPLAY_DONE)
		take(c);
	if (c->stalled)
		return;
	if (c->adopt_wait && c->nwin == 0)
		adopt(c);
	while (!c->adopt_wait && c->nwin < c->wmax &&
	    (rr = replay_read(c)) != NULL) {
		c->win[c->nwin++] = rr;
		if (rr->state == REPLAY_DONE && c->nwin == 1)
			take(c);
	}
	if (c->nwin == 0 && chatspool_busy(c)) {
		c->stalled = 1;		/* no memory for a copy: later */
		replay_later(c);
		return;
	}
	if (c->nwin == 0) {
		c->fails = 0;
		c->global = 0;		/* drained: every record was ours */
		c->taken(c, NULL);
		return;
	}
	if (replay_send(c) == -1) {
		c->stalled = 1;
		if (c->replaying == 0)
			replay_later(c);
	}
}

static void
replay_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct chat	*c = w->data;

	(void)loop;
	(void)revents;
	c->stalled = 0;
	replay_run(c);
}

/* The answer to a replayed record. */
static void
replayed(int outcome, const struct httpc_result *r, void *arg)
{
	struct chat_replay	*rr = arg;
	struct chat		*c = rr->c;
	struct chatrec		 rec;
	long			 status = r != NULL && r->error == HTTPC_OK ?
				    r->status : 0;

	c->replaying--;
	if (outcome == SERVICES_OK || status == 409) {
		c->replayed++;
		c->fails = 0;
		rr->state = REPLAY_DONE;
	} else if (chatmsg_refused(status)) {
		c->refused++;
		if (chatrec_decode(rr->data, rr->len, &rec) == 0)
			log_warnx("chat service: refused %c record %.*s for "
			    "good (HTTP %ld): dropped from the spool",
			    rec.type, (int)rec.idlen, rec.id, status);
		rr->state = REPLAY_DONE;
	} else {
		rr->state = REPLAY_NEW;		/* again, after the pause */
		c->stalled = 1;
	}
	while (c->nwin > 0 && c->win[0]->state == REPLAY_DONE)
		take(c);
	if (!c->stalled) {
		chatspool_kick(c);	/* more, from the loop */
		return;
	}
	if (c->replaying == 0) {
		ev_timer_stop(c->g->t->loop, &c->replay);
		replay_later(c);
	}
}
