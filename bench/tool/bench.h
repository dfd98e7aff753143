/*
 * bench.h: socket-gateway-bench, the load generator (issue 7).
 *
 * One coordinator process forks P load processes.  Each load process runs
 * its own epoll loop over its share of the connections (a process holds at
 * most BENCH_CONNS_PER_PROC of them: the open-files limit) and speaks
 * WebSocket, Engine.IO v4 and Socket.IO v5 by hand, with masked client
 * frames.  They share one anonymous MAP_SHARED region: the coordinator
 * writes the phase, each load process writes its counters and, at the end,
 * its histograms into its own slot.  Nothing else crosses processes.
 *
 *	coordinator	phase CONNECT -> SETUP -> RUN -> DRAIN [-> REJOIN] -> CLOSE
 *	load process	stage CONNECTED, SETUP_DONE, DRAINED [, REJOINED], DONE
 *
 * Files: main.c (command line), coord.c (the coordinator), client.c (one
 * connection: TCP, WebSocket, Engine.IO, Socket.IO), scenario.c (what the
 * load processes do in each phase), stats.c (histograms), jwt.c (HS256
 * tokens), sysinfo.c (/proc, /metrics), report.c (table and JSON line).
 */
#ifndef SGW_BENCH_H
#define SGW_BENCH_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <netinet/in.h>

#define BENCH_MAXPROC		16
#define BENCH_CONNS_PER_PROC	19000	/* open-files hard limit 20,000 */
#define BENCH_MAXPIDS		64	/* server processes followed */
#define BENCH_MAXSRC		64	/* 127.0.0.x source addresses */
#define BENCH_SRC_CONNS		10000	/* per source address: see coord.c */
#define BENCH_MAXTARGETS	8	/* -t given more than once */

enum bench_scenario {
	SCEN_CONNS = 0,
	SCEN_DM,
	SCEN_FANOUT,
	SCEN_CHURN,
	SCEN_DM_PERSIST,	/* dm, every message_sent awaited too */
	SCEN_STORM		/* presence: every client learns every user */
};

#define SCEN_IS_DM(s)	((s) == SCEN_DM || (s) == SCEN_DM_PERSIST)

/* Coordinator -> load processes. */
enum bench_phase {
	PHASE_CONNECT = 0,
	PHASE_SETUP,
	PHASE_RUN,
	PHASE_DRAIN,
	PHASE_REJOIN,		/* conns --rejoin: some leave and come back */
	PHASE_CLOSE
};

/* Load process -> coordinator. */
enum bench_stage {
	STAGE_START = 0,
	STAGE_CONNECTED,	/* every connection ready or failed */
	STAGE_SETUP_DONE,	/* rooms joined */
	STAGE_DRAINED,		/* nothing in flight */
	STAGE_REJOINED,		/* conns --rejoin: every one back or failed */
	STAGE_DONE		/* histograms written, exiting */
};

/*
 * Latency histogram: log-linear, 64 sub-buckets per power of two (1.6%
 * resolution), values in nanoseconds, exact below 128 ns.
 */
#define HIST_BITS	6
#define HIST_SUB	(1 << HIST_BITS)
#define HIST_N		(HIST_SUB * 59)

struct hist {
	uint64_t	count;
	uint64_t	sum;
	uint64_t	min;
	uint64_t	max;
	uint64_t	b[HIST_N];
};

/* What a load process counts; published to its slot every loop turn. */
struct bench_counters {
	uint64_t	started;	/* TCP connects begun */
	uint64_t	ready;		/* connected + online_users received */
	uint64_t	failed;		/* refused, timed out, connect_error */
	uint64_t	open;		/* connections open right now */
	uint64_t	dropped;	/* closed by the server while ready */
	uint64_t	closed;		/* closed by us */
	uint64_t	sent;		/* messages sent (send_*) */
	uint64_t	expected;	/* deliveries those should cause */
	uint64_t	delivered;	/* receive_message arrivals */
	uint64_t	msg_sent;	/* message_sent arrivals */
	uint64_t	acks;		/* Socket.IO acks (join_room) */
	uint64_t	presence;	/* user_connected/user_disconnected */
	uint64_t	errors;		/* `error` events, bad frames */
	uint64_t	pings;		/* Engine.IO pings answered */
	uint64_t	lost;		/* given up after a stall */
	uint64_t	skipped;	/* sends skipped: socket backed up */
	uint64_t	cycles;		/* churn: connect+disconnect cycles */
	uint64_t	bytes_in;
	uint64_t	bytes_out;
	uint64_t	cpu_ns;		/* this process's CPU time */
	uint64_t	persisted;	/* message_sent, status persisted */
	uint64_t	settled;	/* storm: clients that know all users */
};

struct bench_slot {
	pid_t			pid;
	int			stage;	/* enum bench_stage */
	struct bench_counters	c;
	struct hist		lat;	/* message latency */
	struct hist		conn;	/* connect start -> ready */
	char			err[160];
	struct hist		ack;	/* send -> message_sent */
	struct hist		rejoin;	/* --rejoin: close -> ready again */
};

struct bench_shared {
	int			phase;	/* enum bench_phase */
	uint64_t		run_start;	/* CLOCK_MONOTONIC ns */
	uint64_t		win_start;	/* latency window */
	uint64_t		win_end;
	struct bench_slot	slot[BENCH_MAXPROC];
};

