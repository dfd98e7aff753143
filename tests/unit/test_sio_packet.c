/*
 * Unit tests for sio_packet.c: every example of the socket.io-protocol
 * README, every packet the public test suite (socket.io-protocol/
 * test-suite) sends and expects, every rejection it checks, limits at their
 * boundaries, round trips, and the wire encoders.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sio.h"

static int	 decode(const char *, const struct sio_limits *,
		    struct sio_packet *);
static void	 check_rc(const char *, int);
static void	 round_trip(const char *);
static char	*dump(const json_t *);

static int
decode(const char *s, const struct sio_limits *lim, struct sio_packet *p)
{
	return (sio_packet_decode(s, strlen(s), lim, p));
}

static void
check_rc(const char *s, int want)
{
	struct sio_packet	 p;
	int			 rc;

	rc = decode(s, NULL, &p);
	if (rc != want)
		fail_msg("%s: got %d (%s), want %d (%s)", s, rc,
		    sio_strerror(rc), want, sio_strerror(want));
	if (rc != SIO_OK)
		assert_null(p.data);
	sio_packet_clear(&p);
}

/* decode(s) succeeds and encodes back to the same bytes. */
static void
round_trip(const char *s)
{
	struct sio_packet	 p;
	char			 buf[512];
	size_t			 n;

	if (decode(s, NULL, &p) != SIO_OK)
		fail_msg("refused %s", s);
	n = sio_packet_encode(&p, 0, buf, sizeof(buf));
	assert_int_equal(n, strlen(s));
	assert_string_equal(buf, s);
	n = sio_packet_encode(&p, SIO_ENCODE_EIO, buf, sizeof(buf));
	assert_int_equal(n, strlen(s) + 1);
	assert_int_equal(buf[0], '4');
	assert_string_equal(buf + 1, s);
	sio_packet_clear(&p);
}

static char *
dump(const json_t *j)
{
	return (json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY));
}

/* The README's "Packet encoding" examples, decoded field by field. */
static void
test_readme_decode(void **state)
{
	struct sio_packet	 p;
	char			*s;

	(void)state;
	assert_int_equal(decode("0", NULL, &p), SIO_OK);
	assert_int_equal(p.type, SIO_CONNECT);
	assert_string_equal(p.nsp, "/");
	assert_int_equal(p.nsp_len, 1);
	assert_int_equal(p.ack_id, -1);
	assert_null(p.data);
	sio_packet_clear(&p);

	assert_int_equal(decode("0/admin,{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}",
	    NULL, &p), SIO_OK);
	assert_int_equal(p.type, SIO_CONNECT);
	assert_string_equal(p.nsp, "/admin");
	assert_int_equal(p.nsp_len, 6);
	assert_string_equal(json_string_value(json_object_get(p.data, "sid")),
	    "oSO0OpakMV_3jnilAAAA");
	sio_packet_clear(&p);

	assert_int_equal(decode("4{\"message\":\"Not authorized\"}", NULL, &p),
	    SIO_OK);
	assert_int_equal(p.type, SIO_CONNECT_ERROR);
	sio_packet_clear(&p);

	assert_int_equal(decode("3/admin,13[\"bar\"]", NULL, &p), SIO_OK);
	assert_int_equal(p.type, SIO_ACK);
	assert_string_equal(p.nsp, "/admin");
	assert_int_equal(p.ack_id, 13);
	s = dump(p.data);
	assert_string_equal(s, "[\"bar\"]");
	free(s);
	sio_packet_clear(&p);

	assert_int_equal(decode("52-/admin,[\"baz\",{\"_placeholder\":true,"
	    "\"num\":0},{\"_placeholder\":true,\"num\":1}]", NULL, &p), SIO_OK);
	assert_int_equal(p.type, SIO_BINARY_EVENT);
	assert_int_equal(p.attachments, 2);
	assert_string_equal(p.nsp, "/admin");
	assert_int_equal(p.ack_id, -1);
	sio_packet_clear(&p);

	assert_int_equal(decode("61-15[\"bar\",{\"_placeholder\":true,"
	    "\"num\":0}]", NULL, &p), SIO_OK);
	assert_int_equal(p.type, SIO_BINARY_ACK);
	assert_int_equal(p.attachments, 1);
	assert_int_equal(p.ack_id, 15);
	sio_packet_clear(&p);

	assert_int_equal(decode("1/admin,", NULL, &p), SIO_OK);
	assert_int_equal(p.type, SIO_DISCONNECT);
	assert_string_equal(p.nsp, "/admin");
	sio_packet_clear(&p);
}

