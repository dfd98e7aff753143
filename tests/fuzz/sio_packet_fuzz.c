/*
 * libFuzzer harness for sio_packet.c.  The first byte picks the limits, the
 * rest is a Socket.IO packet as a client would send it.  Checked, beyond
 * memory safety: a decoded packet is well-formed (namespace, ack id, the
 * payload its type needs); it encodes without overrunning a short buffer;
 * the encoding decodes back to the same packet and re-encodes to the same
 * bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sio.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	same(const json_t *, const json_t *);
static void	check_packet(const struct sio_packet *,
		    const struct sio_limits *);
static char	*encode(const struct sio_packet *, int, size_t *);

/* json_equal(), but 1 and 1.0 are the same number (as in JavaScript). */
static int
same(const json_t *a, const json_t *b)
{
	const char	*key;
	json_t		*v;
	size_t		 i;

	if (json_is_number(a) && json_is_number(b))
		return (json_number_value(a) == json_number_value(b));
	if (json_typeof(a) != json_typeof(b))
		return (0);
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return (0);
		json_array_foreach(a, i, v) {
			if (!same(v, json_array_get(b, i)))
				return (0);
		}
		return (1);
	}
	if (json_is_object(a)) {
		if (json_object_size(a) != json_object_size(b))
			return (0);
		json_object_foreach((json_t *)a, key, v) {
			if (json_object_get(b, key) == NULL ||
			    !same(v, json_object_get(b, key)))
				return (0);
		}
		return (1);
	}
	return (json_equal(a, b));
}

/* Encode into a buffer of exactly the right size, checking short ones. */
static char *
encode(const struct sio_packet *p, int flags, size_t *lenp)
{
	char	*buf;
	size_t	 n;

	n = sio_packet_encode(p, flags, NULL, 0);
	if (n == 0)
		abort();
	if ((buf = malloc(n)) == NULL)
		abort();
	if (sio_packet_encode(p, flags, buf, n / 2) != n ||
	    sio_packet_encode(p, flags, buf, n) != n)
		abort();
	*lenp = n;
	return (buf);
}

static void
check_packet(const struct sio_packet *p, const struct sio_limits *lim)
{
	struct sio_limits	 relim = *lim;
	struct sio_packet	 q;
	char			*buf, *buf2;
	size_t			 n, n2, len;
	int			 rc;

	if (p->nsp[0] != '/' || strlen(p->nsp) != p->nsp_len ||
	    p->nsp_len > SIO_NSP_MAX || strchr(p->nsp, ',') != NULL)
		abort();
	if (p->ack_id < -1 || p->ack_id > SIO_ACK_MAX)
		abort();
	if (p->type == SIO_DISCONNECT ? p->data != NULL :
	    p->type != SIO_CONNECT && p->data == NULL)
		abort();
	if ((p->type == SIO_BINARY_EVENT || p->type == SIO_BINARY_ACK) !=
	    (p->attachments != 0) || p->attachments > lim->max_attachments)
		abort();
	if (sio_event_name(p, &len) != NULL &&
	    sio_event_reserved(sio_event_name(p, NULL), len))
		abort();
	if (sio_event_nargs(p) != 0 &&
	    sio_event_arg(p, sio_event_nargs(p) - 1) == NULL)
		abort();

	buf = encode(p, SIO_ENCODE_EIO, &n);
	if (buf[0] != '4')
		abort();
	/* Numbers may grow (1e21 is written 1e+21): no byte limit here. */
	relim.max_bytes = 0;
	rc = sio_packet_decode(buf + 1, n - 1, &relim, &q);
	if (rc == SIO_ERR_NUMBER) {
		/* 1e20 is written 100000000000000000000: jansson's range. */
		free(buf);
		return;
	}
	if (rc != SIO_OK || q.type != p->type || q.ack_id != p->ack_id ||
	    q.attachments != p->attachments || strcmp(q.nsp, p->nsp) != 0 ||
	    (p->data == NULL) != (q.data == NULL) ||
	    (p->data != NULL && !same(p->data, q.data)))
		abort();
	buf2 = encode(&q, SIO_ENCODE_EIO, &n2);
	if (n2 != n || memcmp(buf, buf2, n) != 0)
		abort();
	free(buf2);
	free(buf);
	sio_packet_clear(&q);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sio_limits	 lim;
	struct sio_packet	 p;
	int			 rc;

	if (size < 1)
		return (0);
	lim.max_depth = data[0] & 0x7;
	lim.max_elements = (data[0] >> 3) & 0x1f;
	lim.max_attachments = (data[0] & 0x80) ? 3 : 10;
	lim.max_bytes = (data[0] & 0x40) ? 64 : 0;
	rc = sio_packet_decode((const char *)data + 1, size - 1, &lim, &p);
	if (rc > 0 || sio_strerror(rc) == NULL)
		abort();
	if (rc != SIO_OK) {
		if (p.data != NULL)
			abort();
		return (0);
	}
	check_packet(&p, &lim);
	sio_packet_clear(&p);
	return (0);
}
