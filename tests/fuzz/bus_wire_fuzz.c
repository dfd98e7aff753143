/*
 * libFuzzer harness for bus_wire.c.  The input is one bus message as it
 * comes off the wire.  Checked, beyond memory safety:
 *  - bus_wire_decode() accepts exactly what an independent decoder
 *    written here from bus_wire.h accepts;
 *  - an accepted message reads back record by record to its last byte,
 *    and writing its header and records again gives the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus_wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint32_t	 be32(const uint8_t *);
static int	 ref_ok(const uint8_t *, size_t);

static uint32_t
be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

/* The format of bus_wire.h, read the long way. */
static int
ref_ok(const uint8_t *d, size_t len)
{
	uint64_t	off = BUS_HDR_LEN, rlen;
	uint32_t	i, n;

	if (len < BUS_HDR_LEN || memcmp(d, "SGB\x01", 4) != 0)
		return (0);
	if (d[6] != 0 || d[7] > 1 || (d[4] << 8 | d[5]) > BUS_WID_MAX)
		return (0);
	if (be32(d + 12) == 0)
		return (0);
	n = be32(d + 16);
	for (i = 0; i < n; i++) {
		if (off + BUS_REC_HDR_LEN > len)
			return (0);
		rlen = be32(d + off + 1);
		off += BUS_REC_HDR_LEN + rlen;
		if (off > len)
			return (0);
	}
	return (off == len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bus_wire_hdr	 h;
	const uint8_t		*rec;
	uint8_t			*out, type;
	size_t			 off, olen, rlen;
	uint32_t		 i;
	int			 ok;

	ok = bus_wire_decode(data, size, &h) == 0;
	if (ok != ref_ok(data, size))
		abort();
	if (!ok)
		return (0);
	if ((out = malloc(size)) == NULL)
		return (0);
	bus_wire_put_hdr(out, h.from, h.chan, h.seq, 0);
	if (h.flags & BUS_WIRE_RESYNC)
		bus_wire_set_resync(out);
	off = olen = BUS_HDR_LEN;
	for (i = 0; i < h.count; i++) {
		off = bus_wire_record(data, off, &type, &rec, &rlen);
		if (off > size)
			abort();
		olen += bus_wire_put_record(out + olen, type, rec, rlen);
		bus_wire_add_count(out, 1);
	}
	if (off != size || olen != size || memcmp(out, data, size) != 0)
		abort();
	free(out);
	return (0);
}
