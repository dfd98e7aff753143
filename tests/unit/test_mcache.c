/*
 * test_mcache.c: mcache.c, the group membership cache of issue 13: an
 * answer is known until its expiry and no longer, a new answer replaces
 * the old, keys differ by user and by group (the NUL between them), and
 * the size bound pushes out the oldest entry (expired ones first).
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mcache.h"

/* "user\0group" */
static size_t
key(char *out, const char *user, const char *group)
{
	size_t	u = strlen(user), g = strlen(group);

	memcpy(out, user, u);
	out[u] = '\0';
	memcpy(out + u + 1, group, g);
	return u + 1 + g;
}

static int
get(struct mcache *c, const char *user, const char *group, double now)
{
	char	k[128];

	return mcache_get(c, k, key(k, user, group), now);
}

static void
put(struct mcache *c, const char *user, const char *group, int member,
    double now, double expires)
{
	char	k[128];

	assert_int_equal(mcache_put(c, k, key(k, user, group), member, now,
	    expires), 0);
}

static void
test_ttl(void **state)
{
	struct mcache	*c = mcache_new(100, 42);

	(void)state;
	assert_non_null(c);
	assert_int_equal(get(c, "alice", "g1", 0), MCACHE_MISS);
	put(c, "alice", "g1", 1, 0, 60);
	put(c, "bob", "g1", 0, 0, 10);
	assert_int_equal(get(c, "alice", "g1", 1), 1);
	assert_int_equal(get(c, "bob", "g1", 9.5), 0);
	assert_int_equal(mcache_count(c), 2);
	/* Expired: a miss, and gone. */
	assert_int_equal(get(c, "bob", "g1", 10), MCACHE_MISS);
	assert_int_equal(mcache_count(c), 1);
	assert_int_equal(get(c, "alice", "g1", 60.001), MCACHE_MISS);
	assert_int_equal(mcache_count(c), 0);
	mcache_free(c);
}

static void
test_keys(void **state)
{
	struct mcache	*c = mcache_new(100, 7);

	(void)state;
	/* "ab"+"c" and "a"+"bc": the NUL keeps them apart. */
	put(c, "ab", "c", 1, 0, 60);
	assert_int_equal(get(c, "a", "bc", 1), MCACHE_MISS);
	assert_int_equal(get(c, "ab", "c", 1), 1);
	assert_int_equal(get(c, "ab", "d", 1), MCACHE_MISS);
	/* A new answer replaces the old one. */
	put(c, "ab", "c", 0, 1, 5);
	assert_int_equal(get(c, "ab", "c", 2), 0);
	assert_int_equal(mcache_count(c), 1);
	mcache_free(c);
}

static void
test_bound(void **state)
{
	struct mcache	*c = mcache_new(3, 1);
	char		 g[16];
	int		 i;

	(void)state;
	for (i = 0; i < 3; i++) {
		snprintf(g, sizeof(g), "g%d", i);
		put(c, "u", g, 1, 0, 100);
	}
	/* g0 is refreshed: the oldest is g1 now. */
	put(c, "u", "g0", 1, 1, 100);
	put(c, "u", "g3", 1, 1, 100);
	assert_int_equal(mcache_count(c), 3);
	assert_int_equal(get(c, "u", "g1", 2), MCACHE_MISS);
	assert_int_equal(get(c, "u", "g0", 2), 1);
	assert_int_equal(get(c, "u", "g2", 2), 1);
	assert_int_equal(get(c, "u", "g3", 2), 1);
	/* Many more: never past the bound. */
	for (i = 0; i < 1000; i++) {
		snprintf(g, sizeof(g), "x%d", i);
		put(c, "u", g, i & 1, 3, 100);
		assert_true(mcache_count(c) <= 3);
	}
	assert_int_equal(get(c, "u", "x999", 4), 1);
	mcache_free(c);
}

static void
test_expired_first(void **state)
{
	struct mcache	*c = mcache_new(10, 3);
	char		 g[16];
	int		 i;

	(void)state;
	for (i = 0; i < 5; i++) {
		snprintf(g, sizeof(g), "old%d", i);
		put(c, "u", g, 0, 0, 5);
	}
	/* At 6 they have expired: a put drops them from the head. */
	put(c, "u", "new", 1, 6, 66);
	assert_int_equal(mcache_count(c), 1);
	mcache_free(c);
	mcache_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_expired_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
