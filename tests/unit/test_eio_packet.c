/*
 * test_eio_packet.c: one Engine.IO v4 packet (eio_packet.c).  Vectors are
 * the protocol README's and engine.io-parser's own tests'.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "eio.h"

/* A string literal as bytes and length, without its NUL. */
#define B(s)	(const uint8_t *)(s), sizeof(s) - 1

static void
assert_packet(const struct eio_packet *pkt, enum eio_type type, bool binary,
    const char *data, size_t len)
{
	assert_int_equal(pkt->type, type);
	assert_int_equal(pkt->binary, binary);
	assert_int_equal(pkt->len, len);
	if (len > 0)
		assert_memory_equal(pkt->data, data, len);
}

static void
assert_zero(const struct eio_packet *pkt)
{
	assert_int_equal(pkt->type, 0);
	assert_false(pkt->binary);
	assert_null(pkt->data);
	assert_int_equal(pkt->len, 0);
}

/* Every type, with and without data, and the data is not copied. */
static void
test_decode_types(void **state)
{
	static const struct {
		const char	*in;
		enum eio_type	 type;
		const char	*data;
	} v[] = {
		{ "0", EIO_OPEN, "" },
		{ "0{\"sid\":\"x\"}", EIO_OPEN, "{\"sid\":\"x\"}" },
		{ "1", EIO_CLOSE, "" },
		{ "2", EIO_PING, "" },
		{ "2probe", EIO_PING, "probe" },
		{ "3", EIO_PONG, "" },
		{ "3probe", EIO_PONG, "probe" },
		{ "4", EIO_MESSAGE, "" },
		{ "4hello", EIO_MESSAGE, "hello" },
		{ "4test", EIO_MESSAGE, "test" },
		{ "41\xe2\x82\xac", EIO_MESSAGE, "1\xe2\x82\xac" },
		{ "42[\"chat\",\"hi\"]", EIO_MESSAGE, "2[\"chat\",\"hi\"]" },
		{ "5", EIO_UPGRADE, "" },
		{ "6", EIO_NOOP, "" },
		{ "4b", EIO_MESSAGE, "b" },
	};
	struct eio_packet	pkt;
	size_t			i, len;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		len = strlen(v[i].in);
		assert_int_equal(eio_packet_decode(&pkt,
		    (const uint8_t *)v[i].in, len, NULL, 0), EIO_OK);
		assert_packet(&pkt, v[i].type, false, v[i].data,
		    strlen(v[i].data));
		assert_ptr_equal(pkt.data, (const uint8_t *)v[i].in + 1);
	}
}

static void
test_decode_errors(void **state)
{
	static const char	*bad[] = {
		"a123", "7", "9hello", "/", "{", "{}", "[\"a123\"]", " 4",
		"\x1e", "\xff", "B", "ping",
	};
	struct eio_packet	 pkt;
	size_t			 i;

	assert_int_equal(eio_packet_decode(&pkt, B(""), NULL, 0),
	    EIO_ERR_EMPTY);
	assert_zero(&pkt);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&pkt, 0xa5, sizeof(pkt));
		assert_int_equal(eio_packet_decode(&pkt,
		    (const uint8_t *)bad[i], strlen(bad[i]), NULL, 0),
		    EIO_ERR_TYPE);
		assert_zero(&pkt);
	}
}

/* 'b' + base64 is a binary message, decoded into scratch. */
static void
test_decode_base64(void **state)
{
	struct eio_packet	pkt;
	uint8_t			scratch[8];

	assert_int_equal(eio_packet_decode(&pkt, B("bAQIDBA=="), scratch,
	    sizeof(scratch)), EIO_OK);
	assert_packet(&pkt, EIO_MESSAGE, true, "\x01\x02\x03\x04", 4);
	assert_ptr_equal(pkt.data, scratch);

	/* Exactly big enough, then one byte short. */
	assert_int_equal(eio_packet_decode(&pkt, B("bAQIDBA=="), scratch, 4),
	    EIO_OK);
	assert_int_equal(eio_packet_decode(&pkt, B("bAQIDBA=="), scratch, 3),
	    EIO_ERR_NOSPACE);
	assert_zero(&pkt);
	assert_int_equal(eio_packet_decode(&pkt, B("bAQIDBA=="), NULL, 0),
	    EIO_ERR_NOSPACE);

	/* An empty binary message needs no scratch. */
	assert_int_equal(eio_packet_decode(&pkt, B("b"), NULL, 0), EIO_OK);
	assert_packet(&pkt, EIO_MESSAGE, true, "", 0);

	/* Bad base64 beats no space. */
	assert_int_equal(eio_packet_decode(&pkt, B("bAQIDBA="), NULL, 0),
	    EIO_ERR_BASE64);
	assert_int_equal(eio_packet_decode(&pkt, B("bAQI!"), scratch,
	    sizeof(scratch)), EIO_ERR_BASE64);
	assert_int_equal(eio_packet_decode(&pkt, B("b4hello"), scratch,
	    sizeof(scratch)), EIO_ERR_BASE64);
	assert_zero(&pkt);
}

