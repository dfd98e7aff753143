/*
 * /health and /metrics in the seed's JSON shapes.  /health answers 503
 * while the worker drains, so a load balancer stops sending it clients.
 */
#include <sys/resource.h>

#include <libwebsockets.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "transport.h"

static void
iso_now(char *buf, size_t len)
{
	struct timespec	ts;
	struct tm	tm;
	size_t		n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

int
metrics_health(struct transport *t, struct lws *wsi, struct conn *c)
{
	char	body[512], now[40];
	int	n;

	iso_now(now, sizeof(now));
	n = snprintf(body, sizeof(body), "{\"status\":\"%s\",\"service\":"
	    "\"socket-gateway\",\"connections\":%llu,\"onlineUsers\":%llu,"
	    "\"timestamp\":\"%s\"}", t->draining ? "draining" : "ok",
	    (unsigned long long)t->stats.sessions,
	    (unsigned long long)t->stats.sessions, now);
	return http_reply(wsi, c, t->draining ? 503 : 200, "application/json",
	    body, (size_t)n);
}

int
metrics_reply(struct transport *t, struct lws *wsi, struct conn *c)
{
	struct rusage	ru;
	char		body[1024], now[40];
	int		n;

	getrusage(RUSAGE_SELF, &ru);
	iso_now(now, sizeof(now));
	n = snprintf(body, sizeof(body), "{\"connections\":{\"total\":%llu,"
	    "\"online\":%llu},\"memory\":{\"rss\":%ld},\"transport\":{"
	    "\"sessions_total\":%llu,\"slow_readers\":%llu,"
	    "\"parse_errors\":%llu,\"ping_timeouts\":%llu},"
	    "\"timestamp\":\"%s\"}",
	    (unsigned long long)t->stats.sessions,
	    (unsigned long long)t->stats.sessions, ru.ru_maxrss * 1024L,
	    (unsigned long long)t->stats.sessions_total,
	    (unsigned long long)t->stats.slow_readers,
	    (unsigned long long)t->stats.parse_errors,
	    (unsigned long long)t->stats.ping_timeouts, now);
	return http_reply(wsi, c, 200, "application/json", body, (size_t)n);
}