/* Every README example, and the sample session, encodes back unchanged. */
static void
test_readme_round_trip(void **state)
{
	static const char *const v[] = {
		"0",
		"0/admin,{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}",
		"4{\"message\":\"Not authorized\"}",
		"2[\"foo\"]",
		"2/admin,[\"bar\"]",
		"51-[\"baz\",{\"_placeholder\":true,\"num\":0}]",
		"52-/admin,[\"baz\",{\"_placeholder\":true,\"num\":0},"
		    "{\"_placeholder\":true,\"num\":1}]",
		"212[\"foo\"]",
		"3/admin,13[\"bar\"]",
		"61-15[\"bar\",{\"_placeholder\":true,\"num\":0}]",
		"1",
		"1/admin,",
		"0{\"sid\":\"wZX3oN0bSVIhsaknAAAI\"}",
		"2[\"hey\",\"Jude\"]",
		"0/admin,",
		"0/admin,{\"sid\":\"-G5j-67EZFp-q59rADQM\"}",
		"2/admin,1[\"tellme\"]",
		"61-/admin,1[{\"_placeholder\":true,\"num\":0}]",
		NULL
	};
	int	 i;

	(void)state;
	for (i = 0; v[i] != NULL; i++)
		round_trip(v[i]);
}

/* What the public test suite sends (after the Engine.IO '4'). */
static void
test_suite_accepts(void **state)
{
	static const char *const v[] = {
		"0",
		"0{\"token\":\"123\"}",
		"0/custom,",
		"0/custom,{\"token\":\"abc\"}",
		"1",
		"2[\"message\",\"message to main namespace\"]",
		"2[\"message\",1,\"2\",{\"3\":[true]}]",
		"52-[\"message\",{\"_placeholder\":true,\"num\":0},"
		    "{\"_placeholder\":true,\"num\":1}]",
		"2456[\"message-with-ack\",1,\"2\",{\"3\":[false]}]",
		"52-789[\"message-with-ack\",{\"_placeholder\":true,\"num\":0},"
		    "{\"_placeholder\":true,\"num\":1}]",
		NULL
	};
	struct sio_packet	 p;
	int			 i;

	(void)state;
	for (i = 0; v[i] != NULL; i++)
		round_trip(v[i]);

	/* No comma: the namespace runs to the end of the packet. */
	assert_int_equal(decode("0/random", NULL, &p), SIO_OK);
	assert_string_equal(p.nsp, "/random");
	assert_null(p.data);
	sio_packet_clear(&p);
	assert_int_equal(decode("0/custom", NULL, &p), SIO_OK);
	assert_string_equal(p.nsp, "/custom");
	sio_packet_clear(&p);
	assert_int_equal(decode("1/custom", NULL, &p), SIO_OK);
	assert_int_equal(p.type, SIO_DISCONNECT);
	assert_string_equal(p.nsp, "/custom");
	sio_packet_clear(&p);

	assert_int_equal(decode("2456[\"message-with-ack\",1]", NULL, &p),
	    SIO_OK);
	assert_int_equal(p.ack_id, 456);
	sio_packet_clear(&p);
}

/* The test suite's "should close the connection upon invalid format". */
static void
test_suite_rejects(void **state)
{
	(void)state;
	/* "4abc": unknown packet type; also the invalid handshake. */
	check_rc("abc", SIO_ERR_TYPE);
	/* "42{}": invalid payload format. */
	check_rc("2{}", SIO_ERR_PAYLOAD);
	/* "42abc[...]": invalid ack id, which leaves no JSON behind. */
	check_rc("2abc[\"message-with-ack\",1,\"2\",{\"3\":[false]}]",
	    SIO_ERR_JSON);
}

