/*
 * What the servers cost: CPU time (utime + stime from /proc/<pid>/stat, in
 * clock ticks) and resident memory (VmRSS from /proc/<pid>/status; and
 * Pss from /proc/<pid>/smaps_rollup, in which a page shared by n of the
 * processes counts 1/n in each, so that the sum counts the recovery log's
 * shared memory once, not once per worker that touched it) summed
 * over the pids given with --server-pids and all their descendants (the
 * gateway's master and its workers), or the gateway's own figure from
 * GET /metrics (memory.rss).  The stub chat service of dm-persist is
 * measured the same way (--stub-pids), apart, and asked how many messages
 * it took (GET /count, --stub); so is Redis, when the servers are joined
 * through it (--redis-pids).
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <sched.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static int	 read_file(const char *, char *, size_t);
static int	 stat_fields(pid_t, pid_t *, uint64_t *);
static uint64_t	 rss_kb(pid_t);

uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t
self_cpu_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int
read_file(const char *path, char *buf, size_t cap)
{
	FILE	*f;
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (int)n;
}

/*
 * /proc/<pid>/stat: the parent pid (field 4) and utime + stime (14, 15).
 * The command name (field 2) may hold spaces and parentheses: parse from
 * the last ')'.
 */
static int
stat_fields(pid_t pid, pid_t *ppid, uint64_t *ticks)
{
	char			 path[64], buf[1024], *p;
	unsigned long long	 ut, st;
	int			 pp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file(path, buf, sizeof(buf)) <= 0 ||
	    (p = strrchr(buf, ')')) == NULL)
		return -1;
	/* ") S ppid pgrp session tty tpgid flags minflt cminflt majflt
	 *  cmajflt utime stime" */
	if (sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	    &pp, &ut, &st) != 3)
		return -1;
	if (ppid != NULL)
		*ppid = (pid_t)pp;
	if (ticks != NULL)
		*ticks = ut + st;
	return 0;
}

static uint64_t
rss_kb(pid_t pid)
{
	char		 path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_file(path, buf, sizeof(buf)) <= 0 ||
	    (p = strstr(buf, "VmRSS:")) == NULL)
		return 0;
	return strtoull(p + 6, NULL, 10);
}

static uint64_t
pss_kb(pid_t pid)
{
	char		 path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if (read_file(path, buf, sizeof(buf)) <= 0 ||
	    (p = strstr(buf, "\nPss:")) == NULL)
		return 0;
	return strtoull(p + 5, NULL, 10);
}

/* The given pids and every descendant of them, at most cap. */
unsigned
server_pids_expand(const pid_t *roots, unsigned nroots, pid_t *out,
    unsigned cap)
{
	DIR		*d;
	struct dirent	*de;
	pid_t		 all[4096], par[4096], pp;
	unsigned	 nall = 0, n = 0, i, j, grew;

	for (i = 0; i < nroots && n < cap; i++)
		out[n++] = roots[i];
	if ((d = opendir("/proc")) == NULL)
		return n;
	while ((de = readdir(d)) != NULL && nall < 4096) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		all[nall] = (pid_t)atoi(de->d_name);
		if (stat_fields(all[nall], &pp, NULL) == 0)
			par[nall++] = pp;
	}
	closedir(d);
	do {
		grew = 0;
		for (i = 0; i < nall && n < cap; i++) {
			for (j = 0; j < n; j++)
				if (out[j] == all[i])
					break;
			if (j < n)
				continue;
			for (j = 0; j < n; j++)
				if (par[i] == out[j])
					break;
			if (j < n) {
				out[n++] = all[i];
				grew = 1;
			}
		}
	} while (grew);
	return n;
}

/*
 * Busy ticks of the CPUs in mask (/proc/stat: user, nice, system, irq,
 * softirq, steal).  On loopback much of the TCP work runs in softirq,
 * which the kernel does not charge to the process when it accounts IRQ
 * time separately: a server pinned to its own CPUs is measured here too.
 */
uint64_t
cpus_busy(uint64_t mask)
{
	static char		 buf[65536];
	unsigned long long	 v[8];
	char			*p;
	unsigned		 cpu;
	uint64_t		 busy = 0;

	if (read_file("/proc/stat", buf, sizeof(buf)) <= 0)
		return 0;
	for (p = buf; (p = strstr(p, "\ncpu")) != NULL; p++) {
		if (sscanf(p + 4, "%u %llu %llu %llu %llu %llu %llu %llu %llu",
		    &cpu, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
		    &v[7]) != 9 || cpu >= 64 || !(mask & (1ULL << cpu)))
			continue;
		busy += v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	}
	return busy;
}

