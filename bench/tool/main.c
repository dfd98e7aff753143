/*
 * socket-gateway-bench: the command line (socket-gateway-bench(1)).
 */
#include <arpa/inet.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

const char *bench_scenario_names[] = { "conns", "dm", "fanout", "churn",
    "dm-persist", "storm" };
#define NSCENARIOS	(sizeof(bench_scenario_names) / \
			    sizeof(bench_scenario_names[0]))

static void	 usage(int) __attribute__((__noreturn__));
static double	 num(const char *, const char *, double, double);
static char	*read_secret(const char *, size_t *);
static unsigned	 parse_pids(pid_t *, const char *, const char *);
static uint64_t	 parse_cpus(const char *);
static void	 parse_target(struct bench_opts *, const char *);

static void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
"usage: socket-gateway-bench [-hqV] [-c conns] [-d seconds] [-g groups]\n"
"           [-l label] [-P procs] [-r rate] [-S size] [-s secret]\n"
"           [-t host:port] [-w window] [--churn-users n] [--concurrency n]\n"
"           [--connect-rate n] [--hold ms] [--json] [--max-time seconds]\n"
"           [--metrics host:port] [--observers n] [--path path]\n"
"           [--phase-cmd command] [--redis-pids pid,...] [--rejoin n]\n"
"           [--secret-file file]\n"
"           [--server-cpus list] [--server-pids pid,...] [--sources n]\n"
"           [--stub host:port] [--stub-pids pid,...] [--timeout seconds]\n"
"           [--user-prefix prefix] [--warmup seconds]\n"
"           conns | dm | dm-persist | fanout | churn | storm\n");
	exit(status);
}

static double
num(const char *opt, const char *s, double lo, double hi)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "socket-gateway-bench: %s: '%s' is not a number"
		    " in %g..%g\n", opt, s, lo, hi);
		exit(2);
	}
	return v;
}

static char *
read_secret(const char *path, size_t *len)
{
	FILE	*f;
	char	 buf[4096];
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "socket-gateway-bench: %s: %s\n", path,
		    strerror(errno));
		exit(1);
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	*len = n;
	return strdup(buf);
}

/* A list of pids into pids[BENCH_MAXPIDS]; how many. */
static unsigned
parse_pids(pid_t *pids, const char *opt, const char *s)
{
	char		*copy = strdup(s), *p, *save = NULL;
	unsigned	 n = 0;

	for (p = strtok_r(copy, ", ", &save); p != NULL;
	    p = strtok_r(NULL, ", ", &save)) {
		if (n == BENCH_MAXPIDS)
			break;
		pids[n++] = (pid_t)num(opt, p, 1, 4194304);
	}
	free(copy);
	return n;
}

/* A CPU list as taskset(1) takes it: 1 or 0-1 or 0,2-3. */
static uint64_t
parse_cpus(const char *s)
{
	uint64_t	 mask = 0;
	unsigned long	 a, b;
	char		*end;

	for (;;) {
		a = b = strtoul(s, &end, 10);
		if (end == s)
			break;
		if (*end == '-') {
			s = end + 1;
			b = strtoul(s, &end, 10);
			if (end == s)
				break;
		}
		for (; a <= b && a < 64; a++)
			mask |= 1ULL << a;
		if (*end == '\0')
			return mask;
		if (*end != ',')
			break;
		s = end + 1;
	}
	fprintf(stderr, "socket-gateway-bench: --server-cpus: bad CPU list\n");
	exit(2);
}

/*
 * One more server, from -t ipv4-address:port; given again, the servers are
 * one (joined through Redis) and the connections take turns among them.
 */
static void
parse_target(struct bench_opts *o, const char *target)
{
	char		 addr[64];
	const char	*colon;
	unsigned	 n = o->ntargets;

	if (n == BENCH_MAXTARGETS) {
		fprintf(stderr, "socket-gateway-bench: -t: at most %d servers\n",
		    BENCH_MAXTARGETS);
		exit(2);
	}
	if (strlen(target) >= sizeof(addr) || (colon = strrchr(target, ':')) ==
	    NULL) {
		fprintf(stderr, "socket-gateway-bench: -t wants "
		    "ipv4-address:port\n");
		exit(2);
	}
	memcpy(addr, target, (size_t)(colon - target));
	addr[colon - target] = '\0';
	memset(&o->dsts[n], 0, sizeof(o->dsts[n]));
	o->dsts[n].sin_family = AF_INET;
	o->dsts[n].sin_port = htons((uint16_t)num("-t", colon + 1, 1, 65535));
	if (inet_pton(AF_INET, addr, &o->dsts[n].sin_addr) != 1) {
		fprintf(stderr, "socket-gateway-bench: -t: '%s' is not an IPv4 "
		    "address\n", addr);
		exit(2);
	}
	snprintf(o->hosts[n], sizeof(o->hosts[n]), "%s", target);
	o->ntargets++;
}

