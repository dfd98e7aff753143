/*
 * Unit tests for redisurl.c: every accepted form with its defaults, each
 * malformed one refused with the part named, rediss:// refused with the
 * TLS explanation, and no error message or printed address that holds
 * the password.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "redisurl.h"

static void	 ok(const char *, struct redisurl *);
static void	 bad(const char *, const char *);

static void
ok(const char *url, struct redisurl *u)
{
	char	err[256] = "";

	if (redisurl_parse(url, u, err, sizeof(err)) != 0)
		fail_msg("%s: refused: %s", url, err);
}

/* Refused, the message holds want and never "s3cret". */
static void
bad(const char *url, const char *want)
{
	struct redisurl	u;
	char		err[256] = "";

	if (redisurl_parse(url, &u, err, sizeof(err)) == 0)
		fail_msg("%s: accepted", url);
	if (strstr(err, want) == NULL)
		fail_msg("%s: '%s' lacks '%s'", url, err, want);
	assert_null(strstr(err, "s3cret"));
}

static void
test_tcp(void **state)
{
	struct redisurl	u;
	char		addr[300];

	(void)state;
	ok("redis://cache", &u);
	assert_false(u.unix_path);
	assert_string_equal(u.host, "cache");
	assert_int_equal(u.port, 6379);
	assert_int_equal(u.db, 0);
	assert_false(u.has_password);
	assert_string_equal(u.user, "");

	ok("redis://10.0.0.5:6380/3", &u);
	assert_string_equal(u.host, "10.0.0.5");
	assert_int_equal(u.port, 6380);
	assert_int_equal(u.db, 3);

	ok("redis://:s3cret@cache:6379/0", &u);
	assert_true(u.has_password);
	assert_string_equal(u.password, "s3cret");
	assert_string_equal(u.user, "");
	redisurl_print(&u, addr, sizeof(addr));
	assert_string_equal(addr, "cache:6379/0");

	ok("redis://app:s3cret@cache/", &u);
	assert_string_equal(u.user, "app");
	assert_string_equal(u.password, "s3cret");
	assert_int_equal(u.db, 0);

	/* An escaped '@', ':' and '/' in the password. */
	ok("redis://app:a%40b%3Ac%2fd@cache:1/15", &u);
	assert_string_equal(u.password, "a@b:c/d");
	assert_int_equal(u.port, 1);
	assert_int_equal(u.db, 15);

	ok("redis://:s3cret@[::1]:6390/2", &u);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 6390);
	assert_int_equal(u.db, 2);
	redisurl_print(&u, addr, sizeof(addr));
	assert_string_equal(addr, "[::1]:6390/2");

	ok("redis://[fe80::1:2]", &u);
	assert_string_equal(u.host, "fe80::1:2");
	assert_int_equal(u.port, 6379);
}

static void
test_unix(void **state)
{
	struct redisurl	u;
	char		addr[300];

	(void)state;
	ok("unix:///run/redis/redis.sock", &u);
	assert_true(u.unix_path);
	assert_string_equal(u.path, "/run/redis/redis.sock");
	assert_int_equal(u.db, 0);

	ok("unix:///run/r.sock?db=4&password=s3cret", &u);
	assert_int_equal(u.db, 4);
	assert_true(u.has_password);
	assert_string_equal(u.password, "s3cret");
	redisurl_print(&u, addr, sizeof(addr));
	assert_string_equal(addr, "unix:/run/r.sock/4");

	ok("unix:///run/r.sock?user=app&password=s%26cret", &u);
	assert_string_equal(u.user, "app");
	assert_string_equal(u.password, "s&cret");
}

static void
test_refused(void **state)
{
	char	long_host[300], long_path[300];

	(void)state;
	bad("rediss://cache:6380", "hiredis >= 1.0");
	bad("rediss://cache:6380", "stunnel");
	bad("http://cache", "scheme: 'http' is not redis:// or unix://");
	bad("cache:6379", "scheme");
	bad("", "scheme");
	bad("redis://", "host: missing");
	bad("redis://:6379", "host: missing");
	bad("redis://ca che", "host");
	bad("redis://cache:0", "port");
	bad("redis://cache:65536", "port");
	bad("redis://cache:63a9", "port");
	bad("redis://cache:", "port");
	bad("redis://cache:99999999999999", "port");
	bad("redis://cache/x", "db");
	bad("redis://cache/-1", "db");
	bad("redis://cache/3/4", "db");
	bad("redis://cache/99999999999", "db");
	bad("redis://cache?db=1", "query");
	bad("redis://s3cret@cache", "user and password: no ':'");
	bad("redis://app:@cache", "password: empty");
	bad("redis://:s3cret%4@cache", "password: a '%'");
	bad("redis://:s3cret%zz@cache", "password: a '%'");
	bad("redis://:s3%00cret@cache", "%00");
	bad("redis://:s3%1fcret@cache", "control");
	bad("redis://:s3cret@[::1", "'[' without ']'");
	bad("redis://:s3cret@[cache]:1", "IPv6");
	bad("redis://:s3cret@[::1]x", "after ']'");
	bad("redis://:s3cret@[::1]:99999", "port");
	bad("redis://cache:s3cret/0", "port");
	bad("unix://run/redis.sock", "path");
	bad("unix://", "path");
	bad("unix:///r.sock?db=x", "db");
	bad("unix:///r.sock?s3cret", "query");
	bad("unix:///r.sock?color=s3cret", "query");
	bad("unix:///r.sock?user=app", "user: given without a password");
	bad("unix:///r.sock?password=", "password: empty");
	memset(long_host, 'h', sizeof(long_host));
	memcpy(long_host, "redis://", 8);
	long_host[8 + 256] = '\0';
	bad(long_host, "host: longer");
	memset(long_path, 'p', sizeof(long_path));
	memcpy(long_path, "unix:///", 8);
	long_path[7 + 108] = '\0';
	bad(long_path, "path: longer");
	long_path[7 + 107] = '\0';
	{
		struct redisurl	u;

		ok(long_path, &u);
		assert_int_equal(strlen(u.path), 107);
	}
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_unix),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
