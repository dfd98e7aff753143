/*
 * sior_js: JavaScript's rules on a jansson tree (sior_js.h), so that a
 * tree we read from a peer, or parse from a client, is the object a
 * Node.js peer holds for the same bytes, and is written the same.
 * Pure: no I/O, no logging.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonlimit.h"
#include "sior_js.h"

#define SAFE_INT	9007199254740991LL	/* 2^53 - 1 */
#define DATE_MAX	8.64e15			/* ms either side of 1970 */

static int	 fix(json_t *, const json_t *, unsigned);
static int	 fix_object(json_t *, const json_t *, unsigned);
static int	 reorder(json_t *);
static bool	 index_key(const char *, uint32_t *);
static int	 cmp_index(const void *, const void *);
static void	 walk(json_t *, const struct sior_tree *, struct sior_str *,
		    unsigned *, unsigned);

/*
 * JSON text as JSON.parse() reads it: within our bounds (jsonlimit), every
 * number a double (1 and 1.0 are one number, 2^53+1 rounds, and integers
 * past 2^63 load), then sior_js_fix().  0, or -1.
 */
int
sior_js_load(const char *buf, size_t len, unsigned depth, json_t **out)
{
	struct jsonlimit	 jl;
	json_error_t		 err;

	*out = NULL;
	memset(&jl, 0, sizeof(jl));
	jl.max_bytes = SIOR_MSG_MAX;
	jl.max_depth = depth;
	jl.max_elements = SIOR_ELEMENTS_MAX;
	jl.flags = JSONLIMIT_ALLOW_NUL;
	if (jsonlimit_scan(buf, len, &jl, NULL) != JSONLIMIT_OK ||
	    (*out = json_loadb(buf, len, JSON_DECODE_ANY | JSON_ALLOW_NUL |
	    JSON_DECODE_INT_AS_REAL, &err)) == NULL)
		return (-1);
	if (sior_js_fix(*out, NULL) != 0) {
		json_decref(*out);
		*out = NULL;
		return (-1);
	}
	return (0);
}

/*
 * What JSON.parse() or notepack's decode() would leave, from a tree
 * jansson or sior_unpack() built: undef (may be NULL) dropped from
 * objects and null in arrays, as JSON.stringify() does; integer-like
 * keys first, ascending, as in every JS object.  0, or -1 (no memory).
 */
int
sior_js_fix(json_t *j, const json_t *undef)
{
	return (fix(j, undef, 0));
}

static int
fix(json_t *j, const json_t *undef, unsigned depth)
{
	json_t	*v;
	size_t	 i;

	if (depth > SIOR_DEPTH_MAX + 1)
		return (-1);
	if (json_is_object(j))
		return (fix_object(j, undef, depth));
	if (!json_is_array(j))
		return (0);
	json_array_foreach(j, i, v) {
		if (v == undef) {
			if (json_array_set_new(j, i, json_null()) != 0)
				return (-1);
			continue;
		}
		if (fix(v, undef, depth + 1) != 0)
			return (-1);
	}
	return (0);
}

static int
fix_object(json_t *j, const json_t *undef, unsigned depth)
{
	const char	*key;
	json_t		*v;
	void		*tmp;
	bool		 index = false;
	uint32_t	 u;

	json_object_foreach_safe(j, tmp, key, v) {
		if (v == undef) {
			json_object_del(j, key);
			continue;
		}
		index = index || index_key(key, &u);
		if (fix(v, undef, depth + 1) != 0)
			return (-1);
	}
	return (index ? reorder(j) : 0);
}

/* An array index as a property key: "0" or [1-9][0-9]*, below 2^32-1. */
static bool
index_key(const char *k, uint32_t *u)
{
	uint64_t	 v = 0;
	const char	*p;

	if (k[0] == '\0' || (k[0] == '0' && k[1] != '\0'))
		return (false);
	for (p = k; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return (false);
		v = v * 10 + (uint64_t)(*p - '0');
		if (v >= 4294967295u)
			return (false);
	}
	*u = (uint32_t)v;
	return (true);
}

struct ikey {
	uint32_t	 n;
	const char	*key;
	json_t		*v;
};

static int
cmp_index(const void *a, const void *b)
{
	const struct ikey	*x = a, *y = b;

	return (x->n < y->n ? -1 : x->n > y->n);
}

