/*
 * reclog: the host's recovery log and session slots in one shared
 * mapping (reclog.h).  No I/O beyond the mapping, no logging.
 *
 * The region, one mmap(MAP_SHARED | MAP_ANONYMOUS) made before fork:
 *
 *   struct hdr	magic, epoch, the robust process-shared mutex, the log's
 *		positions (next seq, oldest seq, head byte), the journals,
 *		counters
 *   ring	log_bytes of entries (struct ent + room + except + frame,
 *		padded to 8), at absolute byte positions pos % log_bytes;
 *		an entry may wrap around the end
 *   idx	where each held seq starts: idx[seq & (idx_cap - 1)];
 *		idx_cap >= log_bytes / 64, and an append also evicts when
 *		idx_cap entries are held, so a held seq's slot is its own
 *   slots	max_sessions struct slot (a reclog_sess but its rooms), dense:
 *		[0, nslots) in use
 *   rooms	max_sessions room lists, rooms[i] slot i's; apart from the
 *		slots so that the pages of a slot without rooms (most) stay
 *		untouched: a slot costs 88 bytes, not 344, in every process
 *		that touches it (issue 16)
 *   ix		pid -> slot + 1 (0: free), open addressing with linear
 *		probing over ix_cap >= 2 * max_sessions, no tombstones
 *		(backward-shift deletion)
 *
 * Anonymous pages are zero until touched, so the memory a host really
 * uses follows its traffic and its sessions.  The geometry (sizes and
 * the region's addresses) lives in the private struct reclog, copied
 * into every process by fork: nothing trusts a size read back from the
 * shared region, whose contents another (buggy) process may have broken.
 *
 * Readers copy, then validate (seqlock style), and never take the lock:
 * reclog_read and reclog_scan load the oldest seq held and the next seq,
 * copy an entry out of the ring into a private scratch buffer, and then
 * re-load the oldest seq held; an append moves that past an entry
 * BEFORE it overwrites the entry's bytes, so if the copied seq is still
 * held afterwards the copy is whole.  Otherwise the entry was evicted
 * while being copied and is counted lost (or the scan is GONE).  Chosen
 * over copying under the lock because a worker's reader may be many
 * entries behind after a busy loop iteration, and the brief's rule is
 * that writers never wait for a reader: here they never do, and readers
 * only ever spin on their own copies.
 *
 * Writers (append and the session calls) take the mutex, and write in an
 * order a dead writer's successor can finish or undo:
 *   append: evictions (each one store of the oldest seq: always
 *	consistent), then the bytes past the head (invisible: their seq is
 *	not published), idx, then the journal names {seq, pos, len}, then
 *	the commit: next seq (release), head byte, journal cleared.  A
 *	death before the commit leaves the entry unpublished (undone: the
 *	head is not moved); after it, the repair sets the head from the
 *	journal.
 *   sessions: every change is "slot i becomes J, nslots becomes n"; J,
 *	i and n are written to the journal first, then the journal is
 *	armed, then applied, then the index is updated, then disarmed.  The
 *	repair re-applies an armed journal (idempotent) and rebuilds the
 *	index from the slots.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "reclog.h"

#define RECLOG_MAGIC	0x73677772636c6f67ULL	/* "sgwrclog" */
#define LOG_MIN		4096
#define LOG_MAX		((size_t)1 << 36)
#define SESS_MAX	((size_t)1 << 24)
#define ROOM_MAX	65535	/* a room or sid in an entry */
#define EXCEPT_MAX	255

/* Journal states. */
#define J_NONE		0
#define J_ARMED		1

void	(*reclog_test_hook)(int) = NULL;

struct hdr {
	uint64_t		 magic;
	uint32_t		 epoch;
	uint32_t		 pad;
	pthread_mutex_t		 mu;
	_Atomic uint64_t	 next;		/* the next seq to assign */
	_Atomic uint64_t	 tail;		/* the oldest seq held */
	uint64_t		 head;		/* byte position of seq next */
	uint64_t		 too_big;
	uint64_t		 repaired;
	uint64_t		 parked;
	uint64_t		 nslots;
	/* the append journal */
	uint64_t		 aj_state;
	uint64_t		 aj_seq;
	uint64_t		 aj_pos;
	uint64_t		 aj_len;
	/* the session journal */
	uint64_t		 sj_state;
	uint64_t		 sj_slot;
	uint64_t		 sj_n;
	struct reclog_sess	 sj_sess;
	/*
	 * A lower bound of the parked slots' since_ms (0: unknown): the
	 * master's expiry walks the slots only when one may be due, not
	 * every second (issue 16: idle cost and memory independent of N).
	 */
	uint64_t		 parked_min;
};

