/*
 * evscan: the name and first argument of a Socket.IO event, picked out of
 * its JSON text by an observer of jsonlimit's scan (evscan.h).  Pure: no
 * I/O, no logging, no allocation.
 */
#include <string.h>

#include "evscan.h"

static void	 tell(void *, const struct jsonlimit_token *);
static void	 keep(struct evscan_value *, const struct jsonlimit_token *);

static void
keep(struct evscan_value *v, const struct jsonlimit_token *t)
{
	v->type = t->type;
	v->start = t->start;
	v->end = t->end;
	v->len = t->len;
	v->flags = t->flags;
}

/*
 * Depth 0 is the payload, depth 1 its elements, depth 2 the members of
 * element 1 when it is an object (a close token carries its container's
 * depth, and completes that container's span).
 */
static void
tell(void *arg, const struct jsonlimit_token *t)
{
	struct evscan		*ev = arg;
	struct evscan_member	*m;
	bool			 inarg;

	if (t->depth == 0) {
		if (t->type == JSONLIMIT_T_ARRAY)
			ev->array = true;
		return;
	}
	if (!ev->array)
		return;		/* not an event: nothing to pick */
	if (t->depth == 1) {
		if (t->type == JSONLIMIT_T_CLOSE) {
			if (ev->nelems == 1)
				ev->name.end = t->end;
			else if (ev->nelems == 2)
				ev->arg.end = t->end;
			return;
		}
		if (ev->nelems == 0)
			keep(&ev->name, t);
		else if (ev->nelems == 1)
			keep(&ev->arg, t);
		ev->nelems++;
		return;
	}
	/* Depth 2: only the members of an object in element 1, while open. */
	inarg = ev->nelems == 2 && ev->arg.type == JSONLIMIT_T_OBJECT &&
	    ev->arg.end == ev->arg.start;
	if (!inarg)
		return;
	if (t->type == JSONLIMIT_T_KEY) {
		if (ev->nmembers < EVSCAN_MEMBERS)
			keep(&ev->member[ev->nmembers].key, t);
		ev->nmembers++;
		return;
	}
	if (ev->nmembers == 0 || ev->nmembers > EVSCAN_MEMBERS)
		return;
	m = &ev->member[ev->nmembers - 1];
	if (t->type == JSONLIMIT_T_CLOSE)
		m->value.end = t->end;
	else
		keep(&m->value, t);
}

/*
 * Scan buf (len bytes) within lim, as jsonlimit_scan() does, filling ev.
 * Returns its result (0 or a JSONLIMIT_ERR_*); ev is meaningful on 0.
 */
int
evscan_scan(const char *buf, size_t len, const struct jsonlimit *lim,
    struct evscan *ev)
{
	struct jsonlimit_obs	 obs = { 2, tell, ev };
	struct jsonlimit_stat	 st;
	int			 rc;

	ev->array = false;
	ev->nelems = 0;
	ev->nmembers = 0;
	memset(&ev->name, 0, sizeof(ev->name));
	memset(&ev->arg, 0, sizeof(ev->arg));
	rc = jsonlimit_scan_obs(buf, len, lim, &st, &obs);
	ev->numbers = st.numbers;
	return (rc);
}

/* Is v the string s (n bytes), written without escapes? */
bool
evscan_is(const struct evscan_value *v, const char *s, size_t n)
{
	return (v->type == JSONLIMIT_T_STRING && v->flags == 0 &&
	    (size_t)(v->end - v->start) == n + 2 &&
	    memcmp(v->start + 1, s, n) == 0);
}
