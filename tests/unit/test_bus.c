/*
 * test_bus.c: the bus between workers (bus.c), with real processes.
 *
 * nng starts threads, so the cmocka process never touches it: it forks one
 * child per worker (each with its own libev loop and bus under a mkdtemp
 * directory), drives them through a command pipe and reads what they saw
 * from a shared event pipe.  Guards against what NOTES.md measured on
 * bus0: bursts of separate messages losing 70-85%.
 *
 * BUS_TEST_N, BUS_TEST_BURST, BUS_TEST_WORKERS and BUS_TEST_RECSIZE change
 * the load of test_burst (defaults 20000, 2000, 4, 16); BUS_TEST_WAIT_UP=1
 * makes it wait for every link before sending.  It prints what it
 * measured.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/pipeline0/push.h>

#include "bus.h"
#include "log.h"

#define NW_MAX		8
#define T_TEXT		7		/* record types used by the tests */
#define T_BURST		8
#define T_BIG		9
#define BIG_LEN		(700u * 1024)

enum { EV_UP = 1, EV_DOWN, EV_RECV, EV_STATS, EV_DONE, EV_FAIL };
enum { MODE_BURST, MODE_SCRIPT, MODE_MALFORMED };

struct evt {
	int			kind;
	int			who;		/* the child that reports */
	int			wid;		/* peer, or sender of a record */
	char			text[24];
	long			n[NW_MAX];	/* records received per sender */
	long			errors;		/* out of order, duplicated */
	double			secs;
	struct bus_stats	st;
};

struct cmd {
	char	op;
	char	text[23];
};

struct child {
	struct ev_loop	*loop;
	struct bus	*bus;
	int		 wid, nw, mode;
	ev_io		 cmdio;
	ev_timer	 deadline, poll;
	ev_check	 burst;
	ev_idle		 spin;
	long		 n, per, recsize, sent;
	long		 next[NW_MAX];
	long		 errors;
	int		 ups, wait_up;
	double		 t0;
};

static char	 dir[64];
static int	 evfd[2] = { -1, -1 };
static pid_t	 pids[NW_MAX];
static int	 cmdfds[NW_MAX];
static struct evt stash[64];		/* read while waiting for another */
static size_t	 nstash;

static long
envl(const char *name, long def)
{
	const char	*s = getenv(name);

	return s != NULL && *s != '\0' ? strtol(s, NULL, 10) : def;
}

/* --- in the children ---------------------------------------------------- */

static void
report(struct child *c, int kind, int wid, const char *text)
{
	struct evt	e;

	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.who = c->wid;
	e.wid = wid;
	if (text != NULL)
		snprintf(e.text, sizeof(e.text), "%s", text);
	memcpy(e.n, c->next, sizeof(e.n));
	e.errors = c->errors;
	e.secs = ev_now(c->loop) - c->t0;
	if (c->bus != NULL)
		bus_stats(c->bus, &e.st);
	if (write(evfd[1], &e, sizeof(e)) != sizeof(e))
		_exit(3);
}

static int
big_ok(const uint8_t *p, size_t len, int k)
{
	size_t	i;

	if (len != BIG_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (p[i] != (uint8_t)(i * 7 + k))
			return 0;
	return 1;
}

static void
on_recv(void *arg, int from, uint8_t type, const void *data, size_t len)
{
	struct child	*c = arg;
	uint32_t	 v[2];
	char		 text[24];

	if (type == T_BURST && len >= sizeof(v) && from < NW_MAX) {
		memcpy(v, data, sizeof(v));
		if ((int)v[0] != from || v[1] != (uint32_t)c->next[from])
			c->errors++;
		c->next[from] = (long)v[1] + 1;
	} else if (type == T_BIG) {
		snprintf(text, sizeof(text), "big%s",
		    big_ok(data, len, ((const uint8_t *)data)[1] - 7) ?
		    "ok" : "bad");
		report(c, EV_RECV, from, text);
	} else {
		snprintf(text, sizeof(text), "%.*s", (int)len,
		    (const char *)data);
		report(c, EV_RECV, from, text);
	}
}

/* As presence would, send our state to a peer that we reach anew. */
static void
on_up(void *arg, int wid)
{
	struct child	*c = arg;

	report(c, EV_UP, wid, NULL);
	c->ups++;
	if (c->mode == MODE_SCRIPT)
		bus_send(c->bus, T_TEXT, "digest", 6);
}

static void
on_down(void *arg, int wid)
{
	report(arg, EV_DOWN, wid, NULL);
}

static const struct bus_ops ops = { on_recv, on_up, on_down };

/* One burst per loop iteration; the bus sends it as one message. */
static void
burst_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	struct child	*c = w->data;
	uint8_t		 rec[256];
	uint32_t	 v[2];
	long		 i;

	if (c->wait_up && c->ups < c->nw - 1)
		return;
	memset(rec, 0, sizeof(rec));
	for (i = 0; i < c->per && c->sent < c->n; i++, c->sent++) {
		v[0] = c->wid;
		v[1] = c->sent;
		memcpy(rec, v, sizeof(v));
		if (bus_send(c->bus, T_BURST, rec, c->recsize) != 0)
			c->errors++;
	}
	if (c->sent == c->n) {
		ev_check_stop(loop, w);
		ev_idle_stop(loop, &c->spin);
	}
	(void)revents;
}

