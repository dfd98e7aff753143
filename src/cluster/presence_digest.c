/*
 * presence_digest: the wire format of a presence digest part
 * (presence_digest.h): the header, and the entries written one at a time
 * and read back only from a part checked whole.  Pure: no I/O, no
 * logging, no allocation.
 */
#include <string.h>

#include "jsonlimit.h"
#include "presence_digest.h"

static size_t		 varint_len(uint32_t);
static size_t		 varint_put(uint8_t *, uint32_t);
static int		 varint_get(const uint8_t *, size_t, uint32_t *);

static size_t
varint_len(uint32_t v)
{
	size_t	n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return (n);
}

static size_t
varint_put(uint8_t *b, uint32_t v)
{
	size_t	n = 0;

	while (v >= 0x80) {
		b[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b[n++] = (uint8_t)v;
	return (n);
}

/* Bytes used, or -1: truncated, above 2^32-1, or not the shortest form. */
static int
varint_get(const uint8_t *b, size_t len, uint32_t *v)
{
	uint64_t	x = 0;
	size_t		i;

	for (i = 0; i < len && i < 5; i++) {
		x |= (uint64_t)(b[i] & 0x7f) << (7 * i);
		if ((b[i] & 0x80) == 0) {
			if ((i > 0 && b[i] == 0) || x > UINT32_MAX)
				return (-1);
			*v = (uint32_t)x;
			return ((int)i + 1);
		}
	}
	return (-1);
}

/* Writes the PRESENCE_DIGEST_HDR bytes of h at b, version 1. */
void
presence_digest_encode_hdr(uint8_t *b, const struct presence_digest_hdr *h)
{
	b[0] = PRESENCE_DIGEST_VERSION;
	b[1] = h->flags;
	b[2] = (uint8_t)(h->wid >> 8);
	b[3] = (uint8_t)h->wid;
	b[4] = (uint8_t)(h->id >> 24);
	b[5] = (uint8_t)(h->id >> 16);
	b[6] = (uint8_t)(h->id >> 8);
	b[7] = (uint8_t)h->id;
	b[8] = (uint8_t)(h->part >> 8);
	b[9] = (uint8_t)h->part;
	b[10] = (uint8_t)(h->n >> 24);
	b[11] = (uint8_t)(h->n >> 16);
	b[12] = (uint8_t)(h->n >> 8);
	b[13] = (uint8_t)h->n;
}

/* Bytes an entry of count sockets for a len-byte name takes. */
size_t
presence_digest_entry_size(uint32_t count, size_t len)
{
	return (varint_len(count) + 1 + len);
}

/*
 * Writes one entry at b, which has room for presence_digest_entry_size()
 * bytes, and returns that size.  count (1..) and the name (1..128 bytes of
 * valid UTF-8 without NUL) are the caller's to get right: a presence table
 * only holds such names.
 */
size_t
presence_digest_encode_entry(uint8_t *b, uint32_t count, const char *name,
    uint8_t len)
{
	size_t	off;

	off = varint_put(b, count);
	b[off++] = len;
	memcpy(b + off, name, len);
	return (off + len);
}

/*
 * Checks a whole part and reads its header into *h: 0, or -1 for a bad
 * version or flag, a worker id above PRESENCE_WID_MAX, a bad entry (count
 * 0 or not in shortest form, a name empty, too long, with a NUL or not
 * UTF-8), fewer entries than the header says, or bytes after the last.
 */
int
presence_digest_decode(const uint8_t *d, size_t len,
    struct presence_digest_hdr *h)
{
	size_t		off = PRESENCE_DIGEST_HDR;
	uint32_t	i, count;
	int		k;

	if (d == NULL || len < PRESENCE_DIGEST_HDR ||
	    d[0] != PRESENCE_DIGEST_VERSION ||
	    (d[1] & ~PRESENCE_DIGEST_LAST) != 0)
		return (-1);
	h->flags = d[1];
	h->wid = (uint16_t)(d[2] << 8 | d[3]);
	h->id = (uint32_t)d[4] << 24 | (uint32_t)d[5] << 16 |
	    (uint32_t)d[6] << 8 | d[7];
	h->part = (uint16_t)(d[8] << 8 | d[9]);
	h->n = (uint32_t)d[10] << 24 | (uint32_t)d[11] << 16 |
	    (uint32_t)d[12] << 8 | d[13];
	/* An entry takes at least 3 bytes. */
	if (h->wid > PRESENCE_WID_MAX || h->n > (len - off) / 3)
		return (-1);
	for (i = 0; i < h->n; i++) {
		if ((k = varint_get(d + off, len - off, &count)) < 0 ||
		    count == 0)
			return (-1);
		off += (size_t)k;
		if (off >= len || d[off] == 0 || d[off] > PRESENCE_USER_MAX ||
		    len - off - 1 < d[off])
			return (-1);
		if (memchr(d + off + 1, 0, d[off]) != NULL ||
		    !jsonlimit_utf8_valid((const char *)d + off + 1, d[off]))
			return (-1);
		off += 1 + (size_t)d[off];
	}
	return (off == len ? 0 : -1);
}

/*
 * Reads the entry at off (PRESENCE_DIGEST_HDR for the first) of a part
 * that presence_digest_decode() accepted: its count, and its name (not
 * NUL-terminated, inside d) and length.  Returns the offset of the next.
 */
size_t
presence_digest_decode_entry(const uint8_t *d, size_t len, size_t off,
    uint32_t *count, const char **name, uint8_t *nlen)
{
	off += (size_t)varint_get(d + off, len - off, count);
	*nlen = d[off++];
	*name = (const char *)d + off;
	return (off + *nlen);
}

static void
put_be(uint8_t *b, uint64_t v, int n)
{
	int	i;

	for (i = n - 1; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

static uint64_t
get_be(const uint8_t *b, int n)
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < n; i++)
		v = v << 8 | b[i];
	return (v);
}

/*
 * Writes m at b, which has room for PRESENCE_SUMMARY_MAX bytes (nasks is
 * the caller's to keep at most PRESENCE_SUMMARY_ASKS), and returns its size.
 */
size_t
presence_summary_encode(uint8_t *b, const struct presence_summary_msg *m)
{
	uint16_t	i;

	b[0] = PRESENCE_DIGEST_VERSION;
	put_be(b + 1, m->wid, 2);
	put_be(b + 3, m->sum.hash, 8);
	put_be(b + 11, m->sum.sockets, 8);
	put_be(b + 19, m->nasks, 2);
	for (i = 0; i < m->nasks; i++)
		put_be(b + PRESENCE_SUMMARY_HDR + 2 * i, m->asks[i], 2);
	return (PRESENCE_SUMMARY_HDR + 2 * (size_t)m->nasks);
}

/*
 * Reads a summary into *m: 0, or -1 for a bad version, a worker id above
 * PRESENCE_WID_MAX (the sender's or one asked), more than
 * PRESENCE_SUMMARY_ASKS asks, or a length other than what n says.
 */
int
presence_summary_decode(const uint8_t *d, size_t len,
    struct presence_summary_msg *m)
{
	uint16_t	i;

	if (d == NULL || len < PRESENCE_SUMMARY_HDR ||
	    d[0] != PRESENCE_DIGEST_VERSION)
		return (-1);
	m->wid = (uint16_t)get_be(d + 1, 2);
	m->sum.hash = get_be(d + 3, 8);
	m->sum.sockets = get_be(d + 11, 8);
	m->nasks = (uint16_t)get_be(d + 19, 2);
	if (m->wid > PRESENCE_WID_MAX || m->nasks > PRESENCE_SUMMARY_ASKS ||
	    len != PRESENCE_SUMMARY_HDR + 2 * (size_t)m->nasks)
		return (-1);
	for (i = 0; i < m->nasks; i++) {
		m->asks[i] = (uint16_t)get_be(d + PRESENCE_SUMMARY_HDR + 2 * i,
		    2);
		if (m->asks[i] > PRESENCE_WID_MAX)
			return (-1);
	}
	return (0);
}
