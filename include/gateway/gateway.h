/*
 * Layer 5: the gateway application, the seed's event contract on top of
 * the Socket.IO layer.  One struct gateway per worker process, made by
 * gateway.c's init and kept in the transport's app_data; every function
 * takes it as its first argument.
 *
 * The files, lowest first; each calls only the files below it (a lower
 * one that must reach a higher one would do it through a callback the
 * higher one sets: membership.c and authsvc.c do):
 *   sockindex.c	this worker's sockets by their Socket.IO id (issue 15:
 *		a recovered socket keeps an id another worker made)
 *   recslot.c	a socket's session slot in the host's recovery log
 *		(issue 15): put at its CONNECT, its rooms kept, parked or
 *		dropped at its close
 *   logdeliver.c	frames to rooms and sockets through the host's
 *		recovery log (issue 15), delivered from it by every worker
 *		in its order (woken by doorbell.c's bells, or
 *		GW_BUS_LOGWAKE)
 *   emit.c	the frames of events, to one session or to all of them
 *   adapter.c	the socket.io Redis adapter (issue 14): deliver.c's frames
 *		to the other servers, theirs to our sockets, their requests
 *		(fetchSockets, socketsJoin, ...) answered by adapter_req.c
 *		(adapter.h between the two); over redislink.c
 *   deliver.c	a frame to a room on every worker (GW_BUS_EMIT)
 *   scoped.c	scoped presence: the rooms a user shares hear of it
 *   hostpresence.c	presence across hosts through Redis (issue 14): the
 *		instance's transitions made the cluster's, the cluster's
 *		told to this worker's sockets, the mirror of who is online
 *   sync.c	a new socket's online_users, held until every worker's
 *		presence is in
 *   membership.c	who may use a group (group_membership): the cache, the
 *		chat service's answers, the events held for them; it runs
 *		the held events through the callback handlers.c gives it
 *   token.c	a live connection's token: attempts, expiry, refresh
 *   presfeed.c	presence to this worker's sockets in mode "all" (issue
 *		16): each change to those keeping up, a coalesced catch-up
 *		to those behind on reading
 *   online.c	presence across workers (GW_BUS_ONLINE, _OFFLINE, _DIGEST)
 *   recanswer.c	recovery across hosts (issue 15): another host's ask
 *		for a session this host held, answered over Redis
 *   recremote.c	recovery across hosts: a CONNECT naming another host's
 *		log waits for its answer; the cut in Redis's order
 *   recovery.c	connection state recovery (issue 15): a reconnecting
 *		client's session taken from the log, what it missed sent
 *		before its CONNECT answer; the ghosts that keep a parked
 *		socket's user online (GW_BUS_RECOVERED)
 *   rectake.c	a live session taken over by a CONNECT with its pid
 *		(issue 15: a client back after a silent cut): its socket
 *		closed where it is served (GW_BUS_TAKEOVER), the CONNECT held
 *		until the session is parked
 *   handlers.c	the client's events
 *   admin.c	the Socket.IO Admin UI on /admin (issue 18): logins, lists,
 *		updates and server_stats across workers (GW_BUS_ADMIN) and
 *		hosts ("<key>-gw#admin"); its operations are adminops.c's,
 *		its payloads adminjson.c's (pure, adminjson.h)
 *   gateway.c	the struct app callbacks, setup, and the bus's dispatch
 * scoped.c, sync.c and token.c do not call one another; sync.c is above
 * hostpresence.c, which is above scoped.c.
 * Below them all are the pure modules events.c (payloads, events.h),
 * msgsplice.c (a direct message from its scan, spliced: msgsplice.h),
 * roomname.c (room names, roomname.h), recmatch.c (recovery's pids,
 * asks and log entries, recovery.h), recwire.c (recovery's messages
 * across hosts, recwire.h), breaker.c and backoff.c (the
 * downstream services' circuit breaker and retries, breaker.h and
 * backoff.h), auth.c (auth.h), and for group membership mcache.c (the
 * cache, mcache.h), grouplist.c (a token's groups, grouplist.h) and
 * urlesc.c (ids in a URL path, urlesc.h); and, for the downstream services, the
 * HTTP client httpc.c (httpc.h, libcurl on the worker's loop) and the
 * durable spool spool.c over spool_file.c and spool_rec.c (spool.h).
 * services.c (services.h) gives each worker its services' clients,
 * breakers and retries; engines.c calls the fire-and-forget engines.
 * The chat service's calls are chat.c's, over chatspool.c (the spool and
 * its replay) over chatmsg.c (a message on its way, what its sender is
 * told), under handlers.c; chatrec.c (chatrec.h) is their pure records.
 * authsvc.c is the auth service's token verification (with its cache
 * authcache.c), at the level of engines.c: gateway.c calls it, it reaches
 * gateway.c back through a callback; authstatus.c, above it, tells the
 * service the users' status (online.c calls it).
 */
