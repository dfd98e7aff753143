/*
 * test_presence.c: presence.c: local and remote counts, the ONLINE and
 * OFFLINE moments, three simulated workers repairing lost deltas with
 * digests, dead workers, the digest format byte for byte, garbage digests
 * refused without a change, and 100,000 users on 16 workers; summaries
 * (issue 16): equal while nothing is lost, different after a lost delta,
 * equal again once the asked-for digest is applied; their wire format.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "presence.h"
#include "presence_digest.h"

/* What the callbacks heard, "+alice" / "-bob", in order. */
struct heard {
	char	 log[4096];
	int	 on, off;
};

static void
heard_on(void *arg, const char *user)
{
	struct heard	*h = arg;

	h->on++;
	strncat(h->log, "+", sizeof(h->log) - strlen(h->log) - 1);
	strncat(h->log, user, sizeof(h->log) - strlen(h->log) - 1);
	strncat(h->log, " ", sizeof(h->log) - strlen(h->log) - 1);
}

static void
heard_off(void *arg, const char *user)
{
	struct heard	*h = arg;

	h->off++;
	strncat(h->log, "-", sizeof(h->log) - strlen(h->log) - 1);
	strncat(h->log, user, sizeof(h->log) - strlen(h->log) - 1);
	strncat(h->log, " ", sizeof(h->log) - strlen(h->log) - 1);
}

static void
count_cb(void *arg, const char *user)
{
	(void)user;
	(*(size_t *)arg)++;
}

/* Sends p's whole digest to q as worker wid would; cap per part. */
static void
send_digest(struct presence *p, unsigned wid, struct presence *q,
    size_t cap, struct heard *h)
{
	struct presence_digest_cursor	 c;
	uint8_t				*buf;
	size_t				 len;
	int				 rc;

	buf = malloc(cap);
	assert_non_null(buf);
	presence_digest_begin(p, &c);
	do {
		rc = presence_digest(p, &c, buf, cap, &len);
		assert_true(rc >= 0);
		assert_true(len <= cap);
		assert_int_equal(presence_apply_digest(q, wid, buf, len,
		    heard_on, heard_off, h), 0);
	} while (rc == 1);
	free(buf);
}

/* Sends p's summary (as worker wid) to q through the wire format. */
static int
send_summary(struct presence *p, unsigned wid, struct presence *q)
{
	struct presence_summary_msg	 m, back;
	uint8_t				 buf[PRESENCE_SUMMARY_MAX];
	size_t				 len;

	memset(&m, 0, sizeof(m));
	m.wid = (uint16_t)wid;
	presence_summary(p, &m.sum);
	len = presence_summary_encode(buf, &m);
	assert_int_equal(presence_summary_decode(buf, len, &back), 0);
	assert_int_equal(back.wid, wid);
	return (presence_check_summary(q, wid, &back.sum));
}

static void
test_summary(void **state)
{
	struct presence	*a, *b;
	struct heard	 h;
	uint16_t	 asks[PRESENCE_SUMMARY_ASKS];
	char		 name[16];
	int		 i;

	(void)state;
	memset(&h, 0, sizeof(h));
	a = presence_new(1, 7);
	b = presence_new(2, 99);	/* another table seed: same sums */
	assert_non_null(a);
	assert_non_null(b);
	/* Empty, and every delta heard: equal; nobody to ask. */
	assert_int_equal(send_summary(a, 1, b), 0);
	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "u%d", i % 20);
		assert_true(presence_local_add(a, name) >= 0);
		assert_true(presence_remote_add(b, 1, name) >= 0);
	}
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		assert_true(presence_local_del(a, name) >= 0);
		assert_true(presence_remote_del(b, 1, name) >= 0);
	}
	assert_int_equal(send_summary(a, 1, b), 0);
	assert_int_equal(presence_asks(b, asks, PRESENCE_SUMMARY_ASKS), 0);
	/* A lost add, then a lost del of another user: different. */
	assert_true(presence_local_add(a, "lost") >= 0);
	assert_true(presence_local_del(a, "u15") >= 0);
	assert_int_equal(send_summary(a, 1, b), 1);
	assert_int_equal(presence_asks(b, asks, PRESENCE_SUMMARY_ASKS), 1);
	assert_int_equal(asks[0], 1);
	assert_int_equal(presence_asks(b, asks, PRESENCE_SUMMARY_ASKS), 0);
	/* The whole digest repairs it, and the summaries agree again. */
	send_digest(a, 1, b, 1024, &h);
	assert_int_equal(presence_total_count(b, "lost"), 1);
	assert_int_equal(send_summary(a, 1, b), 0);
	/* The same counts reached another way agree too. */
	assert_true(presence_remote_del(b, 1, "lost") >= 0);
	assert_int_equal(send_summary(a, 1, b), 1);
	assert_true(presence_remote_add(b, 1, "lost") >= 0);
	assert_int_equal(send_summary(a, 1, b), 0);
	/* A dead worker: nothing held of it. */
	assert_true(presence_drop_worker(b, 1, NULL, NULL) >= 0);
	assert_int_equal(send_summary(a, 1, b), 1);
	/* Our own id, or past the range: refused. */
	{
		struct presence_sum z = { 0, 0 };

		assert_int_equal(presence_check_summary(b, 2, &z), -1);
		assert_int_equal(presence_check_summary(b,
		    PRESENCE_WID_MAX + 1, &z), -1);
	}
	presence_free(a);
	presence_free(b);
}

