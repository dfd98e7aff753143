/*
 * Unit tests for sioredis (sioredis.c, sior_*.c): the socket.io Redis
 * adapters' wire format, against golden bytes that the real Node.js
 * modules produced (sioredis_golden.h, made by sioredis-golden.mjs):
 * what @socket.io/redis-adapter 8.3 and @socket.io/redis-emitter 5.1
 * publish, what a Node.js server then writes to its clients, and what it
 * answers to each request.  Then hostile input: truncation, wrong types,
 * huge counts, deep nesting, bad UTF-8, too many rooms or binaries.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sio.h"
#include "sioredis.h"
#include "sioredis_golden.h"

#define STR(s)	{ (s), sizeof(s) - 1 }

static void	 decode_ok(int, const struct golden *, struct sior_msg *);
static void	 same_bytes(const char *, size_t, const char *, size_t);
static void	 check_text(const struct sior_msg *, const struct golden *);
static void	 check_str(struct sior_str, const char *);
static void	 check_response(int, const char *, const struct golden *,
		    const char *);
static int	 decode_bytes(int, const char *, size_t, struct sior_msg *);

static void
same_bytes(const char *got, size_t glen, const char *want, size_t wlen)
{
	assert_non_null(got);
	if (glen != wlen || memcmp(got, want, wlen) != 0) {
		fprintf(stderr, "got  %.*s\nwant %.*s\n", (int)glen, got,
		    (int)wlen, want);
		fail();
	}
}

static void
check_str(struct sior_str s, const char *want)
{
	same_bytes(s.p, s.len, want, strlen(want));
}

static void
decode_ok(int format, const struct golden *g, struct sior_msg *m)
{
	assert_int_equal(sior_decode(format, g->msg, g->msg_len, m), 0);
	assert_int_equal(m->format, format);
}

static int
decode_bytes(int format, const char *p, size_t n, struct sior_msg *m)
{
	return (sior_decode(format, p, n, m));
}

/* What a Node.js server writes to its clients, attachments included. */
static void
check_text(const struct sior_msg *m, const struct golden *g)
{
	same_bytes(m->text, m->textlen, g->text, g->text_len);
	assert_int_equal(m->natt, (g->att0 != NULL) + (g->att1 != NULL) +
	    (m->natt > 2 ? m->natt - 2 : 0));
	if (g->att0 != NULL)
		same_bytes(m->att[0].p, m->att[0].len, g->att0, g->att0_len);
	if (g->att1 != NULL)
		same_bytes(m->att[1].p, m->att[1].len, g->att1, g->att1_len);
}

/* Our answer to g's request is the one a Node.js server published. */
static void
check_response(int format, const char *uid, const struct golden *g,
    const char *body)
{
	struct sior_msg	 m;
	json_t		*b;
	char		*r;
	size_t		 len;

	decode_ok(format, g, &m);
	b = json_loads(body, 0, NULL);
	assert_non_null(b);
	r = sior_response(format, uid, "/", &m, b, &len);
	same_bytes(r, len, g->response, g->response_len);
	free(r);
	json_decref(b);
	sior_free(&m);
}

static void
test_classic_broadcast(void **state)
{
	struct sior_msg	 m;

	(void)state;
	decode_ok(SIOR_CLASSIC, &c_room_except, &m);
	assert_int_equal(m.op, SIOR_OP_BROADCAST);
	check_str(m.uid, "gwuid1");
	check_str(m.nsp, "/");
	assert_int_equal(m.nrooms, 1);
	check_str(m.rooms[0], "room1");
	assert_int_equal(m.nexcept, 1);
	check_str(m.except[0], "abcdefghij0123456789");
	assert_int_equal(m.flags, 0);
	assert_int_equal(m.type, -1);
	assert_false(m.with_ack);
	assert_int_equal(m.request_id.len, 0);
	check_text(&m, &c_room_except);
	sior_free(&m);

	decode_ok(SIOR_CLASSIC, &c_all_volatile, &m);
	assert_int_equal(m.op, SIOR_OP_BROADCAST);
	assert_int_equal(m.nrooms + m.nexcept, 0);
	assert_int_equal(m.flags, SIOR_F_VOLATILE);
	check_text(&m, &c_all_volatile);
	sior_free(&m);

	/* Every msgpack int and float form, nesting, unicode, escapes. */
	decode_ok(SIOR_CLASSIC, &c_numbers, &m);
	assert_int_equal(m.nrooms, 2);
	check_str(m.rooms[1], "b");
	check_text(&m, &c_numbers);
	sior_free(&m);
}

static void
test_classic_binary(void **state)
{
	struct sior_msg	 m;

	(void)state;
	/* Placeholders numbered in JS property order; another namespace. */
	decode_ok(SIOR_CLASSIC, &c_binary_chat, &m);
	assert_int_equal(m.op, SIOR_OP_IGNORE);		/* not "/" */
	check_str(m.nsp, "/chat");
	assert_int_equal(m.flags, SIOR_F_COMPRESS);
	assert_int_equal(m.natt, 3);
	assert_int_equal(m.att[2].len, 0);
	check_text(&m, &c_binary_chat);
	sior_free(&m);

	decode_ok(SIOR_SHARDED, &s3_binary, &m);
	assert_int_equal(m.op, SIOR_OP_BROADCAST);
	assert_int_equal(m.flags, SIOR_F_VOLATILE);
	check_str(m.except[0], "x");
	check_text(&m, &s3_binary);
	sior_free(&m);
}

