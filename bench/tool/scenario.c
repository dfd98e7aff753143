/*
 * What a load process does, phase by phase, for each scenario.
 *
 * The coordinator's phase is read every loop turn; the counters are
 * published to this process's slot every loop turn; the histograms at the
 * end.  Work is split so that nothing has to cross processes: in `dm` a
 * sender's partner lives in the same process, in `fanout` a whole group
 * does, in `churn` so do a churning user and the observer watching it.
 * Deliveries in flight are then (messages sent x their recipients) minus
 * arrivals, counted locally, which is what flat-out mode keeps under
 * --window and what a stall (3 s with nothing arriving) writes off as lost.
 *
 *	conns	CONNECT: open every connection; RUN: hold them, idle;
 *		REJOIN (--rejoin n): n of them, this process's share, close
 *		at once and connect again
 *	dm	RUN: send_message {receiver_id: partner, content: "<t>|xxx"}
 *	dm-persist  the same, against a server that persists each message
 *		(a chat service): a message is in flight until both its
 *		receive_message and the sender's message_sent came
 *	fanout	SETUP: join_room {group_id}; RUN: send_group_message
 *	storm	CONNECT: every user (presence_mode all on the server); each
 *		client keeps the set of users online as it hears it
 *		(online_users, user_connected, user_disconnected); RUN: until
 *		every client knows every user (settled), or -d seconds
 *	churn	CONNECT: the observers; SETUP: they join presence:<user> of
 *		the users they watch; RUN: connect, wait for online_users,
 *		disconnect, again, at --rate cycles per second
 */
#include <sys/epoll.h>
#include <sys/resource.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"

#define STALL_NS	3000000000ULL	/* nothing arrives: write off */
#define BACKLOG_MAX	16384		/* a sender's unsent bytes */
#define OBSERVER_BASE	1000000u	/* churn observers' user numbers */

struct group {
	unsigned	*member;	/* conn indexes */
	unsigned	 n;
	unsigned	 rr;		/* next sender */
};

static struct {
	unsigned	 target;	/* conns opened in CONNECT */
	unsigned	 next_open;
	unsigned	 setup_pending;	/* acks still due */
	bool		 setup_started;
	bool		 run_started;
	unsigned	 nobs;		/* churn: observers first */
	/* dm */
	unsigned	*senders;
	unsigned	 nsenders, rr;
	/* fanout */
	struct group	*groups;
	unsigned	 ngroups, grr;
	unsigned	 first_group, group_step;
	/* pacing */
	double		 rate;		/* this process's share, per s */
	uint64_t	 run_start;
	uint64_t	 paced;		/* messages or cycles started */
	uint64_t	 last_arrival;
	uint64_t	 maxinflight;
	/* churn */
	unsigned	*idle;		/* churn slots with no connection */
	unsigned	 nidle;
	uint64_t	*t_ready;
	uint32_t	*turn;		/* churn slot: cycles begun */
	/* storm: per connection, a bitmap of the users it knows online */
	uint64_t	*bits;
	size_t		 words;		/* per connection */
	uint32_t	*known;		/* bits set */
	uint8_t		*full;		/* counted in settled */
	/* conns --rejoin */
	unsigned	 rejoin;	/* this process's share */
	unsigned	 rejoin_left;	/* not yet ready again nor failed */
	uint64_t	 rejoin_t0;
	bool		 rejoin_started;
	char		*msg;
	size_t		 msgcap;
} S;

static void	 open_more(struct load *, uint64_t);
static void	 setup_start(struct load *);
static void	 run_start(struct load *);
static void	 generate(struct load *);
static int	 send_dm(struct load *);
static int	 send_group(struct load *);
static void	 churn_tick(struct load *, bool);
static void	 stall_check(struct load *);
static void	 rejoin_start(struct load *);
static void	 storm_event(struct load *, struct conn *, const char *,
		    size_t, const char *, size_t);
static void	 publish(struct load *, int);
static void	 finish(struct load *) __attribute__((__noreturn__));
static size_t	 build(struct load *, const char *, const char *, uint32_t);

static uint64_t
pending(uint64_t due, uint64_t done)
{
	return due > done ? due - done : 0;
}

/*
 * Messages in flight.  dm-persist: a message is in flight until both its
 * receive_message and its message_sent came, counted as the larger of the
 * two backlogs, so that --window bounds messages as in dm.
 */
