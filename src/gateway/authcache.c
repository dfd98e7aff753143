/*
 * The cache of the auth service's answers (authcache.h).  An htab of
 * records keyed by the token's SHA-256, with the records also on a list
 * in insertion order, so that a full table drops its oldest record in
 * O(1).  The SHA-256 is uniform whatever the tokens a client picks: its
 * first four bytes are the table's hash, no flooding possible.
 */
#include <openssl/evp.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "authcache.h"
#include "base64.h"
#include "htab.h"
#include "roomname.h"

struct rec {
	uint32_t		 hash;		/* htab's: the key's first bytes */
	uint8_t			 key[AUTHCACHE_KEY_LEN];
	int64_t			 until;		/* unix s: dropped after */
	struct authcache_entry	 e;
	struct rec		*older, *newer;
};

struct authcache {
	struct htab	 tab;
	size_t		 max;
	struct rec	*oldest, *newest;
};

static bool	key_eq(const void *, const void *);
static void	drop(struct authcache *, struct rec *, size_t);
static bool	sweep_expired(void *, void *);

/* The SHA-256 of a token: all the cache ever keeps of it. */
void
authcache_key(const char *token, size_t len, uint8_t out[AUTHCACHE_KEY_LEN])
{
	unsigned int	n = AUTHCACHE_KEY_LEN;

	if (EVP_Digest(token, len, out, &n, EVP_sha256(), NULL) != 1)
		memset(out, 0, AUTHCACHE_KEY_LEN);	/* cannot happen */
}

/*
 * The exp claim of a JWT, read WITHOUT checking its signature: only to
 * bound how long the service's answer is kept (never past what the token
 * says of itself).  0 when there is none or the token is not a JWT.
 */
int64_t
authcache_jwt_exp(const char *token)
{
	const char	*a, *b;
	uint8_t		 buf[6144];
	ptrdiff_t	 n;
	json_t		*o, *v;
	int64_t		 exp = 0;

	if (token == NULL || (a = strchr(token, '.')) == NULL ||
	    (b = strchr(a + 1, '.')) == NULL ||
	    (size_t)(b - a - 1) > sizeof(buf) / 3 * 4)
		return 0;
	if ((n = base64_decode(a + 1, (size_t)(b - a - 1), buf,
	    sizeof(buf), BASE64_URL)) <= 0)
		return 0;
	if ((o = json_loadb((const char *)buf, (size_t)n, 0, NULL)) == NULL)
		return 0;
	if (json_is_integer(v = json_object_get(o, "exp")) &&
	    json_integer_value(v) > 0)
		exp = (int64_t)json_integer_value(v);
	json_decref(o);
	return exp;
}

/*
 * The body of the verify call's 2xx answer: 1 valid ({"valid": true,
 * "user_id": a valid id, "exp"?: a positive integer}), 0 refused
 * ({"valid": false}), -1 anything else (an answer one cannot trust).
 */
int
authcache_parse(const char *body, size_t len, struct authcache_entry *e)
{
	json_t	*o, *v;
	int	 rc = -1, n = -1;

	memset(e, 0, sizeof(*e));
	if (body == NULL || (o = json_loadb(body, len, 0, NULL)) == NULL)
		return -1;
	if (json_is_false(json_object_get(o, "valid")))
		rc = 0;
	else if (json_is_true(json_object_get(o, "valid"))) {
		v = json_object_get(o, "user_id");
		if (json_is_string(v))
			n = snprintf(e->user, sizeof(e->user), "%s",
			    json_string_value(v));
		else if (json_is_integer(v))
			n = snprintf(e->user, sizeof(e->user), "%lld",
			    (long long)json_integer_value(v));
		/* An id with a NUL inside would be cut: refused whole. */
		if (n > 0 && (size_t)n < sizeof(e->user) &&
		    (!json_is_string(v) || json_string_length(v) ==
		    (size_t)n) && roomname_id_valid(e->user, (size_t)n))
			rc = 1;
		if (json_is_integer(v = json_object_get(o, "exp")) &&
		    json_integer_value(v) > 0)
			e->exp = (int64_t)json_integer_value(v);
	}
	json_decref(o);
	if (rc != 1)
		memset(e, 0, sizeof(*e));
	e->valid = rc == 1;
	return rc;
}

