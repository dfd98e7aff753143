/*
 * /health and /metrics for the whole gateway.  Every worker reports to the
 * master each second and the master sends every worker the full list
 * (stats.h), so whichever worker answers speaks for all of them.  /metrics
 * is the seed's JSON, with per-worker detail, or the Prometheus text format
 * when the scraper's Accept header asks for text/plain or OpenMetrics.
 */
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "isotime.h"
#include "metrics.h"
#include "stats.h"
#include "transport.h"

/* Counters summed over the workers, with their Prometheus names. */
static const struct counter {
	const char	*name;
	const char	*help;
	size_t		 off;
} counters[] = {
#define C(f, h) { #f, h, offsetof(struct worker_stats, f) }
	C(sessions_total, "Engine.IO sessions opened."),
	C(slow_readers, "Clients cut off at output_queue_limit."),
	C(parse_errors, "Packets that did not parse; their sessions closed."),
	C(ping_timeouts, "Sessions closed for a missed heartbeat."),
	C(frames_in, "Engine.IO packets received."),
	C(frames_out, "WebSocket frames written."),
	C(relayed, "Long-polling requests relayed to the owner worker."),
	C(handed_off, "Connections passed to the worker owning their session."),
	C(auth_failures, "Connections refused at authentication."),
	C(bus_sent, "Messages sent on the bus between workers."),
	C(bus_received, "Messages received on the bus between workers."),
	C(bus_lost, "Bus messages lost (gaps in sequence numbers)."),
	C(messages, "Events delivered to recipients."),
	C(conns_refused, "Connections refused at max_connections."),
	C(conns_refused_addr,
	    "Connections refused at max_connections_per_address."),
	C(rooms_refused, "join_room refused at max_rooms_per_socket."),
	C(fd_exhausted, "Accepts that found no file descriptor (paused)."),
	C(events_rate_limited, "Connections warned for sending events past "
	    "event_rate."),
	C(rate_limit_disconnects, "Connections cut off for going on past "
	    "event_rate."),
	C(auth_attempts_refused, "Token checks refused past auth_attempts."),
	C(sessions_refused_addr,
	    "Handshakes refused at max_unconnected_per_address."),
	C(peers_refused, "Relay or hand-off peers refused: not our workers."),
	C(status_refused, "Requests for /health or /metrics refused by "
	    "status_allow."),
	C(body_timeouts, "Request bodies not whole within body_timeout (408)."),
	C(header_overflows, "Requests whose line and headers passed "
	    "max_header_size (431)."),
	C(membership_hits, "Group membership checks answered by the cache."),
	C(membership_misses, "Group membership checks that waited for the "
	    "chat service."),
	C(membership_calls, "Group membership calls sent to the chat "
	    "service (concurrent checks share one)."),
	C(membership_refused, "Group events refused: not a member."),
	C(membership_unavailable, "Group events refused: membership could "
	    "not be checked (chat service down or slow)."),
	C(membership_busy, "Events refused past membership_wait_per_socket "
	    "or membership_wait_max."),
	C(membership_groups_truncated, "Tokens whose groups claim was cut "
	    "at membership_token_groups."),
	C(auth_cache_hits, "Tokens answered from the auth service's cache."),
	C(auth_cache_misses, "Tokens the auth service's cache did not have."),
	C(auth_coalesced, "Cache misses that waited on a call for the same "
	    "token."),
	C(auth_unavailable, "CONNECTs refused: the auth service down or "
	    "slow."),
	C(auth_pending_refused, "CONNECTs refused past auth_pending_max."),
	C(redis_connects, "Connections to Redis established."),
	C(redis_disconnects, "Connections to Redis lost."),
	C(redis_timeouts, "Redis replies or connects later than "
	    "redis_timeout."),
	C(redis_lost, "Redis commands refused past redis_queue_max while "
	    "Redis was away: broadcasts other hosts did not get."),
	C(redis_bytes_in, "Bytes read from Redis."),
	C(redis_bytes_out, "Bytes written to Redis."),
	C(redis_published, "Broadcasts published to the other servers."),
	C(redis_received, "Messages from the other servers taken."),
	C(redis_ignored, "Messages from Redis ignored: from this gateway's "
	    "own workers, or for another namespace."),
	C(redis_malformed, "Messages from Redis refused as malformed."),
	C(redis_requests, "Requests of other servers answered (fetchSockets, "
	    "allRooms, socketsJoin, ...)."),
	C(redis_unsupported, "Packets from other servers not delivered: "
	    "a kind the gateway does not send."),
	C(redis_presence_errors, "Presence commands to Redis that failed."),
	C(redis_nodes_expired, "Gateways taken for dead (no heartbeat "
	    "within redis_node_ttl) whose users went offline."),
	C(handoff_waits, "Hand-offs that waited: the owner worker's socket "
	    "was full."),
	C(handoff_failures, "Connections the owner worker never took, "
	    "served where accepted (a WebSocket upgrade among them fails)."),
	C(recovery_log_lost, "Packets of the recovery log a worker's reader "
	    "fell behind on (evicted first): its sockets missed them."),
	C(recovery_attempts, "CONNECTs asking to recover a session."),
	C(recovery_ok, "Sessions recovered."),
	C(recovery_failed_nosession, "Recoveries refused: no such session."),
	C(recovery_failed_expired, "Recoveries refused: the session was "
	    "parked past max_disconnection_duration."),
	C(recovery_failed_gone, "Recoveries refused: the offset left the "
	    "log, or is another log's."),
	C(recovery_failed_toomany, "Recoveries refused: more missed packets "
	    "than recovery_max_replay."),
	C(recovery_failed_user, "Recoveries refused: another user's "
	    "session."),
	C(recovery_failed_live, "Recoveries refused: the session is still "
	    "served."),
	C(recovery_failed_rooms, "Sockets not recoverable: their rooms' "
	    "names pass a session slot."),
	C(recovery_failed_full, "Sockets not recoverable: no free session "
	    "slot (recovery_sessions)."),
	C(recovery_failed_malformed, "Recoveries refused: pid or offset not "
	    "of our shape."),
	C(recovery_replayed, "Packets sent to sockets in recoveries."),
	C(polls_dropped, "Long-polling sessions closed because the "
	    "connection of their waiting GET closed before its answer."),
	C(polls_unwatched, "Waiting long-poll GETs whose connection could "
	    "not be watched for the client's close (fs.epoll."
	    "max_user_watches): noticed at the heartbeat."),
	C(presence_summaries, "Presence summaries sent to the other workers "
	    "(one per presence_digest_interval)."),
	C(presence_summaries_differed, "Other workers' presence summaries "
	    "that differed from what this worker held of them (a lost delta, "
	    "or a new worker): a whole digest was asked for."),
	C(presence_digests, "Whole presence digests sent (asked for, or to a "
	    "worker whose link came up)."),
	C(recovery_takeovers, "CONNECTs that found their session still "
	    "served (a silent cut) and had its old socket closed."),
	C(recovery_takeovers_ok, "Those that then recovered the session."),
	C(recovery_takeovers_failed, "Those that did not: the session was "
	    "not released in time, another took it, or past "
	    "recovery_takeover_max."),
	C(recovery_failed_remote, "Recoveries refused: the session was "
	    "another host's and no host answered in "
	    "recovery_remote_timeout."),
	C(recovery_remote_asked, "Asks sent to the other hosts for a "
	    "session of theirs."),
	C(recovery_remote_answered, "Other hosts' asks for a session of "
	    "this host answered."),
	C(recovery_remote_refused, "CONNECTs not asked for across hosts: "
	    "recovery_remote_pending were waiting already."),
	C(recovery_remote_malformed, "Asks or answers across hosts refused: "
	    "not of their shape."),
	C(messages_spliced, "Direct messages validated from the client's "
	    "text and written by splicing it, without a JSON tree."),
	C(doorbell_rung, "Wakes sent to other workers' doorbells for the "
	    "recovery log."),
	C(doorbell_missed, "Wakes that found no doorbell and went by the bus "
	    "instead."),
	C(doorbell_heard, "Wakes of this gateway's workers by a doorbell."),
	C(pings_ahead, "Pings sent ahead of frames queued for a client "
	    "behind on reading."),
	C(pongs_late, "Pongs late, from clients that sent something since "
	    "the ping: kept, not timed out."),
	C(presence_held, "Presence events not queued for a client behind "
	    "on reading (it gets what changed once it has read)."),
	C(presence_coalesced, "Presence catch-ups sent as the net changes "
	    "since what the client had."),
	C(presence_refreshed, "Presence catch-ups sent as a fresh "
	    "online_users."),
	C(presence_over_budget, "Presence events or catch-ups held back "
	    "because the output queues were over output_queue_budget."),
	C(admin_logins_refused, "Admin UI logins refused: credentials, "
	    "origin, admin_sockets_max or admin_login_rate."),
	C(admin_ops, "Admin UI operations (join, leave, _disconnect, emit) "
	    "applied."),
	C(admin_ops_refused, "Admin UI operations refused: read-only, or not "
	    "of their shape."),
	C(admin_updates_sent, "Updates and server_stats sent to Admin UI "
	    "sockets."),
	C(admin_updates_dropped, "Admin UI updates dropped: a dashboard past "
	    "admin_queue_max, or a batch past admin_batch_max (a fresh list "
	    "follows)."),
	C(admin_list_truncated, "Sockets left out of an Admin UI list: past "
	    "admin_list_max."),
	C(admin_lists, "Socket lists (all_sockets) made for Admin UIs."),
	C(admin_files, "Admin UI static files served."),
	C(admin_files_refused, "Admin UI file requests refused or not "
	    "found."),
#undef C
};
#define NCOUNTERS	(sizeof(counters) / sizeof(counters[0]))

