/*
 * handlers: the client's events (DESIGN.md).  events.c validates and
 * builds the payloads; here each event is carried out.  Identity always
 * comes from the token (gs->user), never from the payload.  Every event
 * may carry an ack, answered {ok:true,...} or {ok:false,error}; bad input
 * also gets an `error` event and changes nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base64.h"
#include "events.h"
#include "frame.h"
#include "gateway.h"
#include "isotime.h"
#include "jsonlimit.h"
#include "log.h"
#include "msgsplice.h"
#include "randpool.h"
#include "presence.h"
#include "roomname.h"
#include "rooms.h"
#include "services.h"
#include "session.h"
#include "socketio.h"
#include "transport.h"

#define ID_BYTES	12
#define RATE_LINGER	1.0	/* s: see rate_ok() */

static void	 new_id(char *);
static void	 reply(struct session *, int64_t, json_t *);
static void	 fail(struct gateway *, struct session *, int64_t,
		    const char *, const char *, const char *, size_t);
static int	 deliver_to(struct gateway *, const char *,
		    const struct events_str *, const struct events_str *,
		    json_t *, struct session *);
static int	 in_group(struct gateway *, struct gw_socket *,
		    const struct events_str *);
static void	 on_message(struct gateway *, struct session *,
		    struct gw_socket *, struct events_event *, int64_t);
static void	 on_room(struct gateway *, struct session *,
		    struct gw_socket *, struct events_event *, int64_t);
static void	 on_typing(struct gateway *, struct session *,
		    struct gw_socket *, struct events_event *, int64_t);
static void	 on_status(struct gateway *, struct session *,
		    struct gw_socket *, struct events_event *, int64_t);
static void	 on_delete(struct gateway *, struct session *,
		    struct gw_socket *, struct events_event *, int64_t);
static int	 rate_ok(struct gateway *, struct session *,
		    struct gw_socket *, const char *, size_t, int64_t);
static int	 member_ok(struct gateway *, struct session *,
		    struct gw_socket *, struct events_event *, const char *,
		    size_t, json_t *, int64_t);
static void	 run(struct gateway *, struct session *, struct gw_socket *,
		    const char *, size_t, json_t *, int64_t);
static void	 on_direct(struct gateway *, struct session *,
		    struct gw_socket *, const struct msgsplice *, int64_t);
static int	 direct_stored(struct gateway *, struct session *,
		    struct gw_socket *, const struct msgsplice *, const char *,
		    const char *, int64_t);

/* A message id: 12 random bytes, base64url. */
static void
new_id(char *out)
{
	uint8_t		 rnd[ID_BYTES];
	ptrdiff_t	 n;

	if (randpool_get(rnd, sizeof(rnd)) != 0)
		log_warn("getrandom");
	n = base64_encode(rnd, sizeof(rnd), out, ID_BYTES * 2 - 1,
	    BASE64_URL);
	out[n < 0 ? 0 : n] = '\0';
}

/* The ack, if one was asked for; takes over o. */
static void
reply(struct session *s, int64_t ack, json_t *o)
{
	json_t	*args;

	if (ack >= 0 && o != NULL) {
		args = json_pack("[o]", o);
		socketio_ack(s, 0, ack, args);
		json_decref(args);
	} else
		json_decref(o);
}

/* Bad input: an `error` event, and the ack's error; nothing else. */
static void
fail(struct gateway *g, struct session *s, int64_t ack, const char *code,
    const char *message, const char *event, size_t elen)
{
	json_t	*e;

	/* The event's name comes back, but not a flood of it. */
	if (elen > 64) {
		elen = 64;
		while (elen > 0 && ((unsigned char)event[elen] & 0xc0) == 0x80)
			elen--;		/* not inside a UTF-8 sequence */
	}
	e = events_error_json(code, message, event, elen);
	emit_to(g, s, "error", e);
	json_decref(e);
	reply(s, ack, events_ack_error(code, message));
}

/*
 * To a user's room or a group's room: receiver or group names the target.
 * Returns 0, or -1 when the room name cannot be built.
 */
static int
deliver_to(struct gateway *g, const char *event,
    const struct events_str *receiver, const struct events_str *group,
    json_t *payload, struct session *except)
{
	char		 room[ROOMNAME_SIZE];
	struct frame	*f;
	int		 n;

	if (receiver->ptr != NULL)
		n = roomname_user(receiver->ptr, receiver->len, room);
	else
		n = roomname_group(group->ptr, group->len, room);
	if (n <= 0 || (f = emit_frame(event, payload)) == NULL)
		return -1;
	deliver_room(g, room, (size_t)n, f, except);
	return 0;
}