static void
test_emitter(void **state)
{
	struct sior_msg	 m;

	(void)state;
	decode_ok(SIOR_CLASSIC, &e_user, &m);
	assert_int_equal(m.op, SIOR_OP_BROADCAST);
	check_str(m.uid, "emitter");
	check_str(m.rooms[0], "user:42");
	check_text(&m, &e_user);
	sior_free(&m);

	/* Dates (timestamp 32/64/96, the extremes), undefined. */
	decode_ok(SIOR_CLASSIC, &e_admin_dates, &m);
	assert_int_equal(m.op, SIOR_OP_IGNORE);
	assert_int_equal(m.nexcept, 2);
	check_text(&m, &e_admin_dates);
	sior_free(&m);

	decode_ok(SIOR_CLASSIC, &e_join, &m);
	assert_int_equal(m.op, SIOR_OP_JOIN);
	assert_int_equal(m.uid.len, 0);
	check_str(m.rooms[0], "a");
	assert_int_equal(m.ntargets, 1);
	check_str(m.targets[0], "b");
	sior_free(&m);

	decode_ok(SIOR_CLASSIC, &e_disconnect, &m);
	assert_int_equal(m.op, SIOR_OP_DISCONNECT);
	assert_false(m.close);
	assert_int_equal(m.nrooms, 0);
	assert_int_equal(m.sid.len, 0);
	sior_free(&m);

	decode_ok(SIOR_CLASSIC, &e_emit, &m);
	assert_int_equal(m.op, SIOR_OP_SERVER_EMIT);
	assert_false(m.with_ack);
	same_bytes(m.text, m.textlen, "[\"x\",1]", 7);
	sior_free(&m);
}

static void
test_classic_requests(void **state)
{
	struct sior_msg	 m;

	(void)state;
	decode_ok(SIOR_CLASSIC, &r0_sockets, &m);
	assert_int_equal(m.op, SIOR_OP_SOCKETS);
	assert_int_equal(m.nrooms, 2);
	check_str(m.rooms[1], "5");
	sior_free(&m);
	check_response(SIOR_CLASSIC, "x", &r0_sockets, "{\"sockets\":[]}");
	check_response(SIOR_CLASSIC, "x", &r1_all_rooms, "{\"rooms\":[]}");

	decode_ok(SIOR_CLASSIC, &r2_join, &m);
	assert_int_equal(m.op, SIOR_OP_JOIN);
	check_str(m.uid, "gwuid1");
	check_str(m.except[0], "b");
	assert_int_equal(m.ntargets, 2);
	check_str(m.targets[1], "7");
	assert_null(sior_response(SIOR_CLASSIC, "x", "/", &m, NULL, NULL));
	sior_free(&m);

	decode_ok(SIOR_CLASSIC, &r3_leave, &m);
	assert_int_equal(m.op, SIOR_OP_LEAVE);
	check_str(m.targets[0], "c");
	sior_free(&m);

	decode_ok(SIOR_CLASSIC, &r4_disconnect, &m);
	assert_int_equal(m.op, SIOR_OP_DISCONNECT);
	assert_true(m.close);
	sior_free(&m);

	decode_ok(SIOR_CLASSIC, &r5_fetch, &m);
	assert_int_equal(m.op, SIOR_OP_FETCH);
	check_str(m.except[0], "b");
	sior_free(&m);
	check_response(SIOR_CLASSIC, "x", &r5_fetch, "{\"sockets\":[]}");

	decode_ok(SIOR_CLASSIC, &r6_emit, &m);
	assert_int_equal(m.op, SIOR_OP_SERVER_EMIT);
	assert_false(m.with_ack);
	same_bytes(m.text, m.textlen, "[\"hello\",1,{\"a\":2}]", 19);
	sior_free(&m);
	check_response(SIOR_CLASSIC, "x", &r6_emit_ack, "{\"data\":\"pong\"}");

	/* BROADCAST with an ack: msgpack, on the request channel. */
	decode_ok(SIOR_CLASSIC, &r7_bcast_ack, &m);
	assert_int_equal(m.op, SIOR_OP_BROADCAST);
	assert_true(m.with_ack);
	assert_int_equal(m.type, 7);
	same_bytes(m.text, m.textlen, "2[\"q\",1]", 8);
	sior_free(&m);
	check_response(SIOR_CLASSIC, "x", &r7_bcast_ack,
	    "{\"clientCount\":0}");

	/* Responses are not requests. */
	decode_ok(SIOR_CLASSIC, &r8_client_count, &m);
	assert_int_equal(m.op, SIOR_OP_IGNORE);
	sior_free(&m);
	decode_ok(SIOR_CLASSIC, &r9_bcast_ack, &m);
	assert_int_equal(m.op, SIOR_OP_IGNORE);
	sior_free(&m);
}

