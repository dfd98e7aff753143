/*
 * test_sid.c: session ids (sid.c): layout, worker round trip, validation,
 * and that every random bit the id promises reaches it.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "sid.h"

static void
test_vectors(void **state)
{
	uint8_t	rnd[SID_RANDOM_BYTES];
	char	sid[SID_LEN + 1];
	size_t	i;

	memset(rnd, 0, sizeof(rnd));
	assert_int_equal(sid_encode(rnd, 0, sid), 0);
	assert_string_equal(sid, "AAAAAAAAAAAAAAAAAAAA");

	memset(rnd, 0xff, sizeof(rnd));
	assert_int_equal(sid_encode(rnd, SID_WORKER_MAX, sid), 0);
	assert_string_equal(sid, "____________________");

	for (i = 0; i < sizeof(rnd); i++)
		rnd[i] = (uint8_t)i;
	assert_int_equal(sid_encode(rnd, 1234, sid), 0);
	/* "TS" is 1234; the rest is base64url(00 01 .. 0d), 18 chars. */
	assert_string_equal(sid, "TSAAECAwQFBgcICQoLDA");
	assert_int_equal(strlen(sid), SID_LEN);
}

static void
test_worker_round_trip(void **state)
{
	uint8_t		rnd[SID_RANDOM_BYTES];
	char		sid[SID_LEN + 1];
	unsigned	w;
	size_t		i;

	for (w = 0; w <= SID_WORKER_MAX; w++) {
		for (i = 0; i < sizeof(rnd); i++)
			rnd[i] = (uint8_t)(w * 31 + i * 7);
		assert_int_equal(sid_encode(rnd, w, sid), 0);
		assert_true(sid_valid(sid, strlen(sid)));
		assert_int_equal(sid_worker(sid, SID_LEN), (int)w);
	}
}

static void
test_worker_out_of_range(void **state)
{
	uint8_t	rnd[SID_RANDOM_BYTES] = { 0 };
	char	sid[SID_LEN + 1] = "unchanged";

	assert_int_equal(sid_encode(rnd, SID_WORKER_MAX + 1, sid), -1);
	assert_int_equal(sid_encode(rnd, (unsigned)-1, sid), -1);
	assert_string_equal(sid, "unchanged");
}

/* URL-safe: only base64url characters, whatever the bytes. */
static void
test_charset(void **state)
{
	static const char	ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t			rnd[SID_RANDOM_BYTES];
	char			sid[SID_LEN + 1];
	size_t			i, j;

	for (i = 0; i < 256; i++) {
		for (j = 0; j < sizeof(rnd); j++)
			rnd[j] = (uint8_t)(i + j * 37);
		assert_int_equal(sid_encode(rnd, (unsigned)i * 16, sid), 0);
		assert_int_equal(strspn(sid, ok), SID_LEN);
	}
}

/* Each of the first 108 random bits changes the id; the last 4 do not. */
static void
test_random_bits(void **state)
{
	uint8_t	rnd[SID_RANDOM_BYTES];
	char	base[SID_LEN + 1], sid[SID_LEN + 1];
	size_t	bit;

	memset(rnd, 0x5a, sizeof(rnd));
	assert_int_equal(sid_encode(rnd, 7, base), 0);
	for (bit = 0; bit < SID_RANDOM_BYTES * 8; bit++) {
		rnd[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		assert_int_equal(sid_encode(rnd, 7, sid), 0);
		if (bit < 108)
			assert_string_not_equal(sid, base);
		else
			assert_string_equal(sid, base);
		assert_int_equal(sid_worker(sid, SID_LEN), 7);
		rnd[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
	}
}

static void
test_invalid(void **state)
{
	assert_false(sid_valid(NULL, SID_LEN));
	assert_false(sid_valid("", 0));
	assert_false(sid_valid("AAAAAAAAAAAAAAAAAAA", 19));
	assert_false(sid_valid("AAAAAAAAAAAAAAAAAAAAA", 21));
	assert_false(sid_valid("AAAAAAAAAA+AAAAAAAAA", SID_LEN));
	assert_false(sid_valid("AAAAAAAAAA/AAAAAAAAA", SID_LEN));
	assert_false(sid_valid("AAAAAAAAAAAAAAAAAAA=", SID_LEN));
	assert_false(sid_valid("AAAAAAAAAA AAAAAAAAA", SID_LEN));
	assert_false(sid_valid("AAAAAAAAAA\0AAAAAAAAA", SID_LEN));
	assert_false(sid_valid("AAAAAAAAAA%AAAAAAAAA", SID_LEN));
	assert_false(sid_valid("AAAAAAAAAA\xc3\xa9" "AAAAAAAA", SID_LEN));
	assert_true(sid_valid("AAAAAAAAAAAAAAAAAAAA", SID_LEN));
	/* The reference server's own sid has the same shape. */
	assert_true(sid_valid("lv_VI97HAXpY6yYWAAAC", SID_LEN));

	assert_int_equal(sid_worker(NULL, 0), -1);
	assert_int_equal(sid_worker("AAAAAAAAAAAAAAAAAAA", 19), -1);
	assert_int_equal(sid_worker("AA+AAAAAAAAAAAAAAAAA", SID_LEN), -1);
	assert_int_equal(sid_worker("__AAAAAAAAAAAAAAAAAA", SID_LEN),
	    SID_WORKER_MAX);
	assert_int_equal(sid_worker("ABAAAAAAAAAAAAAAAAAA", SID_LEN), 1);
	assert_int_equal(sid_worker("BAAAAAAAAAAAAAAAAAAA", SID_LEN), 64);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_worker_round_trip),
		cmocka_unit_test(test_worker_out_of_range),
		cmocka_unit_test(test_charset),
		cmocka_unit_test(test_random_bits),
		cmocka_unit_test(test_invalid),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