static void
test_type(void **state)
{
	(void)state;
	check_rc("", SIO_ERR_TYPE);
	check_rc("7", SIO_ERR_TYPE);
	check_rc("9[\"a\"]", SIO_ERR_TYPE);
	check_rc(" 0", SIO_ERR_TYPE);
	check_rc("-1", SIO_ERR_TYPE);
	check_rc("/", SIO_ERR_TYPE);
}

static void
test_attachments(void **state)
{
	struct sio_limits	 lim = sio_limits_default;
	struct sio_packet	 p;
	const char		*ten = "510-[\"a\",{\"_placeholder\":true,"
	    "\"num\":0}]";

	(void)state;
	check_rc("5-[\"a\"]", SIO_ERR_ATTACHMENTS);
	check_rc("50-[\"a\"]", SIO_ERR_ATTACHMENTS);
	check_rc("51[\"a\"]", SIO_ERR_ATTACHMENTS);
	check_rc("5", SIO_ERR_ATTACHMENTS);
	check_rc("51", SIO_ERR_ATTACHMENTS);
	check_rc("5a-[\"a\"]", SIO_ERR_ATTACHMENTS);
	check_rc("5 1-[\"a\"]", SIO_ERR_ATTACHMENTS);
	check_rc("5+1-[\"a\"]", SIO_ERR_ATTACHMENTS);
	check_rc("599999999999999999999999-[\"a\"]", SIO_ERR_ATTACHMENTS);
	check_rc("61-", SIO_ERR_PAYLOAD);
	/* At the limit and one over (socket.io-parser's default: 10). */
	assert_int_equal(decode(ten, NULL, &p), SIO_OK);
	assert_int_equal(p.attachments, 10);
	sio_packet_clear(&p);
	check_rc("511-[\"a\",{\"_placeholder\":true,\"num\":0}]",
	    SIO_ERR_ATTACHMENTS);
	lim.max_attachments = 9;
	assert_int_equal(decode(ten, &lim, &p), SIO_ERR_ATTACHMENTS);
	lim.max_attachments = 0;
	assert_int_equal(decode("51-[\"a\"]", &lim, &p), SIO_ERR_ATTACHMENTS);
	/* Attachments are read only for binary types. */
	check_rc("21-[\"a\"]", SIO_ERR_JSON);
}

static void
test_nsp(void **state)
{
	struct sio_packet	 p;
	char			 buf[SIO_NSP_MAX + 16];

	(void)state;
	assert_int_equal(decode("2/,[\"a\"]", NULL, &p), SIO_OK);
	assert_string_equal(p.nsp, "/");
	sio_packet_clear(&p);
	assert_int_equal(decode("2/a/b\xc3\xa9,7[\"a\"]", NULL, &p), SIO_OK);
	assert_string_equal(p.nsp, "/a/b\xc3\xa9");
	assert_int_equal(p.ack_id, 7);
	sio_packet_clear(&p);

	/* SIO_NSP_MAX bytes, then one more. */
	buf[0] = '0';
	memset(buf + 1, 'n', SIO_NSP_MAX);
	buf[1] = '/';
	buf[SIO_NSP_MAX + 1] = '\0';
	assert_int_equal(decode(buf, NULL, &p), SIO_OK);
	assert_int_equal(p.nsp_len, SIO_NSP_MAX);
	assert_int_equal(strlen(p.nsp), SIO_NSP_MAX);
	sio_packet_clear(&p);
	buf[SIO_NSP_MAX + 1] = 'n';
	buf[SIO_NSP_MAX + 2] = '\0';
	check_rc(buf, SIO_ERR_NSP);

	check_rc("0/a\tb,", SIO_ERR_NSP);
	check_rc("0/a\x7f,", SIO_ERR_NSP);
	check_rc("0/\xff,", SIO_ERR_NSP);
	check_rc("0/\xc3,", SIO_ERR_NSP);
	assert_int_equal(sio_packet_decode("0/a\0b,", 6, NULL, &p),
	    SIO_ERR_NSP);
	/* A namespace must start with '/': "admin," is not JSON. */
	check_rc("0admin,{}", SIO_ERR_JSON);
}