/* A session slot in the region; its rooms are in rooms[] (see above). */
struct slot {
	char		 pid[RECLOG_PID_LEN + 1];
	char		 sid[RECLOG_SID_LEN + 1];
	uint8_t		 user[RECLOG_USER_HASH];
	int32_t		 worker;
	int32_t		 state;
	uint64_t	 since_ms;
	uint64_t	 rooms_len;
};

/* An entry's head in the ring; the strings and the frame follow. */
struct ent {
	uint64_t	 seq;
	uint64_t	 ms;
	uint32_t	 len;		/* the whole entry, padded to 8 */
	int32_t		 to;
	int32_t		 worker;
	uint32_t	 flen;
	uint16_t	 rlen;
	uint8_t		 elen;
	uint8_t		 has_except;
	int32_t		 origin;	/* the appender's wid */
};

struct reclog {
	unsigned char		*map;
	size_t			 maplen;
	struct hdr		*h;
	unsigned char		*ring;
	size_t			 log_bytes;
	_Atomic uint64_t	*idx;
	size_t			 idx_cap;
	struct slot		*slots;
	char			(*rooms)[RECLOG_ROOMS_BYTES];
	size_t			 max_sessions;
	uint32_t		*ix;
	size_t			 ix_cap;
	uint32_t		 epoch;
	/* this process's copy buffer for readers */
	unsigned char		*scratch;
	size_t			 scratch_cap;
	int			 scratch_busy;
};

static int	 lock(struct reclog *);
static void	 unlock(struct reclog *);
static void	 repair(struct reclog *);
static size_t	 pow2_at_least(size_t);