/* remoteJoin(id, room) and remoteDisconnect(id) of older adapters. */
static void
test_classic_one_socket(void **state)
{
	struct sior_msg	 m;
	char		*r;
	size_t		 len;

	(void)state;
	decode_ok(SIOR_CLASSIC, &r2_one, &m);
	assert_int_equal(m.op, SIOR_OP_JOIN);
	check_str(m.sid, "abcdefghij0123456789");
	check_str(m.rooms[0], "12");
	check_str(m.targets[0], "12");
	r = sior_response(SIOR_CLASSIC, "x", "/", &m, NULL, &len);
	same_bytes(r, len, "{\"requestId\":\"rq2\"}", 19);
	free(r);
	sior_free(&m);

	decode_ok(SIOR_CLASSIC, &r4_one, &m);
	assert_int_equal(m.op, SIOR_OP_DISCONNECT);
	check_str(m.sid, "abcdefghij0123456789");
	assert_true(m.close);
	sior_free(&m);
}

static void
test_sharded(void **state)
{
	struct sior_msg	 m;

	(void)state;
	decode_ok(SIOR_SHARDED, &s3_room, &m);
	assert_int_equal(m.op, SIOR_OP_BROADCAST);
	check_str(m.uid, "shardeduid000001");
	check_str(m.rooms[0], "room1");
	check_text(&m, &s3_room);
	sior_free(&m);

	decode_ok(SIOR_SHARDED, &s3_sid, &m);
	check_text(&m, &s3_sid);
	sior_free(&m);

	decode_ok(SIOR_SHARDED, &s3_ack, &m);
	assert_int_equal(m.op, SIOR_OP_BROADCAST);
	assert_true(m.with_ack);
	check_text(&m, &s3_ack);
	sior_free(&m);
	check_response(SIOR_SHARDED, "shardeduid000002", &s3_ack,
	    "{\"clientCount\":0}");

	decode_ok(SIOR_SHARDED, &s4_join, &m);
	assert_int_equal(m.op, SIOR_OP_JOIN);
	assert_int_equal(m.ntargets, 2);
	check_str(m.targets[1], "c");
	check_str(m.rooms[0], "a");
	sior_free(&m);

	decode_ok(SIOR_SHARDED, &s5_leave, &m);
	assert_int_equal(m.op, SIOR_OP_LEAVE);
	sior_free(&m);

	decode_ok(SIOR_SHARDED, &s6_disconnect, &m);
	assert_int_equal(m.op, SIOR_OP_DISCONNECT);
	assert_false(m.close);
	check_str(m.except[0], "a");
	sior_free(&m);

	decode_ok(SIOR_SHARDED, &s7_fetch, &m);
	assert_int_equal(m.op, SIOR_OP_FETCH);
	sior_free(&m);
	check_response(SIOR_SHARDED, "shardeduid000002", &s7_fetch,
	    "{\"sockets\":[]}");

	decode_ok(SIOR_SHARDED, &s9_emit, &m);
	assert_int_equal(m.op, SIOR_OP_SERVER_EMIT);
	same_bytes(m.text, m.textlen, "[\"hello\",[1]]", 13);
	sior_free(&m);
	check_response(SIOR_SHARDED, "shardeduid000002", &s9_emit_ack,
	    "{\"data\":{\"pong\":2}}");
}

/* Heartbeats, responses, close: nothing to do. */
static void
test_sharded_ignored(void **state)
{
	static const char *const msgs[] = {
		"{\"type\":1,\"uid\":\"u\",\"nsp\":\"/\"}",
		"{\"type\":2,\"uid\":\"u\",\"nsp\":\"/\"}",
		"{\"type\":8,\"uid\":\"u\",\"nsp\":\"/\",\"data\":{}}",
		"{\"type\":10,\"uid\":\"u\",\"nsp\":\"/\",\"data\":{}}",
		"{\"type\":11,\"uid\":\"u\",\"nsp\":\"/\",\"data\":{}}",
		"{\"type\":12,\"uid\":\"u\",\"nsp\":\"/\",\"data\":{}}",
		"{\"type\":13,\"uid\":\"u\",\"nsp\":\"/\"}",
		"{\"type\":99,\"uid\":\"u\",\"nsp\":\"/\"}",
		"{\"type\":\"3\",\"uid\":\"u\",\"nsp\":\"/\"}",
	};
	struct sior_msg	 m;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(msgs) / sizeof(*msgs); i++) {
		assert_int_equal(sior_decode(SIOR_SHARDED, msgs[i],
		    strlen(msgs[i]), &m), 0);
		assert_int_equal(m.op, SIOR_OP_IGNORE);
		sior_free(&m);
	}
}