/* Rebuild j in JS property order: index keys ascending, then the rest. */
static int
reorder(json_t *j)
{
	struct ikey	*keys;
	const char	*key;
	json_t		*v, *out;
	size_t		 n = 0, i;
	uint32_t	 u;
	int		 rc = -1;

	if ((keys = calloc(json_object_size(j), sizeof(*keys))) == NULL ||
	    (out = json_object()) == NULL) {
		free(keys);
		return (-1);
	}
	json_object_foreach(j, key, v) {
		if (index_key(key, &keys[n].n)) {
			keys[n].key = key;
			keys[n++].v = v;
		}
	}
	qsort(keys, n, sizeof(*keys), cmp_index);
	for (i = 0; i < n; i++) {
		if (json_object_set(out, keys[i].key, keys[i].v) != 0)
			goto done;
	}
	json_object_foreach(j, key, v) {
		if (!index_key(key, &u) && json_object_set(out, key, v) != 0)
			goto done;
	}
	json_object_clear(j);
	rc = json_object_update(j, out);
done:
	free(keys);
	json_decref(out);
	return (rc);
}

/* JavaScript's ToBoolean(). */
bool
sior_js_truthy(const json_t *j)
{
	if (j == NULL)
		return (false);		/* undefined */
	switch (json_typeof(j)) {
	case JSON_TRUE:
	case JSON_OBJECT:
	case JSON_ARRAY:
		return (true);
	case JSON_STRING:
		return (json_string_length(j) != 0);
	case JSON_INTEGER:
		return (json_integer_value(j) != 0);
	case JSON_REAL:
		return (json_real_value(j) != 0);	/* NaN is null */
	default:
		return (false);
	}
}

/* A number with an integral value (1 and 1.0 are one number in JS). */
bool
sior_js_int(const json_t *j, int64_t *v)
{
	double	 d;

	if (json_is_integer(j)) {
		*v = json_integer_value(j);
		return (true);
	}
	if (!json_is_real(j))
		return (false);
	d = json_real_value(j);
	if (d != floor(d) || fabs(d) > (double)SAFE_INT)
		return (false);
	*v = (int64_t)d;
	return (true);
}

/*
 * new Date(ms).toISOString(): TimeClip() truncates, and a year outside
 * 0..9999 is written with a sign and six digits.  -1: an invalid date
 * (toJSON() gives null).  cap must hold 28 bytes.
 */
int
sior_js_date(double ms, char *buf, size_t cap)
{
	int64_t		 t, days, msday, z, era, doe, yoe, y, doy, mp, m, d;

	if (!isfinite(ms) || fabs(ms) > DATE_MAX || cap < 28)
		return (-1);
	t = (int64_t)trunc(ms);
	days = t >= 0 ? t / 86400000 : -((-t + 86399999) / 86400000);
	msday = t - days * 86400000;
	/* Howard Hinnant's civil_from_days(). */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	if (y >= 0 && y <= 9999)
		snprintf(buf, cap, "%04lld", (long long)y);
	else
		snprintf(buf, cap, "%c%06lld", y < 0 ? '-' : '+',
		    (long long)(y < 0 ? -y : y));
	snprintf(buf + strlen(buf), cap - strlen(buf),
	    "-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ", (long long)m,
	    (long long)d, (long long)(msday / 3600000),
	    (long long)(msday / 60000 % 60), (long long)(msday / 1000 % 60),
	    (long long)(msday % 1000));
	return (0);
}

/*
 * Number the binaries of data in the order socket.io-parser's
 * deconstructPacket() meets them (depth first, keys in property order),
 * each becoming {"_placeholder":true,"num":k} with att[k] its bytes.
 */
void
sior_js_placeholders(json_t *data, const struct sior_tree *t,
    struct sior_str *att, unsigned *natt)
{
	*natt = 0;
	if (t != NULL && t->nbins > 0)
		walk(data, t, att, natt, 0);
}

static void
walk(json_t *j, const struct sior_tree *t, struct sior_str *att,
    unsigned *natt, unsigned depth)
{
	const char	*key;
	json_t		*v;
	size_t		 i;
	unsigned	 k;

	if (depth > SIOR_DEPTH_MAX + 1)
		return;
	for (k = 0; k < t->nbins; k++) {
		if (t->bins[k] != j)
			continue;
		if (*natt < SIOR_ATT_MAX &&
		    json_object_set_new(j, "_placeholder", json_true()) == 0 &&
		    json_object_set_new(j, "num", json_integer(*natt)) == 0) {
			att[*natt].p = (const char *)t->binp[k];
			att[*natt].len = t->binlen[k];
			(*natt)++;
		}
		return;
	}
	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			walk(v, t, att, natt, depth + 1);
	} else if (json_is_object(j)) {
		json_object_foreach(j, key, v)
			walk(v, t, att, natt, depth + 1);
	}
}