struct authcache *
authcache_new(size_t max, uint64_t seed)
{
	struct authcache	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (htab_init(&c->tab, seed) != 0) {
		free(c);
		return NULL;
	}
	c->max = max > 0 ? max : 1;
	return c;
}

void
authcache_free(struct authcache *c)
{
	struct rec	*r, *next;

	if (c == NULL)
		return;
	for (r = c->oldest; r != NULL; r = next) {
		next = r->newer;
		free(r);
	}
	htab_free(&c->tab);
	free(c);
}

static bool
key_eq(const void *rec, const void *key)
{
	return memcmp(((const struct rec *)rec)->key, key,
	    AUTHCACHE_KEY_LEN) == 0;
}

static uint32_t
key_hash(const uint8_t *key)
{
	uint32_t	h;

	memcpy(&h, key, sizeof(h));
	return h;
}

/* Unlink and free r, at slot idx of the table. */
static void
drop(struct authcache *c, struct rec *r, size_t idx)
{
	htab_remove(&c->tab, idx);
	if (r->older != NULL)
		r->older->newer = r->newer;
	else
		c->oldest = r->newer;
	if (r->newer != NULL)
		r->newer->older = r->older;
	else
		c->newest = r->older;
	free(r);
}

/* The answer for key at time now: 1 and *out, or 0. */
int
authcache_get(struct authcache *c, const uint8_t *key, int64_t now,
    struct authcache_entry *out)
{
	struct rec	*r;
	size_t		 idx;

	if ((r = htab_find(&c->tab, key_hash(key), key_eq, key, &idx)) ==
	    NULL)
		return 0;
	if (now >= r->until) {
		drop(c, r, idx);
		return 0;
	}
	*out = r->e;
	return 1;
}

struct sweep {
	struct authcache	*c;
	int64_t			 now;
};

/* htab_sweep's: an expired record leaves the list, htab removes it. */
static bool
sweep_expired(void *arg, void *rec)
{
	struct sweep	*sw = arg;
	struct rec	*r = rec;

	if (sw->now < r->until)
		return false;
	if (r->older != NULL)
		r->older->newer = r->newer;
	else
		sw->c->oldest = r->newer;
	if (r->newer != NULL)
		r->newer->older = r->older;
	else
		sw->c->newest = r->older;
	free(r);
	return true;
}

/*
 * Keep e for key until `until` (unix s); a full table makes room, the
 * expired records first, then the oldest.  0, or -1 out of memory.
 */
int
authcache_put(struct authcache *c, const uint8_t *key,
    const struct authcache_entry *e, int64_t until, int64_t now)
{
	struct sweep	 sw = { c, now };
	struct rec	*r;
	size_t		 idx;

	if (until <= now)
		return 0;
	if ((r = htab_find(&c->tab, key_hash(key), key_eq, key, &idx)) !=
	    NULL)
		drop(c, r, idx);
	if (c->tab.n >= c->max)
		htab_sweep(&c->tab, sweep_expired, &sw);
	while (c->tab.n >= c->max && c->oldest != NULL) {
		r = c->oldest;
		if (htab_find(&c->tab, r->hash, key_eq, r->key, &idx) == NULL)
			break;			/* cannot happen */
		drop(c, r, idx);
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	r->hash = key_hash(key);
	memcpy(r->key, key, AUTHCACHE_KEY_LEN);
	r->until = until;
	r->e = *e;
	if (htab_insert(&c->tab, r) != 0) {
		free(r);
		return -1;
	}
	r->older = c->newest;
	if (c->newest != NULL)
		c->newest->newer = r;
	else
		c->oldest = r;
	c->newest = r;
	return 0;
}

size_t
authcache_count(const struct authcache *c)
{
	return c != NULL ? c->tab.n : 0;
}