/* Our broadcast is the bytes the adapter publishes for the same call. */
static void
test_encode(void **state)
{
	struct sior_str		 room = STR("room1"), sid = STR("sid1");
	struct sior_str		 rooms2[] = { STR("a"), STR("b") };
	struct sior_bcast	 b;
	uint8_t			*out;
	size_t			 len;
	char			 ch[64];

	(void)state;
	memset(&b, 0, sizeof(b));
	b.uid = "gwuid1";
	b.nsp = "/";
	b.args = c_gw_encode.args;
	b.argslen = c_gw_encode.args_len;
	b.rooms = &room;
	b.nrooms = 1;
	b.except = &sid;
	b.nexcept = 1;
	assert_int_equal(sior_encode_bcast(SIOR_CLASSIC, &b, &out, &len), 0);
	same_bytes((char *)out, len, c_gw_encode.msg, c_gw_encode.msg_len);
	free(out);
	assert_int_equal(sior_channel_bcast(SIOR_CLASSIC, "socket.io", "/",
	    &b, ch, sizeof(ch)), (int)c_gw_encode.channel_len);
	assert_string_equal(ch, c_gw_encode.channel);

	memset(&b, 0, sizeof(b));
	b.uid = "gwuid1";
	b.args = c_gw_encode_volatile.args;
	b.argslen = c_gw_encode_volatile.args_len;
	b.flags = SIOR_F_VOLATILE | SIOR_F_COMPRESS;
	assert_int_equal(sior_encode_bcast(SIOR_CLASSIC, &b, &out, &len), 0);
	same_bytes((char *)out, len, c_gw_encode_volatile.msg,
	    c_gw_encode_volatile.msg_len);
	free(out);
	assert_int_equal(sior_channel_bcast(SIOR_CLASSIC, "socket.io", NULL,
	    &b, ch, sizeof(ch)), 12);
	assert_string_equal(ch, "socket.io#/#");

	/* Unicode, every int width, nested, keys in JS order; two rooms. */
	memset(&b, 0, sizeof(b));
	b.uid = "gwuid1";
	b.args = c_gw_encode_misc.args;
	b.argslen = c_gw_encode_misc.args_len;
	b.rooms = rooms2;
	b.nrooms = 2;
	assert_int_equal(sior_encode_bcast(SIOR_CLASSIC, &b, &out, &len), 0);
	same_bytes((char *)out, len, c_gw_encode_misc.msg,
	    c_gw_encode_misc.msg_len);
	free(out);
	assert_int_equal(sior_channel_bcast(SIOR_CLASSIC, "socket.io", "/",
	    &b, ch, sizeof(ch)), (int)c_gw_encode_misc.channel_len);
	assert_string_equal(ch, c_gw_encode_misc.channel);

	/* Local broadcasts stay home. */
	b.flags = SIOR_F_LOCAL;
	assert_int_equal(sior_encode_bcast(SIOR_CLASSIC, &b, &out, &len), -1);
	assert_null(out);
}

static void
test_encode_sharded(void **state)
{
	struct sior_str		 room = STR("room1"), sid =
	    STR("abcdefghij0123456789");
	struct sior_bcast	 b;
	uint8_t			*out;
	size_t			 len;
	char			 ch[64];

	(void)state;
	memset(&b, 0, sizeof(b));
	b.uid = "shardeduid000001";
	b.nsp = "/";
	b.args = "[\"ev\", 1, \"\\u00e9\"]";
	b.argslen = strlen(b.args);
	b.rooms = &room;
	b.nrooms = 1;
	assert_int_equal(sior_encode_bcast(SIOR_SHARDED, &b, &out, &len), 0);
	same_bytes((char *)out, len, s3_room.msg, s3_room.msg_len);
	free(out);
	assert_int_equal(sior_channel_bcast(SIOR_SHARDED, "socket.io", "/",
	    &b, ch, sizeof(ch)), (int)s3_room.channel_len);
	assert_string_equal(ch, s3_room.channel);
	/* A socket id gets no channel of its own. */
	b.rooms = &sid;
	assert_int_equal(sior_channel_bcast(SIOR_SHARDED, "socket.io", "/",
	    &b, ch, sizeof(ch)), (int)s3_sid.channel_len);
	assert_string_equal(ch, s3_sid.channel);
	assert_int_equal(sior_channel_bcast(SIOR_CLASSIC, "socket.io", "/",
	    &b, ch, sizeof(ch)), 33);
	/* Short buffers. */
	assert_int_equal(sior_channel_bcast(SIOR_CLASSIC, "socket.io", "/",
	    &b, ch, 33), -1);
	assert_int_equal(sior_channel_bcast(SIOR_CLASSIC, "socket.io", "/",
	    &b, ch, 0), -1);
}

/*
 * Round trip: what we publish decodes to the text this gateway's own
 * encoder (sio_encode_event) writes for the same event, in both formats.
 */
static void
test_round_trip(void **state)
{
	static const char *const args[] = {
		"{\"a\":[1,2.5,-3e-7],\"\\u00e9\":null,\"2\":true,\"1\":{}}",
		"\"\\u20ac\\ud83d\\ude00\\n\"",
		"9007199254740991",
		"-9223372036854775807"
	};
	static const char	*one = "{\"x\":[1,\"y\"]}";
	struct sior_bcast	 b;
	struct sior_msg		 m;
	uint8_t			*out;
	char			 all[256], want[256];
	size_t			 len, n;
	int			 f;

	(void)state;
	n = sio_encode_event(want, sizeof(want), NULL, "ev", args, NULL, 4,
	    -1);
	assert_true(n > 0 && n < sizeof(want));
	/* As the gateway writes it, but the keys in JS order. */
	snprintf(all, sizeof(all), "[\"ev\",%s,%s,%s,%s]", args[0], args[1],
	    args[2], args[3]);
	memset(&b, 0, sizeof(b));
	b.uid = "me";
	b.args = all;
	b.argslen = strlen(all);
	for (f = SIOR_CLASSIC; f <= SIOR_SHARDED; f++) {
		assert_int_equal(sior_encode_bcast(f, &b, &out, &len), 0);
		assert_int_equal(sior_decode(f, out, len, &m), 0);
		free(out);
		assert_int_equal(m.op, SIOR_OP_BROADCAST);
		check_str(m.uid, "me");
		same_bytes(m.text, m.textlen, "2[\"ev\",{\"1\":{},\"2\":true,"
		    "\"a\":[1,2.5,-3e-7],\"\xc3\xa9\":null},\"\xe2\x82\xac"
		    "\xf0\x9f\x98\x80\\n\",9007199254740991,"
		    "-9223372036854776000]", strlen("2[\"ev\",{\"1\":{},\"2\":"
		    "true,\"a\":[1,2.5,-3e-7],\"\xc3\xa9\":null},\"\xe2\x82"
		    "\xac\xf0\x9f\x98\x80\\n\",9007199254740991,"
		    "-9223372036854776000]"));
		sior_free(&m);
	}
	/* Keys in order already: the gateway's own bytes exactly. */
	b.args = "[\"ev\",{\"x\":[1,\"y\"]}]";
	b.argslen = strlen(b.args);
	assert_int_equal(sior_encode_bcast(SIOR_CLASSIC, &b, &out, &len), 0);
	assert_int_equal(sior_decode(SIOR_CLASSIC, out, len, &m), 0);
	free(out);
	n = sio_encode_event(want, sizeof(want), NULL, "ev", &one, NULL, 1,
	    -1);
	same_bytes(m.text, m.textlen, want + 1, n - 1);
	sior_free(&m);
}