static void
test_ack(void **state)
{
	struct sio_packet	 p;

	(void)state;
	assert_int_equal(decode("29007199254740991[\"a\"]", NULL, &p), SIO_OK);
	assert_int_equal(p.ack_id, SIO_ACK_MAX);
	sio_packet_clear(&p);
	check_rc("29007199254740992[\"a\"]", SIO_ERR_ACK);
	check_rc("299999999999999999999999999[\"a\"]", SIO_ERR_ACK);
	assert_int_equal(decode("20[\"a\"]", NULL, &p), SIO_OK);
	assert_int_equal(p.ack_id, 0);
	sio_packet_clear(&p);
	/* Leading zeros read as JS Number() reads them. */
	assert_int_equal(decode("2/x,007[\"a\"]", NULL, &p), SIO_OK);
	assert_int_equal(p.ack_id, 7);
	sio_packet_clear(&p);
	/* The parser reads an id for every type; so do we. */
	assert_int_equal(decode("112", NULL, &p), SIO_OK);
	assert_int_equal(p.type, SIO_DISCONNECT);
	assert_int_equal(p.ack_id, 12);
	sio_packet_clear(&p);
	assert_int_equal(decode("35[]", NULL, &p), SIO_OK);
	assert_int_equal(p.ack_id, 5);
	sio_packet_clear(&p);
	check_rc("2-1[\"a\"]", SIO_ERR_JSON);
}

/* socket.io-parser's isPayloadValid(), type by type. */
static void
test_payload(void **state)
{
	(void)state;
	check_rc("0{}", SIO_OK);
	check_rc("0[]", SIO_ERR_PAYLOAD);
	check_rc("0\"x\"", SIO_ERR_PAYLOAD);
	check_rc("0null", SIO_ERR_PAYLOAD);
	check_rc("1{}", SIO_ERR_PAYLOAD);
	check_rc("1[]", SIO_ERR_PAYLOAD);
	check_rc("2", SIO_ERR_PAYLOAD);
	check_rc("2/admin", SIO_ERR_PAYLOAD);
	check_rc("2/admin,", SIO_ERR_PAYLOAD);
	check_rc("212", SIO_ERR_PAYLOAD);
	check_rc("2[]", SIO_ERR_PAYLOAD);
	check_rc("2[{}]", SIO_ERR_PAYLOAD);
	check_rc("2[null]", SIO_ERR_PAYLOAD);
	check_rc("2[[\"a\"]]", SIO_ERR_PAYLOAD);
	check_rc("2[true]", SIO_ERR_PAYLOAD);
	check_rc("2\"a\"", SIO_ERR_PAYLOAD);
	check_rc("2[1]", SIO_OK);
	check_rc("2[1.5,\"x\"]", SIO_OK);
	check_rc("3[]", SIO_OK);
	check_rc("3{}", SIO_ERR_PAYLOAD);
	check_rc("3", SIO_ERR_PAYLOAD);
	check_rc("4\"Not authorized\"", SIO_OK);
	check_rc("4{}", SIO_OK);
	check_rc("4", SIO_ERR_PAYLOAD);
	check_rc("4[]", SIO_ERR_PAYLOAD);
	check_rc("4/x,1", SIO_ERR_PAYLOAD);
	check_rc("51-[]", SIO_ERR_PAYLOAD);
	check_rc("51-{}", SIO_ERR_PAYLOAD);
	check_rc("61-{}", SIO_ERR_PAYLOAD);
	check_rc("61-[]", SIO_OK);
	check_rc("2[\"a\"", SIO_ERR_JSON);
	check_rc("2[\"a\"]x", SIO_ERR_JSON);
	check_rc("2 [\"a\"] ", SIO_OK);
	check_rc("2[\"a\\u0000b\"]", SIO_OK);
	check_rc("2[\"a\",\"\\ud800\"]", SIO_ERR_JSON);
	check_rc("2[\"a\",99999999999999999999]", SIO_ERR_NUMBER);
	check_rc("2[\"a\",1e999]", SIO_ERR_NUMBER);
}