static void
test_summary_wire(void **state)
{
	struct presence_summary_msg	 m, back;
	uint8_t				 buf[PRESENCE_SUMMARY_MAX + 2];
	size_t				 len;
	int				 i;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.wid = 4095;
	m.sum.hash = 0x0102030405060708ULL;
	m.sum.sockets = 0x1112131415161718ULL;
	m.nasks = 2;
	m.asks[0] = 3;
	m.asks[1] = 4095;
	len = presence_summary_encode(buf, &m);
	assert_int_equal(len, PRESENCE_SUMMARY_HDR + 4);
	{
		static const uint8_t want[] = { 1, 0x0f, 0xff, 1, 2, 3, 4, 5,
		    6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
		    0, 2, 0, 3, 0x0f, 0xff };

		assert_memory_equal(buf, want, sizeof(want));
	}
	assert_int_equal(presence_summary_decode(buf, len, &back), 0);
	assert_int_equal(back.wid, 4095);
	assert_true(back.sum.hash == m.sum.hash);
	assert_true(back.sum.sockets == m.sum.sockets);
	assert_int_equal(back.nasks, 2);
	assert_int_equal(back.asks[1], 4095);
	/* Short, long, bad version, bad ids, too many asks. */
	for (i = 0; i < (int)len; i++)
		assert_int_equal(presence_summary_decode(buf, (size_t)i, &back),
		    -1);
	assert_int_equal(presence_summary_decode(buf, len + 1, &back), -1);
	assert_int_equal(presence_summary_decode(NULL, len, &back), -1);
	buf[0] = 2;
	assert_int_equal(presence_summary_decode(buf, len, &back), -1);
	buf[0] = 1;
	buf[1] = 0x10;
	assert_int_equal(presence_summary_decode(buf, len, &back), -1);
	buf[1] = 0x0f;
	buf[len - 2] = 0x10;
	assert_int_equal(presence_summary_decode(buf, len, &back), -1);
	buf[len - 2] = 0x0f;
	buf[19] = 0;
	buf[20] = PRESENCE_SUMMARY_ASKS + 1;
	assert_int_equal(presence_summary_decode(buf, len, &back), -1);
}

static void
test_new_free(void **state)
{
	struct presence	*p;

	(void)state;
	assert_null(presence_new(PRESENCE_WID_MAX + 1, 0));
	p = presence_new(PRESENCE_WID_MAX, 1);
	assert_non_null(p);
	assert_int_equal(presence_count(p), 0);
	presence_free(p);
	presence_free(NULL);
}

