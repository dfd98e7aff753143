/*
 * services: the downstream services of one worker (issue 13).  One entry
 * per configured service (auth, chat, presence engine, AI engine, quantum
 * room engine, in stats.h's order), each with its HTTP client (httpc.h),
 * its circuit breaker (breaker.h) and its retry budget (backoff.h).  A
 * service without a URL has no entry: services_call() says SERVICES_OFF
 * and nothing else happens.
 *
 * services_call() never blocks and never calls back from inside itself:
 *	- a call past its service's max_inflight (services_max_inflight():
 *	  in flight or waiting for a retry) is shed: counted, not sent;
 *	- a call the breaker refuses is rejected: counted, not sent;
 *	- else it is sent; an answer that fails (5xx, timeout, no connection)
 *	  is tried again, for an idempotent call only, after backoff_delay()
 *	  on an ev_timer, while the tries, the retry budget and the breaker
 *	  allow.  The callback, if any, runs once with the last answer.
 */
#ifndef SGW_SERVICES_H
#define SGW_SERVICES_H

#include <stdbool.h>
#include <stddef.h>

#include "httpc.h"
#include "stats.h"

struct backoff_conf;
struct breaker_conf;
struct ev_loop;
struct services;

/* What the gateway takes from the configuration (settings.c). */
struct services_conf {
	const char	*url[STATS_SERVICES];	/* "" or NULL: not configured */
	const char	*path[STATS_SERVICES];	/* the engines' POST paths */
	const char	*token;		/* bearer token for all; "": none */
	long long	 timeout;	/* ms, service_timeout */
	long long	 max_inflight;	/* per service per worker */
	/*
	 * Each service's own (settings.c resolves them, conf_svc.c); 0 or
	 * NULL takes the shared value above (token; header: none).
	 */
	long long	 svc_timeout[STATS_SERVICES];	/* ms */
	long long	 svc_max_inflight[STATS_SERVICES];
	const char	*svc_token[STATS_SERVICES];	/* "": none */
	const char	*svc_header[STATS_SERVICES];	/* "Name: value" */
};

/* services_call()'s results; the callback's outcome is one of the last. */
#define SERVICES_SENT		 0	/* on its way: the callback will run */
#define SERVICES_OFF		-1	/* the service has no URL */
#define SERVICES_SHED		-2	/* at max_inflight: not sent */
#define SERVICES_REJECTED	-3	/* the breaker is open: not sent */
#define SERVICES_FAILED		-4	/* could not be sent */
#define SERVICES_OK		 1	/* callback: a 2xx answer */
#define SERVICES_ERROR		 2	/* callback: anything else */

/* r is NULL when no answer came (the retry was refused). */
typedef void	(*services_cb)(int, const struct httpc_result *, void *);

struct services_call {
	enum httpc_method	 method;
	const char		*path;
	const char		*body;		/* JSON, copied; NULL: none */
	size_t			 len;
	bool			 idempotent;	/* safe to repeat */
	const char		*key;		/* Idempotency-Key, or NULL;
						   its bytes outside 0x21-0x7e
						   are sent as '_' */
	services_cb		 cb;		/* NULL: fire and forget */
	void			*arg;
};

/* services.c */
struct services	*services_new(struct ev_loop *, const struct services_conf *,
		    const struct breaker_conf *, const struct backoff_conf *);
void		 services_free(struct services *);
bool		 services_configured(const struct services *, int);
bool		 services_full(const struct services *, int);
const char	*services_path(const struct services *, int);
int		 services_call(struct services *, int,
		    const struct services_call *);
void		 services_stats(const struct services *,
		    struct stats_service *);
long long	 services_timeout(const struct services_conf *, int);
long long	 services_max_inflight(const struct services_conf *, int);

#endif /* SGW_SERVICES_H */
