/*
 * libFuzzer harness for spool_rec.c.  The input is a spool file's bytes
 * after its header, as a crash may leave them.  Checked, beyond memory
 * safety:
 *  - spool_rec_decode() answers exactly what an independent decoder
 *    written here from spool_rec.h answers, with a bit-by-bit CRC-32C;
 *  - walking the input record by record as spool.c's scan does ends at a
 *    record boundary, and writing each record found again gives the same
 *    bytes;
 *  - the file header reader agrees with the magic.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spool_rec.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint32_t	 ref_crc(const uint8_t *, size_t, uint32_t);
static int	 ref_decode(const uint8_t *, size_t);

static uint32_t
ref_crc(const uint8_t *p, size_t len, uint32_t crc)
{
	int	k;

	crc = ~crc;
	while (len-- > 0) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & -(crc & 1));
	}
	return (~crc);
}

/* The format of spool_rec.h, read the long way. */
static int
ref_decode(const uint8_t *d, size_t n)
{
	uint64_t	len;
	uint32_t	crc;
	size_t		i;

	if (n == 0)
		return (SPOOL_REC_SHORT);
	if (d[0] != 1 && d[0] != 2)
		return (SPOOL_REC_BAD);
	for (i = 1; i < 4; i++)
		if (i < n && d[i] != 0)
			return (SPOOL_REC_BAD);
	if (n < 8)
		return (SPOOL_REC_SHORT);
	len = (uint64_t)d[4] << 24 | d[5] << 16 | d[6] << 8 | d[7];
	if (len > SPOOL_REC_MAX || (d[0] == 2 && len != 0))
		return (SPOOL_REC_BAD);
	if (n < 20 + len)
		return (SPOOL_REC_SHORT);
	crc = ref_crc(d, 16, 0);
	crc = ref_crc(d + 20, len, crc);
	if (crc != ((uint32_t)d[16] << 24 | d[17] << 16 | d[18] << 8 | d[19]))
		return (SPOOL_REC_BAD);
	return (SPOOL_REC_OK);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spool_rec	 r;
	uint8_t			 h[SPOOL_REC_HDR_LEN];
	uint64_t		 t;
	size_t			 off = 0;
	int			 rc;

	rc = spool_rec_file_hdr(data, size, &t);
	if ((rc == -1) != (memcmp(data, SPOOL_FILE_MAGIC,
	    size < 8 ? size : 8) != 0))
		abort();
	for (;;) {
		rc = spool_rec_decode(data + off, size - off, &r);
		if (rc != ref_decode(data + off, size - off))
			abort();
		if (rc != SPOOL_REC_OK)
			break;
		if (r.size != SPOOL_REC_HDR_LEN + r.len ||
		    r.body != data + off + SPOOL_REC_HDR_LEN ||
		    off + r.size > size)
			abort();
		spool_rec_put_hdr(h, r.type, r.seq, r.body, r.len);
		if (memcmp(h, data + off, sizeof h) != 0)
			abort();
		off += r.size;
	}
	if (off > size || (off == size && rc != SPOOL_REC_SHORT))
		abort();
	return (0);
}