static uint64_t
inflight(const struct load *l)
{
	uint64_t n = pending(l->c.expected, l->c.delivered + l->c.lost), a;

	if (l->o->scenario == SCEN_DM_PERSIST) {
		a = pending(l->c.sent, l->c.msg_sent + l->c.lost);
		if (a > n)
			n = a;
	}
	return n;
}

/* The send time a bench message carries: content "<t>|xxx"; or 0. */
static uint64_t
stamp(const char *args, size_t alen)
{
	const char	*p, *end = args + alen;
	uint64_t	 t = 0;

	p = memmem(args, alen, "\"content\":\"", 11);
	if (p == NULL)
		return 0;
	for (p += 11; p < end && *p >= '0' && *p <= '9'; p++)
		t = t * 10 + (uint64_t)(*p - '0');
	return t;
}

/* Into h, if the message was sent inside the measured window. */
static void
latency(struct load *l, struct hist *h, uint64_t t, uint64_t now)
{
	if (t >= l->sh->win_start && t < l->sh->win_end && now >= t)
		hist_add(h, now - t);
}

static bool
is_churner(const struct load *l, const struct conn *c)
{
	return l->o->scenario == SCEN_CHURN && !(c->flags & CF_OBSERVER);
}

void
scen_ready(struct load *l, struct conn *c)
{
	if (S.rejoin_started && (c->flags & CF_REJOIN)) {
		c->flags &= ~CF_REJOIN;
		hist_add(&l->rejoin, l->now - S.rejoin_t0);
		S.rejoin_left--;
	}
	if (is_churner(l, c) && l->o->hold_ms <= 0) {
		client_close(l, c, CLOSE_CLEAN);	/* goes back to idle */
		l->c.cycles++;
	} else if (is_churner(l, c))
		S.t_ready[c - l->conns] = l->now;
}

void
scen_failed(struct load *l, struct conn *c)
{
	if (S.rejoin_started && (c->flags & CF_REJOIN)) {
		c->flags &= ~CF_REJOIN;
		S.rejoin_left--;
	}
	if (is_churner(l, c))
		S.idle[S.nidle++] = (unsigned)(c - l->conns);
}

void
scen_closed(struct load *l, struct conn *c)
{
	if (is_churner(l, c))
		S.idle[S.nidle++] = (unsigned)(c - l->conns);
}

void
scen_ack(struct load *l, struct conn *c)
{
	if (c->pending_acks > 0) {
		c->pending_acks--;
		if (S.setup_pending > 0)
			S.setup_pending--;
	}
}

/*
 * Which server (-t) connection c goes to, when there are several: a fanout
 * group's members take turns (member k of group g on server (g + k) % n),
 * so that a group spans as many servers as it has members, up to all of
 * them, its senders on each, and small groups spread evenly over the
 * servers as a load balancer would spread their users; in dm a pair's
 * two partners (i, i ^ 1) are on different servers; otherwise turns by
 * index.  With one server, 0: nothing changes.
 */
unsigned
scen_target(const struct load *l, const struct conn *c)
{
	unsigned	i = (unsigned)(c - l->conns), n = l->o->ntargets;

	if (n <= 1)
		return 0;
	if (l->o->scenario == SCEN_FANOUT && S.ngroups > 0)
		return (i / S.ngroups + i % S.ngroups) % n;
	return i % n;
}

/* An event on a ready connection. */
void
scen_event(struct load *l, struct conn *c, const char *name, size_t nlen,
    const char *args, size_t alen)
{
	uint64_t	 now;

	if (l->o->scenario == SCEN_STORM)
		storm_event(l, c, name, nlen, args, alen);
	if (nlen == 15 && memcmp(name, "receive_message", 15) == 0) {
		l->c.delivered++;
		now = now_ns();
		S.last_arrival = now;
		latency(l, &l->lat, stamp(args, alen), now);
	} else if (nlen == 12 && memcmp(name, "message_sent", 12) == 0) {
		l->c.msg_sent++;
		now = now_ns();
		if (l->o->scenario == SCEN_DM_PERSIST)
			S.last_arrival = now;
		latency(l, &l->ack, stamp(args, alen), now);
		if (memmem(args, alen, "\"status\":\"persisted\"", 20) != NULL)
			l->c.persisted++;
	} else if ((nlen == 14 && memcmp(name, "user_connected", 14) == 0) ||
	    (nlen == 17 && memcmp(name, "user_disconnected", 17) == 0)) {
		l->c.presence++;
		S.last_arrival = l->now;
	}
	else if (nlen == 5 && memcmp(name, "error", 5) == 0) {
		l->c.errors++;
		if (l->slot->err[0] == '\0')
			snprintf(l->slot->err, sizeof(l->slot->err),
			    "error event: %.*s", (int)(alen > 120 ? 120 : alen),
			    args);
	}
}

