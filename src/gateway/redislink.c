/*
 * redislink: this worker's two connections to Redis (issue 14), when
 * redis_url is set, and who it is in the cluster.
 *
 * Each worker opens its own two, one for commands and PUBLISH (g->redis),
 * one subscribed (g->redis_sub): a host with W workers opens 2W.  One
 * pair per host, behind one worker, would make that worker the host's
 * single way out, to be elected and replaced when it dies, and would
 * carry every message a second time over the bus; a pair per worker
 * keeps the crash isolation of the workers, and in sharded mode each
 * worker subscribes to the rooms its own sockets are in and no others.
 *
 * Names.  The instance, the master and its workers, is
 * "<node_id>.<master pid>": two gateways on one host with one node_id
 * are still two.  A worker's uid in the adapter's world is
 * "<instance>.<wid>"; a worker ignores what uids of its own instance
 * publish, which reached it over the bus already (redislink_ours()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway.h"
#include "log.h"
#include "redis.h"
#include "stats.h"
#include "transport.h"

static void	 link_up(void *);
static void	 link_down(void *, const char *);
static void	 link_message(void *, char, const char *, size_t,
		    const void *, size_t);

static const struct redis_ops cmd_ops = { link_up, link_down, NULL };
static const struct redis_ops sub_ops = { link_up, link_down, link_message };

static void
link_up(void *arg)
{
	(void)arg;
	log_info("redis: connected");
}

static void
link_down(void *arg, const char *why)
{
	(void)arg;
	log_warnx("redis: connection lost (%s); local delivery goes on, the "
	    "other hosts wait until it is back", why);
}

static void
link_message(void *arg, char kind, const char *chan, size_t clen,
    const void *data, size_t len)
{
	struct gateway	*g = arg;
	size_t		 n = strlen(g->conf->redis_key_prefix);

	/* "<key>-gw#...": the gateways' own channels, not the adapter's. */
	if (clen > n + 4 && memcmp(chan, g->conf->redis_key_prefix, n) == 0 &&
	    memcmp(chan + n, "-gw#", 4) == 0) {
		/* "<key>-gw#rec...": recovery across hosts (recremote.c) */
		if (clen >= n + 7 && memcmp(chan + n + 4, "rec", 3) == 0) {
			if (g->redis_rec_message != NULL)
				g->redis_rec_message(g, chan, clen, data,
				    len);
		} else if (clen == n + 9 &&
		    memcmp(chan + n + 4, "admin", 5) == 0) {
			/* "<key>-gw#admin": the Admin UI (issue 18) */
			if (g->redis_admin_message != NULL)
				g->redis_admin_message(g, data, len);
		} else if (g->redis_gw_message != NULL)
			g->redis_gw_message(g, kind, chan, clen, data, len);
	} else if (g->redis_message != NULL)
		g->redis_message(g, kind, chan, clen, data, len);
}

/* This instance's name, and this worker's uid: see the head comment. */
static int
names(struct gateway *g)
{
	char	host[65];
	int	n;

	if (g->conf->node_id != NULL && g->conf->node_id[0] != '\0')
		snprintf(host, sizeof(host), "%s", g->conf->node_id);
	else if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "gateway");
	host[sizeof(host) - 1] = '\0';
	n = snprintf(g->redis_instance, sizeof(g->redis_instance), "%s.%ld",
	    host, (long)getppid());
	if (n < 0 || (size_t)n >= sizeof(g->redis_instance))
		return -1;
	n = snprintf(g->redis_uid, sizeof(g->redis_uid), "%s.%d",
	    g->redis_instance, g->t->wid);
	return n < 0 || (size_t)n >= sizeof(g->redis_uid) ? -1 : 0;
}

/* The connections, when redis_url is set: 0, or -1 (logged). */
int
redislink_init(struct gateway *g)
{
	struct redis_conf	 rc;
	char			 name[sizeof(g->redis_uid) + 8];

	if (g->conf->redis_url == NULL || g->conf->redis_url[0] == '\0')
		return 0;
	if (names(g) != 0) {
		log_error("redis: node_id too long for a cluster name");
		return -1;
	}
	snprintf(name, sizeof(name), "sgw-%s", g->redis_uid);
	memset(&rc, 0, sizeof(rc));
	rc.url = g->conf->redis_url;
	rc.timeout_ms = g->conf->redis_timeout;
	rc.queue_max = g->conf->redis_queue_max;
	rc.name = name;
	if ((g->redis = redis_new(g->t->loop, &rc, &cmd_ops, g)) == NULL ||
	    (g->redis_sub = redis_new(g->t->loop, &rc, &sub_ops, g)) ==
	    NULL) {
		log_error("redis: cannot set up the connections");
		return -1;
	}
	return 0;
}

void
redislink_free(struct gateway *g)
{
	if (g->redis_sub != NULL)
		redis_free(g->redis_sub);
	if (g->redis != NULL)
		redis_free(g->redis);
	g->redis_sub = g->redis = NULL;
}

/* Was this uid one of this instance's workers (the bus brought it)? */
bool
redislink_ours(const struct gateway *g, const char *uid, size_t len)
{
	size_t	n = strlen(g->redis_instance);

	return len > n && memcmp(uid, g->redis_instance, n) == 0 &&
	    uid[n] == '.';
}

/* The connections' figures into the worker's. */
void
redislink_stats(const struct gateway *g, struct worker_stats *st)
{
	struct redis_stats	rs;
	struct redis		*r[2];
	int			i;

	if (g->redis == NULL)
		return;
	st->redis_configured = 1;
	r[0] = g->redis;
	r[1] = g->redis_sub;
	for (i = 0; i < 2; i++) {
		if (r[i] == NULL)
			continue;
		redis_stats(r[i], &rs);
		st->redis_down += !rs.up;
		st->redis_connects += rs.connects;
		st->redis_disconnects += rs.disconnects;
		st->redis_timeouts += rs.timeouts;
		st->redis_lost += rs.lost;
		st->redis_queued_bytes += rs.queued;
		st->redis_bytes_in += rs.bytes_in;
		st->redis_bytes_out += rs.bytes_out;
	}
}
