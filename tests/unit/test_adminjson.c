/*
 * test_adminjson: guards the pure parts of the Admin UI's server side
 * (src/gateway/adminjson.c, issue 18): a socket serialised as
 * @socket.io/admin-ui 0.5.x's serialize() shapes it (and the token never
 * in it), server_stats, config in both modes, the packet text, the basic
 * authentication against bcrypt hashes (the README's own example, $2a$,
 * $2y$), the hash check, the operations' shapes, hostile ones
 * refused, and the sessions a reload of the UI logs in with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "adminjson.h"

/* The README of @socket.io/admin-ui 0.5.1: "changeit". */
#define README_HASH \
	"$2b$10$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS"
/* "pw" at cost 4, made with libxcrypt ($2b$), and as $2a$ and $2y$. */
#define PW_HASH_B \
	"$2b$04$abcdefghijklmnopqrstuuyvPXIbu7xe6/CED2DzX8z6Si09MlzlW"

static void
test_socket(void **state)
{
	struct adminjson_sock	 k = { "sockid0000000000000a",
				    "EIOsid0123456789abcd", true, "alice", 5,
				    "10.0.0.1", 1700000000123LL, false };
	json_t			*rooms = json_pack("[s]", "user:alice");
	json_t			*o, *hs;

	(void)state;
	o = adminjson_socket(&k, rooms);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "id")),
	    k.id);
	assert_string_equal(json_string_value(json_object_get(o,
	    "clientId")), "EIOsid012345");
	assert_string_equal(json_string_value(json_object_get(o,
	    "transport")), "websocket");
	assert_string_equal(json_string_value(json_object_get(o, "nsp")), "/");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(o, "data"), "user_id")), "alice");
	/* Its own id is its first room, as socket.io has it. */
	assert_int_equal(json_array_size(json_object_get(o, "rooms")), 2);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(o, "rooms"), 0)), k.id);
	hs = json_object_get(o, "handshake");
	assert_string_equal(json_string_value(json_object_get(hs, "address")),
	    "10.0.0.1");
	assert_int_equal(json_integer_value(json_object_get(hs, "issued")),
	    1700000000123LL);
	assert_string_equal(json_string_value(json_object_get(hs, "time")),
	    "Tue Nov 14 2023 22:13:20 GMT+0000 (Coordinated Universal Time)");
	assert_true(json_is_object(json_object_get(hs, "headers")));
	assert_true(json_is_object(json_object_get(hs, "query")));
	assert_int_equal(json_object_size(json_object_get(hs, "auth")), 0);
	assert_string_equal(json_string_value(json_object_get(hs, "url")),
	    "/socket.io/?EIO=4&transport=websocket");
	json_decref(o);
	k.websocket = false;
	o = adminjson_socket(&k, json_array());
	assert_string_equal(json_string_value(json_object_get(o,
	    "transport")), "polling");
	json_decref(o);
	assert_null(adminjson_socket(&k, NULL));
}

static void
test_stats_config_packet(void **state)
{
	struct adminjson_stats	 st = { "h#1", "h", 1, 2.5, 10, 3, 7, 1 };
	json_t			*o, *ns;
	char			*p;
	size_t			 len;

	(void)state;
	o = adminjson_stats(&st);
	assert_string_equal(json_string_value(json_object_get(o,
	    "serverId")), "h#1");
	assert_int_equal(json_integer_value(json_object_get(o,
	    "clientsCount")), 10);
	assert_int_equal(json_integer_value(json_object_get(o,
	    "pollingClientsCount")), 3);
	ns = json_object_get(o, "namespaces");
	assert_int_equal(json_array_size(ns), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ns,
	    0), "socketsCount")), 7);
	json_decref(o);
	o = adminjson_config(true);
	assert_int_equal(json_array_size(json_object_get(o,
	    "supportedFeatures")), 0);
	json_decref(o);
	o = adminjson_config(false);
	p = json_dumps(o, JSON_COMPACT);
	assert_non_null(strstr(p, "\"JOIN\""));
	assert_non_null(strstr(p, "\"DISCONNECT\""));
	/* The UI's socket pages need AGGREGATED_EVENTS absent. */
	assert_null(strstr(p, "AGGREGATED_EVENTS"));
	assert_null(strstr(p, "ALL_EVENTS"));
	free(p);
	json_decref(o);
	p = adminjson_packet("config", json_pack("[{s:[]}]",
	    "supportedFeatures"), &len);
	assert_string_equal(p,
	    "42/admin,[\"config\",{\"supportedFeatures\":[]}]");
	assert_int_equal(len, strlen(p));
	free(p);
	assert_null(adminjson_packet("x", NULL, &len));
}