#ifndef SGW_GATEWAY_H
#define SGW_GATEWAY_H

#include <ev.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "backoff.h"
#include "breaker.h"
#include "htab.h"
#include "recovery.h"
#include "services.h"

struct app;
struct auth;
struct grouplist;
struct membership;
struct mqueue;
struct bus;
struct engines;
struct chat;
struct doorbell;
struct evscan;
struct frame;
struct presence;
struct redis;
struct reclog;
struct rooms;
struct worker_stats;
struct session;
struct transport;

/* One connected Socket.IO socket of a user. */
struct gw_socket {
	struct session	*s;
	char		*user;
	size_t		 ulen;
	int64_t		 exp;		/* token expiry, unix s; 0: none */
	int		 warned;	/* token_expiring sent for this exp */
	int		 greet;		/* online_users waits (sync.c) */
	double		 tokens;	/* event_rate's bucket */
	double		 refilled;	/* when, loop time */
	long long	 over;		/* events refused since a token */
	struct grouplist *groups;	/* group_membership token */
	struct mqueue	*held;		/* membership.c: events waiting */
	int64_t		 issued;	/* connected, unix ms (fetchSockets) */
	uint32_t	 mark;		/* adapter.c: picked in this pass */
	/* Connection state recovery (issue 15). */
	char		 pid[RECLOG_PID_LEN + 1];	/* its slot; "": none */
	uint8_t		 uhash[RECLOG_USER_HASH];	/* recmatch.c */
	int		 rec_old;	/* recovered: who served it; -1 */
	struct gw_sidref {		/* sockindex.c's record */
		uint32_t		 hash;	/* first: htab */
		struct gw_socket	*gs;
	}		 byid;
	uint8_t		 indexed;	/* in g->bysid */
	uint64_t	 live_ms;	/* its slot live from, reclog ms */
	/* Presence to a socket behind on reading (issue 16, presfeed.c). */
	uint8_t		 pres_stale;	/* owed what changed since pres_ver */
	uint8_t		 pres_owed;	/* was ever stale */
	uint64_t	 pres_ver;
	uint8_t		 pres_corked;	/* presence batched: presfeed flushes */
};

/* Why a recovery failed (recovery.c, recslot.c): its counter. */
#define GW_REC_NOSESSION	0
#define GW_REC_EXPIRED		1
#define GW_REC_GONE		2
#define GW_REC_TOOMANY		3
#define GW_REC_USER		4
#define GW_REC_LIVE		5
#define GW_REC_ROOMS		6
#define GW_REC_FULL		7
#define GW_REC_MALFORMED	8
#define GW_REC_REMOTE		9	/* no host answered in time */
#define GW_REC_REASONS		10

struct gw_ghost;

/* Connection state recovery's own state, per worker (recovery.c). */
struct gw_recovery {
	struct htab	 ghosts;	/* struct gw_ghost by pid */
	struct gw_ghost	*first, *last;	/* in the order they are due */
	ev_timer	 due;
	uint64_t	 attempts;
	uint64_t	 ok;
	uint64_t	 failed[GW_REC_REASONS];
	uint64_t	 replayed;	/* packets sent in recoveries */
};

#define GW_SYNC_MAX	512	/* workers a new worker waits to hear from */