/* Gauges summed over the workers (issue 13), rendered as gauges. */
static const struct counter gauges[] = {
#define G(f, h) { #f, h, offsetof(struct worker_stats, f) }
	G(membership_entries, "Group membership answers cached now."),
	G(membership_held, "Events held now for a group membership check."),
	G(redis_configured, "Workers with redis_url set."),
	G(redis_down, "Connections to Redis down now."),
	G(redis_queued_bytes, "Bytes of commands waiting for Redis now."),
	G(redis_subscriptions, "Redis channels subscribed now."),
	G(redis_users_mirrored, "Users online in the cluster, as each "
	    "worker's mirror of Redis's presence holds them (summed)."),
	G(recovery_log_lost_recent, "Packets of the recovery log a worker "
	    "fell behind on in the last minute."),
	G(recovery_parked, "Closed sockets kept online for their users "
	    "until recovered or max_disconnection_duration."),
	G(recovery_takeovers_waiting, "CONNECTs waiting now for the live "
	    "session they take over to be released."),
	G(recovery_remote_pending, "CONNECTs waiting now for another host's "
	    "answer about their session."),
	G(output_queued_bytes, "Bytes queued now for all clients (each "
	    "queue's frames counted whole)."),
	G(output_queue_budget, "output_queue_budget: the bytes all "
	    "clients' queues may hold before presence waits."),
	G(presence_stale, "Sockets behind on reading that are owed a "
	    "presence catch-up now."),
	G(admin_sockets, "Admin UI sockets logged in now."),
#undef G
};
#define NGAUGES		(sizeof(gauges) / sizeof(gauges[0]))

