/*
 * jsonlimit: JSON text in for the protocol layer, pure C (out is
 * jsonwrite.h).
 *
 * jansson's own nesting limit is 2048 and cannot be changed, and it
 * builds the whole tree before anyone can count it.  jsonlimit_scan() is a
 * single validating pass over the text that enforces our limits (bytes,
 * nesting depth, number of values and keys) and the string rules jansson
 * applies (escapes, UTF-8, \u0000), so that hostile input is refused before
 * one allocation is made.  jsonlimit_load() scans, then parses with jansson.
 */
#ifndef SGW_JSONLIMIT_H
#define SGW_JSONLIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include <jansson.h>

/* Deepest nesting jansson can parse: larger max_depth values are clamped. */
#define JSONLIMIT_DEPTH_MAX	2048

/* jsonlimit.flags */
#define JSONLIMIT_ALLOW_NUL	0x1	/* \u0000 allowed in strings */

/*
 * Limits.  A zero max_bytes or max_elements means "no limit"; a zero
 * max_depth means JSONLIMIT_DEPTH_MAX.  Depth counts containers: a scalar is
 * depth 0, [1] is depth 1, [{"a":[]}] is depth 3.  Elements count every
 * value (containers included) and every object key: {"a":[1,2]} has 5.
 */
struct jsonlimit {
	size_t		 max_bytes;
	unsigned	 max_depth;
	size_t		 max_elements;
	int		 flags;
};

/* What a scan saw; offset is where it stopped (the error, or len). */
struct jsonlimit_stat {
	size_t		 offset;
	size_t		 elements;
	unsigned	 depth;
	size_t		 numbers;	/* number values, at any depth */
};

/*
 * An observer of a scan (jsonlimit_scan_obs()): told each value, key and
 * container end no deeper than max_depth, as spans of the text, so that a
 * caller can pick fields out of a document without a tree.  A token is
 * told only once it has been checked; the scan may still fail later.
 * depth counts the containers around a token; a close carries its
 * container's, and an open's end is its start (its close completes it).
 */
#define JSONLIMIT_T_STRING	1
#define JSONLIMIT_T_NUMBER	2
#define JSONLIMIT_T_LITERAL	3	/* true, false, null */
#define JSONLIMIT_T_OBJECT	4	/* an object opens */
#define JSONLIMIT_T_ARRAY	5	/* an array opens */
#define JSONLIMIT_T_CLOSE	6	/* a container closes */
#define JSONLIMIT_T_KEY		7

/* jsonlimit_token.flags, for strings and keys */
#define JSONLIMIT_S_ESCAPED	0x1	/* it has escape sequences */
#define JSONLIMIT_S_NONCANON	0x2	/* not as JSON.stringify writes it */
#define JSONLIMIT_S_NUL		0x4	/* it decodes to a NUL byte */

struct jsonlimit_token {
	int		 type;		/* JSONLIMIT_T_* */
	unsigned	 depth;		/* containers around it */
	const char	*start;		/* first byte (a string: its quote) */
	const char	*end;		/* past its last byte */
	size_t		 len;		/* strings, keys: decoded bytes */
	unsigned	 flags;		/* strings, keys: JSONLIMIT_S_* */
};

struct jsonlimit_obs {
	unsigned	 max_depth;
	void		(*token)(void *, const struct jsonlimit_token *);
	void		*arg;
};

/* Results: 0 or a negative reason, see jsonlimit_strerror(). */
#define JSONLIMIT_OK		  0
#define JSONLIMIT_ERR_TOO_BIG	 -1	/* more than max_bytes */
#define JSONLIMIT_ERR_DEPTH	 -2	/* nested deeper than max_depth */
#define JSONLIMIT_ERR_ELEMENTS	 -3	/* more than max_elements */
#define JSONLIMIT_ERR_SYNTAX	 -4	/* not JSON */
#define JSONLIMIT_ERR_STRING	 -5	/* escape, control, UTF-8 */
#define JSONLIMIT_ERR_NUMBER	 -6	/* beyond jansson's range */
#define JSONLIMIT_ERR_NOMEM	 -7
#define JSONLIMIT_ERR_PARSE	 -8	/* jansson refused it anyway */

/* jsonlimit.c */
int		 jsonlimit_scan(const char *, size_t,
		     const struct jsonlimit *, struct jsonlimit_stat *);
int		 jsonlimit_scan_obs(const char *, size_t,
		     const struct jsonlimit *, struct jsonlimit_stat *,
		     const struct jsonlimit_obs *);
int		 jsonlimit_load(const char *, size_t,
		     const struct jsonlimit *, json_t **);
int		 jsonlimit_parse(const char *, size_t,
		     const struct jsonlimit *, json_t **);
size_t		 jsonlimit_utf8_len(const unsigned char *, size_t);
bool		 jsonlimit_utf8_valid(const char *, size_t);
const char	*jsonlimit_strerror(int);

#endif /* SGW_JSONLIMIT_H */
