/*
 * test_auth_hostile: guards token verification (src/gateway/auth.c) where issue 11.17
 * (hostile clients) found it open: a token without exp was good forever,
 * an exp near INT64_MAX overflowed exp + leeway (undefined behaviour; in
 * practice it wrapped and such a token read as expired, or with UBSan the
 * worker aborted), and any HS secret, however short, was taken.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jwt.h>

#include "auth.h"
#include "conf.h"

#define SECRET	"unit-test-secret-0123456789abcdef-0123"
#define NOW	((time_t)1700000000)

static struct conf	conf;

static int
setup(void **state)
{
	(void)state;
	conf_init(&conf);
	free(conf.jwt_secret);
	conf.jwt_secret = strdup(SECRET);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	conf_free(&conf);
	return 0;
}

/* An HS256 token for user u with the given exp/nbf (absent when 0). */
static char *
make(const char *key, const char *u, long long exp, int has_exp,
    long long nbf, int has_nbf)
{
	jwt_t	*jwt;
	char	*tok;

	assert_int_equal(jwt_new(&jwt), 0);
	assert_int_equal(jwt_add_grant(jwt, "sub", u), 0);
	if (has_exp)
		assert_int_equal(jwt_add_grant_int(jwt, "exp", (long)exp), 0);
	if (has_nbf)
		assert_int_equal(jwt_add_grant_int(jwt, "nbf", (long)nbf), 0);
	assert_int_equal(jwt_set_alg(jwt, JWT_ALG_HS256,
	    (const unsigned char *)key, (int)strlen(key)), 0);
	tok = jwt_encode_str(jwt);
	jwt_free(jwt);
	assert_non_null(tok);
	return tok;
}

static int
verify(const char *tok, const char **why)
{
	struct auth		*a;
	struct auth_conf	 ac;
	struct auth_result	 r;
	char			 err[128];
	int			 rc;

	conf_auth(&conf, &ac);
	assert_non_null(a = auth_new(&ac, err, sizeof(err)));
	rc = auth_verify(a, tok, NOW, &r, why);
	auth_free(a);
	return rc;
}

static void
test_exp_required_by_default(void **state)
{
	const char	*why = NULL;
	char		*tok = make(SECRET, "alice", 0, 0, 0, 0);

	(void)state;
	assert_true(conf.jwt_require_exp);
	assert_int_equal(verify(tok, &why), -1);
	assert_string_equal(why, "Authentication token has no expiry");
	conf.jwt_require_exp = false;
	assert_int_equal(verify(tok, &why), 0);
	conf.jwt_require_exp = true;
	free(tok);
}

static void
test_exp_extremes_do_not_overflow(void **state)
{
	const char	*why = NULL;
	char		*tok;

	(void)state;
	/* A far exp is good (merely very long), with the leeway added. */
	tok = make(SECRET, "alice", LLONG_MAX, 1, 0, 0);
	assert_int_equal(verify(tok, &why), 0);
	free(tok);
	tok = make(SECRET, "alice", LLONG_MIN, 1, 0, 0);
	assert_int_equal(verify(tok, &why), -1);
	assert_string_equal(why, "Authentication token expired");
	free(tok);
	/* Within the leeway (30 s) still good, past it not. */
	tok = make(SECRET, "alice", (long long)NOW - 20, 1, 0, 0);
	assert_int_equal(verify(tok, &why), 0);
	free(tok);
	tok = make(SECRET, "alice", (long long)NOW - 31, 1, 0, 0);
	assert_int_equal(verify(tok, &why), -1);
	free(tok);
	tok = make(SECRET, "alice", (long long)NOW + 60, 1, LLONG_MAX, 1);
	assert_int_equal(verify(tok, &why), -1);
	assert_string_equal(why, "Authentication token not yet valid");
	free(tok);
	tok = make(SECRET, "alice", (long long)NOW + 60, 1, LLONG_MIN, 1);
	assert_int_equal(verify(tok, &why), 0);
	free(tok);
}

static void
test_short_secret_refused(void **state)
{
	struct auth_conf	ac;
	char			err[128];

	(void)state;
	free(conf.jwt_secret);
	conf.jwt_secret = strdup("0123456789abcdef0123456789abcde");	/* 31 */
	conf_auth(&conf, &ac);
	assert_null(auth_new(&ac, err, sizeof(err)));
	assert_string_equal(err, "the HS256 secret is 31 bytes, under 32");
	free(conf.jwt_secret);
	conf.jwt_secret = strdup(SECRET);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exp_required_by_default,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_exp_extremes_do_not_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_secret_refused,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
