/*
 * chatmsg: a message on its way to the chat service (chat.h), and what
 * its sender is told of it: `message_sent` with its status and the ack,
 * or an `error` naming the message.  The sender is kept by its session's
 * ids, never by a pointer: the answer comes after an HTTP call or a
 * spool sync, and the socket may be gone by then (then nobody is told).
 */
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "events.h"
#include "gateway.h"
#include "log.h"
#include "session.h"
#include "socketio.h"
#include "transport.h"

/*
 * A message of session s (ack: its ack id, or -1), the event's name, and
 * the message object (taken: one reference); NULL when out of memory.
 */
struct chat_msg *
chatmsg_new(struct chat *c, struct session *s, int64_t ack, const char *event,
    json_t *msg, const char *id)
{
	struct chat_msg	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		goto fail;
	m->chat = c;
	LIST_INSERT_HEAD(&c->live, m, all);
	memcpy(m->sid, s->sid, sizeof(m->sid));
	memcpy(m->sio, s->sio_sid, sizeof(m->sio));
	m->ack = ack;
	m->event = event;
	m->msg = msg;
	if ((m->id = strdup(id)) == NULL ||
	    (m->body = json_dumps(msg, JSON_COMPACT)) == NULL) {
		LIST_REMOVE(m, all);
		free(m->id);
		free(m);
		goto fail;
	}
	m->blen = strlen(m->body);
	return m;
fail:
	json_decref(msg);
	return NULL;
}

void
chatmsg_free(struct chat_msg *m)
{
	if (m == NULL)
		return;
	ev_timer_stop(m->chat->g->t->loop, &m->deadline);
	LIST_REMOVE(m, all);
	json_decref(m->msg);
	free(m->id);
	free(m->body);
	free(m);
}

/* The sender's session, if the same Socket.IO socket is still there. */
static struct session *
sender(struct chat_msg *m)
{
	struct session	*s;

	s = session_find(m->chat->g->t, m->sid, strlen(m->sid));
	if (s == NULL || s->app_data == NULL || s->state == SESSION_CLOSED ||
	    strcmp(s->sio_sid, m->sio) != 0)
		return NULL;
	return s;
}

/* `message_sent` with this status, and the ack {ok, message}. */
void
chatmsg_tell(struct chat_msg *m, const char *status)
{
	struct session	*s;
	json_t		*sent, *args;

	if ((s = sender(m)) == NULL)
		return;
	if ((sent = json_deep_copy(m->msg)) == NULL)
		return;
	json_object_set_new(sent, "status", json_string(status));
	emit_to(m->chat->g, s, "message_sent", sent);
	if (m->ack >= 0) {
		args = json_pack("[o]", events_ack_ok(json_pack("{s:O}",
		    "message", sent)));
		socketio_ack(s, 0, m->ack, args);
		json_decref(args);
	}
	json_decref(sent);
}

/*
 * The message was delivered but will not be stored: an `error` {code,
 * message, event, message_id}, and the ack's error with message_id.
 */
void
chatmsg_fail(struct chat_msg *m, const char *code, const char *text)
{
	struct session	*s;
	json_t		*e, *a, *args;

	if ((s = sender(m)) == NULL)
		return;
	e = events_error_json(code, text, m->event, strlen(m->event));
	if (e != NULL) {
		json_object_set_new(e, "message_id", json_string(m->id));
		emit_to(m->chat->g, s, "error", e);
		json_decref(e);
	}
	if (m->ack >= 0 && (a = events_ack_error(code, text)) != NULL) {
		json_object_set_new(json_object_get(a, "error"), "message_id",
		    json_string(m->id));
		args = json_pack("[o]", a);
		socketio_ack(s, 0, m->ack, args);
		json_decref(args);
	}
}

/*
 * An answer that refuses for good: a 4xx other than 408 (timeout) and
 * 429 (too many requests), which say "later"; 409 is not one (the
 * message is there already).
 */
int
chatmsg_refused(long status)
{
	return status >= 400 && status < 500 && status != 408 &&
	    status != 409 && status != 429;
}