/* Open connections up to the target, --concurrency handshakes at once. */
static void
open_more(struct load *l, uint64_t t0)
{
	uint64_t	hs, allowed;
	unsigned	limit = l->o->concurrency;

	if (l->o->connect_rate > 0) {
		allowed = (uint64_t)(l->o->connect_rate / l->nprocs *
		    (double)(l->now - t0) / 1e9) + 1;
		if (allowed <= S.next_open)
			return;
		if (allowed - S.next_open < limit)
			limit = (unsigned)(allowed - S.next_open);
	}
	while (S.next_open < S.target) {
		hs = l->c.started - l->c.ready - l->c.failed;
		if (hs >= limit)
			break;
		client_open(l, &l->conns[S.next_open++]);
	}
}

/* A message into S.msg: 42["event",{"<key>":"<id>","content":"<t>|x.."}] */
static size_t
build(struct load *l, const char *event, const char *key, uint32_t id)
{
	size_t	 need = (size_t)l->o->size + 160, n, tl;
	int	 k;

	if (need > S.msgcap) {
		S.msgcap = need;
		if ((S.msg = realloc(S.msg, S.msgcap)) == NULL)
			abort();
	}
	if (key[0] == 'r')
		k = snprintf(S.msg, S.msgcap,
		    "42[\"%s\",{\"%s\":\"%s%u\",\"content\":\"%llu|", event,
		    key, l->o->user_prefix, id,
		    (unsigned long long)now_ns());
	else
		k = snprintf(S.msg, S.msgcap,
		    "42[\"%s\",{\"%s\":\"g%u\",\"content\":\"%llu|", event,
		    key, id, (unsigned long long)now_ns());
	n = (size_t)k;
	tl = n - (size_t)(strstr(S.msg, "\"content\":\"") + 11 - S.msg);
	while (tl < l->o->size) {
		S.msg[n++] = 'x';
		tl++;
	}
	memcpy(S.msg + n, "\"}]", 3);
	return n + 3;
}

/* dm: the next ready sender whose socket is not backed up. */
static int
send_dm(struct load *l)
{
	struct conn	*c;
	unsigned	 i, j, tries;
	size_t		 n;

	for (tries = 0; tries < S.nsenders; tries++) {
		i = S.senders[S.rr++ % S.nsenders];
		c = &l->conns[i];
		j = (i ^ 1u) < l->nconns ? i ^ 1u : (i > 0 ? i - 1 : i);
		if (c->state != CS_READY || l->conns[j].state != CS_READY)
			continue;
		if (c->wlen - c->woff > BACKLOG_MAX) {
			l->c.skipped++;
			continue;
		}
		n = build(l, "send_message", "receiver_id", l->conns[j].user);
		if (client_send(l, c, S.msg, n) != 0)
			continue;
		l->c.sent++;
		l->c.expected++;
		return 1;
	}
	return 0;
}

/* fanout: the next group, its next member sends. */
static int
send_group(struct load *l)
{
	struct group	*g;
	struct conn	*c;
	unsigned	 tries;
	size_t		 n;

	for (tries = 0; tries < S.ngroups * 2; tries++) {
		g = &S.groups[S.grr++ % S.ngroups];
		if (g->n < 2)
			continue;
		c = &l->conns[g->member[g->rr++ % g->n]];
		if (c->state != CS_READY)
			continue;
		if (c->wlen - c->woff > BACKLOG_MAX) {
			l->c.skipped++;
			continue;
		}
		n = build(l, "send_group_message", "group_id",
		    S.first_group + (unsigned)(g - S.groups) * S.group_step);
		if (client_send(l, c, S.msg, n) != 0)
			continue;
		l->c.sent++;
		l->c.expected += g->n - 1;
		return 1;
	}
	return 0;
}

