/*
 * grouplist: a token's `groups` claim as a sorted set (grouplist.h).  One
 * allocation holds the pointers and the ids, so a socket's list costs one
 * free and a check one binary search.
 */
#include <stdlib.h>
#include <string.h>

#include "grouplist.h"
#include "roomname.h"

static int	cmp(const void *, const void *);

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The list from a JSON array of ids, keeping at most max of them in the
 * array's order; *claimed says how many valid ids the array had (more
 * than the list's n: some were left out).  Entries that are not valid ids
 * are skipped.  NULL when v is not an array or out of memory.
 */
struct grouplist *
grouplist_from_json(const json_t *v, size_t max, size_t *claimed)
{
	struct grouplist	*l;
	const json_t		*e;
	size_t			 i, n = 0, bytes = 0, len;
	char			*p;

	*claimed = 0;
	if (!json_is_array(v))
		return NULL;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || !roomname_id_valid(
		    json_string_value(e), json_string_length(e)))
			continue;
		(*claimed)++;
		if (n < max) {
			n++;
			bytes += json_string_length(e) + 1;
		}
	}
	if ((l = malloc(sizeof(*l) + n * sizeof(char *) + bytes)) == NULL)
		return NULL;
	l->v = (char **)(void *)(l + 1);
	p = (char *)(l->v + n);
	l->n = 0;
	json_array_foreach(v, i, e) {
		if (l->n == n)
			break;
		if (!json_is_string(e) || !roomname_id_valid(
		    json_string_value(e), json_string_length(e)))
			continue;
		len = json_string_length(e);
		memcpy(p, json_string_value(e), len + 1);
		l->v[l->n++] = p;
		p += len + 1;
	}
	qsort(l->v, l->n, sizeof(char *), cmp);
	/* Duplicates out: they are neighbours now. */
	for (i = n = 0; i < l->n; i++)
		if (n == 0 || strcmp(l->v[n - 1], l->v[i]) != 0)
			l->v[n++] = l->v[i];
	l->n = n;
	return l;
}

/* Is the id g (glen bytes, not NUL-terminated) in the list? */
bool
grouplist_has(const struct grouplist *l, const char *g, size_t glen)
{
	size_t	lo = 0, hi, mid;
	int	c;

	if (l == NULL)
		return false;
	for (hi = l->n; lo < hi; ) {
		mid = lo + (hi - lo) / 2;
		c = strncmp(l->v[mid], g, glen);
		if (c == 0)
			c = l->v[mid][glen] == '\0' ? 0 : 1;
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

void
grouplist_free(struct grouplist *l)
{
	free(l);
}
