/*
 * Every configuration key, one row each: name, type, where the value lives,
 * range, default, flags, the seed's environment variable and one line of
 * documentation.  The parser, `-t`, the environment overrides and the tests
 * that keep etc/socket-gateway.conf and socket-gateway.conf(5) complete all
 * read this table, so a key exists in one place.
 */
#include <stddef.h>
#include <string.h>

#include "conf.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

const char *const conf_log_levels[] = { "error", "warn", "info", "debug",
    NULL };
const char *const conf_jwt_algs[] = { "HS256", "HS384", "HS512", "RS256",
    "RS384", "RS512", "ES256", "ES384", "ES512", NULL };
const char *const conf_presence_modes[] = { "all", "scoped", NULL };
const char *const conf_redis_adapters[] = { "classic", "sharded", NULL };
/* "auto": service with a chat_service_url, else open (settings.c). */
const char *const conf_membership_modes[] = { "auto", "service", "token",
    "open", NULL };
const char *const conf_auth_modes[] = { "auto", "local", "service", "both",
    NULL };

#define OFF(f)		offsetof(struct conf, f)
#define MS_DAY		86400000LL
#define STR_MAX		4096

/*
 * A service's own timeout, limit, token and header (issue 13), each
 * taking the shared key's value when left at 0 or "" (conf_svc.c): svc
 * is the prefix of its _url key, i its CONF_SVC_* index.
 */
#define SVC_KEYS(svc, i)						\
	{ svc "_timeout", CONF_DURATION, OFF(svc_timeout[i]), 0, 600000, \
	    "0", CONF_F_RELOADABLE, NULL, NULL,				\
	    "longest a call to " svc " may take; 0: service_timeout" },	\
	{ svc "_max_inflight", CONF_INT, OFF(svc_max_inflight[i]), 0,	\
	    100000, "0", CONF_F_RELOADABLE, NULL, NULL,			\
	    "calls in flight to " svc " per worker; "			\
	    "0: service_max_inflight" },					\
	{ svc "_token", CONF_STRING, OFF(svc_token[i]), 0, 4096, "",	\
	    CONF_F_SENSITIVE | CONF_F_RELOADABLE, NULL, NULL,		\
	    "bearer token for " svc " alone; empty: the shared ones" },	\
	{ svc "_header", CONF_STRING, OFF(svc_header[i]), 0, 4096, "",	\
	    CONF_F_SENSITIVE | CONF_F_RELOADABLE, NULL, NULL,		\
	    "\"Name: value\" sent to " svc " alone; empty: the shared ones" }

