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

#include "jsonlimit.h"
#include "jsonwrite.h"

/* The caller's buffer: cap bytes at buf, len counts what was asked for. */
struct out {
	char			*buf;
	size_t			 cap;
	size_t			 len;
};

static void	put(struct out *, const char *, size_t);
static void	put_string(struct out *, const char *, size_t);
static void	put_real(struct out *, double);
static void	put_digits(struct out *, const char *, int, int);
static int	dump_value(struct out *, const json_t *, unsigned);

/* Append n bytes; what does not fit is counted, not written. */
static void
put(struct out *o, const char *s, size_t n)
{
	size_t	 room;

	if (o->len < o->cap) {
		room = o->cap - o->len;
		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

/*
 * A quoted string, escaped as JSON.stringify() does: ", \ and the C0
 * controls, with \b \f \n \r \t short forms and lower-case \u00xx.
 * Malformed UTF-8 becomes U+FFFD, so the output is always valid UTF-8 (a
 * WebSocket text frame must be).
 */
static void
put_string(struct out *o, const char *str, size_t n)
{
	const unsigned char	*p = (const unsigned char *)str;
	const unsigned char	*run, *end = p + n;
	static const char	 hex[] = "0123456789abcdef";
	char			 esc[6];
	size_t			 len;

	put(o, "\"", 1);
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
		put(o, (const char *)run, (size_t)(p - run));
		if (*p >= 0x80)
			put(o, "\xef\xbf\xbd", 3);
		else if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(o, esc, 2);
		} else if (*p == '\b')
			put(o, "\\b", 2);
		else if (*p == '\f')
			put(o, "\\f", 2);
		else if (*p == '\n')
			put(o, "\\n", 2);
		else if (*p == '\r')
			put(o, "\\r", 2);
		else if (*p == '\t')
			put(o, "\\t", 2);
		else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 0xf];
			put(o, esc, 6);
		}
		run = ++p;
	}
	put(o, (const char *)run, (size_t)(p - run));
	put(o, "\"", 1);
}

/*
 * A double as ECMAScript's Number::toString: the shortest digits that read
 * back to the same value, plain notation for exponents -7 < e < 21, else
 * d.ddde+x.  jansson's own %.17g would turn 0.1 into 0.10000000000000001.
 */
static void
put_real(struct out *o, double d)
{
	char	 buf[40], digits[20];
	char	*e;
	int	 prec, k, exp10;
	size_t	 i;

	if (d == 0 || !isfinite(d)) {
		put(o, d == 0 ? "0" : "null", d == 0 ? 1 : 4);
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
		put(o, "-", 1);
	put_digits(o, digits, k, exp10 + 1);
}

/* Lay out k significant digits with decimal exponent n (JS rules). */
static void
put_digits(struct out *o, const char *digits, int k, int n)
{
	char	 buf[16];
	int	 i, exp10 = n - 1;

	if (k <= n && n <= 21) {
		put(o, digits, (size_t)k);
		for (i = k; i < n; i++)
			put(o, "0", 1);
	} else if (0 < n && n <= 21) {
		put(o, digits, (size_t)n);
		put(o, ".", 1);
		put(o, digits + n, (size_t)(k - n));
	} else if (-6 < n && n <= 0) {
		put(o, "0.", 2);
		for (i = n; i < 0; i++)
			put(o, "0", 1);
		put(o, digits, (size_t)k);
	} else {
		put(o, digits, 1);
		if (k > 1) {
			put(o, ".", 1);
			put(o, digits + 1, (size_t)(k - 1));
		}
		snprintf(buf, sizeof(buf), "e%c%d", exp10 < 0 ? '-' : '+',
		    exp10 < 0 ? -exp10 : exp10);
		put(o, buf, strlen(buf));
	}
}

/* One value, recursively; depth guards against cycles. */
static int
dump_value(struct out *o, const json_t *j, unsigned depth)
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
		put(o, "{", 1);
		json_object_foreach((json_t *)j, key, v) {
			if (!first)
				put(o, ",", 1);
			first = 0;
			put_string(o, key, strlen(key));
			put(o, ":", 1);
			if (dump_value(o, v, depth + 1) != 0)
				return (-1);
		}
		put(o, "}", 1);
		return (0);
	case JSON_ARRAY:
		put(o, "[", 1);
		json_array_foreach(j, i, v) {
			if (i > 0)
				put(o, ",", 1);
			if (dump_value(o, v, depth + 1) != 0)
				return (-1);
		}
		put(o, "]", 1);
		return (0);
	case JSON_STRING:
		put_string(o, json_string_value(j), json_string_length(j));
		return (0);
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(j));
		put(o, buf, strlen(buf));
		return (0);
	case JSON_REAL:
		put_real(o, json_real_value(j));
		return (0);
	case JSON_TRUE:
		put(o, "true", 4);
		return (0);
	case JSON_FALSE:
		put(o, "false", 5);
		return (0);
	case JSON_NULL:
		put(o, "null", 4);
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
	struct out	 o = { out, cap, 0 };

	if (out == NULL)
		o.cap = 0;
	if (dump_value(&o, j, 0) != 0)
		return (0);
	if (o.len < o.cap)
		out[o.len] = '\0';
	return (o.len);
}

/* A JSON string literal for n bytes of str, as jsonwrite_dump() writes it. */
size_t
jsonwrite_string(const char *str, size_t n, char *out, size_t cap)
{
	struct out	 o = { out, cap, 0 };

	if (out == NULL)
		o.cap = 0;
	put_string(&o, str, n);
	if (o.len < o.cap)
		out[o.len] = '\0';
	return (o.len);
}
