/*
 * jsonlimit: a validating pre-scan that enforces our limits on JSON text
 * before jansson parses it (the writer is jsonwrite.c).  Pure: no I/O, no
 * logging.
 */
#include <string.h>

#include "jsonlimit.h"

enum scan_state {
	WANT_VALUE,
	WANT_KEY,
	AFTER_VALUE
};

struct scan {
	const unsigned char	*start;
	const unsigned char	*p;
	const unsigned char	*end;
	size_t			 max_elements;
	unsigned		 max_depth;
	int			 flags;
	size_t			 elements;
	size_t			 numbers;
	unsigned		 depth;
	unsigned		 maxseen;
	const struct jsonlimit_obs *obs;
	size_t			 saved;		/* the string: escapes' bytes */
	unsigned		 sflags;	/* the string: JSONLIMIT_S_* */
	uint8_t			 stack[JSONLIMIT_DEPTH_MAX / 8]; /* 1: {} */
};

static int	scan_run(struct scan *);
static int	scan_open(struct scan *, int);
static int	scan_after(struct scan *, enum scan_state *);
static int	scan_count(struct scan *);
static int	scan_scalar(struct scan *);
static int	scan_number(struct scan *);
static int	scan_literal(struct scan *, const char *, size_t);
static int	scan_string(struct scan *, int);
static int	scan_escape(struct scan *, int);
static int	scan_hex4(struct scan *, unsigned *);
static void	scan_ws(struct scan *);
static void	scan_tell(struct scan *, int, unsigned,
		    const unsigned char *);

/*
 * Length of the well-formed UTF-8 sequence at p, or 0: no overlong forms,
 * no UTF-16 surrogates, nothing above U+10FFFF (what jansson accepts).
 */
size_t
jsonlimit_utf8_len(const unsigned char *p, size_t n)
{
	unsigned char	c = p[0];

	if (c < 0x80)
		return (1);
	if (c < 0xc2)
		return (0);
	if (c < 0xe0) {
		if (n < 2 || (p[1] & 0xc0) != 0x80)
			return (0);
		return (2);
	}
	if (c < 0xf0) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return (0);
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0))
			return (0);
		return (3);
	}
	if (c < 0xf5) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 ||
		    (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return (0);
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
			return (0);
		return (4);
	}
	return (0);
}

/*
 * Check that buf is one JSON value within the limits.  One pass, no
 * allocation, no recursion: the container kinds sit in a bit stack.
 */
int
jsonlimit_scan(const char *buf, size_t len, const struct jsonlimit *lim,
    struct jsonlimit_stat *st)
{
	return (jsonlimit_scan_obs(buf, len, lim, st, NULL));
}

/* The same, telling obs (if not NULL) the tokens it asks for. */
int
jsonlimit_scan_obs(const char *buf, size_t len, const struct jsonlimit *lim,
    struct jsonlimit_stat *st, const struct jsonlimit_obs *obs)
{
	struct scan	 s;
	int		 rc;

	memset(&s, 0, sizeof(s));
	s.start = s.p = (const unsigned char *)buf;
	s.end = s.p + len;
	s.max_depth = JSONLIMIT_DEPTH_MAX;
	s.obs = obs;
	if (lim != NULL) {
		if (lim->max_depth != 0 && lim->max_depth < JSONLIMIT_DEPTH_MAX)
			s.max_depth = lim->max_depth;
		s.max_elements = lim->max_elements;
		s.flags = lim->flags;
	}
	if (lim != NULL && lim->max_bytes != 0 && len > lim->max_bytes)
		rc = JSONLIMIT_ERR_TOO_BIG;
	else if (buf == NULL)
		rc = JSONLIMIT_ERR_SYNTAX;
	else
		rc = scan_run(&s);
	if (st != NULL) {
		st->offset = (size_t)(s.p - s.start);
		st->elements = s.elements;
		st->depth = s.maxseen;
		st->numbers = s.numbers;
	}
	return (rc);
}

