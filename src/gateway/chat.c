/*
 * chat: the calls to the chat service (issue 13).  Each message is
 * persisted (POST chat_messages_path, Idempotency-Key: its id) while it is
 * already on its way to its receiver: delivery never waits for the
 * service.  Its sender hears `message_sent` with status `persisted` (2xx,
 * or 409: there already), `queued` (spooled and on disk, chatspool.c), or
 * an `error` naming the message when the service refuses it for good (a
 * 4xx) or it can be neither stored nor spooled.  Receipts and deletions
 * go to the service too, retried with their own keys, and spooled when
 * the service cannot take them.  The order rule is in chat.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "chatrec.h"
#include "gateway.h"
#include "log.h"
#include "spool.h"
#include "transport.h"

#define KEY_SIZE	512

struct ukey {
	const char	*s;
	size_t		 len;
};

/* What an update's call carries, kept until its answer. */
struct chat_update {
	LIST_ENTRY(chat_update)	 entry;		/* chat->updates */
	struct chat		*c;
	int			 type;
	char			*id, *key, *body;
};

static void	 send_next(struct chat *, struct chat_sender *);
static void	 spill(struct chat *, struct chat_sender *);
static void	 spill_msgs(struct chat *, struct chat_sender *);
static void	 update_free(struct chat_update *);
static void	 update_spool(struct chat *, int, const char *, const char *,
		    const char *);
static void	 persisted(int, const struct httpc_result *, void *);
static void	 answered(int, const struct httpc_result *, void *);
static void	 unpark(struct chat *);
static void	 on_deadline(struct ev_loop *, ev_timer *, int);
static void	 taken(struct chat *, const char *);

/* Once per worker, when a chat service is configured. */
int
chat_init(struct gateway *g, uint64_t seed)
{
	struct chat	*c;

	if (!services_configured(g->services, STATS_SVC_CHAT))
		return 0;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    htab_init(&c->senders, seed) != 0) {
		free(c);
		return -1;
	}
	c->g = g;
	c->taken = taken;
	TAILQ_INIT(&c->parked);
	LIST_INIT(&c->live);
	LIST_INIT(&c->updates);
	g->chat = c;
	(void)chatspool_open(c);	/* without one: degraded, loud */
	return 0;
}

/* htab_sweep() calls fn(arg, record). */
static bool
sender_spill(void *arg, void *e)
{
	struct chat_sender	*snd = e;

	spill_msgs(arg, snd);
	free(snd->user);
	free(snd);
	return true;
}

/*
 * At the worker's end: every message still in memory goes to the spool
 * (nothing is lost when the worker stops while the service is slow), the
 * spool is synced and closed.  The calls still running end without their
 * callbacks (services_free() comes next): their messages are spooled.
 */
void
chat_free(struct gateway *g)
{
	struct chat		*c = g->chat;
	struct chat_msg		*m;
	struct chat_update	*u;

	if (c == NULL)
		return;
	htab_sweep(&c->senders, sender_spill, c);
	htab_free(&c->senders);
	LIST_FOREACH(u, &c->updates, entry)
		update_spool(c, u->type, u->id, u->key, u->body);
	chatspool_close(c);
	/* The calls still running are spooled, and end unanswered. */
	while ((m = LIST_FIRST(&c->live)) != NULL)
		chatmsg_free(m);
	while (!LIST_EMPTY(&c->updates))
		update_free(LIST_FIRST(&c->updates));
	free(c);
	g->chat = NULL;
}

/* The master's list of live workers: a gone worker's spool is ours. */
void
chat_peers(struct gateway *g, const int32_t *wids, size_t n)
{
	size_t	i;
	int	max = g->t->wid & 0xff;

	if (g->chat == NULL)
		return;
	for (i = 0; i < n; i++)		/* slots: the spool's names */
		if ((wids[i] & 0xff) > max)
			max = wids[i] & 0xff;
	g->chat->nworkers = max + 1;
}

