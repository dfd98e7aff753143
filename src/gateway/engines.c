/*
 * The fire-and-forget engines (issue 13): the presence engine hears of a
 * user's gateway-wide online and offline transitions, the AI engine of
 * each delivered message, the quantum room engine of each group message.
 * Each is one POST with a JSON body to the engine's path (presence_engine_
 * path, ai_engine_path, quantum_room_engine_path).
 *
 * They are called after the message went out and nothing waits for their
 * answer, so they never delay nor drop a message; a call past
 * service_max_inflight is shed and counted (services.c), so a hung engine
 * costs at most that many calls' memory.  Without an engine's URL nothing
 * here does anything, not even build the body.
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

static void	post(struct gateway *, int, json_t *, const char *);

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
		post(g, STATS_SVC_QUANTUM, json_incref(o), NULL);
	if (ai)
		post(g, STATS_SVC_AI, json_incref(o), NULL);
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
	char	at[32], key[256], *p;
	int64_t	ms;

	if (!services_configured(g->services, STATS_SVC_PRESENCE))
		return;
	ms = isotime_now_ms();
	isotime_format(ms, at);
	snprintf(key, sizeof(key), "%s-%lld-%s", online ? "online" :
	    "offline", (long long)ms, user);
	for (p = key; *p != '\0'; p++)		/* a header's value */
		if (*p < 0x21 || *p > 0x7e)
			*p = '_';
	post(g, STATS_SVC_PRESENCE, json_pack("{s:s, s:s, s:s}", "type",
	    online ? "online" : "offline", "userId", user, "timestamp", at),
	    key);
}
