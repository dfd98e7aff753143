/*
 * Token verification with libjwt, with its unsafe defaults closed
 * (../shared/NOTES.md): the algorithm is pinned, a key is always given, and
 * exp, nbf, iss and aud are checked here because libjwt 1.10 does not.
 */
#ifndef SGW_AUTH_H
#define SGW_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct auth;
struct grouplist;

#define AUTH_USER_MAX		128
#define AUTH_HS_SECRET_MIN	32	/* bytes, as RFC 7518 3.2 for HS256 */

/* The settings of token checks, from the configuration's jwt_* keys. */
struct auth_conf {
	const char	*alg;		/* "HS256" ... "ES512" */
	const char	*secret;	/* HS: the secret, or "" */
	const char	*secret_file;	/* HS: a file holding it, or "" */
	const char	*public_key_file; /* RS, ES: a PEM file */
	long long	 leeway;	/* ms of clock skew on exp and nbf */
	const char	*issuer;	/* "": not checked */
	const char	*audience;	/* "": not checked */
	const char	*user_claim;	/* "": sub, user_id, ... */
	bool		 require_exp;
	long long	 groups_max;	/* keep this many of the groups claim;
					   0: the claim is not read */
	const char	*flag_claim;	/* a boolean claim read; NULL: none
					   (admin_jwt_claim, issue 18) */
};

struct auth_result {
	char	 user[AUTH_USER_MAX + 1];
	time_t	 exp;			/* 0: no expiry */
	struct grouplist *groups;	/* groups claim (groups_max > 0), or
					   NULL; the caller frees it */
	size_t	 groups_claimed;	/* valid ids in the claim */
	bool	 flag;			/* flag_claim is true */
};

/* auth.c */
struct auth	*auth_new(const struct auth_conf *, char *, size_t);
void		 auth_free(struct auth *);
int		 auth_verify(const struct auth *, const char *, time_t,
		    struct auth_result *, const char **);

#endif /* SGW_AUTH_H */