/* group_membership (issue 13): who may join, read and post in a group. */
#define GW_MEMBERSHIP_OPEN	0	/* anyone: the seed's behaviour */
#define GW_MEMBERSHIP_SERVICE	1	/* the chat service says, cached */
#define GW_MEMBERSHIP_TOKEN	2	/* the token's groups claim says */

/*
 * What the gateway takes from the configuration, handed over by the
 * process layer before a worker starts (gateway_configure()).
 */
struct gateway_conf {
	struct auth_conf	 auth;
	const char		*run_dir;	/* the bus's sockets */
	int			 presence_mode;	/* 0 all, 1 scoped */
	long long		 presence_digest_interval;	/* ms */
	long long		 max_rooms_per_socket;
	long long		 max_payload;
	long long		 event_rate;	/* events/s per connection */
	long long		 event_burst;
	long long		 auth_attempts;	/* token checks/minute/conn */
	struct breaker_conf	 breaker;	/* each downstream service's */
	struct backoff_conf	 retry;		/* their retries */
	struct services_conf	 services;	/* services.h */
	long long		 engine_batch_max;	/* engines.c */
	long long		 engine_batch_delay;	/* ms */
	const char		*chat_messages_path;	/* chat.c */
	long long		 chat_queue_max;
	const char		*spool_dir;	/* chatspool.c */
	long long		 spool_max_bytes;
	long long		 spool_sync_interval;	/* ms */
	long long		 spool_sync_records;
	int			 membership;	/* GW_MEMBERSHIP_* */
	const char		*groups_path;	/* chat_groups_path */
	long long		 membership_ttl;	/* ms: a member */
	long long		 membership_negative_ttl; /* ms: not; 0: none */
	long long		 membership_cache_size;	/* per worker */
	long long		 membership_wait_per_socket;
	long long		 membership_wait_max;	/* per worker */
	long long		 membership_token_groups;
	int			 auth_mode;	/* GW_AUTH_*, resolved */
	const char		*auth_verify_path;
	const char		*auth_status_path;	/* with {user} */
	long long		 auth_cache_size;	/* entries per worker */
	long long		 auth_cache_ttl;	/* ms, without an exp */
	long long		 auth_negative_ttl;	/* ms, a refusal */
	long long		 auth_pending_max;	/* CONNECTs waiting */
	long long		 spool_replay_window;	/* chatspool.c */
	/* several hosts over Redis (issue 14); redis_url "": one host */
	const char		*redis_url;
	const char		*node_id;	/* "": the host name */
	const char		*redis_key_prefix;
	int			 redis_adapter;	/* GW_REDIS_* */
	long long		 redis_timeout;		/* ms */
	long long		 redis_queue_max;	/* bytes */
	long long		 redis_node_ttl;	/* ms */
	/*
	 * Connection state recovery (issue 15): the host's log, mapped by
	 * the master before fork (cluster/reclog.h); NULL: recovery off.
	 */
	struct reclog		*reclog;
	long long		 max_disconnection_ms;
	long long		 recovery_max_replay;
	long long		 recovery_takeover_max;	/* rectake.c */
	long long		 recovery_remote_timeout;	/* ms */
	long long		 recovery_remote_pending;	/* per worker */
	/* presence storms (issue 16), presfeed.c */
	long long		 presence_behind;	/* bytes queued */
	long long		 presence_coalesce_max;	/* changes kept */
	long long		 output_queue_budget;	/* bytes, this worker */
	/* the Socket.IO Admin UI (issue 18), admin.c */
	bool			 admin;
	const char		*admin_username;	/* "": no basic auth */
	const char		*admin_password_hash;
	const char		*admin_jwt_claim;	/* "": no token */
	bool			 admin_read_only;
	long long		 admin_stats_interval;	/* ms */
	long long		 admin_flush_interval;	/* ms */
	long long		 admin_queue_max;	/* bytes */
	long long		 admin_batch_max;
	long long		 admin_list_max;
	long long		 admin_login_rate;	/* per s */
	long long		 admin_sockets_max;
};

/* redis_adapter: the socket.io Redis adapter whose wire format we speak. */
#define GW_REDIS_CLASSIC	0	/* createAdapter: PSUBSCRIBE */
#define GW_REDIS_SHARDED	1	/* createShardedAdapter: SSUBSCRIBE */