static json_t *
creds(const char *u, const char *p)
{
	return json_pack("{s:s,s:s}", "username", u, "password", p);
}

static void
test_login(void **state)
{
	json_t	*a;
	char	 h[64];

	(void)state;
	a = creds("admin", "changeit");
	assert_int_equal(adminjson_login("admin", README_HASH, a), 0);
	assert_int_equal(adminjson_login("root", README_HASH, a), -1);
	assert_int_equal(adminjson_login("", README_HASH, a), -1);
	json_decref(a);
	a = creds("admin", "changeiT");
	assert_int_equal(adminjson_login("admin", README_HASH, a), -1);
	json_decref(a);
	a = creds("admin", "pw");
	assert_int_equal(adminjson_login("admin", PW_HASH_B, a), 0);
	/* bcryptjs writes $2a$; PHP's tools $2y$: the same hash. */
	memcpy(h, PW_HASH_B, sizeof(PW_HASH_B));
	h[2] = 'a';
	assert_int_equal(adminjson_login("admin", h, a), 0);
	h[2] = 'y';
	assert_int_equal(adminjson_login("admin", h, a), 0);
	h[2] = 'x';
	assert_int_equal(adminjson_login("admin", h, a), -1);
	json_decref(a);
	/* Not strings, missing, a NUL inside: refused. */
	a = json_pack("{s:s,s:i}", "username", "admin", "password", 1);
	assert_int_equal(adminjson_login("admin", PW_HASH_B, a), -1);
	json_decref(a);
	a = json_pack("{s:s}", "username", "admin");
	assert_int_equal(adminjson_login("admin", PW_HASH_B, a), -1);
	json_decref(a);
	a = json_pack("{s:s,s:s#}", "username", "admin", "password", "pw\0x",
	    (size_t)4);
	assert_int_equal(adminjson_login("admin", PW_HASH_B, a), -1);
	json_decref(a);
	assert_int_equal(adminjson_login("admin", PW_HASH_B, NULL), -1);
}

static void
test_hash_valid(void **state)
{
	(void)state;
	assert_true(adminjson_hash_valid(README_HASH));
	assert_true(adminjson_hash_valid(PW_HASH_B));
	assert_false(adminjson_hash_valid(NULL));
	assert_false(adminjson_hash_valid(""));
	assert_false(adminjson_hash_valid("changeit"));
	assert_false(adminjson_hash_valid(
	    "$2b$03$abcdefghijklmnopqrstuuyvPXIbu7xe6/CED2DzX8z6Si09MlzlW"));
	assert_false(adminjson_hash_valid(
	    "$2b$32$abcdefghijklmnopqrstuuyvPXIbu7xe6/CED2DzX8z6Si09MlzlW"));
	assert_false(adminjson_hash_valid(
	    "$2b$04$abcdefghijklmnopqrstuuyvPXIbu7xe6/CED2DzX8z6Si09Mlzl"));
	assert_false(adminjson_hash_valid(
	    "$2b$04$abcdefghijklmnopqrstuuyvPXIbu7xe6/CED2DzX8z6Si09Mlzl!"));
	assert_false(adminjson_hash_valid(
	    "$1$04$abcdefghijklmnopqrstuuyvPXIbu7xe6/CED2DzX8z6Si09MlzlWW"));
}

/* o's strings are borrowed: the event lives until the next call. */
static int
op(const char *text, struct adminjson_op *o)
{
	static json_t	*v;

	json_decref(v);
	v = text != NULL ? json_loads(text, JSON_ALLOW_NUL, NULL) : NULL;
	if (text == NULL)
		return 0;
	assert_non_null(v);
	return adminjson_op(v, o);
}