/* A msgpack classic broadcast of data d (msgpack bytes), to all. */
static int
bcast_with(const char *d, size_t dlen, struct sior_msg *m)
{
	static const char	 head[] = "\x93\xa1u\x82\xa4type\x02\xa4" "data";
	static const char	 tail[] = "\x81\xa5rooms\x90";
	char			 buf[4096];

	assert_true(sizeof(head) - 1 + dlen + sizeof(tail) - 1 <=
	    sizeof(buf));
	memcpy(buf, head, sizeof(head) - 1);
	memcpy(buf + sizeof(head) - 1, d, dlen);
	memcpy(buf + sizeof(head) - 1 + dlen, tail, sizeof(tail) - 1);
	return (sior_decode(SIOR_CLASSIC, buf, sizeof(head) - 1 + dlen +
	    sizeof(tail) - 1, m));
}

static void
bcast_text(const char *d, size_t dlen, const char *want)
{
	struct sior_msg	 m;

	assert_int_equal(bcast_with(d, dlen, &m), 0);
	same_bytes(m.text, m.textlen, want, strlen(want));
	sior_free(&m);
}

#define D(s)	(s), sizeof(s) - 1

/* notepack's corners: undefined, __proto__, ext, bad UTF-8, map keys. */
static void
test_notepack_values(void **state)
{
	struct sior_msg	 m;

	(void)state;
	/* ["e", undefined (legacy fixext), {a: undefined, b: 1}] */
	bcast_text(D("\x93\xa1" "e\xd4\x00\x00\x82\xa1" "a\xd4\x00\x00\xa1"
	    "b\x01"), "2[\"e\",null,{\"b\":1}]");
	/* {"__proto__": 1, "9": 2, "10": 3, "x": 4, 5: 6} */
	bcast_text(D("\x92\xa1" "e\x85\xa9__proto__\x01\xa1" "9\x02\xa2"
	    "10\x03\xa1x\x04\x05\x06"),
	    "2[\"e\",{\"5\":6,\"9\":2,\"10\":3,\"x\":4}]");
	/* Duplicate keys: the first place, the last value (JS). */
	bcast_text(D("\x92\xa1" "e\x83\xa1" "a\x01\xa1" "b\x02\xa1" "a\x03"),
	    "2[\"e\",{\"a\":3,\"b\":2}]");
	/* Bad UTF-8: U+FFFD per maximal subpart, as Buffer.toString(). */
	bcast_text(D("\x93\xa1" "e\xa4\xe2\x82\x41\xff\xa3\xed\xa0\x80"),
	    "2[\"e\",\"\xef\xbf\xbd" "A\xef\xbf\xbd\",\"\xef\xbf\xbd\xef\xbf"
	    "\xbd\xef\xbf\xbd\"]");
	/* float32, NaN, ints past 2^53, uint64 max. */
	bcast_text(D("\x95\xa1" "e\xca\x3d\xcc\xcc\xcd\xcb\x7f\xf8\x00\x00"
	    "\x00\x00\x00\x00\xcf\x00\x20\x00\x00\x00\x00\x00\x01\xcf\xff\xff"
	    "\xff\xff\xff\xff\xff\xff"),
	    "2[\"e\",0.10000000149011612,null,9007199254740992,"
	    "18446744073709552000]");
	/* Other ext: [type, <binary>]; ArrayBuffer ext 0: a binary. */
	assert_int_equal(bcast_with(D("\x93\xa1" "e\xd5\x05\x01\x02\xc7\x01"
	    "\x00\x07"), &m), 0);
	check_str((struct sior_str){ m.text, m.textlen }, "52-[\"e\",[5,"
	    "{\"_placeholder\":true,\"num\":0}],{\"_placeholder\":true,"
	    "\"num\":1}]");
	assert_int_equal(m.natt, 2);
	same_bytes(m.att[0].p, m.att[0].len, "\x01\x02", 2);
	same_bytes(m.att[1].p, m.att[1].len, "\x07", 1);
	sior_free(&m);
	/* A forged placeholder beside a binary; alone it is only data. */
	assert_int_equal(bcast_with(D("\x93\xa1" "e\xc4\x00\x82\xac"
	    "_placeholder\xc3\xa3num\x05"), &m), -1);
	bcast_text(D("\x92\xa1" "e\x82\xac_placeholder\xc3\xa3num\x05"),
	    "2[\"e\",{\"_placeholder\":true,\"num\":5}]");
	/* A numeric event name is what the parser takes; reserved is not. */
	bcast_text(D("\x91\x07"), "2[7]");
	assert_int_equal(bcast_with(D("\x91\xa7" "connect"), &m), -1);
	assert_int_equal(bcast_with(D("\x90"), &m), -1);
	assert_int_equal(bcast_with(D("\xa1" "e"), &m), -1);
	/* Map keys that are not strings or integers. */
	assert_int_equal(bcast_with(D("\x92\xa1" "e\x81\xc3\x01"), &m), -1);
	assert_int_equal(bcast_with(D("\x92\xa1" "e\x81\xa2" "a\x00\x01"),
	    &m), -1);
}

