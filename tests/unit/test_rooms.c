/*
 * test_rooms.c: rooms.c: the index checked against a plain matrix model
 * through thousands of random joins and leaves, fan-out walks whose
 * callback closes sockets, and a large room.  (The room names' rules are
 * the gateway's: test_roomname.c.)
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rooms.h"

#define S(x)	x, sizeof(x) - 1

static void
test_basic(void **state)
{
	struct rooms	*r;
	char		 big[ROOMS_NAME_MAX + 1];
	int		 s1, s2;

	(void)state;
	rooms_free(NULL);
	r = rooms_new(1);
	assert_non_null(r);
	assert_int_equal(rooms_join(r, S("group:1"), &s1), 1);
	assert_int_equal(rooms_join(r, S("group:1"), &s1), 0);
	assert_int_equal(rooms_join(r, S("group:1"), &s2), 1);
	assert_int_equal(rooms_join(r, S("user:a"), &s1), 1);
	assert_int_equal(rooms_count(r, S("group:1")), 2);
	assert_int_equal(rooms_count(r, S("group:2")), 0);
	assert_int_equal(rooms_of_count(r, &s1), 2);
	assert_int_equal(rooms_total(r), 2);
	assert_true(rooms_is_member(r, S("user:a"), &s1));
	assert_false(rooms_is_member(r, S("user:a"), &s2));
	assert_false(rooms_is_member(r, S("user:b"), &s2));

	assert_int_equal(rooms_leave(r, S("group:1"), &s1), 1);
	assert_int_equal(rooms_leave(r, S("group:1"), &s1), 0);
	assert_int_equal(rooms_leave(r, S("group:9"), &s1), 0);
	assert_int_equal(rooms_leave(r, S("user:a"), &s2), 0);
	assert_int_equal(rooms_count(r, S("group:1")), 1);
	assert_int_equal(rooms_leave_all(r, &s2), 1);
	assert_int_equal(rooms_leave_all(r, &s2), 0);
	assert_int_equal(rooms_total(r), 1);	/* empty rooms go */
	assert_int_equal(rooms_leave(r, S("user:a"), &s1), 1);
	assert_int_equal(rooms_total(r), 0);
	assert_int_equal(rooms_of_count(r, &s1), 0);

	/* Bad arguments. */
	assert_int_equal(rooms_join(r, NULL, 3, &s1), -1);
	assert_int_equal(rooms_join(r, "", 0, &s1), -1);
	assert_int_equal(rooms_join(r, S("x"), NULL), -1);
	memset(big, 'x', sizeof(big));
	assert_int_equal(rooms_join(r, big, ROOMS_NAME_MAX, &s1), 1);
	assert_int_equal(rooms_join(r, big, ROOMS_NAME_MAX + 1, &s1), -1);
	assert_int_equal(rooms_count(r, big, ROOMS_NAME_MAX + 1), 0);
	/* Names are bytes: "a" and "a\0" are two rooms. */
	assert_int_equal(rooms_join(r, "a\0", 2, &s1), 1);
	assert_int_equal(rooms_join(r, "a", 1, &s1), 1);
	assert_int_equal(rooms_of_count(r, &s1), 3);
	rooms_free(r);	/* with members left: no leak */
}

/* The model: NS sockets x NR rooms. */
#define NS	40
#define NR	25

struct model {
	struct rooms	*r;
	int		 socks[NS];
	bool		 in[NS][NR];
	char		 names[NR][24];	/* "group:" and any int */
	int		 seen[NS];
	int		 rseen[NR];
};

static void
collect_sock(void *arg, void *sock)
{
	struct model	*m = arg;
	ptrdiff_t	 i = (int *)sock - m->socks;

	assert_true(i >= 0 && i < NS);
	m->seen[i]++;
}

static void
collect_room(void *arg, const char *name, size_t len)
{
	struct model	*m = arg;
	int		 i;

	assert_int_equal(name[len], '\0');
	for (i = 0; i < NR; i++) {
		if (strlen(m->names[i]) == len &&
		    memcmp(m->names[i], name, len) == 0) {
			m->rseen[i]++;
			return;
		}
	}
	fail_msg("unknown room %.*s", (int)len, name);
}

