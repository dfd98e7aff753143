/*
 * test_eio_payload.c: long-polling payloads and base64 (eio_payload.c).
 * Vectors: the protocol README, engine.io-parser's tests, RFC 4648 §10.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eio.h"

#define B(s)		(const uint8_t *)(s), sizeof(s) - 1
#define NPACKETS	16

struct decoded {
	struct eio_packet	pkts[NPACKETS];
	size_t			n;
	int			end;	/* EIO_DONE or the error */
};

/* Run the iterator over body to its end. */
static int
decode_all(const uint8_t *body, size_t len, size_t max, uint8_t *scratch,
    size_t cap, struct decoded *d)
{
	struct eio_payload	it;
	struct eio_packet	pkt;
	int			r;

	memset(d, 0, sizeof(*d));
	if ((r = eio_payload_begin(&it, body, len, max, scratch, cap)) !=
	    EIO_OK) {
		d->end = r;
		return (r);
	}
	while ((r = eio_payload_next(&it, &pkt)) == EIO_OK) {
		assert_true(d->n < NPACKETS);
		d->pkts[d->n++] = pkt;
	}
	d->end = r;
	/* Sticky: the same answer again. */
	assert_int_equal(eio_payload_next(&it, &pkt), r);
	return (r);
}

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
test_base64_rfc4648(void **state)
{
	static const char	*v[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
		{ "\x01\x02\x03\x04", "AQIDBA==" },
		{ "\xfb\xff\xbf", "+/+/" },
	};
	uint8_t			 out[16];
	size_t			 i, n, m;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = strlen(v[i][0]);
		m = strlen(v[i][1]);
		assert_int_equal(eio_base64_encoded_len(n), m);
		assert_int_equal(eio_base64_encode((const uint8_t *)v[i][0], n,
		    out, m), (ptrdiff_t)m);
		assert_memory_equal(out, v[i][1], m);
		assert_int_equal(eio_base64_decode((const uint8_t *)v[i][1], m,
		    out, n), (ptrdiff_t)n);
		if (n > 0) {
			assert_memory_equal(out, v[i][0], n);
			assert_int_equal(eio_base64_decode(
			    (const uint8_t *)v[i][1], m, out, n - 1),
			    EIO_ERR_NOSPACE);
			assert_int_equal(eio_base64_encode(
			    (const uint8_t *)v[i][0], n, out, m - 1),
			    EIO_ERR_NOSPACE);
		}
	}
}

/* Every byte value and every length mod 3 survives a round trip. */
static void
test_base64_round_trip(void **state)
{
	uint8_t		in[300], enc[400], dec[300];
	size_t		i, n;
	ptrdiff_t	m;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 167 + 13);
	for (n = 0; n <= sizeof(in); n++) {
		m = eio_base64_encode(in, n, enc, sizeof(enc));
		assert_int_equal(m, (ptrdiff_t)eio_base64_encoded_len(n));
		assert_int_equal(eio_base64_decode(enc, (size_t)m, dec,
		    sizeof(dec)), (ptrdiff_t)n);
		assert_memory_equal(dec, in, n);
	}
}

static void
test_base64_strict(void **state)
{
	static const char	*bad[] = {
		"Zg", "Zg=", "Z", "Zm9", "Zm9vY",	/* length not 4n */
		"====", "Z===", "=Zg=", "Zg==Zg==", "Zm=v", /* misplaced = */
		"Zh==", "Zm9=", "AQIDBB==", "AQIDBA=A",	/* bits after data */
		"Zm9v\n", "Zm 9v", " Zm9", "Zm9\r",	/* whitespace */
		"-_-_", "Zg_=", "Zm9v%3D",		/* URL-safe, escapes */
		"Zm\x80v", "Zm\xffv", "\xc3\xa9Zm",	/* 8-bit */
	};
	uint8_t			 out[16];
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(eio_base64_decode((const uint8_t *)bad[i],
		    strlen(bad[i]), out, sizeof(out)), EIO_ERR_BASE64);
	assert_int_equal(eio_base64_decode((const uint8_t *)"Zm\0v", 4, out,
	    sizeof(out)), EIO_ERR_BASE64);
	assert_int_equal(eio_base64_decode(NULL, 0, NULL, 0), 0);
}

