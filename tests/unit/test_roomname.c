/*
 * test_roomname.c: roomname.c: room names: build, parse, who may join.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "roomname.h"

#define S(x)	x, sizeof(x) - 1

static void
test_names(void **state)
{
	char	buf[ROOMNAME_SIZE], a[ROOMNAME_ID_MAX + 2], b[ROOMNAME_ID_MAX + 1];

	(void)state;
	assert_int_equal(roomname_user(S("42"), buf), 7);
	assert_string_equal(buf, "user:42");
	assert_int_equal(roomname_group(S("g-1"), buf), 9);
	assert_string_equal(buf, "group:g-1");
	assert_int_equal(roomname_chat(S("bob"), S("alice"), buf), 14);
	assert_string_equal(buf, "chat:alice:bob");
	assert_int_equal(roomname_chat(S("alice"), S("bob"), buf), 14);
	assert_string_equal(buf, "chat:alice:bob");
	/* Bytewise, shorter first: "10" < "9", "ab" < "abc", "B" < "a". */
	roomname_chat(S("9"), S("10"), buf);
	assert_string_equal(buf, "chat:10:9");
	roomname_chat(S("abc"), S("ab"), buf);
	assert_string_equal(buf, "chat:ab:abc");
	roomname_chat(S("a"), S("B"), buf);
	assert_string_equal(buf, "chat:B:a");
	roomname_chat(S("\xc3\xa9"), S("z"), buf);
	assert_string_equal(buf, "chat:z:\xc3\xa9");
	assert_int_equal(roomname_chat(S("same"), S("same"), buf), -1);

	/* Ids. */
	assert_int_equal(roomname_user(S(""), buf), -1);
	assert_int_equal(roomname_user(NULL, 3, buf), -1);
	assert_int_equal(roomname_user(S("a:b"), buf), -1);
	assert_int_equal(roomname_user(S("a\nb"), buf), -1);
	assert_int_equal(roomname_user(S("a\x7f"), buf), -1);
	assert_int_equal(roomname_user("a\0b", 3, buf), -1);
	assert_int_equal(roomname_group(S("\x1f"), buf), -1);
	assert_int_equal(roomname_chat(S("a"), S("b:c"), buf), -1);
	assert_int_equal(roomname_chat(S("a b"), S(""), buf), -1);
	assert_true(roomname_id_valid(S("with space and \xe2\x82\xac")));
	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	assert_int_equal(roomname_user(a, ROOMNAME_ID_MAX, buf),
	    5 + ROOMNAME_ID_MAX);
	assert_int_equal(roomname_user(a, ROOMNAME_ID_MAX + 1, buf), -1);
	assert_int_equal(roomname_chat(b, ROOMNAME_ID_MAX, a, ROOMNAME_ID_MAX,
	    buf), ROOMNAME_MAX);
	assert_int_equal(strlen(buf), ROOMNAME_MAX);
	assert_memory_equal(buf, "chat:aaa", 8);
	assert_int_equal(buf[5 + ROOMNAME_ID_MAX], ':');
}

