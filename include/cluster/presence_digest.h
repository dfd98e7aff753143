/*
 * presence_digest: the wire format of a presence digest part, pure C: no
 * I/O, no allocation, no table (what goes into a digest and what a
 * received one changes is presence.c).
 *
 * Digest wire format, version 1 (all integers big-endian):
 *
 *	off size
 *	0   1	version, 1
 *	1   1	flags: 0x01 = last part of this digest; other bits zero
 *	2   2	sender's worker id, 0..4095
 *	4   4	digest id (the sender's counter; equal in every part)
 *	8   2	part index, 0 for the first part
 *	10  4	number of entries that follow
 *	14  ...	entries: count (LEB128 varint, 1..2^32-1, shortest form),
 *		name length (1 byte, 1..128), name (no NUL byte)
 *
 * Nothing may follow the last entry.
 *
 * Summary wire format, version 1 (presence.h: a worker's summary, sent
 * every interval instead of a whole digest, and whom it asks for one):
 *
 *	off size
 *	0   1	version, 1
 *	1   2	sender's worker id, 0..4095
 *	3   8	hash: sum of count * FNV-1a 64 (user id)
 *	11  8	sockets: sum of count
 *	19  2	n, the workers asked for a whole digest, 0..64
 *	21  2n	their worker ids, 0..4095 each
 *
 * Nothing may follow.  A writer puts the entries after the
 * header's room, then the header with their number.  A reader checks the
 * whole part with presence_digest_decode() before it reads one entry with
 * presence_digest_decode_entry(), so nothing is applied from a bad part.
 */
#ifndef SGW_PRESENCE_DIGEST_H
#define SGW_PRESENCE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "presence.h"

#define PRESENCE_DIGEST_VERSION	1
#define PRESENCE_DIGEST_LAST	0x01
#define PRESENCE_DIGEST_HDR	14
/* A part with the header and one entry of the longest name. */
#define PRESENCE_DIGEST_MIN	(PRESENCE_DIGEST_HDR + 5 + 1 + \
				    PRESENCE_USER_MAX)

#define PRESENCE_SUMMARY_HDR	21
#define PRESENCE_SUMMARY_ASKS	64
#define PRESENCE_SUMMARY_MAX	(PRESENCE_SUMMARY_HDR + \
				    2 * PRESENCE_SUMMARY_ASKS)

/* A summary as it goes on the wire. */
struct presence_summary_msg {
	uint16_t		 wid;		/* sender */
	struct presence_sum	 sum;
	uint16_t		 nasks;
	uint16_t		 asks[PRESENCE_SUMMARY_ASKS];
};

/* A part's header. */
struct presence_digest_hdr {
	uint8_t		 flags;		/* PRESENCE_DIGEST_LAST */
	uint16_t	 wid;		/* sender */
	uint32_t	 id;		/* digest id */
	uint16_t	 part;		/* index in the digest */
	uint32_t	 n;		/* entries */
};

/* presence_digest.c */
void		 presence_digest_encode_hdr(uint8_t *,
		     const struct presence_digest_hdr *);
size_t		 presence_digest_entry_size(uint32_t, size_t);
size_t		 presence_digest_encode_entry(uint8_t *, uint32_t,
		     const char *, uint8_t);
int		 presence_digest_decode(const uint8_t *, size_t,
		     struct presence_digest_hdr *);
size_t		 presence_digest_decode_entry(const uint8_t *, size_t,
		     size_t, uint32_t *, const char **, uint8_t *);
size_t		 presence_summary_encode(uint8_t *,
		     const struct presence_summary_msg *);
int		 presence_summary_decode(const uint8_t *, size_t,
		     struct presence_summary_msg *);

#endif /* SGW_PRESENCE_DIGEST_H */