/* Is this socket in the group's room? (It joined with join_room.) */
static int
in_group(struct gateway *g, struct gw_socket *gs,
    const struct events_str *group)
{
	char	room[ROOMNAME_SIZE];
	int	n;

	n = roomname_group(group->ptr, group->len, room);
	return n > 0 && rooms_is_member(g->rooms, room, (size_t)n, gs);
}

/* send_message and send_group_message. */
static void
on_message(struct gateway *g, struct session *s, struct gw_socket *gs,
    struct events_event *ev, int64_t ack)
{
	struct events_message	 m;
	char			 id[ID_BYTES * 2], at[32];
	json_t			*o, *sent;

	if (ev->group_id.ptr != NULL && !in_group(g, gs, &ev->group_id)) {
		fail(g, s, ack, "not_in_group", "join the group's room first",
		    ev->name, strlen(ev->name));
		return;
	}
	new_id(id);
	isotime_format(isotime_now_ms(), at);
	memset(&m, 0, sizeof(m));
	m.id = id;
	m.sender_id = gs->user;
	m.receiver_id = ev->receiver_id.ptr;
	m.group_id = ev->group_id.ptr;
	m.content = ev->content.ptr;
	m.content_len = ev->content.len;
	m.message_type = ev->message_type.ptr;
	m.created_at = at;
	m.client_msg_id = ev->client_msg_id.ptr;
	o = events_message_json(&m);
	deliver_to(g, "receive_message", &ev->receiver_id, &ev->group_id,
	    o, ev->group_id.ptr != NULL ? s : NULL);
	engines_message(g, &m);
	/*
	 * Delivered; now stored: the sender hears `persisted` or `queued`
	 * when the chat service or the spool has it (chat.c takes o).
	 */
	if (o != NULL && chat_message(g, s, ack, ev->name, gs->user, id, o)
	    == 0)
		return;
	json_decref(o);
	m.status = "sent";
	sent = events_message_json(&m);
	emit_to(g, s, "message_sent", sent);
	reply(s, ack, events_ack_ok(json_pack("{s:O}", "message", sent)));
	json_decref(sent);
}

/* join_room and leave_room. */
static void
on_room(struct gateway *g, struct session *s, struct gw_socket *gs,
    struct events_event *ev, int64_t ack)
{
	const char	*room = ev->room.ptr;
	size_t		 len = ev->room.len;
	int		 rc;

	rc = ev->type == EVENTS_JOIN_ROOM ?
	    roomname_may_join(&ev->ref, gs->user, gs->ulen) :
	    roomname_may_leave(&ev->ref, gs->user, gs->ulen);
	if (rc != ROOMNAME_OK) {
		fail(g, s, ack, "forbidden_room", roomname_strerror(rc),
		    ev->name, strlen(ev->name));
		return;
	}
	if (ev->type == EVENTS_JOIN_ROOM) {
		rc = rooms_join(g->rooms, room, len, gs);
		if (rc == ROOMS_JOIN_FULL) {
			g->rooms_refused++;
			fail(g, s, ack, "too_many_rooms", "this socket is in "
			    "max_rooms_per_socket rooms already", ev->name,
			    strlen(ev->name));
			return;
		}
		if (rc == 1 && ev->ref.kind != ROOMNAME_PRESENCE)
			scoped_joined(g, gs, room, len);
		if (rc == 1)
			admin_room(g, gs, room, len, true);
	} else if (rooms_leave(g->rooms, room, len, gs) == 1)
		admin_room(g, gs, room, len, false);
	recslot_rooms(g, gs);		/* what a recovery rejoins */
	if (ev->ref.kind == ROOMNAME_PRESENCE && ev->type == EVENTS_JOIN_ROOM) {
		/* A subscription: say at once whether the user is online. */
		char user[ROOMNAME_SIZE];

		memcpy(user, ev->ref.a, ev->ref.alen);
		user[ev->ref.alen] = '\0';
		reply(s, ack, events_ack_ok(json_pack("{s:s%,s:b}", "room",
		    room, len, "online", presence_online(g->presence, user) ||
		    hostpres_online(g, user))));
		return;
	}
	reply(s, ack, events_ack_ok(json_pack("{s:s%}", "room", room, len)));
}

/* typing and stop_typing: to the receiver, or the group but the sender. */
static void
on_typing(struct gateway *g, struct session *s, struct gw_socket *gs,
    struct events_event *ev, int64_t ack)
{
	json_t	*o;