static void
test_reserved(void **state)
{
	static const char *const names[] = {
		"connect", "connect_error", "disconnect", "disconnecting",
		"newListener", "removeListener", NULL
	};
	char	 buf[64];
	int	 i;

	(void)state;
	for (i = 0; names[i] != NULL; i++) {
		snprintf(buf, sizeof(buf), "2[\"%s\",1]", names[i]);
		check_rc(buf, SIO_ERR_RESERVED);
		snprintf(buf, sizeof(buf), "51-[\"%s\",{\"_placeholder\":true,"
		    "\"num\":0}]", names[i]);
		check_rc(buf, SIO_ERR_RESERVED);
		assert_true(sio_event_reserved(names[i], strlen(names[i])));
	}
	check_rc("2[\"Connect\"]", SIO_OK);
	check_rc("2[\"connect \"]", SIO_OK);
	check_rc("2[\"connect\\u0000\"]", SIO_OK);
	check_rc("3[\"connect\"]", SIO_OK);
	assert_false(sio_event_reserved("connec", 6));
}

/* Limits: exactly at the maximum, and one over. */
static void
test_limits(void **state)
{
	struct sio_limits	 lim = { 0, 3, 10, 0 };
	struct sio_packet	 p;

	(void)state;
	assert_int_equal(decode("2[\"a\",[[1]]]", &lim, &p), SIO_OK);
	sio_packet_clear(&p);
	assert_int_equal(decode("2[\"a\",[[[1]]]]", &lim, &p), SIO_ERR_DEPTH);
	assert_null(p.data);
	assert_int_equal(decode("2[\"a\",{\"b\":{}}]", &lim, &p), SIO_OK);
	sio_packet_clear(&p);
	assert_int_equal(decode("2[\"a\",{\"b\":{\"c\":[]}}]", &lim, &p),
	    SIO_ERR_DEPTH);

	/* ["a",{"k":1}] is 5 elements: array, "a", object, key, 1. */
	lim.max_depth = 0;
	lim.max_elements = 5;
	assert_int_equal(decode("2[\"a\",{\"k\":1}]", &lim, &p), SIO_OK);
	sio_packet_clear(&p);
	lim.max_elements = 4;
	assert_int_equal(decode("2[\"a\",{\"k\":1}]", &lim, &p),
	    SIO_ERR_ELEMENTS);

	/* max_bytes counts the whole Socket.IO packet. */
	lim.max_elements = 0;
	lim.max_bytes = strlen("2/x,12[\"abc\"]");
	assert_int_equal(decode("2/x,12[\"abc\"]", &lim, &p), SIO_OK);
	sio_packet_clear(&p);
	assert_int_equal(decode("2/x,12[\"abcd\"]", &lim, &p),
	    SIO_ERR_TOO_BIG);
	assert_int_equal(decode("2/x,123[\"abc\"]", &lim, &p),
	    SIO_ERR_TOO_BIG);

	/* The defaults. */
	assert_int_equal(sio_limits_default.max_bytes, 1000000);
	assert_int_equal(sio_limits_default.max_attachments, 10);
}

static void
test_event_helpers(void **state)
{
	struct sio_packet	 p;
	size_t			 len;

	(void)state;
	assert_int_equal(decode("2[\"send_message\",{\"a\":1},2]", NULL, &p),
	    SIO_OK);
	assert_string_equal(sio_event_name(&p, &len), "send_message");
	assert_int_equal(len, 12);
	assert_int_equal(sio_event_nargs(&p), 2);
	assert_true(json_is_object(sio_event_arg(&p, 0)));
	assert_int_equal(json_integer_value(sio_event_arg(&p, 1)), 2);
	assert_null(sio_event_arg(&p, 2));
	sio_packet_clear(&p);

	assert_int_equal(decode("2[\"a\\u0000b\"]", NULL, &p), SIO_OK);
	assert_non_null(sio_event_name(&p, &len));
	assert_int_equal(len, 3);
	assert_int_equal(sio_event_nargs(&p), 0);
	sio_packet_clear(&p);

	assert_int_equal(decode("2[42,\"x\"]", NULL, &p), SIO_OK);
	assert_null(sio_event_name(&p, &len));
	sio_packet_clear(&p);

	assert_int_equal(decode("31[\"x\",2]", NULL, &p), SIO_OK);
	assert_null(sio_event_name(&p, NULL));
	assert_int_equal(sio_event_nargs(&p), 2);
	assert_string_equal(json_string_value(sio_event_arg(&p, 0)), "x");
	sio_packet_clear(&p);

	assert_int_equal(decode("0{}", NULL, &p), SIO_OK);
	assert_int_equal(sio_event_nargs(&p), 0);
	assert_null(sio_event_arg(&p, 0));
	sio_packet_clear(&p);
	assert_string_equal(sio_type_name(SIO_BINARY_ACK), "BINARY_ACK");
	assert_string_equal(sio_type_name((enum sio_type)9), "UNKNOWN");
}

