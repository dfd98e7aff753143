/*
 * libFuzzer harness for reclog.c (issue 15).  If the first byte is even,
 * the rest is an offset string a client sent: reclog_parse_off() must
 * accept exactly the 24 lowercase hex characters of this log's epoch, and
 * what it accepts must format back to the same bytes.  If it is odd, each
 * further byte (with the ones after it as arguments) is an operation on a
 * small region (a 4 KiB ring, 8 session slots): append, read with one of
 * two cursors, scan, and the session calls, checked against a plain
 * model:
 *  - seqs are handed out 1, 2, 3...; a reader sees them in order, each
 *    once, with the frame that was appended (its offset patched in), and
 *    entries it did not see are exactly its `lost`;
 *  - scan hands on (after, upto] or says GONE exactly when after + 1 is
 *    no longer held;
 *  - the session calls answer what the model says, and the stats agree.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reclog.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define EPOCH	0x0badcafe
#define NPID	12
#define NSLOT	8
#define MAXOPS	4096

struct model {
	struct reclog		*rl;
	uint16_t		 flen[MAXOPS + 2];	/* by seq */
	uint64_t		 next;			/* seq expected next */
	int			 sess[NPID];		/* 0, LIVE, PARKED */
	struct reclog_cursor	 cur[2];
	uint64_t		 want;			/* read/scan check */
	uint64_t		 handed;
};

/* The frame of seq: its bytes follow from seq, then the offset. */
static void
fill(char *f, uint64_t seq, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		f[i] = (char)('a' + (seq + i) % 26);
}

static int
check_ent(void *arg, const struct reclog_ent *e)
{
	struct model	*m = arg;
	char		 f[300 + RECLOG_OFF_LEN], off[RECLOG_OFF_LEN];
	size_t		 n;

	if (e->seq != m->want || e->seq >= m->next)
		abort();
	n = m->flen[e->seq];
	if (e->flen != n + RECLOG_OFF_LEN)
		abort();
	fill(f, e->seq, n);
	reclog_format_off(m->rl, e->seq, off);
	if (memcmp(e->frame, f, n) != 0 ||
	    memcmp(e->frame + n, off, RECLOG_OFF_LEN) != 0)
		abort();
	if (e->rlen != 2 || memcmp(e->room, "r", 1) != 0)
		abort();
	if ((e->except != NULL) != (e->seq % 2 == 0))
		abort();
	m->want++;
	m->handed++;
	return 0;
}

static void
op_append(struct model *m, uint8_t a)
{
	struct reclog_put	 p;
	char			 f[300 + RECLOG_OFF_LEN];
	uint64_t		 seq = 0;
	size_t			 n = (size_t)a + (a > 200 ? 800 : 0);
	int			 rc;

	if (m->next > MAXOPS)
		return;
	if (n > 300)
		n = 1200;	/* over a quarter of the ring */
	memset(&p, 0, sizeof(p));
	p.to = RECLOG_TO_ROOM;
	p.worker = -1;
	p.room = m->next % 2 ? "r1" : "r2";
	p.rlen = 2;
	if (m->next % 2 == 0) {
		p.except = "sid";
		p.elen = 3;
	}
	if (n == 1200) {
		char	*big = calloc(1, n + RECLOG_OFF_LEN);

		p.frame = big;
		p.flen = n + RECLOG_OFF_LEN;
		p.patch = (long)n;
		if (reclog_append(m->rl, &p, &seq) != -1)
			abort();
		free(big);
		return;
	}
	fill(f, m->next, n);
	memset(f + n, 'x', RECLOG_OFF_LEN);
	p.frame = f;
	p.flen = n + RECLOG_OFF_LEN;
	p.patch = (long)n;
	rc = reclog_append(m->rl, &p, &seq);
	if (rc != 0 || seq != m->next)
		abort();
	m->flen[seq] = (uint16_t)n;
	m->next++;
}

static void
op_read(struct model *m, uint8_t a)
{
	struct reclog_cursor	*c = &m->cur[a & 1];
	struct reclog_stats	 st;
	uint64_t		 before = c->next, lost = c->lost, oldest;
	size_t			 n;

	reclog_stats(m->rl, &st);
	oldest = m->next - st.entries;
	m->want = before < oldest ? oldest : before;
	m->handed = 0;
	n = reclog_read(m->rl, c, (a >> 1) + 1, check_ent, m);
	if (n != m->handed || c->next != m->want)
		abort();
	if (c->lost - lost != (before < oldest ? oldest - before : 0))
		abort();
}

static void
op_scan(struct model *m, uint8_t a, uint8_t b)
{
	struct reclog_stats	 st;
	uint64_t		 after, upto, oldest;
	int			 rc;

	reclog_stats(m->rl, &st);
	oldest = m->next - st.entries;
	after = m->next > a ? m->next - a : 0;
	upto = after + b;
	m->want = after + 1;
	m->handed = 0;
	rc = reclog_scan(m->rl, after, upto, check_ent, m);
	if (after >= m->next || after + 1 < oldest) {
		if (rc != RECLOG_E_GONE)
			abort();
		return;
	}
	if (upto >= m->next)
		upto = m->next - 1;
	if (rc != (int)(upto > after ? upto - after : 0) ||
	    (uint64_t)rc != m->handed)
		abort();
}

