/*
 * Socket.IO binary attachments.  A BINARY_EVENT or BINARY_ACK header
 * carries {"_placeholder":true,"num":k} objects; the k-th binary Engine.IO
 * message after it is attachment k.  The gateway relays binaries, it never
 * looks inside them, so placeholders stay in the json_t and the
 * attachments sit beside them (struct sio_binary, struct sio_attachment).
 *
 * Placeholder rules (socket.io-parser's reconstructPacket(), stricter):
 * an object whose "_placeholder" is true is a placeholder, and its "num"
 * must be an integer 0 <= num < attachments; every attachment announced by
 * the header must be referenced at least once (the parser only skips the
 * missing ones; no client sends them); the header is checked before any
 * attachment is accepted.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sio.h"

#define WALK_DEPTH_MAX	2048	/* as deep as jansson parses */

struct usage {
	unsigned			 n;
	uint8_t				*used;
};

struct renumber {
	const struct sio_attachment	*in;
	unsigned			 nin;
	struct sio_attachment		*out;
	unsigned			 nout;
	unsigned			*map;
};

static int	walk(json_t *, int (*)(json_t *, unsigned, void *), void *,
		    unsigned);
static int	mark_used(json_t *, unsigned, void *);
static int	check_placeholders(json_t *, unsigned);
static int	renumber(json_t *, unsigned, void *);

void
sio_binary_init(struct sio_binary *b)
{
	memset(b, 0, sizeof(*b));
	sio_packet_init(&b->pkt);
}

/* Free the attachments and the header; b is ready for the next packet. */
void
sio_binary_clear(struct sio_binary *b)
{
	unsigned	 i;

	if (b->att != NULL) {
		for (i = 0; i < b->nrecv; i++)
			free((void *)b->att[i].data);
		free(b->att);
	}
	sio_packet_clear(&b->pkt);
	sio_binary_init(b);
}

/* Waiting for attachments: a text packet now is a protocol error. */
bool
sio_binary_pending(const struct sio_binary *b)
{
	return (b->att != NULL && b->nrecv < b->pkt.attachments);
}

/* All attachments are in: pkt and att[] may be used. */
bool
sio_binary_complete(const struct sio_binary *b)
{
	return (b->att != NULL && b->nrecv == b->pkt.attachments);
}

/*
 * Start reassembling after a decoded BINARY_EVENT/BINARY_ACK header.  The
 * placeholders are checked now, so a bad header costs no attachment
 * memory.  On success the header moves into b (hdr is left empty) and the
 * result is SIO_NEED_MORE; on failure hdr is untouched.
 */
int
sio_binary_start(struct sio_binary *b, struct sio_packet *hdr,
    const struct sio_limits *lim)
{
	int	 rc;

	if (sio_binary_pending(b))
		return (SIO_ERR_UNEXPECTED);
	if (lim == NULL)
		lim = &sio_limits_default;
	if (hdr->type != SIO_BINARY_EVENT && hdr->type != SIO_BINARY_ACK)
		return (SIO_ERR_TYPE);
	if (hdr->attachments == 0 || hdr->attachments > lim->max_attachments)
		return (SIO_ERR_ATTACHMENTS);
	if ((rc = check_placeholders(hdr->data, hdr->attachments)) != 0)
		return (rc);
	sio_binary_clear(b);
	if ((b->att = calloc(hdr->attachments, sizeof(*b->att))) == NULL)
		return (SIO_ERR_NOMEM);
	b->pkt = *hdr;
	sio_packet_init(hdr);
	b->max_len = lim->max_bytes;
	return (SIO_NEED_MORE);
}

/*
 * Take the next attachment (copied).  SIO_NEED_MORE while more are due,
 * SIO_OK with the last one, SIO_ERR_UNEXPECTED if none is due.
 */
int
sio_binary_add(struct sio_binary *b, const void *buf, size_t len)
{
	uint8_t	*copy;

	if (!sio_binary_pending(b))
		return (SIO_ERR_UNEXPECTED);
	if (b->max_len != 0 && len > b->max_len)
		return (SIO_ERR_TOO_BIG);
	if ((copy = malloc(len != 0 ? len : 1)) == NULL)
		return (SIO_ERR_NOMEM);
	if (len != 0)
		memcpy(copy, buf, len);
	b->att[b->nrecv].data = copy;
	b->att[b->nrecv].len = len;
	b->nrecv++;
	return (b->nrecv == b->pkt.attachments ? SIO_OK : SIO_NEED_MORE);
}

/*
 * Is v a placeholder?  1 (and *num) if it is, 0 if it is not,
 * SIO_ERR_PLACEHOLDER if "_placeholder" is true but "num" is unusable.
 */