static void
test_local(void **state)
{
	struct presence	*p;
	char		 id[PRESENCE_USER_MAX + 2];

	(void)state;
	p = presence_new(0, 42);
	assert_int_equal(presence_local_add(p, "alice"), PRESENCE_ONLINE);
	assert_int_equal(presence_local_add(p, "alice"), PRESENCE_NOCHANGE);
	assert_int_equal(presence_local_add(p, "bob"), PRESENCE_ONLINE);
	assert_true(presence_online(p, "alice"));
	assert_false(presence_online(p, "carol"));
	assert_int_equal(presence_local_count(p, "alice"), 2);
	assert_int_equal(presence_total_count(p, "alice"), 2);
	assert_int_equal(presence_count(p), 2);
	assert_int_equal(presence_local_users(p), 2);
	assert_int_equal(presence_local_del(p, "alice"), PRESENCE_NOCHANGE);
	assert_int_equal(presence_local_del(p, "alice"), PRESENCE_OFFLINE);
	assert_false(presence_online(p, "alice"));
	assert_int_equal(presence_local_del(p, "alice"), -1);
	assert_int_equal(presence_local_del(p, "nobody"), -1);
	assert_int_equal(presence_count(p), 1);
	assert_int_equal(presence_local_users(p), 1);

	/* Ids: 1..128 bytes of UTF-8. */
	assert_int_equal(presence_local_add(p, NULL), -1);
	assert_int_equal(presence_local_add(p, ""), -1);
	assert_int_equal(presence_local_add(p, "\xff"), -1);
	assert_int_equal(presence_local_add(p, "a\xc3"), -1);
	assert_int_equal(presence_local_add(p, "caf\xc3\xa9"),
	    PRESENCE_ONLINE);
	memset(id, 'x', sizeof(id));
	id[PRESENCE_USER_MAX] = '\0';
	assert_int_equal(presence_local_add(p, id), PRESENCE_ONLINE);
	assert_true(presence_online(p, id));
	id[PRESENCE_USER_MAX] = 'x';
	id[PRESENCE_USER_MAX + 1] = '\0';
	assert_int_equal(presence_local_add(p, id), -1);
	assert_false(presence_online(p, id));
	assert_false(presence_online(p, NULL));
	assert_int_equal(presence_local_count(p, id), 0);
	assert_int_equal(presence_total_count(p, "nobody"), 0);
	presence_free(p);
}

static void
test_remote(void **state)
{
	struct presence	*p;

	(void)state;
	p = presence_new(2, 0);
	assert_int_equal(presence_remote_add(p, 2, "u"), -1);	/* self */
	assert_int_equal(presence_remote_add(p, PRESENCE_WID_MAX + 1, "u"),
	    -1);
	assert_int_equal(presence_remote_del(p, 2, "u"), -1);
	assert_int_equal(presence_remote_add(p, 1, ""), -1);
	assert_int_equal(presence_count(p), 0);

	assert_int_equal(presence_remote_add(p, 1, "u"), PRESENCE_ONLINE);
	assert_int_equal(presence_remote_add(p, 3, "u"), PRESENCE_NOCHANGE);
	assert_int_equal(presence_local_add(p, "u"), PRESENCE_NOCHANGE);
	assert_int_equal(presence_remote_add(p, 1, "u"), PRESENCE_NOCHANGE);
	assert_int_equal(presence_total_count(p, "u"), 4);
	assert_int_equal(presence_local_count(p, "u"), 1);
	assert_int_equal(presence_local_users(p), 1);
	/* A del whose add was lost changes nothing. */
	assert_int_equal(presence_remote_del(p, 7, "u"), PRESENCE_NOCHANGE);
	assert_int_equal(presence_remote_del(p, 7, "v"), PRESENCE_NOCHANGE);
	assert_int_equal(presence_remote_del(p, 1, "u"), PRESENCE_NOCHANGE);
	assert_int_equal(presence_remote_del(p, 1, "u"), PRESENCE_NOCHANGE);
	assert_int_equal(presence_local_del(p, "u"), PRESENCE_NOCHANGE);
	assert_int_equal(presence_remote_del(p, 1, "u"), PRESENCE_NOCHANGE);
	assert_int_equal(presence_remote_del(p, 3, "u"), PRESENCE_OFFLINE);
	assert_int_equal(presence_count(p), 0);
	assert_int_equal(presence_local_users(p), 0);
	presence_free(p);
}

