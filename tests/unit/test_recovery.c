/*
 * test_recovery.c: recmatch.c: pids, a reconnecting client's ask, the
 * rooms a session slot keeps, which log entries a session missed.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "recovery.h"

#define SID	"AAbbbbbbbbbbbbbbbbbb"

static void
test_pid(void **state)
{
	uint8_t	rnd[RECOVERY_PID_RANDOM];
	char	pid[RECLOG_PID_LEN + 1];

	(void)state;
	memset(rnd, 0xff, sizeof(rnd));
	recovery_pid_make(0x0123abcdu, rnd, pid);
	assert_string_equal(pid, "0123abcd________________");
	assert_true(recovery_pid_valid(pid, strlen(pid)));
	memset(rnd, 0, sizeof(rnd));
	recovery_pid_make(0, rnd, pid);
	assert_string_equal(pid, "00000000AAAAAAAAAAAAAAAA");
	assert_true(recovery_pid_valid(pid, RECLOG_PID_LEN));
	/* Hostile shapes. */
	assert_false(recovery_pid_valid(NULL, 0));
	assert_false(recovery_pid_valid(pid, RECLOG_PID_LEN - 1));
	assert_false(recovery_pid_valid("0123ABCDAAAAAAAAAAAAAAAAA", 24));
	assert_false(recovery_pid_valid("0123abcdAAAAAAAAAAAAAAA=", 24));
	assert_false(recovery_pid_valid("0123abcdAAAAAAA\0AAAAAAAA", 24));
	assert_false(recovery_pid_valid("0123abcdAAAAAAA/AAAAAAAA", 24));
}

static int
ask(const char *json, struct recovery_ask *a)
{
	json_t	*v = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	int	 rc;

	rc = recovery_ask(v, a);
	json_decref(v);
	return rc;
}

static void
test_ask(void **state)
{
	struct recovery_ask	a;

	(void)state;
	assert_int_equal(ask("{\"pid\":\"0123abcdAAAAAAAAAAAAAAAA\","
	    "\"offset\":\"0123abcd0000000000000010\",\"token\":\"x\"}", &a),
	    RECOVERY_ASK);
	assert_string_equal(a.pid, "0123abcdAAAAAAAAAAAAAAAA");
	assert_string_equal(a.off, "0123abcd0000000000000010");
	/* Not asked: socket.io makes a new socket then. */
	assert_int_equal(ask("{\"token\":\"x\"}", &a), RECOVERY_ASK_NONE);
	assert_int_equal(ask("{\"pid\":\"0123abcdAAAAAAAAAAAAAAAA\"}", &a),
	    RECOVERY_ASK_NONE);
	assert_int_equal(ask("{\"pid\":1,\"offset\":\"x\"}", &a),
	    RECOVERY_ASK_NONE);
	assert_int_equal(ask("[1]", &a), RECOVERY_ASK_NONE);
	assert_int_equal(recovery_ask(NULL, &a), RECOVERY_ASK_NONE);
	/* Asked, hostile. */
	assert_int_equal(ask("{\"pid\":\"x\",\"offset\":\"y\"}", &a),
	    RECOVERY_ASK_BAD);
	assert_int_equal(ask("{\"pid\":\"0123abcdAAAAAAAAAAAAAAAA\","
	    "\"offset\":\"0123abcd000000000000001G\"}", &a), RECOVERY_ASK_BAD);
	assert_int_equal(ask("{\"pid\":\"0123abcdAAAAAAAAAAAAAAAA\","
	    "\"offset\":\"0123abcd00000000000000100\"}", &a),
	    RECOVERY_ASK_BAD);
	assert_int_equal(ask("{\"pid\":\"0123abcdAAAAAAAAAAAAAAA\\u0000\","
	    "\"offset\":\"0123abcd0000000000000010\"}", &a), RECOVERY_ASK_BAD);
	assert_string_equal(a.pid, "");
}

