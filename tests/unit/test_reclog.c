/*
 * test_reclog.c: reclog.c, the host's recovery log in shared memory
 * (issue 15): the log's order, the offset patch, eviction and a cursor's
 * loss, scan and GONE, the offsets' parser, the session slots against a
 * model, and with fork(): concurrent appenders get one gap-free order,
 * and a process SIGKILLed inside a locked write leaves a region the next
 * locker repairs.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "reclog.h"

#define PH	"xxxxxxxxxxxxxxxxxxxxxxxx"

static struct reclog *
mk(size_t bytes, size_t sess)
{
	struct reclog	*rl;
	char		 err[128];

	rl = reclog_new(bytes, sess, 0xdeadbeef, err, sizeof(err));
	assert_non_null(rl);
	return rl;
}

/* Appends "<body>,"PH"]" to room, returns its seq. */
static uint64_t
add(struct reclog *rl, const char *room, const char *except, const char *body,
    int worker)
{
	struct reclog_put	 p;
	char			 f[512];
	uint64_t		 seq = 0;
	int			 n;

	n = snprintf(f, sizeof(f), "42[\"%s\",\"%s\"]", body, PH);
	memset(&p, 0, sizeof(p));
	p.to = RECLOG_TO_ROOM;
	p.worker = worker;
	p.room = room;
	p.rlen = strlen(room);
	p.except = except;
	p.elen = except != NULL ? strlen(except) : 0;
	p.frame = f;
	p.flen = (size_t)n;
	p.patch = n - 2 - RECLOG_OFF_LEN;
	assert_int_equal(reclog_append(rl, &p, &seq), 0);
	return seq;
}

struct got {
	size_t		 n;
	uint64_t	 seq[4096];
	char		 frame[4096][64];
	char		 room[4096][16];
	int		 has_except[4096];
	size_t		 stop_at;	/* stop after this many; 0: never */
};

static int
collect(void *arg, const struct reclog_ent *e)
{
	struct got	*g = arg;

	if (g->n < 4096) {
		g->seq[g->n] = e->seq;
		snprintf(g->frame[g->n], sizeof(g->frame[0]), "%.*s",
		    (int)e->flen, e->frame);
		snprintf(g->room[g->n], sizeof(g->room[0]), "%.*s",
		    (int)e->rlen, e->room);
		g->has_except[g->n] = e->except != NULL;
	}
	g->n++;
	return g->stop_at != 0 && g->n >= g->stop_at;
}

static void
test_append_read(void **state)
{
	struct reclog		*rl = mk(1 << 16, 8);
	struct reclog_cursor	 c;
	struct reclog_put	 p;
	struct got		*g = calloc(1, sizeof(*g));
	char			 off[RECLOG_OFF_LEN], f[64];
	uint64_t		 seq;

	(void)state;
	reclog_cursor_init(rl, &c);
	assert_int_equal(c.next, reclog_head(rl));
	assert_int_equal(reclog_read(rl, &c, 100, collect, g), 0);
	assert_int_equal(add(rl, "r1", NULL, "a", -1), 1);
	assert_int_equal(add(rl, "r2", "SID", "b", 3), 2);
	assert_int_equal(add(rl, "r1", NULL, "c", -1), 3);
	assert_int_equal(reclog_head(rl), 4);
	assert_int_equal(reclog_read(rl, &c, 100, collect, g), 3);
	assert_int_equal(c.next, 4);
	assert_int_equal(c.lost, 0);
	assert_int_equal(g->seq[0], 1);
	assert_int_equal(g->seq[2], 3);
	assert_string_equal(g->frame[0],
	    "42[\"a\",\"deadbeef0000000000000001\"]");
	assert_string_equal(g->frame[1],
	    "42[\"b\",\"deadbeef0000000000000002\"]");
	assert_string_equal(g->room[1], "r2");
	assert_int_equal(g->has_except[0], 0);
	assert_int_equal(g->has_except[1], 1);

	/* The caller's frame is patched too. */
	strcpy(f, "42[\"z\",\"" PH "\"]");
	memset(&p, 0, sizeof(p));
	p.to = RECLOG_TO_SOCKET;
	p.worker = -1;
	p.room = "abcdefghijklmnopqrst";
	p.rlen = 20;
	p.frame = f;
	p.flen = strlen(f);
	p.patch = 8;
	assert_int_equal(reclog_append(rl, &p, &seq), 0);
	reclog_format_off(rl, seq, off);
	assert_memory_equal(f + 8, off, RECLOG_OFF_LEN);
	assert_memory_equal(off, "deadbeef0000000000000004", RECLOG_OFF_LEN);
	/* No patch: the frame is kept as it is. */
	p.patch = -1;
	strcpy(f, "42[\"z\",\"" PH "\"]");
	assert_int_equal(reclog_append(rl, &p, &seq), 0);
	assert_string_equal(f, "42[\"z\",\"" PH "\"]");
	/* Refused puts. */
	p.patch = (long)p.flen - 3;
	assert_int_equal(reclog_append(rl, &p, &seq), -1);
	p.patch = -1;
	p.rlen = 0;
	assert_int_equal(reclog_append(rl, &p, &seq), -1);
	p.rlen = 20;
	p.to = 7;
	assert_int_equal(reclog_append(rl, &p, &seq), -1);

	/* A callback stops the walk after its entry. */
	g->n = 0;
	g->stop_at = 1;
	assert_int_equal(reclog_read(rl, &c, 100, collect, g), 1);
	assert_int_equal(c.next, 5);
	g->stop_at = 0;
	assert_int_equal(reclog_read(rl, &c, 1, collect, g), 1);
	assert_int_equal(reclog_read(rl, &c, 100, collect, g), 0);
	free(g);
	reclog_free(rl);
}

