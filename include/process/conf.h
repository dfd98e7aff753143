/*
 * The configuration: one struct filled from one table of keys
 * (conf_table.c).  The file, the environment and the command line all go
 * through the same setters, so every value is range-checked the same way and
 * every error names where the value came from.
 */
#ifndef SGW_CONF_H
#define SGW_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "auth.h"

#define CONF_LISTEN_MAX		16
#define CONF_ORIGIN_MAX		16
#define CONF_LINE_MAX		4096
#define CONF_HS_SECRET_MIN	AUTH_HS_SECRET_MIN	/* auth.h */

enum conf_type {
	CONF_INT,		/* plain integer */
	CONF_SIZE,		/* bytes: 64k = 64000, 64kb = 65536 */
	CONF_DURATION,		/* milliseconds: 500ms, 25s, 2m, 1h */
	CONF_BOOL,		/* yes/no, on/off, true/false */
	CONF_STRING,
	CONF_URL,		/* http:// or https:// (redis:// for redis_url) */
	CONF_ENUM,		/* one of .choices */
	CONF_LISTEN,		/* [addr:]port, repeatable */
	CONF_LIST		/* string list (comma or repeated), e.g. origins */
};

/* Keys the table may hold (conf.c's parser keeps a line for each). */
#define CONF_KEYS_MAX		512

#define CONF_F_SENSITIVE	0x01	/* never printed nor logged */
#define CONF_F_RELOADABLE	0x02	/* takes effect on SIGHUP */
#define CONF_F_PATH		0x04	/* a file path */

/*
 * The downstream services, in the order of stats.h's STATS_SVC_* (checked
 * in settings.c), each with its own timeout, limit and credentials.
 */
#define CONF_SVC_AUTH		0
#define CONF_SVC_CHAT		1
#define CONF_SVC_PRESENCE	2
#define CONF_SVC_AI		3
#define CONF_SVC_QUANTUM	4
#define CONF_SERVICES		5

struct conf_listen {
	char	host[64];		/* "" = every address, IPv4 and IPv6 */
	int	port;
};

