/*
 * test_recwire.c: recwire.c: the ask and the answer of a recovery across
 * hosts (issue 15), encoded and decoded, and what a hostile publisher on
 * Redis cannot make the decoder take.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "recwire.h"

#define SID	"AAbbbbbbbbbbbbbbbbbb"
#define PID	"0badc0deAAAAAAAAAAAAAAAA"
#define OFF	"0badc0de0000000000000001"

static void
test_ask(void **state)
{
	struct recwire_ask	a, b;
	char			*t;
	size_t			 len;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.id = 42;
	strcpy(a.uid, "gw-b.77.1");
	strcpy(a.pid, PID);
	strcpy(a.off, OFF);
	strcpy(a.user, "alice");
	assert_non_null(t = recwire_ask_encode(&a, &len));
	assert_int_equal(len, strlen(t));
	assert_int_equal(recwire_ask_decode(t, len, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	free(t);
	/* Hostile: wrong kind, lengths, types, NUL, negative id. */
	assert_int_equal(recwire_ask_decode("{\"t\":\"ans\",\"id\":1}", 18, &b),
	    -1);
#define BAD(s)	assert_int_equal(recwire_ask_decode(s, strlen(s), &b), -1)
	BAD("{\"t\":\"ask\",\"id\":1,\"uid\":\"u\",\"pid\":\"" PID "\",\"off\":\""
	    OFF "\"}");
	BAD("{\"t\":\"ask\",\"id\":-1,\"uid\":\"u\",\"pid\":\"" PID "\",\"off\":\""
	    OFF "\",\"user\":\"a\"}");
	BAD("{\"t\":\"ask\",\"id\":1,\"uid\":\"u\",\"pid\":\"" PID "x\",\"off\":\""
	    OFF "\",\"user\":\"a\"}");
	BAD("{\"t\":\"ask\",\"id\":1,\"uid\":\"\",\"pid\":\"" PID "\",\"off\":\""
	    OFF "\",\"user\":\"a\"}");
	BAD("{\"t\":\"ask\",\"id\":1,\"uid\":\"u\",\"pid\":\"" PID "\",\"off\":\""
	    OFF "\",\"user\":\"a\\u0000b\"}");
	BAD("{\"t\":\"ask\",\"id\":1,\"uid\":\"u\",\"pid\":\"" PID "\",\"off\":\""
	    OFF "\",\"user\":7}");
	BAD("[\"ask\"]");
	BAD("{\"t\":\"ask\"");
#undef BAD
}

static void
test_answer(void **state)
{
	struct recwire_ans	 a;
	char			*f[2] = { "42[\"m\",{\"x\":\"\\\"\"},\"" OFF "\"]",
				    "42[\"n\",1]" };
	size_t			 fl[2] = { strlen(f[0]), strlen(f[1]) }, len;
	char			*t;

	(void)state;
	assert_non_null(t = recwire_ans_encode(9, -1, SID, "g:1\0room\0", 9,
	    f, fl, 2, &len));
	assert_int_equal(recwire_ans_decode(t, len, 1024, &a), 0);
	assert_int_equal(a.id, 9);
	assert_int_equal(a.why, -1);
	assert_string_equal(a.sid, SID);
	assert_int_equal(a.rooms_len, 9);
	assert_memory_equal(a.rooms, "g:1\0room\0", 9);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.flen[0], fl[0]);
	assert_memory_equal(a.f[0], f[0], fl[0]);
	assert_memory_equal(a.f[1], f[1], fl[1]);
	recwire_ans_free(&a);
	/* A frame past the bound given: refused whole, nothing held. */
	assert_int_equal(recwire_ans_decode(t, len, 10, &a), -1);
	assert_int_equal(a.n, 0);
	assert_null(a.f);
	free(t);
	/* A failure: its reason alone. */
	assert_non_null(t = recwire_ans_encode(3, 4, NULL, NULL, 0, NULL, NULL,
	    0, &len));
	assert_string_equal(t, "{\"t\":\"ans\",\"id\":3,\"why\":4}");
	assert_int_equal(recwire_ans_decode(t, len, 1024, &a), 0);
	assert_int_equal(a.why, 4);
	assert_int_equal(a.n, 0);
	free(t);
}

static void
test_answer_hostile(void **state)
{
	struct recwire_ans	a;
	char			big[2 * RECLOG_ROOMS_BYTES];
	int			n;

	(void)state;
#define BAD(s)	assert_int_equal(recwire_ans_decode(s, strlen(s), 1024, &a), -1)
	BAD("{\"t\":\"ans\",\"id\":1,\"why\":64}");
	BAD("{\"t\":\"ans\",\"id\":1,\"why\":-2}");
	BAD("{\"t\":\"ans\",\"id\":1,\"why\":\"0\"}");
	BAD("{\"t\":\"ans\",\"id\":1,\"why\":-1,\"sid\":\"short\",\"rooms\":[],"
	    "\"frames\":[]}");
	BAD("{\"t\":\"ans\",\"id\":1,\"why\":-1,\"sid\":\"" SID "\",\"rooms\":"
	    "[\"\"],\"frames\":[]}");
	BAD("{\"t\":\"ans\",\"id\":1,\"why\":-1,\"sid\":\"" SID "\",\"rooms\":"
	    "[1],\"frames\":[]}");
	BAD("{\"t\":\"ans\",\"id\":1,\"why\":-1,\"sid\":\"" SID "\",\"rooms\":"
	    "[],\"frames\":[\"41[1]\"]}");
	BAD("{\"t\":\"ans\",\"id\":1,\"why\":-1,\"sid\":\"" SID "\",\"rooms\":"
	    "[],\"frames\":[\"42[1\"]}");
	BAD("{\"t\":\"ans\",\"id\":1,\"why\":-1,\"sid\":\"" SID "\",\"rooms\":"
	    "[],\"frames\":[\"42[\\u0000]\"]}");
	BAD("{\"t\":\"ans\",\"id\":1,\"why\":-1,\"sid\":\"" SID "\",\"rooms\":"
	    "[],\"frames\":[[\"42[]\"]]}");
	BAD("{\"t\":\"ans\",\"id\":1,\"why\":-1,\"sid\":\"" SID "\"}");
#undef BAD
	/* Rooms past a slot's bytes. */
	n = snprintf(big, sizeof(big), "{\"t\":\"ans\",\"id\":1,\"why\":-1,"
	    "\"sid\":\"" SID "\",\"rooms\":[\"%0*d\"],\"frames\":[]}",
	    RECLOG_ROOMS_BYTES, 0);
	assert_true(n > 0 && (size_t)n < sizeof(big));
	assert_int_equal(recwire_ans_decode(big, (size_t)n, 1024, &a), -1);
	/* Past RECWIRE_MAX: refused before it is parsed. */
	assert_int_equal(recwire_ans_decode(big, RECWIRE_MAX + 1, 1024, &a),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ask),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_answer_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