static void
op_sess(struct model *m, uint8_t op, uint8_t a)
{
	struct reclog_sess	 s, out;
	struct reclog_stats	 st;
	uint8_t			 u[RECLOG_USER_HASH];
	int			 k = a % NPID, i, used = 0, parked = 0, rc;
	char			 pid[RECLOG_PID_LEN + 1];

	snprintf(pid, sizeof(pid), "pid%d", k);
	memset(u, k, sizeof(u));
	for (i = 0; i < NPID; i++) {
		used += m->sess[i] != 0;
		parked += m->sess[i] == RECLOG_PARKED;
	}
	switch (op) {
	case 0:
		memset(&s, 0, sizeof(s));
		memcpy(s.pid, pid, sizeof(pid));
		memset(s.user, k, sizeof(s.user));
		s.state = RECLOG_LIVE;
		s.worker = a >> 6;
		s.rooms_len = (size_t)a * 2;
		rc = reclog_sess_put(m->rl, &s);
		if (s.rooms_len > RECLOG_ROOMS_BYTES)
			i = RECLOG_E_ROOMS;
		else if (m->sess[k] == 0 && used >= NSLOT)
			i = RECLOG_E_FULL;
		else {
			i = 0;
			m->sess[k] = RECLOG_LIVE;
		}
		if (rc != i)
			abort();
		break;
	case 1:
		rc = reclog_sess_park(m->rl, pid, reclog_now_ms());
		if (rc != (m->sess[k] ? 0 : RECLOG_E_NOSESSION))
			abort();
		if (m->sess[k])
			m->sess[k] = RECLOG_PARKED;
		break;
	case 2:
		rc = reclog_sess_drop(m->rl, pid);
		if (rc != (m->sess[k] ? 0 : RECLOG_E_NOSESSION))
			abort();
		m->sess[k] = 0;
		break;
	case 3:
		if (a & 1)
			u[0] ^= 1;
		rc = reclog_sess_take(m->rl, pid, u, 1, 60000, &out);
		/* Another user's: refused first, whatever the state. */
		if (m->sess[k] == 0)
			i = RECLOG_E_NOSESSION;
		else if (a & 1)
			i = RECLOG_E_USER;
		else if (m->sess[k] == RECLOG_LIVE)
			i = RECLOG_E_LIVE;
		else
			i = 0;
		if (rc != i)
			abort();
		if (rc == 0) {
			if (strcmp(out.pid, pid) != 0)
				abort();
			m->sess[k] = RECLOG_LIVE;
		}
		break;
	default:
		/* Every live slot to parked; then all of them expire. */
		for (i = 0; i < 4; i++)
			reclog_worker_gone(m->rl, i, 0);
		if (reclog_expire(m->rl, reclog_now_ms() + 10000, 1) !=
		    (size_t)used)
			abort();
		memset(m->sess, 0, sizeof(m->sess));
		used = parked = 0;
	}
	reclog_stats(m->rl, &st);
	for (used = parked = 0, i = 0; i < NPID; i++) {
		used += m->sess[i] != 0;
		parked += m->sess[i] == RECLOG_PARKED;
	}
	if (st.sessions != (uint64_t)used || st.parked != (uint64_t)parked)
		abort();
	if (st.log_used > st.log_bytes || st.entries > st.appended)
		abort();
}

static void
parse(const uint8_t *d, size_t n)
{
	struct reclog	*rl;
	char		 err[64], off[RECLOG_OFF_LEN];
	uint64_t	 seq = 0;
	size_t		 i;
	int		 ok = n == RECLOG_OFF_LEN;

	rl = reclog_new(4096, 1, EPOCH, err, sizeof(err));
	if (rl == NULL)
		abort();
	for (i = 0; ok && i < n; i++)
		ok = (d[i] >= '0' && d[i] <= '9') || (d[i] >= 'a' && d[i] <= 'f');
	if (ok && memcmp(d, "0badcafe", 8) != 0)
		ok = 0;
	if (reclog_parse_off(rl, (const char *)d, n, &seq) != (ok ? 0 : -1))
		abort();
	if (ok) {
		reclog_format_off(rl, seq, off);
		if (memcmp(off, d, RECLOG_OFF_LEN) != 0)
			abort();
	}
	reclog_free(rl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static struct model	 m;
	char			 err[64];
	size_t			 i;

	if (n == 0)
		return 0;
	if (d[0] % 2 == 0) {
		parse(d + 1, n - 1);
		return 0;
	}
	memset(&m, 0, sizeof(m));
	m.rl = reclog_new(4096, NSLOT, EPOCH, err, sizeof(err));
	if (m.rl == NULL)
		abort();
	m.next = 1;
	reclog_cursor_init(m.rl, &m.cur[0]);
	reclog_cursor_init(m.rl, &m.cur[1]);
	for (i = 1; i + 2 < n; i += 3) {
		switch (d[i] % 8) {
		case 0:
		case 1:
			op_append(&m, d[i + 1]);
			break;
		case 2:
			op_read(&m, d[i + 1]);
			break;
		case 3:
			op_scan(&m, d[i + 1], d[i + 2]);
			break;
		default:
			op_sess(&m, (d[i] >> 3) % 5, d[i + 1]);
		}
	}
	reclog_free(m.rl);
	return 0;
}