static void
test_offsets(void **state)
{
	struct reclog	*rl = mk(1 << 16, 8);
	char		 off[RECLOG_OFF_LEN];
	uint64_t	 seq = 0;

	(void)state;
	reclog_format_off(rl, 0x0123456789abcdefULL, off);
	assert_memory_equal(off, "deadbeef0123456789abcdef", RECLOG_OFF_LEN);
	assert_int_equal(reclog_parse_off(rl, off, RECLOG_OFF_LEN, &seq), 0);
	assert_true(seq == 0x0123456789abcdefULL);
	assert_int_equal(reclog_parse_off(rl, off, 23, &seq), -1);
	assert_int_equal(reclog_parse_off(rl, "deadbeef0123456789abcdef0",
	    25, &seq), -1);
	assert_int_equal(reclog_parse_off(rl, "DEADBEEF0123456789abcdef",
	    24, &seq), -1);
	assert_int_equal(reclog_parse_off(rl, "deadbeef0123456789abcdeg",
	    24, &seq), -1);
	assert_int_equal(reclog_parse_off(rl, "deadbeee0123456789abcdef",
	    24, &seq), -1);
	assert_int_equal(reclog_parse_off(rl, "deadbeef01234567\0009abcdef",
	    24, &seq), -1);
	assert_int_equal(reclog_parse_off(rl, NULL, 24, &seq), -1);
	assert_int_equal(reclog_epoch(rl), 0xdeadbeef);
	reclog_free(rl);
}