/* Payloads come out as JSON.stringify() writes them. */
static void
test_encode_packet(void **state)
{
	struct sio_packet	 p;
	char			 buf[128];

	(void)state;
	sio_packet_init(&p);
	p.type = SIO_CONNECT_ERROR;
	p.data = json_string("Not \"authorized\"");
	assert_int_equal(sio_packet_encode(&p, 0, buf, sizeof(buf)), 21);
	assert_string_equal(buf, "4\"Not \\\"authorized\\\"\"");
	sio_packet_clear(&p);

	assert_int_equal(decode("2 [ \"a\" , 1.0 , 0.1 , -0.0 ] ", NULL, &p),
	    SIO_OK);
	sio_packet_encode(&p, SIO_ENCODE_EIO, buf, sizeof(buf));
	assert_string_equal(buf, "42[\"a\",1,0.1,0]");
	sio_packet_clear(&p);

	sio_packet_init(&p);
	p.type = SIO_EVENT;
	strcpy(p.nsp, "a,b");
	assert_int_equal(sio_packet_encode(&p, 0, buf, sizeof(buf)), 0);
	strcpy(p.nsp, "admin");
	assert_int_equal(sio_packet_encode(&p, 0, buf, sizeof(buf)), 0);
	strcpy(p.nsp, "/");
	p.ack_id = -2;
	assert_int_equal(sio_packet_encode(&p, 0, buf, sizeof(buf)), 0);
	p.ack_id = SIO_ACK_MAX + 1;
	assert_int_equal(sio_packet_encode(&p, 0, buf, sizeof(buf)), 0);
	p.ack_id = -1;
	p.type = (enum sio_type)7;
	assert_int_equal(sio_packet_encode(&p, 0, buf, sizeof(buf)), 0);
	p.type = SIO_BINARY_ACK;
	assert_int_equal(sio_packet_encode(&p, 0, buf, sizeof(buf)), 0);
	p.attachments = 1;
	assert_int_equal(sio_packet_encode(&p, 0, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "61-");
}

static void
test_encode_event(void **state)
{
	const char *const	 args[] = {
		"{\"id\":\"m1\",\"n\":2}", "[1,2]"
	};
	const size_t		 lens[] = { 3, 5 };
	char			 buf[128];
	size_t			 n;

	(void)state;
	n = sio_encode_event(buf, sizeof(buf), NULL, "receive_message", args,
	    NULL, 1, -1);
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf,
	    "42[\"receive_message\",{\"id\":\"m1\",\"n\":2}]");
	sio_encode_event(buf, sizeof(buf), "/", "ev", args, NULL, 2, -1);
	assert_string_equal(buf, "42[\"ev\",{\"id\":\"m1\",\"n\":2},[1,2]]");
	sio_encode_event(buf, sizeof(buf), "/chat", "ev", args + 1, NULL, 1,
	    -1);
	assert_string_equal(buf, "42/chat,[\"ev\",[1,2]]");
	sio_encode_event(buf, sizeof(buf), "/chat", "ev", NULL, NULL, 0, 12);
	assert_string_equal(buf, "42/chat,12[\"ev\"]");
	sio_encode_event(buf, sizeof(buf), NULL, "foo", NULL, NULL, 0, 12);
	assert_string_equal(buf, "4212[\"foo\"]");
	/* Lengths given: no NUL needed in the arguments. */
	sio_encode_event(buf, sizeof(buf), NULL, "e", args, lens, 1, -1);
	assert_string_equal(buf, "42[\"e\",{\"i]");
	/* The name is JSON-escaped, and made valid UTF-8. */
	sio_encode_event(buf, sizeof(buf), NULL, "a\"b\\c\nd\x01\xc3\xa9\xff",
	    NULL, NULL, 0, -1);
	assert_string_equal(buf,
	    "42[\"a\\\"b\\\\c\\nd\\u0001\xc3\xa9\xef\xbf\xbd\"]");

	assert_int_equal(sio_encode_event(buf, sizeof(buf), NULL, NULL, NULL,
	    NULL, 0, -1), 0);
	assert_int_equal(sio_encode_event(buf, sizeof(buf), "chat", "e", NULL,
	    NULL, 0, -1), 0);
	assert_int_equal(sio_encode_event(buf, sizeof(buf), "/a,b", "e", NULL,
	    NULL, 0, -1), 0);
	assert_int_equal(sio_encode_event(buf, sizeof(buf), NULL, "e", NULL,
	    NULL, 1, -1), 0);
	assert_int_equal(sio_encode_event(buf, sizeof(buf), NULL, "e", NULL,
	    NULL, 0, -5), 0);
}