int
main(int argc, char *argv[])
{
	enum {
		OPT_CHURN_USERS = 256, OPT_CONCURRENCY, OPT_CONNECT_RATE,
		OPT_HOLD, OPT_JSON,
		OPT_MAX_TIME, OPT_METRICS, OPT_OBSERVERS, OPT_PATH,
		OPT_SECRET_FILE, OPT_SERVER_CPUS, OPT_SERVER_PIDS,
		OPT_SOURCES, OPT_TIMEOUT,
		OPT_USER_PREFIX, OPT_WARMUP, OPT_STUB, OPT_STUB_PIDS,
		OPT_REDIS_PIDS, OPT_PHASE_CMD, OPT_REJOIN
	};
	static const struct option longopts[] = {
		{ "conns",		required_argument, NULL, 'c' },
		{ "duration",		required_argument, NULL, 'd' },
		{ "groups",		required_argument, NULL, 'g' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ "label",		required_argument, NULL, 'l' },
		{ "procs",		required_argument, NULL, 'P' },
		{ "quiet",		no_argument,	   NULL, 'q' },
		{ "rate",		required_argument, NULL, 'r' },
		{ "size",		required_argument, NULL, 'S' },
		{ "secret",		required_argument, NULL, 's' },
		{ "target",		required_argument, NULL, 't' },
		{ "version",		no_argument,	   NULL, 'V' },
		{ "window",		required_argument, NULL, 'w' },
		{ "churn-users",	required_argument, NULL, OPT_CHURN_USERS },
		{ "concurrency",	required_argument, NULL, OPT_CONCURRENCY },
		{ "connect-rate",	required_argument, NULL, OPT_CONNECT_RATE },
		{ "hold",		required_argument, NULL, OPT_HOLD },
		{ "json",		no_argument,	   NULL, OPT_JSON },
		{ "max-time",		required_argument, NULL, OPT_MAX_TIME },
		{ "metrics",		required_argument, NULL, OPT_METRICS },
		{ "observers",		required_argument, NULL, OPT_OBSERVERS },
		{ "path",		required_argument, NULL, OPT_PATH },
		{ "phase-cmd",		required_argument, NULL, OPT_PHASE_CMD },
		{ "redis-pids",		required_argument, NULL, OPT_REDIS_PIDS },
		{ "rejoin",		required_argument, NULL, OPT_REJOIN },
		{ "secret-file",	required_argument, NULL, OPT_SECRET_FILE },
		{ "server-cpus",	required_argument, NULL, OPT_SERVER_CPUS },
		{ "server-pids",	required_argument, NULL, OPT_SERVER_PIDS },
		{ "sources",		required_argument, NULL, OPT_SOURCES },
		{ "stub",		required_argument, NULL, OPT_STUB },
		{ "stub-pids",		required_argument, NULL, OPT_STUB_PIDS },
		{ "timeout",		required_argument, NULL, OPT_TIMEOUT },
		{ "user-prefix",	required_argument, NULL, OPT_USER_PREFIX },
		{ "warmup",		required_argument, NULL, OPT_WARMUP },
		{ NULL, 0, NULL, 0 }
	};
	static struct bench_opts	 o;
	static struct bench_result	 r;
	const char			*env;
	double				 conns = -1, duration = -1, window = -1;
	double				 max_time = -1;
	int				 ch, i, rc;

	o.groups = 10;
	o.observers = 0;
	o.concurrency = 256;
	o.churn_users = 16;
	o.size = 64;
	o.warmup = 1;
	o.timeout = 10;
	o.path = "/socket.io/";
	o.user_prefix = "u";
	o.label = NULL;
	while ((ch = getopt_long(argc, argv, "c:d:g:hl:P:qr:S:s:t:Vw:",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conns = num("-c", optarg, 1, 1000000);
			break;
		case 'd':
			duration = num("-d", optarg, 0, 86400);
			break;
		case 'g':
			o.groups = (unsigned)num("-g", optarg, 1, 1000000);
			break;
		case 'l':
			o.label = optarg;
			break;
		case 'P':
			o.procs = (unsigned)num("-P", optarg, 1, BENCH_MAXPROC);
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'r':
			o.rate = num("-r", optarg, 0, 1e9);
			break;
		case 'S':
			o.size = (unsigned)num("-S", optarg, 24, 1 << 22);
			break;
		case 's':
			o.secret = strdup(optarg);
			o.secretlen = strlen(optarg);
			break;
		case 't':
			parse_target(&o, optarg);
			break;
		case 'V':
			printf("socket-gateway-bench %s\n", PACKAGE_VERSION);
			return 0;
		case 'w':
			window = num("-w", optarg, 1, 1e9);
			break;
		case OPT_CHURN_USERS:
			o.churn_users = (unsigned)num("--churn-users", optarg,
			    1, 1000);
			break;
		case OPT_CONCURRENCY:
			o.concurrency = (unsigned)num("--concurrency", optarg, 1,
			    100000);
			break;
		case OPT_CONNECT_RATE:
			o.connect_rate = num("--connect-rate", optarg, 0, 1e7);
			break;
		case OPT_HOLD:
			o.hold_ms = num("--hold", optarg, 0, 3600000);
			break;
		case OPT_JSON:
			o.json_only = true;
			break;
		case OPT_MAX_TIME:
			max_time = num("--max-time", optarg, 1, 86400);
			break;
		case OPT_METRICS:
			o.metrics = optarg;
			break;
		case OPT_OBSERVERS:
			o.observers = (unsigned)num("--observers", optarg, 1,
			    100000);
			break;
		case OPT_PATH:
			o.path = optarg;
			break;
		case OPT_SECRET_FILE:
			free(o.secret);
			o.secret = read_secret(optarg, &o.secretlen);
			break;
		case OPT_SERVER_CPUS:
			o.server_cpus = parse_cpus(optarg);
			break;
		case OPT_SERVER_PIDS:
			o.nserver_pids = parse_pids(o.server_pids,
			    "--server-pids", optarg);
			break;
		case OPT_STUB:
			o.stub = optarg;
			break;
		case OPT_PHASE_CMD:
			if (strlen(optarg) > 900) {
				fprintf(stderr, "socket-gateway-bench: "
				    "--phase-cmd: too long\n");
				return 2;
			}
			o.phase_cmd = optarg;
			break;
		case OPT_REDIS_PIDS:
			o.nredis_pids = parse_pids(o.redis_pids, "--redis-pids",
			    optarg);
			break;
		case OPT_STUB_PIDS:
			o.nstub_pids = parse_pids(o.stub_pids, "--stub-pids",
			    optarg);
			break;
		case OPT_SOURCES:
			o.sources = (unsigned)num("--sources", optarg, 1,
			    BENCH_MAXSRC);
			break;
		case OPT_TIMEOUT:
			o.timeout = num("--timeout", optarg, 0.1, 3600);
			break;
		case OPT_USER_PREFIX:
			o.user_prefix = optarg;
			break;
		case OPT_WARMUP:
			o.warmup = num("--warmup", optarg, 0, 3600);
			break;
		case OPT_REJOIN:
			o.rejoin = (unsigned)num("--rejoin", optarg, 1, 1000000);
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage(2);
	for (i = 0; i < (int)NSCENARIOS; i++)
		if (strcmp(argv[0], bench_scenario_names[i]) == 0)
			break;
	if (i == (int)NSCENARIOS)
		usage(2);
	o.scenario = (enum bench_scenario)i;
	if (o.ntargets == 0)
		parse_target(&o, "127.0.0.1:3002");
	o.dst = o.dsts[0];
	snprintf(o.host, sizeof(o.host), "%s", o.hosts[0]);
	if (o.label == NULL)
		o.label = o.host;

	/* Per-scenario defaults. */
	switch (o.scenario) {
	case SCEN_CONNS:
		o.conns = conns > 0 ? (unsigned)conns : 1000;
		o.duration = duration >= 0 ? duration : 2;
		o.warmup = 0;
		break;
	case SCEN_DM:
	case SCEN_DM_PERSIST:
		o.conns = conns > 0 ? (unsigned)conns : 1000;
		o.duration = duration >= 0 ? duration : 10;
		o.window = window > 0 ? (unsigned)window : 512;
		break;
	case SCEN_FANOUT:
		o.conns = conns > 0 ? (unsigned)conns : 1000;
		o.duration = duration >= 0 ? duration : 10;
		o.window = window > 0 ? (unsigned)window : 4096;
		break;
	case SCEN_STORM:
		/* -d: how long the clients get to settle, at most. */
		o.conns = conns > 0 ? (unsigned)conns : 1000;
		o.duration = duration >= 0 ? duration : 120;
		o.warmup = 0;
		break;
	case SCEN_CHURN:
		o.conns = conns > 0 ? (unsigned)conns : 100;
		o.duration = duration >= 0 ? duration : 10;
		if (o.observers == 0)
			o.observers = o.conns < 10 ? o.conns : 10;
		break;
	}
	if (o.rejoin > 0 && (o.scenario != SCEN_CONNS || o.rejoin > o.conns)) {
		fprintf(stderr, "socket-gateway-bench: --rejoin: conns only, "
		    "and at most -c connections\n");
		return 2;
	}
	o.max_time = max_time > 0 ? max_time : o.warmup + o.duration + 600;

	if (o.secret == NULL) {
		if ((env = getenv("BENCH_JWT_SECRET")) == NULL)
			env = getenv("JWT_SECRET");
		if (env == NULL || *env == '\0') {
			fprintf(stderr, "socket-gateway-bench: no secret: -s, "
			    "--secret-file, BENCH_JWT_SECRET or JWT_SECRET\n");
			return 2;
		}
		o.secret = strdup(env);
		o.secretlen = strlen(env);
	}

	rc = coord_run(&o, &r);
	if (r.o != NULL && (rc == 0 || r.total.started > 0))
		report_print(&r);
	return rc == 0 ? 0 : 1;
}