/* auth_mode: who verifies a token. */
#define GW_AUTH_LOCAL	0	/* the configured key (auth.c) */
#define GW_AUTH_SERVICE	1	/* the auth service (authsvc.c) */
#define GW_AUTH_BOTH	2	/* the key, then the service */

struct gateway {
	const struct gateway_conf *conf;
	struct transport	*t;
	struct auth		*auth;
	struct presence		*presence;
	struct rooms		*rooms;
	struct bus		*bus;
	ev_timer		 digest;	/* online.c: presence repair */
	ev_timer		 expiry;	/* token.c: expiring tokens */
	uint64_t		 messages;	/* frames delivered */
	uint64_t		 auth_failures;
	uint64_t		 rooms_refused;	/* max_rooms_per_socket */
	uint64_t		 bus_too_big;	/* frames the bus could not carry */
	uint64_t		 rate_warnings;	/* past event_rate */
	uint64_t		 rate_disconnects;
	uint64_t		 auth_refused;	/* past auth_attempts */
	ev_timer		 sync_wait;	/* sync.c */
	int			 synced;
	int			 nwant;		/* -1: no peer list yet */
	int32_t			 want[GW_SYNC_MAX];
	uint8_t			 heard[4096 / 8];
	struct htab		 owed;		/* scoped.c */
	struct services		*services;	/* services.c */
	struct engines		*engines;	/* engines.c */
	struct chat		*chat;		/* chat.c; NULL: no service */
	struct membership	*membership;	/* membership.c */
	struct authsvc		*authsvc;	/* authsvc.c */
	/* Several hosts over Redis (issue 14): redislink.c; NULL: none. */
	struct redis		*redis;		/* commands and PUBLISH */
	struct redis		*redis_sub;	/* subscribed */
	char			 redis_instance[96];	/* "<node>.<pid>" */
	char			 redis_uid[112];	/* "<instance>.<wid>" */
	/*
	 * Who takes what the subscriber hears: the adapter's channels
	 * (adapter.c sets it), and the gateways' own, "<key>-gw#..."
	 * (hostpresence.c).
	 */
	void			(*redis_message)(struct gateway *, char,
				    const char *, size_t, const void *,
				    size_t);
	void			(*redis_gw_message)(struct gateway *, char,
				    const char *, size_t, const void *,
				    size_t);
	struct adapter		*adapter;	/* adapter.c; NULL: none */
	struct hostpres		*hostpres;	/* hostpresence.c; NULL: none */
	struct htab		 bysid;		/* sockindex.c */
	struct gw_recovery	*recovery;	/* recovery.c; NULL: off */
	struct logdel		*logdel;	/* logdeliver.c; NULL: no log */
	/* online.c: presence summaries (presence.h) and whole digests. */
	ev_tstamp		 digest_last;	/* a whole digest went */
	int			 digest_due;	/* one was asked for */
	uint64_t		 psum_sent;
	uint64_t		 psum_differed;
	uint64_t		 digests_sent;
	struct rectake		*rectake;	/* rectake.c; NULL: off */
	/* "<key>-gw#rec...": recovery across hosts (recremote.c) */
	void			(*redis_rec_message)(struct gateway *,
				    const char *, size_t, const void *,
				    size_t);
	struct gw_recremote	*recremote;	/* NULL: no Redis or no log */
	uint64_t		 spliced;	/* handlers_event_raw() took */
	struct doorbell		*bell;		/* the log's wakes; NULL: bus */
	int64_t			 expiry_next;	/* token.c: no socket's token
						   needs a look before (s) */
	struct presfeed		*presfeed;	/* presfeed.c (issue 16) */
	struct admin		*admin;		/* admin.c (issue 18); NULL:
						   admin off */
	/* "<key>-gw#admin": the Admin UI across hosts (admin.c) */
	void			(*redis_admin_message)(struct gateway *,
				    const void *, size_t);
};

