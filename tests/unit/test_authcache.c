/*
 * test_authcache.c: authcache.c, the cache of the auth service's answers
 * (issue 13): the key is the token's SHA-256; an entry lives until its
 * deadline; the table keeps at most max entries, dropping the expired ones
 * first, then the oldest; a refusal is cached like an answer; a JWT's exp
 * is read without trusting it, and anything else reads as none; the
 * service's answer is valid, refused, or not to be trusted.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "authcache.h"

static void
key_of(const char *token, uint8_t *k)
{
	authcache_key(token, strlen(token), k);
}

static struct authcache_entry
entry(int valid, const char *user, int64_t exp)
{
	struct authcache_entry	e;

	memset(&e, 0, sizeof(e));
	e.valid = valid;
	snprintf(e.user, sizeof(e.user), "%s", user);
	e.exp = exp;
	return e;
}

/* FIPS 180-2's first example: SHA-256("abc"). */
static void
test_key(void **state)
{
	static const uint8_t abc[AUTHCACHE_KEY_LEN] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41,
		0x40, 0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3,
		0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00,
		0x15, 0xad
	};
	uint8_t	k[AUTHCACHE_KEY_LEN];

	(void)state;
	key_of("abc", k);
	assert_memory_equal(k, abc, sizeof(abc));
}

static void
test_put_get_expire(void **state)
{
	struct authcache	*c = authcache_new(8, 42);
	struct authcache_entry	 e = entry(1, "alice", 2000), got;
	uint8_t			 k[AUTHCACHE_KEY_LEN], other[AUTHCACHE_KEY_LEN];

	(void)state;
	assert_non_null(c);
	key_of("token-a", k);
	key_of("token-b", other);
	assert_int_equal(authcache_get(c, k, 1000, &got), 0);
	assert_int_equal(authcache_put(c, k, &e, 2000, 1000), 0);
	assert_int_equal(authcache_get(c, k, 1999, &got), 1);
	assert_int_equal(got.valid, 1);
	assert_string_equal(got.user, "alice");
	assert_int_equal(got.exp, 2000);
	assert_int_equal(authcache_get(c, other, 1999, &got), 0);
	/* At its deadline it is gone, and taken out of the table. */
	assert_int_equal(authcache_get(c, k, 2000, &got), 0);
	assert_int_equal(authcache_count(c), 0);
	/* A deadline already past is not kept. */
	assert_int_equal(authcache_put(c, k, &e, 1000, 1000), 0);
	assert_int_equal(authcache_count(c), 0);
	authcache_free(c);
}

static void
test_negative_and_replace(void **state)
{
	struct authcache	*c = authcache_new(8, 1);
	struct authcache_entry	 no = entry(0, "", 0), yes = entry(1, "bob", 0);
	struct authcache_entry	 got;
	uint8_t			 k[AUTHCACHE_KEY_LEN];

	(void)state;
	key_of("token-c", k);
	assert_int_equal(authcache_put(c, k, &no, 110, 100), 0);
	assert_int_equal(authcache_get(c, k, 105, &got), 1);
	assert_int_equal(got.valid, 0);
	assert_int_equal(authcache_put(c, k, &yes, 200, 105), 0);
	assert_int_equal(authcache_count(c), 1);
	assert_int_equal(authcache_get(c, k, 150, &got), 1);
	assert_int_equal(got.valid, 1);
	assert_string_equal(got.user, "bob");
	authcache_free(c);
}