/*
 * The host's recovery log (issue 15): one mapping for all workers, whose
 * figures the master writes into every report; rendered once, from the
 * first, under their Prometheus names.  All gauges, the counts since the
 * start too: a counter here has one sample per worker, and these are the
 * host's, one sample (a sum over workers would multiply them).
 */
static const struct hostfig {
	const char	*name;		/* JSON */
	const char	*prom;		/* socketgw_<prom> */
	const char	*type;
	const char	*help;
	size_t		 off;
} hostfigs[] = {
#define H(f, n, p, ty, h) { n, p, ty, h, offsetof(struct worker_stats, f) }
	H(recovery_log_down, "down", "recovery_log_down", "gauge",
	    "1: connection_recovery is on but its log could not be mapped."),
	H(recovery_log_bytes, "bytes", "recovery_log_bytes", "gauge",
	    "The recovery log's size (recovery_log_size)."),
	H(recovery_log_used, "used", "recovery_log_used_bytes", "gauge",
	    "Bytes of packets the recovery log holds now."),
	H(recovery_log_entries, "entries", "recovery_log_entries", "gauge",
	    "Packets the recovery log holds now."),
	H(recovery_log_appended, "appended", "recovery_log_appended",
	    "gauge", "Packets appended to the recovery log."),
	H(recovery_log_evicted, "evicted", "recovery_log_evicted",
	    "gauge", "Packets the recovery log dropped for space."),
	H(recovery_log_too_big, "too_big", "recovery_log_too_big",
	    "gauge", "Packets over a quarter of the log: sent, not kept."),
	H(recovery_log_sessions, "sessions", "recovery_log_sessions",
	    "gauge", "Recoverable sessions held now."),
	H(recovery_log_sessions_max, "sessions_max",
	    "recovery_log_sessions_max", "gauge",
	    "Recoverable sessions the log can hold (recovery_sessions)."),
	H(recovery_log_parked, "parked", "recovery_log_parked", "gauge",
	    "Sessions waiting for their client to reconnect."),
	H(recovery_log_repaired, "repaired", "recovery_log_repaired",
	    "gauge", "Writes of a process killed holding the log's lock, "
	    "finished or undone by the next one."),
#undef H
};
#define NHOSTFIGS	(sizeof(hostfigs) / sizeof(hostfigs[0]))

/* The downstream services, in stats.h's order. */
static const char *const svc_names[STATS_SERVICES] = {
	STATS_SERVICE_NAMES
};
static const long long svc_bounds[STATS_LATENCY_BUCKETS] = {
	STATS_LATENCY_BOUNDS
};

