/*
 * libFuzzer harness for evscan.c and msgsplice.c (issue 16): a Socket.IO
 * event's payload read without a tree.  The first byte is the content
 * limit (0: the default), the rest the payload text.  Checked, beyond
 * memory safety:
 *  - the scan's verdict is jsonlimit_scan()'s, to the error;
 *  - what it picked agrees with jansson's tree: the elements, the members
 *    of the first argument, each string's decoded length, NUL flag, and
 *    its text when the flags say JSON.stringify wrote it;
 *  - a payload msgsplice_parse() takes, events_parse() takes too, and
 *    msgsplice_json() writes the bytes events_message_json() and
 *    jsonwrite_dump() write, with and without a status.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "evscan.h"
#include "jsonlimit.h"
#include "jsonwrite.h"
#include "msgsplice.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct jsonlimit lim = { 0, 32, 10000, JSONLIMIT_ALLOW_NUL };

static void	check_value(const struct evscan_value *, const json_t *);
static void	check_members(const struct evscan *, const json_t *);
static void	check_splice(const struct evscan *, const json_t *, size_t);

/* A picked value against jansson's. */
static void
check_value(const struct evscan_value *v, const json_t *j)
{
	char	 buf[4096];
	size_t	 n;

	if (j == NULL)
		abort();
	if ((v->type == JSONLIMIT_T_STRING) != json_is_string(j) ||
	    (v->type == JSONLIMIT_T_OBJECT) != json_is_object(j) ||
	    (v->type == JSONLIMIT_T_ARRAY) != json_is_array(j) ||
	    (v->type == JSONLIMIT_T_NUMBER) != json_is_number(j))
		abort();
	if (v->end < v->start || (v->type != 0 && v->end == v->start))
		abort();
	if (!json_is_string(j))
		return;
	if (v->len != json_string_length(j) || ((v->flags &
	    JSONLIMIT_S_NUL) != 0) != (memchr(json_string_value(j), '\0',
	    v->len) != NULL) || ((v->flags & JSONLIMIT_S_ESCAPED) == 0 &&
	    (v->flags & ~JSONLIMIT_S_ESCAPED) != 0))
		abort();
	if ((v->flags & JSONLIMIT_S_NONCANON) != 0)
		return;
	n = jsonwrite_string(json_string_value(j), v->len, buf, sizeof(buf));
	if (n < sizeof(buf) && (n != (size_t)(v->end - v->start) ||
	    memcmp(buf, v->start, n) != 0))
		abort();
}

/* Members with plain keys, the last of each name (jansson keeps it). */
static void
check_members(const struct evscan *ev, const json_t *arg)
{
	const struct evscan_member	*m;
	char				 key[4096];
	size_t				 i, k, n;

	if (ev->nmembers < json_object_size(arg))
		abort();
	for (i = 0; i < ev->nmembers && i < EVSCAN_MEMBERS; i++) {
		m = &ev->member[i];
		n = (size_t)(m->key.end - m->key.start) - 2;
		if (m->key.flags != 0 || n >= sizeof(key))
			continue;
		/*
		 * A later key of the same name, raw, or escaped ("\/a" is
		 * "/a"): jansson keeps that one.
		 */
		for (k = i + 1; k < ev->nmembers && k < EVSCAN_MEMBERS; k++)
			if (ev->member[k].key.flags != 0 ||
			    ((size_t)(ev->member[k].key.end -
			    ev->member[k].key.start) == n + 2 &&
			    memcmp(ev->member[k].key.start, m->key.start,
			    n + 2) == 0))
				break;
		if (k < ev->nmembers)
			continue;	/* a later one, or maybe one not kept */
		memcpy(key, m->key.start + 1, n);
		key[n] = '\0';
		check_value(&m->value, json_object_get(arg, key));
	}
}

/* A message msgsplice takes: events_parse() takes it, the same bytes. */
static void
check_splice(const struct evscan *ev, const json_t *j, size_t max)
{
	static const char	 at[] = "2026-12-07T00:00:00.000Z";
	struct msgsplice	 ms;
	struct events_event	 e;
	struct events_error	 err;
	struct events_message	 m;
	const json_t		*name = json_array_get(j, 0);
	const char		*status[] = { NULL, "sent" };
	json_t			*o;
	char			 a[8192], b[8192];
	size_t			 na, nb;
	int			 i;

	if (msgsplice_parse(ev, max, &ms) != 0)
		return;
	if (!json_is_string(name) || events_parse(json_string_value(name),
	    json_string_length(name), json_array_get(j, 1), max, &e, &err) !=
	    0 || e.type != EVENTS_SEND_MESSAGE || e.receiver_id.ptr == NULL)
		abort();
	for (i = 0; i < 2; i++) {
		memset(&m, 0, sizeof(m));
		m.id = "ID";
		m.sender_id = "me";
		m.receiver_id = e.receiver_id.ptr;
		m.content = e.content.ptr;
		m.content_len = e.content.len;
		m.message_type = e.message_type.ptr;
		m.created_at = at;
		m.client_msg_id = e.client_msg_id.ptr;
		m.status = status[i];
		if ((o = events_message_json(&m)) == NULL)
			abort();
		nb = jsonwrite_dump(o, b, sizeof(b));
		json_decref(o);
		na = msgsplice_json(&ms, "ID", "me", 2, at, status[i], a,
		    sizeof(a));
		if (na != nb || (na < sizeof(a) && memcmp(a, b, na) != 0))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evscan	 ev;
	const char	*text;
	size_t		 len, max;
	json_t		*j;
	int		 rc;

	if (size < 1)
		return (0);
	max = data[0];
	text = (const char *)data + 1;
	len = size - 1;
	rc = evscan_scan(text, len, &lim, &ev);
	if (rc != jsonlimit_scan(text, len, &lim, NULL))
		abort();
	if (rc != 0)
		return (0);
	j = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (j == NULL) {
		if (ev.numbers == 0)
			abort();	/* only a number is jansson's to refuse */
		return (0);
	}
	if (ev.array != json_is_array(j))
		abort();
	if (ev.array) {
		if (ev.nelems != json_array_size(j))
			abort();
		if (ev.nelems > 0)
			check_value(&ev.name, json_array_get(j, 0));
		if (ev.nelems > 1)
			check_value(&ev.arg, json_array_get(j, 1));
		if (ev.nelems > 1 && json_is_object(json_array_get(j, 1)))
			check_members(&ev, json_array_get(j, 1));
		check_splice(&ev, j, max);
	}
	json_decref(j);
	return (0);
}