/* Full: the expired entries go first, then the oldest. */
static void
test_bound(void **state)
{
	struct authcache	*c = authcache_new(4, 7);
	struct authcache_entry	 e = entry(1, "u", 0), got;
	uint8_t			 k[10][AUTHCACHE_KEY_LEN];
	char			 t[16];
	int			 i;

	(void)state;
	for (i = 0; i < 10; i++) {
		snprintf(t, sizeof(t), "tok-%d", i);
		key_of(t, k[i]);
	}
	/* 0 expires at 50, 1..3 live long. */
	assert_int_equal(authcache_put(c, k[0], &e, 50, 0), 0);
	for (i = 1; i < 4; i++)
		assert_int_equal(authcache_put(c, k[i], &e, 1000, 0), 0);
	assert_int_equal(authcache_count(c), 4);
	/* At 60 the fifth makes room by dropping the expired 0. */
	assert_int_equal(authcache_put(c, k[4], &e, 1000, 60), 0);
	assert_int_equal(authcache_count(c), 4);
	for (i = 1; i < 5; i++)
		assert_int_equal(authcache_get(c, k[i], 60, &got), 1);
	/* None expired: the oldest (1) goes. */
	assert_int_equal(authcache_put(c, k[5], &e, 1000, 60), 0);
	assert_int_equal(authcache_count(c), 4);
	assert_int_equal(authcache_get(c, k[1], 60, &got), 0);
	for (i = 2; i < 6; i++)
		assert_int_equal(authcache_get(c, k[i], 60, &got), 1);
	/* Many more: never past the bound. */
	for (i = 0; i < 10; i++)
		assert_int_equal(authcache_put(c, k[i], &e, 2000, 70), 0);
	assert_int_equal(authcache_count(c), 4);
	authcache_free(c);
}

static void
test_jwt_exp(void **state)
{
	/* {"alg":"HS256","typ":"JWT"} . {"sub":"a","exp":1900000000} . sig */
	const char	*jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	    "eyJzdWIiOiJhIiwiZXhwIjoxOTAwMDAwMDAwfQ.c2ln";
	/* {"sub":"a"}: no exp */
	const char	*noexp = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln";
	/* {"exp":"soon"} */
	const char	*strexp = "x.eyJleHAiOiJzb29uIn0.y";

	(void)state;
	assert_int_equal(authcache_jwt_exp(jwt), 1900000000);
	assert_int_equal(authcache_jwt_exp(noexp), 0);
	assert_int_equal(authcache_jwt_exp(strexp), 0);
	assert_int_equal(authcache_jwt_exp("opaque-token"), 0);
	assert_int_equal(authcache_jwt_exp("a.b"), 0);
	assert_int_equal(authcache_jwt_exp("a.!!!.c"), 0);
	assert_int_equal(authcache_jwt_exp(""), 0);
	assert_int_equal(authcache_jwt_exp(NULL), 0);
}

/* The verify call's answers: valid, refused, and the untrustworthy rest. */
static void
test_parse(void **state)
{
	struct authcache_entry	 e;
	static const char *const bad[] = {
		"", "null", "[]", "{}", "{\"valid\":1,\"user_id\":\"a\"}",
		"{\"valid\":true}", "{\"valid\":true,\"user_id\":\"\"}",
		"{\"valid\":true,\"user_id\":\"a:b\"}",
		"{\"valid\":true,\"user_id\":{}}", "{\"valid\":\"true\"}",
		"{\"valid\":true,\"user_id\":\"a\"", NULL
	};
	const char	*s;
	char		 big[600];
	size_t		 i;

	(void)state;
	s = "{\"valid\":true,\"user_id\":\"u1\",\"exp\":1900000000}";
	assert_int_equal(authcache_parse(s, strlen(s), &e), 1);
	assert_int_equal(e.valid, 1);
	assert_string_equal(e.user, "u1");
	assert_int_equal(e.exp, 1900000000);
	s = "{\"valid\":true,\"user_id\":42,\"exp\":-5,\"groups\":[]}";
	assert_int_equal(authcache_parse(s, strlen(s), &e), 1);
	assert_string_equal(e.user, "42");
	assert_int_equal(e.exp, 0);
	s = "{\"valid\":false,\"user_id\":\"u1\"}";
	assert_int_equal(authcache_parse(s, strlen(s), &e), 0);
	assert_int_equal(e.valid, 0);
	assert_string_equal(e.user, "");
	for (i = 0; bad[i] != NULL; i++) {
		assert_int_equal(authcache_parse(bad[i], strlen(bad[i]), &e),
		    -1);
		assert_int_equal(e.valid, 0);
	}
	/* A user id longer than any the gateway keeps. */
	i = (size_t)snprintf(big, sizeof(big), "{\"valid\":true,"
	    "\"user_id\":\"%0300d\"}", 7);
	assert_int_equal(authcache_parse(big, i, &e), -1);
	assert_int_equal(authcache_parse(NULL, 0, &e), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_put_get_expire),
		cmocka_unit_test(test_negative_and_replace),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_jwt_exp),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
