/*
 * events: the seed's client->server events, validated, and the
 * server->client payloads, built (DESIGN.md, "The Socket.IO events").
 * Pure C on jansson: no I/O, no logging.
 *
 * events_parse() takes an event name and the json_t of its first argument
 * and fills a struct events_event whose strings are borrowed from that
 * json_t (keep it alive while you use them), or an error with a stable
 * snake_case code and a message naming the field and the rule:
 *
 *	unknown_event		not one of the ten events below
 *	invalid_payload		the first argument is not a JSON object
 *	missing_field		a required field is absent or null
 *	invalid_field		wrong JSON type, empty, or a forbidden byte
 *	field_too_long		longer than its limit
 *	conflicting_fields	both of two exclusive fields
 *	invalid_message_type	message_type not in the list below
 *	invalid_status		status not in the list below
 *	invalid_room		room is not a valid room name (rooms.h)
 *
 * Fields (an absent field and a null one are the same; unknown fields are
 * ignored; identity never comes from the payload, so sender_id is read
 * only where it names the ORIGINAL sender of a message):
 *
 *	send_message		exactly one of receiver_id, group_id;
 *				content; message_type?; client_msg_id?
 *	send_group_message	group_id; content; message_type?;
 *				client_msg_id?
 *	join_room, leave_room	exactly one of room, group_id (group_id g
 *				means room "group:g")
 *	typing, stop_typing	exactly one of receiver_id, group_id
 *	message_read,
 *	message_delivered	message_id; sender_id
 *	message_read_status	message_id; sender_id; status
 *	delete_message		message_id; exactly one of receiver_id,
 *				group_id
 *
 *	ids (receiver_id, group_id, message_id, sender_id): a string of
 *	    1..128 bytes without ':' or control characters (so that it can
 *	    name a room), or a non-negative JSON integer, turned into its
 *	    decimal string in the event's own buffer
 *	content: a string of 1..content_max bytes (EVENTS_CONTENT_MAX if 0)
 *	message_type: text, image, file, audio, video or system; absent
 *	    means text
 *	client_msg_id: a string of 1..128 bytes without NUL, echoed back
 *	status (message_read_status): delivered or read, the two receipts a
 *	    recipient can give ("deleted" comes only from delete_message)
 *	room: user:<id>, group:<id> or chat:<a>:<b> (roomname_parse)
 */
#ifndef SGW_EVENTS_H
#define SGW_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include <jansson.h>

#include "roomname.h"

#define EVENTS_ID_MAX		128
#define EVENTS_CONTENT_MAX	65536	/* default content limit, bytes */
#define EVENTS_CLIENT_MSG_ID_MAX 128
#define EVENTS_INT_SIZE		21	/* an int64 in decimal, and NUL */
#define EVENTS_MESSAGE_SIZE	256	/* error messages, NUL included */

enum events_type {
	EVENTS_SEND_MESSAGE = 0,
	EVENTS_SEND_GROUP_MESSAGE,
	EVENTS_JOIN_ROOM,
	EVENTS_LEAVE_ROOM,
	EVENTS_TYPING,
	EVENTS_STOP_TYPING,
	EVENTS_MESSAGE_READ,
	EVENTS_MESSAGE_DELIVERED,
	EVENTS_MESSAGE_READ_STATUS,
	EVENTS_DELETE_MESSAGE,
	EVENTS_NTYPES
};

/* Error codes: stable, compare by pointer or by string. */
extern const char	 EVENTS_E_UNKNOWN_EVENT[];
extern const char	 EVENTS_E_INVALID_PAYLOAD[];
extern const char	 EVENTS_E_MISSING_FIELD[];
extern const char	 EVENTS_E_INVALID_FIELD[];
extern const char	 EVENTS_E_FIELD_TOO_LONG[];
extern const char	 EVENTS_E_CONFLICTING_FIELDS[];
extern const char	 EVENTS_E_INVALID_MESSAGE_TYPE[];
extern const char	 EVENTS_E_INVALID_STATUS[];
extern const char	 EVENTS_E_INVALID_ROOM[];

/* A string of the payload: ptr NULL if absent, else NUL-terminated. */
struct events_str {
	const char	*ptr;
	size_t		 len;
};

/*
 * A validated event.  Only the fields of its type are set.  It points into
 * itself (integer ids, a room built from group_id): do not copy it.
 */
struct events_event {
	enum events_type	 type;
	const char		*name;		/* canonical event name */
	struct events_str	 receiver_id;
	struct events_str	 group_id;
	struct events_str	 content;
	struct events_str	 message_type;	/* "text" when absent */
	struct events_str	 client_msg_id;
	struct events_str	 message_id;
	struct events_str	 sender_id;	/* the original sender */
	struct events_str	 status;
	struct events_str	 room;		/* join_room, leave_room */
	struct roomname_ref	 ref;		/* room, parsed */
	char			 num[4][EVENTS_INT_SIZE];
	char			 roombuf[ROOMNAME_SIZE];
};

struct events_error {
	const char	*code;			/* EVENTS_E_* */
	char		 message[EVENTS_MESSAGE_SIZE];
};

/* The server->client message object (receive_message, message_sent). */
struct events_message {
	const char	*id;
	const char	*sender_id;
	const char	*receiver_id;		/* one of these two */
	const char	*group_id;
	const char	*content;
	size_t		 content_len;
	const char	*message_type;
	const char	*created_at;		/* isotime_format() */
	const char	*client_msg_id;		/* NULL: left out */
	const char	*status;		/* NULL: left out */
};

/* events.c: client -> server */
int		 events_lookup(const char *, size_t);
const char	*events_name(enum events_type);
int		 events_parse(const char *, size_t, const json_t *, size_t,
		     struct events_event *, struct events_error *);
const char	*events_message_type(const char *, size_t);

/* events.c: server -> client */
json_t		*events_message_json(const struct events_message *);
json_t		*events_typing_json(const char *, const char *,
		     const char *);
json_t		*events_read_receipt_json(const char *, const char *,
		     const char *);
json_t		*events_status_update_json(const char *, const char *,
		     const char *, const char *);
json_t		*events_user_json(const char *);
json_t		*events_connected_json(const char *, const char *);
json_t		*events_error_json(const char *, const char *, const char *,
		     size_t);
json_t		*events_ack_ok(json_t *);
json_t		*events_ack_error(const char *, const char *);

#endif /* SGW_EVENTS_H */