struct totals {
	uint64_t	 sessions, users, rss, started;
	uint64_t	 sum[NCOUNTERS];
	uint64_t	 gsum[NGAUGES];
	uint64_t	 isolated;	/* workers without a way to the others */
	uint64_t	 auth_cache;	/* entries, all workers */
	uint64_t	 redis_down;	/* connections to Redis down now */
	uint64_t	 recovery_down;	/* the recovery log wanted, absent */
	uint64_t	 recovery_lost;	/* log packets lost, last minute */
	int		 draining;
	struct stats_service svc[STATS_SERVICES];	/* summed; state: max */
};

static uint64_t	 counter(const struct worker_stats *, size_t);
static uint64_t	 gauge(const struct worker_stats *, size_t);
static void	 gauges_prometheus(const struct transport *, struct buf *);
static void	 total(const struct transport *, struct totals *);
static int	 wants_text(struct lws *);
static void	 svc_total(const struct worker_stats *, struct totals *);
static int	 svc_down(const struct totals *, char *, size_t);
static void	 svc_json(const struct totals *, struct buf *);
static void	 svc_prometheus(const struct transport *, const struct totals *,
		    struct buf *);
static uint64_t	 hostfig(const struct transport *, size_t);
static void	 host_json(const struct transport *, struct buf *);
static void	 host_prometheus(const struct transport *, struct buf *);
static void	 render_json(const struct transport *, struct buf *);
static void	 render_prometheus(const struct transport *, struct buf *);

/* Counter j of one worker's figures. */
static uint64_t
counter(const struct worker_stats *w, size_t j)
{
	uint64_t	v;

	memcpy(&v, (const char *)w + counters[j].off, sizeof(v));
	return v;
}

/* Gauge j of one worker's figures. */
static uint64_t
gauge(const struct worker_stats *w, size_t j)
{
	uint64_t	v;

	memcpy(&v, (const char *)w + gauges[j].off, sizeof(v));
	return v;
}

/* Host figure j: the first report's (they are all the same). */
static uint64_t
hostfig(const struct transport *t, size_t j)
{
	uint64_t	v;

	if (t->nagg == 0)
		return 0;
	memcpy(&v, (const char *)&t->agg[0] + hostfigs[j].off, sizeof(v));
	return v;
}

static void
host_json(const struct transport *t, struct buf *b)
{
	size_t	j;

	buf_printf(b, "\"recovery_log\":{");
	for (j = 0; j < NHOSTFIGS; j++)
		buf_printf(b, "%s\"%s\":%llu", j ? "," : "", hostfigs[j].name,
		    (unsigned long long)hostfig(t, j));
	buf_printf(b, "},");
}

static void
host_prometheus(const struct transport *t, struct buf *b)
{
	size_t	j;

	for (j = 0; j < NHOSTFIGS; j++)
		buf_printf(b, "# HELP socketgw_%s %s\n# TYPE socketgw_%s %s\n"
		    "socketgw_%s %llu\n", hostfigs[j].prom, hostfigs[j].help,
		    hostfigs[j].prom, hostfigs[j].type, hostfigs[j].prom,
		    (unsigned long long)hostfig(t, j));
}

static void
total(const struct transport *t, struct totals *x)
{
	const struct worker_stats	*w;
	size_t				 i, j;

	memset(x, 0, sizeof(*x));
	x->draining = t->draining;
	for (i = 0; i < t->nagg; i++) {
		w = &t->agg[i];
		x->sessions += w->sessions;
		x->rss += w->rss;
		if (w->users_online > x->users)
			x->users = w->users_online;
		if (x->started == 0 || (w->started != 0 &&
		    w->started < x->started))
			x->started = w->started;
		for (j = 0; j < NCOUNTERS; j++)
			x->sum[j] += counter(w, j);
		for (j = 0; j < NGAUGES; j++)
			x->gsum[j] += gauge(w, j);
		x->isolated += w->isolated != 0;
		x->auth_cache += w->auth_cache_entries;
		x->redis_down += w->redis_down;
		x->recovery_down |= w->recovery_log_down;
		x->recovery_lost += w->recovery_log_lost_recent;
		svc_total(w, x);
	}
}

/*
 * One worker's services into the sums.  The breaker state is per worker:
 * the gateway's is the worst one, open before half-open before closed.
 */
