/*
 * test_eio_handshake.c: query strings, the OPEN packet and error replies
 * (eio_handshake.c), against the protocol README, the engine.io server's
 * Server.errors and the conformance suite's handshake tests.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "eio.h"

#define Q(s)	(s), sizeof(s) - 1

/* Parse a query and verify it as a GET, no upgrade. */
static int
check(const char *qs, bool get, bool upgrade)
{
	struct eio_query	q;

	eio_handshake_query(&q, qs, strlen(qs));
	return (eio_handshake_verify(&q, get, upgrade));
}

/* The README's example, byte for byte, and valid JSON with its 5 keys. */
static void
test_open(void **state)
{
	static const char	want[] = "0{\"sid\":\"lv_VI97HAXpY6yYWAAAC\","
	    "\"upgrades\":[\"websocket\"],\"pingInterval\":25000,"
	    "\"pingTimeout\":20000,\"maxPayload\":1000000}";
	struct eio_open		o = {
		.sid = "lv_VI97HAXpY6yYWAAAC", .sidlen = 20, .upgrade = true,
		.ping_interval = 25000, .ping_timeout = 20000,
		.max_payload = 1000000,
	};
	uint8_t			out[256];
	json_t			*j;
	json_error_t		 err;
	size_t			 len = sizeof(want) - 1;

	assert_int_equal(eio_handshake_open_len(&o), len);
	assert_int_equal(eio_handshake_open(&o, out, len), (ptrdiff_t)len);
	assert_memory_equal(out, want, len);
	assert_int_equal(eio_handshake_open(&o, out, len - 1),
	    EIO_ERR_NOSPACE);

	j = json_loadb((const char *)out + 1, len - 1, 0, &err);
	assert_non_null(j);
	assert_int_equal(json_object_size(j), 5);
	assert_string_equal(json_string_value(json_object_get(j, "sid")),
	    "lv_VI97HAXpY6yYWAAAC");
	assert_int_equal(json_integer_value(json_object_get(j,
	    "maxPayload")), 1000000);
	json_decref(j);
}

/* A WebSocket session has nothing to upgrade to; big numbers print. */
static void
test_open_websocket(void **state)
{
	static const char	want[] = "0{\"sid\":\"AAAAAAAAAAAAAAAAAAAA\","
	    "\"upgrades\":[],\"pingInterval\":300,\"pingTimeout\":200,"
	    "\"maxPayload\":4294967296}";
	struct eio_open		o = {
		.sid = "AAAAAAAAAAAAAAAAAAAA", .sidlen = 20, .upgrade = false,
		.ping_interval = 300, .ping_timeout = 200,
		.max_payload = 4294967296ULL,
	};
	uint8_t			out[256];

	assert_int_equal(eio_handshake_open(&o, out, sizeof(out)),
	    (ptrdiff_t)sizeof(want) - 1);
	assert_memory_equal(out, want, sizeof(want) - 1);
}

static void
test_open_bad_sid(void **state)
{
	static const char	*bad[] = { "", "a\"b", "a\\b", "a b", "a\nb",
	    "\xc3\xa9" };
	char			 longsid[EIO_SID_MAX + 2];
	struct eio_open		 o = { .ping_interval = 1, .ping_timeout = 1 };
	uint8_t			 out[256];
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.sid = bad[i];
		o.sidlen = strlen(bad[i]);
		assert_int_equal(eio_handshake_open_len(&o), 0);
		assert_int_equal(eio_handshake_open(&o, out, sizeof(out)),
		    EIO_ERR_INVAL);
	}
	o.sid = NULL;
	o.sidlen = 0;
	assert_int_equal(eio_handshake_open(&o, out, sizeof(out)),
	    EIO_ERR_INVAL);

	memset(longsid, 'A', sizeof(longsid));
	o.sid = longsid;
	o.sidlen = EIO_SID_MAX;
	assert_true(eio_handshake_open(&o, out, sizeof(out)) > 0);
	o.sidlen = EIO_SID_MAX + 1;
	assert_int_equal(eio_handshake_open(&o, out, sizeof(out)),
	    EIO_ERR_INVAL);
}

