/*
 * Unit tests for presence_digest.c: the digest part's wire format on its
 * own (header and entries written and read back, each malformed form
 * refused).  What a digest does to a table is in test_presence.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "presence_digest.h"

static size_t	 part(uint8_t *, const uint8_t *, size_t, uint32_t);

/* A header for wid 7, digest 9, part 0, last, n entries, then body. */
static size_t
part(uint8_t *b, const uint8_t *body, size_t len, uint32_t n)
{
	struct presence_digest_hdr	 h = { PRESENCE_DIGEST_LAST, 7, 9, 0,
					     n };

	presence_digest_encode_hdr(b, &h);
	if (len > 0)
		memcpy(b + PRESENCE_DIGEST_HDR, body, len);
	return (PRESENCE_DIGEST_HDR + len);
}

/* What the writer puts down, the reader gives back. */
static void
test_round_trip(void **state)
{
	struct presence_digest_hdr	 h = { 0, 4095, 0x01020304, 0xa0b,
					     3 };
	struct presence_digest_hdr	 g;
	uint8_t				 b[256];
	uint32_t			 counts[3] = { 1, 128, UINT32_MAX };
	const char			*names[3] = { "a",
					     "\xc3\xa9t\xc3\xa9", "u2" };
	const char			*name;
	size_t				 off = PRESENCE_DIGEST_HDR, i;
	uint32_t			 count;
	uint8_t				 nlen;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_int_equal(presence_digest_encode_entry(b + off,
		    counts[i], names[i], (uint8_t)strlen(names[i])),
		    presence_digest_entry_size(counts[i], strlen(names[i])));
		off += presence_digest_entry_size(counts[i], strlen(names[i]));
	}
	presence_digest_encode_hdr(b, &h);
	assert_memory_equal(b, "\x01\x00\x0f\xff\x01\x02\x03\x04\x0a\x0b"
	    "\x00\x00\x00\x03", PRESENCE_DIGEST_HDR);
	assert_int_equal(presence_digest_decode(b, off, &g), 0);
	assert_int_equal(g.flags, 0);
	assert_int_equal(g.wid, 4095);
	assert_int_equal(g.id, 0x01020304);
	assert_int_equal(g.part, 0xa0b);
	assert_int_equal(g.n, 3);
	i = PRESENCE_DIGEST_HDR;
	for (g.n = 0; g.n < 3; g.n++) {
		i = presence_digest_decode_entry(b, off, i, &count, &name,
		    &nlen);
		assert_int_equal(count, counts[g.n]);
		assert_int_equal(nlen, strlen(names[g.n]));
		assert_memory_equal(name, names[g.n], nlen);
	}
	assert_int_equal(i, off);
}

/* LEB128 sizes at their boundaries. */
static void
test_entry_size(void **state)
{
	(void)state;
	assert_int_equal(presence_digest_entry_size(1, 1), 3);
	assert_int_equal(presence_digest_entry_size(127, 1), 3);
	assert_int_equal(presence_digest_entry_size(128, 1), 4);
	assert_int_equal(presence_digest_entry_size(UINT32_MAX,
	    PRESENCE_USER_MAX), PRESENCE_DIGEST_MIN - PRESENCE_DIGEST_HDR);
}

/* Every malformed part is refused whole. */
static void
test_refused(void **state)
{
	static const struct {
		const char	*body;
		size_t		 len;
		uint32_t	 n;
	} bad[] = {
		{ "\x01\x01" "a", 3, 2 },		/* fewer than n */
		{ "\x01\x01" "a" "x", 4, 1 },		/* trailing byte */
		{ "\x00\x01" "a", 3, 1 },		/* count 0 */
		{ "\x81\x00\x01" "a", 4, 1 },		/* not shortest */
		{ "\xff\xff\xff\xff\x10\x01" "a", 7, 1 }, /* above 2^32-1 */
		{ "\x01\x00", 2, 1 },			/* empty name */
		{ "\x01\x02" "a", 3, 1 },		/* name cut short */
		{ "\x01\x02" "a\0", 4, 1 },		/* NUL in name */
		{ "\x01\x01" "\xff", 3, 1 },		/* not UTF-8 */
		{ "\x01\x81", 2, 1 },			/* name > 128 */
	};
	struct presence_digest_hdr	 h;
	uint8_t				 b[64];
	size_t				 i, len;

	(void)state;
	len = part(b, (const uint8_t *)"\x01\x01" "a", 3, 1);
	assert_int_equal(presence_digest_decode(b, len, &h), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = part(b, (const uint8_t *)bad[i].body, bad[i].len,
		    bad[i].n);
		assert_int_equal(presence_digest_decode(b, len, &h), -1);
	}
	len = part(b, NULL, 0, 0);
	assert_int_equal(presence_digest_decode(b, len, &h), 0);
	assert_int_equal(presence_digest_decode(b, len - 1, &h), -1);
	assert_int_equal(presence_digest_decode(NULL, 0, &h), -1);
	b[0] = 2;					/* version */
	assert_int_equal(presence_digest_decode(b, len, &h), -1);
	b[0] = PRESENCE_DIGEST_VERSION;
	b[1] = 0x02;					/* unknown flag */
	assert_int_equal(presence_digest_decode(b, len, &h), -1);
	b[1] = 0;
	b[2] = 0x10;					/* wid 4096 */
	assert_int_equal(presence_digest_decode(b, len, &h), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_entry_size),
		cmocka_unit_test(test_refused),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