/* Bus record types. */
#define GW_BUS_EMIT	1	/* deliver.c: u16 room length, room, frame */
#define GW_BUS_ONLINE	2	/* online.c: a user's socket opened here */
#define GW_BUS_OFFLINE	3	/* ... closed here */
#define GW_BUS_DIGEST	4	/* online.c: a presence_digest() part */
#define GW_BUS_PSUM	12	/* online.c: a presence summary, asks */
#define GW_BUS_AUTH_ASK	5	/* authsvc.c: verify this token, owner */
#define GW_BUS_AUTH_ANSWER 6	/* authsvc.c: a token's answer, by hash */
#define GW_BUS_RECOVERED 7	/* recovery.c: i32 old worker, pid */
#define GW_BUS_LOGWAKE	8	/* logdeliver.c: read the log to its head */
#define GW_BUS_TAKEOVER	9	/* rectake.c: i32 serving worker, i32 asker,
				   u64 asked (reclog ms), pid, sid */
#define GW_BUS_ADMIN	13	/* admin.c (issue 18): u8 kind, its data */

/* admin.c (issue 18) */
struct sio_packet;
int	admin_init(struct gateway *);
void	admin_free(struct gateway *);
bool	admin_watched(const struct gateway *);
void	admin_socket_connected(struct gateway *, struct gw_socket *);
void	admin_socket_gone(struct gateway *, struct gw_socket *, const char *);
void	admin_socket_upgraded(struct gateway *, struct gw_socket *);
void	admin_room(struct gateway *, struct gw_socket *, const char *, size_t,
	    bool);
void	admin_recv(struct gateway *, const void *, size_t);
void	admin_peers(struct gateway *, const int32_t *, size_t);
int	admin_connect(struct gateway *, struct session *, json_t *,
	    const char **);
void	admin_connected(struct gateway *, struct session *, json_t *);
void	admin_disconnect(struct gateway *, struct session *);
void	admin_packet(struct gateway *, struct session *, struct sio_packet *);
void	admin_stats(const struct gateway *, struct worker_stats *);

/* adminops.c (issue 18) */
int	adminops_valid(json_t *);
void	adminops_apply(struct gateway *, const char *, size_t);

/* sockindex.c */
int	sockindex_init(struct gateway *, uint64_t);
void	sockindex_free(struct gateway *);
void	sockindex_add(struct gateway *, struct gw_socket *);
void	sockindex_del(struct gateway *, struct gw_socket *);
struct gw_socket *sockindex_find(struct gateway *, const char *, size_t);

/* recslot.c */
void	recslot_new(struct gateway *, struct session *, struct gw_socket *);
void	recslot_rooms(struct gateway *, struct gw_socket *);
int	recslot_close(struct gateway *, struct gw_socket *, const char *);

/* logdeliver.c */
#define LOGDEL_ALL	"*"	/* a log entry's room: every socket */
typedef void	 logdel_fn(struct gateway *, struct frame *, void *);
int		 logdeliver_init(struct gateway *);
void		 logdeliver_free(struct gateway *);
int		 logdeliver_put(struct gateway *, int, bool, const char *,
		    size_t, const char *, struct frame *, struct session *,
		    logdel_fn *, void *);
struct frame	*logdeliver_strip(struct frame *);
struct frame	*logdeliver_unpatch(const struct frame *, char *);
uint64_t	 logdeliver_catch_up(struct gateway *);
void		 logdeliver_recv(struct gateway *);
void		 logdeliver_stats(struct gateway *, struct worker_stats *);

/* redislink.c */
int	redislink_init(struct gateway *);
void	redislink_free(struct gateway *);
bool	redislink_ours(const struct gateway *, const char *, size_t);
void	redislink_stats(const struct gateway *, struct worker_stats *);

/* adapter.c */
int	adapter_init(struct gateway *);
void	adapter_free(struct gateway *);
void	adapter_publish(struct gateway *, const char *, size_t,
	    const struct frame *, const struct session *, bool);
void	adapter_publish_all(struct gateway *, const struct frame *,
	    const struct session *);
void	adapter_stats(const struct gateway *, struct worker_stats *);
uint64_t adapter_own_heard(const struct gateway *, int);