/* fanout joins, churn subscriptions; the others have nothing to set up. */
static void
setup_start(struct load *l)
{
	char		 msg[160], user[64];
	unsigned	 i, k;
	int		 n;

	S.setup_started = true;
	if (l->o->scenario == SCEN_FANOUT && S.ngroups > 0) {
		for (i = 0; i < l->nconns; i++) {
			struct conn *c = &l->conns[i];

			if (c->state != CS_READY)
				continue;
			n = snprintf(msg, sizeof(msg),
			    "421[\"join_room\",{\"group_id\":\"g%u\"}]",
			    S.first_group + (i % S.ngroups) * S.group_step);
			c->pending_acks = 1;
			S.setup_pending++;
			client_send(l, c, msg, (size_t)n);
		}
	} else if (l->o->scenario == SCEN_CHURN && S.nobs > 0) {
		for (i = S.nobs; i < l->nconns; i++) {
			struct conn *c = &l->conns[(i - S.nobs) % S.nobs];

			if (c->state != CS_READY)
				continue;
			for (k = 0; k < l->o->churn_users; k++) {
				client_user_name(l, l->conns[i].user +
				    k * l->o->conns, user, sizeof(user));
				n = snprintf(msg, sizeof(msg), "421[\"join_room"
				    "\",{\"room\":\"presence:%s\"}]", user);
				c->pending_acks++;
				S.setup_pending++;
				client_send(l, c, msg, (size_t)n);
			}
		}
	}
}

/* The measured phase begins: who sends to whom. */
static void
run_start(struct load *l)
{
	unsigned	i, k;

	S.run_started = true;
	S.run_start = l->sh->run_start;
	S.last_arrival = l->now;
	S.rate = l->o->rate / l->nprocs;
	S.maxinflight = l->o->window;
	if (l->o->rate > 0) {
		/* Open loop, but bounded: 5 s worth of deliveries. */
		S.maxinflight = (uint64_t)(S.rate * 5) + l->o->window;
		if (l->o->scenario == SCEN_FANOUT && S.ngroups > 0)
			S.maxinflight *= l->nconns / S.ngroups + 1;
	}
	if (SCEN_IS_DM(l->o->scenario)) {
		S.senders = calloc(l->nconns + 1, sizeof(*S.senders));
		for (i = 0; i < l->nconns; i++)
			if (l->conns[i].state == CS_READY)
				S.senders[S.nsenders++] = i;
	} else if (l->o->scenario == SCEN_FANOUT) {
		for (k = 0; k < S.ngroups; k++) {
			S.groups[k].member = calloc(l->nconns / S.ngroups + 2,
			    sizeof(unsigned));
			S.groups[k].n = 0;
		}
		for (i = 0; i < l->nconns; i++) {
			struct group *g = &S.groups[i % S.ngroups];

			if (l->conns[i].state == CS_READY &&
			    l->conns[i].pending_acks == 0)
				g->member[g->n++] = i;
		}
	} else if (l->o->scenario == SCEN_CHURN) {
		hist_init(&l->connlat);	/* the churners', not the observers' */
		for (i = l->nconns; i > S.nobs; i--)
			S.idle[S.nidle++] = i - 1;
	}
}

/*
 * What --rate makes due by now: 0 before the run's start.  l->now was read
 * before the loop's last epoll_wait and may precede the run_start the
 * coordinator wrote since; unsigned, that difference would be ~2^64 ns,
 * all of it due at once, skipped, and nothing sent for the whole run.
 */
static uint64_t
due_now(const struct load *l)
{
	if (l->now <= S.run_start)
		return 0;
	return (uint64_t)(S.rate * (double)(l->now - S.run_start) / 1e9);
}