uint64_t
reclog_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static size_t
pow2_at_least(size_t n)
{
	size_t	 p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static int
mutex_init(pthread_mutex_t *mu)
{
	pthread_mutexattr_t	 a;
	int			 rc;

	if (pthread_mutexattr_init(&a) != 0)
		return -1;
	rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	if (rc == 0)
		rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (rc == 0)
		rc = pthread_mutex_init(mu, &a);
	pthread_mutexattr_destroy(&a);
	return rc == 0 ? 0 : -1;
}

struct reclog *
reclog_new(size_t log_bytes, size_t max_sessions, uint32_t epoch,
    char *err, size_t errlen)
{
	struct reclog	*rl;
	size_t		 off_ring, off_idx, off_slots, off_rooms, off_ix, len;
	void		*m;

	if (log_bytes < LOG_MIN || log_bytes > LOG_MAX) {
		snprintf(err, errlen, "log size %zu out of [%zu, %zu]",
		    log_bytes, (size_t)LOG_MIN, LOG_MAX);
		return NULL;
	}
	if (max_sessions < 1 || max_sessions > SESS_MAX) {
		snprintf(err, errlen, "sessions %zu out of [1, %zu]",
		    max_sessions, SESS_MAX);
		return NULL;
	}
	if ((rl = calloc(1, sizeof(*rl))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rl->log_bytes = align8(log_bytes);
	rl->idx_cap = pow2_at_least(rl->log_bytes / 64);
	rl->max_sessions = max_sessions;
	rl->ix_cap = pow2_at_least(2 * max_sessions);
	rl->epoch = epoch;

	off_ring = align8(sizeof(struct hdr));
	off_idx = off_ring + rl->log_bytes;
	off_slots = off_idx + rl->idx_cap * sizeof(uint64_t);
	off_rooms = align8(off_slots + max_sessions * sizeof(struct slot));
	off_ix = align8(off_rooms + max_sessions * RECLOG_ROOMS_BYTES);
	len = off_ix + rl->ix_cap * sizeof(uint32_t);

	m = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		snprintf(err, errlen, "mmap of %zu bytes: %s", len,
		    strerror(errno));
		free(rl);
		return NULL;
	}
	rl->map = m;
	rl->maplen = len;
	rl->h = m;
	rl->ring = rl->map + off_ring;
	rl->idx = (_Atomic uint64_t *)(void *)(rl->map + off_idx);
	rl->slots = (struct slot *)(void *)(rl->map + off_slots);
	rl->rooms = (char (*)[RECLOG_ROOMS_BYTES])(void *)(rl->map +
	    off_rooms);
	rl->ix = (uint32_t *)(void *)(rl->map + off_ix);

	if (mutex_init(&rl->h->mu) != 0) {
		snprintf(err, errlen, "process-shared robust mutex refused");
		munmap(m, len);
		free(rl);
		return NULL;
	}
	rl->h->magic = RECLOG_MAGIC;
	rl->h->epoch = epoch;
	atomic_store(&rl->h->next, 1);
	atomic_store(&rl->h->tail, 1);
	return rl;
}

void
reclog_free(struct reclog *rl)
{
	if (rl == NULL)
		return;
	munmap(rl->map, rl->maplen);
	free(rl->scratch);
	free(rl);
}

uint32_t
reclog_epoch(const struct reclog *rl)
{
	return rl->epoch;
}

/* Locking: a dead holder's state is repaired before anyone goes on. */

static int
lock(struct reclog *rl)
{
	int	 rc;

	rc = pthread_mutex_lock(&rl->h->mu);
	if (rc == EOWNERDEAD) {
		repair(rl);
		rl->h->repaired++;
		if (pthread_mutex_consistent(&rl->h->mu) != 0) {
			pthread_mutex_unlock(&rl->h->mu);
			return -1;
		}
		return 0;
	}
	return rc == 0 ? 0 : -1;
}

static void
unlock(struct reclog *rl)
{
	pthread_mutex_unlock(&rl->h->mu);
}

static void
hook(int where)
{
	if (reclog_test_hook != NULL)
		reclog_test_hook(where);
}

/* The ring: copies in and out at an absolute position, wrapping. */

static void
ring_put(struct reclog *rl, uint64_t pos, const void *p, size_t n)
{
	size_t	 o = pos % rl->log_bytes, first;

	first = rl->log_bytes - o;
	if (first > n)
		first = n;
	memcpy(rl->ring + o, p, first);
	memcpy(rl->ring, (const unsigned char *)p + first, n - first);
}

static void
ring_get(const struct reclog *rl, uint64_t pos, void *p, size_t n)
{
	size_t	 o = pos % rl->log_bytes, first;

	first = rl->log_bytes - o;
	if (first > n)
		first = n;
	memcpy(p, rl->ring + o, first);
	memcpy((unsigned char *)p + first, rl->ring, n - first);
}

static uint64_t
idx_get(const struct reclog *rl, uint64_t seq)
{
	return atomic_load_explicit(&rl->idx[seq & (rl->idx_cap - 1)],
	    memory_order_relaxed);
}

/* The byte position where the oldest held entry starts. */
static uint64_t
tail_pos(const struct reclog *rl)
{
	uint64_t	 t = atomic_load(&rl->h->tail);

	if (t >= atomic_load(&rl->h->next))
		return rl->h->head;
	return idx_get(rl, t);
}

/* The log. */

void
reclog_format_off(const struct reclog *rl, uint64_t seq,
    char out[RECLOG_OFF_LEN])
{
	static const char	 hex[] = "0123456789abcdef";
	uint32_t		 e = rl->epoch;
	int			 i;

	for (i = 7; i >= 0; i--, e >>= 4)
		out[i] = hex[e & 15];
	for (i = 23; i >= 8; i--, seq >>= 4)
		out[i] = hex[seq & 15];
}

int
reclog_parse_off(const struct reclog *rl, const char *s, size_t len,
    uint64_t *seq)
{
	uint64_t	 v = 0;
	uint32_t	 e = 0;
	size_t		 i;
	int		 d;

	if (s == NULL || len != RECLOG_OFF_LEN)
		return -1;
	for (i = 0; i < RECLOG_OFF_LEN; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else
			return -1;
		if (i < 8)
			e = (e << 4) | (uint32_t)d;
		else
			v = (v << 4) | (uint64_t)d;
	}
	if (e != rl->epoch)
		return -1;
	*seq = v;
	return 0;
}

static int
put_ok(const struct reclog_put *p)
{
	if (p->to != RECLOG_TO_ROOM && p->to != RECLOG_TO_SOCKET)
		return 0;
	if (p->room == NULL || p->rlen == 0 || p->rlen > ROOM_MAX)
		return 0;
	if (p->except != NULL && p->elen > EXCEPT_MAX)
		return 0;
	if (p->frame == NULL || p->flen == 0 || p->flen > UINT32_MAX)
		return 0;
	if (p->patch >= 0 && ((size_t)p->patch > p->flen ||
	    p->flen - (size_t)p->patch < RECLOG_OFF_LEN))
		return 0;
	return 1;
}

/* Drops the oldest entries until len more bytes and one more entry fit. */
static void
evict_for(struct reclog *rl, uint64_t len)
{
	uint64_t	 next = atomic_load(&rl->h->next);
	uint64_t	 t = atomic_load(&rl->h->tail);

	while (t < next && (rl->h->head + len - tail_pos(rl) >
	    rl->log_bytes || next - t >= rl->idx_cap)) {
		atomic_store_explicit(&rl->h->tail, ++t,
		    memory_order_release);
	}
	/* The bytes written next must not be seen before the new tail. */
	atomic_thread_fence(memory_order_seq_cst);
}

int
reclog_append(struct reclog *rl, const struct reclog_put *p, uint64_t *seqp)
{
	struct ent	 e;
	uint64_t	 seq, pos;
	size_t		 elen, len;

	if (!put_ok(p))
		return -1;
	elen = p->except != NULL ? p->elen : 0;
	len = align8(sizeof(e) + p->rlen + elen + p->flen);
	if (lock(rl) != 0)
		return -1;
	if (len > rl->log_bytes / 4) {
		rl->h->too_big++;
		unlock(rl);
		return -1;
	}
	seq = atomic_load(&rl->h->next);
	evict_for(rl, len);
	pos = rl->h->head;

	memset(&e, 0, sizeof(e));
	e.seq = seq;
	e.ms = reclog_now_ms();
	e.len = (uint32_t)len;
	e.to = p->to;
	e.worker = p->worker;
	e.flen = (uint32_t)p->flen;
	e.rlen = (uint16_t)p->rlen;
	e.elen = (uint8_t)elen;
	e.has_except = p->except != NULL;
	e.origin = p->origin;
	if (p->patch >= 0)
		reclog_format_off(rl, seq, p->frame + p->patch);
	ring_put(rl, pos, &e, sizeof(e));
	ring_put(rl, pos + sizeof(e), p->room, p->rlen);
	if (elen > 0)
		ring_put(rl, pos + sizeof(e) + p->rlen, p->except, elen);
	hook(1);
	ring_put(rl, pos + sizeof(e) + p->rlen + elen, p->frame, p->flen);
	atomic_store_explicit(&rl->idx[seq & (rl->idx_cap - 1)], pos,
	    memory_order_relaxed);

	rl->h->aj_seq = seq;
	rl->h->aj_pos = pos;
	rl->h->aj_len = len;
	rl->h->aj_state = J_ARMED;
	atomic_store_explicit(&rl->h->next, seq + 1, memory_order_release);
	hook(2);
	rl->h->head = pos + len;
	rl->h->aj_state = J_NONE;
	unlock(rl);
	if (seqp != NULL)
		*seqp = seq;
	return 0;
}

uint64_t
reclog_head(struct reclog *rl)
{
	return atomic_load_explicit(&rl->h->next, memory_order_acquire);
}

void
reclog_cursor_init(struct reclog *rl, struct reclog_cursor *cur)
{
	cur->next = reclog_head(rl);
	cur->lost = 0;
}

/* A reader's scratch: this process's buffer, or a temporary one when a
 * callback reads again from inside a read. */
struct scratch {
	unsigned char	*p;
	size_t		 cap;
	int		 own;
};

static int
scratch_get(struct reclog *rl, struct scratch *s)
{
	size_t	 need = rl->log_bytes / 4;

	s->own = 0;
	if (rl->scratch_busy) {
		s->p = malloc(need);
		s->cap = need;
		s->own = 1;
		return s->p == NULL ? -1 : 0;
	}
	if (rl->scratch == NULL) {
		if ((rl->scratch = malloc(need)) == NULL)
			return -1;
		rl->scratch_cap = need;
	}
	rl->scratch_busy = 1;
	s->p = rl->scratch;
	s->cap = rl->scratch_cap;
	return 0;
}

static void
scratch_put(struct reclog *rl, struct scratch *s)
{
	if (s->own)
		free(s->p);
	else
		rl->scratch_busy = 0;
}

/* copy() results. */
#define C_OK		0
#define C_EVICTED	1	/* gone while (or before) being copied */
#define C_BROKEN	2	/* held, but not a well-formed entry */

/*
 * Copies entry seq into s and fills *out.  The head is read first and
 * checked for sense (its bytes may be changing under us), the body
 * copied, and the oldest seq re-read after a fence: seq still held means
 * nobody wrote over what was copied.
 */
static int
copy(struct reclog *rl, uint64_t seq, struct scratch *s,
    struct reclog_ent *out)
{
	struct ent	 e;
	uint64_t	 pos;
	size_t		 body, want;
	int		 sane;

	pos = idx_get(rl, seq);
	ring_get(rl, pos, &e, sizeof(e));
	body = (size_t)e.rlen + e.elen + e.flen;
	want = align8(sizeof(e) + body);
	sane = e.seq == seq && e.len == want && e.len <= rl->log_bytes / 4 &&
	    body <= s->cap && e.rlen > 0 && e.flen > 0 &&
	    (e.to == RECLOG_TO_ROOM || e.to == RECLOG_TO_SOCKET) &&
	    (e.has_except || e.elen == 0);
	if (sane)
		ring_get(rl, pos + sizeof(e), s->p, body);
	atomic_thread_fence(memory_order_acquire);
	if (seq < atomic_load_explicit(&rl->h->tail, memory_order_relaxed))
		return C_EVICTED;
	if (!sane)
		return C_BROKEN;
	out->seq = seq;
	out->ms = e.ms;
	out->to = e.to;
	out->worker = e.worker;
	out->room = (const char *)s->p;
	out->rlen = e.rlen;
	out->except = e.has_except ? (const char *)s->p + e.rlen : NULL;
	out->elen = e.elen;
	out->frame = (const char *)s->p + e.rlen + e.elen;
	out->flen = e.flen;
	out->origin = e.origin;
	return C_OK;
}

size_t
reclog_read(struct reclog *rl, struct reclog_cursor *cur, size_t max,
    reclog_cb *cb, void *arg)
{
	struct scratch		 s;
	struct reclog_ent	 ent;
	uint64_t		 head, t;
	size_t			 n = 0;
	int			 rc;

	if (max == 0 || scratch_get(rl, &s) != 0)
		return 0;
	head = reclog_head(rl);
	if (cur->next > head)
		cur->next = head;
	while (n < max && cur->next < head) {
		t = atomic_load_explicit(&rl->h->tail, memory_order_acquire);
		if (cur->next < t) {
			cur->lost += t - cur->next;
			cur->next = t;
			continue;
		}
		rc = copy(rl, cur->next, &s, &ent);
		if (rc == C_EVICTED)
			continue;	/* counted lost on the next turn */
		cur->next++;
		if (rc == C_BROKEN) {
			cur->lost++;
			continue;
		}
		n++;
		if (cb(arg, &ent) != 0)
			break;
	}
	scratch_put(rl, &s);
	return n;
}

int
reclog_scan(struct reclog *rl, uint64_t after, uint64_t upto,
    reclog_cb *cb, void *arg)
{
	struct scratch		 s;
	struct reclog_ent	 ent;
	uint64_t		 head, seq;
	int			 n = 0, rc;

	head = reclog_head(rl);
	if (after >= head ||
	    after + 1 < atomic_load_explicit(&rl->h->tail,
	    memory_order_acquire))
		return RECLOG_E_GONE;
	if (upto >= head)
		upto = head - 1;
	if (after >= upto)
		return 0;
	if (scratch_get(rl, &s) != 0)
		return RECLOG_E_GONE;
	for (seq = after + 1; seq <= upto; seq++) {
		rc = copy(rl, seq, &s, &ent);
		if (rc == C_EVICTED) {
			n = RECLOG_E_GONE;
			break;
		}
		if (rc == C_BROKEN)
			continue;
		n++;
		if (cb(arg, &ent) != 0)
			break;
	}
	scratch_put(rl, &s);
	return n;
}

/* The sessions. */

static uint32_t
pid_hash(const char *pid, size_t len)
{
	uint32_t	 h = 2166136261u;
	size_t		 i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)pid[i]) * 16777619u;
	return h;
}