	if (ev->group_id.ptr != NULL && !in_group(g, gs, &ev->group_id)) {
		fail(g, s, ack, "not_in_group", "join the group's room first",
		    ev->name, strlen(ev->name));
		return;
	}
	o = events_typing_json(gs->user, ev->receiver_id.ptr,
	    ev->group_id.ptr);
	deliver_to(g, ev->type == EVENTS_TYPING ? "user_typing" :
	    "user_stop_typing", &ev->receiver_id, &ev->group_id, o, s);
	json_decref(o);
	reply(s, ack, events_ack_ok(NULL));
}

/* message_read, message_delivered, message_read_status: to the sender. */
static void
on_status(struct gateway *g, struct session *s, struct gw_socket *gs,
    struct events_event *ev, int64_t ack)
{
	struct events_str	 none = { NULL, 0 };
	char			 at[32];
	json_t			*o;

	isotime_format(isotime_now_ms(), at);
	if (ev->type == EVENTS_MESSAGE_READ)
		o = events_read_receipt_json(ev->message_id.ptr, gs->user, at);
	else
		o = events_status_update_json(ev->message_id.ptr,
		    ev->type == EVENTS_MESSAGE_DELIVERED ? "delivered" :
		    ev->status.ptr, gs->user, at);
	deliver_to(g, ev->type == EVENTS_MESSAGE_READ ? "message_read_receipt" :
	    "message_status_update", &ev->sender_id, &none, o, NULL);
	json_decref(o);
	chat_status(g, ev->message_id.ptr, ev->type == EVENTS_MESSAGE_READ ?
	    "read" : ev->type == EVENTS_MESSAGE_DELIVERED ? "delivered" :
	    ev->status.ptr, gs->user, at);
	reply(s, ack, events_ack_ok(NULL));
}

/* delete_message: the whole conversation hears it. */
static void
on_delete(struct gateway *g, struct session *s, struct gw_socket *gs,
    struct events_event *ev, int64_t ack)
{
	struct events_str	 me = { gs->user, gs->ulen }, none = { NULL, 0 };
	char			 at[32];
	json_t			*o;

	if (ev->group_id.ptr != NULL && !in_group(g, gs, &ev->group_id)) {
		fail(g, s, ack, "not_in_group", "join the group's room first",
		    ev->name, strlen(ev->name));
		return;
	}
	isotime_format(isotime_now_ms(), at);
	o = events_status_update_json(ev->message_id.ptr, "deleted",
	    gs->user, at);
	deliver_to(g, "message_status_update", &ev->receiver_id, &ev->group_id,
	    o, NULL);
	if (ev->receiver_id.ptr != NULL)
		deliver_to(g, "message_status_update", &me, &none, o, NULL);
	json_decref(o);
	chat_delete(g, ev->message_id.ptr, gs->user, at);
	reply(s, ack, events_ack_ok(NULL));
}

/*
 * Events per connection: a bucket of event_burst tokens, refilled at
 * event_rate a second, one token an event.  The first event the bucket
 * cannot pay for gets an `error` (rate_limited) and is dropped, as are
 * the next ones, unanswered; when event_burst of them have come while
 * it is empty, the client is disconnected.  A token again forgives.
 */
static int
rate_ok(struct gateway *g, struct session *s, struct gw_socket *gs,
    const char *name, size_t len, int64_t ack)
{
	const struct gateway_conf *c = g->conf;
	double			 now = ev_now(g->t->loop);

	gs->tokens += (now - gs->refilled) * (double)c->event_rate;
	if (gs->tokens > (double)c->event_burst)
		gs->tokens = (double)c->event_burst;
	gs->refilled = now;
	if (gs->tokens >= 1.0) {
		gs->tokens -= 1.0;
		gs->over = 0;
		return 1;
	}
	if (gs->over++ == 0) {
		g->rate_warnings++;
		fail(g, s, ack, "rate_limited", "too many events: slow down",
		    name, len);
	} else if (gs->over >= c->event_burst) {
		g->rate_disconnects++;
		log_debug("session %s: past event_rate; disconnecting",
		    s->sid);
		fail(g, s, -1, "rate_limited", "too many events: disconnected",
		    name, len);
		/*
		 * DISCONNECT, then the transport a moment later: closed now,
		 * with the flood unread, the kernel would reset it and the
		 * client lose the DISCONNECT.  Meanwhile its events are for
		 * a namespace it has left, and ignored.
		 */
		socketio_disconnect(s, 0);	/* frees gs */
		session_connect_within(s, RATE_LINGER);
	}
	return 0;
}

