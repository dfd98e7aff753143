/*
 * spool_rec: the format of a spool file (spool.c), pure C: no I/O, no
 * allocation, no logging, so that it is unit tested and fuzzed alone.
 *
 * A spool file is a header of SPOOL_FILE_HDR_LEN bytes, big-endian:
 *
 *	off size
 *	0   8	magic "SGSPOOL" + version 1 (SPOOL_FILE_MAGIC)
 *	8   8	creation time, nanoseconds since the epoch: a handle
 *		replays the files it holds oldest first
 *
 * then records, one after the other, each a header of SPOOL_REC_HDR_LEN
 * bytes and a body:
 *
 *	off size
 *	0   1	type: SPOOL_REC_DATA or SPOOL_REC_ACK
 *	1   3	zero
 *	4   4	length of the body: up to SPOOL_REC_MAX; 0 for an ACK
 *	8   8	seq: a DATA record's number, one more than the DATA record
 *		before it in the file; an ACK's seq says that every DATA
 *		record up to and including it was taken
 *	16  4	CRC-32C (Castagnoli) of bytes 0..15 and the body
 *	20  .	the body: an opaque payload
 *
 * The checksum and the length make a torn tail (a crash in the middle of
 * a write, or blocks written out of order) visible: the first record that
 * does not decode ends the file, and nothing after it is read.
 */
#ifndef SGW_SPOOL_REC_H
#define SGW_SPOOL_REC_H

#include <stddef.h>
#include <stdint.h>

#define SPOOL_FILE_MAGIC	"SGSPOOL\001"
#define SPOOL_FILE_HDR_LEN	16
#define SPOOL_REC_HDR_LEN	20
#define SPOOL_REC_MAX		(1024 * 1024)	/* a body's bytes, at most */

#define SPOOL_REC_DATA		1	/* a payload */
#define SPOOL_REC_ACK		2	/* DATA up to seq was taken */

/* spool_rec_decode()'s answers. */
#define SPOOL_REC_OK		0	/* *r is one whole, valid record */
#define SPOOL_REC_SHORT		1	/* a prefix of one: more bytes needed */
#define SPOOL_REC_BAD		2	/* not a record */

/* A record, as spool_rec_decode() reads it. */
struct spool_rec {
	int		 type;		/* SPOOL_REC_DATA, SPOOL_REC_ACK */
	uint64_t	 seq;
	const uint8_t	*body;		/* len bytes, inside the input */
	size_t		 len;
	size_t		 size;		/* header and body */
};

/* spool_rec.c */
uint32_t	 spool_rec_crc32c(uint32_t, const void *, size_t);
void		 spool_rec_put_file_hdr(uint8_t *, uint64_t);
int		 spool_rec_file_hdr(const uint8_t *, size_t, uint64_t *);
void		 spool_rec_put_hdr(uint8_t *, int, uint64_t, const void *,
		     size_t);
int		 spool_rec_decode(const uint8_t *, size_t, struct spool_rec *);
void		 spool_rec_peek_hdr(const uint8_t *, struct spool_rec *);

#endif /* SGW_SPOOL_REC_H */