/* The README's examples and engine.io-parser's payload tests. */
static void
test_decode_vectors(void **state)
{
	struct decoded	d;
	uint8_t		scratch[64];

	assert_int_equal(decode_all(B("4hello\x1e" "2\x1e" "4world"), 1000,
	    scratch, sizeof(scratch), &d), EIO_DONE);
	assert_int_equal(d.n, 3);
	assert_packet(&d.pkts[0], EIO_MESSAGE, false, "hello", 5);
	assert_packet(&d.pkts[1], EIO_PING, false, "", 0);
	assert_packet(&d.pkts[2], EIO_MESSAGE, false, "world", 5);

	assert_int_equal(decode_all(B("4hello\x1e" "bAQIDBA=="), 1000,
	    scratch, sizeof(scratch), &d), EIO_DONE);
	assert_int_equal(d.n, 2);
	assert_packet(&d.pkts[0], EIO_MESSAGE, false, "hello", 5);
	assert_packet(&d.pkts[1], EIO_MESSAGE, true, "\x01\x02\x03\x04", 4);

	assert_int_equal(decode_all(B("0\x1e" "1\x1e" "2probe\x1e" "3probe\x1e"
	    "4test"), 1000, scratch, sizeof(scratch), &d), EIO_DONE);
	assert_int_equal(d.n, 5);
	assert_packet(&d.pkts[0], EIO_OPEN, false, "", 0);
	assert_packet(&d.pkts[1], EIO_CLOSE, false, "", 0);
	assert_packet(&d.pkts[2], EIO_PING, false, "probe", 5);
	assert_packet(&d.pkts[3], EIO_PONG, false, "probe", 5);
	assert_packet(&d.pkts[4], EIO_MESSAGE, false, "test", 4);

	/* One packet, no separator; and types 5 and 6. */
	assert_int_equal(decode_all(B("6"), 1, NULL, 0, &d), EIO_DONE);
	assert_int_equal(d.n, 1);
	assert_packet(&d.pkts[0], EIO_NOOP, false, "", 0);
	assert_int_equal(decode_all(B("5\x1e" "b"), 10, NULL, 0, &d),
	    EIO_DONE);
	assert_int_equal(d.n, 2);
	assert_packet(&d.pkts[0], EIO_UPGRADE, false, "", 0);
	assert_packet(&d.pkts[1], EIO_MESSAGE, true, "", 0);
}

static void
test_decode_errors(void **state)
{
	struct decoded	d;
	uint8_t		scratch[64];

	/* engine.io-parser: "should fail to decode a malformed payload". */
	assert_int_equal(decode_all(B("{"), 100, NULL, 0, &d), EIO_ERR_TYPE);
	assert_int_equal(decode_all(B("{}"), 100, NULL, 0, &d), EIO_ERR_TYPE);
	assert_int_equal(decode_all(B("[\"a123\", \"a456\"]"), 100, NULL, 0,
	    &d), EIO_ERR_TYPE);
	/* The conformance suite's "invalid packet format". */
	assert_int_equal(decode_all(B("abc"), 100, NULL, 0, &d), EIO_ERR_TYPE);
	assert_int_equal(d.n, 0);

	/* Empty records: empty body, leading, doubled, trailing 0x1e. */
	assert_int_equal(decode_all(B(""), 100, NULL, 0, &d), EIO_ERR_EMPTY);
	assert_int_equal(decode_all(B("\x1e"), 100, NULL, 0, &d),
	    EIO_ERR_EMPTY);
	assert_int_equal(decode_all(B("\x1e" "4a"), 100, NULL, 0, &d),
	    EIO_ERR_EMPTY);
	assert_int_equal(d.n, 0);
	assert_int_equal(decode_all(B("4a\x1e\x1e" "4b"), 100, NULL, 0, &d),
	    EIO_ERR_EMPTY);
	assert_int_equal(d.n, 1);
	assert_int_equal(decode_all(B("4a\x1e"), 100, NULL, 0, &d),
	    EIO_ERR_EMPTY);
	assert_int_equal(d.n, 1);

	/* Good packets before a bad one are still delivered. */
	assert_int_equal(decode_all(B("4a\x1e" "2\x1e" "9x\x1e" "4b"), 100,
	    NULL, 0, &d), EIO_ERR_TYPE);
	assert_int_equal(d.n, 2);
	assert_packet(&d.pkts[0], EIO_MESSAGE, false, "a", 1);
	assert_int_equal(decode_all(B("4a\x1e" "bAQ="), 100, scratch,
	    sizeof(scratch), &d), EIO_ERR_BASE64);
	assert_int_equal(d.n, 1);
	assert_int_equal(decode_all(B("4a\x1e" "bAQIDBA=="), 100, scratch, 3,
	    &d), EIO_ERR_NOSPACE);
	assert_int_equal(d.n, 1);
}

