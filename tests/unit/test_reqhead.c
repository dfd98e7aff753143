/*
 * test_reqhead.c: the head of a connection's first request (reqhead.c):
 * routing by the sid in the request line, and whether the head fits the
 * header buffer (414, 431) before libwebsockets reads it (issue 11.11).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "reqhead.h"
#include "sid.h"

static const char *
line_with_sid(int worker, char *buf, size_t len)
{
	uint8_t	rnd[SID_RANDOM_BYTES];
	char	sid[SID_LEN + 1];

	memset(rnd, 7, sizeof(rnd));
	assert_int_equal(sid_encode(rnd, (unsigned)worker, sid), 0);
	snprintf(buf, len, "GET /socket.io/?EIO=4&transport=websocket&sid=%s "
	    "HTTP/1.1\r\nHost: x\r\n\r\n", sid);
	return buf;
}

static void
test_route(void **state)
{
	char	buf[256];
	const char *l;

	(void)state;
	l = line_with_sid(3, buf, sizeof(buf));
	assert_int_equal(reqhead_route(l, strlen(l), 0), 3);
	assert_int_equal(reqhead_route(l, strlen(l), 3), -1);	/* ours */
	/* Not a whole line yet. */
	assert_int_equal(reqhead_route(l, 20, 0), REQHEAD_MORE);
	/* No sid, a sid too short, a sid followed by more of a name. */
	l = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n";
	assert_int_equal(reqhead_route(l, strlen(l), 0), -1);
	l = "GET /socket.io/?sid=abc HTTP/1.1\r\n";
	assert_int_equal(reqhead_route(l, strlen(l), 0), -1);
	l = "GET /?xsid=AAAAAAAAAAAAAAAAAAAA HTTP/1.1\r\n";
	assert_int_equal(reqhead_route(l, strlen(l), 0), -1);
}

static void
test_route_no_nul(void **state)
{
	char	buf[2048];

	(void)state;
	/* A line longer than routing looks at is served where it lands. */
	memset(buf, 'a', sizeof(buf));
	assert_int_equal(reqhead_route(buf, sizeof(buf), 0), -1);
	assert_int_equal(reqhead_route(buf, 100, 0), REQHEAD_MORE);
}

static void
test_check(void **state)
{
	char	buf[4096];
	const char *h;
	size_t	n;

	(void)state;
	h = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
	assert_int_equal(reqhead_check(h, strlen(h), 1024), 0);
	h = "GET /health HTTP/1.1\nHost: x\n\n";		/* bare LF */
	assert_int_equal(reqhead_check(h, strlen(h), 1024), 0);
	h = "GET /health HTTP/1.1\r\nHost: x\r\n";		/* more to come */
	assert_int_equal(reqhead_check(h, strlen(h), 1024), REQHEAD_MORE);
	h = "GET /health HTTP/1.1\r\n\r\n";			/* no headers */
	assert_int_equal(reqhead_check(h, strlen(h), 1024), 0);

	/* A request line past 3/4 of the buffer: 414, whole or not. */
	memset(buf, 'u', sizeof(buf));
	memcpy(buf, "GET /", 5);
	assert_int_equal(reqhead_check(buf, 768, 1024), 414);
	memcpy(buf + 800, "\r\n\r\n", 4);
	assert_int_equal(reqhead_check(buf, 804, 1024), 414);
	assert_int_equal(reqhead_check(buf, 700, 1024), REQHEAD_MORE);

	/* Headers that pass the buffer: 431; a head that just fits: 0. */
	n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nX: ");
	memset(buf + n, 'h', sizeof(buf) - n);
	assert_int_equal(reqhead_check(buf, 1024, 1024), 431);
	assert_int_equal(reqhead_check(buf, 4096, 1024), 431);
	assert_int_equal(reqhead_check(buf, 1000, 1024), REQHEAD_MORE);
	memcpy(buf + 1020, "\r\n\r\n", 4);
	assert_int_equal(reqhead_check(buf, 1024, 1024), 0);
	/* The end of the head just past the buffer does not count. */
	memset(buf + 1020, 'h', 4);
	memcpy(buf + 1021, "\r\n\r\n", 4);
	assert_int_equal(reqhead_check(buf, 1025, 1024), 431);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_route_no_nul),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
