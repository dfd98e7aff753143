/*
 * Unit tests for bus_wire.c: the framing of a bus message on its own
 * (header and records written and read back, each malformed form
 * refused).  The bus itself, with real processes, is test_bus.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "bus_wire.h"

/* What the writer puts down, the reader gives back. */
static void
test_round_trip(void **state)
{
	struct bus_wire_hdr	 h;
	uint8_t			 m[128], type;
	const uint8_t		*data;
	size_t			 len, off, rlen;

	(void)state;
	bus_wire_put_hdr(m, 4095, 0x01020304, 7, 1);
	assert_memory_equal(m, "SGB\x01\x0f\xff\x00\x00\x01\x02\x03\x04"
	    "\x00\x00\x00\x07\x00\x00\x00\x01", BUS_HDR_LEN);
	len = BUS_HDR_LEN;
	len += bus_wire_put_record(m + len, 3, "abc", 3);
	len += bus_wire_put_record(m + len, 0, NULL, 0);
	bus_wire_add_count(m, 1);
	assert_int_equal(len, BUS_HDR_LEN + 2 * BUS_REC_HDR_LEN + 3);
	assert_int_equal(bus_wire_decode(m, len, &h), 0);
	assert_int_equal(h.from, 4095);
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.chan, 0x01020304);
	assert_int_equal(h.seq, 7);
	assert_int_equal(h.count, 2);
	off = bus_wire_record(m, BUS_HDR_LEN, &type, &data, &rlen);
	assert_int_equal(type, 3);
	assert_int_equal(rlen, 3);
	assert_memory_equal(data, "abc", 3);
	off = bus_wire_record(m, off, &type, &data, &rlen);
	assert_int_equal(type, 0);
	assert_int_equal(rlen, 0);
	assert_int_equal(off, len);
	bus_wire_set_resync(m);
	assert_int_equal(bus_wire_decode(m, len, &h), 0);
	assert_int_equal(h.flags, BUS_WIRE_RESYNC);
}

/* An empty message (a link's first, or the canary) is well framed. */
static void
test_empty(void **state)
{
	struct bus_wire_hdr	 h;
	uint8_t			 m[BUS_HDR_LEN];

	(void)state;
	bus_wire_put_hdr(m, 0, 1, 1, 0);
	assert_int_equal(bus_wire_decode(m, sizeof(m), &h), 0);
	assert_int_equal(h.count, 0);
	assert_int_equal(bus_wire_decode(m, sizeof(m) - 1, &h), -1);
}

/* Every malformed message is refused whole. */
static void
test_refused(void **state)
{
	struct bus_wire_hdr	 h;
	uint8_t			 m[64], good[64];
	size_t			 len;

	(void)state;
	bus_wire_put_hdr(good, 2, 1, 1, 1);
	len = BUS_HDR_LEN + bus_wire_put_record(good + BUS_HDR_LEN, 1, "xy",
	    2);
	assert_int_equal(bus_wire_decode(good, len, &h), 0);

	memcpy(m, good, len);
	m[3] = 2;				/* version */
	assert_int_equal(bus_wire_decode(m, len, &h), -1);
	memcpy(m, good, len);
	m[6] = 1;				/* unknown flag, high byte */
	assert_int_equal(bus_wire_decode(m, len, &h), -1);
	memcpy(m, good, len);
	m[7] = 2;				/* unknown flag */
	assert_int_equal(bus_wire_decode(m, len, &h), -1);
	memcpy(m, good, len);
	m[4] = 0x10;				/* wid 4096 */
	assert_int_equal(bus_wire_decode(m, len, &h), -1);
	memcpy(m, good, len);
	m[15] = 0;				/* seq 0 */
	assert_int_equal(bus_wire_decode(m, len, &h), -1);
	memcpy(m, good, len);
	m[19] = 2;				/* more records than sent */
	assert_int_equal(bus_wire_decode(m, len, &h), -1);
	memcpy(m, good, len);
	m[19] = 0;				/* fewer: bytes after */
	assert_int_equal(bus_wire_decode(m, len, &h), -1);
	memcpy(m, good, len);
	m[BUS_HDR_LEN + 4] = 3;			/* record past the end */
	assert_int_equal(bus_wire_decode(m, len, &h), -1);
	memcpy(m, good, len);
	m[BUS_HDR_LEN + 1] = 0xff;		/* record length 4 GB */
	assert_int_equal(bus_wire_decode(m, len, &h), -1);
	memcpy(m, good, len);
	m[len] = 0;				/* a trailing byte */
	assert_int_equal(bus_wire_decode(m, len + 1, &h), -1);
	assert_int_equal(bus_wire_decode(good, len - 1, &h), -1);
	assert_int_equal(bus_wire_decode(good, 0, &h), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_refused),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