static void
test_user_hash(void **state)
{
	uint8_t	a[RECLOG_USER_HASH], b[RECLOG_USER_HASH];
	/* SHA-256("alice"), its first 16 bytes */
	static const uint8_t want[RECLOG_USER_HASH] = {
		0x2b, 0xd8, 0x06, 0xc9, 0x7f, 0x0e, 0x00, 0xaf,
		0x1a, 0x1f, 0xc3, 0x32, 0x8f, 0xa7, 0x63, 0xa9
	};

	(void)state;
	assert_int_equal(recovery_user_hash("alice", 5, a), 0);
	assert_memory_equal(a, want, sizeof(want));
	assert_int_equal(recovery_user_hash("alicf", 5, b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
}

static struct reclog_ent
ent(int to, int worker, const char *room, const char *except)
{
	struct reclog_ent	e;

	memset(&e, 0, sizeof(e));
	e.to = to;
	e.worker = worker;
	e.room = room;
	e.rlen = strlen(room);
	e.except = except;
	e.elen = except != NULL ? strlen(except) : 0;
	e.frame = "42[\"x\"]";
	e.flen = 7;
	return e;
}

static void
test_rooms(void **state)
{
	struct reclog_sess	s;
	char			big[RECLOG_ROOMS_BYTES];
	size_t			n;

	(void)state;
	memset(&s, 0, sizeof(s));
	recovery_rooms_clear(&s);
	assert_int_equal(recovery_rooms_add(&s, "group:a", 7), 0);
	assert_int_equal(recovery_rooms_add(&s, "chat:a:b", 8), 0);
	assert_int_equal(s.rooms_len, 17);
	assert_memory_equal(s.rooms, "group:a\0chat:a:b\0", 17);
	assert_int_equal(recovery_rooms_add(&s, "", 0), RECLOG_E_ROOMS);
	assert_int_equal(recovery_rooms_add(&s, "a\0b", 3), RECLOG_E_ROOMS);
	/* Exactly full, then over by one byte. */
	n = sizeof(s.rooms) - s.rooms_len - 1;
	memset(big, 'r', sizeof(big));
	assert_int_equal(recovery_rooms_add(&s, big, n + 1), RECLOG_E_ROOMS);
	assert_int_equal(recovery_rooms_add(&s, big, n), 0);
	assert_int_equal(s.rooms_len, sizeof(s.rooms));
	assert_int_equal(recovery_rooms_add(&s, "x", 1), RECLOG_E_ROOMS);
	recovery_rooms_clear(&s);
	assert_int_equal(s.rooms_len, 0);
}

static void
test_wants(void **state)
{
	struct reclog_sess	s;
	struct reclog_ent	e;

	(void)state;
	memset(&s, 0, sizeof(s));
	strcpy(s.sid, SID);
	recovery_rooms_add(&s, "group:a", 7);
	recovery_rooms_add(&s, "presence:bob", 12);
#define W(e)	recovery_wants(&s, 3, "user:42", 7, &(e))
	e = ent(RECLOG_TO_ROOM, -1, "group:a", NULL);
	assert_true(W(e));
	e = ent(RECLOG_TO_ROOM, -1, "presence:bob", NULL);
	assert_true(W(e));
	e = ent(RECLOG_TO_ROOM, -1, "user:42", NULL);
	assert_true(W(e));
	e = ent(RECLOG_TO_SOCKET, -1, SID, NULL);
	assert_true(W(e));
	e = ent(RECLOG_TO_ROOM, -1, SID, NULL);	/* io.to(socketId) */
	assert_true(W(e));
	e = ent(RECLOG_TO_ROOM, 3, RECOVERY_ROOM_ALL, NULL);	/* presence */
	assert_true(W(e));
	e = ent(RECLOG_TO_ROOM, 3, RECOVERY_ROOM_ALL, SID);
	assert_false(W(e));
	e = ent(RECLOG_TO_SOCKET, -1, RECOVERY_ROOM_ALL, NULL);
	assert_false(W(e));
	/* Not its rooms. */
	e = ent(RECLOG_TO_ROOM, -1, "group:b", NULL);
	assert_false(W(e));
	e = ent(RECLOG_TO_ROOM, -1, "group:", NULL);	/* a prefix */
	assert_false(W(e));
	e = ent(RECLOG_TO_ROOM, -1, "user:4", NULL);
	assert_false(W(e));
	e = ent(RECLOG_TO_SOCKET, -1, "group:a", NULL);	/* a sid only */
	assert_false(W(e));
	e = ent(RECLOG_TO_SOCKET, -1, "AAbbbbbbbbbbbbbbbbbc", NULL);
	assert_false(W(e));
	/* Its own message, sent to its room but it. */
	e = ent(RECLOG_TO_ROOM, -1, "group:a", SID);
	assert_false(W(e));
	e = ent(RECLOG_TO_ROOM, -1, "group:a", "AAbbbbbbbbbbbbbbbbbc");
	assert_true(W(e));
	/* From Redis: the old worker's copy only. */
	e = ent(RECLOG_TO_ROOM, 3, "group:a", NULL);
	assert_true(W(e));
	e = ent(RECLOG_TO_ROOM, 2, "group:a", NULL);
	assert_false(W(e));
	/* No user room given. */
	e = ent(RECLOG_TO_ROOM, -1, "user:42", NULL);
	assert_false(recovery_wants(&s, 3, NULL, 0, &e));
#undef W
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pid),
		cmocka_unit_test(test_ask),
		cmocka_unit_test(test_user_hash),
		cmocka_unit_test(test_rooms),
		cmocka_unit_test(test_wants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
