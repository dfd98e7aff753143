/*
 * recwire: the ask and the answer of a recovery across hosts (recwire.h),
 * encoded with jansson, decoded through jsonlimit (a bounded scan before
 * any allocation) and checked field by field: a message that does not
 * fit is refused whole.
 */
#include <stdlib.h>
#include <string.h>

#include "jsonlimit.h"
#include "recwire.h"
#include "sid.h"

#define WHY_MAX		63	/* a reason's highest value on the wire */

static int	 load(const char *, size_t, const char *, json_t **);
static int	 str_to(json_t *, const char *, char *, size_t, size_t);
static int	 rooms_of(json_t *, struct recwire_ans *);
static int	 frames_of(json_t *, size_t, struct recwire_ans *);

static char *
dump(json_t *o, size_t *lenp)
{
	char	*t;

	if (o == NULL)
		return NULL;
	t = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (t != NULL && (*lenp = strlen(t)) > RECWIRE_MAX) {
		free(t);
		t = NULL;
	}
	return t;
}

char *
recwire_ask_encode(const struct recwire_ask *a, size_t *lenp)
{
	return dump(json_pack("{s:s,s:I,s:s,s:s,s:s,s:s}", "t", "ask",
	    "id", (json_int_t)(a->id & INT64_MAX), "uid", a->uid, "pid",
	    a->pid, "off", a->off, "user", a->user), lenp);
}

/*
 * The answer: why -1 with sid, rooms ("a\0b\0", rlen bytes) and n
 * frames, else why alone.
 */
char *
recwire_ans_encode(uint64_t id, int why, const char *sid, const char *rooms,
    size_t rlen, char *const *f, const size_t *flen, size_t n, size_t *lenp)
{
	json_t	*o, *r, *fr;
	size_t	 at = 0, k;

	o = json_pack("{s:s,s:I,s:i}", "t", "ans", "id",
	    (json_int_t)(id & INT64_MAX), "why", why);
	if (o == NULL || why >= 0)
		return dump(o, lenp);
	r = json_array();
	fr = json_array();
	if (json_object_set_new(o, "sid", json_string(sid)) != 0 ||
	    json_object_set_new(o, "rooms", r) != 0 ||
	    json_object_set_new(o, "frames", fr) != 0) {
		json_decref(o);
		return NULL;
	}
	while (at < rlen) {
		k = strnlen(rooms + at, rlen - at);
		if (k > 0 && json_array_append_new(r, json_stringn(rooms + at,
		    k)) != 0)
			goto fail;
		at += k + 1;
	}
	for (k = 0; k < n; k++)
		if (json_array_append_new(fr, json_stringn(f[k], flen[k])) !=
		    0)
			goto fail;
	return dump(o, lenp);
fail:
	json_decref(o);
	return NULL;
}

/* text as a JSON object whose "t" is kind. */
static int
load(const char *text, size_t len, const char *kind, json_t **out)
{
	struct jsonlimit	 jl;
	json_t			*o;

	memset(&jl, 0, sizeof(jl));
	jl.max_bytes = RECWIRE_MAX;
	jl.max_depth = 3;
	jl.max_elements = 2 * RECWIRE_FRAMES_MAX + 2 * RECLOG_ROOMS_BYTES + 32;
	if (text == NULL || jsonlimit_load(text, len, &jl, &o) != 0)
		return -1;
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "t")) ||
	    strcmp(json_string_value(json_object_get(o, "t")), kind) != 0 ||
	    !json_is_integer(json_object_get(o, "id")) ||
	    json_integer_value(json_object_get(o, "id")) < 0) {
		json_decref(o);
		return -1;
	}
	*out = o;
	return 0;
}

/* String v, of min..max bytes, into buf (NUL-terminated). */
static int
str_to(json_t *v, const char *key, char *buf, size_t min, size_t max)
{
	json_t	*s = json_object_get(v, key);
	size_t	 n;

	if (!json_is_string(s) || (n = json_string_length(s)) < min ||
	    n > max || memchr(json_string_value(s), '\0', n) != NULL)
		return -1;
	memcpy(buf, json_string_value(s), n);
	buf[n] = '\0';
	return 0;
}