/* One user on many workers: the pair array grows and shrinks back. */
static void
test_many_workers(void **state)
{
	struct presence	*p;
	struct heard	 h;
	unsigned	 w;

	(void)state;
	memset(&h, 0, sizeof(h));
	p = presence_new(0, 7);
	for (w = 1; w <= 40; w++)
		assert_int_equal(presence_remote_add(p, w, "u"),
		    w == 1 ? PRESENCE_ONLINE : PRESENCE_NOCHANGE);
	assert_int_equal(presence_total_count(p, "u"), 40);
	for (w = 40; w >= 3; w--)
		assert_int_equal(presence_remote_del(p, w, "u"),
		    PRESENCE_NOCHANGE);
	assert_int_equal(presence_total_count(p, "u"), 2);
	assert_int_equal(presence_remote_add(p, 9, "u"), PRESENCE_NOCHANGE);
	assert_int_equal(presence_drop_worker(p, 1, heard_off, &h), 0);
	assert_int_equal(presence_drop_worker(p, 2, heard_off, &h), 0);
	assert_int_equal(presence_drop_worker(p, 0, heard_off, &h), -1);
	assert_int_equal(presence_drop_worker(p, 9, heard_off, &h), 1);
	assert_string_equal(h.log, "-u ");
	assert_int_equal(presence_count(p), 0);
	presence_free(p);
}

/*
 * Three workers and a bus that can lose a delta.  Each worker hears
 * user_connected / user_disconnected moments through its own struct heard.
 */
struct cluster {
	struct presence	*w[3];
	struct heard	 h[3];
};

static void
deliver(struct cluster *c, unsigned from, const char *user, bool add,
    int lose_to)
{
	unsigned	i;
	int		rc;

	for (i = 0; i < 3; i++) {
		if (i == from || (int)i == lose_to || c->w[i] == NULL)
			continue;
		rc = add ? presence_remote_add(c->w[i], from, user) :
		    presence_remote_del(c->w[i], from, user);
		assert_true(rc >= 0);
		if (rc == PRESENCE_ONLINE)
			heard_on(&c->h[i], user);
		else if (rc == PRESENCE_OFFLINE)
			heard_off(&c->h[i], user);
	}
}

static void
connect_user(struct cluster *c, unsigned wid, const char *user, int lose_to)
{
	if (presence_local_add(c->w[wid], user) == PRESENCE_ONLINE)
		heard_on(&c->h[wid], user);
	deliver(c, wid, user, true, lose_to);
}

static void
disconnect_user(struct cluster *c, unsigned wid, const char *user,
    int lose_to)
{
	if (presence_local_del(c->w[wid], user) == PRESENCE_OFFLINE)
		heard_off(&c->h[wid], user);
	deliver(c, wid, user, false, lose_to);
}

static void
test_three_workers(void **state)
{
	struct cluster	c;
	unsigned	i;

	(void)state;
	memset(&c, 0, sizeof(c));
	for (i = 0; i < 3; i++)
		c.w[i] = presence_new(i, 100 + i);

	connect_user(&c, 0, "alice", -1);
	connect_user(&c, 1, "alice", -1);
	connect_user(&c, 1, "bob", -1);
	for (i = 0; i < 3; i++) {
		assert_int_equal(presence_count(c.w[i]), 2);
		assert_string_equal(c.h[i].log, "+alice +bob ");
		c.h[i].log[0] = '\0';
	}

	/* Worker 2 misses worker 1's "carol +1". */
	connect_user(&c, 1, "carol", 2);
	assert_true(presence_online(c.w[0], "carol"));
	assert_false(presence_online(c.w[2], "carol"));
	/* Worker 2 misses worker 0's "alice -1": alice is still on 1. */
	disconnect_user(&c, 0, "alice", 2);
	assert_int_equal(presence_total_count(c.w[2], "alice"), 2);
	/* Worker 2 misses worker 1's "bob -1": bob stays online there. */
	disconnect_user(&c, 1, "bob", 2);
	assert_false(presence_online(c.w[0], "bob"));
	assert_true(presence_online(c.w[2], "bob"));
	assert_string_equal(c.h[0].log, "+carol -bob ");
	assert_string_equal(c.h[2].log, "");

	/* The digests repair all three. */
	send_digest(c.w[1], 1, c.w[2], 1024, &c.h[2]);
	assert_string_equal(c.h[2].log, "+carol -bob ");
	send_digest(c.w[0], 0, c.w[2], 1024, &c.h[2]);
	assert_string_equal(c.h[2].log, "+carol -bob ");
	assert_int_equal(presence_total_count(c.w[2], "alice"), 1);
	/* A digest that changes nothing calls nothing. */
	send_digest(c.w[2], 2, c.w[0], 1024, &c.h[0]);
	send_digest(c.w[1], 1, c.w[0], 1024, &c.h[0]);
	assert_string_equal(c.h[0].log, "+carol -bob ");
	for (i = 0; i < 3; i++)
		assert_int_equal(presence_count(c.w[i]), 2);

	/* Worker 1 dies: alice and carol were only there. */
	c.h[0].log[0] = c.h[2].log[0] = '\0';
	connect_user(&c, 2, "dave", -1);
	assert_int_equal(presence_drop_worker(c.w[0], 1, heard_off, &c.h[0]),
	    2);
	assert_int_equal(presence_drop_worker(c.w[2], 1, heard_off, &c.h[2]),
	    2);
	assert_true(strcmp(c.h[0].log, "+dave -alice -carol ") == 0 ||
	    strcmp(c.h[0].log, "+dave -carol -alice ") == 0);
	assert_true(strcmp(c.h[2].log, "+dave -alice -carol ") == 0 ||
	    strcmp(c.h[2].log, "+dave -carol -alice ") == 0);
	assert_int_equal(presence_count(c.w[0]), 1);
	assert_true(presence_online(c.w[0], "dave"));
	/* Dropping it again is harmless. */
	assert_int_equal(presence_drop_worker(c.w[0], 1, NULL, NULL), 0);
	for (i = 0; i < 3; i++)
		presence_free(c.w[i]);
}