/* The length of a pid, or 0 if it is no pid. */
static size_t
pid_len(const char *pid)
{
	size_t	 n;

	if (pid == NULL)
		return 0;
	n = strnlen(pid, RECLOG_PID_LEN + 1);
	return n > RECLOG_PID_LEN ? 0 : n;
}

/* A slot's own pid, bounded even when the slot was broken. */
static size_t
slot_pid_len(const struct slot *s)
{
	return strnlen(s->pid, RECLOG_PID_LEN);
}

/* Slot i as callers see it (its rooms' unused bytes zero). */
static void
slot_load(const struct reclog *rl, uint64_t i, struct reclog_sess *out)
{
	const struct slot	*sl = &rl->slots[i];
	size_t			 n = sl->rooms_len;

	if (n > RECLOG_ROOMS_BYTES)
		n = RECLOG_ROOMS_BYTES;
	memcpy(out->pid, sl->pid, sizeof(out->pid));
	memcpy(out->sid, sl->sid, sizeof(out->sid));
	memcpy(out->user, sl->user, sizeof(out->user));
	out->worker = sl->worker;
	out->state = sl->state;
	out->since_ms = sl->since_ms;
	out->rooms_len = n;
	memcpy(out->rooms, rl->rooms[i], n);
	memset(out->rooms + n, 0, RECLOG_ROOMS_BYTES - n);
}

