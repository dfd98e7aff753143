/*
 * Unit tests for sio_binary.c: reassembling BINARY_EVENT/BINARY_ACK packets
 * as the public test suite sends them, relaying them back as it expects,
 * placeholder errors, and deconstruction (renumbering) for sending.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sio.h"

#define PH(n)	"{\"_placeholder\":true,\"num\":" #n "}"

static int	start(const char *, struct sio_binary *,
		    const struct sio_limits *);
static void	check_start(const char *, int);
static int	count_cb(json_t *, unsigned, void *);
static int	stop_cb(json_t *, unsigned, void *);

static const uint8_t	one[] = { 1, 2, 3 }, two[] = { 4, 5, 6 };

/* Decode a header and start assembling it. */
static int
start(const char *s, struct sio_binary *b, const struct sio_limits *lim)
{
	struct sio_packet	 p;
	int			 rc;

	if ((rc = sio_packet_decode(s, strlen(s), lim, &p)) != SIO_OK)
		return (rc);
	rc = sio_binary_start(b, &p, lim);
	sio_packet_clear(&p);
	return (rc);
}

static void
check_start(const char *s, int want)
{
	struct sio_binary	 b;
	int			 rc;

	sio_binary_init(&b);
	rc = start(s, &b, NULL);
	if (rc != want)
		fail_msg("%s: got %d (%s), want %d", s, rc, sio_strerror(rc),
		    want);
	assert_false(sio_binary_complete(&b));
	sio_binary_clear(&b);
}

/*
 * The test suite's "should send a packet with binary attachments": the
 * server echoes 452-["message-back",<0>,<1>] and the same two buffers.
 */
static void
test_suite_event(void **state)
{
	struct sio_binary	 b;
	struct sio_attachment	 out[2];
	struct sio_packet	 reply;
	unsigned		 n;
	char			 buf[256];

	(void)state;
	sio_binary_init(&b);
	assert_false(sio_binary_pending(&b));
	assert_int_equal(start("52-[\"message\"," PH(0) "," PH(1) "]", &b,
	    NULL), SIO_NEED_MORE);
	assert_true(sio_binary_pending(&b));
	assert_int_equal(b.pkt.type, SIO_BINARY_EVENT);
	assert_int_equal(sio_binary_add(&b, one, sizeof(one)), SIO_NEED_MORE);
	assert_false(sio_binary_complete(&b));
	assert_int_equal(sio_binary_add(&b, two, sizeof(two)), SIO_OK);
	assert_false(sio_binary_pending(&b));
	assert_true(sio_binary_complete(&b));
	assert_int_equal(b.att[0].len, 3);
	assert_memory_equal(b.att[0].data, one, 3);
	assert_memory_equal(b.att[1].data, two, 3);
	assert_int_equal(sio_binary_add(&b, one, 1), SIO_ERR_UNEXPECTED);

	/* Relay: same arguments under another name. */
	sio_packet_init(&reply);
	reply.type = SIO_BINARY_EVENT;
	reply.data = json_deep_copy(b.pkt.data);
	json_array_set_new(reply.data, 0, json_string("message-back"));
	assert_int_equal(sio_binary_deconstruct(reply.data, b.att, 2, out, &n),
	    SIO_OK);
	assert_int_equal(n, 2);
	assert_ptr_equal(out[0].data, b.att[0].data);
	assert_ptr_equal(out[1].data, b.att[1].data);
	reply.attachments = n;
	sio_packet_encode(&reply, SIO_ENCODE_EIO, buf, sizeof(buf));
	assert_string_equal(buf, "452-[\"message-back\"," PH(0) "," PH(1) "]");
	sio_packet_clear(&reply);
	sio_binary_clear(&b);
	assert_false(sio_binary_complete(&b));
}

/* "...with binary attachments and an ack": 462-789[<0>,<1>] comes back. */
static void
test_suite_ack(void **state)
{
	struct sio_binary	 b;
	struct sio_attachment	 out[2];
	struct sio_packet	 reply;
	unsigned		 n;
	char			 buf[256];

	(void)state;
	sio_binary_init(&b);
	assert_int_equal(start("52-789[\"message-with-ack\"," PH(0) "," PH(1)
	    "]", &b, NULL), SIO_NEED_MORE);
	assert_int_equal(b.pkt.ack_id, 789);
	assert_int_equal(sio_binary_add(&b, one, sizeof(one)), SIO_NEED_MORE);
	assert_int_equal(sio_binary_add(&b, two, sizeof(two)), SIO_OK);

	sio_packet_init(&reply);
	reply.type = SIO_BINARY_ACK;
	reply.ack_id = b.pkt.ack_id;
	reply.data = json_deep_copy(b.pkt.data);
	json_array_remove(reply.data, 0);
	assert_int_equal(sio_binary_deconstruct(reply.data, b.att, 2, out, &n),
	    SIO_OK);
	reply.attachments = n;
	sio_packet_encode(&reply, SIO_ENCODE_EIO, buf, sizeof(buf));
	assert_string_equal(buf, "462-789[" PH(0) "," PH(1) "]");
	sio_packet_clear(&reply);
	sio_binary_clear(&b);
}