static void
svc_total(const struct worker_stats *w, struct totals *x)
{
	const struct stats_service	*s;
	struct stats_service		*t;
	size_t				 i, k;

	for (i = 0; i < STATS_SERVICES; i++) {
		s = &w->services[i];
		t = &x->svc[i];
		t->configured |= s->configured;
		t->requests += s->requests;
		t->errors += s->errors;
		t->retries += s->retries;
		t->rejected += s->rejected;
		t->shed += s->shed;
		t->inflight += s->inflight;
		t->latency_sum += s->latency_sum;
		for (k = 0; k <= STATS_LATENCY_BUCKETS; k++)
			t->latency[k] += s->latency[k];
		if (s->state == 1 || (s->state == 2 && t->state != 1))
			t->state = s->state;
		t->queued += s->queued;
		t->spool_depth += s->spool_depth;
		t->spool_bytes += s->spool_bytes;
		t->spooled += s->spooled;
		t->spool_refused += s->spool_refused;
		t->spool_failed += s->spool_failed;
		t->replayed += s->replayed;
		t->refused += s->refused;
		t->spool_down += s->spool_down;
	}
}

/* The names of the services whose breaker is open, as a JSON list. */
static int
svc_down(const struct totals *x, char *out, size_t size)
{
	size_t	i, n = 0;
	int	down = 0;

	out[0] = '\0';
	for (i = 0; i < STATS_SERVICES && n < size; i++) {
		if (!x->svc[i].configured || x->svc[i].state != 1)
			continue;
		n += (size_t)snprintf(out + n, size - n, "%s\"%s\"",
		    down ? "," : "", svc_names[i]);
		down++;
	}
	/* Redis away (issue 14): the other hosts do not hear from us. */
	if (x->redis_down != 0 && n < size) {
		(void)snprintf(out + n, size - n, "%s\"redis\"",
		    down ? "," : "");
		down++;
	}
	return down;
}

int
metrics_health(struct transport *t, struct lws *wsi, struct conn *c)
{
	struct totals	x;
	char		body[768], now[ISOTIME_SIZE], down[160];
	int		n;

	total(t, &x);
	isotime_now(now);
	/*
	 * A service whose breaker is open: the gateway still serves (200),
	 * degraded, and says which (issue 13).
	 */
	if (!x.draining && !x.isolated && (svc_down(&x, down, sizeof(down)) ||
	    x.svc[STATS_SVC_CHAT].spool_down != 0 || x.recovery_down ||
	    x.recovery_lost)) {
		/* A worker without its spool would lose what it must spool. */
		n = snprintf(body, sizeof(body), "{\"status\":\"degraded\","
		    "\"service\":\"socket-gateway\",\"connections\":%llu,"
		    "\"onlineUsers\":%llu,\"workers\":%zu,"
		    "\"isolatedWorkers\":0,\"servicesDown\":[%s],%s"
		    "\"timestamp\":\"%s\"}", (unsigned long long)x.sessions,
		    (unsigned long long)x.users, t->nagg, down,
		    x.svc[STATS_SVC_CHAT].spool_down ? "\"reason\":\"workers "
		    "without a spool (spool_dir): messages the chat service "
		    "cannot take are not stored\"," : x.redis_down ?
		    "\"reason\":\"Redis unreachable: the other hosts neither "
		    "hear from this one nor reach its users; broadcasts wait "
		    "in a bounded queue (redis_queue_max) for it\"," :
		    x.recovery_down ? "\"reason\":\"connection recovery is "
		    "off: its log could not be mapped (recovery_log_size); "
		    "reconnecting clients miss what was sent meanwhile\"," :
		    x.recovery_lost ? "\"reason\":\"a worker fell behind the "
		    "recovery log in the last minute: its sockets missed "
		    "packets (recovery_log_size too small for the traffic)\","
		    : "", now);
		return http_reply(wsi, c, 200, "application/json", body,
		    (size_t)n);
	}
	/*
	 * A worker that cannot reach the others (no bus, relay or hand-off)
	 * loses messages between users without telling them: an error, not a
	 * line in the log (issue 11.19).
	 */
	n = snprintf(body, sizeof(body), "{\"status\":\"%s\",\"service\":"
	    "\"socket-gateway\",\"connections\":%llu,\"onlineUsers\":%llu,"
	    "\"workers\":%zu,\"isolatedWorkers\":%llu,%s\"timestamp\":"
	    "\"%s\"}", x.draining ? "draining" : x.isolated ? "error" : "ok",
	    (unsigned long long)x.sessions, (unsigned long long)x.users,
	    t->nagg, (unsigned long long)x.isolated, x.isolated ?
	    "\"error\":\"workers without a bus to the other workers: "
	    "messages between them are lost\"," : "", now);
	return http_reply(wsi, c, x.draining || x.isolated ? 503 : 200,
	    "application/json", body, (size_t)n);
}

