/*
 * libFuzzer harness for sio_binary.c.  Input: one byte of limits, a
 * BINARY_EVENT/BINARY_ACK header up to the first NUL, then attachments,
 * each a length byte and that many bytes.  Checked, beyond memory safety:
 * the assembler's answers follow the count the header announced; a
 * complete packet relayed without its first element deconstructs to
 * placeholders 0..n-1 that encode, decode and reassemble again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sio.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	relay(const struct sio_binary *, const struct sio_limits *);
static int	check_num(json_t *, unsigned, void *);

/* Every placeholder after deconstruction is below the count. */
static int
check_num(json_t *ph, unsigned num, void *arg)
{
	(void)ph;
	if (num >= *(unsigned *)arg)
		abort();
	return (0);
}

/*
 * Send the arguments back as a BINARY_ACK, the way the test suite's
 * "message-with-ack" handler does, and reassemble what we would send.
 */
static void
relay(const struct sio_binary *b, const struct sio_limits *lim)
{
	struct sio_attachment	*out;
	struct sio_packet	 p, q;
	struct sio_binary	 again;
	struct sio_limits	 relim = *lim;
	char			*buf;
	unsigned		 n, i;
	size_t			 len;
	int			 rc;

	if ((out = calloc(b->pkt.attachments, sizeof(*out))) == NULL)
		return;
	sio_packet_init(&p);
	p.type = SIO_BINARY_ACK;
	p.ack_id = 1;
	p.data = json_deep_copy(b->pkt.data);
	if (b->pkt.type == SIO_BINARY_EVENT)
		json_array_remove(p.data, 0);
	rc = sio_binary_deconstruct(p.data, b->att, b->pkt.attachments, out,
	    &n);
	/* The name is never a placeholder: every attachment is still used. */
	if (rc != SIO_OK || n != b->pkt.attachments ||
	    sio_binary_walk(p.data, check_num, &n) != 0)
		abort();
	p.attachments = n;
	len = sio_packet_encode(&p, 0, NULL, 0);
	if (len == 0 || (buf = malloc(len + 1)) == NULL)
		abort();
	sio_packet_encode(&p, 0, buf, len + 1);
	relim.max_bytes = 0;
	relim.max_attachments = n;
	rc = sio_packet_decode(buf, len, &relim, &q);
	free(buf);
	if (rc == SIO_ERR_NUMBER)
		goto done;
	if (rc != SIO_OK)
		abort();
	sio_binary_init(&again);
	if (sio_binary_start(&again, &q, &relim) != SIO_NEED_MORE)
		abort();
	for (i = 0; i < n; i++) {
		rc = sio_binary_add(&again, out[i].data, out[i].len);
		if (rc != (i + 1 == n ? SIO_OK : SIO_NEED_MORE))
			abort();
		if (again.att[i].len != out[i].len || (out[i].len != 0 &&
		    memcmp(again.att[i].data, out[i].data, out[i].len) != 0))
			abort();
	}
	sio_binary_clear(&again);
	sio_packet_clear(&q);
done:
	sio_packet_clear(&p);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sio_limits	 lim;
	struct sio_packet	 p;
	struct sio_binary	 b;
	const uint8_t		*nul, *end = data + size;
	size_t			 len;
	unsigned		 before;
	int			 rc, want;

	if (size < 1)
		return (0);
	lim.max_depth = (data[0] & 0x7) + 2;
	lim.max_elements = 0;
	lim.max_attachments = (data[0] >> 3) & 0xf;
	lim.max_bytes = (data[0] & 0x80) ? 32 : 0;
	data++;
	if ((nul = memchr(data, 0, (size_t)(end - data))) == NULL)
		nul = end;
	if (sio_packet_decode((const char *)data, (size_t)(nul - data), &lim,
	    &p) != SIO_OK)
		return (0);
	sio_binary_init(&b);
	rc = sio_binary_start(&b, &p, &lim);
	sio_packet_clear(&p);
	if (rc != SIO_NEED_MORE)
		goto out;
	for (data = nul + 1; data < end; data += len) {
		len = *data++;
		if (len > (size_t)(end - data))
			len = (size_t)(end - data);
		before = b.nrecv;
		rc = sio_binary_add(&b, data, len);
		if (before == b.pkt.attachments)
			want = SIO_ERR_UNEXPECTED;
		else if (lim.max_bytes != 0 && len > lim.max_bytes)
			want = SIO_ERR_TOO_BIG;
		else if (before + 1 == b.pkt.attachments)
			want = SIO_OK;
		else
			want = SIO_NEED_MORE;
		if (rc != want || b.nrecv != before + (rc >= 0) ||
		    sio_binary_complete(&b) !=
		    (b.nrecv == b.pkt.attachments) ||
		    sio_binary_pending(&b) == sio_binary_complete(&b))
			abort();
	}
	if (sio_binary_complete(&b))
		relay(&b, &lim);
out:
	sio_binary_clear(&b);
	return (0);
}