/* Placeholders anywhere, in any order, repeated; empty attachments. */
static void
test_shapes(void **state)
{
	struct sio_binary	 b;

	(void)state;
	sio_binary_init(&b);
	assert_int_equal(start("63-/chat,4[{\"a\":[" PH(2) "]},{\"x\":" PH(0)
	    ",\"y\":" PH(1) "}," PH(2) "]", &b, NULL), SIO_NEED_MORE);
	assert_int_equal(b.pkt.type, SIO_BINARY_ACK);
	assert_string_equal(b.pkt.nsp, "/chat");
	assert_int_equal(sio_binary_add(&b, "", 0), SIO_NEED_MORE);
	assert_int_equal(sio_binary_add(&b, one, 1), SIO_NEED_MORE);
	assert_int_equal(sio_binary_add(&b, two, 3), SIO_OK);
	assert_int_equal(b.att[0].len, 0);
	assert_non_null(b.att[0].data);
	sio_binary_clear(&b);

	/* A "_placeholder" that is not true is ordinary data. */
	assert_int_equal(start("51-[\"e\",{\"_placeholder\":1,\"num\":0},"
	    PH(0) "]", &b, NULL), SIO_NEED_MORE);
	sio_binary_clear(&b);
	/* Extra keys in a placeholder are tolerated, as the parser does. */
	assert_int_equal(start("51-[\"e\",{\"num\":0,\"_placeholder\":true,"
	    "\"z\":1}]", &b, NULL), SIO_NEED_MORE);
	sio_binary_clear(&b);
}

static void
test_placeholder_errors(void **state)
{
	(void)state;
	check_start("51-[\"e\"," PH(1) "]", SIO_ERR_PLACEHOLDER);
	check_start("52-[\"e\"," PH(0) "]", SIO_ERR_PLACEHOLDER);
	check_start("52-[\"e\"," PH(1) "," PH(1) "]", SIO_ERR_PLACEHOLDER);
	check_start("51-[\"e\"]", SIO_ERR_PLACEHOLDER);
	check_start("51-[\"e\",{\"_placeholder\":true}]", SIO_ERR_PLACEHOLDER);
	check_start("51-[\"e\",{\"_placeholder\":true,\"num\":\"0\"}]",
	    SIO_ERR_PLACEHOLDER);
	check_start("51-[\"e\",{\"_placeholder\":true,\"num\":0.5}]",
	    SIO_ERR_PLACEHOLDER);
	check_start("51-[\"e\",{\"_placeholder\":true,\"num\":-1}]",
	    SIO_ERR_PLACEHOLDER);
	check_start("51-[\"e\",{\"_placeholder\":true,\"num\":4294967296}]",
	    SIO_ERR_PLACEHOLDER);
	check_start("51-[\"e\",{\"_placeholder\":false,\"num\":0}]",
	    SIO_ERR_PLACEHOLDER);
	check_start("51-[\"e\",{\"_placeholder\":true,\"num\":0,\"x\":"
	    PH(7) "}]", SIO_NEED_MORE);
}

static void
test_state_errors(void **state)
{
	struct sio_binary	 b;
	struct sio_limits	 lim = sio_limits_default;
	struct sio_packet	 p;
	uint8_t			 big[101];

	(void)state;
	memset(big, 0xa5, sizeof(big));
	sio_binary_init(&b);
	assert_int_equal(sio_binary_add(&b, one, 1), SIO_ERR_UNEXPECTED);

	/* Not a binary header: hdr is left to the caller. */
	assert_int_equal(sio_packet_decode("2[\"e\"]", 6, NULL, &p), SIO_OK);
	assert_int_equal(sio_binary_start(&b, &p, NULL), SIO_ERR_TYPE);
	assert_non_null(p.data);
	sio_packet_clear(&p);

	/* A second header while attachments are due. */
	assert_int_equal(start("51-[\"e\"," PH(0) "]", &b, NULL),
	    SIO_NEED_MORE);
	assert_int_equal(start("51-[\"f\"," PH(0) "]", &b, NULL),
	    SIO_ERR_UNEXPECTED);
	assert_true(sio_binary_pending(&b));
	sio_binary_clear(&b);

	/* An attachment over max_bytes, then one at it. */
	lim.max_bytes = 100;
	assert_int_equal(start("51-[\"e\"," PH(0) "]", &b, &lim),
	    SIO_NEED_MORE);
	assert_int_equal(sio_binary_add(&b, big, 101), SIO_ERR_TOO_BIG);
	assert_true(sio_binary_pending(&b));
	assert_int_equal(sio_binary_add(&b, big, 100), SIO_OK);
	assert_memory_equal(b.att[0].data, big, 100);
	sio_binary_clear(&b);

	/* A header built by hand past the limit is refused too. */
	sio_packet_init(&p);
	p.type = SIO_BINARY_EVENT;
	p.attachments = 11;
	assert_int_equal(sio_binary_start(&b, &p, NULL), SIO_ERR_ATTACHMENTS);
	p.attachments = 0;
	assert_int_equal(sio_binary_start(&b, &p, NULL), SIO_ERR_ATTACHMENTS);

	/* A new packet after a complete one, without clearing first. */
	assert_int_equal(start("51-[\"e\"," PH(0) "]", &b, NULL),
	    SIO_NEED_MORE);
	assert_int_equal(sio_binary_add(&b, one, 3), SIO_OK);
	assert_int_equal(start("52-[\"e\"," PH(0) "," PH(1) "]", &b, NULL),
	    SIO_NEED_MORE);
	assert_int_equal(b.nrecv, 0);
	sio_binary_clear(&b);
}

