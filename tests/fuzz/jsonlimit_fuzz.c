/*
 * libFuzzer harness for jsonlimit.c.  The first byte picks the limits, the
 * rest is JSON text.  Checked, beyond memory safety:
 *  - with no limits of ours, the scan and jansson agree on what is JSON
 *    (jansson may still refuse a number beyond its range, and it takes a
 *    few texts with raw NUL bytes that the scan rightly refuses);
 *  - a limited scan refuses exactly when the text exceeds a limit;
 *  - jsonwrite_dump() output reads back to an equal value, and a short
 *    buffer is never overrun.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonlimit.h"
#include "jsonwrite.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	same(const json_t *, const json_t *);
static void	check_dump(const json_t *);

/* json_equal(), but 1 and 1.0 are the same number (as in JavaScript). */
static int
same(const json_t *a, const json_t *b)
{
	const char	*key;
	json_t		*v;
	size_t		 i;

	if (json_is_number(a) && json_is_number(b))
		return (json_number_value(a) == json_number_value(b) &&
		    (!json_is_integer(a) || !json_is_integer(b) ||
		    json_integer_value(a) == json_integer_value(b)));
	if (json_typeof(a) != json_typeof(b))
		return (0);
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return (0);
		json_array_foreach(a, i, v) {
			if (!same(v, json_array_get(b, i)))
				return (0);
		}
		return (1);
	}
	if (json_is_object(a)) {
		if (json_object_size(a) != json_object_size(b))
			return (0);
		json_object_foreach((json_t *)a, key, v) {
			if (json_object_get(b, key) == NULL ||
			    !same(v, json_object_get(b, key)))
				return (0);
		}
		return (1);
	}
	return (json_equal(a, b));
}

static void
check_dump(const json_t *j)
{
	struct jsonlimit	 lim = { 0, 0, 0, JSONLIMIT_ALLOW_NUL };
	json_t			*back;
	char			*buf;
	size_t			 n, m;

	n = jsonwrite_dump(j, NULL, 0);
	if (n == 0)
		abort();
	if ((buf = malloc(n)) == NULL)
		return;
	/* Exactly n bytes: no room for the NUL, nothing written past. */
	if (jsonwrite_dump(j, buf, n) != n)
		abort();
	m = n / 2;
	if (jsonwrite_dump(j, buf, m) != n)
		abort();
	jsonwrite_dump(j, buf, n);
	if (jsonlimit_scan(buf, n, &lim, NULL) != JSONLIMIT_OK)
		abort();
	/* 1e20 is written 100000000000000000000, as JS does: int64 or not. */
	back = json_loadb(buf, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (back == NULL)
		back = json_loadb(buf, n, JSON_DECODE_ANY | JSON_ALLOW_NUL |
		    JSON_DECODE_INT_AS_REAL, NULL);
	if (back == NULL)
		abort();
	if (!same(j, back))
		abort();
	json_decref(back);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsonlimit	 lim, none;
	struct jsonlimit_stat	 st, full;
	json_error_t		 err;
	json_t			*j;
	const char		*text;
	size_t			 n, jflags = JSON_DECODE_ANY;
	int			 rc, rcfull;

	if (size < 1)
		return (0);
	memset(&lim, 0, sizeof(lim));
	lim.max_depth = data[0] & 0x7;
	lim.max_elements = (data[0] >> 3) & 0xf;
	lim.flags = (data[0] & 0x80) ? JSONLIMIT_ALLOW_NUL : 0;
	if (lim.flags & JSONLIMIT_ALLOW_NUL)
		jflags |= JSON_ALLOW_NUL;
	text = (const char *)data + 1;
	n = size - 1;
	none = lim;
	none.max_depth = 0;
	none.max_elements = 0;

	rc = jsonlimit_scan(text, n, &lim, &st);
	rcfull = jsonlimit_scan(text, n, &none, &full);
	j = json_loadb(text, n, jflags, &err);

	/* Our grammar and jansson's agree. */
	if (rcfull == JSONLIMIT_OK && j == NULL &&
	    json_error_code(&err) != json_error_numeric_overflow)
		abort();
	/* jansson takes some raw NUL bytes ("[1\0]"); JSON does not. */
	if (rcfull != JSONLIMIT_OK && j != NULL && memchr(text, 0, n) == NULL)
		abort();

	/* Limits refuse exactly what exceeds them. */
	if (rcfull == JSONLIMIT_OK) {
		if (rc == JSONLIMIT_OK && ((lim.max_depth != 0 &&
		    full.depth > lim.max_depth) || (lim.max_elements != 0 &&
		    full.elements > lim.max_elements)))
			abort();
		if (rc == JSONLIMIT_ERR_DEPTH && (lim.max_depth == 0 ||
		    full.depth <= lim.max_depth))
			abort();
		if (rc == JSONLIMIT_ERR_ELEMENTS && (lim.max_elements == 0 ||
		    full.elements <= lim.max_elements))
			abort();
		if (rc != JSONLIMIT_OK && rc != JSONLIMIT_ERR_DEPTH &&
		    rc != JSONLIMIT_ERR_ELEMENTS)
			abort();
	}
	if (j != NULL) {
		check_dump(j);
		json_decref(j);
	}
	return (0);
}