/* Every view of the index agrees with the model. */
static void
check_model(struct model *m)
{
	size_t	n, rooms = 0;
	int	s, i;

	for (i = 0; i < NR; i++) {
		memset(m->seen, 0, sizeof(m->seen));
		rooms_members(m->r, m->names[i], strlen(m->names[i]),
		    collect_sock, m);
		n = 0;
		for (s = 0; s < NS; s++) {
			assert_int_equal(m->seen[s], m->in[s][i] ? 1 : 0);
			assert_int_equal(rooms_is_member(m->r, m->names[i],
			    strlen(m->names[i]), &m->socks[s]), m->in[s][i]);
			n += m->in[s][i];
		}
		assert_int_equal(rooms_count(m->r, m->names[i],
		    strlen(m->names[i])), n);
		rooms += n > 0;
	}
	assert_int_equal(rooms_total(m->r), rooms);
	for (s = 0; s < NS; s++) {
		memset(m->rseen, 0, sizeof(m->rseen));
		rooms_of(m->r, &m->socks[s], collect_room, m);
		n = 0;
		for (i = 0; i < NR; i++) {
			assert_int_equal(m->rseen[i], m->in[s][i] ? 1 : 0);
			n += m->in[s][i];
		}
		assert_int_equal(rooms_of_count(m->r, &m->socks[s]), n);
	}
}

static void
test_model(void **state)
{
	struct model	*m;
	unsigned	 x = 12345;
	int		 op, s, i, k, rc;
	size_t		 n;

	(void)state;
	m = calloc(1, sizeof(*m));
	m->r = rooms_new(99);
	for (i = 0; i < NR; i++)
		snprintf(m->names[i], sizeof(m->names[i]), "group:%d", i);
	for (op = 0; op < 20000; op++) {
		x = x * 1103515245 + 12345;
		s = (int)((x >> 8) % NS);
		i = (int)((x >> 16) % NR);
		k = (int)((x >> 4) % 10);
		if (k < 6) {
			rc = rooms_join(m->r, m->names[i],
			    strlen(m->names[i]), &m->socks[s]);
			assert_int_equal(rc, m->in[s][i] ? 0 : 1);
			m->in[s][i] = true;
		} else if (k < 9) {
			rc = rooms_leave(m->r, m->names[i],
			    strlen(m->names[i]), &m->socks[s]);
			assert_int_equal(rc, m->in[s][i] ? 1 : 0);
			m->in[s][i] = false;
		} else {
			n = 0;
			for (i = 0; i < NR; i++) {
				n += m->in[s][i];
				m->in[s][i] = false;
			}
			assert_int_equal(rooms_leave_all(m->r, &m->socks[s]),
			    n);
		}
		if (op % 97 == 0)
			check_model(m);
	}
	check_model(m);
	for (s = 0; s < NS; s++) {
		rooms_leave_all(m->r, &m->socks[s]);
		memset(m->in[s], 0, sizeof(m->in[s]));
	}
	check_model(m);
	assert_int_equal(rooms_total(m->r), 0);
	rooms_free(m->r);
	free(m);
}

/* A walk whose callback closes the socket it is given (write error). */
struct closer {
	struct rooms	*r;
	int		 visits[64];
	int		*base;
	int		 mode;	/* 0: leave_all, 1: leave room, 2: others */
};

static void
close_cb(void *arg, void *sock)
{
	struct closer	*c = arg;
	ptrdiff_t	 i = (int *)sock - c->base;

	c->visits[i]++;
	if (c->mode == 0 && i % 2 == 0)
		rooms_leave_all(c->r, sock);
	else if (c->mode == 1)
		rooms_leave(c->r, S("group:walk"), sock);
	else if (c->mode == 2) {
		/* Arbitrary changes: memory-safe, order not promised. */
		rooms_leave(c->r, S("group:walk"), &c->base[(i * 7) % 64]);
		rooms_join(c->r, S("group:walk"), &c->base[(i * 3) % 64]);
		rooms_join(c->r, S("group:other"), sock);
	}
}

