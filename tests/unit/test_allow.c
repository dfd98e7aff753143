/*
 * test_allow: guards the client address lists of status_allow
 * (src/core/allow.c; issue 11.18): addresses and CIDR blocks, v4 and v6,
 * IPv4-mapped clients, what is refused when parsing, and that an empty
 * list allows everyone (the default keeps /health and /metrics open).
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "allow.h"

static int
match(const char *list, const char *ip)
{
	struct allow		a;
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	char			err[160];

	assert_int_equal(allow_parse(list, &a, err, sizeof(err)), 0);
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		return allow_match(&a, (struct sockaddr *)&sin);
	}
	assert_int_equal(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1);
	sin6.sin6_family = AF_INET6;
	return allow_match(&a, (struct sockaddr *)&sin6);
}

static void
test_match(void **state)
{
	(void)state;
	assert_true(match("", "203.0.113.9"));
	assert_true(match("127.0.0.1", "127.0.0.1"));
	assert_false(match("127.0.0.1", "127.0.0.2"));
	assert_true(match("10.0.0.0/8, 192.168.1.0/24", "10.200.3.4"));
	assert_true(match("10.0.0.0/8 192.168.1.0/24", "192.168.1.77"));
	assert_false(match("10.0.0.0/8,192.168.1.0/24", "192.168.2.1"));
	assert_true(match("172.16.0.0/12", "172.31.255.255"));
	assert_false(match("172.16.0.0/12", "172.32.0.0"));
	assert_true(match("0.0.0.0/0", "8.8.8.8"));
	assert_false(match("0.0.0.0/0", "::1"));
	assert_true(match("::1", "::1"));
	assert_true(match("fd00::/8", "fd12:3456::1"));
	assert_false(match("fd00::/8", "fe80::1"));
	assert_true(match("127.0.0.1", "::ffff:127.0.0.1"));
	assert_false(match("127.0.0.1", "::ffff:127.0.0.2"));
}

static void
test_not_ip(void **state)
{
	struct allow		a;
	struct sockaddr_un	sun;
	char			err[160];

	(void)state;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_int_equal(allow_parse("127.0.0.1", &a, err, sizeof(err)), 0);
	assert_false(allow_match(&a, (struct sockaddr *)&sun));
	assert_false(allow_match(&a, NULL));
	assert_int_equal(allow_parse("", &a, err, sizeof(err)), 0);
	assert_true(allow_match(&a, (struct sockaddr *)&sun));
}

static void
test_parse_errors(void **state)
{
	static const char *const bad[] = { "localhost", "10.0.0.0/33",
	    "::1/129", "10.0.0.1/", "10.0.0.1/-1", "10.0.0.1/8x", "1.2.3",
	    "10.0.0.0/8,nope", NULL };
	struct allow	a;
	char		err[160], many[1024];
	size_t		i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++)
		assert_int_equal(allow_parse(bad[i], &a, err, sizeof(err)), -1);
	assert_int_equal(allow_parse("10.0.0.0/8,nope", &a, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "\"nope\" is not an address or an "
	    "address/prefix");
	many[0] = '\0';
	for (i = 0; i <= ALLOW_MAX; i++)
		strcat(many, "10.0.0.1,");
	assert_int_equal(allow_parse(many, &a, err, sizeof(err)), -1);
	assert_string_equal(err, "more than 32 entries");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_parse_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