static void
idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

/* Done when every record of every peer is in and our backlog is empty. */
static void
poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct child		*c = w->data;
	struct bus_stats	 st;
	int			 i;

	if (c->sent < c->n)
		return;
	for (i = 0; i < c->nw; i++)
		if (i != c->wid && c->next[i] < c->n)
			return;
	bus_stats(c->bus, &st);
	if (st.backlog != 0)
		return;
	report(c, EV_DONE, -1, NULL);
	ev_timer_stop(loop, w);
	(void)revents;
}

static void
deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	report(w->data, EV_FAIL, -1, "deadline");
	ev_break(loop, EVBREAK_ALL);
	(void)revents;
}

static void
cmd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct child	*c = w->data;
	struct cmd	 cmd;
	uint8_t		*big;
	size_t		 i;
	int		 k, wids[NW_MAX];

	if (read(w->fd, &cmd, sizeof(cmd)) != sizeof(cmd) || cmd.op == 'q') {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	switch (cmd.op) {
	case 's':
		bus_send(c->bus, T_TEXT, cmd.text, strlen(cmd.text));
		break;
	case 'p':
		bus_set_peers(c->bus, NULL, 0);
		break;
	case 'P':
		/* Every other worker joins the set. */
		for (k = i = 0; k < c->nw; k++)
			if (k != c->wid)
				wids[i++] = k;
		bus_set_peers(c->bus, wids, i);
		break;
	case 'S':
		report(c, EV_STATS, -1, NULL);
		break;
	case 'b':
		/* Three records, each over half the cap: three messages. */
		if ((big = malloc(BIG_LEN)) == NULL)
			_exit(3);
		for (k = 0; k < 3; k++) {
			for (i = 0; i < BIG_LEN; i++)
				big[i] = (uint8_t)(i * 7 + k);
			bus_send(c->bus, T_BIG, big, BIG_LEN);
		}
		free(big);
		break;
	case 'B':
		/* 48 MiB while the peer is stopped: past BUS_BACKLOG_MAX. */
		if ((big = calloc(1, BUS_RECORD_MAX)) == NULL)
			_exit(3);
		for (k = 0; k < 48; k++)
			bus_send(c->bus, T_TEXT, big, BUS_RECORD_MAX);
		free(big);
		break;
	}
	(void)revents;
}

static void	child_malformed(struct child *);