/*
 * The CPUs this process may run on, when that is fewer than all of them
 * (pinned with taskset); else 0.
 */
uint64_t
self_cpu_mask(void)
{
	cpu_set_t	set;
	uint64_t	mask = 0;
	int		i, n = 0;
	long		ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 0;
	for (i = 0; i < 64; i++)
		if (CPU_ISSET(i, &set)) {
			mask |= 1ULL << i;
			n++;
		}
	return n < ncpu ? mask : 0;
}

/* CPU ticks and RSS of pids and their descendants now. */
static void
pids_sample(const pid_t *roots, unsigned nroots, struct server_sample *s)
{
	pid_t		 pids[BENCH_MAXPIDS];
	uint64_t	 t;
	unsigned	 n, i;

	if (nroots == 0)
		return;
	n = server_pids_expand(roots, nroots, pids, BENCH_MAXPIDS);
	for (i = 0; i < n; i++) {
		if (stat_fields(pids[i], NULL, &t) != 0)
			continue;
		s->cpu_ticks += t;
		s->rss_kb += rss_kb(pids[i]);
		s->pss_kb += pss_kb(pids[i]);
		s->npids++;
	}
	s->ok = s->npids > 0;
}

/* CPU ticks and RSS of the servers now. */
void
server_sample(const struct bench_opts *o, struct server_sample *s)
{
	memset(s, 0, sizeof(*s));
	if (o->server_cpus != 0)
		s->busy_ticks = cpus_busy(o->server_cpus);
	pids_sample(o->server_pids, o->nserver_pids, s);
}

/* The same for the stub service (--stub-pids), counted apart. */
void
stub_sample(const struct bench_opts *o, struct server_sample *s)
{
	memset(s, 0, sizeof(*s));
	pids_sample(o->stub_pids, o->nstub_pids, s);
}

/* The same for Redis (--redis-pids), counted apart. */
void
redis_sample(const struct bench_opts *o, struct server_sample *s)
{
	memset(s, 0, sizeof(*s));
	pids_sample(o->redis_pids, o->nredis_pids, s);
}

/*
 * GET path from host:port into buf (the whole response, NUL-terminated).
 * A blocking, one-shot HTTP/1.0 request with a 2 s timeout: it runs
 * outside the measured window, or at its edges.
 */
static int
http_get(const char *hostport, const char *path, char *buf, size_t cap)
{
	struct sockaddr_in	 sin;
	struct timeval		 tv = { 2, 0 };
	char			 host[64], req[256], *colon;
	size_t			 len = 0;
	ssize_t			 r;
	int			 fd;

	if (strlen(hostport) >= sizeof(host))
		return -1;
	strcpy(host, hostport);
	if ((colon = strrchr(host, ':')) == NULL)
		return -1;
	*colon = '\0';
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n"
	    "Connection: close\r\n\r\n", path, hostport);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return -1;
	}
	while (len < cap - 1 &&
	    (r = read(fd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)r;
	close(fd);
	buf[len] = '\0';
	return 0;
}

/* GET /metrics from host:port and read memory.rss (bytes). */
int
metrics_rss(const char *hostport, uint64_t *rss)
{
	static char	 buf[65536];
	char		*p;

	if (http_get(hostport, "/metrics", buf, sizeof(buf)) != 0 ||
	    (p = strstr(buf, "\"memory\"")) == NULL ||
	    (p = strstr(p, "\"rss\":")) == NULL)
		return -1;
	*rss = strtoull(p + 6, NULL, 10);
	return 0;
}

/*
 * GET /count from the bench's stub chat service (bench/stub): the
 * messages it was asked to persist so far, or -1.
 */
int64_t
stub_count(const char *hostport)
{
	char	 buf[4096], *p;

	if (hostport == NULL || http_get(hostport, "/count", buf,
	    sizeof(buf)) != 0 || (p = strstr(buf, "\"messages\":")) == NULL)
		return -1;
	return (int64_t)strtoll(p + 11, NULL, 10);
}