/* WebSocket frames: max is inclusive; binary frames carry no type byte. */
static void
test_decode_frame(void **state)
{
	static const uint8_t	bin[] = { 1, 2, 3, 4 };
	struct eio_packet	pkt;
	uint8_t			scratch[8];

	assert_int_equal(eio_packet_decode_frame(&pkt, B("4hello"), false, 6,
	    NULL, 0), EIO_OK);
	assert_packet(&pkt, EIO_MESSAGE, false, "hello", 5);
	assert_int_equal(eio_packet_decode_frame(&pkt, B("4hello"), false, 5,
	    NULL, 0), EIO_ERR_TOO_BIG);
	assert_zero(&pkt);

	assert_int_equal(eio_packet_decode_frame(&pkt, B("2probe"), false,
	    1000000, NULL, 0), EIO_OK);
	assert_packet(&pkt, EIO_PING, false, "probe", 5);
	assert_int_equal(eio_packet_decode_frame(&pkt, B("5"), false, 1000000,
	    NULL, 0), EIO_OK);
	assert_packet(&pkt, EIO_UPGRADE, false, "", 0);

	assert_int_equal(eio_packet_decode_frame(&pkt, bin, sizeof(bin), true,
	    4, NULL, 0), EIO_OK);
	assert_packet(&pkt, EIO_MESSAGE, true, "\x01\x02\x03\x04", 4);
	assert_ptr_equal(pkt.data, bin);
	assert_int_equal(eio_packet_decode_frame(&pkt, bin, sizeof(bin), true,
	    3, NULL, 0), EIO_ERR_TOO_BIG);
	assert_zero(&pkt);

	/* A binary frame starting with a digit is still binary. */
	assert_int_equal(eio_packet_decode_frame(&pkt, B("4hello"), true, 100,
	    NULL, 0), EIO_OK);
	assert_packet(&pkt, EIO_MESSAGE, true, "4hello", 6);

	assert_int_equal(eio_packet_decode_frame(&pkt, bin, 0, true, 100,
	    NULL, 0), EIO_OK);
	assert_packet(&pkt, EIO_MESSAGE, true, "", 0);
	assert_int_equal(eio_packet_decode_frame(&pkt, B(""), false, 100,
	    NULL, 0), EIO_ERR_EMPTY);
	assert_int_equal(eio_packet_decode_frame(&pkt, B("abc"), false, 100,
	    NULL, 0), EIO_ERR_TYPE);

	/* The reference also takes 'b' + base64 in a text frame. */
	assert_int_equal(eio_packet_decode_frame(&pkt, B("bAQIDBA=="), false,
	    100, scratch, sizeof(scratch)), EIO_OK);
	assert_packet(&pkt, EIO_MESSAGE, true, "\x01\x02\x03\x04", 4);
}

