/*
 * adapter.h: what adapter.c (the messages, broadcasts, subscriptions)
 * and adapter_req.c (the other servers' requests) share; nothing else
 * includes it.  gateway.h has the functions the rest of the gateway calls.
 */
#ifndef SGW_ADAPTER_H
#define SGW_ADAPTER_H

#include <jansson.h>
#include <stdint.h>

#define CHAN_MAX	1024	/* a channel name: prefix, nsp, room */

struct gateway;
struct gw_socket;
struct sior_msg;
struct sior_str;

struct adapter {
	int		 format;	/* SIOR_CLASSIC or SIOR_SHARDED */
	uint32_t	 gen;		/* adapter_pick(): this pass's mark */
	uint64_t	 published;
	uint64_t	 received;
	uint64_t	 ignored;
	uint64_t	 malformed;
	uint64_t	 requests;
	uint64_t	 unsupported;
	uint64_t	 subscriptions;	/* gauge */
	/*
	 * Issue 15, across hosts: per wid of this instance, 1 + the log seq
	 * of the last of its broadcasts heard back from Redis (0: none);
	 * NULL without the recovery log.
	 */
	uint64_t	*own_heard;
};

/* Called once per picked socket. */
typedef void	 pick_cb(struct gateway *, struct gw_socket *, void *);

/* adapter.c */
void		 adapter_pick(struct gateway *, const struct sior_str *,
		    unsigned, const struct sior_str *, unsigned, pick_cb *,
		    void *);
struct gw_socket *adapter_by_sio_sid(struct gateway *, const char *, size_t);
void		 adapter_respond(struct gateway *, const struct sior_msg *,
		    json_t *);

/* adapter_req.c */
void		 adapter_request(struct gateway *, const struct sior_msg *);

#endif /* SGW_ADAPTER_H */
