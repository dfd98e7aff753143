/*
 * sior_unpack: msgpack bytes to a jansson tree, read as notepack.io 3.0's
 * decode() reads them and then as JavaScript holds the result (sior_js.h).
 * Pure: no I/O, no logging.
 *
 * Not msgpack-c's unpacker: it allocates an array from its declared count
 * before reading one element (5 bytes can ask for 4G elements) and its
 * fixed stack makes a deep message a memory error.  This reader takes
 * nothing on trust: a count is checked against the bytes left, depth and
 * elements are bounded, trailing bytes are refused (as notepack does).
 *
 * What notepack gives, and what it becomes here:
 *  - ints beyond 2^53 are doubles in JS: a real here;
 *  - float32/float64: a real, NaN and Infinity null (JSON.stringify);
 *  - str: invalid UTF-8 becomes U+FFFD per maximal subpart, as Node's
 *    Buffer.toString() does;
 *  - bin, and ext type 0 of variable length (ArrayBuffer): binaries;
 *  - fixext 1 type 0: undefined; timestamps (ext -1) and fixext 8 type 0:
 *    a Date, written as its toISOString() (null when invalid);
 *  - other ext: [type, <binary>];
 *  - map keys: strings, or integers as their decimal text; "__proto__"
 *    sets a prototype in JS, not a property: dropped.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "jsonlimit.h"
#include "sior_js.h"

#define SAFE_INT	9007199254740991.0	/* 2^53 - 1 */

struct rd {
	const uint8_t		*p;
	const uint8_t		*end;
	size_t			 elements;
	struct sior_tree	*t;
};

static json_t	*value(struct rd *, unsigned);
static json_t	*container(struct rd *, uint8_t, unsigned);
static json_t	*ext(struct rd *, uint8_t, unsigned);
static json_t	*map(struct rd *, size_t, unsigned);
static json_t	*array(struct rd *, size_t, unsigned);
static json_t	*str(struct rd *, size_t);
static json_t	*bin(struct rd *, size_t);
static json_t	*date(double);
static json_t	*number(uint64_t, bool);
static int	 take(struct rd *, size_t, uint64_t *);
static size_t	 utf8_fix(const uint8_t *, size_t, char *);

/*
 * Read the whole of buf into t (t->root); 0, or -1 for bytes notepack
 * would refuse or that pass our bounds (t then holds nothing).
 */
int
sior_unpack(const uint8_t *buf, size_t len, struct sior_tree *t)
{
	struct rd	 r;

	memset(t, 0, sizeof(*t));
	if ((t->undef = json_object()) == NULL)
		return (-1);
	r.p = buf;
	r.end = buf + len;
	r.elements = 0;
	r.t = t;
	t->root = value(&r, 0);
	if (t->root == NULL || r.p != r.end) {
		sior_tree_free(t);
		return (-1);
	}
	return (0);
}

void
sior_tree_free(struct sior_tree *t)
{
	unsigned	 i;

	json_decref(t->root);
	json_decref(t->undef);
	for (i = 0; i < t->nbins; i++)
		json_decref(t->bins[i]);
	memset(t, 0, sizeof(*t));
}

/* n big-endian bytes (1, 2, 4 or 8) into *v. */
static int
take(struct rd *r, size_t n, uint64_t *v)
{
	size_t	 i;

	if ((size_t)(r->end - r->p) < n)
		return (-1);
	*v = 0;
	for (i = 0; i < n; i++)
		*v = *v << 8 | r->p[i];
	r->p += n;
	return (0);
}

/* A JS number from a msgpack integer: exact up to 2^53, else rounded. */
static json_t *
number(uint64_t u, bool neg)
{
	int64_t	 v = (int64_t)u;

	if (!neg)
		return (u <= (uint64_t)SAFE_INT ? json_integer((json_int_t)u) :
		    json_real((double)u));
	return (v >= -(int64_t)SAFE_INT ? json_integer(v) :
	    json_real((double)v));
}

