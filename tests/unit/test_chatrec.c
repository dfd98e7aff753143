/*
 * test_chatrec.c: chatrec.c: the chat service's calls as spool records,
 * and their paths.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatrec.h"

static void
set(struct chatrec *r, int type, const char *id, const char *key,
    const char *body)
{
	r->type = type;
	r->id = id;
	r->idlen = strlen(id);
	r->key = key;
	r->keylen = strlen(key);
	r->body = body;
	r->blen = strlen(body);
}

static void
test_round_trip(void **state)
{
	struct chatrec	r, d;
	uint8_t		buf[256];
	size_t		n;

	(void)state;
	set(&r, CHATREC_STATUS, "m-1", "m-1-read-bob", "{\"a\":1}");
	n = chatrec_encode(&r, buf, sizeof(buf));
	assert_int_equal(n, CHATREC_HDR_LEN + 3 + 12 + 7);
	assert_int_equal(n, chatrec_size(&r));
	assert_int_equal(buf[0], 'S');
	assert_int_equal(chatrec_decode(buf, n, &d), 0);
	assert_int_equal(d.type, CHATREC_STATUS);
	assert_int_equal(d.idlen, 3);
	assert_memory_equal(d.id, "m-1", 3);
	assert_int_equal(d.keylen, 12);
	assert_memory_equal(d.key, "m-1-read-bob", 12);
	assert_int_equal(d.blen, 7);
	assert_memory_equal(d.body, "{\"a\":1}", 7);
	/* An empty body is a record too (a deletion could have none). */
	set(&r, CHATREC_DELETE, "x", "x-deleted-u", "");
	n = chatrec_encode(&r, buf, sizeof(buf));
	assert_int_equal(chatrec_decode(buf, n, &d), 0);
	assert_int_equal(d.type, CHATREC_DELETE);
	assert_int_equal(d.blen, 0);
}

static void
test_invalid(void **state)
{
	struct chatrec	r, d;
	uint8_t		buf[4096];
	char		big[CHATREC_FIELD_MAX + 2];
	size_t		n, i;

	(void)state;
	set(&r, 'X', "m", "m", "{}");
	assert_int_equal(chatrec_size(&r), 0);
	assert_int_equal(chatrec_encode(&r, buf, sizeof(buf)), 0);
	set(&r, CHATREC_MESSAGE, "", "k", "{}");
	assert_int_equal(chatrec_size(&r), 0);
	set(&r, CHATREC_MESSAGE, "m", "", "{}");
	assert_int_equal(chatrec_size(&r), 0);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	set(&r, CHATREC_MESSAGE, big, "k", "{}");
	assert_int_equal(chatrec_size(&r), 0);
	/* Too small an output. */
	set(&r, CHATREC_MESSAGE, "m", "m", "{}");
	assert_int_equal(chatrec_encode(&r, buf, 6), 0);
	/* A record cut before the end of its key is refused. */
	n = chatrec_encode(&r, buf, sizeof(buf));
	for (i = 0; i < n - 2; i++)
		assert_int_equal(chatrec_decode(buf, i, &d), -1);
	/* Bad type, zero or oversized lengths. */
	buf[0] = 'Z';
	assert_int_equal(chatrec_decode(buf, n, &d), -1);
	buf[0] = 'M';
	buf[1] = buf[2] = 0;
	assert_int_equal(chatrec_decode(buf, n, &d), -1);
	buf[1] = 0xff;
	assert_int_equal(chatrec_decode(buf, n, &d), -1);
}

static void
test_path(void **state)
{
	char	out[64];

	(void)state;
	assert_int_equal(chatrec_path("/api/messages", "abc_-.~Z9", 9, "",
	    out, sizeof(out)), 23);
	assert_string_equal(out, "/api/messages/abc_-.~Z9");
	assert_int_equal(chatrec_path("/api/messages/", "a b/c", 5, "/status",
	    out, sizeof(out)) > 0, 1);
	assert_string_equal(out, "/api/messages/a%20b%2Fc/status");
	chatrec_path("/m", "\xc3\xbc?#%", 5, "", out, sizeof(out));
	assert_string_equal(out, "/m/%C3%BC%3F%23%25");
	/* A segment of dots would name another resource: escaped. */
	chatrec_path("/api/messages", "..", 2, "", out, sizeof(out));
	assert_string_equal(out, "/api/messages/%2E%2E");
	chatrec_path("/api/messages", "a..", 3, "", out, sizeof(out));
	assert_string_equal(out, "/api/messages/a..");
	/* It fits exactly, or not at all. */
	assert_int_equal(chatrec_path("/m", "ab", 2, "/s", out, 8), 7);
	assert_string_equal(out, "/m/ab/s");
	assert_int_equal(chatrec_path("/m", "ab", 2, "/s", out, 7), -1);
	assert_int_equal(chatrec_path("/m", " ", 1, "", out, 6), -1);
	assert_int_equal(chatrec_path("/m", " ", 1, "", out, 7), 6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