/* The chat service's figures (after services_stats()). */
void
chat_stats(struct gateway *g, struct stats_service *st)
{
	struct chat		*c = g->chat;
	struct spool_stats	 ss;

	if (c == NULL)
		return;
	st->queued = c->queued;
	st->spool_failed = c->spool_failed;
	st->replayed = c->replayed;
	st->refused = c->refused;
	st->spool_down = c->spool == NULL;
	if (c->spool != NULL) {
		spool_stats(c->spool, &ss);
		st->spool_depth = ss.depth;
		st->spool_bytes = ss.bytes;
		st->spooled = ss.appended;
		st->spool_refused = ss.refused;
	}
}

static bool
sender_eq(const void *e, const void *k)
{
	const struct chat_sender	*snd = e;
	const struct ukey		*key = k;

	return snd->ulen == key->len &&
	    memcmp(snd->user, key->s, key->len) == 0;
}

/* The sender's FIFO, made if create; NULL if none (or out of memory). */
static struct chat_sender *
sender_get(struct chat *c, const char *user, int create)
{
	struct chat_sender	*snd;
	struct ukey		 key = { user, strlen(user) };
	uint32_t		 h = htab_hash(&c->senders, user, key.len);
	size_t			 idx;

	if ((snd = htab_find(&c->senders, h, sender_eq, &key, &idx)) !=
	    NULL || !create)
		return snd;
	if ((snd = calloc(1, sizeof(*snd))) == NULL ||
	    (snd->user = strdup(user)) == NULL) {
		free(snd);
		return NULL;
	}
	snd->hash = h;
	snd->ulen = key.len;
	TAILQ_INIT(&snd->msgs);
	if (htab_insert(&c->senders, snd) != 0) {
		free(snd->user);
		free(snd);
		return NULL;
	}
	return snd;
}

/* An empty FIFO goes. */
static void
sender_drop(struct chat *c, struct chat_sender *snd)
{
	struct ukey	key = { snd->user, snd->ulen };
	size_t		idx;

	if (snd->parked)
		TAILQ_REMOVE(&c->parked, snd, park);
	if (htab_find(&c->senders, snd->hash, sender_eq, &key, &idx) == snd)
		htab_remove(&c->senders, idx);
	free(snd->user);
	free(snd);
}

/* A sender with nothing in memory nor in the spool goes. */
static void
sender_release(struct chat *c, struct chat_sender *snd)
{
	if (TAILQ_EMPTY(&snd->msgs) && snd->spooled == 0)
		sender_drop(c, snd);
}

/* Must the sender's next message go to the spool (the rule, chat.h)? */
static int
must_spool(struct chat *c, const struct chat_sender *snd)
{
	if (c->global)
		return chatspool_busy(c);
	return snd->spooled > 0;
}

/*
 * A replayed message record of user was taken (user NULL: the spool is
 * drained, so no sender has anything left in it).
 */
static bool
sender_reset(void *arg, void *e)
{
	struct chat_sender	*snd = e;

	(void)arg;
	snd->spooled = 0;
	if (!TAILQ_EMPTY(&snd->msgs))
		return false;
	free(snd->user);
	free(snd);
	return true;
}

static void
taken(struct chat *c, const char *user)
{
	struct chat_sender	*snd;

	if (user == NULL) {
		htab_sweep(&c->senders, sender_reset, c);
		return;
	}
	if ((snd = sender_get(c, user, 0)) == NULL || snd->spooled == 0)
		return;
	snd->spooled--;
	sender_release(c, snd);
}

/*
 * The sender's first message, to the service.  If the sender must
 * spool (must_spool()), or the call cannot go now (shed, breaker open),
 * the whole FIFO goes to the spool instead: in order, behind what is
 * there.
 */
static void
send_next(struct chat *c, struct chat_sender *snd)
{
	struct chat_msg	*m = TAILQ_FIRST(&snd->msgs);
	int		 rc;

	if (m == NULL) {
		sender_release(c, snd);
		return;
	}
	if (must_spool(c, snd)) {
		spill(c, snd);
		return;
	}
	if (services_full(c->g->services, STATS_SVC_CHAT)) {
		if (!snd->parked) {
			snd->parked = 1;
			TAILQ_INSERT_TAIL(&c->parked, snd, park);
		}
		return;		/* unpark() sends it when a call ends */
	}
	rc = chatspool_call(c, CHATREC_MESSAGE, m->id, strlen(m->id), m->id,
	    strlen(m->id), m->body, m->blen, persisted, m);
	if (rc != SERVICES_SENT) {
		spill(c, snd);
		return;
	}
	m->inflight = 1;
	c->queued--;
	ev_timer_init(&m->deadline, on_deadline,
	    (double)services_timeout(&c->g->conf->services, STATS_SVC_CHAT) /
	    1000.0, 0.);
	m->deadline.data = m;
	ev_timer_start(c->g->t->loop, &m->deadline);
}

