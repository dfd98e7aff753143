/*
 * The downstream services of one worker (services.h): each configured
 * service's HTTP client, circuit breaker, retry budget and figures, and
 * the one way a call goes out, services_call().
 *
 * A call lives in a struct call from services_call() to its end: sent
 * (req set), or waiting for its retry (the timer active).  Every live
 * call is on its service's list, so that services_free() can end them
 * all, and counts against max_inflight, so that a hung service costs at
 * most max_inflight calls' memory per worker.
 */
#include <ev.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "breaker.h"
#include "httpc.h"
#include "log.h"
#include "randpool.h"
#include "services.h"

static const char *const names[STATS_SERVICES] = {
	STATS_SERVICE_NAMES
};

static const long long bounds[STATS_LATENCY_BUCKETS] = {
	STATS_LATENCY_BOUNDS
};

struct service;

struct call {
	struct service	*svc;
	struct call	*prev, *next;
	struct httpc_req *req;		/* sent; NULL while waiting */
	ev_timer	 retry;
	enum breaker_verdict verdict;
	long long	 made;		/* tries made */
	enum httpc_method method;
	char		*path;
	char		*body;
	size_t		 len;
	bool		 idempotent;
	char		*key;		/* "Idempotency-Key: ..." or NULL */
	services_cb	 cb;
	void		*arg;
};

struct service {
	struct services	*all;
	int		 id;
	struct httpc	*http;
	struct breaker	 breaker;
	struct backoff_budget budget;
	struct call	*calls;		/* live */
	unsigned int	 live;
	struct stats_service st;
};

struct services {
	struct ev_loop	*loop;
	const struct services_conf *conf;
	struct backoff_conf retry;
	struct service	*svc[STATS_SERVICES];
};

static int	 send_call(struct call *);
static void	 on_answer(const struct httpc_result *, void *);
static void	 on_retry(struct ev_loop *, ev_timer *, int);
static void	 finish(struct call *, int, const struct httpc_result *);
static void	 call_free(struct call *);

static int64_t
now_ms(const struct services *ss)
{
	return (int64_t)(ev_now(ss->loop) * 1000.0);
}

/* Service id's own timeout (ms), or the shared one. */
long long
services_timeout(const struct services_conf *conf, int id)
{
	return conf->svc_timeout[id] > 0 ? conf->svc_timeout[id] :
	    conf->timeout;
}

/* Service id's own bound on its live calls, or the shared one. */
long long
services_max_inflight(const struct services_conf *conf, int id)
{
	return conf->svc_max_inflight[id] > 0 ? conf->svc_max_inflight[id] :
	    conf->max_inflight;
}

/*
 * The service-to-service credentials sent with each of service id's
 * calls: its own token and header (settings.c resolved them), or the
 * shared token.  The header was checked by -t (conf_svc.c); httpc
 * refuses one with a line break all the same.
 */
static int
service_auth(struct services *ss, struct service *s, int id)
{
	const char	*tok = ss->conf->svc_token[id], *hdr;
	char		 auth[4200];

	if (tok == NULL)
		tok = ss->conf->token;
	if (tok != NULL && *tok != '\0') {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
		if (httpc_header(s->http, auth) != 0)
			return -1;
	}
	if ((hdr = ss->conf->svc_header[id]) != NULL && *hdr != '\0' &&
	    httpc_header(s->http, hdr) != 0)
		return -1;
	return 0;
}

/*
 * A service's client, breaker and budget; NULL when it has no URL (and
 * also, logged, when its client cannot be made: the gateway serves on
 * without it).
 */
static struct service *
service_new(struct services *ss, int id, const struct breaker_conf *bc)
{
	struct service	*s;
	const char	*url = ss->conf->url[id];

	if (url == NULL || *url == '\0')
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto fail;
	s->all = ss;
	s->id = id;
	if ((s->http = httpc_new(ss->loop, url,
	    (unsigned int)services_max_inflight(ss->conf, id))) == NULL)
		goto fail;
	if (service_auth(ss, s, id) != 0)
		goto fail;
	breaker_init(&s->breaker, bc);
	backoff_budget_init(&s->budget, &ss->retry);
	s->st.configured = 1;
	return s;
fail:
	log_error("%s service: cannot set up its client; not called",
	    names[id]);
	if (s != NULL && s->http != NULL)
		httpc_free(s->http);
	free(s);
	return NULL;
}

