/*
 * Local JWT verification.  The key is loaded once per worker: the secret
 * (jwt_secret, or the jwt_secret_file) for HS*, the PEM public key for
 * RS256..ES512.  A token passes only if it is signed with exactly the configured
 * algorithm, it has an exp (unless jwt_require_exp is no) in the future and
 * any nbf in the past (both with jwt_leeway), iss and aud match when
 * configured, and it names a user.
 */
#include <errno.h>
#include <jansson.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "grouplist.h"

struct auth {
	unsigned char	*key;
	size_t		 keylen;
	jwt_alg_t	 alg;
	long long	 leeway;	/* seconds */
	int		 require_exp;
	char		*issuer;
	char		*audience;
	char		*claim;
	size_t		 groups_max;
	char		*flag_claim;	/* NULL: none */
};

static const char *const default_claims[] = { "sub", "user_id", "userId",
    "id", NULL };

static int	read_file(const char *, unsigned char **, size_t *, char *,
		    size_t);
static int	user_claim(jwt_t *, const char *, char *, size_t);
static int	time_claim(jwt_t *, const char *, long long *);
static struct grouplist *groups_claim(jwt_t *, size_t, size_t *);
static bool	flag_claim(jwt_t *, const char *);

static int
read_file(const char *path, unsigned char **out, size_t *len, char *err,
    size_t errlen)
{
	FILE	*f;
	long	 n;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > 65536 ||
	    fseek(f, 0, SEEK_SET) != 0 || (*out = malloc((size_t)n + 1)) ==
	    NULL) {
		snprintf(err, errlen, "%s: cannot read", path);
		fclose(f);
		return -1;
	}
	*len = fread(*out, 1, (size_t)n, f);
	fclose(f);
	(*out)[*len] = '\0';
	/* A secret file ends with a newline that is not part of the key. */
	while (*len > 0 && ((*out)[*len - 1] == '\n' ||
	    (*out)[*len - 1] == '\r'))
		(*out)[--*len] = '\0';
	return 0;
}

/* Load the key; NULL with err filled when it cannot be had. */
struct auth *
auth_new(const struct auth_conf *c, char *err, size_t errlen)
{
	struct auth	*a;
	bool		 hs = strncmp(c->alg, "HS", 2) == 0;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->alg = jwt_str_alg(c->alg);
	a->leeway = c->leeway / 1000;
	a->require_exp = c->require_exp;
	a->groups_max = c->groups_max > 0 ? (size_t)c->groups_max : 0;
	if (c->flag_claim != NULL &&
	    (a->flag_claim = strdup(c->flag_claim)) == NULL)
		goto fail;
	a->issuer = c->issuer[0] != '\0' ? strdup(c->issuer) : NULL;
	a->audience = c->audience[0] != '\0' ? strdup(c->audience) : NULL;
	a->claim = c->user_claim[0] != '\0' ? strdup(c->user_claim) : NULL;
	if (hs && c->secret[0] != '\0') {
		a->keylen = strlen(c->secret);
		a->key = (unsigned char *)strdup(c->secret);
	} else if (hs && c->secret_file[0] != '\0') {
		if (read_file(c->secret_file, &a->key, &a->keylen, err,
		    errlen) != 0)
			goto fail;
	} else if (!hs && c->public_key_file[0] != '\0') {
		if (read_file(c->public_key_file, &a->key, &a->keylen, err,
		    errlen) != 0)
			goto fail;
	}
	if (a->key == NULL || a->keylen == 0) {
		snprintf(err, errlen, "no key for %s tokens", c->alg);
		goto fail;
	}
	/* conf_check() says so at -t; a file may have changed since. */
	if (hs && a->keylen < AUTH_HS_SECRET_MIN) {
		snprintf(err, errlen, "the %s secret is %zu bytes, under %d",
		    c->alg, a->keylen, AUTH_HS_SECRET_MIN);
		goto fail;
	}
	return a;
fail:
	auth_free(a);
	return NULL;
}

void
auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	if (a->key != NULL)
		memset(a->key, 0, a->keylen);
	free(a->key);
	free(a->issuer);
	free(a->audience);
	free(a->claim);
	free(a->flag_claim);
	free(a);
}

/* An integer claim: 0 absent, 1 present, -1 present but not an integer. */
static int
time_claim(jwt_t *jwt, const char *name, long long *out)
{
	char	*json;
	json_t	*v = NULL;
	int	 rc;

	if ((json = jwt_get_grants_json(jwt, name)) == NULL)
		return 0;
	v = json_loads(json, JSON_DECODE_ANY, NULL);
	free(json);
	rc = v != NULL && json_is_integer(v) ? 1 : -1;
	if (rc == 1)
		*out = json_integer_value(v);
	json_decref(v);
	return rc;
}

/*
 * A boolean claim (admin_jwt_claim, issue 18): true only when it is the
 * JSON literal true; a string "true" or a 1 is not.
 */
