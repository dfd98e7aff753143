/*
 * bus_wire: the framing of a bus message (bus_wire.h): the header, the
 * records, and the check that a received message is framed exactly.
 * Pure: no I/O, no allocation, no logging.
 */
#include <string.h>

#include "be.h"
#include "bus_wire.h"

/* Write the BUS_HDR_LEN bytes of a header at h, with no flag set. */
void
bus_wire_put_hdr(uint8_t *h, int wid, uint32_t chan, uint32_t seq,
    uint32_t n)
{
	be_put32(h, BUS_WIRE_MAGIC);
	h[4] = wid >> 8;
	h[5] = wid & 0xff;
	h[6] = h[7] = 0;
	be_put32(h + 8, chan);
	be_put32(h + 12, seq);
	be_put32(h + 16, n);
}

/* n more records were appended after the header at h. */
void
bus_wire_add_count(uint8_t *h, uint32_t n)
{
	be_put32(h + 16, be_get32(h + 16) + n);
}

/* Ask the receiver to send again what a new peer gets (bus.c says why). */
void
bus_wire_set_resync(uint8_t *h)
{
	h[7] |= BUS_WIRE_RESYNC;
}

/*
 * Write one record at b, which has room for BUS_REC_HDR_LEN + len bytes
 * (len at most BUS_RECORD_MAX), and return that size.
 */
size_t
bus_wire_put_record(uint8_t *b, uint8_t type, const void *data, size_t len)
{
	b[0] = type;
	be_put32(b + 1, len);
	if (len > 0)
		memcpy(b + BUS_REC_HDR_LEN, data, len);
	return (BUS_REC_HDR_LEN + len);
}

/*
 * Read the header of a message of len bytes into *h, if the message is
 * framed exactly: the magic, no unknown flag, a worker id up to
 * BUS_WID_MAX, every record inside, nothing after, and a seq above 0.
 * 0, or -1 and *h is not to be used.
 */
int
bus_wire_decode(const uint8_t *p, size_t len, struct bus_wire_hdr *h)
{
	size_t		off, rlen;
	uint32_t	i;

	if (len < BUS_HDR_LEN || be_get32(p) != BUS_WIRE_MAGIC || p[6] != 0 ||
	    (p[7] & ~BUS_WIRE_RESYNC) != 0 ||
	    (h->from = p[4] << 8 | p[5]) > BUS_WID_MAX)
		return (-1);
	h->flags = p[7];
	h->count = be_get32(p + 16);
	for (i = 0, off = BUS_HDR_LEN; i < h->count; i++) {
		if (len - off < BUS_REC_HDR_LEN ||
		    (rlen = be_get32(p + off + 1)) > len - off - BUS_REC_HDR_LEN)
			return (-1);
		off += BUS_REC_HDR_LEN + rlen;
	}
	h->chan = be_get32(p + 8);
	h->seq = be_get32(p + 12);
	if (off != len || h->seq == 0)
		return (-1);
	return (0);
}

/*
 * Read the record at off (BUS_HDR_LEN for the first) of a message that
 * bus_wire_decode() accepted: its type, bytes and length.  Returns the
 * offset of the next.
 */
size_t
bus_wire_record(const uint8_t *p, size_t off, uint8_t *type,
    const uint8_t **data, size_t *len)
{
	*type = p[off];
	*len = be_get32(p + off + 1);
	*data = p + off + BUS_REC_HDR_LEN;
	return (off + BUS_REC_HDR_LEN + *len);
}