/* Renumbering for sending: document order, each buffer once. */
static void
test_deconstruct(void **state)
{
	struct sio_attachment	 in[3] = {
		{ one, 3 }, { two, 3 }, { one, 1 }
	};
	struct sio_attachment	 out[3];
	json_t			*d;
	unsigned		 n;
	char			*s;

	(void)state;
	d = json_loads("[" PH(2) ",{\"k\":" PH(0) "}," PH(2) "]", 0, NULL);
	assert_int_equal(sio_binary_deconstruct(d, in, 3, out, &n), SIO_OK);
	assert_int_equal(n, 2);
	assert_ptr_equal(out[0].data, in[2].data);
	assert_int_equal(out[0].len, 1);
	assert_ptr_equal(out[1].data, in[0].data);
	s = json_dumps(d, JSON_COMPACT);
	assert_string_equal(s, "[" PH(0) ",{\"k\":" PH(1) "}," PH(0) "]");
	free(s);
	json_decref(d);

	d = json_loads("[\"x\",{\"a\":[1,2]}]", 0, NULL);
	assert_int_equal(sio_binary_deconstruct(d, in, 3, out, &n), SIO_OK);
	assert_int_equal(n, 0);
	assert_int_equal(sio_binary_deconstruct(d, NULL, 0, out, &n), SIO_OK);
	json_decref(d);

	d = json_loads("[" PH(3) "]", 0, NULL);
	assert_int_equal(sio_binary_deconstruct(d, in, 3, out, &n),
	    SIO_ERR_PLACEHOLDER);
	assert_int_equal(n, 0);
	json_decref(d);

	d = json_loads("[{\"_placeholder\":true,\"num\":null}]", 0, NULL);
	assert_int_equal(sio_binary_deconstruct(d, in, 3, out, &n),
	    SIO_ERR_PLACEHOLDER);
	json_decref(d);
}

/* After deconstruct, the tree encodes with placeholders 0..n-1. */
static void
test_deconstruct_encode(void **state)
{
	struct sio_attachment	 in[2] = { { one, 3 }, { two, 3 } };
	struct sio_attachment	 out[2];
	struct sio_packet	 p;
	unsigned		 n;
	char			 buf[256];

	(void)state;
	sio_packet_init(&p);
	p.type = SIO_BINARY_EVENT;
	p.data = json_pack("[s,o,{s:o}]", "file", sio_binary_placeholder(1),
	    "thumb", sio_binary_placeholder(0));
	assert_int_equal(sio_binary_deconstruct(p.data, in, 2, out, &n),
	    SIO_OK);
	p.attachments = n;
	sio_packet_encode(&p, 0, buf, sizeof(buf));
	assert_string_equal(buf, "52-[\"file\"," PH(0) ",{\"thumb\":" PH(1)
	    "}]");
	assert_ptr_equal(out[0].data, two);
	assert_ptr_equal(out[1].data, one);
	sio_packet_clear(&p);
}

static int
count_cb(json_t *ph, unsigned num, void *arg)
{
	unsigned	*sum = arg;

	(void)ph;
	*sum += num + 1;
	return (0);
}

static int
stop_cb(json_t *ph, unsigned num, void *arg)
{
	(void)ph;
	(void)arg;
	return (num == 1 ? 42 : 0);
}

static void
test_walk(void **state)
{
	json_t		*d, *ph;
	unsigned	 sum = 0, num = 9;

	(void)state;
	d = json_loads("[" PH(0) ",{\"a\":[" PH(1) "," PH(2) "]},3]", 0, NULL);
	assert_int_equal(sio_binary_walk(d, count_cb, &sum), 0);
	assert_int_equal(sum, 6);
	assert_int_equal(sio_binary_walk(d, stop_cb, NULL), 42);
	json_decref(d);

	ph = sio_binary_placeholder(3);
	assert_int_equal(sio_binary_placeholder_num(ph, &num), 1);
	assert_int_equal(num, 3);
	json_decref(ph);
	assert_int_equal(sio_binary_placeholder_num(NULL, &num), 0);
	ph = json_pack("{s:s}", "_placeholder", "true");
	assert_int_equal(sio_binary_placeholder_num(ph, &num), 0);
	json_decref(ph);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suite_event),
		cmocka_unit_test(test_suite_ack),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_placeholder_errors),
		cmocka_unit_test(test_state_errors),
		cmocka_unit_test(test_deconstruct),
		cmocka_unit_test(test_deconstruct_encode),
		cmocka_unit_test(test_walk),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