static void
test_evict_lost_scan(void **state)
{
	struct reclog		*rl = mk(4096, 8);
	struct reclog_cursor	 c, c2;
	struct reclog_stats	 st;
	struct reclog_put	 p;
	struct got		*g = calloc(1, sizeof(*g));
	char			 big[2048];
	uint64_t		 i, seq;
	int			 n;

	(void)state;
	reclog_cursor_init(rl, &c);
	reclog_cursor_init(rl, &c2);
	for (i = 0; i < 200; i++)
		add(rl, "room", NULL, "0123456789", -1);
	reclog_stats(rl, &st);
	assert_int_equal(st.appended, 200);
	assert_true(st.evicted > 0);
	assert_int_equal(st.entries + st.evicted, 200);
	assert_true(st.log_used <= st.log_bytes);
	assert_int_equal(st.log_bytes, 4096);

	/* The cursor fell behind: the gap is lost, the rest comes. */
	assert_int_equal(reclog_read(rl, &c, 1000, collect, g), st.entries);
	assert_int_equal(c.lost, st.evicted);
	assert_int_equal(c.next, 201);
	for (i = 1; i < g->n; i++)
		assert_int_equal(g->seq[i], g->seq[i - 1] + 1);
	assert_int_equal(g->seq[g->n - 1], 200);

	/* At most max at a time, and the loss counted once. */
	g->n = 0;
	assert_int_equal(reclog_read(rl, &c2, 3, collect, g), 3);
	assert_int_equal(c2.lost, st.evicted);
	assert_int_equal(g->seq[0], st.evicted + 1);

	/* Scan: (after, upto], GONE when after + 1 left the log. */
	g->n = 0;
	n = reclog_scan(rl, 195, 1000, collect, g);
	assert_int_equal(n, 5);
	assert_int_equal(g->seq[0], 196);
	assert_int_equal(g->seq[4], 200);
	assert_int_equal(reclog_scan(rl, 200, 200, collect, g), 0);
	assert_int_equal(reclog_scan(rl, 198, 199, collect, g), 1);
	assert_int_equal(reclog_scan(rl, st.evicted, 200, collect, g),
	    (int)st.entries);
	assert_int_equal(reclog_scan(rl, st.evicted - 1, 200, collect, g),
	    RECLOG_E_GONE);
	assert_int_equal(reclog_scan(rl, 0, 200, collect, g), RECLOG_E_GONE);
	assert_int_equal(reclog_scan(rl, 201, 300, collect, g),
	    RECLOG_E_GONE);
	assert_int_equal(reclog_scan(rl, UINT64_MAX, 300, collect, g),
	    RECLOG_E_GONE);
	g->n = 0;
	g->stop_at = 2;
	assert_int_equal(reclog_scan(rl, 190, 200, collect, g), 2);
	g->stop_at = 0;

	/* Over a quarter of the ring: refused and counted. */
	memset(big, 'x', sizeof(big));
	memset(&p, 0, sizeof(p));
	p.to = RECLOG_TO_ROOM;
	p.worker = -1;
	p.room = "r";
	p.rlen = 1;
	p.frame = big;
	p.flen = 1100;
	p.patch = -1;
	assert_int_equal(reclog_append(rl, &p, &seq), -1);
	reclog_stats(rl, &st);
	assert_int_equal(st.too_big, 1);
	/* Just under a quarter fits, evicting what it needs. */
	p.flen = 900;
	assert_int_equal(reclog_append(rl, &p, &seq), 0);
	assert_int_equal(seq, 201);
	g->n = 0;
	assert_int_equal(reclog_scan(rl, 200, 201, collect, g), 1);
	free(g);
	reclog_free(rl);
}

/* Many tiny entries: the entry index, not the bytes, is the bound. */
static void
test_index_bound(void **state)
{
	struct reclog		*rl = mk(4096, 1);
	struct reclog_cursor	 c;
	struct reclog_stats	 st;
	struct reclog_put	 p;
	struct got		*g = calloc(1, sizeof(*g));
	char			 f[2];
	uint64_t		 i, seq;

	(void)state;
	reclog_cursor_init(rl, &c);
	memset(&p, 0, sizeof(p));
	p.to = RECLOG_TO_ROOM;
	p.worker = -1;
	p.room = "r";
	p.rlen = 1;
	p.frame = f;
	p.flen = 1;
	p.patch = -1;
	for (i = 0; i < 1000; i++) {
		f[0] = (char)('a' + i % 26);
		assert_int_equal(reclog_append(rl, &p, &seq), 0);
		assert_int_equal(seq, i + 1);
		if (i % 7 == 0)
			reclog_read(rl, &c, 1000, collect, g);
	}
	reclog_read(rl, &c, 1000, collect, g);
	assert_int_equal(c.lost, 0);
	assert_int_equal(g->n, 1000);
	for (i = 0; i < g->n; i++) {
		assert_int_equal(g->seq[i], i + 1);
		assert_int_equal(g->frame[i][0], 'a' + i % 26);
	}
	reclog_stats(rl, &st);
	assert_int_equal(st.entries, 64);	/* 4096 / 64 */
	assert_int_equal(st.log_used, 64 * 48);
	free(g);
	reclog_free(rl);
}