static void
test_query(void **state)
{
	struct eio_query	q;

	eio_handshake_query(&q, Q("EIO=4&transport=polling&t=OxQ2b3c"));
	assert_int_equal(q.version, 4);
	assert_int_equal(q.transport, EIO_TRANSPORT_POLLING);
	assert_false(q.has_sid);

	eio_handshake_query(&q,
	    Q("?EIO=4&transport=websocket&sid=lv_VI97HAXpY6yYWAAAC"));
	assert_int_equal(q.version, 4);
	assert_int_equal(q.transport, EIO_TRANSPORT_WEBSOCKET);
	assert_true(q.has_sid);
	assert_false(q.sid_bad);
	assert_string_equal(q.sid, "lv_VI97HAXpY6yYWAAAC");
	assert_int_equal(q.sidlen, 20);

	/* Percent-decoded keys and values, '+' a space. */
	eio_handshake_query(&q, Q("%45IO=%34&trans%70ort=web%73ocket&"
	    "sid=a%2Bb+c%zz%4"));
	assert_int_equal(q.version, 4);
	assert_int_equal(q.transport, EIO_TRANSPORT_WEBSOCKET);
	assert_string_equal(q.sid, "a+b c%zz%4");

	/* Nothing at all. */
	eio_handshake_query(&q, Q(""));
	assert_int_equal(q.version, 0);
	assert_int_equal(q.transport, EIO_TRANSPORT_NONE);
	assert_false(q.has_sid);
	eio_handshake_query(&q, NULL, 0);
	assert_int_equal(q.transport, EIO_TRANSPORT_NONE);

	/* Versions: only a plain decimal is a number. */
	eio_handshake_query(&q, Q("EIO=3"));
	assert_int_equal(q.version, 3);
	eio_handshake_query(&q, Q("EIO=abc"));
	assert_int_equal(q.version, -1);
	eio_handshake_query(&q, Q("EIO=04"));
	assert_int_equal(q.version, -1);
	eio_handshake_query(&q, Q("EIO="));
	assert_int_equal(q.version, -1);
	eio_handshake_query(&q, Q("EIO"));
	assert_int_equal(q.version, -1);
	eio_handshake_query(&q, Q("EIO=4&EIO=4"));
	assert_int_equal(q.version, -1);
	eio_handshake_query(&q, Q("eio=4"));
	assert_int_equal(q.version, 0);
	eio_handshake_query(&q, Q("EIO%00=4"));
	assert_int_equal(q.version, 0);

	/* Transports. */
	eio_handshake_query(&q, Q("transport=webtransport"));
	assert_int_equal(q.transport, EIO_TRANSPORT_UNKNOWN);
	eio_handshake_query(&q, Q("transport=polling&transport=polling"));
	assert_int_equal(q.transport, EIO_TRANSPORT_UNKNOWN);
	eio_handshake_query(&q, Q("transport=Polling"));
	assert_int_equal(q.transport, EIO_TRANSPORT_UNKNOWN);
	eio_handshake_query(&q, Q("transport=polling%00"));
	assert_int_equal(q.transport, EIO_TRANSPORT_UNKNOWN);
}

static void
test_query_sid(void **state)
{
	struct eio_query	q;
	char			qs[128];

	eio_handshake_query(&q, Q("sid="));
	assert_false(q.has_sid);
	eio_handshake_query(&q, Q("sid"));
	assert_false(q.has_sid);
	eio_handshake_query(&q, Q("sid=a&sid=a"));
	assert_true(q.has_sid);
	assert_true(q.sid_bad);
	eio_handshake_query(&q, Q("sid=&sid="));
	assert_true(q.sid_bad);

	/* EIO_SID_MAX characters fit, one more does not. */
	memcpy(qs, "sid=", 4);
	memset(qs + 4, 'x', EIO_SID_MAX);
	eio_handshake_query(&q, qs, 4 + EIO_SID_MAX);
	assert_true(q.has_sid);
	assert_false(q.sid_bad);
	assert_int_equal(q.sidlen, EIO_SID_MAX);
	qs[4 + EIO_SID_MAX] = 'x';
	eio_handshake_query(&q, qs, 5 + EIO_SID_MAX);
	assert_true(q.has_sid);
	assert_true(q.sid_bad);
	assert_int_equal(q.sidlen, 0);
}