/* Slot i becomes *s: its rooms' page is written only if it has some. */
static void
slot_store(struct reclog *rl, uint64_t i, const struct reclog_sess *s)
{
	struct slot	*sl = &rl->slots[i];
	size_t		 n = s->rooms_len;

	if (n > RECLOG_ROOMS_BYTES)
		n = RECLOG_ROOMS_BYTES;
	memcpy(sl->pid, s->pid, sizeof(sl->pid));
	memcpy(sl->sid, s->sid, sizeof(sl->sid));
	memcpy(sl->user, s->user, sizeof(sl->user));
	sl->worker = s->worker;
	sl->state = s->state;
	sl->since_ms = s->since_ms;
	sl->rooms_len = n;
	memcpy(rl->rooms[i], s->rooms, n);
}

static uint64_t
nslots(const struct reclog *rl)
{
	uint64_t	 n = rl->h->nslots;

	return n > rl->max_sessions ? rl->max_sessions : n;
}

/* The ix position holding pid, or the free one where it would go. */
static size_t
ix_find(const struct reclog *rl, const char *pid, size_t len, int *found)
{
	size_t		 mask = rl->ix_cap - 1, i, probes;
	uint32_t	 v;
	uint64_t	 n = nslots(rl);

	i = pid_hash(pid, len) & mask;
	for (probes = 0; probes < rl->ix_cap; probes++, i = (i + 1) & mask) {
		v = rl->ix[i];
		if (v == 0)
			break;
		if (v <= n && slot_pid_len(&rl->slots[v - 1]) == len &&
		    memcmp(rl->slots[v - 1].pid, pid, len) == 0) {
			*found = 1;
			return i;
		}
	}
	*found = 0;
	return i;
}