int
recwire_ask_decode(const char *text, size_t len, struct recwire_ask *a)
{
	json_t	*o;
	int	 rc = -1;

	memset(a, 0, sizeof(*a));
	if (load(text, len, "ask", &o) != 0)
		return -1;
	a->id = (uint64_t)json_integer_value(json_object_get(o, "id"));
	if (str_to(o, "uid", a->uid, 1, RECWIRE_UID_MAX) == 0 &&
	    str_to(o, "pid", a->pid, RECLOG_PID_LEN, RECLOG_PID_LEN) == 0 &&
	    str_to(o, "off", a->off, RECLOG_OFF_LEN, RECLOG_OFF_LEN) == 0 &&
	    str_to(o, "user", a->user, 1, RECWIRE_USER_MAX) == 0)
		rc = 0;
	json_decref(o);
	return rc;
}

/* "rooms": names as a slot keeps them, all fitting. */
static int
rooms_of(json_t *r, struct recwire_ans *a)
{
	json_t	*v;
	size_t	 i, n;

	if (!json_is_array(r))
		return -1;
	json_array_foreach(r, i, v) {
		if (!json_is_string(v) || (n = json_string_length(v)) == 0 ||
		    memchr(json_string_value(v), '\0', n) != NULL ||
		    n + 1 > sizeof(a->rooms) - a->rooms_len)
			return -1;
		memcpy(a->rooms + a->rooms_len, json_string_value(v), n);
		a->rooms[a->rooms_len + n] = '\0';
		a->rooms_len += n + 1;
	}
	return 0;
}

/* "frames": text EVENT frames of "/" ("42[...]"), each at most max. */
static int
frames_of(json_t *fr, size_t max, struct recwire_ans *a)
{
	json_t		*v;
	const char	*p;
	size_t		 i, n, cnt;

	if (!json_is_array(fr) || (cnt = json_array_size(fr)) >
	    RECWIRE_FRAMES_MAX)
		return -1;
	if (cnt > 0 && ((a->f = calloc(cnt, sizeof(*a->f))) == NULL ||
	    (a->flen = calloc(cnt, sizeof(*a->flen))) == NULL))
		return -1;
	json_array_foreach(fr, i, v) {
		if (!json_is_string(v))
			return -1;
		p = json_string_value(v);
		n = json_string_length(v);
		if (n < 4 || n > max || memcmp(p, "42[", 3) != 0 ||
		    p[n - 1] != ']' || memchr(p, '\0', n) != NULL)
			return -1;
		if ((a->f[i] = malloc(n)) == NULL)
			return -1;
		memcpy(a->f[i], p, n);
		a->flen[i] = n;
		a->n = i + 1;
	}
	return 0;
}

/*
 * An answer, each frame at most max bytes: 0, or -1 (a is then empty;
 * recwire_ans_free() is still fine to call).
 */
int
recwire_ans_decode(const char *text, size_t len, size_t max,
    struct recwire_ans *a)
{
	json_t		*o, *w;
	json_int_t	 why;
	int		 rc = -1;

	memset(a, 0, sizeof(*a));
	if (load(text, len, "ans", &o) != 0)
		return -1;
	a->id = (uint64_t)json_integer_value(json_object_get(o, "id"));
	w = json_object_get(o, "why");
	if (!json_is_integer(w) || (why = json_integer_value(w)) < -1 ||
	    why > WHY_MAX)
		goto out;
	a->why = (int)why;
	if (why >= 0) {
		rc = 0;
		goto out;
	}
	if (str_to(o, "sid", a->sid, RECLOG_SID_LEN, RECLOG_SID_LEN) != 0 ||
	    !sid_valid(a->sid, RECLOG_SID_LEN) ||
	    rooms_of(json_object_get(o, "rooms"), a) != 0 ||
	    frames_of(json_object_get(o, "frames"), max, a) != 0)
		goto out;
	rc = 0;
out:
	json_decref(o);
	if (rc != 0) {
		recwire_ans_free(a);
		memset(a, 0, sizeof(*a));
	}
	return rc;
}

void
recwire_ans_free(struct recwire_ans *a)
{
	size_t	i;

	for (i = 0; i < a->n; i++)
		free(a->f[i]);
	free(a->f);
	free(a->flen);
	a->f = NULL;
	a->flen = NULL;
	a->n = 0;
}