/* The state machine: values, keys, and what may follow a value. */
static int
scan_run(struct scan *s)
{
	enum scan_state	 state = WANT_VALUE;
	const unsigned char *start;
	int		 rc;

	for (;;) {
		scan_ws(s);
		switch (state) {
		case WANT_VALUE:
			if (s->p == s->end)
				return (JSONLIMIT_ERR_SYNTAX);
			if ((rc = scan_count(s)) != 0)
				return (rc);
			if (*s->p == '[' || *s->p == '{') {
				rc = scan_open(s, *s->p == '{');
				if (rc < 0)
					return (rc);
				state = rc;
				continue;
			}
			start = s->p;
			if ((rc = scan_scalar(s)) != 0)
				return (rc);
			if (s->obs != NULL && s->depth <= s->obs->max_depth)
				scan_tell(s, *start == '"' ? JSONLIMIT_T_STRING :
				    *start == '-' || (*start >= '0' &&
				    *start <= '9') ? JSONLIMIT_T_NUMBER :
				    JSONLIMIT_T_LITERAL, s->depth, start);
			state = AFTER_VALUE;
			break;
		case WANT_KEY:
			if (s->p == s->end || *s->p != '"')
				return (JSONLIMIT_ERR_SYNTAX);
			start = s->p;
			if ((rc = scan_count(s)) != 0 ||
			    (rc = scan_string(s, 1)) != 0)
				return (rc);
			if (s->obs != NULL && s->depth <= s->obs->max_depth)
				scan_tell(s, JSONLIMIT_T_KEY, s->depth, start);
			scan_ws(s);
			if (s->p == s->end || *s->p != ':')
				return (JSONLIMIT_ERR_SYNTAX);
			s->p++;
			state = WANT_VALUE;
			break;
		case AFTER_VALUE:
			if (s->depth == 0)
				return (s->p == s->end ? JSONLIMIT_OK :
				    JSONLIMIT_ERR_SYNTAX);
			if ((rc = scan_after(s, &state)) != 0)
				return (rc);
			break;
		}
	}
}

/*
 * Enter an array or object (p is on the bracket).  Returns the next state,
 * AFTER_VALUE for an empty container, or a negative error.
 */
static int
scan_open(struct scan *s, int object)
{
	bool	 tell;

	if (s->depth >= s->max_depth)
		return (JSONLIMIT_ERR_DEPTH);
	if ((tell = s->obs != NULL && s->depth <= s->obs->max_depth))
		scan_tell(s, object ? JSONLIMIT_T_OBJECT : JSONLIMIT_T_ARRAY,
		    s->depth, s->p);
	if (object)
		s->stack[s->depth / 8] |= 1U << (s->depth % 8);
	else
		s->stack[s->depth / 8] &= ~(1U << (s->depth % 8));
	s->depth++;
	if (s->depth > s->maxseen)
		s->maxseen = s->depth;
	s->p++;
	scan_ws(s);
	if (s->p < s->end && *s->p == (object ? '}' : ']')) {
		s->p++;
		s->depth--;
		if (tell)
			scan_tell(s, JSONLIMIT_T_CLOSE, s->depth, s->p - 1);
		return (AFTER_VALUE);
	}
	return (object ? WANT_KEY : WANT_VALUE);
}

/* After a value inside a container: a comma or the matching bracket. */
static int
scan_after(struct scan *s, enum scan_state *state)
{
	unsigned	 d = s->depth - 1;
	int		 object;

	if (s->p == s->end)
		return (JSONLIMIT_ERR_SYNTAX);
	object = (s->stack[d / 8] >> (d % 8)) & 1;
	if (*s->p == ',') {
		*state = object ? WANT_KEY : WANT_VALUE;
	} else if (*s->p == (object ? '}' : ']')) {
		s->depth--;
		*state = AFTER_VALUE;
		if (s->obs != NULL && s->depth <= s->obs->max_depth) {
			s->p++;
			scan_tell(s, JSONLIMIT_T_CLOSE, s->depth, s->p - 1);
			return (0);
		}
	} else
		return (JSONLIMIT_ERR_SYNTAX);
	s->p++;
	return (0);
}

/* One more value or key. */
static int
scan_count(struct scan *s)
{
	s->elements++;
	if (s->max_elements != 0 && s->elements > s->max_elements)
		return (JSONLIMIT_ERR_ELEMENTS);
	return (0);
}