/* What the test suite expects back from the server. */
/* The answer of a server keeping connection state: sid, then pid. */
static void
test_encode_connect_pid(void **state)
{
	char	buf[128];

	(void)state;
	assert_int_equal(sio_encode_connect_pid(buf, sizeof(buf), NULL,
	    "wZX3oN0bSVIhsaknAAAI", "0000002aAbCdEfGhIjKlMn-_"), 65);
	assert_string_equal(buf, "40{\"sid\":\"wZX3oN0bSVIhsaknAAAI\","
	    "\"pid\":\"0000002aAbCdEfGhIjKlMn-_\"}");
	sio_encode_connect_pid(buf, sizeof(buf), "/custom", "x", "p\"q");
	assert_string_equal(buf, "40/custom,{\"sid\":\"x\",\"pid\":\"p\\\"q\"}");
	/* No pid: the plain answer, byte for byte. */
	sio_encode_connect_pid(buf, sizeof(buf), NULL, "x", NULL);
	assert_string_equal(buf, "40{\"sid\":\"x\"}");
	assert_int_equal(sio_encode_connect_pid(buf, sizeof(buf), NULL, NULL,
	    "p"), 0);
	/* Too small: the length it needs, as the other encoders. */
	assert_int_equal(sio_encode_connect_pid(buf, 3, NULL, "abc", "de"),
	    26);
}

static void
test_encode_suite(void **state)
{
	const char *const	 echo[] = { "1", "\"2\"", "{\"3\":[false]}" };
	const char *const	 bin[] = {
		"{\"_placeholder\":true,\"num\":0}",
		"{\"_placeholder\":true,\"num\":1}"
	};
	const char *const	 auth[] = { "{}" };
	char			 buf[128];

	(void)state;
	sio_encode_connect(buf, sizeof(buf), NULL, "wZX3oN0bSVIhsaknAAAI");
	assert_string_equal(buf, "40{\"sid\":\"wZX3oN0bSVIhsaknAAAI\"}");
	sio_encode_connect(buf, sizeof(buf), "/custom", "x");
	assert_string_equal(buf, "40/custom,{\"sid\":\"x\"}");
	sio_encode_event(buf, sizeof(buf), "/custom", "auth", auth, NULL, 1,
	    -1);
	assert_string_equal(buf, "42/custom,[\"auth\",{}]");
	sio_encode_connect_error(buf, sizeof(buf), "/random",
	    "Invalid namespace");
	assert_string_equal(buf,
	    "44/random,{\"message\":\"Invalid namespace\"}");
	sio_encode_connect_error(buf, sizeof(buf), NULL, "Not \"authorized\"");
	assert_string_equal(buf, "44{\"message\":\"Not \\\"authorized\\\"\"}");
	sio_encode_ack(buf, sizeof(buf), NULL, 456, echo, NULL, 3);
	assert_string_equal(buf, "43456[1,\"2\",{\"3\":[false]}]");
	sio_encode_ack(buf, sizeof(buf), "/admin", 13, NULL, NULL, 0);
	assert_string_equal(buf, "43/admin,13[]");
	sio_encode_args(buf, sizeof(buf), SIO_BINARY_EVENT, 2, NULL, -1,
	    "message-back", bin, NULL, 2);
	assert_string_equal(buf, "452-[\"message-back\",{\"_placeholder\":true,"
	    "\"num\":0},{\"_placeholder\":true,\"num\":1}]");
	sio_encode_args(buf, sizeof(buf), SIO_BINARY_ACK, 2, NULL, 789, NULL,
	    bin, NULL, 2);
	assert_string_equal(buf, "462-789[{\"_placeholder\":true,\"num\":0},"
	    "{\"_placeholder\":true,\"num\":1}]");
	sio_encode_disconnect(buf, sizeof(buf), NULL);
	assert_string_equal(buf, "41");
	sio_encode_disconnect(buf, sizeof(buf), "/admin");
	assert_string_equal(buf, "41/admin,");

	assert_int_equal(sio_encode_ack(buf, sizeof(buf), NULL, -1, NULL, NULL,
	    0), 0);
	assert_int_equal(sio_encode_connect(buf, sizeof(buf), NULL, NULL), 0);
	assert_int_equal(sio_encode_connect_error(buf, sizeof(buf), NULL,
	    NULL), 0);
	assert_int_equal(sio_encode_disconnect(buf, sizeof(buf), "x"), 0);
	assert_int_equal(sio_encode_args(buf, sizeof(buf), SIO_CONNECT, 0,
	    NULL, -1, NULL, NULL, NULL, 0), 0);
	assert_int_equal(sio_encode_args(buf, sizeof(buf), SIO_BINARY_EVENT, 0,
	    NULL, -1, "e", NULL, NULL, 0), 0);
}