/* Backward-shift deletion at ix position i. */
static void
ix_del(struct reclog *rl, size_t i)
{
	size_t		 mask = rl->ix_cap - 1, j = i, k, probes;
	uint32_t	 v;
	uint64_t	 n = nslots(rl);

	rl->ix[i] = 0;
	for (probes = 0; probes < rl->ix_cap; probes++) {
		j = (j + 1) & mask;
		if ((v = rl->ix[j]) == 0)
			return;
		if (v > n) {	/* broken: drop it */
			rl->ix[j] = 0;
			continue;
		}
		k = pid_hash(rl->slots[v - 1].pid,
		    slot_pid_len(&rl->slots[v - 1])) & mask;
		/* Move v to i unless its home k lies cyclically in (i, j]. */
		if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		rl->ix[i] = v;
		rl->ix[j] = 0;
		i = j;
	}
}

static void
ix_rebuild(struct reclog *rl)
{
	uint64_t	 n = nslots(rl), s;
	size_t		 i;
	int		 found;

	memset(rl->ix, 0, rl->ix_cap * sizeof(*rl->ix));
	for (s = 0; s < n; s++) {
		rl->slots[s].pid[RECLOG_PID_LEN] = '\0';
		i = ix_find(rl, rl->slots[s].pid,
		    slot_pid_len(&rl->slots[s]), &found);
		if (!found)
			rl->ix[i] = (uint32_t)s + 1;
	}
}

/* Applies the armed session journal: slot sj_slot = sj_sess, nslots. */
static void
sj_apply(struct reclog *rl)
{
	if (rl->h->sj_slot < rl->max_sessions)
		slot_store(rl, rl->h->sj_slot, &rl->h->sj_sess);
	hook(3);
	rl->h->nslots = rl->h->sj_n;
}

/* Arms the journal for "slot i becomes *s, nslots becomes n", applies. */
static void
sj_write(struct reclog *rl, uint64_t i, const struct reclog_sess *s,
    uint64_t n)
{
	rl->h->sj_slot = i;
	if (s != NULL)
		rl->h->sj_sess = *s;
	else
		rl->h->sj_slot = UINT64_MAX;
	rl->h->sj_n = n;
	rl->h->sj_state = J_ARMED;
	sj_apply(rl);
}

/* A slot parked at since: the expiry's lower bound follows it. */
static void
parked_at(struct reclog *rl, uint64_t since)
{
	if (since < rl->h->parked_min)
		rl->h->parked_min = since;
}

static uint64_t
count_parked(const struct reclog *rl)
{
	uint64_t	 n = nslots(rl), s, p = 0;

	for (s = 0; s < n; s++)
		if (rl->slots[s].state == RECLOG_PARKED)
			p++;
	return p;
}

static void
repair(struct reclog *rl)
{
	uint64_t	 next, tail;

	next = atomic_load(&rl->h->next);
	tail = atomic_load(&rl->h->tail);
	if (tail > next)
		atomic_store(&rl->h->tail, next);
	if (rl->h->aj_state != J_NONE) {
		/* Committed (next moved past it): finish; else undone. */
		if (rl->h->aj_seq + 1 == next &&
		    rl->h->aj_len <= rl->log_bytes / 4)
			rl->h->head = rl->h->aj_pos + rl->h->aj_len;
		rl->h->aj_state = J_NONE;
	}
	if (rl->h->sj_state != J_NONE) {
		if (rl->h->sj_n > rl->max_sessions)
			rl->h->sj_n = nslots(rl);
		sj_apply(rl);
		rl->h->sj_state = J_NONE;
	}
	ix_rebuild(rl);
	rl->h->parked = count_parked(rl);
	rl->h->parked_min = 0;
}

static int
sess_ok(const struct reclog_sess *s)
{
	size_t	 n;

	n = strnlen(s->pid, sizeof(s->pid));
	if (n == 0 || n > RECLOG_PID_LEN)
		return 0;
	n = strnlen(s->sid, sizeof(s->sid));
	if (n > RECLOG_SID_LEN)
		return 0;
	if (s->state != RECLOG_LIVE && s->state != RECLOG_PARKED)
		return 0;
	return 1;
}