/* Once per worker, after fork: one entry per configured service. */
struct services *
services_new(struct ev_loop *loop, const struct services_conf *conf,
    const struct breaker_conf *bc, const struct backoff_conf *rc)
{
	struct services	*ss;
	int		 i;

	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		return NULL;
	ss->loop = loop;
	ss->conf = conf;
	ss->retry = *rc;
	for (i = 0; i < STATS_SERVICES; i++)
		ss->svc[i] = service_new(ss, i, bc);
	return ss;
}

/* At worker exit: every live call ends without its callback. */
void
services_free(struct services *ss)
{
	struct service	*s;
	int		 i;

	if (ss == NULL)
		return;
	for (i = 0; i < STATS_SERVICES; i++) {
		if ((s = ss->svc[i]) == NULL)
			continue;
		while (s->calls != NULL)
			call_free(s->calls);
		httpc_free(s->http);
		free(s);
	}
	free(ss);
}

bool
services_configured(const struct services *ss, int id)
{
	return ss != NULL && id >= 0 && id < STATS_SERVICES &&
	    ss->svc[id] != NULL;
}

/*
 * Would a call to service id be shed now (at its max_inflight)?  A caller
 * that can wait (chat.c) holds its call until one ends instead.
 */
bool
services_full(const struct services *ss, int id)
{
	return services_configured(ss, id) && ss->svc[id]->live >=
	    (unsigned int)services_max_inflight(ss->conf, id);
}

/* An engine's POST path (services_conf), never NULL. */
const char *
services_path(const struct services *ss, int id)
{
	const char	*p = ss->conf->path[id];

	return p != NULL && *p != '\0' ? p : "/";
}

/*
 * Send a call (services.h): shed, rejected, or on its way.  Everything
 * the call needs is copied.
 */
int
services_call(struct services *ss, int id, const struct services_call *sc)
{
	struct service		*s;
	struct call		*c;
	enum breaker_verdict	 v;
	int			 rc;

	if (!services_configured(ss, id))
		return SERVICES_OFF;
	s = ss->svc[id];
	if (services_full(ss, id)) {
		s->st.shed++;
		return SERVICES_SHED;
	}
	if ((v = breaker_allow(&s->breaker, now_ms(ss))) == BREAKER_REJECT) {
		s->st.rejected++;
		return SERVICES_REJECTED;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(sc->path)) == NULL ||
	    (sc->body != NULL && (c->body = malloc(sc->len + 1)) == NULL))
		goto nomem;
	if (sc->body != NULL) {
		memcpy(c->body, sc->body, sc->len);
		c->body[sc->len] = '\0';
	}
	if (sc->key != NULL) {
		size_t	 n = strlen(sc->key) + sizeof("Idempotency-Key: ");
		char	*p;

		if ((c->key = malloc(n)) == NULL)
			goto nomem;
		snprintf(c->key, n, "Idempotency-Key: %s", sc->key);
		/* A header's value: a key made of a client's ids may hold
		   anything; control bytes and spaces become '_'. */
		for (p = c->key + sizeof("Idempotency-Key: ") - 1; *p != '\0';
		    p++)
			if (*p < 0x21 || *p > 0x7e)
				*p = '_';
	}
	c->svc = s;
	c->verdict = v;
	c->method = sc->method;
	c->len = sc->len;
	c->idempotent = sc->idempotent;
	c->cb = sc->cb;
	c->arg = sc->arg;
	ev_timer_init(&c->retry, on_retry, 0., 0.);
	c->retry.data = c;
	if ((c->next = s->calls) != NULL)
		c->next->prev = c;
	s->calls = c;
	s->live++;
	backoff_budget_call(&s->budget);
	if ((rc = send_call(c)) != 0) {
		breaker_record(&s->breaker, now_ms(ss), v, 0);
		s->st.errors++;
		call_free(c);
		return rc;
	}
	return SERVICES_SENT;
nomem:
	/* The breaker's trial, if it was one, is given back as a failure. */
	breaker_record(&s->breaker, now_ms(ss), v, 0);
	if (c != NULL) {
		free(c->path);
		free(c->body);
		free(c->key);
		free(c);
	}
	return SERVICES_FAILED;
}

