/*
 * msgsplice: a direct message validated from its scan and written by
 * splicing the client's text (msgsplice.h).  Pure: no I/O, no logging.
 */
#include <string.h>

#include "bw.h"
#include "events.h"
#include "jsonwrite.h"
#include "msgsplice.h"

enum field { F_RECEIVER, F_GROUP, F_CONTENT, F_TYPE, F_CLIENT_ID, F_N };

static const struct {
	const char	*name;
	size_t		 len;
} fields[F_N] = {
	{ "receiver_id", 11 },
	{ "group_id", 8 },
	{ "content", 7 },
	{ "message_type", 12 },
	{ "client_msg_id", 13 },
};

static int	 id_ok(const struct evscan_value *);
static void	 put_str(struct bw *, const char *, const char *, size_t);
static void	 put_raw(struct bw *, const char *,
		     const struct evscan_value *);

/*
 * receiver_id as get_id() takes a string: 1..EVENTS_ID_MAX bytes, no ':'
 * and no controls.  Without escapes its text is its value (the scan has
 * refused raw controls and bad UTF-8), and is what jsonwrite writes.
 */
static int
id_ok(const struct evscan_value *v)
{
	const char	*p;

	if (v->type != JSONLIMIT_T_STRING || v->flags != 0 || v->len == 0 ||
	    v->len > EVENTS_ID_MAX)
		return (0);
	for (p = v->start + 1; p < v->end - 1; p++)
		if (*p == ':' || *p == 0x7f)
			return (0);
	return (1);
}

/*
 * 0: ev is a send_message to receiver_id that events_parse() accepts
 * (content_max as there), with m filled; -1: leave it to events_parse().
 */
int
msgsplice_parse(const struct evscan *ev, size_t content_max,
    struct msgsplice *m)
{
	const struct evscan_value	*v[F_N] = { NULL };
	const struct evscan_member	*mb;
	size_t				 i, f;

	if (content_max == 0)
		content_max = EVENTS_CONTENT_MAX;
	/* Numbers: jansson may refuse one the scan took (range). */
	if (!ev->array || ev->numbers != 0 || ev->nelems < 2 ||
	    !evscan_is(&ev->name, "send_message", 12) ||
	    ev->arg.type != JSONLIMIT_T_OBJECT ||
	    ev->nmembers > EVSCAN_MEMBERS)
		return (-1);
	for (i = 0; i < ev->nmembers; i++) {
		mb = &ev->member[i];
		if (mb->key.flags != 0)
			return (-1);	/* an escaped key may be one of ours */
		for (f = 0; f < F_N; f++)
			if ((size_t)(mb->key.end - mb->key.start) ==
			    fields[f].len + 2 && memcmp(mb->key.start + 1,
			    fields[f].name, fields[f].len) == 0)
				break;
		if (f == F_N)
			continue;	/* not ours: ignored, as there */
		if (v[f] != NULL)
			return (-1);	/* twice: jansson keeps the last */
		v[f] = &mb->value;
	}
	/* null is absent */
	for (f = 0; f < F_N; f++)
		if (v[f] != NULL && v[f]->type == JSONLIMIT_T_LITERAL &&
		    v[f]->start[0] == 'n')
			v[f] = NULL;
	if (v[F_GROUP] != NULL || v[F_RECEIVER] == NULL ||
	    !id_ok(v[F_RECEIVER]) || v[F_CONTENT] == NULL ||
	    v[F_CONTENT]->type != JSONLIMIT_T_STRING ||
	    (v[F_CONTENT]->flags & JSONLIMIT_S_NONCANON) != 0 ||
	    v[F_CONTENT]->len == 0 || v[F_CONTENT]->len > content_max)
		return (-1);
	memset(m, 0, sizeof(*m));
	m->receiver = *v[F_RECEIVER];
	m->content = *v[F_CONTENT];
	m->message_type = "text";
	if (v[F_TYPE] != NULL && (v[F_TYPE]->type != JSONLIMIT_T_STRING ||
	    v[F_TYPE]->flags != 0 || (m->message_type = events_message_type(
	    v[F_TYPE]->start + 1, v[F_TYPE]->len)) == NULL))
		return (-1);
	if (v[F_CLIENT_ID] != NULL) {
		/* No escapes: no NUL, and its text is what jsonwrite writes. */
		if (v[F_CLIENT_ID]->type != JSONLIMIT_T_STRING ||
		    v[F_CLIENT_ID]->flags != 0 || v[F_CLIENT_ID]->len == 0 ||
		    v[F_CLIENT_ID]->len > EVENTS_CLIENT_MSG_ID_MAX)
			return (-1);
		m->client_msg_id = *v[F_CLIENT_ID];
	}
	return (0);
}

/* ,"key":"s" (or {"key":... first), s written as jsonwrite writes it. */
static void
put_str(struct bw *o, const char *key, const char *s, size_t n)
{
	size_t	 i;

	bw_append(o, key, strlen(key));
	/* Our ids and times are plain ASCII: jsonwrite copies them. */
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x80 ||
		    s[i] == '"' || s[i] == '\\')
			break;
	if (i == n) {
		bw_append(o, "\"", 1);
		bw_append(o, s, n);
		bw_append(o, "\"", 1);
		return;
	}
	/* What does not fit is counted: the total says "again, bigger". */
	bw_advance(o, jsonwrite_string(s, n, bw_tail(o), bw_room(o)));
}

/* ,"key":<the client's text> */
static void
put_raw(struct bw *o, const char *key, const struct evscan_value *v)
{
	bw_append(o, key, strlen(key));
	bw_append(o, v->start, (size_t)(v->end - v->start));
}

/*
 * The message object, as events_message_json() builds it and
 * jsonwrite_dump() writes it: id, sender_id (senderlen bytes),
 * receiver_id, content, message_type, created_at, client_msg_id?,
 * status? (NULL: left out).  Into out (cap bytes, NUL-terminated if there
 * is room); returns the full length, so >= cap means "again, bigger".
 */
size_t
msgsplice_json(const struct msgsplice *m, const char *id, const char *sender,
    size_t senderlen, const char *created_at, const char *status, char *out,
    size_t cap)
{
	struct bw	 o;

	bw_init(&o, out, cap);
	put_str(&o, "{\"id\":", id, strlen(id));
	put_str(&o, ",\"sender_id\":", sender, senderlen);
	put_raw(&o, ",\"receiver_id\":", &m->receiver);
	put_raw(&o, ",\"content\":", &m->content);
	put_str(&o, ",\"message_type\":", m->message_type,
	    strlen(m->message_type));
	put_str(&o, ",\"created_at\":", created_at, strlen(created_at));
	if (m->client_msg_id.type != 0)
		put_raw(&o, ",\"client_msg_id\":", &m->client_msg_id);
	if (status != NULL)
		put_str(&o, ",\"status\":", status, strlen(status));
	bw_append(&o, "}", 1);
	return (bw_finish(&o));
}