/* The command line. */
struct bench_opts {
	enum bench_scenario	 scenario;
	const char		*label;
	struct sockaddr_in	 dst;
	char			 host[64];	/* Host: header */
	const char		*path;		/* /socket.io/ */
	char			*secret;
	size_t			 secretlen;
	unsigned		 conns;
	unsigned		 groups;
	unsigned		 observers;
	unsigned		 procs;
	unsigned		 sources;
	unsigned		 concurrency;	/* handshakes in flight */
	double			 connect_rate;	/* 0: as fast as possible */
	double			 rate;		/* 0: flat out */
	unsigned		 window;	/* flat out: deliveries */
	unsigned		 size;		/* content bytes */
	double			 duration;	/* measured seconds */
	double			 warmup;
	double			 hold_ms;	/* churn: ready -> close */
	unsigned		 churn_users;	/* churn: ids per slot */
	double			 timeout;	/* one handshake, seconds */
	double			 max_time;	/* the whole run, seconds */
	pid_t			 server_pids[BENCH_MAXPIDS];
	unsigned		 nserver_pids;
	uint64_t		 server_cpus;	/* bit n: cpu n */
	const char		*metrics;	/* host:port of /metrics */
	const char		*user_prefix;
	bool			 quiet;
	bool			 json_only;
	const char		*stub;		/* host:port, GET /count */
	pid_t			 stub_pids[BENCH_MAXPIDS];
	unsigned		 nstub_pids;
	/*
	 * Every -t, the first being dst and host: several servers that are
	 * one (issue 14: instances joined through Redis).  Connections take
	 * turns among them (scen_target()).
	 */
	struct sockaddr_in	 dsts[BENCH_MAXTARGETS];
	char			 hosts[BENCH_MAXTARGETS][64];
	unsigned		 ntargets;
	pid_t			 redis_pids[BENCH_MAXPIDS];	/* apart */
	unsigned		 nredis_pids;
	const char		*phase_cmd;	/* sh -c "<cmd> run|drained" */
	unsigned		 rejoin;	/* conns: leave and come back after */
};

/* A snapshot of the servers: CPU ticks and RSS over the followed pids. */
struct server_sample {
	uint64_t	cpu_ticks;
	uint64_t	busy_ticks;	/* --server-cpus, softirq included */
	uint64_t	rss_kb;
	uint64_t	pss_kb;		/* shared pages counted once */
	unsigned	npids;
	bool		ok;
};

/* The result the coordinator hands to report.c. */
struct bench_result {
	const struct bench_opts	*o;
	unsigned		 procs;
	double			 connect_s;	/* first connect -> all ready */
	double			 window_s;	/* measured window */
	struct bench_counters	 total;		/* at the end */
	struct bench_counters	 w0, w1;	/* window edges */
	struct hist		 lat;
	struct hist		 conn;
	struct server_sample	 srv_idle;	/* before connecting */
	struct server_sample	 srv_c0, srv_c1; /* connect phase */
	struct server_sample	 srv_w0, srv_w1; /* measured window */
	struct server_sample	 srv_end;	/* after the hold */
	uint64_t		 metrics_rss0, metrics_rss1;
	double			 client_cpu_s;	/* load processes, window */
	double			 client_busy_s;	/* their CPUs if pinned, or -1 */
	unsigned		 client_ncpus;
	long			 hz;
	bool			 timed_out;
	char			 note[256];
	struct hist		 ack;
	struct server_sample	 stub_w0, stub_w1; /* measured window */
	int64_t			 stub_idle, stub_w0n, stub_w1n, stub_end;
	struct server_sample	 redis_w0, redis_w1; /* measured window */
	/* --rejoin: the counters before and after, the time, the histogram */
	struct bench_counters	 j0, j1;
	double			 rejoin_s;
	struct hist		 rejoin;
	/* storm: from the last connect to every client settled (or -1) */
	double			 settle_s;
	uint64_t		 rss_peak_kb;	/* servers' RSS, sampled each s */
	uint64_t		 pss_peak_kb;
};

/* main.c */
extern const char	*bench_scenario_names[];

/* coord.c */
int	 coord_run(struct bench_opts *, struct bench_result *);

/* scenario.c: runs in a load process; never returns. */
void	 scenario_child(const struct bench_opts *, struct bench_shared *,
	    unsigned, unsigned) __attribute__((__noreturn__));

/* stats.c */
void	 hist_init(struct hist *);
void	 hist_add(struct hist *, uint64_t);
void	 hist_merge(struct hist *, const struct hist *);
uint64_t hist_quantile(const struct hist *, double);
double	 hist_mean(const struct hist *);

/* jwt.c */
int	 jwt_hs256(const char *, size_t, const char *, long, long, char *,
	    size_t);

/* sysinfo.c */
uint64_t now_ns(void);
unsigned server_pids_expand(const pid_t *, unsigned, pid_t *, unsigned);
void	 server_sample(const struct bench_opts *, struct server_sample *);
void	 stub_sample(const struct bench_opts *, struct server_sample *);
void	 redis_sample(const struct bench_opts *, struct server_sample *);
int	 metrics_rss(const char *, uint64_t *);
int64_t	 stub_count(const char *);
uint64_t self_cpu_ns(void);
uint64_t cpus_busy(uint64_t);
uint64_t self_cpu_mask(void);

/* report.c */
void	 report_print(const struct bench_result *);

#endif /* SGW_BENCH_H */