/* emit.c */
void		 emit_offsets(bool);
struct frame	*emit_frame(const char *, json_t *);
struct frame	*emit_frame_text(const char *, const char *, size_t);
void		 emit_to(struct gateway *, struct session *, const char *,
		    json_t *);
void		 emit_frame_to(struct gateway *, struct session *,
		    struct frame *);
void		 emit_all(struct gateway *, struct frame *, struct session *);

/* deliver.c */
void	deliver_local(struct gateway *, const char *, size_t, struct frame *,
	    struct session *);
void	deliver_room(struct gateway *, const char *, size_t, struct frame *,
	    struct session *);
void	deliver_recv(struct gateway *, const void *, size_t);

/* scoped.c */
int	scoped_init(struct gateway *, uint64_t);
void	scoped_free(struct gateway *);
void	scoped_joined(struct gateway *, struct gw_socket *, const char *,
	    size_t);
void	scoped_owe(struct gateway *, struct gw_socket *);
void	scoped_offline(struct gateway *, const char *, size_t,
	    struct gw_socket *);

/* hostpresence.c */
int	hostpres_init(struct gateway *, uint64_t);
void	hostpres_free(struct gateway *);
void	hostpres_local(struct gateway *, const char *, int);
void	hostpres_list(struct gateway *, void (*)(void *, const char *),
	    void *);
bool	hostpres_online(struct gateway *, const char *);
void	hostpres_stats(const struct gateway *, struct worker_stats *);

/* sync.c */
void	sync_init(struct gateway *);
void	sync_free(struct gateway *);
void	sync_peers(struct gateway *, const int32_t *, size_t);
void	sync_digest(struct gateway *, int);
void	sync_greet(struct gateway *, struct session *, struct gw_socket *);

/* token.c */
void	token_init(struct gateway *);
int	token_attempt(struct gateway *, struct session *, const char **);
void	token_track(struct gateway *, const struct gw_socket *);
int	token_refresh(struct gateway *, struct gw_socket *, json_t *,
	    const char **);

/* presfeed.c */
int	presfeed_init(struct gateway *);
void	presfeed_free(struct gateway *);
void	presfeed_announce(struct gateway *, const char *, int,
	    struct session *);
void	presfeed_closed(struct gateway *, struct gw_socket *, bool);
void	presfeed_nowhere(struct gateway *, struct frame *, void *);
void	presfeed_stats(struct gateway *, struct worker_stats *);

/* online.c */
void	online_init(struct gateway *);
void	online_free(struct gateway *);
void	online_join(struct gateway *, struct gw_socket *);
void	online_leave(struct gateway *, struct gw_socket *, int);
void	online_recv(struct gateway *, int, uint8_t, const void *, size_t);
void	online_digest_send(struct gateway *);
int	online_digest_recv(struct gateway *, int, const void *, size_t);
void	online_summary_recv(struct gateway *, int, const void *, size_t);
void	online_stats(struct gateway *, struct worker_stats *);
void	online_drop_worker(struct gateway *, int);
int32_t	online_owner(const struct gateway *, const char *);

/* engines.c */
struct events_message;
int	engines_init(struct gateway *);
void	engines_free(struct gateway *);
void	engines_message(struct gateway *, const struct events_message *);
void	engines_presence(struct gateway *, const char *, int);

/* chat.c (over chatspool.c over chatmsg.c: chat.h) */
int	chat_init(struct gateway *, uint64_t);
void	chat_free(struct gateway *);
void	chat_peers(struct gateway *, const int32_t *, size_t);
void	chat_stats(struct gateway *, struct stats_service *);
int	chat_message(struct gateway *, struct session *, int64_t,
	    const char *, const char *, const char *, json_t *);
void	chat_status(struct gateway *, const char *, const char *,
	    const char *, const char *);
void	chat_delete(struct gateway *, const char *, const char *,
	    const char *);