/* A string, number or literal (p is on its first byte). */
static int
scan_scalar(struct scan *s)
{
	switch (*s->p) {
	case '"':
		return (scan_string(s, 0));
	case 't':
		return (scan_literal(s, "true", 4));
	case 'f':
		return (scan_literal(s, "false", 5));
	case 'n':
		return (scan_literal(s, "null", 4));
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9')) {
			s->numbers++;
			return (scan_number(s));
		}
		return (JSONLIMIT_ERR_SYNTAX);
	}
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
scan_number(struct scan *s)
{
	const unsigned char	*d;

	if (*s->p == '-')
		s->p++;
	if (s->p == s->end)
		return (JSONLIMIT_ERR_SYNTAX);
	if (*s->p == '0')
		s->p++;
	else if (*s->p >= '1' && *s->p <= '9') {
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	} else
		return (JSONLIMIT_ERR_SYNTAX);
	if (s->p < s->end && *s->p == '.') {
		d = ++s->p;
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
		if (s->p == d)
			return (JSONLIMIT_ERR_SYNTAX);
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		d = s->p;
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
		if (s->p == d)
			return (JSONLIMIT_ERR_SYNTAX);
	}
	return (0);
}

static int
scan_literal(struct scan *s, const char *word, size_t n)
{
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return (JSONLIMIT_ERR_SYNTAX);
	s->p += n;
	return (0);
}

/*
 * A string (p is on the opening quote).  Control characters, bad escapes,
 * lone surrogates and malformed UTF-8 are refused, as jansson would; so is
 * \u0000 in a key (jansson cannot store it) or, without ALLOW_NUL, anywhere.
 */
static int
scan_string(struct scan *s, int key)
{
	const unsigned char	*p;
	size_t			 n;
	int			 rc;

	s->saved = 0;
	s->sflags = 0;
	s->p++;
	while (s->p < s->end) {
		/* The common bytes first, in a local: most of a string. */
		for (p = s->p; p < s->end && *p >= 0x20 && *p < 0x80 &&
		    *p != '"' && *p != '\\'; p++)
			;
		if ((s->p = p) == s->end)
			break;
		if (*s->p == '"') {
			s->p++;
			return (0);
		}
		if (*s->p == '\\') {
			if ((rc = scan_escape(s, key)) != 0)
				return (rc);
		} else if (*s->p < 0x20)
			return (JSONLIMIT_ERR_STRING);
		else {
			n = jsonlimit_utf8_len(s->p, (size_t)(s->end - s->p));
			if (n == 0)
				return (JSONLIMIT_ERR_STRING);
			s->p += n;
		}
	}
	return (JSONLIMIT_ERR_STRING);
}