/* A call ended: the parked senders' first messages go, oldest first. */
static void
unpark(struct chat *c)
{
	struct chat_sender	*snd;

	while ((snd = TAILQ_FIRST(&c->parked)) != NULL &&
	    !services_full(c->g->services, STATS_SVC_CHAT)) {
		TAILQ_REMOVE(&c->parked, snd, park);
		snd->parked = 0;
		send_next(c, snd);	/* parks it again if full after all */
	}
}

/*
 * The sender's FIFO to the spool, in order, its running call first (that
 * call runs on; its answer is ignored: the spooled copy has the same key).
 * snd stays while it has records in the spool.
 */
static void
spill(struct chat *c, struct chat_sender *snd)
{
	spill_msgs(c, snd);
	sender_release(c, snd);
}

static void
spill_msgs(struct chat *c, struct chat_sender *snd)
{
	struct chat_msg	*m;

	while ((m = TAILQ_FIRST(&snd->msgs)) != NULL) {
		TAILQ_REMOVE(&snd->msgs, m, entry);
		if (!m->inflight)
			c->queued--;
		ev_timer_stop(c->g->t->loop, &m->deadline);
		if (chatspool_message(c, m) == 0)
			snd->spooled++;
	}
}

/* No answer within chat_service_timeout: the sender's FIFO is spooled. */
static void
on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct chat_msg	*m = w->data;

	(void)loop;
	(void)revents;
	if (m->from != NULL)
		spill(m->chat, m->from);
}

/* The answer to a message's call; its end frees a call for the parked. */
static void
persisted(int outcome, const struct httpc_result *r, void *arg)
{
	struct chat	*c = ((struct chat_msg *)arg)->chat;

	answered(outcome, r, arg);
	unpark(c);
}

static void
answered(int outcome, const struct httpc_result *r, void *arg)
{
	struct chat_msg		*m = arg;
	struct chat		*c = m->chat;
	struct chat_sender	*snd = m->from;
	long			 status = r != NULL && r->error == HTTPC_OK ?
				    r->status : 0;

	m->inflight = 0;
	if (snd == NULL) {		/* spooled meanwhile */
		if (!m->waiting)
			chatmsg_free(m);
		return;
	}
	if (outcome != SERVICES_OK && status != 409 &&
	    !chatmsg_refused(status)) {
		spill(c, snd);		/* m first */
		return;
	}
	TAILQ_REMOVE(&snd->msgs, m, entry);
	if (outcome == SERVICES_OK || status == 409)
		chatmsg_tell(m, "persisted");
	else {
		c->refused++;
		log_warnx("chat service: message %s refused (HTTP %ld)",
		    m->id, status);
		chatmsg_fail(m, "not_stored", "the chat service refused this "
		    "message: it was delivered but is not stored");
	}
	chatmsg_free(m);
	send_next(c, snd);
}

/*
 * A message (send_message, send_group_message) of user's socket s, as
 * delivered (msg, taken): to the service, or the spool, by the order rule
 * (chat.h).  Its sender hears of it later.  -1 (msg not taken) when no
 * chat service is configured: the caller says `sent` itself.
 */