int
reclog_sess_put(struct reclog *rl, const struct reclog_sess *s)
{
	struct reclog_sess	 c;
	size_t			 len, i;
	uint64_t		 n, at;
	int			 found, was_parked = 0;

	if (s->rooms_len > RECLOG_ROOMS_BYTES)
		return RECLOG_E_ROOMS;
	if (!sess_ok(s))
		return RECLOG_E_NOSESSION;
	c = *s;
	memset(c.rooms + c.rooms_len, 0, RECLOG_ROOMS_BYTES - c.rooms_len);
	len = strlen(c.pid);
	if (lock(rl) != 0)
		return RECLOG_E_FULL;
	n = nslots(rl);
	i = ix_find(rl, c.pid, len, &found);
	if (found) {
		at = rl->ix[i] - 1;
		was_parked = rl->slots[at].state == RECLOG_PARKED;
		sj_write(rl, at, &c, n);
	} else {
		if (n >= rl->max_sessions) {
			unlock(rl);
			return RECLOG_E_FULL;
		}
		at = n;
		sj_write(rl, at, &c, n + 1);
		rl->ix[i] = (uint32_t)at + 1;
	}
	if (c.state == RECLOG_PARKED)
		parked_at(rl, c.since_ms);
	if (c.state == RECLOG_PARKED && !was_parked)
		rl->h->parked++;
	else if (c.state != RECLOG_PARKED && was_parked && rl->h->parked > 0)
		rl->h->parked--;
	rl->h->sj_state = J_NONE;
	unlock(rl);
	return 0;
}

/* Drops slot at (ix position i) under the lock: the last slot moves in. */
static void
drop_at(struct reclog *rl, size_t i)
{
	struct reclog_sess	 c;
	uint64_t		 at = rl->ix[i] - 1, last = nslots(rl) - 1;
	size_t			 j;
	int			 found;

	if (rl->slots[at].state == RECLOG_PARKED && rl->h->parked > 0)
		rl->h->parked--;
	ix_del(rl, i);
	if (at != last) {
		j = ix_find(rl, rl->slots[last].pid,
		    slot_pid_len(&rl->slots[last]), &found);
		slot_load(rl, last, &c);
		sj_write(rl, at, &c, last);
		if (found)
			rl->ix[j] = (uint32_t)at + 1;
	} else
		sj_write(rl, UINT64_MAX, NULL, last);
	rl->h->sj_state = J_NONE;
}

/* Finds pid under the lock: its ix position, or -1. */
static long
find_locked(struct reclog *rl, const char *pid)
{
	size_t	 len = pid_len(pid), i;
	int	 found;

	if (len == 0)
		return -1;
	i = ix_find(rl, pid, len, &found);
	return found ? (long)i : -1;
}

int
reclog_sess_park(struct reclog *rl, const char *pid, uint64_t now)
{
	struct reclog_sess	 c;
	long			 i;
	uint64_t		 at;

	if (lock(rl) != 0)
		return RECLOG_E_NOSESSION;
	if ((i = find_locked(rl, pid)) < 0) {
		unlock(rl);
		return RECLOG_E_NOSESSION;
	}
	at = rl->ix[i] - 1;
	slot_load(rl, at, &c);
	if (c.state != RECLOG_PARKED)
		rl->h->parked++;
	c.state = RECLOG_PARKED;
	c.since_ms = now;
	parked_at(rl, now);
	sj_write(rl, at, &c, nslots(rl));
	rl->h->sj_state = J_NONE;
	unlock(rl);
	return 0;
}

int
reclog_sess_drop(struct reclog *rl, const char *pid)
{
	long	 i;

	if (lock(rl) != 0)
		return RECLOG_E_NOSESSION;
	if ((i = find_locked(rl, pid)) < 0) {
		unlock(rl);
		return RECLOG_E_NOSESSION;
	}
	drop_at(rl, (size_t)i);
	unlock(rl);
	return 0;
}

/* A copy of pid's slot, as it is: 0, or RECLOG_E_NOSESSION. */
int
reclog_sess_get(struct reclog *rl, const char *pid, struct reclog_sess *out)
{
	long	 i;

	if (lock(rl) != 0)
		return RECLOG_E_NOSESSION;
	if ((i = find_locked(rl, pid)) < 0) {
		unlock(rl);
		return RECLOG_E_NOSESSION;
	}
	slot_load(rl, rl->ix[i] - 1, out);
	unlock(rl);
	out->pid[RECLOG_PID_LEN] = '\0';
	out->sid[RECLOG_SID_LEN] = '\0';
	return 0;
}

int
reclog_sess_take(struct reclog *rl, const char *pid,
    const uint8_t user[RECLOG_USER_HASH], int wid, uint64_t max_age,
    struct reclog_sess *out)
{
	struct reclog_sess	 c;
	long			 i;
	int			 old;
	uint64_t		 at, now = reclog_now_ms();

