/*
 * The coordinator: forks the load processes, walks them through the
 * phases, samples the servers' CPU and memory at the edges of each phase,
 * prints a progress line on stderr every second, and gathers the result.
 * Every wait is bounded (--timeout per handshake, --max-time overall); a
 * load process that dies ends the run, reported as a failure.
 */
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define SETUP_TIMEOUT	60.0	/* joins, subscriptions */
#define DRAIN_TIMEOUT	5.0
#define REJOIN_TIMEOUT	60.0	/* beyond one handshake's --timeout */
#define CLOSE_TIMEOUT	10.0

static volatile sig_atomic_t	 interrupted;

static struct {
	const struct bench_opts	*o;
	struct bench_shared	*sh;
	pid_t			 pid[BENCH_MAXPROC];
	unsigned		 n;
	unsigned		 alive;
	uint64_t		 t0;		/* run start */
	uint64_t		 last_progress;
	struct bench_counters	 last;
	struct server_sample	 last_srv;
	const char		*what;
	bool			 failed;
	uint64_t		 rss_peak_kb, pss_peak_kb;	/* servers' */
} C;

static void	 on_signal(int);
static void	 sum(struct bench_counters *);
static int	 min_stage(void);
static void	 reap(bool);
static void	 progress(bool);
static int	 wait_stage(int, double, const char *);
static void	 sleep_for(double, const char *);
static void	 set_phase(int);
static void	 phase_cmd(const struct bench_opts *, const char *);

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* The counters of every load process, added up. */
static void
sum(struct bench_counters *t)
{
	uint64_t	*d = (uint64_t *)t;
	unsigned	 i, k, nf = sizeof(*t) / sizeof(uint64_t);

	memset(t, 0, sizeof(*t));
	for (i = 0; i < C.n; i++) {
		const volatile uint64_t *s =
		    (const volatile uint64_t *)&C.sh->slot[i].c;

		for (k = 0; k < nf; k++)
			d[k] += s[k];
	}
}

static int
min_stage(void)
{
	unsigned	i;
	int		m = STAGE_DONE, s;

	for (i = 0; i < C.n; i++) {
		s = __atomic_load_n(&C.sh->slot[i].stage, __ATOMIC_ACQUIRE);
		if (s < m)
			m = s;
	}
	return m;
}

/* Collect load processes that exited; one that died early fails the run. */
static void
reap(bool block)
{
	pid_t		pid;
	int		status;
	unsigned	i;

	while (C.alive > 0 &&
	    (pid = waitpid(-1, &status, block ? 0 : WNOHANG)) > 0) {
		for (i = 0; i < C.n; i++)
			if (C.pid[i] == pid) {
				C.pid[i] = 0;
				C.alive--;
				if (C.sh->slot[i].stage != STAGE_DONE) {
					C.failed = true;
					fprintf(stderr, "bench: load process %u "
					    "(pid %d) died (status %d)\n", i,
					    (int)pid, status);
				}
			}
		if (block)
			break;
	}
}

/* One line on stderr: what happened in the last second. */
static void
progress(bool force)
{
	struct bench_counters	 c;
	struct server_sample	 s;
	uint64_t		 now = now_ns();
	double			 dt, cpu;
	long			 hz = sysconf(_SC_CLK_TCK);

	if (!force && now - C.last_progress < 1000000000ULL)
		return;
	dt = (double)(now - C.last_progress) / 1e9;
	if (dt <= 0)
		dt = 1;
	sum(&c);
	server_sample(C.o, &s);
	cpu = s.ok && C.last_srv.ok ? (double)(s.cpu_ticks -
	    C.last_srv.cpu_ticks) / (double)hz / dt * 100 : -1;
	if (!C.o->quiet) {
		fprintf(stderr, "[%6.1fs] %-7s %-8s ready %llu/%llu failed %llu"
		    " | sent %.0f/s delivered %.0f/s", (double)(now - C.t0) /
		    1e9, bench_scenario_names[C.o->scenario], C.what,
		    (unsigned long long)c.ready, (unsigned long long)c.started,
		    (unsigned long long)c.failed,
		    (double)(c.sent - C.last.sent) / dt,
		    (double)(c.delivered - C.last.delivered) / dt);
		if (C.o->scenario == SCEN_STORM)
			fprintf(stderr, " settled %llu presence %.0f/s "
			    "read %.1f MB/s", (unsigned long long)c.settled,
			    (double)(c.presence - C.last.presence) / dt,
			    (double)(c.bytes_in - C.last.bytes_in) / dt / 1e6);
		if (C.o->scenario == SCEN_CHURN)
			fprintf(stderr, " cycles %.0f/s presence %.0f/s",
			    (double)(c.cycles - C.last.cycles) / dt,
			    (double)(c.presence - C.last.presence) / dt);
		if (c.lost || c.dropped || c.errors)
			fprintf(stderr, " lost %llu dropped %llu errors %llu",
			    (unsigned long long)c.lost,
			    (unsigned long long)c.dropped,
			    (unsigned long long)c.errors);
		if (cpu >= 0)
			fprintf(stderr, " | server %.0f%% CPU, %.1f MB",
			    cpu, (double)s.rss_kb / 1024);
		fputc('\n', stderr);
	}
	if (s.rss_kb > C.rss_peak_kb)
		C.rss_peak_kb = s.rss_kb;
	if (s.pss_kb > C.pss_peak_kb)
		C.pss_peak_kb = s.pss_kb;
	C.last = c;
	C.last_srv = s;
	C.last_progress = now;
}