static void
test_hostile_sizes(void **state)
{
	struct sior_msg	 m;
	char		*buf;
	size_t		 i, n;

	(void)state;
	assert_int_equal(sior_decode(SIOR_CLASSIC, "", 0, &m), -1);
	assert_int_equal(sior_decode(SIOR_SHARDED, "{", 0, &m), -1);
	assert_int_equal(sior_decode(SIOR_CLASSIC, NULL, 3, &m), -1);
	assert_int_equal(sior_decode(7, "\x90", 1, &m), -1);
	/* Counts larger than the bytes. */
	assert_int_equal(decode_bytes(SIOR_CLASSIC, D("\xdd\xff\xff\xff\xff"),
	    &m), -1);
	assert_int_equal(decode_bytes(SIOR_CLASSIC, D("\xdf\xff\xff\xff\xff"),
	    &m), -1);
	assert_int_equal(decode_bytes(SIOR_CLASSIC,
	    D("\x93\xa1u\xdb\xff\xff\xff\xff"), &m), -1);
	assert_int_equal(decode_bytes(SIOR_CLASSIC,
	    D("\x93\xa1u\xc6\x7f\xff\xff\xff"), &m), -1);
	assert_int_equal(decode_bytes(SIOR_CLASSIC,
	    D("\x93\xa1u\xc9\x7f\xff\xff\xff\x01"), &m), -1);
	/* 0xc1, undefined, trailing bytes, timestamp 96 of the wrong size. */
	assert_int_equal(decode_bytes(SIOR_CLASSIC, D("\xc1"), &m), -1);
	assert_int_equal(decode_bytes(SIOR_CLASSIC, D("\xd4\x00\x00"), &m),
	    -1);
	assert_int_equal(bcast_with(D("\x91\xa1" "e\xc0"), &m), -1);
	assert_int_equal(bcast_with(D("\x92\xa1" "e\xc7\x01\xff\x00"), &m),
	    -1);
	/* Deep nesting, msgpack and JSON. */
	n = 200;
	buf = malloc(n + 16);
	assert_non_null(buf);
	memset(buf, 0x91, n);
	buf[n] = 0x01;
	assert_int_equal(decode_bytes(SIOR_CLASSIC, buf, n + 1, &m), -1);
	memset(buf, '[', n);
	buf[0] = '{';
	assert_int_equal(decode_bytes(SIOR_SHARDED, buf, n, &m), -1);
	free(buf);
	/* Over SIOR_MSG_MAX. */
	n = SIOR_MSG_MAX + 1;
	buf = calloc(1, n);
	assert_non_null(buf);
	buf[0] = '{';
	assert_int_equal(decode_bytes(SIOR_SHARDED, buf, n, &m), -1);
	free(buf);
	/* Many elements. */
	n = 5 + 200000;
	buf = calloc(1, n);
	assert_non_null(buf);
	memcpy(buf, "\xdd\x00\x03\x0d\x40", 5);
	assert_int_equal(decode_bytes(SIOR_CLASSIC, buf, n, &m), -1);
	free(buf);
	(void)i;
}

/* Every prefix of every golden message: refused or whole, never a crash. */
static void
test_hostile_truncated(void **state)
{
	static const struct golden *const all[] = {
		&c_room_except, &c_all_volatile, &c_numbers, &c_binary_chat,
		&e_user, &e_admin_dates, &r7_bcast_ack, &s3_binary, &s7_fetch,
		&r2_one, &r0_sockets, &s9_emit_ack
	};
	struct sior_msg	 m;
	size_t		 i, n;
	int		 f;
	char		*copy;

	(void)state;
	for (i = 0; i < sizeof(all) / sizeof(*all); i++) {
		for (n = 0; n < all[i]->msg_len; n++) {
			copy = malloc(n + 1);
			assert_non_null(copy);
			memcpy(copy, all[i]->msg, n);
			for (f = SIOR_CLASSIC; f <= SIOR_SHARDED; f++) {
				assert_int_equal(sior_decode(f, copy, n, &m),
				    -1);
				assert_null(m.text);
				assert_null(m.priv_);
			}
			free(copy);
		}
	}
}

static void
json_refused(int format, const char *s)
{
	struct sior_msg	 m;

	if (sior_decode(format, s, strlen(s), &m) != -1) {
		fprintf(stderr, "accepted: %s\n", s);
		fail();
	}
}