const struct conf_key conf_keys[] = {
	/* Process. */
	{ "workers", CONF_INT, OFF(workers), 0, 256, "0", CONF_F_RELOADABLE,
	    NULL, NULL,
	    "worker processes; 0 means one per CPU" },
	{ "user", CONF_STRING, OFF(user), 0, 64, "", 0, NULL, NULL,
	    "user to run as after binding, when started as root" },
	{ "run_dir", CONF_STRING, OFF(run_dir), 1, 256,
	    "/run/socket-gateway", CONF_F_PATH, NULL, NULL,
	    "directory for the workers' bus sockets" },
	{ "log_level", CONF_ENUM, OFF(log_level), 0, 0, "info",
	    CONF_F_RELOADABLE, "LOG_LEVEL", conf_log_levels,
	    "error, warn, info or debug" },
	{ "shutdown_timeout", CONF_DURATION, OFF(shutdown_timeout), 0, MS_DAY,
	    "30s", CONF_F_RELOADABLE, NULL, NULL,
	    "longest a drain may take before the rest is closed" },
	{ "drain_batch", CONF_INT, OFF(drain_batch), 1, 1000000, "10000",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "clients told to reconnect per drain_interval while draining" },
	{ "drain_interval", CONF_DURATION, OFF(drain_interval), 1, 60000,
	    "2s", CONF_F_RELOADABLE, NULL, NULL,
	    "pause between two drain batches" },

	/* Network. */
	{ "listen", CONF_LISTEN, OFF(listen), 1, 65535, "3002", 0, "PORT",
	    NULL, "[address:]port to accept clients on; may repeat" },
	{ "tls_cert", CONF_STRING, OFF(tls_cert), 0, 256, "",
	    CONF_F_PATH | CONF_F_RELOADABLE, NULL, NULL,
	    "PEM certificate chain; with tls_key, every listener speaks TLS" },
	{ "tls_key", CONF_STRING, OFF(tls_key), 0, 256, "",
	    CONF_F_PATH | CONF_F_RELOADABLE, NULL, NULL,
	    "PEM private key for tls_cert" },
	{ "cors_origin", CONF_LIST, OFF(cors_origin), 0, 256, "*",
	    CONF_F_RELOADABLE, "CORS_ORIGIN", NULL,
	    "origins allowed by CORS, comma separated; * allows any" },
	{ "cors_credentials", CONF_BOOL, OFF(cors_credentials), 0, 1, "no",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "send Access-Control-Allow-Credentials" },
	{ "max_connections", CONF_INT, OFF(max_connections), 1, 10000000,
	    "100000", CONF_F_RELOADABLE, NULL, NULL,
	    "connections the whole gateway accepts; more are refused" },
	{ "max_connections_per_address", CONF_INT,
	    OFF(max_connections_per_address), 0, 10000000, "1000",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "connections one client address may hold per worker; 0: no limit" },
	{ "max_unconnected_per_address", CONF_INT,
	    OFF(max_unconnected_per_address), 0, 10000000, "200",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "sessions without a CONNECT one address may hold per worker" },
	{ "status_allow", CONF_STRING, OFF(status_allow), 0, 1024, "",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "addresses or CIDRs that may GET /health and /metrics; empty: all" },

	/* Engine.IO. */
	{ "ping_interval", CONF_DURATION, OFF(ping_interval), 100, MS_DAY,
	    "25s", CONF_F_RELOADABLE, NULL, NULL,
	    "time between two heartbeats (pingInterval)" },
	{ "ping_timeout", CONF_DURATION, OFF(ping_timeout), 100, MS_DAY,
	    "20s", CONF_F_RELOADABLE, NULL, NULL,
	    "time a client has to answer a heartbeat (pingTimeout)" },
	{ "max_payload", CONF_SIZE, OFF(max_payload), 64, 1000000, "1m",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "largest message or polling request accepted (maxPayload)" },
	{ "connect_timeout", CONF_DURATION, OFF(connect_timeout), 100, MS_DAY,
	    "45s", CONF_F_RELOADABLE, NULL, NULL,
	    "time a client has to send its Socket.IO CONNECT" },
	{ "upgrade_timeout", CONF_DURATION, OFF(upgrade_timeout), 100, MS_DAY,
	    "10s", CONF_F_RELOADABLE, NULL, NULL,
	    "time a polling client has to finish the upgrade to WebSocket" },
	{ "body_timeout", CONF_DURATION, OFF(body_timeout), 100, MS_DAY,
	    "30s", CONF_F_RELOADABLE, NULL, NULL,
	    "time a client has to send a whole request body" },
	{ "max_header_size", CONF_SIZE, OFF(max_header_size), 2048, 65000,
	    "16k", CONF_F_RELOADABLE, NULL, NULL,
	    "room for a request line and headers; more is answered 431" },
	{ "output_queue_limit", CONF_SIZE, OFF(output_queue_limit), 1024,
	    1000000000, "4mb", CONF_F_RELOADABLE, NULL, NULL,
	    "bytes queued for one slow client before it is disconnected" },
	{ "event_rate", CONF_INT, OFF(event_rate), 1, 1000000, "100",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "events a second one connection may send, on average" },
	{ "event_burst", CONF_INT, OFF(event_burst), 1, 1000000, "200",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "events one connection may send at once, over event_rate" },
	{ "auth_attempts", CONF_INT, OFF(auth_attempts), 1, 1000, "10",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "token checks (CONNECT, refresh_token) per connection a minute" },

	/* Authentication. */
	{ "jwt_secret", CONF_STRING, OFF(jwt_secret), 0, STR_MAX, "",
	    CONF_F_SENSITIVE | CONF_F_RELOADABLE, "JWT_SECRET", NULL,
	    "shared secret for HS256/384/512 tokens" },
	{ "jwt_secret_file", CONF_STRING, OFF(jwt_secret_file), 0, 256,
	    SYSCONFDIR "/socket-gateway/jwt.secret",
	    CONF_F_PATH | CONF_F_RELOADABLE, NULL, NULL,
	    "file holding the secret, when jwt_secret is empty; mode 0600" },
	{ "jwt_public_key_file", CONF_STRING, OFF(jwt_public_key_file), 0, 256,
	    "", CONF_F_PATH | CONF_F_RELOADABLE, NULL, NULL,
	    "PEM public key for RS256..ES512 tokens" },
	{ "jwt_algorithm", CONF_ENUM, OFF(jwt_algorithm), 0, 0, "HS256",
	    CONF_F_RELOADABLE, NULL, conf_jwt_algs,
	    "the only algorithm a token may be signed with" },
	{ "jwt_leeway", CONF_DURATION, OFF(jwt_leeway), 0, 3600000, "30s",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "clock skew allowed on exp and nbf" },
	{ "jwt_issuer", CONF_STRING, OFF(jwt_issuer), 0, 256, "",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "required iss claim; empty means not checked" },
	{ "jwt_audience", CONF_STRING, OFF(jwt_audience), 0, 256, "",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "required aud claim; empty means not checked" },
	{ "jwt_user_claim", CONF_STRING, OFF(jwt_user_claim), 0, 64, "",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "claim holding the user id; empty tries sub, user_id, userId, id" },
	{ "jwt_require_exp", CONF_BOOL, OFF(jwt_require_exp), 0, 1, "yes",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "refuse tokens without an exp claim (they would never expire)" },

	/* Presence. */
	{ "presence_mode", CONF_ENUM, OFF(presence_mode), 0, 0, "all",
	    CONF_F_RELOADABLE, NULL, conf_presence_modes,
	    "all: every user hears of every user; scoped: only subscribers" },
	{ "presence_digest_interval", CONF_DURATION,
	    OFF(presence_digest_interval), 100, 3600000, "5s",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "how often workers exchange presence digests to repair losses" },
	{ "max_rooms_per_socket", CONF_INT, OFF(max_rooms_per_socket), 1,
	    1000000, "1000", CONF_F_RELOADABLE, NULL, NULL,
	    "rooms one socket may be in, its own user room included" },

	/* Downstream services. */
	{ "auth_service_url", CONF_URL, OFF(auth_service_url), 0, 1024, "",
	    CONF_F_RELOADABLE, "AUTH_SERVICE_URL", NULL,
	    "auth service: token verification without a local key, status" },
	{ "chat_service_url", CONF_URL, OFF(chat_service_url), 0, 1024, "",
	    CONF_F_RELOADABLE, "CHAT_SERVICE_URL", NULL,
	    "chat service: message persistence and group membership" },
	{ "presence_engine_url", CONF_URL, OFF(presence_engine_url), 0, 1024,
	    "", CONF_F_RELOADABLE, "PRESENCE_ENGINE_URL", NULL,
	    "presence engine, told of connects and disconnects" },
	{ "ai_engine_url", CONF_URL, OFF(ai_engine_url), 0, 1024, "",
	    CONF_F_RELOADABLE, "AI_ENGINE_URL", NULL,
	    "AI engine, sent messages for analysis (fire and forget)" },
	{ "quantum_room_engine_url", CONF_URL, OFF(quantum_room_engine_url), 0,
	    1024, "", CONF_F_RELOADABLE, "QUANTUM_ROOM_ENGINE_URL", NULL,
	    "group analytics engine (fire and forget)" },
	{ "service_timeout", CONF_DURATION, OFF(service_timeout), 100, 600000,
	    "5s", CONF_F_RELOADABLE, NULL, NULL,
	    "longest a downstream HTTP call may take" },
	{ "service_max_inflight", CONF_INT, OFF(service_max_inflight), 1,
	    100000, "64", CONF_F_RELOADABLE, NULL, NULL,
	    "calls in flight to one service per worker; past it they are shed" },
	{ "service_token", CONF_STRING, OFF(service_token), 0, 4096, "",
	    CONF_F_SENSITIVE | CONF_F_RELOADABLE, NULL, NULL,
	    "bearer token sent to every service; empty sends none" },
	{ "presence_engine_path", CONF_STRING, OFF(presence_engine_path), 1,
	    256, "/presence", CONF_F_RELOADABLE, NULL, NULL,
	    "where presence transitions are POSTed on the presence engine" },
	{ "ai_engine_path", CONF_STRING, OFF(ai_engine_path), 1, 256,
	    "/analyze", CONF_F_RELOADABLE, NULL, NULL,
	    "where delivered messages are POSTed on the AI engine" },
	{ "quantum_room_engine_path", CONF_STRING,
	    OFF(quantum_room_engine_path), 1, 256, "/rooms/message",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "where group messages are POSTed on the quantum room engine" },
	{ "engine_batch_max", CONF_INT, OFF(engine_batch_max), 1, 1000, "100",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "events in one call to an engine; 1 sends each event alone" },
	{ "engine_batch_delay", CONF_DURATION, OFF(engine_batch_delay), 0,
	    10000, "50ms", CONF_F_RELOADABLE, NULL, NULL,
	    "how long an engine's first event waits for others to join it" },
	{ "service_retries", CONF_INT, OFF(service_retries), 0, 10, "2",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "retries of an idempotent downstream call, with backoff" },
	{ "retry_base", CONF_DURATION, OFF(retry_base), 1, 60000, "100ms",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "backoff before a retry: up to retry_base * 2^n, with jitter" },
	{ "retry_cap", CONF_DURATION, OFF(retry_cap), 1, 600000, "2s",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "the longest backoff before a retry" },
	{ "retry_budget", CONF_INT, OFF(retry_budget), 0, 100, "20",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "percent of the calls to a service that may be retries" },
	{ "breaker_threshold", CONF_INT, OFF(breaker_threshold), 1, 1000, "5",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "consecutive failures that open a service's circuit breaker" },
	{ "breaker_failure_rate", CONF_INT, OFF(breaker_failure_rate), 1, 100,
	    "50", CONF_F_RELOADABLE, NULL, NULL,
	    "percent of failed calls in breaker_window that opens a breaker" },
	{ "breaker_window", CONF_DURATION, OFF(breaker_window), 1000, 600000,
	    "10s", CONF_F_RELOADABLE, NULL, NULL,
	    "rolling window over which the failure rate is measured" },
	{ "breaker_min_calls", CONF_INT, OFF(breaker_min_calls), 1, 1000000,
	    "20", CONF_F_RELOADABLE, NULL, NULL,
	    "calls in breaker_window before the failure rate counts" },
	{ "breaker_cooldown", CONF_DURATION, OFF(breaker_cooldown), 100,
	    3600000, "30s", CONF_F_RELOADABLE, NULL, NULL,
	    "time an open breaker waits before one trial call" },
	{ "breaker_max_cooldown", CONF_DURATION, OFF(breaker_max_cooldown),
	    100, MS_DAY, "5m", CONF_F_RELOADABLE, NULL, NULL,
	    "the open time doubles on each re-opening up to this" },
	{ "spool_dir", CONF_STRING, OFF(spool_dir), 1, 256,
	    "/var/lib/socket-gateway/spool", CONF_F_PATH, NULL, NULL,
	    "where messages wait while the chat service is down" },
	{ "auth_mode", CONF_ENUM, OFF(auth_mode), 0, 0, "auto",
	    CONF_F_RELOADABLE, NULL, conf_auth_modes,
	    "who verifies tokens: local (the key), service, both; auto: local "
	    "with a key, else service" },
	{ "auth_verify_path", CONF_STRING, OFF(auth_verify_path), 1, 256,
	    "/api/auth/verify", CONF_F_RELOADABLE, NULL, NULL,
	    "where tokens are POSTed for verification on the auth service" },
	{ "auth_status_path", CONF_STRING, OFF(auth_status_path), 1, 256,
	    "/api/users/{user}/status", CONF_F_RELOADABLE, NULL, NULL,
	    "where users' online/offline status is PUT; {user} is the id" },
	{ "auth_cache_size", CONF_INT, OFF(auth_cache_size), 1, 10000000,
	    "10000", CONF_F_RELOADABLE, NULL, NULL,
	    "verified tokens remembered per worker (by their SHA-256)" },
	{ "auth_cache_ttl", CONF_DURATION, OFF(auth_cache_ttl), 1000, MS_DAY,
	    "60s", CONF_F_RELOADABLE, NULL, NULL,
	    "how long a verified token without an expiry is remembered" },
	{ "auth_negative_ttl", CONF_DURATION, OFF(auth_negative_ttl), 0,
	    3600000, "10s", CONF_F_RELOADABLE, NULL, NULL,
	    "how long a refused token is remembered; 0 remembers none" },
	{ "auth_pending_max", CONF_INT, OFF(auth_pending_max), 1, 1000000,
	    "10000", CONF_F_RELOADABLE, NULL, NULL,
	    "CONNECTs per worker waiting for the auth service; more are refused" },

	/* Cluster. */
	{ "redis_url", CONF_URL, OFF(redis_url), 0, 1024, "", 0, "REDIS_URL",
	    NULL, "Redis for several hosts; empty means one host" },
	{ "node_id", CONF_STRING, OFF(node_id), 0, 64, "", 0, NULL, NULL,
	    "this host's name in a cluster; empty means the host name" },
	{ "redis_key_prefix", CONF_STRING, OFF(redis_key_prefix), 1, 64,
	    "socket.io", 0, NULL, NULL,
	    "the socket.io Redis adapter's key: channels start with it" },
	{ "redis_adapter", CONF_ENUM, OFF(redis_adapter), 0, 0, "classic", 0,
	    NULL, conf_redis_adapters,
	    "classic: the adapter's pattern subscription; sharded: "
	    "createShardedAdapter's SSUBSCRIBE per room (Redis 7)" },
	{ "redis_timeout", CONF_DURATION, OFF(redis_timeout), 100, 600000,
	    "5s", CONF_F_RELOADABLE, NULL, NULL,
	    "a Redis connect or reply later than this closes the connection, "
	    "which is opened again with backoff" },
	{ "redis_queue_max", CONF_SIZE, OFF(redis_queue_max), 65536,
	    1073741824LL, "8mb", CONF_F_RELOADABLE, NULL, NULL,
	    "bytes of commands a worker holds for Redis while it is away; "
	    "past it publications are counted as lost" },
	{ "redis_node_ttl", CONF_DURATION, OFF(redis_node_ttl), 1000,
	    3600000, "10s", CONF_F_RELOADABLE, NULL, NULL,
	    "a gateway whose heartbeat is older than this is dead: its users "
	    "go offline" },

	/* Connection state recovery (issue 15). */
	{ "connection_recovery", CONF_BOOL, OFF(connection_recovery), 0, 1,
	    "yes", 0, NULL, NULL,
	    "a client that reconnects within max_disconnection_duration gets "
	    "what it missed, its rooms and its socket id back" },
	{ "max_disconnection_duration", CONF_DURATION,
	    OFF(max_disconnection_duration), 1000, 86400000, "2m",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "how long a disconnected socket can be recovered" },
	{ "recovery_log_size", CONF_SIZE, OFF(recovery_log_size), 1048576,
	    68719476736LL, "64mb", 0, NULL, NULL,
	    "shared memory for the packets a host sent, kept for recovery; "
	    "the oldest go when it is full" },
	{ "recovery_sessions", CONF_INT, OFF(recovery_sessions), 16,
	    10000000, "100000", 0, NULL, NULL,
	    "sockets that can be recovered at once, connected or not "
	    "(a slot of about 350 bytes each)" },
	{ "recovery_max_replay", CONF_INT, OFF(recovery_max_replay), 1,
	    1000000, "1000", CONF_F_RELOADABLE, NULL, NULL,
	    "a client that missed more packets than this is not recovered" },
	{ "recovery_takeover_max", CONF_INT, OFF(recovery_takeover_max), 1,
	    1000000, "1000", CONF_F_RELOADABLE, NULL, NULL,
	    "CONNECTs per worker waiting for the live session they take over "
	    "to close; more are not recovered" },
	{ "recovery_remote_timeout", CONF_DURATION,
	    OFF(recovery_remote_timeout), 100, 60000, "2s", CONF_F_RELOADABLE,
	    NULL, NULL,
	    "with redis_url: how long a CONNECT naming another host's session "
	    "waits for that host's answer; then a new socket" },
	{ "recovery_remote_pending", CONF_INT, OFF(recovery_remote_pending),
	    1, 100000, "256", CONF_F_RELOADABLE, NULL, NULL,
	    "CONNECTs per worker waiting at once for another host's answer; "
	    "past it a new socket" },

	/* The chat service's persistence (issue 13). */
	{ "chat_messages_path", CONF_STRING, OFF(chat_messages_path), 1, 256,
	    "/api/messages", CONF_F_RELOADABLE, NULL, NULL,
	    "where messages are POSTed on the chat service; <path>/<id> and "
	    "<path>/<id>/status for deletions and receipts" },
	{ "chat_queue_max", CONF_INT, OFF(chat_queue_max), 0, 10000000,
	    "10000", CONF_F_RELOADABLE, NULL, NULL,
	    "messages a worker holds in memory behind their senders' calls; "
	    "past it they are spooled" },
	{ "spool_max_bytes", CONF_SIZE, OFF(spool_max_bytes), 65536,
	    1099511627776LL, "256mb", CONF_F_RELOADABLE, NULL, NULL,
	    "size limit of a worker's spool file; past it messages are not "
	    "stored and their senders told" },
	{ "spool_sync_interval", CONF_DURATION, OFF(spool_sync_interval), 1,
	    1000, "5ms", CONF_F_RELOADABLE, NULL, NULL,
	    "the spool's fdatasync runs this long after an append" },
	{ "spool_sync_records", CONF_INT, OFF(spool_sync_records), 1, 100000,
	    "64", CONF_F_RELOADABLE, NULL, NULL,
	    "or at once when this many appended records wait for it" },
	/* Group membership (issue 13). */
	{ "group_membership", CONF_ENUM, OFF(group_membership), 0, 0, "auto",
	    CONF_F_RELOADABLE, NULL, conf_membership_modes,
	    "who may use a group: service, token, open; auto: service with a "
	    "chat service, else open" },
	{ "chat_groups_path", CONF_STRING, OFF(chat_groups_path), 1, 256,
	    "/api/groups", CONF_F_RELOADABLE, NULL, NULL,
	    "membership calls: GET <path>/<group>/members/<user>" },
	{ "membership_cache_ttl", CONF_DURATION, OFF(membership_cache_ttl),
	    1000, MS_DAY, "60s", CONF_F_RELOADABLE, NULL, NULL,
	    "how long a worker remembers that a user is in a group" },
	{ "membership_negative_ttl", CONF_DURATION,
	    OFF(membership_negative_ttl), 0, MS_DAY, "10s", CONF_F_RELOADABLE,
	    NULL, NULL,
	    "how long a worker remembers that a user is not; 0: not at all" },
	{ "membership_cache_size", CONF_INT, OFF(membership_cache_size), 1,
	    100000000, "100000", CONF_F_RELOADABLE, NULL, NULL,
	    "membership answers one worker remembers; the oldest go first" },
	{ "membership_wait_per_socket", CONF_INT,
	    OFF(membership_wait_per_socket), 1, 100000, "64",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "events of one socket held while its membership check runs" },
	{ "membership_wait_max", CONF_INT, OFF(membership_wait_max), 1,
	    100000000, "20000", CONF_F_RELOADABLE, NULL, NULL,
	    "events held for membership checks in one worker" },
	{ "membership_token_groups", CONF_INT, OFF(membership_token_groups), 1,
	    1000000, "1000", CONF_F_RELOADABLE, NULL, NULL,
	    "group_membership token: groups kept from a token's claim" },
	/* Each service's own settings (issue 13). */
	{ "service_header", CONF_STRING, OFF(service_header), 0, 4096, "",
	    CONF_F_SENSITIVE | CONF_F_RELOADABLE, NULL, NULL,
	    "\"Name: value\" header sent to every service; empty sends none" },
	SVC_KEYS("auth_service", CONF_SVC_AUTH),
	SVC_KEYS("chat_service", CONF_SVC_CHAT),
	SVC_KEYS("presence_engine", CONF_SVC_PRESENCE),
	SVC_KEYS("ai_engine", CONF_SVC_AI),
	SVC_KEYS("quantum_room_engine", CONF_SVC_QUANTUM),
	/* The spool's replay (issue 13). */
	{ "spool_replay_window", CONF_INT, OFF(spool_replay_window), 1, 1024,
	    "32", CONF_F_RELOADABLE, NULL, NULL,
	    "spooled records replayed at once per worker, per sender in "
	    "order; 1: one at a time" },
	/* Presence storms (issue 16). */
	{ "presence_behind", CONF_SIZE, OFF(presence_behind), 1024,
	    1000000000, "64k", CONF_F_RELOADABLE, NULL, NULL,
	    "bytes queued for a client past which presence events to it "
	    "wait and are coalesced (presence_mode all)" },
	{ "presence_coalesce_max", CONF_INT, OFF(presence_coalesce_max), 16,
	    1000000, "1024", CONF_F_RELOADABLE, NULL, NULL,
	    "presence changes a worker remembers for clients behind; one "
	    "further behind gets a fresh online_users" },
	{ "output_queue_budget", CONF_SIZE, OFF(output_queue_budget),
	    1048576, 1099511627776LL, "256mb", CONF_F_RELOADABLE, NULL, NULL,
	    "bytes queued for all clients of the gateway together past which "
	    "presence waits (each worker its share)" },
	{ "socket_unsent_max", CONF_SIZE, OFF(socket_unsent_max), 0,
	    1000000000, "64k", CONF_F_RELOADABLE, NULL, NULL,
	    "bytes a WebSocket client's connection may hold in the kernel "
	    "unsent (TCP_NOTSENT_LOWAT); the rest waits in its queue; 0: "
	    "as much as the kernel takes" },
	{ "io_collect_interval", CONF_DURATION, OFF(io_collect_interval), 0,
	    100, "0ms", CONF_F_RELOADABLE, NULL, NULL,
	    "a worker woken collects I/O this long before it works: fewer "
	    "wakes and task switches, that much more latency; 0: none" },
	/* The Socket.IO Admin UI (issue 18). */
	{ "admin", CONF_BOOL, OFF(admin), 0, 1, "off",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "serve the Socket.IO Admin UI's protocol on the /admin namespace; "
	    "off: the namespace does not exist" },
	{ "admin_username", CONF_STRING, OFF(admin_username), 0, 256, "",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "the Admin UI's basic authentication user; empty: no basic "
	    "authentication" },
	{ "admin_password_hash", CONF_STRING, OFF(admin_password_hash), 0,
	    128, "", CONF_F_SENSITIVE | CONF_F_RELOADABLE,
	    NULL, NULL,
	    "bcrypt hash ($2a$, $2b$ or $2y$) of the Admin UI's password, as "
	    "@socket.io/admin-ui takes it" },
	{ "admin_jwt_claim", CONF_STRING, OFF(admin_jwt_claim), 0, 128, "",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "a boolean claim: a gateway token (auth.token) with it true may "
	    "open the Admin UI; empty: tokens may not" },
	{ "admin_read_only", CONF_BOOL, OFF(admin_read_only), 0, 1, "no",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "the Admin UI may look but not join, leave, disconnect or emit" },
	{ "admin_origins", CONF_STRING, OFF(admin_origins), 0, 4096, "",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "comma list of Origins allowed to open the /admin namespace, "
	    "besides the gateway's own; empty: any" },
	{ "admin_ui_dir", CONF_STRING, OFF(admin_ui_dir), 0, 1024, "",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "directory of the Admin UI's static files (the npm package's "
	    "ui/dist); empty: not served" },
	{ "admin_ui_path", CONF_STRING, OFF(admin_ui_path), 2, 256, "/admin/",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "URL prefix the Admin UI's files are served at; starts and ends "
	    "with /" },
	{ "admin_stats_interval", CONF_DURATION, OFF(admin_stats_interval),
	    500, 3600000, "2s", CONF_F_RELOADABLE, NULL, NULL,
	    "time between two server_stats of each worker to the Admin UI" },
	{ "admin_flush_interval", CONF_DURATION, OFF(admin_flush_interval),
	    10, 60000, "500ms", CONF_F_RELOADABLE, NULL, NULL,
	    "the Admin UI's socket and room updates: one batch per worker "
	    "at most this often (the first after a quiet one at once)" },
	{ "admin_queue_max", CONF_SIZE, OFF(admin_queue_max), 65536,
	    1000000000, "4mb", CONF_F_RELOADABLE, NULL, NULL,
	    "bytes queued for one Admin UI socket past which its updates are "
	    "dropped (it gets a fresh list once it has read); and the most "
	    "bytes of one list" },
	{ "admin_batch_max", CONF_INT, OFF(admin_batch_max), 1, 1000000,
	    "1000", CONF_F_RELOADABLE, NULL, NULL,
	    "socket and room updates a worker sends per admin_flush_interval; "
	    "past it the Admin UIs get a fresh list instead (at most every "
	    "10 s)" },
	{ "admin_list_max", CONF_INT, OFF(admin_list_max), 1, 10000000,
	    "10000", CONF_F_RELOADABLE, NULL, NULL,
	    "sockets in one all_sockets of the Admin UI, each worker its "
	    "share; server_stats still counts them all" },
	{ "admin_login_rate", CONF_INT, OFF(admin_login_rate), 1, 1000, "2",
	    CONF_F_RELOADABLE, NULL, NULL,
	    "Admin UI password checks per second per worker (bcrypt costs "
	    "about 100 ms of the worker's loop); more are refused" },
	{ "admin_sockets_max", CONF_INT, OFF(admin_sockets_max), 1, 10000,
	    "16", CONF_F_RELOADABLE, NULL, NULL,
	    "Admin UI sockets one worker serves at once" },
};