static void
mksess(struct reclog_sess *s, const char *pid, const char *sid, int user,
    int wid)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->pid, sizeof(s->pid), "%s", pid);
	snprintf(s->sid, sizeof(s->sid), "%s", sid);
	memset(s->user, user, RECLOG_USER_HASH);
	s->worker = wid;
	s->state = RECLOG_LIVE;
	memcpy(s->rooms, "a\0bb\0", 5);
	s->rooms_len = 5;
}

static void
test_sessions(void **state)
{
	struct reclog		*rl = mk(1 << 16, 4);
	struct reclog_sess	 s, out;
	struct reclog_stats	 st;
	uint8_t			 u1[RECLOG_USER_HASH], u2[RECLOG_USER_HASH];
	uint64_t		 now = reclog_now_ms();
	char			 longpid[64];

	(void)state;
	memset(u1, 1, sizeof(u1));
	memset(u2, 2, sizeof(u2));
	mksess(&s, "pid1", "sid1", 1, 0);
	assert_int_equal(reclog_sess_put(rl, &s), 0);
	assert_int_equal(reclog_sess_put(rl, &s), 0);	/* update */
	mksess(&s, "pid2", "sid2", 2, 1);
	assert_int_equal(reclog_sess_put(rl, &s), 0);
	s.rooms_len = RECLOG_ROOMS_BYTES + 1;
	assert_int_equal(reclog_sess_put(rl, &s), RECLOG_E_ROOMS);
	reclog_stats(rl, &st);
	assert_int_equal(st.sessions, 2);
	assert_int_equal(st.sessions_max, 4);
	assert_int_equal(st.parked, 0);

	/* take: every refusal. */
	assert_int_equal(reclog_sess_take(rl, "nope", u1, 5, 1000, &out),
	    RECLOG_E_NOSESSION);
	memset(longpid, 'p', sizeof(longpid) - 1);
	longpid[63] = '\0';
	assert_int_equal(reclog_sess_take(rl, longpid, u1, 5, 1000, &out),
	    RECLOG_E_NOSESSION);
	assert_int_equal(reclog_sess_take(rl, "", u1, 5, 1000, &out),
	    RECLOG_E_NOSESSION);
	assert_int_equal(reclog_sess_take(rl, "pid1", u1, 5, 1000, &out),
	    RECLOG_E_LIVE);
	/* Another user's: USER before LIVE (a takeover's check, issue 15). */
	assert_int_equal(reclog_sess_take(rl, "pid1", u2, 5, 1000, &out),
	    RECLOG_E_USER);
	/* get: a copy, live or not; nothing changes. */
	assert_int_equal(reclog_sess_get(rl, "nope", &out), RECLOG_E_NOSESSION);
	assert_int_equal(reclog_sess_get(rl, "", &out), RECLOG_E_NOSESSION);
	assert_int_equal(reclog_sess_get(rl, longpid, &out),
	    RECLOG_E_NOSESSION);
	assert_int_equal(reclog_sess_get(rl, "pid1", &out), 0);
	assert_int_equal(out.state, RECLOG_LIVE);
	assert_int_equal(out.worker, 0);
	assert_string_equal(out.sid, "sid1");
	assert_memory_equal(out.user, u1, RECLOG_USER_HASH);
	assert_int_equal(reclog_sess_park(rl, "pid1", now), 0);
	assert_int_equal(reclog_sess_get(rl, "pid1", &out), 0);
	assert_int_equal(out.state, RECLOG_PARKED);
	assert_int_equal(reclog_sess_park(rl, "pid1", now), 0);
	assert_int_equal(reclog_sess_park(rl, "nope", now), RECLOG_E_NOSESSION);
	reclog_stats(rl, &st);
	assert_int_equal(st.parked, 1);
	assert_int_equal(reclog_sess_take(rl, "pid1", u2, 5, 60000, &out),
	    RECLOG_E_USER);
	/* USER keeps it. */
	assert_int_equal(reclog_sess_take(rl, "pid1", u1, 5, 60000, &out), 0);
	assert_string_equal(out.sid, "sid1");
	assert_string_equal(out.pid, "pid1");
	assert_int_equal(out.worker, 0);	/* who served it */
	assert_int_equal(out.state, RECLOG_LIVE);
	assert_int_equal(out.rooms_len, 5);
	assert_memory_equal(out.rooms, "a\0bb\0", 5);
	assert_int_equal(reclog_sess_take(rl, "pid1", u1, 5, 60000, &out),
	    RECLOG_E_LIVE);
	reclog_stats(rl, &st);
	assert_int_equal(st.parked, 0);

	/* Expired: refused and dropped. */
	assert_int_equal(reclog_sess_park(rl, "pid2", now - 5000), 0);
	assert_int_equal(reclog_sess_take(rl, "pid2", u2, 5, 1000, &out),
	    RECLOG_E_EXPIRED);
	assert_int_equal(reclog_sess_take(rl, "pid2", u2, 5, 1000, &out),
	    RECLOG_E_NOSESSION);

	/* Drop. */
	assert_int_equal(reclog_sess_drop(rl, "pid1"), 0);
	assert_int_equal(reclog_sess_drop(rl, "pid1"), RECLOG_E_NOSESSION);
	reclog_stats(rl, &st);
	assert_int_equal(st.sessions, 0);

	/* Full. */
	mksess(&s, "a", "s", 1, 0);
	assert_int_equal(reclog_sess_put(rl, &s), 0);
	mksess(&s, "b", "s", 1, 1);
	assert_int_equal(reclog_sess_put(rl, &s), 0);
	mksess(&s, "c", "s", 1, 0);
	assert_int_equal(reclog_sess_put(rl, &s), 0);
	mksess(&s, "d", "s", 1, 1);
	assert_int_equal(reclog_sess_put(rl, &s), 0);
	mksess(&s, "e", "s", 1, 0);
	assert_int_equal(reclog_sess_put(rl, &s), RECLOG_E_FULL);
	mksess(&s, "d", "s2", 1, 1);	/* an update still fits */
	assert_int_equal(reclog_sess_put(rl, &s), 0);

	/* A worker goes: its live slots are parked at now. */
	assert_int_equal(reclog_worker_gone(rl, 0, now - 10000), 2);
	assert_int_equal(reclog_worker_gone(rl, 0, now), 0);
	assert_int_equal(reclog_sess_park(rl, "b", now), 0);
	reclog_stats(rl, &st);
	assert_int_equal(st.parked, 3);
	assert_int_equal(reclog_sess_take(rl, "b", u1, 2, 60000, &out), 0);
	/* expire drops the parked ones older than the limit only. */
	assert_int_equal(reclog_expire(rl, now, 5000), 2);
	assert_int_equal(reclog_expire(rl, now, 5000), 0);
	reclog_stats(rl, &st);
	assert_int_equal(st.sessions, 2);
	assert_int_equal(st.parked, 0);
	assert_int_equal(reclog_sess_take(rl, "a", u1, 2, 60000, &out),
	    RECLOG_E_NOSESSION);
	assert_int_equal(reclog_sess_take(rl, "d", u1, 2, 60000, &out),
	    RECLOG_E_LIVE);
	assert_int_equal(reclog_sess_park(rl, "d", now), 0);
	assert_int_equal(reclog_sess_take(rl, "d", u1, 2, 60000, &out), 0);
	assert_string_equal(out.sid, "s2");

	/* Hostile slots put by a caller: refused. */
	mksess(&s, "", "s", 1, 0);
	assert_true(reclog_sess_put(rl, &s) < 0);
	mksess(&s, "x", "s", 1, 0);
	s.state = 9;
	assert_true(reclog_sess_put(rl, &s) < 0);
	reclog_free(rl);
}