/* Wrong types where the adapters would throw or misbehave. */
static void
test_hostile_types(void **state)
{
	struct sior_msg	 m;
	char		*s, *p;
	unsigned	 i;

	(void)state;
	json_refused(SIOR_CLASSIC, "{\"uid\":1,\"type\":0}");
	json_refused(SIOR_CLASSIC,
	    "{\"uid\":\"u\",\"requestId\":5,\"type\":0}");
	json_refused(SIOR_CLASSIC,
	    "{\"uid\":\"u\",\"type\":0,\"rooms\":\"ab\"}");
	json_refused(SIOR_CLASSIC,
	    "{\"uid\":\"u\",\"type\":0,\"rooms\":[true]}");
	json_refused(SIOR_CLASSIC, "{\"uid\":\"u\",\"type\":0,\"rooms\":[{}]}");
	json_refused(SIOR_CLASSIC, "{\"uid\":\"u\",\"type\":5}");
	json_refused(SIOR_CLASSIC, "{\"uid\":\"u\",\"type\":5,\"opts\":[]}");
	json_refused(SIOR_CLASSIC,
	    "{\"uid\":\"u\",\"type\":2,\"opts\":{},\"rooms\":\"r\"}");
	json_refused(SIOR_CLASSIC, "{\"uid\":\"u\",\"type\":2,\"sid\":7}");
	json_refused(SIOR_CLASSIC,
	    "{\"uid\":\"u\",\"type\":3,\"sid\":\"s\",\"room\":null}");
	json_refused(SIOR_CLASSIC, "{\"uid\":\"u\",\"type\":6,\"data\":{}}");
	json_refused(SIOR_CLASSIC,
	    "{\"uid\":\"u\",\"type\":5,\"opts\":{\"flags\":1}}");
	json_refused(SIOR_SHARDED, "{\"uid\":\"u\",\"type\":3}");
	json_refused(SIOR_SHARDED, "{\"uid\":\"u\",\"type\":3,\"nsp\":\"/\"}");
	json_refused(SIOR_SHARDED, "{\"uid\":\"u\",\"type\":7,\"nsp\":\"/\","
	    "\"data\":{\"requestId\":[]}}");
	json_refused(SIOR_SHARDED, "{\"uid\":\"u\",\"type\":3,\"nsp\":\"/\","
	    "\"data\":{\"packet\":{\"type\":2,\"data\":[\"e\"]}}}");
	json_refused(SIOR_SHARDED, "{\"uid\":\"u\",\"type\":3,\"nsp\":\"/a,b\","
	    "\"data\":{\"packet\":{\"type\":2,\"data\":[\"e\"]},\"opts\":{}}}");
	json_refused(SIOR_SHARDED, "[1]");
	json_refused(SIOR_CLASSIC, "{\"uid\":\"u\",\"type\":0");
	json_refused(SIOR_CLASSIC, "{\"uid\":\"\xff\",\"type\":0}");

	/* Not an EVENT: ignored.  A number room: its text (1.5, 1e+21). */
	assert_int_equal(sior_decode(SIOR_SHARDED, D("{\"uid\":\"u\","
	    "\"type\":3,\"nsp\":\"/\",\"data\":{\"packet\":{\"type\":3,"
	    "\"data\":[]},\"opts\":{}}}"), &m), 0);
	assert_int_equal(m.op, SIOR_OP_IGNORE);
	sior_free(&m);
	assert_int_equal(sior_decode(SIOR_CLASSIC, D("{\"uid\":\"u\","
	    "\"type\":0,\"rooms\":[1.5,1e21,-0]}"), &m), 0);
	check_str(m.rooms[0], "1.5");
	check_str(m.rooms[1], "1e+21");
	check_str(m.rooms[2], "0");
	sior_free(&m);

	/* JSON.parse(): last value in the first place, own __proto__. */
	assert_int_equal(sior_decode(SIOR_SHARDED, D("{\"uid\":\"u\","
	    "\"type\":3,\"nsp\":\"/\",\"data\":{\"packet\":{\"type\":2,"
	    "\"data\":[\"e\",{\"a\":1,\"b\":2,\"a\":3,\"__proto__\":4,"
	    "\"7\":5}]},\"opts\":{}}}"), &m), 0);
	check_str((struct sior_str){ m.text, m.textlen },
	    "2[\"e\",{\"7\":5,\"a\":3,\"b\":2,\"__proto__\":4}]");
	sior_free(&m);

	/* SIOR_ROOMS_MAX rooms fit; one more refuses the message. */
	s = malloc(SIOR_ROOMS_MAX * 8 + 64);
	assert_non_null(s);
	p = s + sprintf(s, "{\"uid\":\"u\",\"type\":0,\"rooms\":[");
	for (i = 0; i < SIOR_ROOMS_MAX; i++)
		p += sprintf(p, "%s%u", i > 0 ? "," : "", i);
	strcpy(p, "]}");
	assert_int_equal(sior_decode(SIOR_CLASSIC, s, strlen(s), &m), 0);
	assert_int_equal(m.nrooms, SIOR_ROOMS_MAX);
	check_str(m.rooms[SIOR_ROOMS_MAX - 1], "255");
	sior_free(&m);
	sprintf(p, ",%u]}", i);
	json_refused(SIOR_CLASSIC, s);
	free(s);
}

