/*
 * test_grouplist.c: grouplist.c and urlesc.c, the pure parts of issue 13's
 * group membership beside the cache: a token's groups claim keeps valid
 * ids only, without duplicates, at most the bound (and says how many it
 * had); a check finds exactly the ids in it, not their prefixes; an id in
 * a URL path cannot change which resource the path names.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "grouplist.h"
#include "urlesc.h"

static bool
has(const struct grouplist *l, const char *g)
{
	return grouplist_has(l, g, strlen(g));
}

static void
test_claim(void **state)
{
	struct grouplist	*l;
	json_t			*v;
	size_t			 claimed;

	(void)state;
	v = json_loads("[\"g2\", \"g1\", \"g10\", \"g1\", 5, \"\", \"a:b\","
	    " null, \"g\"]", 0, NULL);
	assert_non_null(v);
	l = grouplist_from_json(v, 100, &claimed);
	assert_non_null(l);
	assert_int_equal(claimed, 5);		/* g2 g1 g10 g1 g */
	assert_int_equal(l->n, 4);		/* the duplicate out */
	assert_true(has(l, "g1"));
	assert_true(has(l, "g10"));
	assert_true(has(l, "g2"));
	assert_true(has(l, "g"));
	assert_false(has(l, "g3"));
	assert_false(has(l, "g100"));
	assert_false(has(l, "a:b"));
	assert_false(has(l, ""));
	/* Not NUL-terminated: the length counts. */
	assert_true(grouplist_has(l, "g10xyz", 3));
	assert_false(grouplist_has(l, "g10xyz", 4));
	assert_false(grouplist_has(NULL, "g1", 2));
	grouplist_free(l);
	json_decref(v);
}

static void
test_bound(void **state)
{
	struct grouplist	*l;
	json_t			*v = json_array();
	char			 g[16];
	size_t			 claimed;
	int			 i;

	(void)state;
	for (i = 0; i < 50; i++) {
		snprintf(g, sizeof(g), "g%02d", i);
		json_array_append_new(v, json_string(g));
	}
	l = grouplist_from_json(v, 10, &claimed);
	assert_non_null(l);
	assert_int_equal(claimed, 50);
	assert_int_equal(l->n, 10);
	/* The first ten of the claim, in its order. */
	assert_true(has(l, "g00"));
	assert_true(has(l, "g09"));
	assert_false(has(l, "g10"));
	grouplist_free(l);
	json_decref(v);
	/* Not an array: no list. */
	v = json_string("g1");
	assert_null(grouplist_from_json(v, 10, &claimed));
	assert_null(grouplist_from_json(NULL, 10, &claimed));
	json_decref(v);
}

static void
test_urlesc(void **state)
{
	char	out[64];

	(void)state;
	assert_int_equal(urlesc_segment("Ab-9._~", 7, out, sizeof(out)), 7);
	assert_string_equal(out, "Ab-9._~");
	assert_int_equal(urlesc_segment("a/b?c", 5, out, sizeof(out)), 9);
	assert_string_equal(out, "a%2Fb%3Fc");
	assert_int_equal(urlesc_segment("..", 2, out, sizeof(out)), 6);
	assert_string_equal(out, "%2E%2E");
	assert_int_equal(urlesc_segment("\xc3\xa9 %", 4, out, sizeof(out)),
	    12);
	assert_string_equal(out, "%C3%A9%20%25");
	/* Too small: refused, never cut. */
	assert_int_equal(urlesc_segment("abc", 3, out, 3), -1);
	assert_int_equal(urlesc_segment("/", 1, out, 3), -1);
	assert_int_equal(urlesc_segment("/", 1, out, 4), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_urlesc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