/* One escape sequence (p is on the backslash). */
static int
scan_escape(struct scan *s, int key)
{
	const unsigned char	*hex;
	unsigned		 cp, lo;

	if (++s->p == s->end)
		return (JSONLIMIT_ERR_STRING);
	s->sflags |= JSONLIMIT_S_ESCAPED;
	if (strchr("\"\\/bfnrt", *s->p) != NULL && *s->p != '\0') {
		if (*s->p == '/')
			s->sflags |= JSONLIMIT_S_NONCANON;
		s->saved++;
		s->p++;
		return (0);
	}
	if (*s->p != 'u')
		return (JSONLIMIT_ERR_STRING);
	hex = ++s->p;
	if (scan_hex4(s, &cp) != 0)
		return (JSONLIMIT_ERR_STRING);
	/* JSON.stringify writes \u00xx, lower case, for the other C0s only. */
	if (cp >= 0x20 || cp == '\b' || cp == '\f' || cp == '\n' ||
	    cp == '\r' || cp == '\t' || (hex[3] >= 'A' && hex[3] <= 'F'))
		s->sflags |= JSONLIMIT_S_NONCANON;
	if (cp == 0)
		s->sflags |= JSONLIMIT_S_NUL;
	s->saved += cp < 0x80 ? 5 : cp < 0x800 ? 4 : 3;
	if (cp == 0 && (key || (s->flags & JSONLIMIT_ALLOW_NUL) == 0))
		return (JSONLIMIT_ERR_STRING);
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return (JSONLIMIT_ERR_STRING);
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
			return (JSONLIMIT_ERR_STRING);
		s->p += 2;
		if (scan_hex4(s, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
			return (JSONLIMIT_ERR_STRING);
		s->saved += 5;		/* 12 bytes for 4: 3 + 5 */
	}
	return (0);
}

static int
scan_hex4(struct scan *s, unsigned *cp)
{
	unsigned	 c;
	int		 i;

	if (s->end - s->p < 4)
		return (-1);
	*cp = 0;
	for (i = 0; i < 4; i++) {
		c = *s->p++;
		if (c >= '0' && c <= '9')
			c -= '0';
		else if (c >= 'a' && c <= 'f')
			c -= 'a' - 10;
		else if (c >= 'A' && c <= 'F')
			c -= 'A' - 10;
		else
			return (-1);
		*cp = (*cp << 4) | c;
	}
	return (0);
}

/* A token for the observer; a string's figures are the last scanned. */
static void
scan_tell(struct scan *s, int type, unsigned depth,
    const unsigned char *start)
{
	struct jsonlimit_token	 t;

	t.type = type;
	t.depth = depth;
	t.start = (const char *)start;
	t.end = (const char *)s->p;
	t.len = 0;
	t.flags = 0;
	if (type == JSONLIMIT_T_STRING || type == JSONLIMIT_T_KEY) {
		t.len = (size_t)(s->p - start) - 2 - s->saved;
		t.flags = s->sflags;
	}
	s->obs->token(s->obs->arg, &t);
}

static void
scan_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	    *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/*
 * Scan, then parse with jansson (any top-level value).  After a good scan
 * jansson fails only on memory or on a number beyond its range.
 */
int
jsonlimit_load(const char *buf, size_t len, const struct jsonlimit *lim,
    json_t **out)
{
	int		 rc;

	*out = NULL;
	if ((rc = jsonlimit_scan(buf, len, lim, NULL)) != 0)
		return (rc);
	return (jsonlimit_parse(buf, len, lim, out));
}

/* jansson's part of jsonlimit_load(), for text that has been scanned. */
int
jsonlimit_parse(const char *buf, size_t len, const struct jsonlimit *lim,
    json_t **out)
{
	json_error_t	 err;
	size_t		 flags = JSON_DECODE_ANY;

	*out = NULL;
	if (lim != NULL && (lim->flags & JSONLIMIT_ALLOW_NUL) != 0)
		flags |= JSON_ALLOW_NUL;
	if ((*out = json_loadb(buf, len, flags, &err)) != NULL)
		return (JSONLIMIT_OK);
	switch (json_error_code(&err)) {
	case json_error_out_of_memory:
		return (JSONLIMIT_ERR_NOMEM);
	case json_error_numeric_overflow:
		return (JSONLIMIT_ERR_NUMBER);
	default:
		return (JSONLIMIT_ERR_PARSE);
	}
}

/* Is buf well-formed UTF-8, by the rules JSON strings follow here? */
bool
jsonlimit_utf8_valid(const char *buf, size_t len)
{
	const unsigned char	*p = (const unsigned char *)buf;
	const unsigned char	*end = p + len;
	size_t			 n;

	while (p < end) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((n = jsonlimit_utf8_len(p, (size_t)(end - p))) == 0)
			return (false);
		p += n;
	}
	return (true);
}

const char *
jsonlimit_strerror(int rc)
{
	switch (rc) {
	case JSONLIMIT_OK:
		return ("ok");
	case JSONLIMIT_ERR_TOO_BIG:
		return ("json too big");
	case JSONLIMIT_ERR_DEPTH:
		return ("json too deep");
	case JSONLIMIT_ERR_ELEMENTS:
		return ("too many json elements");
	case JSONLIMIT_ERR_SYNTAX:
		return ("json syntax error");
	case JSONLIMIT_ERR_STRING:
		return ("bad json string");
	case JSONLIMIT_ERR_NUMBER:
		return ("json number out of range");
	case JSONLIMIT_ERR_NOMEM:
		return ("out of memory");
	case JSONLIMIT_ERR_PARSE:
		return ("json rejected by parser");
	default:
		return ("unknown error");
	}
}