/* A short buffer: the full length back, nothing written past cap. */
static void
test_encode_cap(void **state)
{
	const char	*want = "42/chat,7[\"ev\",{\"a\":1}]";
	const char *const args[] = { "{\"a\":1}" };
	struct sio_packet p;
	char		 buf[64];
	size_t		 n = strlen(want), cap;

	(void)state;
	assert_int_equal(sio_encode_event(NULL, 0, "/chat", "ev", args, NULL,
	    1, 7), n);
	for (cap = 0; cap <= n + 1; cap++) {
		memset(buf, 'X', sizeof(buf));
		assert_int_equal(sio_encode_event(buf, cap, "/chat", "ev",
		    args, NULL, 1, 7), n);
		assert_memory_equal(buf, want, cap < n ? cap : n);
		if (cap <= n)
			assert_int_equal(buf[cap], 'X');
		else {
			assert_int_equal(buf[n], '\0');
			assert_int_equal(buf[n + 1], 'X');
		}
	}
	assert_int_equal(decode(want + 1, NULL, &p), SIO_OK);
	for (cap = 0; cap <= n; cap++) {
		memset(buf, 'X', sizeof(buf));
		assert_int_equal(sio_packet_encode(&p, SIO_ENCODE_EIO, buf,
		    cap), n);
		assert_memory_equal(buf, want, cap);
		assert_int_equal(buf[cap], 'X');
	}
	sio_packet_clear(&p);
	assert_int_equal(sio_encode_connect(buf, 3, NULL, "abc"), 15);
	assert_memory_equal(buf, "40{", 3);
}

static void
test_strerror(void **state)
{
	int	 rc, other;

	(void)state;
	for (rc = SIO_ERR_NOMEM; rc <= SIO_NEED_MORE; rc++) {
		assert_string_not_equal(sio_strerror(rc), "unknown error");
		for (other = SIO_ERR_NOMEM; other < rc; other++)
			assert_string_not_equal(sio_strerror(rc),
			    sio_strerror(other));
	}
	assert_string_equal(sio_strerror(-99), "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readme_decode),
		cmocka_unit_test(test_readme_round_trip),
		cmocka_unit_test(test_suite_accepts),
		cmocka_unit_test(test_suite_rejects),
		cmocka_unit_test(test_type),
		cmocka_unit_test(test_attachments),
		cmocka_unit_test(test_nsp),
		cmocka_unit_test(test_ack),
		cmocka_unit_test(test_payload),
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_event_helpers),
		cmocka_unit_test(test_encode_packet),
		cmocka_unit_test(test_encode_event),
		cmocka_unit_test(test_encode_suite),
		cmocka_unit_test(test_encode_connect_pid),
		cmocka_unit_test(test_encode_cap),
		cmocka_unit_test(test_strerror),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