static bool
over_time(void)
{
	return interrupted || C.failed || (double)(now_ns() - C.t0) / 1e9 >
	    C.o->max_time;
}

/* Wait until every load process reached stage; 0, or -1 on a timeout. */
static int
wait_stage(int stage, double limit, const char *what)
{
	uint64_t	start = now_ns();
	struct timespec	ts = { 0, 5000000 };

	C.what = what;
	while (min_stage() < stage) {
		reap(false);
		if (over_time())
			return -1;
		if (limit > 0 && (double)(now_ns() - start) / 1e9 > limit)
			return -1;
		progress(false);
		nanosleep(&ts, NULL);
	}
	return 0;
}

static void
sleep_for(double secs, const char *what)
{
	uint64_t	end = now_ns() + (uint64_t)(secs * 1e9);
	struct timespec	ts = { 0, 5000000 };

	C.what = what;
	while (now_ns() < end && !over_time()) {
		reap(false);
		progress(false);
		nanosleep(&ts, NULL);
	}
}

/*
 * --phase-cmd: "<cmd> run" once setup is over, before the first message,
 * and "<cmd> drained" once everything sent has arrived (or was written
 * off), before the connections close: what a caller measures between the
 * two (bench/redis-bytes.sh: the bytes each server read from Redis) is
 * the messages' doing, not the connects' or joins'.  The load processes
 * wait meanwhile; the command should be quick.
 */
static void
phase_cmd(const struct bench_opts *o, const char *phase)
{
	char	cmd[1024];
	int	rc;

	if (o->phase_cmd == NULL)
		return;
	snprintf(cmd, sizeof(cmd), "%s %s", o->phase_cmd, phase);
	fflush(NULL);
	if ((rc = system(cmd)) != 0)
		fprintf(stderr, "bench: --phase-cmd %s: status %d\n", phase, rc);
}

static void
set_phase(int phase)
{
	__atomic_store_n(&C.sh->phase, phase, __ATOMIC_RELEASE);
}

static uint64_t
client_cpu(void)
{
	struct bench_counters c;

	sum(&c);
	return c.cpu_ns;
}

/*
 * conns --rejoin: after the hold, that many connections leave at once and
 * come back; the counters around it say how many came back and how many
 * failed, and how long the last one took.
 */
static void
rejoin(struct bench_result *r)
{
	const struct bench_opts	*o = r->o;
	uint64_t		 t;

	sum(&r->j0);
	t = now_ns();
	set_phase(PHASE_REJOIN);
	if (wait_stage(STAGE_REJOINED, o->timeout + REJOIN_TIMEOUT,
	    "rejoin") != 0)
		snprintf(r->note, sizeof(r->note), "rejoin: not every "
		    "connection back %.0f s after leaving",
		    o->timeout + REJOIN_TIMEOUT);
	r->rejoin_s = (double)(now_ns() - t) / 1e9;
	sum(&r->j1);
}

/*
 * storm: from the last connect, until every client knows every user (or
 * -d seconds): the time it took, or -1.
 */