/*
 * The expiry walks only when a parked slot may be due (issue 16), and
 * still drops each one at its time; a slot moved into a dropped one keeps
 * its rooms, which live apart from it.
 */
static void
test_expiry_bound(void **state)
{
	struct reclog		*rl = mk(1 << 16, 8);
	struct reclog_sess	 s, out;
	struct reclog_stats	 st;
	uint8_t			 u1[RECLOG_USER_HASH];
	uint64_t		 t = reclog_now_ms();

	(void)state;
	memset(u1, 1, sizeof(u1));
	assert_int_equal(reclog_expire(rl, t, 100), 0);	/* none */
	mksess(&s, "a", "sa", 1, 0);
	assert_int_equal(reclog_sess_put(rl, &s), 0);
	mksess(&s, "b", "sb", 1, 0);
	s.rooms_len = 0;	/* no rooms */
	assert_int_equal(reclog_sess_put(rl, &s), 0);
	mksess(&s, "c", "sc", 1, 0);
	memcpy(s.rooms, "zz\0", 3);
	s.rooms_len = 3;
	s.state = RECLOG_PARKED;
	s.since_ms = t + 700;	/* parked by a put */
	assert_int_equal(reclog_sess_put(rl, &s), 0);
	assert_int_equal(reclog_sess_park(rl, "a", t), 0);
	assert_int_equal(reclog_sess_park(rl, "b", t + 500), 0);
	assert_int_equal(reclog_expire(rl, t + 100, 100), 0);
	assert_int_equal(reclog_expire(rl, t + 101, 100), 1);	/* a */
	assert_int_equal(reclog_expire(rl, t + 101, 100), 0);
	assert_int_equal(reclog_expire(rl, t + 600, 100), 0);
	assert_int_equal(reclog_expire(rl, t + 601, 100), 1);	/* b */
	reclog_stats(rl, &st);
	assert_int_equal(st.sessions, 1);
	assert_int_equal(st.parked, 1);
	/* c moved twice into a dropped slot: its rooms came along. */
	assert_int_equal(reclog_sess_take(rl, "c", u1, 3, 60000, &out), 0);
	assert_string_equal(out.sid, "sc");
	assert_int_equal(out.rooms_len, 3);
	assert_memory_equal(out.rooms, "zz\0", 3);
	assert_int_equal(out.rooms[3], 0);
	/* Parked again, later: due at its own time, not before. */
	assert_int_equal(reclog_sess_park(rl, "c", t + 5000), 0);
	assert_int_equal(reclog_expire(rl, t + 5100, 100), 0);
	assert_int_equal(reclog_expire(rl, t + 5101, 100), 1);
	reclog_stats(rl, &st);
	assert_int_equal(st.sessions, 0);
	assert_int_equal(st.parked, 0);
	reclog_free(rl);
}