const size_t conf_nkeys = sizeof(conf_keys) / sizeof(conf_keys[0]);

const struct conf_key *
conf_key_find(const char *name)
{
	size_t	i;

	for (i = 0; i < conf_nkeys; i++)
		if (strcmp(conf_keys[i].name, name) == 0)
			return &conf_keys[i];
	return NULL;
}

/* Levenshtein distance, bounded to short names. */
static size_t
distance(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b), i, j, prev, tmp, cost;
	size_t	 row[65];

	if (la > 64 || lb > 64)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			cost = a[i - 1] == b[j - 1] ? 0 : 1;
			row[j] = prev + cost;
			if (row[j] > row[j - 1] + 1)
				row[j] = row[j - 1] + 1;
			if (row[j] > tmp + 1)
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

/* The known key nearest to a typo, if it is near enough to be the one. */
const struct conf_key *
conf_key_suggest(const char *name)
{
	const struct conf_key	*best = NULL;
	size_t			 i, d, bestd = (size_t)-1, limit;

	limit = strlen(name) / 3 + 1;
	if (limit > 3)
		limit = 3;
	for (i = 0; i < conf_nkeys; i++) {
		d = distance(name, conf_keys[i].name);
		if (d < bestd) {
			bestd = d;
			best = &conf_keys[i];
		}
	}
	return bestd <= limit ? best : NULL;
}