int
chat_message(struct gateway *g, struct session *s, int64_t ack,
    const char *event, const char *user, const char *id, json_t *msg)
{
	struct chat		*c = g->chat;
	struct chat_sender	*snd;
	struct chat_msg		*m;

	if (c == NULL)
		return -1;
	if ((m = chatmsg_new(c, s, ack, event, msg, id)) == NULL)
		return 0;	/* out of memory: nothing to tell with */
	snd = sender_get(c, user, 0);
	if (snd != NULL && !TAILQ_EMPTY(&snd->msgs)) {
		/* Behind its sender's running call. */
		m->from = snd;
		TAILQ_INSERT_TAIL(&snd->msgs, m, entry);
		if (++c->queued > (uint64_t)g->conf->chat_queue_max)
			spill(c, snd);	/* its call's answer is ignored */
		return 0;
	}
	if (snd == NULL && (snd = sender_get(c, user, 1)) == NULL) {
		(void)chatspool_message(c, m);	/* out of memory */
		return 0;
	}
	if (must_spool(c, snd)) {
		if (chatspool_message(c, m) == 0)
			snd->spooled++;
		sender_release(c, snd);
		return 0;
	}
	m->from = snd;
	TAILQ_INSERT_TAIL(&snd->msgs, m, entry);
	c->queued++;
	send_next(c, snd);
	return 0;
}


static void
update_free(struct chat_update *u)
{
	if (u->c != NULL)
		LIST_REMOVE(u, entry);
	free(u->id);
	free(u->key);
	free(u->body);
	free(u);
}

/* An update the service could not take: to the spool, or lost (logged). */
static void
update_spool(struct chat *c, int type, const char *id, const char *key,
    const char *body)
{
	if (chatspool_put(c, type, id, key, body, strlen(body), NULL) == 0)
		return;
	if (c->spool == NULL)
		c->spool_failed++;
	log_warnx("chat service: %s of message %s not stored: %s",
	    type == CHATREC_STATUS ? "status" : "deletion", id,
	    c->spool == NULL ? "no spool" : "the spool is full or failed");
}

static void
updated(int outcome, const struct httpc_result *r, void *arg)
{
	struct chat_update	*u = arg;
	struct chat		*c = u->c;
	long		 status = r != NULL && r->error == HTTPC_OK ?
			    r->status : 0;

	if (outcome == SERVICES_OK || status == 409) {
		/* done */
	} else if (chatmsg_refused(status)) {
		u->c->refused++;
		log_warnx("chat service: %s of message %s refused (HTTP %ld)",
		    u->type == CHATREC_STATUS ? "status" : "deletion", u->id,
		    status);
	} else
		update_spool(u->c, u->type, u->id, u->key, u->body);
	update_free(u);
	unpark(c);
}

/*
 * A status update (delivered, read) or a deletion of message id by user,
 * at: to the service with the key "<id>-<status>-<user>" (services_call()
 * makes each byte a header cannot carry '_'), or behind the spool if it
 * holds anything.
 */
static void
update(struct gateway *g, int type, const char *id, const char *status,
    const char *user, const char *at)
{
	struct chat	*c = g->chat;
	struct chat_update *u;
	json_t		*o;
	char		 key[KEY_SIZE], *body;
	int		 rc;

	if (c == NULL)
		return;
	snprintf(key, sizeof(key), "%s-%s-%s", id, status, user);
	if (type == CHATREC_STATUS)
		o = json_pack("{s:s, s:s, s:s, s:s}", "message_id", id,
		    "status", status, "user_id", user, "at", at);
	else
		o = json_pack("{s:s, s:s, s:s}", "message_id", id, "user_id",
		    user, "at", at);
	if (o == NULL)
		return;
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (body == NULL)
		return;
	if (chatspool_busy(c)) {
		update_spool(c, type, id, key, body);
		free(body);
		return;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL || (u->id = strdup(id)) ==
	    NULL || (u->key = strdup(key)) == NULL) {
		if (u != NULL)
			update_free(u);
		free(body);
		return;
	}
	u->c = c;
	LIST_INSERT_HEAD(&c->updates, u, entry);
	u->type = type;
	u->body = body;
	rc = chatspool_call(c, type, id, strlen(id), key, strlen(key), body,
	    strlen(body), updated, u);
	if (rc != SERVICES_SENT) {
		update_spool(c, type, id, key, body);
		update_free(u);
	}
}

/* message_delivered, message_read, message_read_status. */
void
chat_status(struct gateway *g, const char *id, const char *status,
    const char *user, const char *at)
{
	update(g, CHATREC_STATUS, id, status, user, at);
}

/* delete_message. */
void
chat_delete(struct gateway *g, const char *id, const char *user,
    const char *at)
{
	update(g, CHATREC_DELETE, id, "deleted", user, at);
}
