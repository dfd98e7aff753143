/*
 * What each worker reports to the master every second, and what the master
 * sends back to every worker: the list of all of them.  /health and
 * /metrics are rendered by whichever worker gets the request, from that
 * list, so they speak for the whole gateway (at most a second old).
 */
#ifndef SGW_STATS_H
#define SGW_STATS_H

#include <stdint.h>

/*
 * The downstream services (issue 13), in this order everywhere: the
 * gateway's services.c fills one struct stats_service per service, and
 * metrics.c renders the sums under these names.
 */
enum stats_service_id {
	STATS_SVC_AUTH = 0,
	STATS_SVC_CHAT,
	STATS_SVC_PRESENCE,
	STATS_SVC_AI,
	STATS_SVC_QUANTUM,
	STATS_SERVICES
};
/* Their names in /metrics, /health and the log, in that order. */
#define STATS_SERVICE_NAMES	"auth", "chat", "presence_engine", \
	"ai_engine", "quantum_room_engine"

/* Latency buckets, upper bounds in ms; one more bucket holds the rest. */
#define STATS_LATENCY_BOUNDS	5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000
#define STATS_LATENCY_BUCKETS	10

struct stats_service {
	uint64_t	 configured;	/* 1: it has a URL */
	uint64_t	 requests;	/* HTTP requests sent, retries too */
	uint64_t	 errors;	/* of which failed: 5xx, timeout, ... */
	uint64_t	 retries;
	uint64_t	 rejected;	/* refused by the open breaker, unsent */
	uint64_t	 shed;		/* refused at service_max_inflight */
	uint64_t	 inflight;	/* gauge */
	uint64_t	 state;		/* gauge: 0 closed, 1 open, 2 half-open */
	uint64_t	 latency_sum;	/* ms, over the requests answered */
	uint64_t	 latency[STATS_LATENCY_BUCKETS + 1]; /* not cumulative */
	/* The chat service's persistence (issue 13); 0 for the others. */
	uint64_t	 queued;	/* gauge: messages behind a sender's call */
	uint64_t	 spool_depth;	/* gauge: records in the spool */
	uint64_t	 spool_bytes;	/* gauge: their bytes */
	uint64_t	 spooled;	/* records appended */
	uint64_t	 spool_refused;	/* appends past spool_max_bytes */
	uint64_t	 spool_failed;	/* not spooled: no spool, no write */
	uint64_t	 replayed;	/* records the service took on replay */
	uint64_t	 refused;	/* calls refused for good (4xx) */
	uint64_t	 spool_down;	/* gauge: workers without a spool */
};