static json_t *
value(struct rd *r, unsigned depth)
{
	uint64_t	 v;
	uint8_t		 c;
	float		 f;
	double		 d;
	uint32_t	 u32;

	if (depth > SIOR_DEPTH_MAX || ++r->elements > SIOR_ELEMENTS_MAX ||
	    r->p == r->end)
		return (NULL);
	c = *r->p++;
	if (c < 0x80)
		return (json_integer(c));
	if (c >= 0xe0)
		return (json_integer((int8_t)c));
	if (c < 0xc0 || (c >= 0xd9 && c <= 0xdf) || (c >= 0xc4 && c <= 0xc6))
		return (container(r, c, depth));
	if ((c >= 0xc7 && c <= 0xc9) || (c >= 0xd4 && c <= 0xd8))
		return (ext(r, c, depth));
	switch (c) {
	case 0xc0:
		return (json_null());
	case 0xc2:
		return (json_false());
	case 0xc3:
		return (json_true());
	case 0xca:
		if (take(r, 4, &v) != 0)
			return (NULL);
		u32 = (uint32_t)v;
		memcpy(&f, &u32, sizeof(f));
		d = f;
		return (isfinite(d) ? json_real(d) : json_null());
	case 0xcb:
		if (take(r, 8, &v) != 0)
			return (NULL);
		memcpy(&d, &v, sizeof(d));
		return (isfinite(d) ? json_real(d) : json_null());
	case 0xcc: case 0xcd: case 0xce: case 0xcf:
		if (take(r, (size_t)1 << (c - 0xcc), &v) != 0)
			return (NULL);
		return (number(v, false));
	case 0xd0: case 0xd1: case 0xd2: case 0xd3:
		if (take(r, (size_t)1 << (c - 0xd0), &v) != 0)
			return (NULL);
		/* Sign-extend from 8 << (c - 0xd0) bits. */
		if (c != 0xd3 && (v >> ((8u << (c - 0xd0)) - 1)) != 0)
			v |= ~(uint64_t)0 << (8u << (c - 0xd0));
		return (number(v, (int64_t)v < 0));
	}
	return (NULL);		/* 0xc1: never used */
}

/* fixmap, fixarray, fixstr, str, bin, array and map. */
static json_t *
container(struct rd *r, uint8_t c, unsigned depth)
{
	uint64_t	 n;

	if (c < 0x90)
		return (map(r, c & 0x0f, depth));
	if (c < 0xa0)
		return (array(r, c & 0x0f, depth));
	if (c < 0xc0)
		return (str(r, c & 0x1f));
	switch (c) {
	case 0xc4: case 0xc5: case 0xc6:
		return (take(r, (size_t)1 << (c - 0xc4), &n) == 0 ?
		    bin(r, n) : NULL);
	case 0xd9: case 0xda: case 0xdb:
		return (take(r, (size_t)1 << (c - 0xd9), &n) == 0 ?
		    str(r, n) : NULL);
	case 0xdc: case 0xdd:
		return (take(r, (size_t)2 << (c - 0xdc), &n) == 0 ?
		    array(r, n, depth) : NULL);
	case 0xde: case 0xdf:
		return (take(r, (size_t)2 << (c - 0xde), &n) == 0 ?
		    map(r, n, depth) : NULL);
	}
	return (NULL);
}

/* The ext family, as notepack's decode() reads each. */
static json_t *
ext(struct rd *r, uint8_t c, unsigned depth)
{
	static const size_t	 fixlen[] = { 1, 2, 4, 8, 16 };
	uint64_t		 n, type, hi = 0, lo = 0;
	json_t			*a;
	bool			 fixed = c >= 0xd4;
	int8_t			 t;

	if (fixed)
		n = fixlen[c - 0xd4];
	else if (take(r, (size_t)1 << (c - 0xc7), &n) != 0)
		return (NULL);
	if (take(r, 1, &type) != 0 || (uint64_t)(r->end - r->p) < n)
		return (NULL);
	t = (int8_t)type;
	if (t == 0 && !fixed)
		return (bin(r, n));			/* ArrayBuffer */
	if (t == 0 && c == 0xd4) {
		r->p += 1;
		return (json_incref(r->t->undef));	/* undefined */
	}
	if (t == -1 && c == 0xd6) {
		take(r, 4, &n);
		return (date((double)n * 1e3));
	}
	if (c == 0xd7 && (t == 0 || t == -1)) {
		take(r, 4, &hi);
		take(r, 4, &lo);
		if (t == 0)
			return (date((double)(int32_t)(uint32_t)hi *
			    4294967296.0 + (double)lo));
		return (date(((double)(hi & 3) * 4294967296.0 +
		    (double)lo) * 1e3 + (double)(hi >> 2) / 1e6));
	}
	if (t == -1 && c == 0xc7) {
		/* timestamp 96: notepack reads 12 bytes, whatever n says */
		if (n != 12)
			return (NULL);
		take(r, 4, &n);
		take(r, 4, &hi);
		take(r, 4, &lo);
		return (date(((double)(int32_t)(uint32_t)hi * 4294967296.0 +
		    (double)lo) * 1e3 + (double)n / 1e6));
	}
	/* [type, Buffer] */
	if (depth + 1 > SIOR_DEPTH_MAX || (a = json_array()) == NULL)
		return (NULL);
	if (json_array_append_new(a, json_integer(t)) != 0 ||
	    json_array_append_new(a, bin(r, n)) != 0) {
		json_decref(a);
		return (NULL);
	}
	return (a);
}