static void
render_json(const struct transport *t, struct buf *b)
{
	const struct worker_stats	*w;
	struct totals			 x;
	char				 now[ISOTIME_SIZE];
	size_t				 i, j;

	total(t, &x);
	isotime_now(now);
	buf_printf(b, "{\"connections\":{\"total\":%llu,\"online\":%llu},"
	    "\"uptime\":%lld,\"memory\":{\"rss\":%llu},",
	    (unsigned long long)x.sessions, (unsigned long long)x.users,
	    x.started ? (long long)(time(NULL) - (time_t)x.started) : 0,
	    (unsigned long long)x.rss);
	buf_printf(b, "\"isolated_workers\":%llu,",
	    (unsigned long long)x.isolated);
	buf_printf(b, "\"auth_cache_entries\":%llu,",
	    (unsigned long long)x.auth_cache);
	buf_printf(b, "\"totals\":{");
	for (j = 0; j < NCOUNTERS; j++)
		buf_printf(b, "%s\"%s\":%llu", j ? "," : "", counters[j].name,
		    (unsigned long long)x.sum[j]);
	for (j = 0; j < NGAUGES; j++)
		buf_printf(b, ",\"%s\":%llu", gauges[j].name,
		    (unsigned long long)x.gsum[j]);
	buf_printf(b, "},\"workers\":[");
	for (i = 0; i < t->nagg; i++) {
		w = &t->agg[i];
		buf_printf(b, "%s{\"worker\":%d,\"generation\":%u,\"pid\":%d,"
		    "\"draining\":%s,\"connections\":%llu,\"rss\":%llu",
		    i ? "," : "", w->slot, w->generation, w->pid,
		    w->draining ? "true" : "false",
		    (unsigned long long)w->sessions,
		    (unsigned long long)w->rss);
		buf_printf(b, ",\"isolated\":%s",
		    w->isolated ? "true" : "false");
		buf_printf(b, ",\"auth_cache_entries\":%llu",
		    (unsigned long long)w->auth_cache_entries);
		for (j = 0; j < NCOUNTERS; j++)
			buf_printf(b, ",\"%s\":%llu", counters[j].name,
			    (unsigned long long)counter(w, j));
		for (j = 0; j < NGAUGES; j++)
			buf_printf(b, ",\"%s\":%llu", gauges[j].name,
			    (unsigned long long)gauge(w, j));
		buf_printf(b, "}");
	}
	buf_printf(b, "],");
	svc_json(&x, b);
	host_json(t, b);
	buf_printf(b, "\"timestamp\":\"%s\"}", now);
}

static void
render_prometheus(const struct transport *t, struct buf *b)
{
	const struct worker_stats	*w;
	struct totals			 x;
	size_t				 i, j;

	total(t, &x);
	svc_prometheus(t, &x, b);
	buf_printf(b, "# HELP socketgw_connections Socket.IO sessions open "
	    "now.\n# TYPE socketgw_connections gauge\n");
	for (i = 0; i < t->nagg; i++)
		buf_printf(b, "socketgw_connections{worker=\"%d\"} %llu\n",
		    t->agg[i].slot, (unsigned long long)t->agg[i].sessions);
	buf_printf(b, "# HELP socketgw_online_users Users online, "
	    "gateway-wide.\n# TYPE socketgw_online_users gauge\n"
	    "socketgw_online_users %llu\n",
	    (unsigned long long)x.users);
	buf_printf(b, "# HELP socketgw_resident_memory_bytes Resident memory.\n"
	    "# TYPE socketgw_resident_memory_bytes gauge\n");
	for (i = 0; i < t->nagg; i++)
		buf_printf(b, "socketgw_resident_memory_bytes{worker=\"%d\"} "
		    "%llu\n", t->agg[i].slot,
		    (unsigned long long)t->agg[i].rss);
	buf_printf(b, "# HELP socketgw_draining 1 while the gateway drains.\n"
	    "# TYPE socketgw_draining gauge\nsocketgw_draining %d\n",
	    x.draining);
	buf_printf(b, "# HELP socketgw_isolated 1 for a worker without a "
	    "bus, relay or hand-off to the other workers.\n"
	    "# TYPE socketgw_isolated gauge\n");
	for (i = 0; i < t->nagg; i++)
		buf_printf(b, "socketgw_isolated{worker=\"%d\"} %d\n",
		    t->agg[i].slot, t->agg[i].isolated != 0);
	buf_printf(b, "# HELP socketgw_auth_cache_entries Tokens in the auth "
	    "service's cache.\n# TYPE socketgw_auth_cache_entries gauge\n");
	for (i = 0; i < t->nagg; i++)
		buf_printf(b, "socketgw_auth_cache_entries{worker=\"%d\"} "
		    "%llu\n", t->agg[i].slot,
		    (unsigned long long)t->agg[i].auth_cache_entries);
	for (j = 0; j < NCOUNTERS; j++) {
		/* Counters end in _total once: sessions_total stays so. */
		int nl = (int)strlen(counters[j].name);

		if (nl > 6 && strcmp(counters[j].name + nl - 6, "_total") == 0)
			nl -= 6;
		buf_printf(b, "# HELP socketgw_%.*s_total %s\n"
		    "# TYPE socketgw_%.*s_total counter\n", nl,
		    counters[j].name, counters[j].help, nl, counters[j].name);
		for (i = 0; i < t->nagg; i++) {
			w = &t->agg[i];
			buf_printf(b, "socketgw_%.*s_total{worker=\"%d\"} "
			    "%llu\n", nl, counters[j].name, w->slot,
			    (unsigned long long)counter(w, j));
		}
	}
	gauges_prometheus(t, b);
	host_prometheus(t, b);
}