static void
child_main(int wid, int nw, const int *peers, size_t npeers, int mode,
    int cmdfd)
{
	struct child	c;

	memset(&c, 0, sizeof(c));
	log_init(LOG_LEVEL_WARN);
	log_procinit("worker", wid);
	c.loop = ev_loop_new(EVFLAG_AUTO);
	c.wid = wid;
	c.nw = nw;
	c.mode = mode;
	c.t0 = ev_time();
	if ((c.bus = bus_new(c.loop, dir, wid, &ops, &c)) == NULL) {
		report(&c, EV_FAIL, -1, "bus_new");
		_exit(1);
	}
	if (mode == MODE_MALFORMED)
		child_malformed(&c);
	else if (bus_set_peers(c.bus, peers, npeers) != 0)
		report(&c, EV_FAIL, -1, "bus_set_peers");
	ev_io_init(&c.cmdio, cmd_cb, cmdfd, EV_READ);
	c.cmdio.data = &c;
	ev_io_start(c.loop, &c.cmdio);
	ev_timer_init(&c.deadline, deadline_cb, 18., 0.);
	c.deadline.data = &c;
	ev_timer_start(c.loop, &c.deadline);
	if (mode == MODE_BURST) {
		c.n = envl("BUS_TEST_N", 20000);
		c.per = envl("BUS_TEST_BURST", 2000);
		c.recsize = envl("BUS_TEST_RECSIZE", 16);
		c.wait_up = envl("BUS_TEST_WAIT_UP", 0) != 0;
		if (c.recsize < 8 || c.recsize > 256)
			c.recsize = 16;
		ev_check_init(&c.burst, burst_cb);
		c.burst.data = &c;
		ev_check_start(c.loop, &c.burst);
		ev_idle_init(&c.spin, idle_cb);
		ev_idle_start(c.loop, &c.spin);
		ev_timer_init(&c.poll, poll_cb, 0.002, 0.002);
		c.poll.data = &c;
		ev_timer_start(c.loop, &c.poll);
	}
	ev_run(c.loop, 0);
	bus_free(c.bus);
	ev_loop_destroy(c.loop);
	_exit(0);
}

/* --- in the cmocka process ---------------------------------------------- */

static void
spawn(int wid, int nw, const int *peers, size_t npeers, int mode)
{
	int	p[2], i;
	pid_t	pid;

	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		/* Siblings' command pipes: their EOF must not wait for us. */
		for (i = 0; i < NW_MAX; i++)
			if (pids[i] > 0)
				close(cmdfds[i]);
		close(p[1]);
		close(evfd[0]);
		child_main(wid, nw, peers, npeers, mode, p[0]);
	}
	assert_true(pid > 0);
	close(p[0]);
	pids[wid] = pid;
	cmdfds[wid] = p[1];
}

static void
cmd(int wid, char op, const char *text)
{
	struct cmd	c;

	memset(&c, 0, sizeof(c));
	c.op = op;
	if (text != NULL)
		snprintf(c.text, sizeof(c.text), "%s", text);
	assert_int_equal(write(cmdfds[wid], &c, sizeof(c)), sizeof(c));
}

static int
match(const struct evt *e, int kind, int who, int wid, const char *text)
{
	return e->kind == kind && (who == -1 || e->who == who) &&
	    (wid == -1 || e->wid == wid) &&
	    (text == NULL || strcmp(e->text, text) == 0);
}

/*
 * Wait for the event that matches (-1 and NULL match anything); others
 * are kept for a later call.
 */
static void
expect(int kind, int who, int wid, const char *text, struct evt *out)
{
	struct evt	e;
	struct pollfd	pfd;
	double		end = ev_time() + 8.;
	size_t		i;
	int		ms;

	for (i = 0; i < nstash; i++) {
		if (match(&stash[i], kind, who, wid, text)) {
			e = stash[i];
			memmove(&stash[i], &stash[i + 1],
			    (--nstash - i) * sizeof(stash[0]));
			goto found;
		}
	}
	pfd.fd = evfd[0];
	pfd.events = POLLIN;
	for (;;) {
		ms = (int)((end - ev_time()) * 1000);
		if (ms <= 0 || poll(&pfd, 1, ms) != 1)
			fail_msg("timeout waiting for event %d from %d", kind,
			    who);
		assert_int_equal(read(evfd[0], &e, sizeof(e)), sizeof(e));
		if (e.kind == EV_FAIL)
			fail_msg("worker %d: %s", e.who, e.text);
		if (match(&e, kind, who, wid, text))
			break;
		if (nstash < sizeof(stash) / sizeof(stash[0]))
			stash[nstash++] = e;
	}
found:
	if (out != NULL)
		*out = e;
}

static void
reap(int wid)
{
	int	i, status;

	if (pids[wid] <= 0)
		return;
	close(cmdfds[wid]);	/* EOF on its command pipe: it exits */
	for (i = 0; i < 300; i++) {
		if (waitpid(pids[wid], &status, WNOHANG) == pids[wid])
			break;
		usleep(10000);
	}
	if (i == 300) {
		kill(pids[wid], SIGKILL);
		waitpid(pids[wid], &status, 0);
	}
	pids[wid] = 0;
}

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/sgw-bus.XXXXXX");
	if (mkdtemp(dir) == NULL || pipe(evfd) != 0)
		return -1;
	memset(pids, 0, sizeof(pids));
	nstash = 0;
	(void)state;
	return 0;
}

