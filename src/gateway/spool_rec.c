/*
 * spool_rec: the format of a spool file (spool_rec.h): the file's header,
 * a record's header and its checksum, and the check that bytes read back
 * from a file are one whole record.  Pure: no I/O, no allocation, no
 * logging.
 */
#include <string.h>

#include "be.h"
#include "spool_rec.h"

static uint32_t	 crc_table[256];
static int	 crc_ready;

/*
 * Continue the CRC-32C of crc (0 to start) over len bytes.  CRC-32C
 * (Castagnoli, reflected polynomial 0x82f63b78) is the checksum of iSCSI,
 * ext4 and LevelDB's log; a byte-wise table, built on the first call, is
 * fast enough for the messages of a spool.
 */
uint32_t
spool_rec_crc32c(uint32_t crc, const void *data, size_t len)
{
	const uint8_t	*p = data;
	uint32_t	 c;
	int		 i, k;

	if (!crc_ready) {
		for (i = 0; i < 256; i++) {
			c = i;
			for (k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
			crc_table[i] = c;
		}
		crc_ready = 1;
	}
	crc = ~crc;
	while (len-- > 0)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return (~crc);
}

/* Write the SPOOL_FILE_HDR_LEN bytes of a file's header at h. */
void
spool_rec_put_file_hdr(uint8_t *h, uint64_t created)
{
	memcpy(h, SPOOL_FILE_MAGIC, 8);
	be_put64(h + 8, created);
}

/*
 * Read a file's first len bytes as its header: 0 and the creation time
 * in *created; 1 if they are shorter than a header but begin like one (a
 * crash while the file was made: it holds nothing); -1 if they are not a
 * spool file's.
 */
int
spool_rec_file_hdr(const uint8_t *p, size_t len, uint64_t *created)
{
	if (len < SPOOL_FILE_HDR_LEN)
		return (memcmp(p, SPOOL_FILE_MAGIC, len < 8 ? len : 8) == 0 ?
		    1 : -1);
	if (memcmp(p, SPOOL_FILE_MAGIC, 8) != 0)
		return (-1);
	*created = be_get64(p + 8);
	return (0);
}

/*
 * Write the SPOOL_REC_HDR_LEN bytes of the header of a record of type
 * with seq and the len bytes of body (len at most SPOOL_REC_MAX) at h;
 * the body follows the header in the file.
 */
void
spool_rec_put_hdr(uint8_t *h, int type, uint64_t seq, const void *body,
    size_t len)
{
	uint32_t	crc;

	h[0] = type;
	h[1] = h[2] = h[3] = 0;
	be_put32(h + 4, len);
	be_put64(h + 8, seq);
	crc = spool_rec_crc32c(0, h, 16);
	if (len > 0)
		crc = spool_rec_crc32c(crc, body, len);
	be_put32(h + 16, crc);
}

/*
 * Read the record at the start of the avail bytes at p into *r.
 * SPOOL_REC_OK: a whole record whose checksum matches, r->size bytes.
 * SPOOL_REC_SHORT: the bytes could begin a record but end before it does
 * (at the end of a file: a torn tail).  SPOOL_REC_BAD: they cannot.
 */
int
spool_rec_decode(const uint8_t *p, size_t avail, struct spool_rec *r)
{
	uint32_t	crc;
	size_t		i, len;

	if (avail < 1)
		return (SPOOL_REC_SHORT);
	if (p[0] != SPOOL_REC_DATA && p[0] != SPOOL_REC_ACK)
		return (SPOOL_REC_BAD);
	/* As much of the header as there is must be possible. */
	for (i = 1; i < 4 && i < avail; i++)
		if (p[i] != 0)
			return (SPOOL_REC_BAD);
	if (avail < 8)
		return (SPOOL_REC_SHORT);
	len = be_get32(p + 4);
	if (len > SPOOL_REC_MAX || (p[0] == SPOOL_REC_ACK && len != 0))
		return (SPOOL_REC_BAD);
	if (avail < SPOOL_REC_HDR_LEN || avail - SPOOL_REC_HDR_LEN < len)
		return (SPOOL_REC_SHORT);
	crc = spool_rec_crc32c(0, p, 16);
	crc = spool_rec_crc32c(crc, p + SPOOL_REC_HDR_LEN, len);
	if (crc != be_get32(p + 16))
		return (SPOOL_REC_BAD);
	r->type = p[0];
	r->seq = be_get64(p + 8);
	r->body = p + SPOOL_REC_HDR_LEN;
	r->len = len;
	r->size = SPOOL_REC_HDR_LEN + len;
	return (SPOOL_REC_OK);
}

/*
 * What the SPOOL_REC_HDR_LEN bytes of a header at h say (type, seq, len,
 * size; no body), unchecked: a reader that walks a file by the lengths
 * decodes each record it keeps with spool_rec_decode(), which checks
 * them.
 */
void
spool_rec_peek_hdr(const uint8_t *h, struct spool_rec *r)
{
	r->type = h[0];
	r->seq = be_get64(h + 8);
	r->body = NULL;
	r->len = be_get32(h + 4);
	r->size = SPOOL_REC_HDR_LEN + r->len;
}