/* Random puts, parks, drops and takes against a plain model. */
static void
test_sessions_model(void **state)
{
	enum { N = 64, P = 200 };
	struct reclog		*rl = mk(1 << 16, N);
	struct reclog_sess	 s, out;
	struct reclog_stats	 st;
	uint8_t			 u[RECLOG_USER_HASH];
	int			 model[P];	/* 0 none, 1 live, 2 parked */
	char			 pid[32];
	int			 i, k, rc, live;
	size_t			 count;

	(void)state;
	memset(model, 0, sizeof(model));
	memset(u, 7, sizeof(u));
	srand(42);
	for (i = 0; i < 20000; i++) {
		k = rand() % P;
		snprintf(pid, sizeof(pid), "p%d", k);
		switch (rand() % 4) {
		case 0:
			mksess(&s, pid, "sid", 7, 1);
			for (count = 0, live = 0; live < P; live++)
				count += model[live] != 0;
			rc = reclog_sess_put(rl, &s);
			if (model[k] == 0 && count >= N) {
				assert_int_equal(rc, RECLOG_E_FULL);
			} else {
				assert_int_equal(rc, 0);
				model[k] = 1;
			}
			break;
		case 1:
			rc = reclog_sess_park(rl, pid, reclog_now_ms());
			assert_int_equal(rc, model[k] ? 0 : RECLOG_E_NOSESSION);
			if (model[k])
				model[k] = 2;
			break;
		case 2:
			rc = reclog_sess_drop(rl, pid);
			assert_int_equal(rc, model[k] ? 0 : RECLOG_E_NOSESSION);
			model[k] = 0;
			break;
		default:
			rc = reclog_sess_take(rl, pid, u, 3, 60000, &out);
			if (model[k] == 0)
				assert_int_equal(rc, RECLOG_E_NOSESSION);
			else if (model[k] == 1)
				assert_int_equal(rc, RECLOG_E_LIVE);
			else {
				assert_int_equal(rc, 0);
				assert_string_equal(out.pid, pid);
				model[k] = 1;
			}
		}
	}
	reclog_stats(rl, &st);
	for (count = 0, live = 0, k = 0; k < P; k++) {
		count += model[k] != 0;
		live += model[k] == 2;
	}
	assert_int_equal(st.sessions, count);
	assert_int_equal(st.parked, live);
	reclog_free(rl);
}