static double
storm_wait(const struct bench_opts *o)
{
	struct bench_counters	 c;
	uint64_t		 start = now_ns();
	struct timespec		 ts = { 0, 5000000 };

	C.what = "settle";
	for (;;) {
		sum(&c);
		if (c.settled >= o->conns)
			return (double)(now_ns() - start) / 1e9;
		if ((double)(now_ns() - start) / 1e9 > o->duration ||
		    over_time())
			return -1;
		reap(false);
		progress(false);
		nanosleep(&ts, NULL);
	}
}

int
coord_run(struct bench_opts *o, struct bench_result *r)
{
	struct bench_shared	*sh;
	struct sigaction	 sa;
	uint64_t		 t, cpu0, mask, busy0 = 0;
	unsigned		 i, need, total;

	memset(r, 0, sizeof(*r));
	r->o = o;
	r->hz = sysconf(_SC_CLK_TCK);
	r->stub_idle = r->stub_w0n = r->stub_w1n = r->stub_end = -1;
	r->settle_s = -1;		/* storm: not settled (yet) */
	hist_init(&r->lat);
	hist_init(&r->conn);
	hist_init(&r->ack);
	hist_init(&r->rejoin);
	total = o->conns + (o->scenario == SCEN_CHURN ? o->observers : 0);
	need = (total + BENCH_CONNS_PER_PROC - 1) / BENCH_CONNS_PER_PROC;
	if (need == 0)
		need = 1;
	if (o->procs == 0)
		o->procs = need;
	if (o->procs < need) {
		fprintf(stderr, "bench: %u connections need at least %u load "
		    "processes (--procs)\n", total, need);
		return -1;
	}
	if (o->procs > BENCH_MAXPROC) {
		fprintf(stderr, "bench: at most %d load processes\n",
		    BENCH_MAXPROC);
		return -1;
	}
	if (o->scenario == SCEN_FANOUT && o->groups < o->procs) {
		fprintf(stderr, "bench: fanout needs at least one group per "
		    "load process (%u groups, %u processes)\n", o->groups,
		    o->procs);
		return -1;
	}
	if (o->scenario == SCEN_CHURN && o->observers < o->procs) {
		fprintf(stderr, "bench: churn needs at least one observer per "
		    "load process\n");
		return -1;
	}
	/*
	 * A source address has 28,232 ephemeral ports towards one server,
	 * but connect() tries one parity first and, once those 14,000 are
	 * taken, walks all of them before every further connect (74% of the
	 * load process's time in __inet_hash_connect, measured).  So: one
	 * source address per 10,000 connections.
	 */
	if (o->sources == 0)
		o->sources = o->scenario == SCEN_CHURN ? 8 :
		    total > BENCH_SRC_CONNS ?
		    (total + BENCH_SRC_CONNS - 1) / BENCH_SRC_CONNS : 0;
	if (o->sources > BENCH_MAXSRC)
		o->sources = BENCH_MAXSRC;
	r->procs = o->procs;
	mask = self_cpu_mask();
	r->client_busy_s = -1;
	r->client_ncpus = (unsigned)__builtin_popcountll(mask);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("bench: mmap");
		return -1;
	}
	memset(sh, 0, sizeof(*sh));
	sh->win_start = sh->win_end = UINT64_MAX;
	sh->phase = PHASE_CONNECT;
	C.o = o;
	C.sh = sh;
	C.n = o->procs;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (o->metrics != NULL && metrics_rss(o->metrics, &r->metrics_rss0) != 0)
		fprintf(stderr, "bench: cannot read memory.rss from "
		    "http://%s/metrics\n", o->metrics);
	server_sample(o, &r->srv_idle);
	r->stub_idle = stub_count(o->stub);
	if (o->stub != NULL && r->stub_idle < 0)
		fprintf(stderr, "bench: cannot read messages from "
		    "http://%s/count\n", o->stub);
	fflush(NULL);
	C.t0 = C.last_progress = now_ns();
	C.last_srv = r->srv_idle;
	r->srv_c0 = r->srv_idle;
	for (i = 0; i < C.n; i++) {
		pid_t pid = fork();

		if (pid == -1) {
			perror("bench: fork");
			C.failed = true;
			break;
		}
		if (pid == 0)
			scenario_child(o, sh, i, C.n);
		C.pid[i] = pid;
		C.alive++;
	}

	/* CONNECT */
	if (!C.failed && wait_stage(STAGE_CONNECTED, 0, "connect") != 0)
		snprintf(r->note, sizeof(r->note), "connect phase %s",
		    C.failed ? "failed" : "did not finish");
	t = now_ns();
	r->connect_s = (double)(t - C.t0) / 1e9;
	server_sample(o, &r->srv_c1);
	progress(true);
	sum(&r->w0);
	if (r->note[0] == '\0' && r->w0.ready == 0 &&
	    (o->scenario != SCEN_CHURN || o->observers > 0))
		snprintf(r->note, sizeof(r->note), "no connection became "
		    "ready");

	/* SETUP */
	if (r->note[0] == '\0') {
		set_phase(PHASE_SETUP);
		if (wait_stage(STAGE_SETUP_DONE, SETUP_TIMEOUT, "setup") != 0)
			snprintf(r->note, sizeof(r->note), "setup did not finish"
			    " (joins or subscriptions unanswered)");
	}

	/* RUN: warm-up, then the measured window. */
	if (r->note[0] == '\0') {
		phase_cmd(o, "run");
		sh->run_start = now_ns();
		set_phase(PHASE_RUN);
		sleep_for(o->warmup, "warmup");
		sum(&r->w0);
		cpu0 = r->w0.cpu_ns;
		if (mask != 0)
			busy0 = cpus_busy(mask);
		r->stub_w0n = stub_count(o->stub);
		server_sample(o, &r->srv_w0);
		stub_sample(o, &r->stub_w0);
		redis_sample(o, &r->redis_w0);
		sh->win_start = now_ns();
		if (o->scenario == SCEN_STORM)
			r->settle_s = storm_wait(o);
		else
			sleep_for(o->duration, "run");
		t = now_ns();
		sh->win_end = t;
		sum(&r->w1);
		server_sample(o, &r->srv_w1);
		stub_sample(o, &r->stub_w1);
		redis_sample(o, &r->redis_w1);
		r->stub_w1n = stub_count(o->stub);
		r->window_s = (double)(t - sh->win_start) / 1e9;
		r->client_cpu_s = (double)(r->w1.cpu_ns - cpu0) / 1e9;
		if (mask != 0)
			r->client_busy_s = (double)(cpus_busy(mask) - busy0) /
			    (double)r->hz;
		set_phase(PHASE_DRAIN);
		if (wait_stage(STAGE_DRAINED, DRAIN_TIMEOUT, "drain") != 0 &&
		    !over_time())
			snprintf(r->note, sizeof(r->note), "deliveries still "
			    "in flight %.0f s after the run", DRAIN_TIMEOUT);
		if (over_time() && r->note[0] == '\0')
			snprintf(r->note, sizeof(r->note), "%s", interrupted ?
			    "interrupted" : C.failed ? "a load process died" :
			    "--max-time reached");
		phase_cmd(o, "drained");
		if (o->rejoin > 0 && r->note[0] == '\0')
			rejoin(r);
	}
	server_sample(o, &r->srv_end);
	r->stub_end = stub_count(o->stub);
	if (o->metrics != NULL)
		(void)metrics_rss(o->metrics, &r->metrics_rss1);
	progress(true);

	/* CLOSE: the load processes hand over their histograms and exit. */
	set_phase(PHASE_CLOSE);
	t = now_ns();
	while (C.alive > 0 && (double)(now_ns() - t) / 1e9 < CLOSE_TIMEOUT) {
		struct timespec ts = { 0, 10000000 };

		reap(false);
		nanosleep(&ts, NULL);
	}
	for (i = 0; i < C.n; i++)
		if (C.pid[i] > 0) {
			kill(C.pid[i], SIGKILL);
			C.failed = true;
		}
	while (C.alive > 0)
		reap(true);
	sum(&r->total);
	for (i = 0; i < C.n; i++) {
		hist_merge(&r->lat, &sh->slot[i].lat);
		hist_merge(&r->conn, &sh->slot[i].conn);
		hist_merge(&r->ack, &sh->slot[i].ack);
		hist_merge(&r->rejoin, &sh->slot[i].rejoin);
		if (sh->slot[i].err[0] != '\0' && r->note[0] == '\0')
			snprintf(r->note, sizeof(r->note), "%s",
			    sh->slot[i].err);
	}
	if (r->w1.cpu_ns == 0)
		r->client_cpu_s = (double)client_cpu() / 1e9;
	r->timed_out = over_time();
	r->rss_peak_kb = C.rss_peak_kb;
	r->pss_peak_kb = C.pss_peak_kb;
	munmap(sh, sizeof(*sh));
	return C.failed || interrupted ? -1 : 0;
}
