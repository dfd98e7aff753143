/*
 * The fire-and-forget engines (issue 13): the presence engine hears of a
 * user's gateway-wide online and offline transitions, the AI engine of
 * each delivered message, the quantum room engine of each group message.
 * Each is a POST with a JSON body to the engine's path (presence_engine_
 * path, ai_engine_path, quantum_room_engine_path).
 *
 * They are called after the message went out and nothing waits for their
 * answer, so they never delay nor drop a message; a call past
 * the engine's max_inflight is shed and counted (services.c), so a hung engine
 * costs at most that many calls' memory.  Without an engine's URL nothing
 * here does anything, not even build the body.
 *
 * Batching.  One HTTP call per message is most of what an engine costs
 * the worker (a request, a response, a connection's turn), so events are
 * gathered: the first one waits engine_batch_delay for others, and
 * engine_batch_max of them go at once as {"events":[...]}.  A batch is
 * bounded by engine_batch_max, so a hung engine costs at most one batch
 * being gathered plus its max_inflight calls.  engine_batch_max 1
 * sends each event alone, as its own body (the seed's calls).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "gateway.h"
#include "isotime.h"
#include "services.h"
#include "transport.h"

/* The events gathered for one engine. */
struct batch {
	struct engines	*all;
	int		 id;		/* STATS_SVC_* */
	json_t		*events;	/* array, or NULL: none */
	ev_timer	 timer;		/* engine_batch_delay */
};

struct engines {
	struct gateway	*g;
	uint64_t	 seq;		/* batches sent, for their keys */
	struct batch	 b[STATS_SERVICES];
};

static void	post(struct gateway *, int, json_t *, const char *);
static void	add(struct gateway *, int, json_t *, const char *);
static void	flush(struct batch *);
static void	on_timer(struct ev_loop *, ev_timer *, int);

/* Each engine's batch, empty. */
int
engines_init(struct gateway *g)
{
	struct engines	*e;
	int		 i;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	e->g = g;
	for (i = 0; i < STATS_SERVICES; i++) {
		e->b[i].all = e;
		e->b[i].id = i;
		ev_timer_init(&e->b[i].timer, on_timer, 0., 0.);
		e->b[i].timer.data = &e->b[i];
	}
	g->engines = e;
	return 0;
}

/* Events still being gathered are dropped: the worker is going away. */
void
engines_free(struct gateway *g)
{
	struct engines	*e = g->engines;
	int		 i;

	if (e == NULL)
		return;
	for (i = 0; i < STATS_SERVICES; i++) {
		ev_timer_stop(g->t->loop, &e->b[i].timer);
		json_decref(e->b[i].events);
	}
	free(e);
	g->engines = NULL;
}

/*
 * POST o (taken) to engine id's path; no answer is waited for.  A call
 * with an idempotency key is safe to repeat, so it is retried.
 */
static void
post(struct gateway *g, int id, json_t *o, const char *key)
{
	struct services_call	 sc;
	char			*body;

	if (o == NULL)
		return;
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (body == NULL)
		return;
	memset(&sc, 0, sizeof(sc));
	sc.method = HTTPC_POST;
	sc.path = services_path(g->services, id);
	sc.body = body;
	sc.len = strlen(body);
	sc.idempotent = key != NULL;
	sc.key = key;
	(void)services_call(g->services, id, &sc);
	free(body);
}

/*
 * Event o (taken) for engine id: sent alone when batches are off, else
 * added to the engine's batch, which goes when full or when its first
 * event has waited engine_batch_delay.  key says the event is safe to
 * repeat; a batch of such events is sent with a key of its own.
 */
static void
add(struct gateway *g, int id, json_t *o, const char *key)
{
	struct batch	*b;

	if (o == NULL)
		return;
	if (g->conf->engine_batch_max <= 1 || g->engines == NULL) {
		post(g, id, o, key);
		return;
	}
	b = &g->engines->b[id];
	if (b->events == NULL && (b->events = json_array()) == NULL) {
		json_decref(o);
		return;
	}
	json_array_append_new(b->events, o);
	if ((long long)json_array_size(b->events) >=
	    g->conf->engine_batch_max)
		flush(b);
	else if (!ev_is_active(&b->timer)) {
		ev_timer_set(&b->timer,
		    (double)g->conf->engine_batch_delay / 1000.0, 0.);
		ev_timer_start(g->t->loop, &b->timer);
	}
}

/*
 * Send what b gathered.  Only the presence engine's events carry keys
 * (engines_presence()), so only its batches get one: "batch-<worker>-
 * <ms>-<n>", unique across workers and restarts.
 */
static void
flush(struct batch *b)
{
	struct gateway	*g = b->all->g;
	json_t		*events = b->events;
	char		 key[96];

	ev_timer_stop(g->t->loop, &b->timer);
	if (events == NULL)
		return;
	b->events = NULL;
	snprintf(key, sizeof(key), "batch-%d-%lld-%llu", g->t->wid,
	    (long long)isotime_now_ms(),
	    (unsigned long long)++b->all->seq);
	post(g, b->id, json_pack("{s:o}", "events", events),
	    b->id == STATS_SVC_PRESENCE ? key : NULL);
}

static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	flush(w->data);
}

/* A message was delivered: the AI engine, and for a group the room engine. */
void
engines_message(struct gateway *g, const struct events_message *m)
{
	int	ai, room;
	json_t	*o;

	ai = services_configured(g->services, STATS_SVC_AI);
	room = m->group_id != NULL &&
	    services_configured(g->services, STATS_SVC_QUANTUM);
	if (!ai && !room)
		return;
	o = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s%, s:s?, s:s}",
	    "type", "message", "messageId", m->id, "senderId", m->sender_id,
	    "receiverId",
	    m->receiver_id, "groupId", m->group_id, "content", m->content,
	    m->content_len, "messageType", m->message_type, "timestamp",
	    m->created_at);
	if (o == NULL)
		return;
	if (room)
		add(g, STATS_SVC_QUANTUM, json_incref(o), NULL);
	if (ai)
		add(g, STATS_SVC_AI, json_incref(o), NULL);
	json_decref(o);
}

/*
 * A user's first socket anywhere (online 1) or last socket anywhere (0).
 * A transition is a fact, so telling it twice is harmless: the call is
 * retried, with the key "<online|offline>-<ms>-<user>" (at most 256 bytes;
 * a longer user id is cut, the key stays unique enough for a retry).
 */
void
engines_presence(struct gateway *g, const char *user, int online)
{
	char	at[32], key[256];
	int64_t	ms;

	if (!services_configured(g->services, STATS_SVC_PRESENCE))
		return;
	ms = isotime_now_ms();
	isotime_format(ms, at);
	snprintf(key, sizeof(key), "%s-%lld-%s", online ? "online" :
	    "offline", (long long)ms, user);
	add(g, STATS_SVC_PRESENCE, json_pack("{s:s, s:s, s:s}", "type",
	    online ? "online" : "offline", "userId", user, "timestamp", at),
	    key);
}