struct conf {
	/* process */
	long long		 workers;	/* 0 = number of CPUs */
	char			*user;
	char			*run_dir;
	int			 log_level;	/* enum log_level */
	long long		 shutdown_timeout;
	long long		 drain_batch;
	long long		 drain_interval;
	/* network */
	struct conf_listen	 listen[CONF_LISTEN_MAX];
	size_t			 nlisten;
	char			*tls_cert;
	char			*tls_key;
	char			*cors_origin[CONF_ORIGIN_MAX];
	size_t			 ncors_origin;
	bool			 cors_credentials;
	long long		 max_connections;
	long long		 max_connections_per_address;	/* 0: none */
	long long		 max_unconnected_per_address;	/* 0: none */
	char			*status_allow;	/* who may GET /health, /metrics */
	/* Engine.IO */
	long long		 ping_interval;
	long long		 ping_timeout;
	long long		 max_payload;
	long long		 connect_timeout;
	long long		 upgrade_timeout;
	long long		 body_timeout;
	long long		 max_header_size;
	long long		 output_queue_limit;
	long long		 event_rate;	/* events/s per connection */
	long long		 event_burst;
	long long		 auth_attempts;	/* token checks/minute/conn */
	/* authentication */
	char			*jwt_secret;
	char			*jwt_secret_file;
	char			*jwt_public_key_file;
	int			 jwt_algorithm;	/* index in conf_jwt_algs */
	long long		 jwt_leeway;
	char			*jwt_issuer;
	char			*jwt_audience;
	char			*jwt_user_claim;
	bool			 jwt_require_exp;
	/* presence */
	int			 presence_mode;	/* 0 all, 1 scoped */
	long long		 presence_digest_interval;
	long long		 max_rooms_per_socket;
	/* downstream services */
	char			*auth_service_url;
	char			*chat_service_url;
	char			*presence_engine_url;
	char			*ai_engine_url;
	char			*quantum_room_engine_url;
	long long		 service_timeout;
	long long		 service_max_inflight;
	char			*service_token;
	char			*presence_engine_path;
	char			*ai_engine_path;
	char			*quantum_room_engine_path;
	long long		 engine_batch_max;
	long long		 engine_batch_delay;
	long long		 service_retries;
	long long		 breaker_threshold;
	long long		 breaker_cooldown;
	long long		 breaker_max_cooldown;
	long long		 breaker_failure_rate;	/* percent */
	long long		 breaker_window;
	long long		 breaker_min_calls;
	long long		 retry_base;
	long long		 retry_cap;
	long long		 retry_budget;		/* percent */
	char			*spool_dir;
	/* cluster */
	char			*redis_url;
	char			*node_id;
	/* the chat service's persistence (issue 13) */
	char			*chat_messages_path;
	long long		 chat_queue_max;
	long long		 spool_max_bytes;
	long long		 spool_sync_interval;
	long long		 spool_sync_records;
	/* group membership (issue 13) */
	int			 group_membership; /* conf_membership_modes */
	char			*chat_groups_path;
	long long		 membership_cache_ttl;
	long long		 membership_negative_ttl;
	long long		 membership_cache_size;
	long long		 membership_wait_per_socket;
	long long		 membership_wait_max;
	long long		 membership_token_groups;
	/* the auth service (issue 13) */
	int			 auth_mode;	/* CONF_AUTH_* */
	char			*auth_verify_path;
	char			*auth_status_path;
	long long		 auth_cache_size;
	long long		 auth_cache_ttl;
	long long		 auth_negative_ttl;
	long long		 auth_pending_max;
	/* each service's own settings (issue 13), CONF_SVC_* order */
	char			*service_header;	/* "Name: value" */
	long long		 svc_timeout[CONF_SERVICES];	/* 0: shared */
	long long		 svc_max_inflight[CONF_SERVICES]; /* 0: too */
	char			*svc_token[CONF_SERVICES];	/* "": shared */
	char			*svc_header[CONF_SERVICES];	/* "": shared */
	long long		 spool_replay_window;	/* records in flight */
	/* several hosts over Redis (issue 14) */
	char			*redis_key_prefix;	/* "socket.io" */
	int			 redis_adapter;	/* conf_redis_adapters */
	long long		 redis_timeout;		/* ms */
	long long		 redis_queue_max;	/* bytes per worker */
	long long		 redis_node_ttl;	/* ms */
	/* connection state recovery (issue 15) */
	int			 connection_recovery;
	long long		 max_disconnection_duration;	/* ms */
	long long		 recovery_log_size;	/* bytes */
	long long		 recovery_sessions;
	long long		 recovery_max_replay;
	long long		 recovery_takeover_max;	/* per worker */
	long long		 recovery_remote_timeout;	/* ms */
	long long		 recovery_remote_pending;
	/* presence storms (issue 16) */
	long long		 presence_behind;	/* bytes queued */
	long long		 presence_coalesce_max;	/* changes kept */
	long long		 output_queue_budget;	/* bytes, gateway */
	long long		 socket_unsent_max;	/* bytes, 0: kernel's */
	/* the Socket.IO Admin UI (issue 18), gateway/admin*.c */
	bool			 admin;
	char			*admin_username;
	char			*admin_password_hash;	/* bcrypt */
	char			*admin_jwt_claim;
	bool			 admin_read_only;
	char			*admin_origins;		/* comma list */
	char			*admin_ui_dir;
	char			*admin_ui_path;
	long long		 admin_stats_interval;	/* ms */
	long long		 admin_flush_interval;	/* ms */
	long long		 admin_queue_max;	/* bytes per admin socket */
	long long		 admin_batch_max;	/* updates per flush */
	long long		 admin_list_max;	/* sockets per worker */
	long long		 admin_login_rate;	/* per s per worker */
	long long		 admin_sockets_max;	/* per worker */
	long long		 io_collect_interval;	/* ms; 0: none */
};

