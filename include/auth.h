/*
 * Token verification with libjwt, with its unsafe defaults closed
 * (../shared/NOTES.md): the algorithm is pinned, a key is always given, and
 * exp, nbf, iss and aud are checked here because libjwt 1.10 does not.
 */
#ifndef SGW_AUTH_H
#define SGW_AUTH_H

#include <stddef.h>
#include <time.h>

struct conf;
struct auth;

#define AUTH_USER_MAX	128

struct auth_result {
	char	 user[AUTH_USER_MAX + 1];
	time_t	 exp;			/* 0: no expiry */
};

/* auth.c */
struct auth	*auth_new(const struct conf *, char *, size_t);
void		 auth_free(struct auth *);
int		 auth_verify(const struct auth *, const char *, time_t,
		    struct auth_result *, const char **);

#endif /* SGW_AUTH_H */