/* Kill what a failed test left, and the directory must now be empty. */
static int
teardown(void **state)
{
	char	path[128];
	int	i, rv;

	for (i = 0; i < NW_MAX; i++)
		reap(i);
	close(evfd[0]);
	close(evfd[1]);
	rv = rmdir(dir);
	for (i = 0; i < NW_MAX && rv != 0; i++) {
		snprintf(path, sizeof(path), "%s/bus-%d.ipc", dir, i);
		unlink(path);
	}
	if (rv != 0)
		rmdir(dir);
	(void)state;
	return rv;
}

/*
 * Every worker sends N numbered records in bursts, all at once, from the
 * moment it starts (before its links are up: the backlog keeps them).
 * Every record must arrive once and in order, with no gap and no drop.
 */
static void
test_burst(void **state)
{
	struct evt	e;
	int		peers[NW_MAX], nw, i, j;
	long		n;
	double		worst = 0;
	uint64_t	msgs = 0, batches = 0;

	nw = (int)envl("BUS_TEST_WORKERS", 4);
	if (nw < 2 || nw > NW_MAX)
		nw = 4;
	n = envl("BUS_TEST_N", 20000);
	for (i = 0; i < nw; i++)
		peers[i] = i;
	for (i = 0; i < nw; i++)
		spawn(i, nw, peers, nw, MODE_BURST);
	for (i = 0; i < nw; i++) {
		expect(EV_DONE, -1, -1, NULL, &e);
		for (j = 0; j < nw; j++)
			if (j != e.who)
				assert_int_equal(e.n[j], n);
		assert_int_equal(e.errors, 0);
		assert_int_equal(e.st.gaps, 0);
		assert_int_equal(e.st.dropped, 0);
		assert_int_equal(e.st.discarded, 0);
		assert_int_equal(e.st.malformed, 0);
		assert_int_equal(e.st.recv_records, (uint64_t)n * (nw - 1));
		if (e.secs > worst)
			worst = e.secs;
		msgs += e.st.sent_msgs;
		batches += e.st.batches;
	}
	printf("# bus: %d workers x %ld records, %ld per iteration: "
	    "%llu batches, %llu messages, 0 lost, %.3f s\n", nw, n,
	    envl("BUS_TEST_BURST", 2000), (unsigned long long)batches,
	    (unsigned long long)msgs, worst);
	for (i = 0; i < nw; i++)
		reap(i);
	(void)state;
}

/*
 * A worker's statistics once it counts at least `foreign` records from
 * outside its set: what is waited for is the record itself, not a time
 * (the children's own deadline bounds the wait).
 */
static void
stats_until(int who, long foreign, struct evt *e)
{
	for (;;) {
		cmd(who, 'S', NULL);
		expect(EV_STATS, who, -1, NULL, e);
		if ((long)e->st.foreign >= foreign)
			return;
		usleep(20000);
	}
}

/*
 * A peer killed with SIGKILL fires peer_down; its successor (same wid,
 * new process, the old .ipc file still there) is dialed again and both
 * directions work; a peer taken out of the set fires peer_down and what
 * it still sends is dropped.
 */
