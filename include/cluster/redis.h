/*
 * redis: one asynchronous connection to Redis on a worker's libev loop
 * (layer 4, cluster).  hiredis parses and formats the protocol
 * (redisReader, redisFormatCommandArgv); the socket, the queue and the
 * timers are ours, because hiredis 0.14's async layer does not know the
 * RESP pushes of sharded pub/sub ("smessage") and aborts on a reply it
 * did not ask for.
 *
 * A worker opens two: one for commands and PUBLISH, one in subscribed
 * mode.  The connection opens at redis_new() and again after each loss,
 * with backoff (100 ms doubling to 5 s, jittered), runs AUTH and SELECT
 * from the URL first, and re-issues every subscription it holds, so the
 * caller subscribes once.
 *
 * While the connection is down, commands wait in a queue of at most
 * queue_max bytes and leave when it is up again, in order; past the
 * bound redis_command() refuses (-1) and counts the loss.  A command
 * whose reply has not come within timeout_ms closes the connection (the
 * wait has a deadline); every callback still waiting is then called with
 * NULL, once.  Callbacks run on the loop, never from inside
 * redis_command().
 *
 * redis_subscribe(r, verb, chan, len): verb is "SUBSCRIBE", "PSUBSCRIBE"
 * or "SSUBSCRIBE"; the connection remembers it (and forgets it at
 * redis_unsubscribe with the same verb) and re-issues it on every
 * reconnect.  A connection that subscribed once takes no other command.
 *
 * The same queue_max bounds what waits to be written while the connection
 * is up (a slow Redis): commands issued in one loop iteration leave in one
 * write, and what the socket does not take waits; past the bound,
 * redis_command() refuses and counts the loss.  Subscriptions are never
 * refused (they are remembered either way).
 *
 * redis_free() may be called anywhere, also from inside one of the
 * connection's own callbacks (reply, up, down, message): no callback of
 * it runs afterwards, and the commands still waiting are dropped without
 * their callbacks being called.
 *
 * A host name is resolved with getaddrinfo(), which blocks the loop while
 * it runs: give an address, or a name from /etc/hosts.  The URL's password
 * is never logged; log lines name host:port/db.
 */
#ifndef SGW_REDIS_H
#define SGW_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct redis;
struct redisReply;

struct redis_conf {
	const char	*url;		/* redisurl.h's forms */
	long long	 timeout_ms;	/* connect and each reply */
	long long	 queue_max;	/* bytes held while down */
	const char	*name;		/* CLIENT SETNAME; NULL: none */
};

/* What a subscriber connection hears (all on the loop). */
struct redis_ops {
	/* Connected, new or again; subscriptions already re-issued. */
	void	(*up)(void *arg);
	/* Lost; what is queued waits, callbacks got NULL.  why: no secret */
	void	(*down)(void *arg, const char *why);
	/*
	 * A message: kind is 'm' (message), 'p' (pmessage: chan is the
	 * channel, not the pattern) or 's' (smessage).  Valid during the call.
	 */
	void	(*message)(void *arg, char kind, const char *chan, size_t clen,
		    const void *data, size_t len);
};

/* A reply, or NULL: the connection closed or the reply was late. */
typedef void	 redis_reply_cb(void *arg, const struct redisReply *);

struct redis_stats {
	uint64_t	 connects;	/* connections established */
	uint64_t	 disconnects;	/* lost, for any reason (a failed
					   attempt too) */
	uint64_t	 timeouts;	/* of those: a late reply or connect */
	uint64_t	 commands;	/* written to the socket */
	uint64_t	 replies;
	uint64_t	 errors;	/* error replies */
	uint64_t	 messages;	/* pub/sub messages received */
	uint64_t	 bytes_in;
	uint64_t	 bytes_out;
	uint64_t	 lost;		/* refused: queue past queue_max */
	uint64_t	 queued;	/* bytes waiting now */
	uint64_t	 pending;	/* replies awaited now */
	bool		 up;
};

/* redis.c */
struct redis	*redis_new(struct ev_loop *, const struct redis_conf *,
		    const struct redis_ops *, void *);
void		 redis_free(struct redis *);
int		 redis_command(struct redis *, redis_reply_cb *, void *, int,
		    const char **, const size_t *);
int		 redis_subscribe(struct redis *, const char *, const char *,
		    size_t);
int		 redis_unsubscribe(struct redis *, const char *, const char *,
		    size_t);
bool		 redis_up(const struct redis *);
void		 redis_stats(const struct redis *, struct redis_stats *);

#endif /* SGW_REDIS_H */
