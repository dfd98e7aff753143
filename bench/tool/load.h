/*
 * load.h: inside one load process of socket-gateway-bench.  client.c owns
 * the connections (TCP, the WebSocket upgrade and frames, Engine.IO and the
 * Socket.IO connect) and tells scenario.c what arrives through the
 * scen_*() callbacks.
 */
#ifndef SGW_BENCH_LOAD_H
#define SGW_BENCH_LOAD_H

#include "bench.h"

enum conn_state {
	CS_IDLE = 0,		/* no socket */
	CS_CONNECTING,		/* TCP connect in progress */
	CS_UPGRADING,		/* HTTP upgrade sent */
	CS_EIO,			/* waiting for Engine.IO open */
	CS_SIO,			/* Socket.IO CONNECT sent */
	CS_READY		/* connected + online_users received */
};

/* client_close() */
#define CLOSE_PEER	0	/* the server closed it */
#define CLOSE_CLEAN	1	/* close frame, then close(2) */
#define CLOSE_ABORT	2	/* reset: no TIME_WAIT here */

/* conn.flags */
#define CF_CONNECTED	0x01	/* `connected` event seen */
#define CF_SIO_OK	0x02	/* Socket.IO CONNECT answered */
#define CF_CLOSING	0x04	/* we close it after the current event */
#define CF_OBSERVER	0x08	/* churn: watches presence */
#define CF_JOIN_SENT	0x10	/* setup sent */
#define CF_REJOIN	0x20	/* --rejoin: closed, connecting again */

struct conn {
	int		 fd;
	uint8_t		 state;		/* enum conn_state */
	uint8_t		 flags;
	uint16_t	 pending_acks;	/* setup acks still due */
	uint32_t	 user;		/* global user number */
	uint32_t	 group;		/* fanout: local group */
	uint32_t	 mask;		/* WebSocket masking key */
	uint64_t	 t_start;	/* connect() time, ns */
	uint8_t		*rbuf;		/* an incomplete frame */
	uint32_t	 rlen, rcap;
	uint8_t		*wbuf;		/* bytes the socket did not take */
	uint32_t	 wlen, woff, wcap;
	uint8_t		*frag;		/* a fragmented message */
	uint32_t	 fraglen, fragcap;
};

struct load {
	const struct bench_opts	*o;
	struct bench_shared	*sh;
	struct bench_slot	*slot;
	unsigned		 id, nprocs;
	int			 ep;
	uint64_t		 now;
	struct conn		*conns;
	unsigned		 nconns;
	unsigned		 first_user;	/* global number of conns[0] */
	struct bench_counters	 c;
	struct hist		 lat, connlat;
	struct sockaddr_in	 src[BENCH_MAXSRC];
	unsigned		 nsrc;
	/* The HTTP request, one per server (-t). */
	char			 upgrade[BENCH_MAXTARGETS][512];
	size_t			 upgradelen[BENCH_MAXTARGETS];
	struct hist		 ack;		/* send -> message_sent */
	struct hist		 rejoin;	/* --rejoin: close -> ready again */
};

/* client.c */
int	 client_open(struct load *, struct conn *);
void	 client_close(struct load *, struct conn *, int);
void	 client_event(struct load *, struct conn *, uint32_t);
int	 client_send(struct load *, struct conn *, const char *, size_t);
void	 client_timeouts(struct load *);
void	 client_init(struct load *);
void	 client_user_name(const struct load *, uint32_t, char *, size_t);

/* scenario.c: what client.c reports. */
void	 scen_ready(struct load *, struct conn *);
void	 scen_failed(struct load *, struct conn *);
void	 scen_closed(struct load *, struct conn *);
void	 scen_event(struct load *, struct conn *, const char *, size_t,
	    const char *, size_t);
void	 scen_ack(struct load *, struct conn *);
unsigned scen_target(const struct load *, const struct conn *);

#endif /* SGW_BENCH_LOAD_H */