struct worker_stats {
	int32_t		 wid;
	int32_t		 slot;
	uint32_t	 generation;
	int32_t		 pid;
	uint8_t		 draining;
	uint8_t		 pad[7];
	uint64_t	 sessions;	/* gauge: Engine.IO sessions */
	uint64_t	 users_online;	/* gauge: users online, gateway-wide */
	uint64_t	 rss;		/* bytes */
	uint64_t	 sessions_total;
	uint64_t	 slow_readers;
	uint64_t	 parse_errors;
	uint64_t	 ping_timeouts;
	uint64_t	 frames_in;
	uint64_t	 frames_out;
	uint64_t	 relayed;
	uint64_t	 handed_off;
	uint64_t	 auth_failures;
	uint64_t	 bus_sent;
	uint64_t	 bus_received;
	uint64_t	 bus_lost;	/* gaps seen in peers' sequence numbers */
	uint64_t	 messages;	/* events relayed to recipients */
	uint64_t	 started;	/* unix time the worker started */
	uint64_t	 conns_refused;	/* max_connections */
	uint64_t	 conns_refused_addr; /* max_connections_per_address */
	uint64_t	 rooms_refused;	/* max_rooms_per_socket */
	uint64_t	 fd_exhausted;	/* accept4: EMFILE or ENFILE */
	uint64_t	 events_rate_limited;	/* past event_rate: warned */
	uint64_t	 rate_limit_disconnects; /* ... and went on: cut off */
	uint64_t	 auth_attempts_refused;	/* past auth_attempts */
	uint64_t	 sessions_refused_addr;	/* max_unconnected_per_address */
	uint64_t	 peers_refused;	/* relay/hand-off peers not our workers */
	uint64_t	 status_refused; /* /health, /metrics: not in status_allow */
	uint64_t	 isolated;	/* gauge: 1 without bus, relay or hand-off */
	uint64_t	 body_timeouts;	/* request bodies cut at body_timeout */
	uint64_t	 header_overflows; /* requests answered 431 */
	struct stats_service services[STATS_SERVICES];	/* issue 13 */
	uint64_t	 membership_hits;	/* answered by the cache */
	uint64_t	 membership_misses;	/* waited for the chat service */
	uint64_t	 membership_calls;	/* checks sent to it */
	uint64_t	 membership_refused;	/* events of non-members */
	uint64_t	 membership_unavailable; /* refused: not checked */
	uint64_t	 membership_busy;	/* past membership_wait_* */
	uint64_t	 membership_groups_truncated; /* token claims cut */
	uint64_t	 membership_entries;	/* gauge: cached answers */
	uint64_t	 membership_held;	/* gauge: events waiting */
	uint64_t	 auth_cache_hits;	/* tokens answered from the cache */
	uint64_t	 auth_cache_misses;	/* ... that needed the service */
	uint64_t	 auth_cache_entries;	/* gauge */
	uint64_t	 auth_coalesced;	/* misses that waited on a call */
	uint64_t	 auth_unavailable;	/* CONNECTs refused: service down */
	uint64_t	 auth_pending_refused;	/* past auth_pending_max */
	/* Several hosts over Redis (issue 14); all 0 without redis_url. */
	uint64_t	 redis_configured;	/* gauge: 1 with redis_url */
	uint64_t	 redis_down;		/* gauge: connections down now */
	uint64_t	 redis_connects;
	uint64_t	 redis_disconnects;
	uint64_t	 redis_timeouts;	/* replies or connects too late */
	uint64_t	 redis_lost;		/* refused past redis_queue_max */
	uint64_t	 redis_queued_bytes;	/* gauge: waiting for Redis */
	uint64_t	 redis_bytes_in;
	uint64_t	 redis_bytes_out;
	uint64_t	 redis_published;	/* broadcasts we published */
	uint64_t	 redis_received;	/* messages for us, taken */
	uint64_t	 redis_ignored;		/* ours, or another namespace */
	uint64_t	 redis_malformed;	/* refused by the decoder */
	uint64_t	 redis_requests;	/* requests answered */
	uint64_t	 redis_unsupported;	/* packets we could not deliver */
	uint64_t	 redis_subscriptions;	/* gauge: channels subscribed */
	uint64_t	 redis_presence_errors;	/* presence commands failed */
	uint64_t	 redis_nodes_expired;	/* dead gateways swept */
	uint64_t	 handoff_waits;	/* owner's hand-off socket full */
	uint64_t	 handoff_failures; /* served by the accepting worker */
	uint64_t	 redis_users_mirrored;	/* gauge: online in the cluster */
	/*
	 * Connection state recovery's log (issue 15).  The host's figures
	 * (reclog_stats), written by the master into every worker's report:
	 * the same in all of them.
	 */
	uint64_t	 recovery_log_down;	/* gauge: wanted, not mapped */
	uint64_t	 recovery_log_bytes;	/* gauge: the ring's size */
	uint64_t	 recovery_log_used;	/* gauge: bytes held */
	uint64_t	 recovery_log_entries;	/* gauge: packets held */
	uint64_t	 recovery_log_appended;
	uint64_t	 recovery_log_evicted;	/* dropped for space */
	uint64_t	 recovery_log_too_big;	/* over a quarter: not kept */
	uint64_t	 recovery_log_sessions;	/* gauge: slots in use */
	uint64_t	 recovery_log_sessions_max; /* gauge: recovery_sessions */
	uint64_t	 recovery_log_parked;	/* gauge: waiting for a client */
	uint64_t	 recovery_log_repaired;	/* a dead locker's write mended */
	/* This worker's reader of the log. */
	uint64_t	 recovery_log_lost;	/* packets it fell behind on */
	uint64_t	 recovery_log_lost_recent; /* gauge: ... in the last 60 s */
	/* Connection state recovery (issue 15), recovery.c. */
	uint64_t	 recovery_attempts;	/* CONNECTs with pid, offset */
	uint64_t	 recovery_ok;
	uint64_t	 recovery_failed_nosession;
	uint64_t	 recovery_failed_expired;
	uint64_t	 recovery_failed_gone;	/* offset not in the log */
	uint64_t	 recovery_failed_toomany; /* past recovery_max_replay */
	uint64_t	 recovery_failed_user;	/* another user's token */
	uint64_t	 recovery_failed_live;	/* still served elsewhere */
	uint64_t	 recovery_failed_rooms;	/* rooms past the slot */
	uint64_t	 recovery_failed_full;	/* no free slot */
	uint64_t	 recovery_failed_malformed; /* pid, offset not ours */
	uint64_t	 recovery_replayed;	/* packets sent in recoveries */
	uint64_t	 recovery_parked;	/* gauge: ghosts kept online */
	/* Long-polling: sessions closed as their waiting GET's client left. */
	uint64_t	 polls_dropped;
	uint64_t	 polls_unwatched;	/* not watched for it: hup.c */
	/* Presence between workers (issue 16): online.c. */
	uint64_t	 presence_summaries;	/* sent, one per interval */
	uint64_t	 presence_summaries_differed; /* a peer's, from ours */
	uint64_t	 presence_digests;	/* whole digests sent */
	/* A live session taken over by a CONNECT with its pid (issue 15). */
	uint64_t	 recovery_takeovers;	/* asked: the old socket closed */
	uint64_t	 recovery_takeovers_ok;	/* then recovered */
	uint64_t	 recovery_takeovers_failed; /* not parked in time, or
						   past recovery_takeover_max */
	uint64_t	 recovery_takeovers_waiting; /* gauge: CONNECTs held */
	/* Recovery across hosts (issue 15), recremote.c, recanswer.c. */
	uint64_t	 recovery_failed_remote; /* no host answered in time */
	uint64_t	 recovery_remote_asked;	/* asks sent to other hosts */
	uint64_t	 recovery_remote_answered; /* other hosts' asks answered */
	uint64_t	 recovery_remote_pending; /* gauge: CONNECTs waiting */
	uint64_t	 recovery_remote_refused; /* past recovery_remote_pending */
	uint64_t	 recovery_remote_malformed; /* asks, answers refused */
	/* Direct messages carried out without a tree (issue 16). */
	uint64_t	 messages_spliced;
	/* The recovery log's wakes between workers (doorbell.c). */
	uint64_t	 doorbell_rung;
	uint64_t	 doorbell_missed;	/* no bell: the bus instead */
	uint64_t	 doorbell_heard;
	/* Issue 16: clients behind on reading, presence storms. */
	uint64_t	 pings_ahead;		/* put before queued frames */
	uint64_t	 pongs_late;		/* late, the client alive */
	uint64_t	 output_queued_bytes;	/* gauge: all clients' queues */
	uint64_t	 output_queue_budget;	/* gauge: this worker's share */
	uint64_t	 presence_stale;	/* gauge: sockets owed presence */
	uint64_t	 presence_held;		/* deltas not queued: behind */
	uint64_t	 presence_coalesced;	/* catch-ups as deltas */
	uint64_t	 presence_refreshed;	/* catch-ups as online_users */
	uint64_t	 presence_over_budget;	/* held for the budget */
	/* The Socket.IO Admin UI (issue 18): admin.c, uifiles.c. */
	uint64_t	 admin_sockets;		/* gauge: logged in */
	uint64_t	 admin_logins_refused;
	uint64_t	 admin_ops;		/* operations applied */
	uint64_t	 admin_ops_refused;	/* read-only, or malformed */
	uint64_t	 admin_updates_sent;
	uint64_t	 admin_updates_dropped;	/* a dashboard behind, a batch
						   past admin_batch_max */
	uint64_t	 admin_list_truncated;	/* past admin_list_max */
	uint64_t	 admin_lists;		/* all_sockets sent */
	uint64_t	 admin_files;		/* Admin UI files served */
	uint64_t	 admin_files_refused;	/* paths refused, or 404 */
};

#define STATS_MAX_WORKERS	512

#endif /* SGW_STATS_H */