/* Messages due now: by the clock (--rate) or by the window (flat out). */
static void
generate(struct load *l)
{
	uint64_t	 due, per;
	unsigned	 burst = 0;
	int		 (*one)(struct load *);

	if (SCEN_IS_DM(l->o->scenario) && S.nsenders > 0)
		one = send_dm;
	else if (l->o->scenario == SCEN_FANOUT && S.ngroups > 0)
		one = send_group;
	else
		return;
	per = l->o->scenario == SCEN_FANOUT ? l->nconns / S.ngroups : 1;
	if (S.rate > 0) {
		due = due_now(l);
		if (due > S.paced + (uint64_t)(S.rate / 10) + 1) {
			/* More than 100 ms behind: do not burst, skip. */
			l->c.skipped += due - S.paced - (uint64_t)(S.rate / 10);
			S.paced = due - (uint64_t)(S.rate / 10);
		}
		while (S.paced < due && burst++ < 10000) {
			S.paced++;
			if (inflight(l) + per > S.maxinflight) {
				l->c.skipped++;
				continue;
			}
			if (!one(l))
				break;
		}
		return;
	}
	while (inflight(l) + per <= S.maxinflight && burst++ < 1000)
		if (!one(l))
			break;
}

/* churn: start cycles as they are due; close held ones. */
static void
churn_tick(struct load *l, bool draining)
{
	uint64_t	 due, limit = (uint64_t)(l->o->hold_ms * 1e6);
	unsigned	 i;

	if (l->o->hold_ms > 0)
		for (i = S.nobs; i < l->nconns; i++) {
			struct conn *c = &l->conns[i];

			if (c->state == CS_READY && (draining ||
			    l->now - S.t_ready[i] >= limit)) {
				client_close(l, c, CLOSE_CLEAN);
				l->c.cycles++;
			}
		}
	if (draining)
		return;
	due = S.rate > 0 ? due_now(l) : UINT64_MAX;
	while (S.paced < due && S.nidle > 0) {
		i = S.idle[--S.nidle];
		S.paced++;
		/*
		 * Take turns among l->o->churn_users users, so that a cycle's
		 * connect never overlaps the previous cycle's disconnect of
		 * the same user (which would rightly announce nothing).
		 */
		l->conns[i].user = l->first_user + (i - S.nobs) +
		    (S.turn[i]++ % l->o->churn_users) * l->o->conns;
		client_open(l, &l->conns[i]);
	}
	if (S.rate > 0 && due > S.paced + (uint64_t)(S.rate / 10) + 1) {
		l->c.skipped += due - S.paced;	/* every slot busy */
		S.paced = due;
	}
}

/*
 * storm: the user number of an id "<prefix><digits>" starting at p (after
 * its opening quote), or -1 for another id or past the users.
 */
static long
storm_user(const struct load *l, const char *p, const char *end)
{
	size_t		 plen = strlen(l->o->user_prefix);
	unsigned long	 v = 0;
	const char	*q;

	if ((size_t)(end - p) <= plen || memcmp(p, l->o->user_prefix, plen) != 0)
		return -1;
	for (q = p + plen; q < end && *q >= '0' && *q <= '9' &&
	    v < l->o->conns; q++)
		v = v * 10 + (unsigned long)(*q - '0');
	if (q == p + plen || q >= end || *q != '"' || v >= l->o->conns)
		return -1;
	return (long)v;
}

/* storm: user u on (or off) in connection i's set. */
static void
storm_set(unsigned i, long u, bool on)
{
	uint64_t	*w = &S.bits[i * S.words + (size_t)u / 64];
	uint64_t	 m = 1ULL << (u % 64);

	if (on && !(*w & m)) {
		*w |= m;
		S.known[i]++;
	} else if (!on && (*w & m)) {
		*w &= ~m;
		S.known[i]--;
	}
}

/*
 * storm: what one event tells connection c of who is online.  online_users
 * (its first argument, an array of ids) replaces the set; user_connected
 * and user_disconnected {user_id} change one user.  A client whose set is
 * every user is settled.
 */
static void
storm_event(struct load *l, struct conn *c, const char *name, size_t nlen,
    const char *args, size_t alen)
{
	unsigned	 i = (unsigned)(c - l->conns);
	const char	*p = args, *end = args + alen;
	long		 u;

	if (S.bits == NULL)
		return;
	if (nlen == 12 && memcmp(name, "online_users", 12) == 0) {
		memset(&S.bits[i * S.words], 0, S.words * 8);
		S.known[i] = 0;
		if (p >= end || *p != '[')
			return;
		for (p++; p < end && *p != ']'; p++)
			if (*p == '"' && (u = storm_user(l, p + 1, end)) >= 0)
				storm_set(i, u, true);
	} else if ((nlen == 14 && memcmp(name, "user_connected", 14) == 0) ||
	    (nlen == 17 && memcmp(name, "user_disconnected", 17) == 0)) {
		p = memmem(args, alen, "\"user_id\":\"", 11);
		if (p == NULL || (u = storm_user(l, p + 11, end)) < 0)
			return;
		storm_set(i, u, nlen == 14);
	} else
		return;
	if (S.known[i] == l->o->conns && !S.full[i]) {
		S.full[i] = 1;
		l->c.settled++;
	} else if (S.known[i] != l->o->conns && S.full[i]) {
		S.full[i] = 0;
		l->c.settled--;
	}
}

