/*
 * Each layer's settings from the configuration (conf.h), as nginx hands
 * each module its own conf struct: the transport and the gateway never see
 * struct conf, only what they use of it.  The strings point into the conf,
 * which lives as long as the worker that reads them (a reload starts new
 * workers with a new conf).
 */
#include <string.h>

#include "auth.h"
#include "conf.h"
#include "gateway.h"
#include "transport.h"

void
conf_transport(const struct conf *c, struct transport_conf *t)
{
	memset(t, 0, sizeof(*t));
	t->workers = c->workers;
	t->shutdown_timeout = c->shutdown_timeout;
	t->drain_batch = c->drain_batch;
	t->drain_interval = c->drain_interval;
	t->tls_cert = c->tls_cert;
	t->tls_key = c->tls_key;
	t->cors_origin = c->cors_origin;
	t->ncors_origin = c->ncors_origin;
	t->cors_credentials = c->cors_credentials;
	t->max_connections = c->max_connections;
	t->max_connections_per_address = c->max_connections_per_address;
	t->max_unconnected_per_address = c->max_unconnected_per_address;
	t->status_allow = c->status_allow;
	t->ping_interval = c->ping_interval;
	t->ping_timeout = c->ping_timeout;
	t->max_payload = c->max_payload;
	t->connect_timeout = c->connect_timeout;
	t->upgrade_timeout = c->upgrade_timeout;
	t->body_timeout = c->body_timeout;
	t->max_header_size = c->max_header_size;
	t->output_queue_limit = c->output_queue_limit;
	t->socket_unsent_max = c->socket_unsent_max;
	t->io_collect_interval = c->io_collect_interval;
	t->admin = c->admin;
	t->admin_origins = c->admin_origins;
	t->admin_ui_dir = c->admin_ui_dir;
	t->admin_ui_path = c->admin_ui_path;
}

void
conf_auth(const struct conf *c, struct auth_conf *a)
{
	memset(a, 0, sizeof(*a));
	a->alg = conf_jwt_algs[c->jwt_algorithm];
	a->secret = c->jwt_secret;
	a->secret_file = c->jwt_secret_file;
	a->public_key_file = c->jwt_public_key_file;
	a->leeway = c->jwt_leeway;
	a->issuer = c->jwt_issuer;
	a->audience = c->jwt_audience;
	a->user_claim = c->jwt_user_claim;
	a->require_exp = c->jwt_require_exp;
	/* The groups claim is read, and kept, in token mode only. */
	if (conf_membership(c) == GW_MEMBERSHIP_TOKEN)
		a->groups_max = c->membership_token_groups;
}

_Static_assert(CONF_SERVICES == STATS_SERVICES && CONF_SVC_AUTH ==
    STATS_SVC_AUTH && CONF_SVC_CHAT == STATS_SVC_CHAT && CONF_SVC_PRESENCE ==
    STATS_SVC_PRESENCE && CONF_SVC_AI == STATS_SVC_AI && CONF_SVC_QUANTUM ==
    STATS_SVC_QUANTUM, "conf.h's services are stats.h's, in its order");

/* Each service's own timeout, limit and credentials (conf_svc.c). */
static void
conf_services(const struct conf *c, struct services_conf *s)
{
	int	i;

	for (i = 0; i < CONF_SERVICES; i++) {
		s->svc_timeout[i] = conf_svc_timeout(c, i);
		s->svc_max_inflight[i] = conf_svc_max_inflight(c, i);
		conf_svc_auth(c, i, &s->svc_token[i], &s->svc_header[i]);
	}
}

