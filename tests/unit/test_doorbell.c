/*
 * test_doorbell.c: doorbell.c (issue 16): a worker's bell in a mkdtemp
 * directory, rung by others on the same loop: each ring wakes the
 * ringer's peers once per loop wake however many rang, a bell that is not
 * there is counted as missed (the caller then uses the bus), a full bell
 * is not an error, peers past the bound are refused, and a freed bell's
 * file is gone.
 */
#include <sys/stat.h>

#include <ev.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "doorbell.h"

static char	 dir[] = "/tmp/test_doorbell.XXXXXX";
static int	 woken[3];

static void
on_bell(void *arg)
{
	woken[(intptr_t)arg]++;
}

/* Let the loop hear what is pending (bounded). */
static void
spin(struct ev_loop *loop)
{
	int	i;

	for (i = 0; i < 5; i++)
		ev_run(loop, EVRUN_NOWAIT);
}

static void
test_ring(void **state)
{
	struct ev_loop		*loop = ev_loop_new(EVFLAG_AUTO);
	struct doorbell		*a, *b, *c;
	struct doorbell_stats	 st;
	char			 path[256];
	struct stat		 sb;
	int			 peers[] = { 1, 2, 3, 9 };
	int			 i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_non_null(a = doorbell_new(loop, dir, 1, on_bell, (void *)0));
	assert_non_null(b = doorbell_new(loop, dir, 2, on_bell, (void *)1));
	assert_non_null(c = doorbell_new(loop, dir, 3, on_bell, (void *)2));
	/* Ourselves left out; 9 has no bell: missed. */
	assert_int_equal(doorbell_npeers(a), 0);
	assert_int_equal(doorbell_set_peers(a, peers, 4), 0);
	assert_int_equal(doorbell_npeers(a), 3);
	assert_int_equal(doorbell_ring(a), 1);
	spin(loop);
	assert_int_equal(woken[0], 0);
	assert_int_equal(woken[1], 1);
	assert_int_equal(woken[2], 1);
	doorbell_stats(a, &st);
	assert_int_equal(st.rung, 2);
	assert_int_equal(st.missed, 1);
	doorbell_stats(b, &st);
	assert_int_equal(st.heard, 1);

	/* Many rings before the loop runs: a full bell is no error. */
	assert_int_equal(doorbell_set_peers(a, peers, 2), 0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(doorbell_ring(a), 0);
	spin(loop);
	assert_true(woken[1] >= 2);
	assert_int_equal(woken[2], 1);

	/* A stale bell of a dead worker of the same id is replaced. */
	doorbell_free(c);
	snprintf(path, sizeof(path), "%s/bell-3", dir);
	assert_int_equal(stat(path, &sb), -1);
	assert_non_null(c = doorbell_new(loop, dir, 3, on_bell, (void *)2));
	assert_non_null(b);
	doorbell_free(a);
	doorbell_free(b);
	doorbell_free(c);
	ev_loop_destroy(loop);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_bounds(void **state)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct doorbell	*a;
	static int	 many[DOORBELL_PEERS_MAX + 2];
	char		 longdir[200], tmp[] = "/tmp/test_doorbell.XXXXXX";
	size_t		 i;

	(void)state;
	assert_non_null(mkdtemp(tmp));
	for (i = 0; i < DOORBELL_PEERS_MAX + 2; i++)
		many[i] = (int)i;
	memset(longdir, 'x', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	assert_null(doorbell_new(loop, longdir, 1, on_bell, NULL));
	assert_null(doorbell_new(loop, tmp, -1, on_bell, NULL));
	assert_non_null(a = doorbell_new(loop, tmp, 0, on_bell, NULL));
	/* 514 wids, ours (0) among them: one too many; 513 fit. */
	assert_int_equal(doorbell_set_peers(a, many, DOORBELL_PEERS_MAX + 2),
	    -1);
	assert_int_equal(doorbell_set_peers(a, many, DOORBELL_PEERS_MAX + 1),
	    0);
	doorbell_free(a);
	ev_loop_destroy(loop);
	assert_int_equal(rmdir(tmp), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring),
		cmocka_unit_test(test_bounds),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