/* auth_mode's values; auto resolves to local or service (conf_auth_mode). */
#define CONF_AUTH_AUTO		0
#define CONF_AUTH_LOCAL		1
#define CONF_AUTH_SERVICE	2
#define CONF_AUTH_BOTH		3

struct conf_key {
	const char		*name;
	enum conf_type		 type;
	size_t			 off;		/* offsetof(struct conf, ...) */
	long long		 min, max;	/* numbers; for strings: max length */
	const char		*def;		/* default, as written in the file */
	unsigned		 flags;
	const char		*env;		/* seed's environment variable */
	const char *const	*choices;	/* CONF_ENUM */
	const char		*doc;		/* one line */
};

/* Key k's field, of type t, in struct conf c. */
#define CONF_FIELD(c, k, t)	((t *)(void *)((char *)(c) + (k)->off))

/* Where errors go: the parser reports every one, then the caller decides. */
typedef void (*conf_err_fn)(void *, const char *);

/* conf_table.c */
extern const struct conf_key	 conf_keys[];
extern const size_t		 conf_nkeys;
extern const char *const	 conf_log_levels[];
extern const char *const	 conf_jwt_algs[];
extern const char *const	 conf_presence_modes[];
extern const char *const	 conf_redis_adapters[];
extern const char *const	 conf_membership_modes[];
extern const char *const	 conf_auth_modes[];
const struct conf_key *conf_key_find(const char *);
const struct conf_key *conf_key_suggest(const char *);

/* conf.c */
void	conf_init(struct conf *);
void	conf_free(struct conf *);
int	conf_load_file(struct conf *, const char *, conf_err_fn, void *);
void	conf_keep_fixed(struct conf *, const struct conf *, conf_err_fn,
	    void *);
int	conf_load_buffer(struct conf *, const char *, const char *, size_t,
	    conf_err_fn, void *);
void	conf_list_reset(struct conf *, const struct conf_key *);
void	conf_report(conf_err_fn, void *, const char *, ...)
	    __attribute__((__format__ (printf, 3, 4)));

/* conf_parse.c */
int	conf_parse_value(struct conf *, const struct conf_key *,
	    const char *, const char *, conf_err_fn, void *);
int	conf_parse_size(const char *, long long *);
int	conf_parse_duration(const char *, long long *);
int	conf_parse_listen(const char *, struct conf_listen *);
int	conf_parse_port(struct conf *, const char *, const char *,
	    conf_err_fn, void *);

/* conf_env.c */
int	conf_apply_env(struct conf *, conf_err_fn, void *);
int	conf_load_env_file(const char *, conf_err_fn, void *);

/* conf_svc.c */
extern const char *const	 conf_svc_names[];
const char *conf_header_check(const char *);
int	conf_check_svc(const struct conf *, conf_err_fn, void *);
void	conf_svc_auth(const struct conf *, int, const char **, const char **);
long long conf_svc_timeout(const struct conf *, int);
long long conf_svc_max_inflight(const struct conf *, int);

/* conf_check.c */
int	conf_check(struct conf *, conf_err_fn, void *);
int	conf_auth_mode(const struct conf *);
void	conf_dump(const struct conf *, FILE *);

/* settings.c: each layer's settings */
struct gateway_conf;
struct transport_conf;
void	conf_transport(const struct conf *, struct transport_conf *);
void	conf_auth(const struct conf *, struct auth_conf *);
void	conf_gateway(const struct conf *, struct gateway_conf *);
int	conf_membership(const struct conf *);

/* conf_load.c */
struct cli_opts;
extern const char	 conf_default_path[];
int	conf_load_all(const struct cli_opts *, struct conf *, conf_err_fn,
	    void *);
const char *conf_path(const struct cli_opts *);

#endif /* SGW_CONF_H */