/* One try on the wire. */
static int
send_call(struct call *c)
{
	struct service		*s = c->svc;
	const char		*hdr[2] = { c->key, NULL };
	struct httpc_call	 hc;

	memset(&hc, 0, sizeof(hc));
	hc.method = c->method;
	hc.path = c->path;
	hc.body = c->body;
	hc.len = c->len;
	hc.headers = c->key != NULL ? hdr : NULL;
	hc.timeout = (double)services_timeout(s->all->conf, s->id) / 1000.0;
	hc.cb = on_answer;
	hc.arg = c;
	c->made++;
	s->st.requests++;
	if (httpc_request(s->http, &hc, &c->req) != HTTPC_OK) {
		c->req = NULL;
		return SERVICES_FAILED;
	}
	return 0;
}

/* The latency of one answered request, into the histogram. */
static void
observe(struct service *s, double elapsed)
{
	long long	ms = (long long)(elapsed * 1000.0 + 0.5);
	size_t		i;

	s->st.latency_sum += (uint64_t)ms;
	for (i = 0; i < STATS_LATENCY_BUCKETS; i++)
		if (ms <= bounds[i])
			break;
	s->st.latency[i]++;
}

/*
 * An answer, or its absence.  2xx is a success; 5xx, a timeout or any
 * failure on the wire is the service's failure (breaker, retry); a 4xx is
 * the caller's error: the service is up, and repeating it cannot help.
 */
static void
on_answer(const struct httpc_result *r, void *arg)
{
	struct call	*c = arg;
	struct service	*s = c->svc;
	struct services	*ss = s->all;
	int64_t		 now = now_ms(ss);
	uint32_t	 rnd = 0;
	int		 ok, down;
	long long	 ms;

	c->req = NULL;
	if (r->error == HTTPC_OK)
		observe(s, r->elapsed);
	ok = r->error == HTTPC_OK && r->status >= 200 && r->status < 300;
	down = !ok && (r->error != HTTPC_OK || r->status >= 500);
	breaker_record(&s->breaker, now, c->verdict, !down);
	if (ok) {
		finish(c, SERVICES_OK, r);
		return;
	}
	s->st.errors++;
	if (!down || !backoff_may_retry(&ss->retry, c->idempotent, c->made) ||
	    !backoff_budget_retry(&s->budget)) {
		finish(c, SERVICES_ERROR, r);
		return;
	}
	(void)randpool_get(&rnd, sizeof(rnd));
	ms = backoff_delay(&ss->retry, c->made - 1, rnd);
	s->st.retries++;
	ev_timer_set(&c->retry, (double)ms / 1000.0, 0.);
	ev_timer_start(ss->loop, &c->retry);
}

/* A retry's time: through the breaker again, then on the wire. */
static void
on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct call	*c = w->data;
	struct service	*s = c->svc;

	(void)loop;
	(void)revents;
	if ((c->verdict = breaker_allow(&s->breaker, now_ms(s->all))) ==
	    BREAKER_REJECT) {
		s->st.rejected++;
		finish(c, SERVICES_ERROR, NULL);
		return;
	}
	if (send_call(c) != 0) {
		breaker_record(&s->breaker, now_ms(s->all), c->verdict, 0);
		s->st.errors++;
		finish(c, SERVICES_ERROR, NULL);
	}
}

/* The call's end: its callback, once, then it is gone. */
static void
finish(struct call *c, int outcome, const struct httpc_result *r)
{
	services_cb	 cb = c->cb;
	void		*arg = c->arg;

	call_free(c);
	if (cb != NULL)
		cb(outcome, r, arg);
}

static void
call_free(struct call *c)
{
	struct service	*s = c->svc;

	if (c->req != NULL)
		httpc_cancel(c->req);
	ev_timer_stop(s->all->loop, &c->retry);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->calls = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	s->live--;
	free(c->path);
	free(c->body);
	free(c->key);
	free(c);
}

/* The figures of every service, for the worker's report (stats.h). */
void
services_stats(const struct services *ss, struct stats_service *out)
{
	const struct service	*s;
	int			 i;

	memset(out, 0, sizeof(*out) * STATS_SERVICES);
	if (ss == NULL)
		return;
	for (i = 0; i < STATS_SERVICES; i++) {
		if ((s = ss->svc[i]) == NULL)
			continue;
		out[i] = s->st;
		out[i].inflight = httpc_inflight(s->http);
		out[i].state = (uint64_t)breaker_state(&s->breaker);
	}
}