static void
test_restart(void **state)
{
	static const int	 p0[] = { 1 }, p1[] = { 0 };
	struct evt		 e;

	spawn(0, 2, p0, 1, MODE_SCRIPT);
	spawn(1, 2, p1, 1, MODE_SCRIPT);
	expect(EV_UP, 0, 1, NULL, NULL);
	expect(EV_UP, 1, 0, NULL, NULL);
	expect(EV_RECV, 0, 1, "digest", NULL);
	expect(EV_RECV, 1, 0, "digest", NULL);
	cmd(1, 's', "b1");
	expect(EV_RECV, 0, 1, "b1", NULL);
	cmd(0, 's', "a1");
	expect(EV_RECV, 1, 0, "a1", NULL);

	kill(pids[1], SIGKILL);
	waitpid(pids[1], NULL, 0);
	pids[1] = 0;
	close(cmdfds[1]);
	expect(EV_DOWN, 0, 1, NULL, NULL);

	spawn(1, 2, p1, 1, MODE_SCRIPT);
	expect(EV_UP, 0, 1, NULL, NULL);
	expect(EV_RECV, 0, 1, "digest", NULL);
	expect(EV_RECV, 1, 0, "digest", NULL);
	cmd(0, 's', "a2");
	expect(EV_RECV, 1, 0, "a2", NULL);
	cmd(1, 's', "b2");
	expect(EV_RECV, 0, 1, "b2", NULL);
	cmd(0, 'b', NULL);
	expect(EV_RECV, 1, 0, "bigok", NULL);
	expect(EV_RECV, 1, 0, "bigok", NULL);
	expect(EV_RECV, 1, 0, "bigok", NULL);

	cmd(0, 'p', NULL);
	expect(EV_DOWN, 0, 1, NULL, NULL);
	cmd(1, 's', "b3");
	cmd(1, 'S', NULL);
	expect(EV_STATS, 1, -1, NULL, &e);
	assert_true(e.st.sent_msgs >= 2);
	/* b3 arrives from a peer no longer in the set: counted, not taken. */
	stats_until(0, 1, &e);
	assert_int_equal(e.st.gaps, 0);
	assert_int_equal(e.st.malformed, 0);
	assert_int_equal(e.st.foreign, 1);
	assert_int_equal(e.st.recv_records, 4);
	assert_int_equal(e.st.relistens, 0);
	reap(0);
	reap(1);
	(void)state;
}

/*
 * A peer that reaches us before the master tells us of it: its first
 * records (its digest) are ignored; when it joins our set, it is asked to
 * send them again, and its link is left open (closing a pipe while a
 * message arrives hangs nng 1.5.2's reaper: see bus.c).
 */
static void
test_late_join(void **state)
{
	static const int	 p1[] = { 0 };
	struct evt		 e;

	spawn(0, 2, NULL, 0, MODE_SCRIPT);
	spawn(1, 2, p1, 1, MODE_SCRIPT);
	expect(EV_UP, 1, 0, NULL, NULL);
	stats_until(0, 1, &e);		/* the digest, ignored */
	assert_true(e.st.foreign >= 1);
	assert_int_equal(e.st.recv_records, 0);
	cmd(0, 'P', NULL);
	expect(EV_UP, 0, 1, NULL, NULL);
	expect(EV_RECV, 1, 0, "digest", NULL);
	expect(EV_RECV, 0, 1, "digest", NULL);	/* sent again */
	cmd(1, 's', "b1");
	expect(EV_RECV, 0, 1, "b1", NULL);
	cmd(0, 'S', NULL);
	expect(EV_STATS, 0, -1, NULL, &e);
	assert_int_equal(e.st.gaps, 0);
	assert_int_equal(e.st.malformed, 0);
	/*
	 * What 1 sent before the join was ignored, what came after was taken,
	 * none lost or doubled.  1 sends one digest more than the two above
	 * (an open question for bus.c), on either side of the join: the sum
	 * is fixed, not the split.
	 */
	assert_true(e.st.recv_records >= 2);
	assert_int_equal(e.st.foreign + e.st.recv_records, 4);
	reap(0);
	reap(1);
	(void)state;
}

/* Connect to a bus address and leave before nng's handshake. */
static void
probe(int wid)
{
	struct sockaddr_un	sa;
	int			fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/bus-%d.ipc", dir,
	    wid);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	(void)connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
}

/*
 * nng 1.5.2 (nng#1518): a client that leaves during the handshake can stop
 * a listener for good, and a peer's new link then hangs unseen.  Probe
 * worker 0's address that way, restart worker 1: its state must still
 * reach worker 0 (the watchdog restarts the listener if it died).
 */
