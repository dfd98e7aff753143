/*
 * libFuzzer harness for sioredis (sior_decode() and its encoders).  The
 * first byte picks the format (classic or sharded), the rest is a message
 * as any process that can publish on Redis may send it.  Checked, beyond
 * memory safety: counts within their bounds and views readable; a
 * broadcast's text is a Socket.IO EVENT, or a BINARY_EVENT whose natt
 * attachments its placeholders name, that this gateway's own parser and
 * assembler take; a SERVER_EMIT's text is JSON; a broadcast without
 * binaries, published again by us in either format, decodes to the same
 * text; answers and channels never overrun.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonlimit.h"
#include "sio.h"
#include "sioredis.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static volatile unsigned	sink;

/* Touch every byte of a view, so ASan sees a bad one. */
static void
touch(struct sior_str s)
{
	size_t	 i;

	if (s.len > 0 && s.p == NULL)
		abort();
	for (i = 0; i < s.len; i++)
		sink += (unsigned char)s.p[i];
}

static void
check_views(const struct sior_msg *m)
{
	unsigned	 i;

	if (m->nrooms > SIOR_ROOMS_MAX || m->nexcept > SIOR_ROOMS_MAX ||
	    m->ntargets > SIOR_ROOMS_MAX || m->natt > SIOR_ATT_MAX)
		abort();
	touch(m->uid);
	touch(m->nsp);
	touch(m->request_id);
	touch(m->sid);
	for (i = 0; i < m->nrooms; i++)
		touch(m->rooms[i]);
	for (i = 0; i < m->nexcept; i++)
		touch(m->except[i]);
	for (i = 0; i < m->ntargets; i++)
		touch(m->targets[i]);
	for (i = 0; i < m->natt; i++)
		touch(m->att[i]);
	if ((m->text == NULL) != (m->textlen == 0))
		abort();
}

/* A broadcast's text is a packet our own parser takes. */
static void
check_text(const struct sior_msg *m)
{
	struct sio_limits	 lim = { 0, 64, SIOR_ATT_MAX, 0 };
	struct sio_packet	 p;
	struct sio_binary	 b;
	unsigned		 i;
	int			 rc;

	rc = sio_packet_decode(m->text, m->textlen, &lim, &p);
	if (rc == SIO_ERR_NUMBER)	/* 1e20 is written in full */
		return;
	if (rc != SIO_OK || (m->natt > 0 ? p.type != SIO_BINARY_EVENT ||
	    p.attachments != m->natt : p.type != SIO_EVENT))
		abort();
	if (m->natt == 0) {
		sio_packet_clear(&p);
		return;
	}
	/* The attachments are the ones its placeholders name, all used. */
	sio_binary_init(&b);
	if (sio_binary_start(&b, &p, &lim) != SIO_NEED_MORE)
		abort();
	for (i = 0; i < m->natt; i++) {
		if (sio_binary_add(&b, m->att[i].p, m->att[i].len) !=
		    (i + 1 == m->natt ? SIO_OK : SIO_NEED_MORE))
			abort();
	}
	sio_binary_clear(&b);
}

/* Published again by us, the broadcast reads back the same. */
static void
check_again(const struct sior_msg *m)
{
	struct sior_bcast	 b;
	struct sior_msg		 again;
	uint8_t			*out;
	size_t			 len;
	int			 f;
	char			 ch[64];

	memset(&b, 0, sizeof(b));
	b.uid = "fuzz";
	b.args = m->text + 1;
	b.argslen = m->textlen - 1;
	b.rooms = m->rooms;
	b.nrooms = m->nrooms;
	b.except = m->except;
	b.nexcept = m->nexcept;
	b.flags = m->flags & ~SIOR_F_LOCAL;
	for (f = SIOR_CLASSIC; f <= SIOR_SHARDED; f++) {
		sior_channel_bcast(f, "socket.io", "/", &b, ch, sizeof(ch));
		if (sior_encode_bcast(f, &b, &out, &len) != 0)
			continue;	/* deeper than a client may send */
		if (sior_decode(f, out, len, &again) != 0 ||
		    again.op != SIOR_OP_BROADCAST ||
		    again.textlen != m->textlen ||
		    memcmp(again.text, m->text, m->textlen) != 0 ||
		    again.nrooms != m->nrooms || again.flags != b.flags)
			abort();
		sior_free(&again);
		free(out);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sior_msg	 m;
	json_t		*body;
	char		*r;
	size_t		 len;

	if (size < 1)
		return (0);
	if (sior_decode(data[0] & 1, data + 1, size - 1, &m) != 0) {
		if (m.text != NULL || m.priv_ != NULL)
			abort();
		return (0);
	}
	check_views(&m);
	if (m.op == SIOR_OP_BROADCAST) {
		check_text(&m);
		if (m.natt == 0 && m.text[0] == '2' && m.text[1] == '[')
			check_again(&m);
	} else if (m.op == SIOR_OP_SERVER_EMIT &&
	    jsonlimit_scan(m.text, m.textlen, NULL, NULL) != JSONLIMIT_OK)
		abort();
	body = json_pack("{s:[]}", "sockets");
	r = sior_response(m.format, "fuzz", "/", &m, body, &len);
	if (r != NULL && strlen(r) != len)
		abort();
	free(r);
	json_decref(body);
	sior_free(&m);
	return (0);
}