/* More binaries than SIOR_ATT_MAX refuse the message. */
static void
test_hostile_binaries(void **state)
{
	struct sior_msg	 m;
	char		 buf[128];
	size_t		 n = 0;
	unsigned	 i;

	(void)state;
	buf[n++] = (char)0xdc;
	buf[n++] = 0;
	buf[n++] = SIOR_ATT_MAX + 2;
	buf[n++] = (char)0xa1;
	buf[n++] = 'e';
	for (i = 0; i < SIOR_ATT_MAX; i++) {
		buf[n++] = (char)0xc4;
		buf[n++] = 0;
	}
	buf[n++] = (char)0xc0;
	assert_int_equal(bcast_with(buf, n, &m), 0);
	assert_int_equal(m.natt, SIOR_ATT_MAX);
	sior_free(&m);
	buf[n - 1] = (char)0xc4;
	buf[n++] = 0;
	assert_int_equal(bcast_with(buf, n, &m), -1);
}

static void
test_encode_refused(void **state)
{
	struct sior_str		 bad = { "\xff", 1 };
	struct sior_bcast	 b;
	uint8_t			*out;
	size_t			 len;
	struct sior_msg		 m;

	(void)state;
	memset(&b, 0, sizeof(b));
	b.uid = "u";
	b.args = "{\"a\":1}";
	b.argslen = 7;
	assert_int_equal(sior_encode_bcast(SIOR_CLASSIC, &b, &out, &len), -1);
	b.args = "[]";
	b.argslen = 2;
	assert_int_equal(sior_encode_bcast(SIOR_SHARDED, &b, &out, &len), -1);
	b.args = "[\"e\"";
	b.argslen = 4;
	assert_int_equal(sior_encode_bcast(SIOR_CLASSIC, &b, &out, &len), -1);
	b.args = "[\"e\"]";
	b.argslen = 5;
	b.rooms = &bad;
	b.nrooms = 1;
	assert_int_equal(sior_encode_bcast(SIOR_SHARDED, &b, &out, &len), -1);
	assert_int_equal(sior_encode_bcast(SIOR_CLASSIC, &b, &out, &len), -1);
	b.nrooms = SIOR_ROOMS_MAX + 1;
	assert_int_equal(sior_encode_bcast(SIOR_CLASSIC, &b, &out, &len), -1);
	assert_int_equal(sior_encode_bcast(5, &b, &out, &len), -1);
	/* No requestId: nothing to answer. */
	assert_int_equal(sior_decode(SIOR_CLASSIC, r6_emit.msg,
	    r6_emit.msg_len, &m), 0);
	assert_null(sior_response(SIOR_CLASSIC, "u", "/", &m, NULL, &len));
	sior_free(&m);
	/* The sharded adapter answers no SOCKETS (it has none). */
	assert_int_equal(sior_decode(SIOR_CLASSIC, r0_sockets.msg,
	    r0_sockets.msg_len, &m), 0);
	assert_null(sior_response(SIOR_SHARDED, "u", "/", &m, NULL, &len));
	sior_free(&m);
}

/*
 * A gateway's broadcast carries its origin in flags (issue 15): decoded
 * back in both formats; a wrong length, or none, leaves it empty.
 */
static void
test_origin(void **state)
{
	static const char	*off = "0badc0de0000000000000abc";
	struct sior_bcast	 b;
	struct sior_msg		 m;
	uint8_t			*out;
	size_t			 len;
	int			 f;

	(void)state;
	memset(&b, 0, sizeof(b));
	b.uid = "me";
	b.args = "[\"ev\",1]";
	b.argslen = strlen(b.args);
	for (f = SIOR_CLASSIC; f <= SIOR_SHARDED; f++) {
		b.origin = off;
		assert_int_equal(sior_encode_bcast(f, &b, &out, &len), 0);
		assert_int_equal(sior_decode(f, out, len, &m), 0);
		free(out);
		assert_int_equal(m.op, SIOR_OP_BROADCAST);
		check_str(m.origin, off);
		assert_int_equal(m.flags, 0);
		sior_free(&m);
		b.origin = "0badc0de";
		assert_int_equal(sior_encode_bcast(f, &b, &out, &len), 0);
		assert_int_equal(sior_decode(f, out, len, &m), 0);
		free(out);
		assert_int_equal(m.origin.len, 0);
		sior_free(&m);
		b.origin = NULL;
		assert_int_equal(sior_encode_bcast(f, &b, &out, &len), 0);
		assert_int_equal(sior_decode(f, out, len, &m), 0);
		free(out);
		assert_int_equal(m.origin.len, 0);
		sior_free(&m);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classic_broadcast),
		cmocka_unit_test(test_classic_binary),
		cmocka_unit_test(test_emitter),
		cmocka_unit_test(test_classic_requests),
		cmocka_unit_test(test_classic_one_socket),
		cmocka_unit_test(test_sharded),
		cmocka_unit_test(test_sharded_ignored),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_encode_sharded),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_notepack_values),
		cmocka_unit_test(test_hostile_sizes),
		cmocka_unit_test(test_hostile_truncated),
		cmocka_unit_test(test_hostile_types),
		cmocka_unit_test(test_hostile_binaries),
		cmocka_unit_test(test_encode_refused),
		cmocka_unit_test(test_origin),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