/* membership.c */
#define MEMBERSHIP_YES		 1	/* a member: go on */
#define MEMBERSHIP_NO		 0	/* not a member: refuse */
#define MEMBERSHIP_HELD		 2	/* held until the answer: stop here */
#define MEMBERSHIP_DOWN		-1	/* could not be checked: refuse */
#define MEMBERSHIP_BUSY		-2	/* too many events wait: refuse */
typedef void	(*membership_run)(struct gateway *, struct session *,
		    struct gw_socket *, const char *, size_t, json_t *,
		    int64_t);
int	membership_init(struct gateway *, membership_run, uint64_t);
void	membership_free(struct gateway *);
int	membership_waiting(const struct gw_socket *);
int	membership_hold(struct gateway *, struct session *,
	    struct gw_socket *, const char *, size_t, json_t *, int64_t);
int	membership_gate(struct gateway *, struct session *,
	    struct gw_socket *, const char *, size_t, const char *, size_t,
	    json_t *, int64_t);
void	membership_gone(struct gateway *, struct gw_socket *);
void	membership_token(struct gateway *, struct gw_socket *,
	    struct auth_result *);
struct worker_stats;
void	membership_stats(struct gateway *, struct worker_stats *);
/* authsvc.c */
struct worker_stats;
#define AUTHSVC_PENDING	1
/* A waiting CONNECT's answer: r, or NULL and why. */
typedef void	(*authsvc_done)(struct gateway *, struct session *, unsigned,
		    const struct auth_result *, const char *);
int	authsvc_init(struct gateway *, authsvc_done, uint64_t);
void	authsvc_free(struct gateway *);
int	authsvc_cached(struct gateway *, const char *, struct auth_result *,
	    const char **);
int	authsvc_verify(struct gateway *, struct session *, unsigned,
	    const char *, struct auth_result *, const char **);
void	authsvc_peers(struct gateway *, const int32_t *, size_t);
int32_t	authsvc_owner(const struct gateway *, uint32_t);
void	authsvc_recv(struct gateway *, uint8_t, const void *, size_t);
void	authsvc_stats(const struct gateway *, struct worker_stats *);

/* authstatus.c */
void	authstatus_tell(struct gateway *, const char *, int);

/* recremote.c (over recanswer.c, recremote.h; recwire.h) */
#define RECREMOTE_NONE	-2	/* recremote_accepting(): not a remote one */
int	recremote_init(struct gateway *, void (*)(struct gateway *,
	    struct session *, unsigned, struct auth_result *));
void	recremote_free(struct gateway *);
void	recremote_peers(struct gateway *, const int32_t *, size_t);
bool	recremote_connect(struct gateway *, struct session *, unsigned,
	    json_t *, struct auth_result *);
int	recremote_accepting(struct gateway *, struct session *,
	    struct gw_socket *);
void	recremote_stats(const struct gateway *, struct worker_stats *);

/* recovery.c */
int	recovery_init(struct gateway *, uint64_t);
void	recovery_free(struct gateway *);
void	recovery_accepting(struct gateway *, struct session *, json_t *);
void	recovery_connected(struct gateway *, struct gw_socket *);
bool	recovery_closed(struct gateway *, struct gw_socket *, const char *);
void	recovery_recv(struct gateway *, const void *, size_t);
void	recovery_stats(const struct gateway *, struct worker_stats *);

/* rectake.c */
/* A held CONNECT's answer: attach gs and answer, or (s NULL) free gs. */
typedef void	(*rectake_done)(struct gateway *, struct session *,
		    struct gw_socket *);
int	rectake_init(struct gateway *, rectake_done);
void	rectake_free(struct gateway *);
int	rectake_begin(struct gateway *, struct session *, json_t *);
void	rectake_recv(struct gateway *, const void *, size_t);
void	rectake_stats(const struct gateway *, struct worker_stats *);

/* handlers.c */
int	handlers_init(struct gateway *, uint64_t);
void	handlers_event(struct gateway *, struct session *, struct gw_socket *,
	    const char *, size_t, json_t *, int64_t);
int	handlers_event_raw(struct gateway *, struct session *,
	    struct gw_socket *, const struct evscan *, int64_t);

/* gateway.c */
extern const struct app	 gateway_app;
void		 gateway_configure(const struct gateway_conf *);
void		 gateway_free(struct gateway *);

#endif /* SGW_GATEWAY_H */
