/*
 * jsonwrite: a writer that formats a json_t the way JavaScript's
 * JSON.stringify() does (the reader and its limits are jsonlimit.c).
 * Pure: no I/O, no logging.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bw.h"
#include "jsonlimit.h"
#include "jsonwrite.h"

static void	put_string(struct bw *, const char *, size_t);
static void	put_real(struct bw *, double);
static void	put_digits(struct bw *, const char *, int, int);
static int	dump_value(struct bw *, const json_t *, unsigned);

/*
 * A quoted string, escaped as JSON.stringify() does: ", \ and the C0
 * controls, with \b \f \n \r \t short forms and lower-case \u00xx.
 * Malformed UTF-8 becomes U+FFFD, so the output is always valid UTF-8 (a
 * WebSocket text frame must be).
 */
static void
put_string(struct bw *o, const char *str, size_t n)
{
	const unsigned char	*p = (const unsigned char *)str;
	const unsigned char	*run, *end = p + n;
	static const char	 hex[] = "0123456789abcdef";
	char			 esc[6];
	size_t			 len;

	bw_append(o, "\"", 1);
	run = p;
	while (p < end) {
		if (*p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0x80 && (len = jsonlimit_utf8_len(p, (size_t)(end - p))) != 0) {
			p += len;
			continue;
		}
		bw_append(o, (const char *)run, (size_t)(p - run));
		if (*p >= 0x80)
			bw_append(o, "\xef\xbf\xbd", 3);
		else if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			bw_append(o, esc, 2);
		} else if (*p == '\b')
			bw_append(o, "\\b", 2);
		else if (*p == '\f')
			bw_append(o, "\\f", 2);
		else if (*p == '\n')
			bw_append(o, "\\n", 2);
		else if (*p == '\r')
			bw_append(o, "\\r", 2);
		else if (*p == '\t')
			bw_append(o, "\\t", 2);
		else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 0xf];
			bw_append(o, esc, 6);
		}
		run = ++p;
	}
	bw_append(o, (const char *)run, (size_t)(p - run));
	bw_append(o, "\"", 1);
}

/*
 * A double as ECMAScript's Number::toString: the shortest digits that read
 * back to the same value, plain notation for exponents -7 < e < 21, else
 * d.ddde+x.  jansson's own %.17g would turn 0.1 into 0.10000000000000001.
 */
static void
put_real(struct bw *o, double d)
{
	char	 buf[40], digits[20];
	char	*e;
	int	 prec, k, exp10;
	size_t	 i;

	if (d == 0 || !isfinite(d)) {
		bw_append(o, d == 0 ? "0" : "null", d == 0 ? 1 : 4);
		return;
	}
	/*
	 * A normal double holds more than 15 digits, so if a shorter form
	 * reads back, %.14e finds it (and trailing zeros go below).  A
	 * subnormal one holds fewer: search from one digit up.
	 */
	for (prec = fabs(d) < DBL_MIN ? 1 : 15; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (prec == 17)
		snprintf(buf, sizeof(buf), "%.16e", d);
	if ((e = strchr(buf, 'e')) == NULL)
		return;
	exp10 = atoi(e + 1);
	k = 0;
	for (i = 0; buf + i < e; i++) {
		if (buf[i] >= '0' && buf[i] <= '9')
			digits[k++] = buf[i];
	}
	while (k > 1 && digits[k - 1] == '0')
		k--;
	if (d < 0)
		bw_append(o, "-", 1);
	put_digits(o, digits, k, exp10 + 1);
}

/* Lay out k significant digits with decimal exponent n (JS rules). */
static void
put_digits(struct bw *o, const char *digits, int k, int n)
{
	char	 buf[16];
	int	 i, exp10 = n - 1;

	if (k <= n && n <= 21) {
		bw_append(o, digits, (size_t)k);
		for (i = k; i < n; i++)
			bw_append(o, "0", 1);
	} else if (0 < n && n <= 21) {
		bw_append(o, digits, (size_t)n);
		bw_append(o, ".", 1);
		bw_append(o, digits + n, (size_t)(k - n));
	} else if (-6 < n && n <= 0) {
		bw_append(o, "0.", 2);
		for (i = n; i < 0; i++)
			bw_append(o, "0", 1);
		bw_append(o, digits, (size_t)k);
	} else {
		bw_append(o, digits, 1);
		if (k > 1) {
			bw_append(o, ".", 1);
			bw_append(o, digits + 1, (size_t)(k - 1));
		}
		snprintf(buf, sizeof(buf), "e%c%d", exp10 < 0 ? '-' : '+',
		    exp10 < 0 ? -exp10 : exp10);
		bw_append(o, buf, strlen(buf));
	}
}

/* One value, recursively; depth guards against cycles. */
static int
dump_value(struct bw *o, const json_t *j, unsigned depth)
{
	char		 buf[32];
	const char	*key;
	json_t		*v;
	size_t		 i;
	int		 first = 1;

	if (j == NULL || depth > JSONLIMIT_DEPTH_MAX)
		return (-1);
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		bw_append(o, "{", 1);
		json_object_foreach((json_t *)j, key, v) {
			if (!first)
				bw_append(o, ",", 1);
			first = 0;
			put_string(o, key, strlen(key));
			bw_append(o, ":", 1);
			if (dump_value(o, v, depth + 1) != 0)
				return (-1);
		}
		bw_append(o, "}", 1);
		return (0);
	case JSON_ARRAY:
		bw_append(o, "[", 1);
		json_array_foreach(j, i, v) {
			if (i > 0)
				bw_append(o, ",", 1);
			if (dump_value(o, v, depth + 1) != 0)
				return (-1);
		}
		bw_append(o, "]", 1);
		return (0);
	case JSON_STRING:
		put_string(o, json_string_value(j), json_string_length(j));
		return (0);
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(j));
		bw_append(o, buf, strlen(buf));
		return (0);
	case JSON_REAL:
		put_real(o, json_real_value(j));
		return (0);
	case JSON_TRUE:
		bw_append(o, "true", 4);
		return (0);
	case JSON_FALSE:
		bw_append(o, "false", 5);
		return (0);
	case JSON_NULL:
		bw_append(o, "null", 4);
		return (0);
	}
	return (-1);
}

/*
 * Write j as JSON.stringify(j) would, into out (at most cap bytes, then a
 * NUL if there is room).  Returns the full length, so a result >= cap means
 * "call again with a bigger buffer"; 0 means j is not dumpable (NULL, or
 * nested beyond JSONLIMIT_DEPTH_MAX, e.g. a cycle).
 */
size_t
jsonwrite_dump(const json_t *j, char *out, size_t cap)
{
	struct bw	 o;

	bw_init(&o, out, cap);
	if (dump_value(&o, j, 0) != 0)
		return (0);
	return (bw_finish(&o));
}

/* A JSON string literal for n bytes of str, as jsonwrite_dump() writes it. */
size_t
jsonwrite_string(const char *str, size_t n, char *out, size_t cap)
{
	struct bw	 o;

	bw_init(&o, out, cap);
	put_string(&o, str, n);
	return (bw_finish(&o));
}
