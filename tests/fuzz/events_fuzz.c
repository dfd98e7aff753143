/*
 * libFuzzer harness for events.c (and the room names of rooms.c).  The
 * first byte picks the event (one of the ten, or an unknown name) and the
 * content limit; the rest is JSON text, parsed by jansson as the gateway
 * would, and its value is the event's first argument.  Checked, beyond
 * memory safety:
 *  - an accepted event holds exactly what events.h promises: ids valid for
 *    room names, lengths that match NUL-terminated strings, content within
 *    the limit, a known message_type and status, a room that parses;
 *  - its server->client payloads can always be built (valid UTF-8);
 *  - a refused event has a code and a message that an error event and an
 *    ack can carry;
 *  - the JSON text taken as a room name parses only if it is valid, and
 *    then rebuilds to the same bytes through roomname_*().
 */
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "events.h"
#include "roomname.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check_str(const struct events_str *, bool);
static void	check_id(const struct events_str *);
static void	check_ok(const struct events_event *, size_t);
static void	check_room(const char *, size_t);

static void
check_str(const struct events_str *s, bool nul_ok)
{
	if (s->ptr == NULL) {
		if (s->len != 0)
			abort();
		return;
	}
	if (s->len == 0 || s->ptr[s->len] != '\0')
		abort();
	if (!nul_ok && strlen(s->ptr) != s->len)
		abort();
}

static void
check_id(const struct events_str *s)
{
	check_str(s, false);
	if (s->ptr != NULL && !roomname_id_valid(s->ptr, s->len))
		abort();
}

static void
check_ok(const struct events_event *ev, size_t max)
{
	struct events_message	 m;
	struct roomname_ref	 ref;
	json_t			*j;
	int			 k;

	check_id(&ev->receiver_id);
	check_id(&ev->group_id);
	check_id(&ev->message_id);
	check_id(&ev->sender_id);
	check_str(&ev->content, true);
	check_str(&ev->client_msg_id, false);
	check_str(&ev->status, false);
	check_str(&ev->room, true);
	if (ev->content.len > max || ev->client_msg_id.len > 128)
		abort();
	switch (ev->type) {
	case EVENTS_SEND_MESSAGE:
	case EVENTS_SEND_GROUP_MESSAGE:
		if (ev->content.ptr == NULL || ev->message_type.ptr == NULL ||
		    (ev->receiver_id.ptr == NULL) == (ev->group_id.ptr == NULL))
			abort();
		memset(&m, 0, sizeof(m));
		m.id = "m";
		m.sender_id = "me";
		m.receiver_id = ev->receiver_id.ptr;
		m.group_id = ev->group_id.ptr;
		m.content = ev->content.ptr;
		m.content_len = ev->content.len;
		m.message_type = ev->message_type.ptr;
		m.created_at = "2026-02-17T10:30:00.000Z";
		m.client_msg_id = ev->client_msg_id.ptr;
		m.status = "sent";
		if ((j = events_message_json(&m)) == NULL)
			abort();
		json_decref(j);
		break;
	case EVENTS_JOIN_ROOM:
	case EVENTS_LEAVE_ROOM:
		if (roomname_parse(ev->room.ptr, ev->room.len, &ref) != 0 ||
		    ref.kind != ev->ref.kind || ref.alen != ev->ref.alen)
			abort();
		k = roomname_may_join(&ev->ref, "me", 2);
		if (k != ROOMNAME_OK && k != ROOMNAME_ERR_PERSONAL &&
		    k != ROOMNAME_ERR_NOT_PARTICIPANT)
			abort();
		break;
	case EVENTS_TYPING:
	case EVENTS_STOP_TYPING:
		if ((j = events_typing_json("me", ev->receiver_id.ptr,
		    ev->group_id.ptr)) == NULL)
			abort();
		json_decref(j);
		break;
	case EVENTS_MESSAGE_READ_STATUS:
		if (strcmp(ev->status.ptr, "read") != 0 &&
		    strcmp(ev->status.ptr, "delivered") != 0)
			abort();
		/* FALLTHROUGH */
	case EVENTS_MESSAGE_READ:
	case EVENTS_MESSAGE_DELIVERED:
		if (ev->message_id.ptr == NULL || ev->sender_id.ptr == NULL)
			abort();
		if ((j = events_status_update_json(ev->message_id.ptr,
		    "read", "me", "t")) == NULL)
			abort();
		json_decref(j);
		break;
	case EVENTS_DELETE_MESSAGE:
		if (ev->message_id.ptr == NULL ||
		    (ev->receiver_id.ptr == NULL) == (ev->group_id.ptr == NULL))
			abort();
		break;
	default:
		abort();
	}
}

/* The text itself as a room name: parse, rebuild, compare. */
static void
check_room(const char *s, size_t n)
{
	struct roomname_ref	ref;
	char			buf[ROOMNAME_SIZE];
	int			len;

	if (roomname_parse(s, n, &ref) != ROOMNAME_OK)
		return;
	if (ref.kind == ROOMNAME_USER)
		len = roomname_user(ref.a, ref.alen, buf);
	else if (ref.kind == ROOMNAME_GROUP)
		len = roomname_group(ref.a, ref.alen, buf);
	else if (ref.kind == ROOMNAME_PRESENCE)
		len = snprintf(buf, sizeof(buf), "presence:%.*s",
		    (int)ref.alen, ref.a);
	else
		len = roomname_chat(ref.b, ref.blen, ref.a, ref.alen, buf);
	if (len < 0 || (size_t)len != n || memcmp(buf, s, n) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct events_event	 ev;
	struct events_error	 err;
	json_t			*arg, *j;
	const char		*name, *text;
	size_t			 n, max;
	int			 rc;

	if (size < 1)
		return (0);
	text = (const char *)data + 1;
	n = size - 1;
	max = (data[0] & 0x80) ? 16 : 0;
	if ((data[0] & 0x7f) % 11 == 10)
		name = "chat_message";
	else
		name = events_name((enum events_type)((data[0] & 0x7f) % 11));
	check_room(text, n);

	arg = json_loadb(text, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	rc = events_parse(name, strlen(name), arg, max, &ev, &err);
	if (rc == 0) {
		if (arg == NULL || err.code != NULL)
			abort();
		check_ok(&ev, max == 0 ? EVENTS_CONTENT_MAX : max);
	} else {
		if (rc != -1 || err.code == NULL || err.message[0] == '\0')
			abort();
		if ((j = events_error_json(err.code, err.message, name,
		    strlen(name))) == NULL)
			abort();
		json_decref(j);
		if ((j = events_ack_error(err.code, err.message)) == NULL)
			abort();
		json_decref(j);
	}
	json_decref(arg);
	return (0);
}