/*
 * group_membership (membership.c): may the user use the group the event
 * names?  1: go on; 0: refused (answered here) or held (it runs again
 * from the chat service's answer).
 */
static int
member_ok(struct gateway *g, struct session *s, struct gw_socket *gs,
    struct events_event *ev, const char *name, size_t len, json_t *arg,
    int64_t ack)
{
	const char	*group = NULL;
	size_t		 glen = 0;

	if (ev->type == EVENTS_JOIN_ROOM && ev->ref.kind == ROOMNAME_GROUP) {
		group = ev->ref.a;
		glen = ev->ref.alen;
	} else if ((ev->type == EVENTS_SEND_MESSAGE ||
	    ev->type == EVENTS_SEND_GROUP_MESSAGE ||
	    ev->type == EVENTS_TYPING || ev->type == EVENTS_STOP_TYPING) &&
	    ev->group_id.ptr != NULL) {
		group = ev->group_id.ptr;
		glen = ev->group_id.len;
	}
	if (group == NULL)
		return 1;
	switch (membership_gate(g, s, gs, group, glen, name, len, arg, ack)) {
	case MEMBERSHIP_YES:
		return 1;
	case MEMBERSHIP_HELD:
		return 0;
	case MEMBERSHIP_NO:
		fail(g, s, ack, "not_a_member", "you are not a member of this "
		    "group", ev->name, strlen(ev->name));
		return 0;
	case MEMBERSHIP_BUSY:
		fail(g, s, ack, "membership_busy", "too many events wait for "
		    "a membership check", ev->name, strlen(ev->name));
		return 0;
	default:
		fail(g, s, ack, "membership_unavailable", "membership could "
		    "not be checked: chat service unavailable", ev->name,
		    strlen(ev->name));
		return 0;
	}
}

/* The handlers' part of a worker's setup: membership runs held events. */
int
handlers_init(struct gateway *g, uint64_t seed)
{
	return membership_init(g, run, seed);
}

/*
 * One event from a client.  Behind events held for a membership check it
 * waits its turn, so that a socket's events keep their order.
 */
void
handlers_event(struct gateway *g, struct session *s, struct gw_socket *gs,
    const char *name, size_t len, json_t *arg, int64_t ack)
{
	if (gs == NULL || !rate_ok(g, s, gs, name, len, ack))
		return;
	if (membership_waiting(gs)) {
		if (membership_hold(g, s, gs, name, len, arg, ack) != 0)
			fail(g, s, ack, "membership_busy", "too many events "
			    "wait for a membership check", name, len);
		return;
	}
	run(g, s, gs, name, len, arg, ack);
}

/*
 * An EVENT before its tree (issue 16): a direct message that
 * msgsplice_parse() takes is carried out from the client's text; 0 leaves
 * anything else to handlers_event(), as are the events of a socket that
 * has some held for a membership check (their order).
 */
int
handlers_event_raw(struct gateway *g, struct session *s,
    struct gw_socket *gs, const struct evscan *sc, int64_t ack)
{
	struct msgsplice	 m;

	if (gs == NULL || membership_waiting(gs) ||
	    msgsplice_parse(sc, (size_t)g->conf->max_payload, &m) != 0)
		return 0;
	if (rate_ok(g, s, gs, "send_message", 12, ack)) {
		g->spliced++;
		on_direct(g, s, gs, &m, ack);
	}
	return 1;
}

/*
 * on_message's work for a direct message without a tree: the message is
 * written once, spliced, as `{"message":<msg>` so that the sender's copy
 * (with its status) and the ack are the same bytes, extended.
 */
static void
on_direct(struct gateway *g, struct session *s, struct gw_socket *gs,
    const struct msgsplice *m, int64_t ack)
{
	static const char	 head[] = "{\"message\":";
	static const char	 sent[] = ",\"status\":\"sent\"}";
	static const char	 ok[] = ",\"ok\":true}";
	const size_t		 hl = sizeof(head) - 1, more = sizeof(sent) +
				    sizeof(ok);
	char			 id[ID_BYTES * 2], at[32], room[ROOMNAME_SIZE];
	char			 small[1024], *buf = small, *msg;
	size_t			 len;
	struct frame		*f;
	int			 n;

	new_id(id);
	isotime_format(isotime_now_ms(), at);
	len = msgsplice_json(m, id, gs->user, gs->ulen, at, NULL, small + hl,
	    sizeof(small) - hl - more);
	if (len >= sizeof(small) - hl - more) {
		if ((buf = malloc(hl + len + 1 + more)) == NULL)
			return;
		msgsplice_json(m, id, gs->user, gs->ulen, at, NULL, buf + hl,
		    len + 1);
	}
	msg = buf + hl;
	n = roomname_user(m->receiver.start + 1, m->receiver.len, room);
	if (n > 0 && (f = emit_frame_text("receive_message", msg, len)) != NULL)
		deliver_room(g, room, (size_t)n, f, NULL);
	if (direct_stored(g, s, gs, m, id, at, ack) != 0) {
		/* The sender's copy: status last, as events_message_json(). */
		memcpy(msg + len - 1, sent, sizeof(sent) - 1);
		len += sizeof(sent) - 2;
		emit_frame_to(g, s, emit_frame_text("message_sent", msg, len));
		if (ack >= 0) {
			memcpy(buf, head, hl);
			memcpy(msg + len, ok, sizeof(ok) - 1);
			socketio_ack_text(s, 0, ack, buf,
			    hl + len + sizeof(ok) - 1);
		}
	}
	if (buf != small)
		free(buf);
}