static void
test_walk_close(void **state)
{
	struct closer	 c;
	int		 socks[64], i;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.r = rooms_new(5);
	c.base = socks;
	for (i = 0; i < 64; i++) {
		rooms_join(c.r, S("group:walk"), &socks[i]);
		rooms_join(c.r, S("user:x"), &socks[i]);
	}
	rooms_members(c.r, S("group:walk"), close_cb, &c);
	for (i = 0; i < 64; i++)
		assert_int_equal(c.visits[i], 1);
	assert_int_equal(rooms_count(c.r, S("group:walk")), 32);
	assert_int_equal(rooms_count(c.r, S("user:x")), 32);

	/* Everyone leaves during the walk: the room goes after it. */
	memset(c.visits, 0, sizeof(c.visits));
	c.mode = 1;
	rooms_members(c.r, S("group:walk"), close_cb, &c);
	for (i = 0; i < 64; i++)
		assert_int_equal(c.visits[i], i % 2);
	assert_int_equal(rooms_count(c.r, S("group:walk")), 0);
	assert_int_equal(rooms_total(c.r), 1);
	rooms_members(c.r, S("group:walk"), close_cb, &c);	/* no room */

	c.mode = 2;
	for (i = 0; i < 64; i++)
		rooms_join(c.r, S("group:walk"), &socks[i]);
	rooms_members(c.r, S("group:walk"), close_cb, &c);
	rooms_free(c.r);
}

static void
count_sock(void *arg, void *sock)
{
	(void)sock;
	(*(size_t *)arg)++;
}

static void
test_big_room(void **state)
{
	struct rooms	*r;
	int		*socks;
	int		 i, n = 50000;
	size_t		 cnt = 0;

	(void)state;
	r = rooms_new(8);
	socks = calloc((size_t)n, sizeof(*socks));
	for (i = 0; i < n; i++) {
		assert_int_equal(rooms_join(r, S("group:big"), &socks[i]), 1);
		assert_int_equal(rooms_join(r, S("user:u"), &socks[i]), 1);
	}
	assert_int_equal(rooms_count(r, S("group:big")), (size_t)n);
	for (i = 0; i < n; i += 2)
		assert_int_equal(rooms_leave(r, S("group:big"), &socks[i]), 1);
	for (i = 0; i < n; i += 4)
		assert_int_equal(rooms_leave_all(r, &socks[i + 1]), 2);
	assert_int_equal(rooms_count(r, S("group:big")), (size_t)n / 4);
	assert_int_equal(rooms_count(r, S("user:u")), (size_t)n * 3 / 4);
	rooms_members(r, S("group:big"), count_sock, &cnt);
	assert_int_equal(cnt, (size_t)n / 4);
	for (i = 0; i < n; i++)
		rooms_leave_all(r, &socks[i]);
	assert_int_equal(rooms_total(r), 0);
	rooms_free(r);
	free(socks);
}

/* rooms_set_max(): a join past the cap changes nothing (issue 11.8). */
static void
test_cap(void **state)
{
	struct rooms	*r;
	int		 a, b;

	(void)state;
	r = rooms_new(3);
	rooms_set_max(r, 3);
	assert_int_equal(rooms_join(r, S("user:a"), &a), 1);
	assert_int_equal(rooms_join(r, S("group:1"), &a), 1);
	assert_int_equal(rooms_join(r, S("group:2"), &a), 1);
	assert_int_equal(rooms_join(r, S("group:3"), &a), ROOMS_JOIN_FULL);
	assert_int_equal(rooms_join(r, S("group:2"), &a), 0);
	assert_int_equal(rooms_of_count(r, &a), 3);
	assert_int_equal(rooms_count(r, S("group:3")), 0);
	assert_int_equal(rooms_total(r), 3);
	/* Another socket has its own cap. */
	assert_int_equal(rooms_join(r, S("group:3"), &b), 1);
	assert_int_equal(rooms_leave(r, S("group:1"), &a), 1);
	assert_int_equal(rooms_join(r, S("group:3"), &a), 1);
	assert_int_equal(rooms_count(r, S("group:3")), 2);
	rooms_set_max(r, 0);
	assert_int_equal(rooms_join(r, S("group:4"), &a), 1);
	rooms_free(r);
}

/*
 * Sockets in many rooms: the index of a socket's links stays right through
 * joins of new and existing rooms, leaves in a scattered order (each moves
 * the last link into the hole) and leave_all.
 */
