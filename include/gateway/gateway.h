/*
 * Layer 4: the gateway application, the seed's event contract on top of
 * the Socket.IO layer.  One struct gateway per worker process:
 *   gateway.c	 the application callbacks (auth at CONNECT, dispatch)
 *   gw_events.c the handlers of the client's events
 *   gw_cluster.c delivery to rooms on every worker, presence, the bus
 */
#ifndef SGW_GATEWAY_H
#define SGW_GATEWAY_H

#include <ev.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "htab.h"

struct app;
struct auth;
struct bus;
struct frame;
struct presence;
struct rooms;
struct session;
struct transport;

/* One connected Socket.IO socket of a user. */
struct gw_socket {
	struct session	*s;
	char		*user;
	size_t		 ulen;
	int64_t		 exp;		/* token expiry, unix s; 0: none */
	int		 warned;	/* token_expiring sent for this exp */
	int		 greet;		/* online_users waits (gw_sync.c) */
	double		 tokens;	/* event_rate's bucket */
	double		 refilled;	/* when, loop time */
	long long	 over;		/* events refused since a token */
};

#define GW_SYNC_MAX	512	/* workers a new worker waits to hear from */

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
};

struct gateway {
	const struct gateway_conf *conf;
	struct transport	*t;
	struct auth		*auth;
	struct presence		*presence;
	struct rooms		*rooms;
	struct bus		*bus;
	ev_timer		 digest;	/* presence repair */
	ev_timer		 expiry;	/* tokens that run out */
	uint64_t		 messages;	/* frames delivered */
	uint64_t		 auth_failures;
	uint64_t		 rooms_refused;	/* max_rooms_per_socket */
	uint64_t		 bus_too_big;	/* frames the bus could not carry */
	uint64_t		 rate_warnings;	/* past event_rate */
	uint64_t		 rate_disconnects;
	uint64_t		 auth_refused;	/* past auth_attempts */
	ev_timer		 sync_wait;	/* gw_sync.c */
	int			 synced;
	int			 nwant;		/* -1: no peer list yet */
	int32_t			 want[GW_SYNC_MAX];
	uint8_t			 heard[4096 / 8];
	struct htab		 owed;		/* gw_scoped.c */
};

/* Bus record types. */
#define GW_BUS_EMIT	1	/* u16 room length, room, u64 except, frame */
#define GW_BUS_ONLINE	2	/* a user's socket opened here: user */
#define GW_BUS_OFFLINE	3	/* ... closed here */
#define GW_BUS_DIGEST	4	/* presence_digest() part */

/* gateway.c */
extern const struct app	 gateway_app;
extern struct gateway	 gw;
void		 gateway_configure(const struct gateway_conf *);
struct frame	*gw_frame(const char *, json_t *);
void		 gw_emit(struct session *, const char *, json_t *);
void		 gw_online_users(struct session *, struct gw_socket *);
int		 gw_refresh(struct gw_socket *, json_t *, const char **);

#define GW_EXPIRY_NOTICE	60	/* seconds: token_expiring before exp */

/* gw_events.c */
void	gw_event(struct session *, struct gw_socket *, const char *, size_t,
	    json_t *, int64_t);

/* gw_scoped.c */
int	gw_scoped_init(struct gateway *, uint64_t);
void	gw_scoped_free(struct gateway *);
void	gw_scoped_joined(struct gateway *, struct gw_socket *, const char *,
	    size_t);
void	gw_scoped_owe(struct gateway *, struct gw_socket *);
void	gw_scoped_offline(struct gateway *, const char *, size_t,
	    struct gw_socket *);

/* gw_sync.c */
void	gw_sync_init(struct gateway *);
void	gw_sync_free(struct gateway *);
void	gw_sync_peers(struct gateway *, const int32_t *, size_t);
void	gw_sync_digest(struct gateway *, int);
int	gw_sync_ready(const struct gateway *);

/* gw_cluster.c */
int	gw_cluster_init(struct gateway *, const char *);
void	gw_cluster_free(struct gateway *);
void	gw_deliver(struct gateway *, const char *, size_t, struct frame *,
	    struct session *);
void	gw_presence_join(struct gateway *, struct gw_socket *);
void	gw_presence_leave(struct gateway *, struct gw_socket *, int);
void	gw_peers(struct transport *, const int32_t *, size_t);

#endif /* SGW_GATEWAY_H */
