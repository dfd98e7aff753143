/*
 * chat: the chat service's side of a worker (issue 13), shared by chat.c
 * (the calls: persistence with each sender's order, status updates),
 * chatspool.c (the durable spool and its replay) and chatmsg.c (a message
 * on its way, and what its sender is told).  gateway.h declares what the
 * rest of the gateway calls; this header is for those three files.
 *
 * The order rule (README, "Chat service").  Per sender, the chat service
 * stores one worker's messages in the order they were sent:
 *  - per sender at most one persist call is in flight per worker; the
 *    sender's next messages wait behind it in memory, in a FIFO (all the
 *    senders' FIFOs of a worker together at most chat_queue_max); when
 *    the worker has chat_service_max_inflight calls out, a sender's first
 *    message waits in memory too (parked) until one ends: a burst is not
 *    a failure, and the spool is for failures;
 *  - a sender with messages in the spool has its next messages go to the
 *    spool too, behind them, until the replay has taken them: the spool
 *    is a FIFO, replayed in order per sender (chatspool.c: a window of
 *    records at once, one per sender; receipts and deletions wait for
 *    everything before them).  Other senders' messages go straight to
 *    the service, so that one sender's failed call does not hold every
 *    sender of the worker in the spool (its replay, one record per
 *    sender at a time, could then fall behind for good).  Each sender
 *    counts its records in the spool (spooled);
 *  - while the spool holds records whose senders this process does not
 *    know (left by an earlier process, or taken over from a gone worker:
 *    chat->global), every message goes to the spool, until it is drained;
 *    so do status updates whenever the spool holds anything;
 *  - a call that fails (tries, breaker, shed, no answer within
 *    chat_service_timeout) goes to the spool with, behind it, everything that
 *    waits behind it for that sender; so does a sender's FIFO that would
 *    pass chat_queue_max.  A call overtaken this way may still reach the
 *    service: the replay repeats it with the same Idempotency-Key before
 *    anything behind it, so the first store keeps the order.
 * Messages from one user's sockets on different workers have no order
 * between them: each worker has its own spool and its own calls.
 */
#ifndef SGW_CHAT_H
#define SGW_CHAT_H

#include <sys/queue.h>

#include <ev.h>
#include <jansson.h>
#include <stdint.h>

#include "htab.h"
#include "services.h"
#include "sid.h"

struct chat_update;
struct gateway;
struct session;
struct spool;
struct chat_replay;

/* A message on its way to the chat service, from one socket. */
struct chat_msg {
	TAILQ_ENTRY(chat_msg)	 entry;		/* sender's FIFO, or waiting */
	LIST_ENTRY(chat_msg)	 all;		/* chat->live */
	struct chat		*chat;
	struct chat_sender	*from;		/* NULL: out of its FIFO */
	int			 inflight;	/* its call runs */
	int			 waiting;	/* in chat->waiting */
	ev_timer		 deadline;	/* chat_service_timeout */
	uint64_t		 seq;		/* its spool record's */
	char			 sid[SID_LEN + 1];	/* the sender's */
	char			 sio[SID_LEN + 1];
	int64_t			 ack;
	const char		*event;		/* the event's name */
	json_t			*msg;		/* without status */
	char			*id;
	char			*body;		/* msg as JSON */
	size_t			 blen;
};
TAILQ_HEAD(chat_msgs, chat_msg);

/* One sender's messages of this worker: the first one's call runs. */
struct chat_sender {
	uint32_t		 hash;		/* first: htab */
	char			*user;
	size_t			 ulen;
	struct chat_msgs	 msgs;
	uint64_t		 spooled;	/* its records in the spool */
	TAILQ_ENTRY(chat_sender) park;		/* chat->parked */
	int			 parked;
};
TAILQ_HEAD(chat_senders, chat_sender);

struct chat {
	struct gateway		*g;
	struct htab		 senders;
	uint64_t		 queued;	/* in FIFOs, behind a call */
	struct spool		*spool;		/* NULL: none could be had */
	struct chat_msgs	 waiting;	/* spooled, not durable yet */
	ev_timer		 replay;
	int			 replaying;	/* replayed calls running */
	int			 global;	/* records of unknown senders */
	struct chat_senders	 parked;	/* waiting for a free call */
	/* A replayed message record of user was taken: chat.c counts. */
	void			(*taken)(struct chat *, const char *);
	unsigned		 fails;		/* replays failed in a row */
	int			 nworkers;
	ev_timer		 adopt;		/* gone workers' files */
	uint64_t		 spool_failed;	/* could not be spooled */
	uint64_t		 replayed;
	uint64_t		 refused;	/* 4xx: refused for good */
	LIST_HEAD(, chat_msg)	 live;		/* every message held */
	LIST_HEAD(, chat_update) updates;	/* their calls run */
	/* The replay's window (chatspool.c): the spool's oldest records. */
	struct chat_replay	**win;
	unsigned		 nwin, wmax;
	int			 stalled;	/* a replay failed: wait */
	int			 adopt_wait;	/* adopt once nwin is 0 */
};

/* chatmsg.c */
struct chat_msg	*chatmsg_new(struct chat *, struct session *, int64_t,
		    const char *, json_t *, const char *);
void		 chatmsg_free(struct chat_msg *);
void		 chatmsg_tell(struct chat_msg *, const char *);
void		 chatmsg_fail(struct chat_msg *, const char *, const char *);
int		 chatmsg_refused(long);

/* chatspool.c */
int		 chatspool_open(struct chat *);
void		 chatspool_close(struct chat *);
int		 chatspool_busy(struct chat *);
int		 chatspool_message(struct chat *, struct chat_msg *);
int		 chatspool_put(struct chat *, int, const char *, const char *,
		    const char *, size_t, uint64_t *);
void		 chatspool_kick(struct chat *);
int		 chatspool_call(struct chat *, int, const char *, size_t,
		    const char *, size_t, const char *, size_t, services_cb,
		    void *);

#endif /* SGW_CHAT_H */