static void
test_many_rooms(void **state)
{
	enum { N = 20000 };
	struct rooms	*r;
	char		 name[32];
	int		 a, b, i, n;
	unsigned	 j;

	(void)state;
	r = rooms_new(11);
	for (i = 0; i < N; i++) {
		n = snprintf(name, sizeof(name), "group:%d", i);
		assert_int_equal(rooms_join(r, name, (size_t)n, &a), 1);
	}
	for (i = 0; i < N; i++) {
		n = snprintf(name, sizeof(name), "group:%d", i);
		assert_int_equal(rooms_join(r, name, (size_t)n, &b), 1);
		assert_int_equal(rooms_join(r, name, (size_t)n, &a), 0);
	}
	/* Leave every other room, in a scattered order. */
	for (i = 0; i < N / 2; i++) {
		j = ((unsigned)i * 7919u) % (N / 2) * 2;
		n = snprintf(name, sizeof(name), "group:%u", j);
		assert_int_equal(rooms_leave(r, name, (size_t)n, &a), 1);
		assert_int_equal(rooms_leave(r, name, (size_t)n, &a), 0);
	}
	assert_int_equal(rooms_of_count(r, &a), N / 2);
	for (i = 0; i < N; i++) {
		n = snprintf(name, sizeof(name), "group:%d", i);
		assert_int_equal(rooms_is_member(r, name, (size_t)n, &a),
		    i % 2 == 1);
		assert_true(rooms_is_member(r, name, (size_t)n, &b));
		assert_int_equal(rooms_count(r, name, (size_t)n),
		    i % 2 == 1 ? 2 : 1);
	}
	assert_int_equal(rooms_leave_all(r, &a), N / 2);
	assert_int_equal(rooms_leave_all(r, &b), N);
	assert_int_equal(rooms_total(r), 0);
	rooms_free(r);
}

/* The hooks (issue 14): each room made and gone once, with its name. */
struct hooked {
	int	made, gone, each;
	char	last[32];
};

static void
on_made(void *arg, const char *name, size_t len)
{
	struct hooked	*h = arg;

	h->made++;
	snprintf(h->last, sizeof(h->last), "+%.*s", (int)len, name);
}

static void
on_gone(void *arg, const char *name, size_t len)
{
	struct hooked	*h = arg;

	h->gone++;
	snprintf(h->last, sizeof(h->last), "-%.*s", (int)len, name);
}

static void
on_each(void *arg, const char *name, size_t len)
{
	(void)name;
	assert_true(len > 0);
	((struct hooked *)arg)->each++;
}

static void
leave_in_walk(void *arg, void *sock)
{
	rooms_leave_all(arg, sock);
}

static void
test_hooks(void **state)
{
	struct rooms	*r;
	struct hooked	 h;
	int		 s1, s2;

	(void)state;
	memset(&h, 0, sizeof(h));
	r = rooms_new(3);
	assert_non_null(r);
	rooms_set_hooks(r, on_made, on_gone, &h);
	assert_int_equal(rooms_join(r, S("group:1"), &s1), 1);
	assert_string_equal(h.last, "+group:1");
	assert_int_equal(rooms_join(r, S("group:1"), &s2), 1);
	assert_int_equal(rooms_join(r, S("user:a"), &s1), 1);
	assert_int_equal(h.made, 2);
	rooms_each(r, on_each, &h);
	assert_int_equal(h.each, 2);
	assert_int_equal(rooms_leave(r, S("group:1"), &s1), 1);
	assert_int_equal(h.gone, 0);
	assert_int_equal(rooms_leave_all(r, &s1), 1);
	assert_string_equal(h.last, "-user:a");
	/* A walk that empties its room: gone once, when the walk ends. */
	rooms_members(r, S("group:1"), leave_in_walk, r);
	assert_int_equal(h.gone, 2);
	assert_string_equal(h.last, "-group:1");
	assert_int_equal(rooms_total(r), 0);
	assert_int_equal(h.made, 2);
	rooms_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_walk_close),
		cmocka_unit_test(test_big_room),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_many_rooms),
		cmocka_unit_test(test_hooks),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