/* Two processes append at once: one order, no gap, each one's in order. */
static void
test_fork_concurrent(void **state)
{
	enum { PER = 3000 };
	struct reclog		*rl = mk(1 << 20, 4);
	struct reclog_cursor	 c;
	struct got		*g = calloc(1, sizeof(*g));
	pid_t			 kids[2];
	int			 k, i, st, last[2] = { -1, -1 }, who, num;
	size_t			 got = 0, n;
	char			 body[32];

	(void)state;
	reclog_cursor_init(rl, &c);
	for (k = 0; k < 2; k++) {
		kids[k] = fork();
		assert_true(kids[k] >= 0);
		if (kids[k] == 0) {
			for (i = 0; i < PER; i++) {
				snprintf(body, sizeof(body), "%d:%d", k, i);
				add(rl, "r", NULL, body, -1);
			}
			_exit(0);
		}
	}
	/* Read while they write: a torn entry would break the parse. */
	while (got < 2 * PER) {
		g->n = 0;
		n = reclog_read(rl, &c, 4096, collect, g);
		for (i = 0; i < (int)n; i++) {
			assert_int_equal(g->seq[i], got + 1);
			assert_int_equal(sscanf(g->frame[i], "42[\"%d:%d\"",
			    &who, &num), 2);
			assert_true(who == 0 || who == 1);
			assert_int_equal(num, last[who] + 1);
			last[who] = num;
			got++;
		}
	}
	for (k = 0; k < 2; k++) {
		assert_int_equal(waitpid(kids[k], &st, 0), kids[k]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(c.lost, 0);
	assert_int_equal(reclog_head(rl), 2 * PER + 1);
	free(g);
	reclog_free(rl);
}

static void
die(int where)
{
	static int	 want;

	if (where < 0) {
		want = -where;
		return;
	}
	if (where == want)
		raise(SIGKILL);
}

/* A child killed at `where` inside a locked write. */
static void
kill_inside(struct reclog *rl, int where, int sess)
{
	struct reclog_sess	 s;
	pid_t			 kid;
	int			 st;

	kid = fork();
	assert_true(kid >= 0);
	if (kid == 0) {
		die(-where);
		reclog_test_hook = die;
		if (sess) {
			mksess(&s, "killed", "sidk", 1, 0);
			reclog_sess_put(rl, &s);
			mksess(&s, "other", "sido", 1, 0);
			reclog_sess_put(rl, &s);
		} else
			add(rl, "r", NULL, "dying", -1);
		_exit(0);
	}
	assert_int_equal(waitpid(kid, &st, 0), kid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

static void
test_kill_mid_write(void **state)
{
	struct reclog		*rl = mk(4096, 4);
	struct reclog_cursor	 c;
	struct reclog_stats	 st;
	struct reclog_sess	 s, out;
	struct got		*g = calloc(1, sizeof(*g));
	uint8_t			 u[RECLOG_USER_HASH];
	uint64_t		 i;

	(void)state;
	memset(u, 1, sizeof(u));
	for (i = 0; i < 30; i++)
		add(rl, "r", NULL, "before", -1);
	reclog_cursor_init(rl, &c);
	c.next = 1;

	/* Killed with the entry half copied: it never was. */
	kill_inside(rl, 1, 0);
	reclog_stats(rl, &st);
	assert_int_equal(st.repaired, 1);
	assert_int_equal(st.appended, 30);
	assert_int_equal(add(rl, "r", NULL, "after1", -1), 31);

	/* Killed after the commit, before the head moved: it was. */
	kill_inside(rl, 2, 0);
	assert_int_equal(add(rl, "r", NULL, "after2", -1), 33);
	reclog_stats(rl, &st);
	assert_int_equal(st.repaired, 2);
	assert_true(st.log_used <= st.log_bytes);

	reclog_read(rl, &c, 1000, collect, g);
	assert_int_equal(g->n + c.lost, 33);
	for (i = 1; i < g->n; i++)
		assert_int_equal(g->seq[i], g->seq[i - 1] + 1);
	assert_string_equal(g->frame[g->n - 3],
	    "42[\"after1\",\"deadbeef000000000000001f\"]");
	assert_string_equal(g->frame[g->n - 2],
	    "42[\"dying\",\"deadbeef0000000000000020\"]");
	assert_string_equal(g->frame[g->n - 1],
	    "42[\"after2\",\"deadbeef0000000000000021\"]");
	for (i = 0; i < 100; i++)
		add(rl, "r", NULL, "wrap", -1);
	g->n = 0;
	reclog_read(rl, &c, 1000, collect, g);
	assert_string_equal(g->frame[g->n - 1],
	    "42[\"wrap\",\"deadbeef0000000000000085\"]");

	/* Killed mid session write: the slot is whole, the index found. */
	mksess(&s, "first", "sidf", 1, 0);
	assert_int_equal(reclog_sess_put(rl, &s), 0);
	kill_inside(rl, 3, 1);
	reclog_stats(rl, &st);
	assert_int_equal(st.repaired, 3);
	assert_int_equal(st.sessions, 2);
	assert_int_equal(reclog_sess_park(rl, "killed", reclog_now_ms()), 0);
	assert_int_equal(reclog_sess_take(rl, "killed", u, 1, 60000, &out), 0);
	assert_string_equal(out.sid, "sidk");
	assert_int_equal(reclog_sess_drop(rl, "first"), 0);
	assert_int_equal(reclog_sess_park(rl, "killed", reclog_now_ms()), 0);
	assert_int_equal(reclog_sess_take(rl, "killed", u, 1, 60000, &out), 0);
	assert_int_equal(reclog_sess_drop(rl, "other"), RECLOG_E_NOSESSION);
	free(g);
	reclog_free(rl);
}

static void
test_new_refused(void **state)
{
	char	 err[128];

	(void)state;
	assert_null(reclog_new(100, 4, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "log size"));
	assert_null(reclog_new(1 << 16, 0, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "sessions"));
	reclog_free(NULL);
}

/*
 * Issue 15, across hosts: an entry keeps its appender's wid (origin), and
 * a slot can be read without being changed (reclog_sess_get).
 */
static int
origin_of(void *arg, const struct reclog_ent *e)
{
	*(int *)arg = e->origin;
	return 1;
}

static void
test_origin_get(void **state)
{
	struct reclog		*rl = mk(1 << 16, 4);
	struct reclog_put	 p;
	struct reclog_sess	 s, out;
	char			 f[64];
	uint64_t		 seq;
	int			 n, origin = -1;

	(void)state;
	n = snprintf(f, sizeof(f), "42[\"x\",\"%s\"]", PH);
	memset(&p, 0, sizeof(p));
	p.to = RECLOG_TO_ROOM;
	p.worker = -1;
	p.origin = 258;
	p.room = "r";
	p.rlen = 1;
	p.frame = f;
	p.flen = (size_t)n;
	p.patch = n - 2 - RECLOG_OFF_LEN;
	assert_int_equal(reclog_append(rl, &p, &seq), 0);
	assert_int_equal(reclog_scan(rl, seq - 1, seq, origin_of, &origin), 1);
	assert_int_equal(origin, 258);
	mksess(&s, "pid1", "sid1", 1, 3);
	assert_int_equal(reclog_sess_get(rl, "pid1", &out), RECLOG_E_NOSESSION);
	assert_int_equal(reclog_sess_put(rl, &s), 0);
	assert_int_equal(reclog_sess_park(rl, "pid1", 1234), 0);
	assert_int_equal(reclog_sess_get(rl, "pid1", &out), 0);
	assert_string_equal(out.sid, "sid1");
	assert_int_equal(out.worker, s.worker);
	assert_int_equal(out.state, RECLOG_PARKED);
	assert_int_equal(out.since_ms, 1234);
	/* Unchanged by the read: still parked, still there. */
	assert_int_equal(reclog_sess_get(rl, "pid1", &out), 0);
	assert_int_equal(out.state, RECLOG_PARKED);
	reclog_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_read),
		cmocka_unit_test(test_origin_get),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_evict_lost_scan),
		cmocka_unit_test(test_index_bound),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_sessions_model),
		cmocka_unit_test(test_expiry_bound),
		cmocka_unit_test(test_fork_concurrent),
		cmocka_unit_test(test_kill_mid_write),
		cmocka_unit_test(test_new_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