static void
test_ops(void **state)
{
	struct adminjson_op	o;
	char			big[600];

	(void)state;
	assert_int_equal(op("[\"join\",\"/\",\"group:a\"]", &o), 0);
	assert_int_equal(o.kind, ADMINJSON_OP_JOIN);
	assert_null(o.filter);
	assert_int_equal(op("[\"leave\",\"/\",\"group:a\",\"abc\"]", &o), 0);
	assert_int_equal(o.kind, ADMINJSON_OP_LEAVE);
	assert_int_equal(o.flen, 3);
	assert_int_equal(op("[\"join\",\"/\",\"r\",null]", &o), 0);
	assert_null(o.filter);
	assert_int_equal(op("[\"_disconnect\",\"/\",true,\"x\"]", &o), 0);
	assert_int_equal(o.kind, ADMINJSON_OP_DISCONNECT);
	assert_true(o.close);
	assert_int_equal(op("[\"_disconnect\",\"/\",false]", &o), 0);
	assert_false(o.close);
	assert_int_equal(op("[\"emit\",\"/\",null,\"hello\",1,{\"a\":2}]", &o),
	    0);
	assert_int_equal(o.kind, ADMINJSON_OP_EMIT);
	assert_string_equal(o.event, "hello");
	assert_int_equal(o.first_arg, 4);
	assert_int_equal(op("[\"emit\",\"/\",\"\",\"hello\"]", &o), 0);
	assert_null(o.filter);		/* "" filters nothing, as in JS */
	/* Not of their shape: refused. */
	assert_int_equal(op("[\"join\",\"/admin\",\"r\"]", &o), -1);
	assert_int_equal(op("[\"join\",\"/\",\"\"]", &o), -1);
	assert_int_equal(op("[\"join\",\"/\",5]", &o), -1);
	assert_int_equal(op("[\"join\",\"/\"]", &o), -1);
	assert_int_equal(op("[\"join\",\"/\",\"r\",7]", &o), -1);
	assert_int_equal(op("[\"join\",\"/\",\"a\\u0000b\"]", &o), -1);
	assert_int_equal(op("[\"_disconnect\",\"/\",\"yes\"]", &o), -1);
	assert_int_equal(op("[\"emit\",\"/\",null]", &o), -1);
	assert_int_equal(op("[\"emit\",\"/\",null,null]", &o), -1);
	assert_int_equal(op("[\"eval\",\"/\",\"x\"]", &o), -1);
	assert_int_equal(op("{\"join\":1}", &o), -1);
	memset(big, 'r', sizeof(big));
	memcpy(big, "[\"join\",\"/\",\"", 13);
	memcpy(big + sizeof(big) - 3, "\"]", 3);
	assert_int_equal(op(big, &o), -1);	/* past ADMINJSON_ROOM_MAX */
	(void)op(NULL, &o);
}

static void
test_session(void **state)
{
	char	id[ADMINJSON_SESSION_LEN + 1], bad[ADMINJSON_SESSION_LEN + 1];
	int64_t	now = 1700000000;

	(void)state;
	assert_int_equal(adminjson_session_make(PW_HASH_B, now, id,
	    sizeof(id)), 0);
	assert_int_equal(strlen(id), ADMINJSON_SESSION_LEN);
	assert_int_equal(adminjson_session_check(PW_HASH_B, id, now), 0);
	assert_int_equal(adminjson_session_check(PW_HASH_B, id,
	    now + ADMINJSON_SESSION_TTL), 0);
	/* Expired, another password's, altered, cut, none. */
	assert_int_equal(adminjson_session_check(PW_HASH_B, id,
	    now + ADMINJSON_SESSION_TTL + 1), -1);
	assert_int_equal(adminjson_session_check(README_HASH, id, now), -1);
	memcpy(bad, id, sizeof(bad));
	bad[ADMINJSON_SESSION_LEN - 1] ^= 1;
	assert_int_equal(adminjson_session_check(PW_HASH_B, bad, now), -1);
	memcpy(bad, id, sizeof(bad));
	bad[15] = bad[15] == 'f' ? 'e' : 'f';	/* a later expiry */
	assert_int_equal(adminjson_session_check(PW_HASH_B, bad, now), -1);
	bad[15] = 'G';
	assert_int_equal(adminjson_session_check(PW_HASH_B, bad, now), -1);
	bad[ADMINJSON_SESSION_LEN - 1] = '\0';
	assert_int_equal(adminjson_session_check(PW_HASH_B, bad, now), -1);
	assert_int_equal(adminjson_session_check(PW_HASH_B, NULL, now), -1);
	assert_int_equal(adminjson_session_check(PW_HASH_B, "", now), -1);
	assert_int_equal(adminjson_session_make(PW_HASH_B, now, id, 10), -1);
	assert_int_equal(adminjson_session_make("x", now, id, sizeof(id)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket),
		cmocka_unit_test(test_stats_config_packet),
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_hash_valid),
		cmocka_unit_test(test_ops),
		cmocka_unit_test(test_session),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
