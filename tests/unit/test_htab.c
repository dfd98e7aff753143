/*
 * test_htab.c: htab.c: records with chosen hashes so that probe runs
 * collide and wrap around the end of the table, checked against a model
 * through random inserts, removals and sweeps; growth and shrinking; the
 * keyed hash.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "htab.h"

struct rec {
	uint32_t	 hash;
	int		 key;
	int		 visits;
};

#define NREC	600

static bool
rec_eq(const void *e, const void *k)
{
	return (((const struct rec *)e)->key == *(const int *)k);
}

static struct rec *
find(struct htab *t, struct rec *all, int key, size_t *idx)
{
	return (htab_find(t, all[key].hash, rec_eq, &key, idx));
}

static void
check(struct htab *t, struct rec *all, const bool *in)
{
	size_t	n = 0;
	int	k;

	for (k = 0; k < NREC; k++) {
		if (in[k]) {
			assert_ptr_equal(find(t, all, k, NULL), &all[k]);
			n++;
		} else
			assert_null(find(t, all, k, NULL));
	}
	assert_int_equal(t->n, n);
	assert_true(t->n * 4 <= t->cap * 3);
}

struct sweeper {
	bool	*in;
	int	 mod;
};

static bool
sweep_cb(void *arg, void *e)
{
	struct sweeper	*s = arg;
	struct rec	*r = e;

	r->visits++;
	if (r->key % s->mod != 0)
		return (false);
	s->in[r->key] = false;
	return (true);
}

static void
test_model(void **state)
{
	struct htab	 t;
	struct rec	*all;
	struct sweeper	 sw;
	bool		 in[NREC], was[NREC];
	unsigned	 x = 777;
	size_t		 idx;
	int		 op, k;

	(void)state;
	all = calloc(NREC, sizeof(*all));
	memset(in, 0, sizeof(in));
	assert_int_equal(htab_init(&t, 1), 0);
	for (k = 0; k < NREC; k++) {
		all[k].key = k;
		/* Hashes near 0 and near 2^32: runs that wrap at any cap. */
		all[k].hash = (k % 3 == 0) ? (uint32_t)(k % 5) :
		    (uint32_t)(0u - 1 - (unsigned)(k % 7));
	}
	for (op = 0; op < 30000; op++) {
		x = x * 1103515245 + 12345;
		k = (int)((x >> 8) % NREC);
		if ((x >> 20) % 3 != 0) {
			if (!in[k]) {
				assert_int_equal(htab_insert(&t, &all[k]), 0);
				in[k] = true;
			}
		} else if (in[k]) {
			assert_non_null(find(&t, all, k, &idx));
			htab_remove(&t, idx);
			in[k] = false;
		}
		if (op % 1000 == 999) {
			for (k = 0; k < NREC; k++)
				all[k].visits = 0;
			memcpy(was, in, sizeof(in));
			sw.in = in;
			sw.mod = 2 + (int)((x >> 4) % 5);
			htab_sweep(&t, sweep_cb, &sw);
			/* Each record seen once, whatever moved. */
			for (k = 0; k < NREC; k++)
				assert_int_equal(all[k].visits, was[k]);
		}
		if (op % 97 == 0)
			check(&t, all, in);
	}
	check(&t, all, in);
	sw.in = in;
	sw.mod = 1;
	htab_sweep(&t, sweep_cb, &sw);
	check(&t, all, in);
	assert_int_equal(t.cap, HTAB_MIN);
	htab_free(&t);
	free(all);
}

/* Spread hashes: the table grows, then shrinks back as records go. */
static void
test_grow_shrink(void **state)
{
	struct htab	 t;
	struct rec	*all;
	size_t		 idx;
	int		 k;

	(void)state;
	all = calloc(NREC, sizeof(*all));
	assert_int_equal(htab_init(&t, 2), 0);
	for (k = 0; k < NREC; k++) {
		all[k].key = k;
		all[k].hash = htab_hash(&t, &k, sizeof(k));
		assert_int_equal(htab_insert(&t, &all[k]), 0);
	}
	assert_int_equal(t.cap, 1024);
	for (k = 0; k < NREC; k++) {
		assert_non_null(find(&t, all, k, &idx));
		htab_remove(&t, idx);
	}
	assert_int_equal(t.n, 0);
	assert_int_equal(t.cap, HTAB_MIN);
	htab_free(&t);
	free(all);
}

static void
test_hash(void **state)
{
	struct htab	a, b;
	uint32_t	h[65];
	char		buf[64];
	int		i, j, same = 0;

	(void)state;
	htab_init(&a, 1);
	htab_init(&b, 2);
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i <= 64; i++) {
		h[i] = htab_hash(&a, buf, (size_t)i);
		assert_int_equal(h[i], htab_hash(&a, buf, (size_t)i));
		same += h[i] == htab_hash(&b, buf, (size_t)i);
		for (j = 0; j < i; j++)
			assert_int_not_equal(h[i], h[j]);
	}
	assert_true(same < 2);
	assert_int_not_equal(htab_hash(&a, "ab", 2), htab_hash(&a, "ba", 2));
	assert_int_equal(htab_hash_ptr(&a, buf), htab_hash_ptr(&a, buf));
	assert_int_not_equal(htab_hash_ptr(&a, buf),
	    htab_hash_ptr(&a, buf + 8));
	assert_int_not_equal(htab_hash_ptr(&a, buf),
	    htab_hash_ptr(&b, buf));
	htab_free(&a);
	htab_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_grow_shrink),
		cmocka_unit_test(test_hash),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