/* The format of presence.h, byte for byte. */
static void
test_digest_bytes(void **state)
{
	static const uint8_t	 want[] = {
		1, PRESENCE_DIGEST_LAST, 0x01, 0x02,	/* wid 258 */
		0, 0, 0, 1,				/* id */
		0, 0,					/* part */
		0, 0, 0, 1,				/* entries */
		0xac, 0x02, 5, 'a', 'l', 'i', 'c', 'e'	/* 300 */
	};
	struct presence			*p, *q;
	struct presence_digest_cursor	 c;
	struct heard			 h;
	uint8_t				 buf[PRESENCE_DIGEST_MIN];
	size_t				 len;
	int				 i;

	(void)state;
	p = presence_new(258, 1);
	q = presence_new(0, 2);
	memset(&h, 0, sizeof(h));
	for (i = 0; i < 300; i++)
		presence_local_add(p, "alice");
	presence_remote_add(p, 3, "bob");	/* not ours: not sent */
	presence_digest_begin(p, &c);
	assert_int_equal(presence_digest(p, &c, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(presence_digest(p, &c, buf, sizeof(buf), &len), -1);
	assert_int_equal(presence_apply_digest(q, 258, buf, len, heard_on,
	    heard_off, &h), 0);
	assert_int_equal(presence_total_count(q, "alice"), 300);
	assert_string_equal(h.log, "+alice ");

	/* An empty table: one last part, no entry; ids count up. */
	presence_free(p);
	p = presence_new(7, 1);
	presence_digest_begin(p, &c);
	presence_digest_begin(p, &c);
	assert_int_equal(presence_digest(p, &c, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, PRESENCE_DIGEST_HDR);
	assert_memory_equal(buf, "\x01\x01\x00\x07\x00\x00\x00\x02"
	    "\x00\x00\x00\x00\x00\x00", PRESENCE_DIGEST_HDR);

	/* A cap below the minimum, a table that changed midway. */
	presence_digest_begin(p, &c);
	assert_int_equal(presence_digest(p, &c, buf, PRESENCE_DIGEST_MIN - 1,
	    &len), -1);
	presence_local_add(p, "x");
	assert_int_equal(presence_digest(p, &c, buf, sizeof(buf), &len), -1);
	presence_free(p);
	presence_free(q);
}

/* Fills p with n local users "u<i>" and k sockets each. */
static void
fill(struct presence *p, const char *prefix, int n, int k)
{
	char	id[32];
	int	i, j;

	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%s%d", prefix, i);
		for (j = 0; j < k; j++)
			assert_true(presence_local_add(p, id) >= 0);
	}
}

static void
test_digest_parts(void **state)
{
	struct presence			*p, *q;
	struct presence_digest_cursor	 c;
	struct heard			 h;
	uint8_t				 buf[PRESENCE_DIGEST_MIN], part2[256];
	size_t				 len, len2, parts = 0;
	int				 rc;

	(void)state;
	p = presence_new(1, 5);
	q = presence_new(0, 6);
	fill(p, "user-", 200, 2);
	memset(&h, 0, sizeof(h));
	/* Worker 0 believes in stale users of 1 that the digest removes. */
	presence_remote_add(q, 1, "ghost1");
	presence_remote_add(q, 1, "ghost2");
	presence_remote_add(q, 1, "user-7");	/* count 1, really 2 */
	presence_local_add(q, "ghost2");	/* also on 0: stays */
	presence_digest_begin(p, &c);
	do {
		rc = presence_digest(p, &c, buf, sizeof(buf), &len);
		assert_true(rc >= 0);
		parts++;
		assert_int_equal(presence_apply_digest(q, 1, buf, len, NULL,
		    heard_off, &h), 0);
		if (rc == 1)	/* nothing removed before the last part */
			assert_int_equal(h.off, 0);
	} while (rc == 1);
	assert_true(parts > 10);
	assert_string_equal(h.log, "-ghost1 ");
	memset(&h, 0, sizeof(h));
	send_digest(p, 1, q, sizeof(buf), &h);
	assert_string_equal(h.log, "");
	assert_int_equal(presence_count(q), 201);
	assert_int_equal(presence_total_count(q, "user-7"), 2);
	assert_int_equal(presence_total_count(q, "ghost2"), 1);
	assert_false(presence_online(q, "ghost1"));

	/* A lost part cancels the removal; the next digest does it. */
	presence_remote_add(q, 1, "ghost3");
	presence_digest_begin(p, &c);
	presence_digest(p, &c, buf, sizeof(buf), &len);
	assert_int_equal(presence_apply_digest(q, 1, buf, len, NULL, NULL,
	    NULL), 0);
	presence_digest(p, &c, buf, sizeof(buf), &len);	/* lost */
	while ((rc = presence_digest(p, &c, buf, sizeof(buf), &len)) >= 0) {
		assert_int_equal(presence_apply_digest(q, 1, buf, len, NULL,
		    NULL, NULL), 0);
		if (rc == 0)
			break;
	}
	assert_true(presence_online(q, "ghost3"));
	send_digest(p, 1, q, sizeof(buf), &h);
	assert_false(presence_online(q, "ghost3"));
	assert_string_equal(h.log, "-ghost3 ");

	/* A delta from 1 in the middle of its digest cancels it too. */
	memset(&h, 0, sizeof(h));
	presence_remote_add(q, 1, "ghost4");
	presence_digest_begin(p, &c);
	presence_digest(p, &c, buf, sizeof(buf), &len);
	presence_apply_digest(q, 1, buf, len, NULL, NULL, NULL);
	presence_remote_add(q, 1, "late");
	while ((rc = presence_digest(p, &c, buf, sizeof(buf), &len)) >= 0) {
		presence_apply_digest(q, 1, buf, len, NULL, heard_off, &h);
		if (rc == 0)
			break;
	}
	assert_true(presence_online(q, "ghost4"));
	assert_true(presence_online(q, "late"));
	assert_string_equal(h.log, "");

	/* A repeated part 0 restarts; a part from another digest cancels. */
	presence_digest_begin(p, &c);
	presence_digest(p, &c, buf, sizeof(buf), &len);
	presence_digest(p, &c, part2, sizeof(part2), &len2);
	presence_apply_digest(q, 1, buf, len, NULL, NULL, NULL);
	presence_apply_digest(q, 1, buf, len, NULL, NULL, NULL);
	part2[7] ^= 1;	/* another id */
	presence_apply_digest(q, 1, part2, len2, NULL, NULL, NULL);
	while ((rc = presence_digest(p, &c, buf, sizeof(buf), &len)) >= 0) {
		presence_apply_digest(q, 1, buf, len, NULL, heard_off, &h);
		if (rc == 0)
			break;
	}
	assert_true(presence_online(q, "ghost4"));
	send_digest(p, 1, q, 65536, &h);
	assert_false(presence_online(q, "ghost4"));
	assert_false(presence_online(q, "late"));
	assert_int_equal(presence_count(q), 201);
	presence_free(p);
	presence_free(q);
}

/* Every malformed part is refused and changes nothing. */
static void
test_digest_garbage(void **state)
{
	static const struct {
		const char	*why;
		size_t		 len;
		const char	*d;
	} bad[] = {
#define HDR(flags, wid, n) "\x01" flags "\x00" wid "\x00\x00\x00\x09" \
	"\x00\x00" "\x00\x00\x00" n
		{ "empty", 0, "" },
		{ "short header", 13, HDR("\x01", "\x01", "") },
		{ "version 0", 14, "\x00\x01\x00\x01\x00\x00\x00\x09"
		    "\x00\x00\x00\x00\x00\x00" },
		{ "version 2", 14, "\x02\x01\x00\x01\x00\x00\x00\x09"
		    "\x00\x00\x00\x00\x00\x00" },
		{ "unknown flag", 14, HDR("\x03", "\x01", "\x00") },
		{ "wid 4096", 14, "\x01\x01\x10\x00\x00\x00\x00\x09"
		    "\x00\x00\x00\x00\x00\x00" },
		{ "other wid", 14, HDR("\x01", "\x02", "\x00") },
		{ "header names worker 0", 14, HDR("\x01", "\x00", "\x00") },
		{ "entry missing", 14, HDR("\x01", "\x01", "\x01") },
		{ "too many entries", 17, HDR("\x01", "\x01", "\x02")
		    "\x01\x01u" },
		{ "trailing byte", 18, HDR("\x01", "\x01", "\x01")
		    "\x01\x01ux" },
		{ "count 0", 17, HDR("\x01", "\x01", "\x01") "\x00\x01u" },
		{ "count not shortest", 18, HDR("\x01", "\x01", "\x01")
		    "\x81\x00\x01u" },
		{ "count 2^32", 21, HDR("\x01", "\x01", "\x01")
		    "\x80\x80\x80\x80\x10\x01u" },
		{ "count of 6 bytes", 22, HDR("\x01", "\x01", "\x01")
		    "\x81\x80\x80\x80\x80\x01\x01u" },
		{ "count truncated", 15, HDR("\x01", "\x01", "\x01") "\x81" },
		{ "name length 0", 17, HDR("\x01", "\x01", "\x01")
		    "\x01\x00u" },
		{ "name length 129", 17, HDR("\x01", "\x01", "\x01")
		    "\x01\x81u" },
		{ "name truncated", 17, HDR("\x01", "\x01", "\x01")
		    "\x01\x02u" },
		{ "no name length", 15, HDR("\x01", "\x01", "\x01") "\x01" },
		{ "NUL in name", 18, HDR("\x01", "\x01", "\x01")
		    "\x01\x02u\x00" },
		{ "bad UTF-8", 18, HDR("\x01", "\x01", "\x01")
		    "\x01\x02u\xc3" },
		{ "second entry bad", 20, HDR("\x01", "\x01", "\x02")
		    "\x01\x01u\x00\x01v" },
#undef HDR
	};
	struct presence	*q;
	struct heard	 h;
	size_t		 i, n = 0;

	(void)state;
	q = presence_new(0, 3);
	presence_remote_add(q, 1, "stale");
	memset(&h, 0, sizeof(h));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (presence_apply_digest(q, 1, (const uint8_t *)bad[i].d,
		    bad[i].len, heard_on, heard_off, &h) != -1)
			fail_msg("accepted: %s", bad[i].why);
		assert_int_equal(h.on + h.off, 0);
		assert_int_equal(presence_count(q), 1);
		assert_true(presence_online(q, "stale"));
	}
	assert_int_equal(presence_apply_digest(q, 1, NULL, 0, NULL, NULL,
	    NULL), -1);
	/* A digest claiming to be from this worker itself. */
	assert_int_equal(presence_apply_digest(q, 0, (const uint8_t *)
	    "\x01\x01\x00\x00\x00\x00\x00\x09\x00\x00\x00\x00\x00\x00",
	    14, NULL, NULL, NULL), -1);
	assert_int_equal(presence_apply_digest(q, 4096,
	    (const uint8_t *)"\x01\x01\x10\x00\x00\x00\x00\x09"
	    "\x00\x00\x00\x00\x00\x00", 14, NULL, NULL, NULL), -1);
	/* And the well-formed version of the last one is taken. */
	assert_int_equal(presence_apply_digest(q, 1, (const uint8_t *)
	    "\x01\x01\x00\x01\x00\x00\x00\x09\x00\x00\x00\x00\x00\x02"
	    "\x01\x01u\x03\x01v", 20, heard_on, heard_off, &h), 0);
	assert_string_equal(h.log, "+u +v -stale ");
	assert_int_equal(presence_total_count(q, "v"), 3);
	presence_list(q, count_cb, &n);
	assert_int_equal(n, 2);
	presence_free(q);
}

struct names {
	char	seen[8][8];
	int	n;
};

static void
names_cb(void *arg, const char *user)
{
	struct names	*nm = arg;

	assert_true(nm->n < 8);
	snprintf(nm->seen[nm->n++], sizeof(nm->seen[0]), "%s", user);
}

static void
test_list(void **state)
{
	struct presence	*p;
	struct names	 nm;
	int		 i, a = 0, b = 0, c = 0;

	(void)state;
	memset(&nm, 0, sizeof(nm));
	p = presence_new(0, 9);
	presence_local_add(p, "a");
	presence_remote_add(p, 5, "b");
	presence_local_add(p, "c");
	presence_remote_add(p, 5, "c");
	presence_list(p, names_cb, &nm);
	assert_int_equal(nm.n, 3);
	for (i = 0; i < nm.n; i++) {
		a += strcmp(nm.seen[i], "a") == 0;
		b += strcmp(nm.seen[i], "b") == 0;
		c += strcmp(nm.seen[i], "c") == 0;
	}
	assert_true(a == 1 && b == 1 && c == 1);
	presence_free(p);
}

/*
 * 100,000 users on 16 workers, as worker 0 sees them: local users and
 * deltas, then a full digest exchange, then every worker but 0 dies.
 */
static void
test_load(void **state)
{
	struct presence	*w0, *w5, *mirror;
	struct heard	 h;
	char		 id[32];
	size_t		 n = 0;
	int		 i;

	(void)state;
	w0 = presence_new(0, 11);
	w5 = presence_new(5, 12);
	mirror = presence_new(9, 13);
	for (i = 0; i < 100000; i++) {
		snprintf(id, sizeof(id), "user-%d", i);
		if (i % 16 == 0) {
			assert_true(presence_local_add(w0, id) >= 0);
			assert_true(presence_remote_add(w5, 0, id) >= 0);
		} else if (i % 16 == 5) {
			assert_true(presence_local_add(w5, id) >= 0);
			assert_true(presence_remote_add(w0, 5, id) >= 0);
		} else {
			assert_int_equal(presence_remote_add(w0, i % 16, id),
			    PRESENCE_ONLINE);
			assert_true(presence_remote_add(w5, i % 16, id) >= 0);
		}
		/* Every tenth user also has a socket on worker 3. */
		if (i % 10 == 0 && i % 16 != 3) {
			assert_true(presence_remote_add(w0, 3, id) >= 0);
			assert_true(presence_remote_add(w5, 3, id) >= 0);
		}
	}
	assert_int_equal(presence_count(w0), 100000);
	assert_int_equal(presence_count(w5), 100000);
	assert_int_equal(presence_local_users(w0), 6250);
	presence_list(w0, count_cb, &n);
	assert_int_equal(n, 100000);

	/* Digests of 64 KiB parts, both ways, change nothing. */
	memset(&h, 0, sizeof(h));
	send_digest(w0, 0, w5, 65536, &h);
	send_digest(w5, 5, w0, 65536, &h);
	assert_int_equal(h.on + h.off, 0);
	/* A third table learns exactly worker 0's users from its digest. */
	send_digest(w0, 0, mirror, 65536, &h);
	assert_int_equal(h.on, 6250);
	assert_int_equal(presence_count(mirror), 6250);

	for (i = 1; i < 16; i++)
		presence_drop_worker(w0, (unsigned)i, NULL, NULL);
	assert_int_equal(presence_count(w0), 6250);
	assert_true(presence_online(w0, "user-16"));
	assert_false(presence_online(w0, "user-5"));
	for (i = 0; i < 100000; i += 16) {
		snprintf(id, sizeof(id), "user-%d", i);
		assert_int_equal(presence_local_del(w0, id), PRESENCE_OFFLINE);
	}
	assert_int_equal(presence_count(w0), 0);
	/* An empty digest from 0 empties the mirror. */
	memset(&h, 0, sizeof(h));
	send_digest(w0, 0, mirror, 65536, &h);
	assert_int_equal(h.off, 6250);
	assert_int_equal(presence_count(mirror), 0);
	presence_free(w0);
	presence_free(w5);
	presence_free(mirror);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_free),
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_remote),
		cmocka_unit_test(test_many_workers),
		cmocka_unit_test(test_three_workers),
		cmocka_unit_test(test_digest_bytes),
		cmocka_unit_test(test_digest_parts),
		cmocka_unit_test(test_digest_garbage),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_summary_wire),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