/*
 * conns --rejoin: this process's share of the connections closes at once
 * (a clean close, as a page that goes away) and connects again at once,
 * as a reconnecting crowd would after a network blip: each one's time
 * from the close to ready again goes into l->rejoin.
 */
static void
rejoin_start(struct load *l)
{
	unsigned	i, n = 0;

	S.rejoin_started = true;
	S.rejoin_t0 = l->now;
	for (i = 0; i < l->nconns && n < S.rejoin; i++) {
		struct conn *c = &l->conns[i];

		if (c->state != CS_READY)
			continue;
		client_close(l, c, CLOSE_CLEAN);
		c->flags |= CF_REJOIN;
		n++;
	}
	S.rejoin_left = n;
	for (i = 0; i < l->nconns; i++)
		if (l->conns[i].flags & CF_REJOIN)
			client_open(l, &l->conns[i]);
}

/* Deliveries that stopped coming are written off after STALL_NS. */
static void
stall_check(struct load *l)
{
	uint64_t	n = inflight(l);

	if (n > 0 && l->now > S.last_arrival &&
	    l->now - S.last_arrival > STALL_NS) {
		l->c.lost += n;
		S.last_arrival = l->now;
	}
}

static void
publish(struct load *l, int stage)
{
	l->c.cpu_ns = self_cpu_ns();
	memcpy(&l->slot->c, &l->c, sizeof(l->c));
	if (stage >= 0)
		__atomic_store_n(&l->slot->stage, stage, __ATOMIC_RELEASE);
}

/* Close everything, hand over the histograms, exit. */
static void
finish(struct load *l)
{
	unsigned	i;

	for (i = 0; i < l->nconns; i++) {
		struct conn *c = &l->conns[i];

		if (c->fd != -1)
			client_close(l, c, CLOSE_ABORT);
	}
	memcpy(&l->slot->lat, &l->lat, sizeof(l->lat));
	memcpy(&l->slot->conn, &l->connlat, sizeof(l->connlat));
	memcpy(&l->slot->ack, &l->ack, sizeof(l->ack));
	memcpy(&l->slot->rejoin, &l->rejoin, sizeof(l->rejoin));
	publish(l, STAGE_DONE);
	_exit(0);
}

/*
 * The load process: its share of connections and users, then the loop.
 * id is this process's number, nprocs how many there are.
 */