/* maxPayload: a body of exactly max bytes passes, one more does not. */
static void
test_decode_max(void **state)
{
	struct decoded	d;
	uint8_t		body[1000];

	memset(body, 'x', sizeof(body));
	body[0] = '4';
	assert_int_equal(decode_all(body, sizeof(body), sizeof(body), NULL, 0,
	    &d), EIO_DONE);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.pkts[0].len, sizeof(body) - 1);
	assert_int_equal(decode_all(body, sizeof(body), sizeof(body) - 1,
	    NULL, 0, &d), EIO_ERR_TOO_BIG);
	assert_int_equal(d.n, 0);
	assert_int_equal(decode_all(B(""), 0, NULL, 0, &d), EIO_ERR_EMPTY);
	assert_int_equal(decode_all(B("1"), 0, NULL, 0, &d), EIO_ERR_TOO_BIG);
	assert_int_equal(decode_all(B("1"), 1, NULL, 0, &d), EIO_DONE);
}

/*
 * Binary packets fill the scratch one after the other: all stay valid,
 * and eio_payload_scratch_len() is always enough.
 */
static void
test_decode_scratch(void **state)
{
	static const char	 body[] = "bAA==\x1e" "bAQI=\x1e" "4x\x1e"
	    "bAQID\x1e" "b\x1e" "bAQIDBA==";
	struct decoded		 d;
	uint8_t			*scratch;
	size_t			 need;

	need = eio_payload_scratch_len(sizeof(body) - 1);
	assert_true(need >= 1 + 2 + 3 + 4);
	scratch = malloc(need);
	assert_non_null(scratch);
	assert_int_equal(decode_all((const uint8_t *)body, sizeof(body) - 1,
	    100, scratch, need, &d), EIO_DONE);
	assert_int_equal(d.n, 6);
	assert_packet(&d.pkts[0], EIO_MESSAGE, true, "\x00", 1);
	assert_packet(&d.pkts[1], EIO_MESSAGE, true, "\x01\x02", 2);
	assert_packet(&d.pkts[2], EIO_MESSAGE, false, "x", 1);
	assert_packet(&d.pkts[3], EIO_MESSAGE, true, "\x01\x02\x03", 3);
	assert_packet(&d.pkts[4], EIO_MESSAGE, true, "", 0);
	assert_packet(&d.pkts[5], EIO_MESSAGE, true, "\x01\x02\x03\x04", 4);
	assert_ptr_equal(d.pkts[1].data, scratch + 1);
	assert_ptr_equal(d.pkts[5].data, scratch + 6);

	/* One byte short: the last packet does not fit. */
	assert_int_equal(decode_all((const uint8_t *)body, sizeof(body) - 1,
	    100, scratch, 9, &d), EIO_ERR_NOSPACE);
	assert_int_equal(d.n, 5);
	free(scratch);

	assert_int_equal(eio_payload_scratch_len(0), 0);
	assert_int_equal(eio_payload_scratch_len(5), 3);
	assert_int_equal(eio_payload_scratch_len(1000000), 750000);
}