/* The conformance suite's handshake failures, and their replies. */
static void
test_verify_suite(void **state)
{
	assert_int_equal(check("EIO=4&transport=polling", true, false),
	    EIO_OK);
	assert_int_equal(check("EIO=4&transport=websocket", true, true),
	    EIO_OK);
	/* "fails with an invalid 'EIO' query parameter" */
	assert_int_equal(check("transport=polling", true, false),
	    EIO_ERR_VERSION);
	assert_int_equal(check("EIO=abc&transport=polling", true, false),
	    EIO_ERR_VERSION);
	assert_int_equal(check("EIO=3&transport=websocket", true, true),
	    EIO_ERR_VERSION);
	/* "fails with an invalid 'transport' query parameter" */
	assert_int_equal(check("EIO=4", true, false), EIO_ERR_TRANSPORT);
	assert_int_equal(check("EIO=4&transport=abc", true, false),
	    EIO_ERR_TRANSPORT);
	/* "fails with an invalid request method" */
	assert_int_equal(check("EIO=4&transport=polling", false, false),
	    EIO_ERR_METHOD);
	assert_int_equal(eio_handshake_status(eio_handshake_code(
	    EIO_ERR_METHOD)), 400);
}

/* Order and session requests, as engine.io's verify() and handshake(). */
static void
test_verify_order(void **state)
{
	struct eio_query	q;

	/* The transport is checked before the version. */
	assert_int_equal(check("transport=abc", true, false),
	    EIO_ERR_TRANSPORT);
	assert_int_equal(check("EIO=3", false, false), EIO_ERR_TRANSPORT);
	/* The method before the version. */
	assert_int_equal(check("EIO=3&transport=polling", false, false),
	    EIO_ERR_METHOD);
	/* A WebSocket handshake must be an upgrade... */
	assert_int_equal(check("EIO=4&transport=websocket", true, false),
	    EIO_ERR_BAD_REQUEST);
	/* ...and an upgrade must be to WebSocket. */
	assert_int_equal(check("EIO=4&transport=polling", true, true),
	    EIO_ERR_BAD_REQUEST);
	assert_int_equal(check("EIO=4&transport=polling&sid=abc", true, true),
	    EIO_ERR_BAD_REQUEST);

	/* With a sid: POST is fine, EIO is not looked at. */
	assert_int_equal(check("EIO=4&transport=polling&sid=abc", false,
	    false), EIO_OK);
	assert_int_equal(check("transport=polling&sid=abc", true, false),
	    EIO_OK);
	assert_int_equal(check("EIO=4&transport=websocket&sid=abc", true,
	    true), EIO_OK);
	assert_int_equal(check("EIO=4&transport=polling&sid=a&sid=b", true,
	    false), EIO_ERR_SID);
	assert_int_equal(check("EIO=4&transport=abc&sid=a&sid=b", true,
	    false), EIO_ERR_TRANSPORT);
	/* An empty sid is a handshake. */
	assert_int_equal(check("EIO=4&transport=polling&sid=", false, false),
	    EIO_ERR_METHOD);

	memset(&q, 0, sizeof(q));
	q.transport = EIO_TRANSPORT_POLLING;
	q.version = 4;
	assert_int_equal(eio_handshake_verify(&q, true, false), EIO_OK);
}