static bool
flag_claim(jwt_t *jwt, const char *name)
{
	char	*json;
	bool	 yes;

	if ((json = jwt_get_grants_json(jwt, name)) == NULL)
		return false;
	yes = strcmp(json, "true") == 0;
	free(json);
	return yes;
}

/*
 * The groups claim (group_membership token): an array of group ids, of
 * which max are kept.  Without a claim, or with one that is not an
 * array, the user is in no group.
 */
static struct grouplist *
groups_claim(jwt_t *jwt, size_t max, size_t *claimed)
{
	struct grouplist	*l;
	char			*json;
	json_t			*v;

	*claimed = 0;
	if ((json = jwt_get_grants_json(jwt, "groups")) == NULL)
		return NULL;
	v = json_loads(json, JSON_DECODE_ANY, NULL);
	free(json);
	l = grouplist_from_json(v, max, claimed);
	json_decref(v);
	return l;
}

/*
 * RFC 7519 4.1.3: "aud" is a string, or an array of strings of which one
 * must be ours.
 */
static int
audience_ok(jwt_t *jwt, const char *audience)
{
	const char	*s;
	char		*json;
	json_t		*v, *e;
	size_t		 i;
	int		 ok = 0;

	if ((s = jwt_get_grant(jwt, "aud")) != NULL)
		return strcmp(s, audience) == 0;
	if ((json = jwt_get_grants_json(jwt, "aud")) == NULL)
		return 0;
	if ((v = json_loads(json, JSON_DECODE_ANY, NULL)) != NULL &&
	    json_is_array(v))
		json_array_foreach(v, i, e)
			if (json_is_string(e) &&
			    strcmp(json_string_value(e), audience) == 0)
				ok = 1;
	json_decref(v);
	free(json);
	return ok;
}

/* The user id: the configured claim, or the first of sub, user_id, ... */
static int
user_claim(jwt_t *jwt, const char *claim, char *out, size_t len)
{
	const char *const	*names = default_claims;
	const char		*one[2] = { claim, NULL };
	char			*json;
	json_t			*v;
	size_t			 i;
	int			 n = -1;

	if (claim != NULL)
		names = one;
	for (i = 0; names[i] != NULL && n < 0; i++) {
		if ((json = jwt_get_grants_json(jwt, names[i])) == NULL)
			continue;
		v = json_loads(json, JSON_DECODE_ANY, NULL);
		free(json);
		if (json_is_string(v) && json_string_length(v) > 0)
			n = snprintf(out, len, "%s", json_string_value(v));
		else if (json_is_integer(v))
			n = snprintf(out, len, "%lld",
			    (long long)json_integer_value(v));
		json_decref(v);
	}
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/*
 * Verify a token at time now.  0 and the user, or -1 with *why set to a
 * message fit for the client's CONNECT_ERROR.
 */
int
auth_verify(const struct auth *a, const char *token, time_t now,
    struct auth_result *r, const char **why)
{
	jwt_t		*jwt = NULL;
	const char	*s;
	long long	 exp = 0, nbf = 0;
	int		 rc = -1, e, n;

	memset(r, 0, sizeof(*r));
	if (token == NULL || *token == '\0') {
		*why = "Authentication token required";
		return -1;
	}
	if (strlen(token) > 8192 ||
	    jwt_decode(&jwt, token, a->key, (int)a->keylen) != 0) {
		*why = "Invalid authentication token";
		return -1;
	}
	*why = "Invalid authentication token";
	if (jwt_get_alg(jwt) != a->alg)
		goto done;
	if ((e = time_claim(jwt, "exp", &exp)) < 0 ||
	    (n = time_claim(jwt, "nbf", &nbf)) < 0)
		goto done;
	/* A token that never expires is a key for life (issue 11.17). */
	if (e == 0 && a->require_exp) {
		*why = "Authentication token has no expiry";
		goto done;
	}
	/*
	 * exp and nbf are the sender's: any 64-bit value.  now and the leeway
	 * are small, so the sums stay on our side, where they cannot
	 * overflow.
	 */
	if (e == 1 && (long long)now - a->leeway > exp) {
		*why = "Authentication token expired";
		goto done;
	}
	if (n == 1 && (long long)now + a->leeway < nbf) {
		*why = "Authentication token not yet valid";
		goto done;
	}
	if (a->issuer != NULL && ((s = jwt_get_grant(jwt, "iss")) == NULL ||
	    strcmp(s, a->issuer) != 0))
		goto done;
	if (a->audience != NULL && !audience_ok(jwt, a->audience))
		goto done;
	if (user_claim(jwt, a->claim, r->user, sizeof(r->user)) != 0) {
		*why = "Authentication token names no user";
		goto done;
	}
	r->exp = e == 1 ? (time_t)exp : 0;
	if (a->flag_claim != NULL)
		r->flag = flag_claim(jwt, a->flag_claim);
	if (a->groups_max > 0)
		r->groups = groups_claim(jwt, a->groups_max,
		    &r->groups_claimed);
	rc = 0;
	*why = NULL;
done:
	jwt_free(jwt);
	return rc;
}