void
conf_gateway(const struct conf *c, struct gateway_conf *g)
{
	memset(g, 0, sizeof(*g));
	conf_auth(c, &g->auth);
	g->run_dir = c->run_dir;
	g->presence_mode = c->presence_mode;
	g->presence_digest_interval = c->presence_digest_interval;
	g->max_rooms_per_socket = c->max_rooms_per_socket;
	g->max_payload = c->max_payload;
	g->event_rate = c->event_rate;
	g->event_burst = c->event_burst;
	g->auth_attempts = c->auth_attempts;
	g->breaker.failure_rate = c->breaker_failure_rate;
	g->breaker.window = c->breaker_window;
	g->breaker.min_calls = c->breaker_min_calls;
	g->breaker.consecutive = c->breaker_threshold;
	g->breaker.cooldown = c->breaker_cooldown;
	g->breaker.max_cooldown = c->breaker_max_cooldown;
	g->retry.base = c->retry_base;
	g->retry.cap = c->retry_cap;
	g->retry.tries = 1 + c->service_retries;	/* the first one too */
	g->retry.budget = c->retry_budget;
	g->retry.burst = BACKOFF_BURST;
	g->services.url[STATS_SVC_AUTH] = c->auth_service_url;
	g->services.url[STATS_SVC_CHAT] = c->chat_service_url;
	g->services.url[STATS_SVC_PRESENCE] = c->presence_engine_url;
	g->services.url[STATS_SVC_AI] = c->ai_engine_url;
	g->services.url[STATS_SVC_QUANTUM] = c->quantum_room_engine_url;
	g->services.path[STATS_SVC_PRESENCE] = c->presence_engine_path;
	g->services.path[STATS_SVC_AI] = c->ai_engine_path;
	g->services.path[STATS_SVC_QUANTUM] = c->quantum_room_engine_path;
	g->services.token = c->service_token;
	g->services.timeout = c->service_timeout;
	g->services.max_inflight = c->service_max_inflight;
	conf_services(c, &g->services);
	g->engine_batch_max = c->engine_batch_max;
	g->engine_batch_delay = c->engine_batch_delay;
	g->chat_messages_path = c->chat_messages_path;
	g->chat_queue_max = c->chat_queue_max;
	g->spool_dir = c->spool_dir;
	g->spool_max_bytes = c->spool_max_bytes;
	g->spool_sync_interval = c->spool_sync_interval;
	g->spool_sync_records = c->spool_sync_records;
	g->membership = conf_membership(c);
	g->groups_path = c->chat_groups_path;
	g->membership_ttl = c->membership_cache_ttl;
	g->membership_negative_ttl = c->membership_negative_ttl;
	g->membership_cache_size = c->membership_cache_size;
	g->membership_wait_per_socket = c->membership_wait_per_socket;
	g->membership_wait_max = c->membership_wait_max;
	g->membership_token_groups = c->membership_token_groups;
	g->auth_mode = conf_auth_mode(c) == CONF_AUTH_SERVICE ?
	    GW_AUTH_SERVICE : conf_auth_mode(c) == CONF_AUTH_BOTH ?
	    GW_AUTH_BOTH : GW_AUTH_LOCAL;
	g->auth_verify_path = c->auth_verify_path;
	g->auth_status_path = c->auth_status_path;
	g->auth_cache_size = c->auth_cache_size;
	g->auth_cache_ttl = c->auth_cache_ttl;
	g->auth_negative_ttl = c->auth_negative_ttl;
	g->auth_pending_max = c->auth_pending_max;
	g->spool_replay_window = c->spool_replay_window;
	g->redis_url = c->redis_url;
	g->node_id = c->node_id;
	g->redis_key_prefix = c->redis_key_prefix;
	g->redis_adapter = c->redis_adapter == 1 ? GW_REDIS_SHARDED :
	    GW_REDIS_CLASSIC;
	g->redis_timeout = c->redis_timeout;
	g->redis_queue_max = c->redis_queue_max;
	g->redis_node_ttl = c->redis_node_ttl;
	/* g->reclog is the master's, set where it is made (master.c). */
	g->max_disconnection_ms = c->max_disconnection_duration;
	g->recovery_max_replay = c->recovery_max_replay;
	g->recovery_takeover_max = c->recovery_takeover_max;
	g->recovery_remote_timeout = c->recovery_remote_timeout;
	g->recovery_remote_pending = c->recovery_remote_pending;
	g->presence_behind = c->presence_behind;
	g->presence_coalesce_max = c->presence_coalesce_max;
	g->output_queue_budget = c->output_queue_budget;	/* presfeed_init
								   divides */
	g->admin = c->admin;
	g->admin_username = c->admin_username;
	g->admin_password_hash = c->admin_password_hash;
	g->admin_jwt_claim = c->admin_jwt_claim;
	g->admin_read_only = c->admin_read_only;
	g->admin_stats_interval = c->admin_stats_interval;
	g->admin_flush_interval = c->admin_flush_interval;
	g->admin_queue_max = c->admin_queue_max;
	g->admin_batch_max = c->admin_batch_max;
	g->admin_list_max = c->admin_list_max;
	g->admin_login_rate = c->admin_login_rate;
	g->admin_sockets_max = c->admin_sockets_max;
	g->auth.flag_claim = c->admin && c->admin_jwt_claim[0] != '\0' ?
	    c->admin_jwt_claim : NULL;
}

/*
 * group_membership as it applies (GW_MEMBERSHIP_*): "auto" asks the chat
 * service when there is one, else lets anyone in, as the seed did.
 */
int
conf_membership(const struct conf *c)
{
	switch (c->group_membership) {
	case 1:
		return GW_MEMBERSHIP_SERVICE;
	case 2:
		return GW_MEMBERSHIP_TOKEN;
	case 3:
		return GW_MEMBERSHIP_OPEN;
	default:
		return c->chat_service_url[0] != '\0' ?
		    GW_MEMBERSHIP_SERVICE : GW_MEMBERSHIP_OPEN;
	}
}