static void
test_relisten(void **state)
{
	static const int	 p0[] = { 1 }, p1[] = { 0 };
	struct evt		 e;
	int			 i;

	spawn(0, 2, p0, 1, MODE_SCRIPT);
	spawn(1, 2, p1, 1, MODE_SCRIPT);
	expect(EV_RECV, 0, 1, "digest", NULL);
	for (i = 0; i < 3; i++) {
		probe(0);
		usleep(10000);
	}
	kill(pids[1], SIGKILL);
	waitpid(pids[1], NULL, 0);
	pids[1] = 0;
	close(cmdfds[1]);
	expect(EV_DOWN, 0, 1, NULL, NULL);
	spawn(1, 2, p1, 1, MODE_SCRIPT);
	expect(EV_RECV, 0, 1, "digest", NULL);
	cmd(1, 's', "b2");
	expect(EV_RECV, 0, 1, "b2", NULL);
	cmd(0, 'S', NULL);
	expect(EV_STATS, 0, -1, NULL, &e);
	assert_true(e.st.relistens <= 1);
	printf("# bus: listener restarts after the probe: %llu\n",
	    (unsigned long long)e.st.relistens);
	reap(0);
	reap(1);
	(void)state;
}

/*
 * Wait until worker who has handed its whole backlog to nng, polling its
 * statistics; fails after 10 s (the children's own deadline is 18 s).
 */
static void
backlog_drained(int who)
{
	struct evt	e;
	int		i;

	for (i = 0; i < 500; i++) {
		cmd(who, 'S', NULL);
		expect(EV_STATS, who, -1, NULL, &e);
		if (e.st.backlog == 0)
			return;
		usleep(20000);
	}
	fail_msg("worker %d: backlog of %llu bytes not drained in 10 s", who,
	    (unsigned long long)e.st.backlog);
}

/*
 * A receiver stopped (SIGSTOP) while 48 MiB are sent to it: the sender's
 * backlog stops at BUS_BACKLOG_MAX and drops the rest, and once the
 * receiver runs again it counts exactly as many gaps as were dropped.
 */
static void
test_slow_peer(void **state)
{
	static const int	 p0[] = { 1 }, p1[] = { 0 };
	struct evt		 a, b;

	spawn(0, 2, p0, 1, MODE_SCRIPT);
	spawn(1, 2, p1, 1, MODE_SCRIPT);
	expect(EV_UP, 0, 1, NULL, NULL);
	expect(EV_UP, 1, 0, NULL, NULL);
	kill(pids[1], SIGSTOP);
	cmd(0, 'B', NULL);
	cmd(0, 'S', NULL);
	expect(EV_STATS, 0, -1, NULL, &a);
	assert_true(a.st.dropped > 0);
	assert_true(a.st.backlog <= BUS_BACKLOG_MAX);
	kill(pids[1], SIGCONT);
	/*
	 * "after" sent into a full backlog would be dropped: wait for the
	 * cause, the backlog handed over to the running peer.
	 */
	backlog_drained(0);
	cmd(0, 's', "after");
	expect(EV_RECV, 1, 0, "after", NULL);
	cmd(0, 'S', NULL);
	expect(EV_STATS, 0, -1, NULL, &a);
	cmd(1, 'S', NULL);
	expect(EV_STATS, 1, -1, NULL, &b);
	assert_int_equal(a.st.backlog, 0);
	assert_int_equal(b.st.gaps, a.st.dropped);
	/* The 48, "after", and the digest sent on peer_up. */
	assert_int_equal(b.st.recv_records + a.st.dropped, 48 + 2);
	printf("# bus: slow peer: 48 x 1 MiB, %llu dropped, %llu gaps\n",
	    (unsigned long long)a.st.dropped, (unsigned long long)b.st.gaps);
	reap(0);
	reap(1);
	(void)state;
}

/* --- malformed input, from a raw push socket posing as worker 1 --------- */

static nng_socket	raw;	/* open until all is in: nng does not linger */

static void
mal_poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct child		*c = w->data;
	struct bus_stats	 st;

	bus_stats(c->bus, &st);
	if (st.recv_msgs < 14)
		return;
	ev_timer_stop(loop, w);
	nng_close(raw);
	log_setlevel(LOG_LEVEL_ERROR);	/* the warning is expected */
	if (bus_new(c->loop, dir, c->wid, &ops, c) != NULL)
		report(c, EV_FAIL, -1, "second bus on a live address");
	log_setlevel(LOG_LEVEL_WARN);
	report(c, EV_STATS, -1, NULL);
	(void)revents;
}