int
sio_binary_placeholder_num(const json_t *v, unsigned *num)
{
	const json_t	*n;
	json_int_t	 k;

	if (!json_is_object(v) ||
	    !json_is_true(json_object_get(v, "_placeholder")))
		return (0);
	n = json_object_get(v, "num");
	if (!json_is_integer(n))
		return (SIO_ERR_PLACEHOLDER);
	k = json_integer_value(n);
	if (k < 0 || k > UINT_MAX)
		return (SIO_ERR_PLACEHOLDER);
	*num = (unsigned)k;
	return (1);
}

/* A new placeholder, keys in the order socket.io-parser writes them. */
json_t *
sio_binary_placeholder(unsigned num)
{
	return (json_pack("{s:b,s:I}", "_placeholder", 1, "num",
	    (json_int_t)num));
}

/*
 * Call cb(placeholder, num, arg) for each placeholder in document order
 * (arrays by index, objects by insertion).  A non-zero cb result stops the
 * walk and is returned; so is SIO_ERR_PLACEHOLDER for a bad placeholder.
 */
int
sio_binary_walk(json_t *data, int (*cb)(json_t *, unsigned, void *),
    void *arg)
{
	return (walk(data, cb, arg, 0));
}

static int
walk(json_t *v, int (*cb)(json_t *, unsigned, void *), void *arg,
    unsigned depth)
{
	const char	*key;
	json_t		*child;
	size_t		 i;
	unsigned	 num;
	int		 rc;

	if (depth > WALK_DEPTH_MAX)
		return (SIO_ERR_DEPTH);
	if ((rc = sio_binary_placeholder_num(v, &num)) != 0)
		return (rc < 0 ? rc : cb(v, num, arg));
	if (json_is_array(v)) {
		json_array_foreach(v, i, child) {
			if ((rc = walk(child, cb, arg, depth + 1)) != 0)
				return (rc);
		}
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, child) {
			if ((rc = walk(child, cb, arg, depth + 1)) != 0)
				return (rc);
		}
	}
	return (0);
}

/* Note that attachment num is referenced. */
static int
mark_used(json_t *ph, unsigned num, void *arg)
{
	struct usage	*u = arg;

	(void)ph;
	if (num >= u->n)
		return (SIO_ERR_PLACEHOLDER);
	u->used[num] = 1;
	return (0);
}

/* Every placeholder in range, every attachment referenced. */
static int
check_placeholders(json_t *data, unsigned n)
{
	struct usage	 u;
	unsigned	 i;
	int		 rc;

	u.n = n;
	if ((u.used = calloc(n, 1)) == NULL)
		return (SIO_ERR_NOMEM);
	rc = sio_binary_walk(data, mark_used, &u);
	for (i = 0; rc == 0 && i < n; i++) {
		if (!u.used[i])
			rc = SIO_ERR_PLACEHOLDER;
	}
	free(u.used);
	return (rc);
}

/* Give placeholder num its new index, taking its buffer the first time. */
static int
renumber(json_t *ph, unsigned num, void *arg)
{
	struct renumber	*r = arg;

	if (num >= r->nin)
		return (SIO_ERR_PLACEHOLDER);
	if (r->map[num] == UINT_MAX) {
		r->map[num] = r->nout;
		r->out[r->nout++] = r->in[num];
	}
	if (r->map[num] != num && json_object_set_new(ph, "num",
	    json_integer((json_int_t)r->map[num])) != 0)
		return (SIO_ERR_NOMEM);
	return (0);
}

/*
 * Prepare data for sending: renumber its placeholders 0, 1, ... in
 * document order (in place: deep-copy a shared tree first) and list in
 * out[] (room for nin) the attachments they refer to, each once, taken
 * from in[].  The header then says *nout attachments, and out[0..*nout-1]
 * follow it.  No buffer is copied: out[] points where in[] points.
 */
int
sio_binary_deconstruct(json_t *data, const struct sio_attachment *in,
    unsigned nin, struct sio_attachment *out, unsigned *nout)
{
	struct renumber	 r;
	unsigned	 i;
	int		 rc;

	memset(&r, 0, sizeof(r));
	r.in = in;
	r.nin = nin;
	r.out = out;
	*nout = 0;
	if ((r.map = calloc(nin != 0 ? nin : 1, sizeof(*r.map))) == NULL)
		return (SIO_ERR_NOMEM);
	for (i = 0; i < nin; i++)
		r.map[i] = UINT_MAX;
	rc = sio_binary_walk(data, renumber, &r);
	free(r.map);
	if (rc == 0)
		*nout = r.nout;
	return (rc);
}