static void
test_encode(void **state)
{
	struct eio_packet	pkt;
	uint8_t			out[32];
	int			t;

	for (t = EIO_OPEN; t <= EIO_NOOP; t++) {
		pkt = (struct eio_packet){ .type = (enum eio_type)t };
		assert_int_equal(eio_packet_encoded_len(&pkt), 1);
		assert_int_equal(eio_packet_encode(&pkt, out, sizeof(out)), 1);
		assert_int_equal(out[0], '0' + t);
	}

	pkt = (struct eio_packet){ EIO_PONG, false, B("probe") };
	assert_int_equal(eio_packet_encoded_len(&pkt), 6);
	assert_int_equal(eio_packet_encode(&pkt, out, 6), 6);
	assert_memory_equal(out, "3probe", 6);
	assert_int_equal(eio_packet_encode(&pkt, out, 5), EIO_ERR_NOSPACE);

	/* Binary: the bytes alone, for a binary frame. */
	pkt = (struct eio_packet){ EIO_MESSAGE, true, B("\x01\x02\x03\x04") };
	assert_int_equal(eio_packet_encoded_len(&pkt), 4);
	assert_int_equal(eio_packet_encode(&pkt, out, 4), 4);
	assert_memory_equal(out, "\x01\x02\x03\x04", 4);
	assert_int_equal(eio_packet_encode(&pkt, out, 3), EIO_ERR_NOSPACE);

	pkt = (struct eio_packet){ EIO_PING, true, B("x") };
	assert_int_equal(eio_packet_encode(&pkt, out, sizeof(out)),
	    EIO_ERR_INVAL);
	pkt = (struct eio_packet){ (enum eio_type)7, false, B("x") };
	assert_int_equal(eio_packet_encode(&pkt, out, sizeof(out)),
	    EIO_ERR_TYPE);
	pkt = (struct eio_packet){ EIO_NOOP, false, NULL, 0 };
	assert_int_equal(eio_packet_encode(&pkt, NULL, 0), EIO_ERR_NOSPACE);
}

/* The transport writes after LWS_PRE bytes of headroom: nothing before. */
static void
test_encode_headroom(void **state)
{
	struct eio_packet	pkt = { EIO_MESSAGE, false, B("hello") };
	uint8_t			buf[16 + 6];

	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(eio_packet_encode(&pkt, buf + 16, sizeof(buf) - 16),
	    6);
	assert_memory_equal(buf + 16, "4hello", 6);
	assert_int_equal(buf[15], 0xee);
}

/* encode(decode(x)) == x for every text-form packet. */
static void
test_round_trip(void **state)
{
	static const char	*v[] = {
		"0", "1", "2", "2probe", "3probe", "4", "4hello", "5", "6",
		"4\xe2\x82\xac", "40/chat,{\"token\":\"x\"}", "6junk",
	};
	struct eio_packet	 pkt;
	uint8_t			 out[64];
	size_t			 i, len;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		len = strlen(v[i]);
		assert_int_equal(eio_packet_decode(&pkt,
		    (const uint8_t *)v[i], len, NULL, 0), EIO_OK);
		assert_int_equal(eio_packet_encode(&pkt, out, sizeof(out)),
		    (ptrdiff_t)len);
		assert_memory_equal(out, v[i], len);
	}
}

static void
test_names(void **state)
{
	static const int	codes[] = {
		EIO_DONE, EIO_OK, EIO_ERR_EMPTY, EIO_ERR_TYPE, EIO_ERR_TOO_BIG,
		EIO_ERR_BASE64, EIO_ERR_MALFORMED, EIO_ERR_NOSPACE,
		EIO_ERR_INVAL, EIO_ERR_TRANSPORT, EIO_ERR_SID, EIO_ERR_METHOD,
		EIO_ERR_BAD_REQUEST, EIO_ERR_FORBIDDEN, EIO_ERR_VERSION,
		EIO_ERR_ABSENT,
	};
	size_t			i, j;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		assert_string_not_equal(eio_strerror(codes[i]),
		    "unknown_error");
		for (j = 0; j < i; j++)
			assert_string_not_equal(eio_strerror(codes[i]),
			    eio_strerror(codes[j]));
	}
	assert_string_equal(eio_strerror(EIO_ERR_TOO_BIG), "payload_too_large");
	assert_string_equal(eio_strerror(-100), "unknown_error");
	assert_string_equal(eio_strerror(42), "unknown_error");

	assert_string_equal(eio_packet_type_name(EIO_OPEN), "open");
	assert_string_equal(eio_packet_type_name(EIO_MESSAGE), "message");
	assert_string_equal(eio_packet_type_name(EIO_NOOP), "noop");
	assert_string_equal(eio_packet_type_name((enum eio_type)7), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_types),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_decode_base64),
		cmocka_unit_test(test_decode_frame),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_encode_headroom),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_names),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