static void
mal_send(nng_socket s, uint32_t magic, int from, uint32_t chan, uint32_t seq,
    uint32_t count, const char *recs, size_t len)
{
	uint8_t	buf[128];
	size_t	i;

	for (i = 0; i < 4; i++) {
		buf[i] = magic >> (24 - 8 * i);
		buf[8 + i] = chan >> (24 - 8 * i);
		buf[12 + i] = seq >> (24 - 8 * i);
		buf[16 + i] = count >> (24 - 8 * i);
	}
	buf[4] = from >> 8;
	buf[5] = from & 0xff;
	buf[6] = buf[7] = 0;
	memcpy(buf + BUS_HDR_LEN, recs, len);
	if (nng_send(s, buf, BUS_HDR_LEN + len, 0) != 0)
		_exit(3);
}

#define M	0x53474201u
#define R(s)	s, sizeof(s) - 1

static void
child_malformed(struct child *c)
{
	static const int	 p[] = { 1 };
	static char		 big[BUS_RECORD_MAX + 1];
	static const char	 shorthdr[10] = "SGB\1";
	char			 url[128];
	nng_socket		 s;

	if (bus_send(c->bus, T_TEXT, big, sizeof(big)) != -1 ||
	    errno != EMSGSIZE)
		report(c, EV_FAIL, -1, "oversized record taken");
	if (bus_new(c->loop, dir, BUS_WID_MAX + 1, &ops, c) != NULL)
		report(c, EV_FAIL, -1, "wid out of range taken");
	bus_set_peers(c->bus, p, 1);
	snprintf(url, sizeof(url), "ipc://%s/bus-%d.ipc", dir, c->wid);
	if (nng_push0_open(&s) != 0 || nng_dial(s, url, NULL, 0) != 0)
		_exit(3);
	mal_send(s, M, 1, 100, 1, 2, R("\7\0\0\0\2v1\7\0\0\0\2v2"));
	mal_send(s, M + 1, 1, 100, 2, 1, R("\7\0\0\0\1x"));	/* magic */
	if (nng_send(s, (void *)shorthdr, 10, 0) != 0)		/* short */
		_exit(3);
	mal_send(s, M, 1, 100, 2, 1, R("\7\0\0\0\62abc"));	/* truncated */
	mal_send(s, M, 1, 100, 2, 1, R("\7\0\0\0\1xyz"));	/* trailing */
	mal_send(s, M, 1, 100, 2, 0xffffffffu, R("\7\0\0\0\1x"));
	mal_send(s, M, 5000, 100, 2, 1, R("\7\0\0\0\1x"));	/* bad wid */
	mal_send(s, M, 0, 100, 2, 1, R("\7\0\0\0\1x"));	/* ourselves */
	mal_send(s, M, 2, 100, 2, 1, R("\7\0\0\0\1x"));	/* not a peer */
	mal_send(s, M, 1, 100, 0, 1, R("\7\0\0\0\1x"));	/* seq 0 */
	mal_send(s, M, 1, 100, 4, 1, R("\7\0\0\0\2v3"));	/* 2 lost */
	mal_send(s, M, 1, 100, 4, 1, R("\7\0\0\0\2v9"));	/* replayed */
	mal_send(s, M, 1, 200, 1, 1, R("\7\0\0\0\2v4"));	/* new link */
	mal_send(s, M, 1, 200, 2, 0, "", 0);			/* empty */
	raw = s;
	ev_timer_init(&c->poll, mal_poll_cb, 0.005, 0.005);
	c->poll.data = c;
	ev_timer_start(c->loop, &c->poll);
}

/*
 * Malformed messages are dropped whole and counted, never delivered in
 * part; a message from ourselves or from outside the set is ignored;
 * sequence gaps are counted, a replay is refused, a new link starts over.
 */
static void
test_malformed(void **state)
{
	struct evt	e;

	spawn(0, 1, NULL, 0, MODE_MALFORMED);
	expect(EV_RECV, 0, 1, "v1", NULL);
	expect(EV_RECV, 0, 1, "v2", NULL);
	expect(EV_RECV, 0, 1, "v3", NULL);
	expect(EV_RECV, 0, 1, "v4", NULL);
	expect(EV_STATS, 0, -1, NULL, &e);
	assert_int_equal(e.st.recv_msgs, 14);
	assert_int_equal(e.st.recv_records, 4);
	assert_int_equal(e.st.malformed, 8);
	assert_int_equal(e.st.foreign, 2);
	assert_int_equal(e.st.gaps, 2);
	reap(0);
	(void)state;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_join, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_relisten, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_slow_peer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup,
		    teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