static void
test_parse(void **state)
{
	static const struct {
		const char	*name;
		int		 kind;	/* 0: invalid */
		const char	*a, *b;
	} t[] = {
		{ "user:42", ROOMNAME_USER, "42", NULL },
		{ "group:g 1", ROOMNAME_GROUP, "g 1", NULL },
		{ "chat:alice:bob", ROOMNAME_CHAT, "alice", "bob" },
		{ "chat:10:9", ROOMNAME_CHAT, "10", "9" },
		{ "chat:ab:abc", ROOMNAME_CHAT, "ab", "abc" },
		{ "user:\xc3\xa9", ROOMNAME_USER, "\xc3\xa9", NULL },
		{ "", 0, NULL, NULL },
		{ "user", 0, NULL, NULL },
		{ "user:", 0, NULL, NULL },
		{ "user:a:b", 0, NULL, NULL },
		{ "User:1", 0, NULL, NULL },
		{ " user:1", 0, NULL, NULL },
		{ "group:", 0, NULL, NULL },
		{ "group:a\tb", 0, NULL, NULL },
		{ "group:a:b", 0, NULL, NULL },
		{ "groups:1", 0, NULL, NULL },
		{ "chat:", 0, NULL, NULL },
		{ "chat:a", 0, NULL, NULL },
		{ "chat:a:", 0, NULL, NULL },
		{ "chat::b", 0, NULL, NULL },
		{ "chat:b:a", 0, NULL, NULL },		/* not sorted */
		{ "chat:9:10", 0, NULL, NULL },
		{ "chat:abc:ab", 0, NULL, NULL },
		{ "chat:a:a", 0, NULL, NULL },		/* same */
		{ "chat:a:b:c", 0, NULL, NULL },
		{ "chat:a:b\x7f", 0, NULL, NULL },
		{ "room-1", 0, NULL, NULL },
		{ "private_1_2", 0, NULL, NULL },
	};
	struct roomname_ref	 ref;
	char			 name[ROOMNAME_SIZE + 8];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].kind == 0) {
			if (roomname_parse(t[i].name, strlen(t[i].name), &ref) !=
			    ROOMNAME_ERR_INVALID)
				fail_msg("accepted \"%s\"", t[i].name);
			assert_int_equal(ref.kind, 0);
			assert_null(ref.a);
			continue;
		}
		if (roomname_parse(t[i].name, strlen(t[i].name), &ref) != 0)
			fail_msg("refused \"%s\"", t[i].name);
		assert_int_equal(ref.kind, t[i].kind);
		assert_int_equal(ref.alen, strlen(t[i].a));
		assert_memory_equal(ref.a, t[i].a, ref.alen);
		if (t[i].b == NULL) {
			assert_null(ref.b);
			assert_int_equal(ref.blen, 0);
		} else {
			assert_int_equal(ref.blen, strlen(t[i].b));
			assert_memory_equal(ref.b, t[i].b, ref.blen);
		}
	}
	assert_int_equal(roomname_parse(NULL, 0, &ref), ROOMNAME_ERR_INVALID);
	assert_int_equal(roomname_parse("user:a\0b", 8, &ref), ROOMNAME_ERR_INVALID);
	assert_int_equal(roomname_parse("user:ab", 6, &ref), 0);	/* length */
	assert_int_equal(ref.alen, 1);

	/* Lengths: 128-byte ids are the limit. */
	memset(name, 'x', sizeof(name));
	memcpy(name, "group:", 6);
	assert_int_equal(roomname_parse(name, 6 + ROOMNAME_ID_MAX, &ref), 0);
	assert_int_equal(roomname_parse(name, 7 + ROOMNAME_ID_MAX, &ref),
	    ROOMNAME_ERR_INVALID);
	memcpy(name, "chat:", 5);
	memset(name + 5, 'a', ROOMNAME_ID_MAX);
	name[5 + ROOMNAME_ID_MAX] = ':';
	memset(name + 6 + ROOMNAME_ID_MAX, 'b', ROOMNAME_ID_MAX + 1);
	assert_int_equal(roomname_parse(name, ROOMNAME_MAX, &ref), 0);
	assert_int_equal(roomname_parse(name, ROOMNAME_MAX + 1, &ref),
	    ROOMNAME_ERR_INVALID);
}

static void
test_may_join(void **state)
{
	struct roomname_ref	ref;

	(void)state;
	assert_int_equal(roomname_parse(S("user:alice"), &ref), 0);
	assert_int_equal(roomname_may_join(&ref, S("alice")), ROOMNAME_ERR_PERSONAL);
	assert_int_equal(roomname_may_join(&ref, S("bob")), ROOMNAME_ERR_PERSONAL);
	assert_int_equal(roomname_may_leave(&ref, S("alice")),
	    ROOMNAME_ERR_PERSONAL);

	assert_int_equal(roomname_parse(S("chat:alice:bob"), &ref), 0);
	assert_int_equal(roomname_may_join(&ref, S("alice")), ROOMNAME_OK);
	assert_int_equal(roomname_may_join(&ref, S("bob")), ROOMNAME_OK);
	assert_int_equal(roomname_may_join(&ref, S("carol")),
	    ROOMNAME_ERR_NOT_PARTICIPANT);
	assert_int_equal(roomname_may_join(&ref, S("alic")),
	    ROOMNAME_ERR_NOT_PARTICIPANT);
	assert_int_equal(roomname_may_join(&ref, S("bobby")),
	    ROOMNAME_ERR_NOT_PARTICIPANT);
	assert_int_equal(roomname_may_join(&ref, NULL, 0),
	    ROOMNAME_ERR_NOT_PARTICIPANT);
	assert_int_equal(roomname_may_leave(&ref, S("carol")), ROOMNAME_OK);

	assert_int_equal(roomname_parse(S("group:7"), &ref), 0);
	assert_int_equal(roomname_may_join(&ref, S("anyone")), ROOMNAME_OK);
	assert_int_equal(roomname_may_leave(&ref, S("anyone")), ROOMNAME_OK);

	assert_int_equal(roomname_parse(S("nope"), &ref), ROOMNAME_ERR_INVALID);
	assert_int_equal(roomname_may_join(&ref, S("a")), ROOMNAME_ERR_INVALID);
	assert_int_equal(roomname_may_join(NULL, S("a")), ROOMNAME_ERR_INVALID);
	assert_int_equal(roomname_may_leave(&ref, S("a")), ROOMNAME_ERR_INVALID);

	assert_string_equal(roomname_strerror(ROOMNAME_OK), "ok");
	assert_string_equal(roomname_strerror(ROOMNAME_ERR_PERSONAL),
	    "user rooms are joined and left by the gateway only");
	assert_string_equal(roomname_strerror(ROOMNAME_ERR_NOT_PARTICIPANT),
	    "only the two participants may join a chat room");
	assert_string_equal(roomname_strerror(ROOMNAME_ERR_INVALID),
	    "not a room name: expected user:<id>, group:<id> or "
	    "chat:<a>:<b>");
	assert_string_equal(roomname_strerror(-99), "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_may_join),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