static void
test_encode(void **state)
{
	const struct eio_packet	pkts[] = {
		{ EIO_OPEN, false, NULL, 0 },
		{ EIO_CLOSE, false, NULL, 0 },
		{ EIO_PING, false, B("probe") },
		{ EIO_PONG, false, B("probe") },
		{ EIO_MESSAGE, false, B("test") },
		{ EIO_MESSAGE, true, B("\x01\x02\x03\x04") },
		{ EIO_NOOP, false, NULL, 0 },
	};
	const struct eio_packet	echo[] = {
		{ EIO_MESSAGE, false, B("hello") },
		{ EIO_MESSAGE, true, B("\x01\x02\x03\x04") },
	};
	static const char	want[] = "0\x1e" "1\x1e" "2probe\x1e"
	    "3probe\x1e" "4test\x1e" "bAQIDBA==\x1e" "6";
	uint8_t			out[64];
	size_t			n = sizeof(pkts) / sizeof(pkts[0]);

	assert_int_equal(eio_payload_encoded_len(pkts, n), sizeof(want) - 1);
	assert_int_equal(eio_payload_encode(pkts, n, out, sizeof(want) - 1),
	    (ptrdiff_t)sizeof(want) - 1);
	assert_memory_equal(out, want, sizeof(want) - 1);
	assert_int_equal(eio_payload_encode(pkts, n, out, sizeof(want) - 2),
	    EIO_ERR_NOSPACE);

	/* The conformance suite's echo: "4hello\x1ebAQIDBA==". */
	assert_int_equal(eio_payload_encode(echo, 2, out, sizeof(out)), 16);
	assert_memory_equal(out, "4hello\x1e" "bAQIDBA==", 16);

	assert_int_equal(eio_payload_encoded_len(pkts, 0), 0);
	assert_int_equal(eio_payload_encode(pkts, 0, out, sizeof(out)),
	    EIO_ERR_EMPTY);
	assert_int_equal(eio_payload_encoded_len(pkts, 1), 1);
	assert_int_equal(eio_payload_packet_len(&pkts[5]), 9);
	assert_int_equal(eio_payload_packet_len(&pkts[2]), 6);
}

static void
test_encode_errors(void **state)
{
	const struct eio_packet	sep = { EIO_MESSAGE, false, B("a\x1e" "b") };
	const struct eio_packet	binping = { EIO_PING, true, B("x") };
	const struct eio_packet	badtype = { (enum eio_type)7, false, B("x") };
	uint8_t			out[16];

	assert_int_equal(eio_payload_encode(&sep, 1, out, sizeof(out)),
	    EIO_ERR_MALFORMED);
	assert_int_equal(eio_payload_encode(&binping, 1, out, sizeof(out)),
	    EIO_ERR_INVAL);
	assert_int_equal(eio_payload_encode(&badtype, 1, out, sizeof(out)),
	    EIO_ERR_TYPE);
	assert_int_equal(eio_payload_append(out, 4, 5, &sep), EIO_ERR_INVAL);
}

/* Fill a GET response packet by packet, up to a budget. */
static void
test_append(void **state)
{
	const struct eio_packet	a = { EIO_MESSAGE, false, B("hello") };
	const struct eio_packet	b = { EIO_MESSAGE, true, B("\x01\x02\x03") };
	uint8_t			out[32];
	ptrdiff_t		used;

	memset(out, 0xee, sizeof(out));
	used = eio_payload_append(out, sizeof(out), 0, &a);
	assert_int_equal(used, 6);
	used = eio_payload_append(out, sizeof(out), (size_t)used, &b);
	assert_int_equal(used, 6 + 1 + 5);
	assert_memory_equal(out, "4hello\x1e" "bAQID", 12);
	assert_int_equal(out[12], 0xee);
	/* A packet that does not fit leaves the payload as it was. */
	assert_int_equal(eio_payload_append(out, 17, 12, &a), EIO_ERR_NOSPACE);
	assert_int_equal(out[12], 0xee);
	assert_int_equal(eio_payload_append(out, 19, 12, &a), 19);
}

/* encode(decode(x)) == x for every payload we accept. */
static void
test_round_trip(void **state)
{
	static const char	*v[] = {
		"4hello\x1e" "2\x1e" "4world",
		"4hello\x1e" "bAQIDBA==",
		"0\x1e" "1\x1e" "2probe\x1e" "3probe\x1e" "4test",
		"6", "b", "b\x1e" "b", "bAA==\x1e" "bAAA=\x1e" "bAAAA",
		"42[\"receive_message\",{\"content\":\"\xe2\x82\xac\"}]"
		    "\x1e" "3",
	};
	struct decoded		 d;
	uint8_t			 scratch[64], out[128];
	size_t			 i, len;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		len = strlen(v[i]);
		assert_int_equal(decode_all((const uint8_t *)v[i], len, len,
		    scratch, sizeof(scratch), &d), EIO_DONE);
		assert_int_equal(eio_payload_encoded_len(d.pkts, d.n), len);
		assert_int_equal(eio_payload_encode(d.pkts, d.n, out,
		    sizeof(out)), (ptrdiff_t)len);
		assert_memory_equal(out, v[i], len);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_rfc4648),
		cmocka_unit_test(test_base64_round_trip),
		cmocka_unit_test(test_base64_strict),
		cmocka_unit_test(test_decode_vectors),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_decode_max),
		cmocka_unit_test(test_decode_scratch),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_round_trip),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