/* The gauges, per worker. */
static void
gauges_prometheus(const struct transport *t, struct buf *b)
{
	size_t	i, j;

	for (j = 0; j < NGAUGES; j++) {
		buf_printf(b, "# HELP socketgw_%s %s\n# TYPE socketgw_%s gauge\n",
		    gauges[j].name, gauges[j].help, gauges[j].name);
		for (i = 0; i < t->nagg; i++)
			buf_printf(b, "socketgw_%s{worker=\"%d\"} %llu\n",
			    gauges[j].name, t->agg[i].slot,
			    (unsigned long long)gauge(&t->agg[i], j));
	}
}

/*
 * "services": one object per configured service, summed over the workers;
 * latency as the histogram's cumulative buckets, by upper bound in ms.
 */
static void
svc_json(const struct totals *x, struct buf *b)
{
	const struct stats_service	*s;
	uint64_t			 cum;
	size_t				 i, k;
	int				 first = 1;

	for (i = 0; i < STATS_SERVICES && !x->svc[i].configured; i++)
		;
	if (i == STATS_SERVICES)
		return;		/* none: the figures of a gateway without */
	buf_printf(b, "\"services\":{");
	for (i = 0; i < STATS_SERVICES; i++) {
		s = &x->svc[i];
		if (!s->configured)
			continue;
		buf_printf(b, "%s\"%s\":{\"requests\":%llu,\"errors\":%llu,"
		    "\"retries\":%llu,\"rejected\":%llu,\"shed\":%llu,"
		    "\"inflight\":%llu,\"breaker\":%llu,\"latency_ms\":{"
		    "\"sum\":%llu,\"buckets\":{", first ? "" : ",",
		    svc_names[i], (unsigned long long)s->requests,
		    (unsigned long long)s->errors,
		    (unsigned long long)s->retries,
		    (unsigned long long)s->rejected,
		    (unsigned long long)s->shed,
		    (unsigned long long)s->inflight,
		    (unsigned long long)s->state,
		    (unsigned long long)s->latency_sum);
		for (cum = 0, k = 0; k <= STATS_LATENCY_BUCKETS; k++) {
			cum += s->latency[k];
			if (k < STATS_LATENCY_BUCKETS)
				buf_printf(b, "\"%lld\":%llu,", svc_bounds[k],
				    (unsigned long long)cum);
			else
				buf_printf(b, "\"+Inf\":%llu}}",
				    (unsigned long long)cum);
		}
		buf_printf(b, ",\"queued\":%llu,\"spool_depth\":%llu,"
		    "\"spool_bytes\":%llu,\"spooled\":%llu,"
		    "\"spool_refused\":%llu,\"spool_failed\":%llu,"
		    "\"replayed\":%llu,\"refused\":%llu,\"spool_down\":%llu}",
		    (unsigned long long)s->queued,
		    (unsigned long long)s->spool_depth,
		    (unsigned long long)s->spool_bytes,
		    (unsigned long long)s->spooled,
		    (unsigned long long)s->spool_refused,
		    (unsigned long long)s->spool_failed,
		    (unsigned long long)s->replayed,
		    (unsigned long long)s->refused,
		    (unsigned long long)s->spool_down);
		first = 0;
	}
	buf_printf(b, "},");
}