/*
 * The engines and the chat service get the message as on_message gives
 * it, a tree, built only when one of them is configured.  0: the chat
 * service took it (its sender hears later); -1: say `sent` now.
 */
static int
direct_stored(struct gateway *g, struct session *s, struct gw_socket *gs,
    const struct msgsplice *m, const char *id, const char *at, int64_t ack)
{
	struct events_message	 em;
	char			 receiver[EVENTS_ID_MAX + 1];
	char			 cmid[EVENTS_CLIENT_MSG_ID_MAX + 1];
	json_t			*content, *o;
	int			 rc = -1;

	if (g->chat == NULL && !services_configured(g->services, STATS_SVC_AI))
		return -1;
	if ((content = json_loadb(m->content.start, (size_t)(m->content.end -
	    m->content.start), JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL)) == NULL)
		return -1;
	memcpy(receiver, m->receiver.start + 1, m->receiver.len);
	receiver[m->receiver.len] = '\0';
	memset(&em, 0, sizeof(em));
	em.id = id;
	em.sender_id = gs->user;
	em.receiver_id = receiver;
	em.content = json_string_value(content);
	em.content_len = json_string_length(content);
	em.message_type = m->message_type;
	em.created_at = at;
	if (m->client_msg_id.type != 0) {
		memcpy(cmid, m->client_msg_id.start + 1, m->client_msg_id.len);
		cmid[m->client_msg_id.len] = '\0';
		em.client_msg_id = cmid;
	}
	engines_message(g, &em);
	if (g->chat != NULL && (o = events_message_json(&em)) != NULL) {
		if ((rc = chat_message(g, s, ack, "send_message", gs->user, id,
		    o)) != 0)
			json_decref(o);
	}
	json_decref(content);
	return rc;
}

/* An event: validate, then carry it out. */
static void
run(struct gateway *g, struct session *s, struct gw_socket *gs,
    const char *name, size_t len, json_t *arg, int64_t ack)
{
	struct events_event	ev;
	struct events_error	err;

	if (len == 13 && memcmp(name, "refresh_token", 13) == 0) {
		const char	*why;
		int		 rc;

		if ((rc = token_refresh(g, gs, arg, &why)) != 0)
			fail(g, s, ack, rc == -2 ? "too_many_attempts" :
			    "invalid_token", why, name, len);
		else
			reply(s, ack, events_ack_ok(NULL));
		return;
	}
	if (events_parse(name, len, arg, (size_t)g->conf->max_payload,
	    &ev, &err) != 0) {
		fail(g, s, ack, err.code, err.message, name, len);
		return;
	}
	if (!member_ok(g, s, gs, &ev, name, len, arg, ack))
		return;
	switch (ev.type) {
	case EVENTS_SEND_MESSAGE:
	case EVENTS_SEND_GROUP_MESSAGE:
		on_message(g, s, gs, &ev, ack);
		break;
	case EVENTS_JOIN_ROOM:
	case EVENTS_LEAVE_ROOM:
		on_room(g, s, gs, &ev, ack);
		break;
	case EVENTS_TYPING:
	case EVENTS_STOP_TYPING:
		on_typing(g, s, gs, &ev, ack);
		break;
	case EVENTS_MESSAGE_READ:
	case EVENTS_MESSAGE_DELIVERED:
	case EVENTS_MESSAGE_READ_STATUS:
		on_status(g, s, gs, &ev, ack);
		break;
	case EVENTS_DELETE_MESSAGE:
		on_delete(g, s, gs, &ev, ack);
		break;
	default:
		fail(g, s, ack, "unknown_event", "this event is not handled",
		    name, len);
		break;
	}
}