/* A Date as JSON.stringify() writes it: toISOString(), or null. */
static json_t *
date(double ms)
{
	char	 buf[40];

	if (sior_js_date(ms, buf, sizeof(buf)) != 0)
		return (json_null());
	return (json_string(buf));
}

static json_t *
array(struct rd *r, size_t n, unsigned depth)
{
	json_t	*a, *v;
	size_t	 i;

	if (n > (size_t)(r->end - r->p) || (a = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		if ((v = value(r, depth + 1)) == NULL ||
		    json_array_append_new(a, v) != 0) {
			json_decref(a);
			return (NULL);
		}
	}
	return (a);
}

/* value[key] = v (taken), key as ToPropertyKey() makes it; 0 or -1. */
static int
set_member(json_t *o, json_t *k, json_t *v)
{
	char		 buf[24];
	const char	*key;
	size_t		 klen;
	int64_t		 i;

	if (json_is_string(k)) {
		key = json_string_value(k);
		klen = json_string_length(k);
	} else if (json_is_integer(k) && sior_js_int(k, &i)) {
		klen = (size_t)snprintf(buf, sizeof(buf), "%lld",
		    (long long)i);
		key = buf;
	} else {
		json_decref(v);
		return (-1);
	}
	if (memchr(key, '\0', klen) != NULL) {
		json_decref(v);
		return (-1);
	}
	if (klen == 9 && memcmp(key, "__proto__", 9) == 0) {
		json_decref(v);
		return (0);
	}
	return (json_object_setn_new(o, key, klen, v));
}

static json_t *
map(struct rd *r, size_t n, unsigned depth)
{
	json_t	*o, *k, *v;
	size_t	 i;
	int	 rc;

	if (n > (size_t)(r->end - r->p) / 2 || (o = json_object()) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		if ((k = value(r, depth + 1)) == NULL)
			break;
		if ((v = value(r, depth + 1)) == NULL) {
			json_decref(k);
			break;
		}
		rc = set_member(o, k, v);
		json_decref(k);
		if (rc != 0)
			break;
	}
	if (i < n) {
		json_decref(o);
		return (NULL);
	}
	return (o);
}

static json_t *
str(struct rd *r, size_t n)
{
	json_t	*s;
	char	*fixed;

	if (n > (size_t)(r->end - r->p))
		return (NULL);
	if (jsonlimit_utf8_valid((const char *)r->p, n))
		s = json_stringn_nocheck((const char *)r->p, n);
	else {
		/* Each bad byte may become 3 (U+FFFD): at most 3n. */
		if ((fixed = malloc(3 * n)) == NULL)
			return (NULL);
		s = json_stringn_nocheck(fixed, utf8_fix(r->p, n, fixed));
		free(fixed);
	}
	r->p += n;
	return (s);
}

/* A binary: an empty object now, remembered for the placeholders. */
static json_t *
bin(struct rd *r, size_t n)
{
	struct sior_tree	*t = r->t;
	json_t			*o;

	if (n > (size_t)(r->end - r->p) || t->nbins == SIOR_ATT_MAX ||
	    (o = json_object()) == NULL)
		return (NULL);
	t->bins[t->nbins] = json_incref(o);
	t->binp[t->nbins] = r->p;
	t->binlen[t->nbins] = n;
	t->nbins++;
	r->p += n;
	return (o);
}

/*
 * UTF-8 with each maximal ill-formed subpart replaced by U+FFFD (the
 * WHATWG decoder, which Node's Buffer.toString('utf8') follows); out has
 * room for 3n bytes.  Returns the length written.
 */
static size_t
utf8_fix(const uint8_t *p, size_t n, char *out)
{
	size_t		 i = 0, o = 0, need, k;
	uint8_t		 c, lo, hi;

	while (i < n) {
		c = p[i];
		need = 0;
		lo = 0x80;
		hi = 0xbf;
		if (c < 0x80) {
			out[o++] = (char)c;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			lo = c == 0xe0 ? 0xa0 : 0x80;
			hi = c == 0xed ? 0x9f : 0xbf;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			lo = c == 0xf0 ? 0x90 : 0x80;
			hi = c == 0xf4 ? 0x8f : 0xbf;
		}
		for (k = 1; k <= need && i + k < n; k++) {
			if (p[i + k] < lo || p[i + k] > hi)
				break;
			lo = 0x80;
			hi = 0xbf;
		}
		if (need != 0 && k == need + 1) {
			memcpy(out + o, p + i, need + 1);
			o += need + 1;
			i += need + 1;
			continue;
		}
		memcpy(out + o, "\xef\xbf\xbd", 3);
		o += 3;
		i += need != 0 ? k : 1;
	}
	return (o);
}