/* The services' families, labelled by service, summed over the workers. */
static void
svc_prometheus(const struct transport *t, const struct totals *x,
    struct buf *b)
{
	static const struct {
		const char	*name, *help, *type;
		size_t		 off;
	} fam[] = {
#define F(n, f, h, ty) { n, h, ty, offsetof(struct stats_service, f) }
		F("service_requests_total", requests,
		    "HTTP requests sent to a service, retries included.",
		    "counter"),
		F("service_errors_total", errors, "Requests that failed: 5xx, "
		    "4xx, timeout, no connection.", "counter"),
		F("service_retries_total", retries, "Retries of idempotent "
		    "calls.", "counter"),
		F("service_rejected_total", rejected, "Calls refused unsent "
		    "by an open circuit breaker.", "counter"),
		F("service_shed_total", shed, "Calls shed unsent at "
		    "service_max_inflight.", "counter"),
		F("service_inflight", inflight, "Requests in flight now.",
		    "gauge"),
		F("service_breaker_state", state, "Circuit breaker: 0 closed, "
		    "1 open, 2 half-open (the worst worker's).", "gauge"),
		F("service_queue_depth", queued, "Messages waiting in memory "
		    "behind their sender's call (chat).", "gauge"),
		F("service_spool_depth", spool_depth, "Records in the spool, "
		    "to replay (chat).", "gauge"),
		F("service_spool_bytes", spool_bytes, "Payload bytes of the "
		    "records in the spool (chat).", "gauge"),
		F("service_spooled_total", spooled, "Records appended to the "
		    "spool (chat).", "counter"),
		F("service_spool_refused_total", spool_refused, "Records "
		    "refused by a full spool, spool_max_bytes (chat).",
		    "counter"),
		F("service_spool_failed_total", spool_failed, "Records that "
		    "could not be spooled: no spool, a failed write (chat).",
		    "counter"),
		F("service_replayed_total", replayed, "Spooled records the "
		    "service took on replay (chat).", "counter"),
		F("service_refused_total", refused, "Calls the service refused "
		    "for good, a 4xx (chat).", "counter"),
		F("service_spool_down", spool_down, "Workers without a spool "
		    "(chat).", "gauge"),
#undef F
	};
	const struct stats_service	*s;
	uint64_t			 v, cum;
	size_t				 i, j, k;

	(void)t;
	for (i = 0; i < STATS_SERVICES && !x->svc[i].configured; i++)
		;
	if (i == STATS_SERVICES)
		return;
	for (j = 0; j < sizeof(fam) / sizeof(fam[0]); j++) {
		buf_printf(b, "# HELP socketgw_%s %s\n# TYPE socketgw_%s %s\n",
		    fam[j].name, fam[j].help, fam[j].name, fam[j].type);
		for (i = 0; i < STATS_SERVICES; i++) {
			if (!x->svc[i].configured)
				continue;
			memcpy(&v, (const char *)&x->svc[i] + fam[j].off,
			    sizeof(v));
			buf_printf(b, "socketgw_%s{service=\"%s\"} %llu\n",
			    fam[j].name, svc_names[i], (unsigned long long)v);
		}
	}
	buf_printf(b, "# HELP socketgw_service_latency_seconds Time to a "
	    "service's answer.\n# TYPE socketgw_service_latency_seconds "
	    "histogram\n");
	for (i = 0; i < STATS_SERVICES; i++) {
		s = &x->svc[i];
		if (!s->configured)
			continue;
		for (cum = 0, k = 0; k <= STATS_LATENCY_BUCKETS; k++) {
			cum += s->latency[k];
			if (k < STATS_LATENCY_BUCKETS)
				buf_printf(b, "socketgw_service_latency_seconds_"
				    "bucket{service=\"%s\",le=\"%g\"} %llu\n",
				    svc_names[i], svc_bounds[k] / 1000.0,
				    (unsigned long long)cum);
			else
				buf_printf(b, "socketgw_service_latency_seconds_"
				    "bucket{service=\"%s\",le=\"+Inf\"} %llu\n",
				    svc_names[i], (unsigned long long)cum);
		}
		buf_printf(b, "socketgw_service_latency_seconds_sum{service="
		    "\"%s\"} %g\nsocketgw_service_latency_seconds_count{"
		    "service=\"%s\"} %llu\n", svc_names[i],
		    s->latency_sum / 1000.0, svc_names[i],
		    (unsigned long long)cum);
	}
}

/* Prometheus asks with text/plain;version=0.0.4 or OpenMetrics. */
static int
wants_text(struct lws *wsi)
{
	char	accept[256];

	if (lws_hdr_copy(wsi, accept, sizeof(accept), WSI_TOKEN_HTTP_ACCEPT)
	    <= 0)
		return 0;
	return strstr(accept, "text/plain") != NULL ||
	    strstr(accept, "openmetrics") != NULL;
}

int
metrics_reply(struct transport *t, struct lws *wsi, struct conn *c)
{
	struct buf	b = { NULL, 0, 0 };
	int		rc, text = wants_text(wsi);

	if (buf_reserve(&b, 4096, BUF_NOMAX) != 0)
		return -1;
	if (text)
		render_prometheus(t, &b);
	else
		render_json(t, &b);
	rc = http_reply(wsi, c, 200, text ?
	    "text/plain; version=0.0.4; charset=utf-8" : "application/json",
	    b.p, b.len);
	buf_free(&b);
	return rc;
}