void
scenario_child(const struct bench_opts *o, struct bench_shared *sh,
    unsigned id, unsigned nprocs)
{
	static struct load	 L;
	struct load		*l = &L;
	struct epoll_event	 evs[1024];
	struct rlimit		 rl;
	uint64_t		 t_connect, last_sec = 0;
	unsigned		 i, nchurn, nobs, base, obase;
	int			 n, phase, stage = STAGE_START, timeout;
	pid_t			 parent = getppid();

	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN);	/* the coordinator decides */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	l->o = o;
	l->sh = sh;
	l->id = id;
	l->nprocs = nprocs;
	l->slot = &sh->slot[id];
	l->slot->pid = getpid();
	hist_init(&l->lat);
	hist_init(&l->connlat);
	hist_init(&l->ack);
	hist_init(&l->rejoin);
	if ((l->ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		_exit(1);

	/* This process's share: conns (churn: slots), observers, groups. */
	nchurn = o->conns / nprocs + (id < o->conns % nprocs);
	base = id * (o->conns / nprocs) + (id < o->conns % nprocs ? id :
	    o->conns % nprocs);
	nobs = 0;
	obase = 0;
	if (o->scenario == SCEN_CHURN) {
		nobs = o->observers / nprocs + (id < o->observers % nprocs);
		obase = id * (o->observers / nprocs) +
		    (id < o->observers % nprocs ? id : o->observers % nprocs);
	}
	l->nconns = nchurn + nobs;
	S.rejoin = o->rejoin / nprocs + (id < o->rejoin % nprocs);
	l->first_user = base;
	if ((l->conns = calloc(l->nconns + 1, sizeof(*l->conns))) == NULL)
		_exit(1);
	S.nobs = nobs;
	for (i = 0; i < l->nconns; i++) {
		l->conns[i].fd = -1;
		if (i < nobs) {
			l->conns[i].user = OBSERVER_BASE + obase + i;
			l->conns[i].flags = CF_OBSERVER;
		} else
			l->conns[i].user = base + i - nobs;
	}
	if (o->scenario == SCEN_CHURN) {
		S.target = nobs;
		S.idle = calloc(l->nconns + 1, sizeof(unsigned));
		S.t_ready = calloc(l->nconns + 1, sizeof(uint64_t));
		S.turn = calloc(l->nconns + 1, sizeof(uint32_t));
	} else
		S.target = l->nconns;
	if (o->scenario == SCEN_STORM) {
		S.words = (o->conns + 63) / 64;
		S.bits = calloc((size_t)l->nconns * S.words + 1, 8);
		S.known = calloc(l->nconns + 1, sizeof(uint32_t));
		S.full = calloc(l->nconns + 1, 1);
		if (S.bits == NULL || S.known == NULL || S.full == NULL)
			_exit(1);
	}
	if (o->scenario == SCEN_FANOUT) {
		S.group_step = nprocs;
		S.first_group = id;
		S.ngroups = o->groups / nprocs + (id < o->groups % nprocs);
		if (S.ngroups > l->nconns)
			S.ngroups = l->nconns;
		S.groups = calloc(S.ngroups + 1, sizeof(*S.groups));
	}
	client_init(l);

	l->now = now_ns();
	t_connect = l->now;
	for (;;) {
		phase = __atomic_load_n(&sh->phase, __ATOMIC_ACQUIRE);
		switch (phase) {
		case PHASE_CONNECT:
			open_more(l, t_connect);
			if (stage < STAGE_CONNECTED &&
			    S.next_open == S.target &&
			    l->c.started == l->c.ready + l->c.failed)
				stage = STAGE_CONNECTED;
			break;
		case PHASE_SETUP:
			if (!S.setup_started)
				setup_start(l);
			if (S.setup_pending == 0)
				stage = STAGE_SETUP_DONE;
			break;
		case PHASE_RUN:
			if (!S.run_started)
				run_start(l);
			if (o->scenario == SCEN_CHURN)
				churn_tick(l, false);
			else
				generate(l);
			stall_check(l);
			break;
		case PHASE_DRAIN:
			if (o->scenario == SCEN_CHURN) {
				/*
				 * Every handshake over, and the observers
				 * heard both events of every cycle (or
				 * nothing came for STALL_NS).
				 */
				churn_tick(l, true);
				if (l->c.started == l->c.ready + l->c.failed &&
				    (l->c.presence >= 2 * l->c.cycles ||
				    (l->now > S.last_arrival && l->now -
				    S.last_arrival > STALL_NS)))
					stage = STAGE_DRAINED;
			} else {
				stall_check(l);
				if (inflight(l) == 0)
					stage = STAGE_DRAINED;
			}
			break;
		case PHASE_REJOIN:
			if (!S.rejoin_started)
				rejoin_start(l);
			if (S.rejoin_left == 0)
				stage = STAGE_REJOINED;
			break;
		default:
			finish(l);
		}
		publish(l, stage);
		timeout = phase == PHASE_RUN || (phase == PHASE_CONNECT &&
		    o->connect_rate > 0) ? 1 : 10;
		n = epoll_wait(l->ep, evs, 1024, timeout);
		if (n == -1 && errno != EINTR)
			_exit(1);
		l->now = now_ns();
		for (i = 0; i < (unsigned)(n > 0 ? n : 0); i++)
			client_event(l, evs[i].data.ptr, evs[i].events);
		if (l->now - last_sec >= 1000000000ULL) {
			last_sec = l->now;
			client_timeouts(l);
			if (getppid() != parent)
				finish(l);
		}
	}
}