static void
test_param(void **state)
{
	static const char	qs[] = "EIO=4&transport=polling&"
	    "token=abc%20def+g"
	    "&empty=&bare&tok%65n2=x&token=second";
	char			out[32];

	assert_int_equal(eio_handshake_param(Q(qs), "token", out,
	    sizeof(out)), 9);
	assert_string_equal(out, "abc def g");
	assert_int_equal(eio_handshake_param(Q(qs), "empty", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(eio_handshake_param(Q(qs), "bare", out,
	    sizeof(out)), 0);
	assert_int_equal(eio_handshake_param(Q(qs), "token2", out,
	    sizeof(out)), 1);
	assert_string_equal(out, "x");
	assert_int_equal(eio_handshake_param(Q(qs), "EIO", out, sizeof(out)),
	    1);
	assert_int_equal(eio_handshake_param(Q(qs), "tok", out, sizeof(out)),
	    EIO_ERR_ABSENT);
	assert_int_equal(eio_handshake_param(Q(qs), "eio", out, sizeof(out)),
	    EIO_ERR_ABSENT);
	assert_int_equal(eio_handshake_param(Q(qs), "token", out, 9),
	    EIO_ERR_NOSPACE);
	assert_int_equal(eio_handshake_param(Q(qs), "token", out, 10), 9);
	assert_int_equal(eio_handshake_param(Q("?a=1"), "a", out,
	    sizeof(out)), 1);
	assert_int_equal(eio_handshake_param(Q(""), "a", out, sizeof(out)),
	    EIO_ERR_ABSENT);
}

static void
test_unescape(void **state)
{
	static const char	*v[][2] = {
		{ "", "" }, { "abc", "abc" }, { "a+b", "a b" },
		{ "%41%62%63", "Abc" }, { "%e2%82%AC", "\xe2\x82\xac" },
		{ "%2B", "+" }, { "%", "%" }, { "%4", "%4" }, { "%%41", "%A" },
		{ "%G1", "%G1" }, { "%4g", "%4g" }, { "100%", "100%" },
	};
	char			 out[16];
	size_t			 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(eio_handshake_unescape(v[i][0],
		    strlen(v[i][0]), out, sizeof(out)),
		    (ptrdiff_t)strlen(v[i][1]));
		assert_string_equal(out, v[i][1]);
	}
	assert_int_equal(eio_handshake_unescape(Q("a%00b"), out, sizeof(out)),
	    3);
	assert_memory_equal(out, "a\0b", 4);
	assert_int_equal(eio_handshake_unescape(Q("abc"), out, 3),
	    EIO_ERR_NOSPACE);
	assert_int_equal(eio_handshake_unescape(Q("abc"), out, 4), 3);
	assert_int_equal(eio_handshake_unescape(Q(""), out, 0),
	    EIO_ERR_NOSPACE);
	assert_int_equal(eio_handshake_unescape(Q("%41%41"), out, 3), 2);
}

/* engine.io Server.errors / errorMessages and abortRequest(). */
static void
test_errors(void **state)
{
	static const struct {
		int		 err;
		int		 code;
		int		 status;
		const char	*body;
	} v[] = {
		{ EIO_ERR_TRANSPORT, 0, 400,
		    "{\"code\":0,\"message\":\"Transport unknown\"}" },
		{ EIO_ERR_SID, 1, 400,
		    "{\"code\":1,\"message\":\"Session ID unknown\"}" },
		{ EIO_ERR_METHOD, 2, 400,
		    "{\"code\":2,\"message\":\"Bad handshake method\"}" },
		{ EIO_ERR_BAD_REQUEST, 3, 400,
		    "{\"code\":3,\"message\":\"Bad request\"}" },
		{ EIO_ERR_FORBIDDEN, 4, 403,
		    "{\"code\":4,\"message\":\"Forbidden\"}" },
		{ EIO_ERR_VERSION, 5, 400,
		    "{\"code\":5,"
		    "\"message\":\"Unsupported protocol version\"}" },
	};
	uint8_t			out[64];
	size_t			i, len;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		len = strlen(v[i].body);
		assert_int_equal(eio_handshake_code(v[i].err), v[i].code);
		assert_int_equal(eio_handshake_status(v[i].code), v[i].status);
		assert_int_equal(eio_handshake_error(v[i].code, out, len),
		    (ptrdiff_t)len);
		assert_memory_equal(out, v[i].body, len);
		assert_int_equal(eio_handshake_error(v[i].code, out, len - 1),
		    EIO_ERR_NOSPACE);
	}
	assert_string_equal(eio_handshake_message(EIO_CODE_BAD_REQUEST),
	    "Bad request");
	assert_null(eio_handshake_message(6));
	assert_null(eio_handshake_message(-1));
	assert_int_equal(eio_handshake_error(6, out, sizeof(out)),
	    EIO_ERR_INVAL);
	assert_int_equal(eio_handshake_error(-1, out, sizeof(out)),
	    EIO_ERR_INVAL);
	assert_int_equal(eio_handshake_code(EIO_OK), -1);
	assert_int_equal(eio_handshake_code(EIO_ERR_TOO_BIG), -1);
	assert_int_equal(eio_handshake_code(EIO_ERR_TYPE), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_open_websocket),
		cmocka_unit_test(test_open_bad_sid),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_query_sid),
		cmocka_unit_test(test_verify_suite),
		cmocka_unit_test(test_verify_order),
		cmocka_unit_test(test_param),
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_errors),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