	if (lock(rl) != 0)
		return RECLOG_E_NOSESSION;
	if ((i = find_locked(rl, pid)) < 0) {
		unlock(rl);
		return RECLOG_E_NOSESSION;
	}
	at = rl->ix[i] - 1;
	slot_load(rl, at, &c);
	/* First: another user learns nothing of the session's state. */
	if (memcmp(c.user, user, RECLOG_USER_HASH) != 0) {
		unlock(rl);
		return RECLOG_E_USER;
	}
	if (c.state == RECLOG_LIVE) {
		unlock(rl);
		return RECLOG_E_LIVE;
	}
	if (c.state != RECLOG_PARKED ||
	    (now > c.since_ms && now - c.since_ms > max_age)) {
		drop_at(rl, (size_t)i);
		unlock(rl);
		return RECLOG_E_EXPIRED;
	}
	old = c.worker;
	c.state = RECLOG_LIVE;
	c.worker = wid;
	c.since_ms = 0;
	if (c.rooms_len > RECLOG_ROOMS_BYTES)
		c.rooms_len = RECLOG_ROOMS_BYTES;
	c.pid[RECLOG_PID_LEN] = '\0';
	c.sid[RECLOG_SID_LEN] = '\0';
	sj_write(rl, at, &c, nslots(rl));
	if (rl->h->parked > 0)
		rl->h->parked--;
	rl->h->sj_state = J_NONE;
	unlock(rl);
	*out = c;
	out->worker = old;	/* the taker needs who served it */
	return 0;
}

size_t
reclog_worker_gone(struct reclog *rl, int wid, uint64_t now)
{
	struct reclog_sess	 c;
	uint64_t		 n, s;
	size_t			 k = 0;

	if (lock(rl) != 0)
		return 0;
	n = nslots(rl);
	for (s = 0; s < n; s++) {
		if (rl->slots[s].state != RECLOG_LIVE ||
		    rl->slots[s].worker != wid)
			continue;
		slot_load(rl, s, &c);
		c.state = RECLOG_PARKED;
		c.since_ms = now;
		parked_at(rl, now);
		sj_write(rl, s, &c, n);
		rl->h->parked++;
		rl->h->sj_state = J_NONE;
		k++;
	}
	unlock(rl);
	return k;
}

/*
 * May a slot be due?  Not when every parked one was parked after
 * parked_min (UINT64_MAX: none parked) and that is younger than max_age;
 * 0 (a fresh or repaired region) says "walk".
 */
static int
expiry_due(const struct reclog *rl, uint64_t now, uint64_t max_age)
{
	uint64_t	 m = rl->h->parked_min;

	if (m == 0)
		return 1;
	if (m == UINT64_MAX)
		return 0;
	return now > m && now - m > max_age;
}

size_t
reclog_expire(struct reclog *rl, uint64_t now, uint64_t max_age)
{
	const struct slot		*c;
	uint64_t			 s, min = UINT64_MAX;
	size_t				 k = 0, i;
	int				 found;

	if (lock(rl) != 0)
		return 0;
	if (!expiry_due(rl, now, max_age)) {
		unlock(rl);
		return 0;
	}
	/* Downwards: the last slot moving into a dropped one was seen. */
	for (s = nslots(rl); s-- > 0; ) {
		c = &rl->slots[s];
		if (c->state == RECLOG_LIVE)
			continue;
		if (c->state == RECLOG_PARKED &&
		    (now <= c->since_ms || now - c->since_ms <= max_age)) {
			if (c->since_ms < min)
				min = c->since_ms;
			continue;
		}
		i = ix_find(rl, c->pid, slot_pid_len(c), &found);
		if (!found)	/* a broken slot: index it to drop it */
			rl->ix[i] = (uint32_t)s + 1;
		else if (rl->ix[i] != s + 1)	/* a broken twin */
			continue;
		drop_at(rl, i);
		k++;
	}
	rl->h->parked_min = min;
	unlock(rl);
	return k;
}

void
reclog_stats(struct reclog *rl, struct reclog_stats *st)
{
	uint64_t	 next, tail;

	memset(st, 0, sizeof(*st));
	st->log_bytes = rl->log_bytes;
	st->sessions_max = rl->max_sessions;
	if (lock(rl) != 0)
		return;
	next = atomic_load(&rl->h->next);
	tail = atomic_load(&rl->h->tail);
	st->log_used = rl->h->head - tail_pos(rl);
	st->entries = next - tail;
	st->appended = next - 1;
	st->evicted = tail - 1;
	st->too_big = rl->h->too_big;
	st->sessions = nslots(rl);
	st->parked = rl->h->parked;
	st->repaired = rl->h->repaired;
	unlock(rl);
}
