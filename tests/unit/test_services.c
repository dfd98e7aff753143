/*
 * test_services.c: a worker's downstream services (services.c) on a real
 * libev loop, without a server: a port nobody listens on refuses every
 * connection (a failure), and a socket that listens but never accepts
 * holds every request (a hung service).
 *	- a service without a URL: SERVICES_OFF, nothing else;
 *	- failures open the breaker after breaker_threshold in a row, then
 *	  calls are rejected unsent, and the counters say so;
 *	- an idempotent call is retried, a plain one is not;
 *	- past max_inflight calls are shed; services_free() ends the live
 *	  ones without their callbacks (run under ASan too).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ev.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backoff.h"
#include "breaker.h"
#include "services.h"

struct fix {
	struct ev_loop		*loop;
	struct services_conf	 sc;
	struct breaker_conf	 bc;
	struct backoff_conf	 rc;
	char			 url[64];
	int			 fd;		/* a listener, or -1 */
	int			 done;
	int			 outcome;
};

/* A port on 127.0.0.1, listening (a hung service) or not (refused). */
static int
port_any(int do_listen, int *fdp)
{
	struct sockaddr_in	sa;
	socklen_t		len = sizeof(sa);
	int			fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	if (do_listen) {
		assert_int_equal(listen(fd, 64), 0);
		*fdp = fd;
	} else {
		close(fd);	/* bound, never listened: refused */
		*fdp = -1;
	}
	return port;
}

static struct fix *
fix_new(int id, int do_listen)
{
	struct fix	*f;
	int		 port;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	port = port_any(do_listen, &f->fd);
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", port);
	f->sc.url[id] = f->url;
	f->sc.token = "";
	f->sc.timeout = 5000;
	f->sc.max_inflight = 4;
	breaker_defaults(&f->bc);
	f->bc.consecutive = 3;
	backoff_defaults(&f->rc);
	f->rc.base = 1;
	f->rc.cap = 5;
	f->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(f->loop);
	return f;
}

static void
fix_free(struct fix *f)
{
	if (f->fd >= 0)
		close(f->fd);
	ev_loop_destroy(f->loop);
	free(f);
}

static void
on_done(int outcome, const struct httpc_result *r, void *arg)
{
	struct fix	*f = arg;

	(void)r;
	f->done++;
	f->outcome = outcome;
}

static void
on_guard(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Run the loop until f->done reaches want or secs pass. */
static void
run_until(struct fix *f, int want, double secs)
{
	ev_timer	guard;
	double		end = ev_time() + secs;

	ev_timer_init(&guard, on_guard, secs, 0.);
	ev_timer_start(f->loop, &guard);
	while (f->done < want && ev_time() < end)
		ev_run(f->loop, EVRUN_ONCE);
	ev_timer_stop(f->loop, &guard);
}

static int
post(struct services *ss, int id, struct fix *f, bool idempotent)
{
	struct services_call	c;

	memset(&c, 0, sizeof(c));
	c.method = HTTPC_POST;
	c.path = "/x";
	c.body = "{}";
	c.len = 2;
	c.idempotent = idempotent;
	c.key = idempotent ? "k-1" : NULL;
	c.cb = on_done;
	c.arg = f;
	return services_call(ss, id, &c);
}

static void
stats(struct services *ss, int id, struct stats_service *out)
{
	struct stats_service	all[STATS_SERVICES];

	services_stats(ss, all);
	*out = all[id];
}

static void
test_unconfigured(void **state)
{
	struct fix		*f = fix_new(STATS_SVC_AI, 0);
	struct services		*ss;
	struct stats_service	 st;

	(void)state;
	ss = services_new(f->loop, &f->sc, &f->bc, &f->rc);
	assert_non_null(ss);
	assert_false(services_configured(ss, STATS_SVC_CHAT));
	assert_true(services_configured(ss, STATS_SVC_AI));
	assert_int_equal(post(ss, STATS_SVC_CHAT, f, false), SERVICES_OFF);
	stats(ss, STATS_SVC_CHAT, &st);
	assert_int_equal(st.configured, 0);
	assert_int_equal(st.requests, 0);
	assert_string_equal(services_path(ss, STATS_SVC_AI), "/");
	services_free(ss);
	fix_free(f);
}

static void
test_breaker_opens(void **state)
{
	struct fix		*f = fix_new(STATS_SVC_AI, 0);
	struct services		*ss;
	struct stats_service	 st;
	int			 i;

	(void)state;
	ss = services_new(f->loop, &f->sc, &f->bc, &f->rc);
	for (i = 0; i < 3; i++) {
		assert_int_equal(post(ss, STATS_SVC_AI, f, false),
		    SERVICES_SENT);
		run_until(f, i + 1, 5.);
		assert_int_equal(f->done, i + 1);
		assert_int_equal(f->outcome, SERVICES_ERROR);
	}
	stats(ss, STATS_SVC_AI, &st);
	assert_int_equal(st.requests, 3);
	assert_int_equal(st.errors, 3);
	assert_int_equal(st.retries, 0);	/* not idempotent */
	assert_int_equal(st.state, 1);
	assert_int_equal(post(ss, STATS_SVC_AI, f, false), SERVICES_REJECTED);
	stats(ss, STATS_SVC_AI, &st);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.requests, 3);
	services_free(ss);
	fix_free(f);
}

static void
test_retries(void **state)
{
	struct fix		*f = fix_new(STATS_SVC_PRESENCE, 0);
	struct services		*ss;
	struct stats_service	 st;

	(void)state;
	f->bc.consecutive = 100;
	ss = services_new(f->loop, &f->sc, &f->bc, &f->rc);
	assert_int_equal(post(ss, STATS_SVC_PRESENCE, f, true),
	    SERVICES_SENT);
	run_until(f, 1, 10.);
	assert_int_equal(f->done, 1);
	assert_int_equal(f->outcome, SERVICES_ERROR);
	stats(ss, STATS_SVC_PRESENCE, &st);
	assert_int_equal(st.requests, 3);	/* the default 3 tries */
	assert_int_equal(st.retries, 2);
	assert_int_equal(st.errors, 3);
	assert_int_equal(st.state, 0);
	services_free(ss);
	fix_free(f);
}

static void
test_shed_and_free(void **state)
{
	struct fix		*f = fix_new(STATS_SVC_AI, 1);
	struct services		*ss;
	struct stats_service	 st;
	int			 i;

	(void)state;
	ss = services_new(f->loop, &f->sc, &f->bc, &f->rc);
	for (i = 0; i < 4; i++)
		assert_int_equal(post(ss, STATS_SVC_AI, f, true),
		    SERVICES_SENT);
	for (i = 0; i < 3; i++)
		assert_int_equal(post(ss, STATS_SVC_AI, f, false),
		    SERVICES_SHED);
	run_until(f, 1, 0.3);
	assert_int_equal(f->done, 0);		/* held, unanswered */
	stats(ss, STATS_SVC_AI, &st);
	assert_int_equal(st.shed, 3);
	assert_int_equal(st.requests, 4);
	assert_int_equal(st.inflight, 4);
	services_free(ss);			/* no callback runs */
	assert_int_equal(f->done, 0);
	fix_free(f);
}

/*
 * A service's own limit and timeout (issue 13): the AI engine is shed
 * past its own 2 while presence, on the shared 4, is not; its calls to a
 * listener that never answers end at its own 200 ms, the shared 5 s
 * being far past the guard.
 */
static void
test_own_settings(void **state)
{
	struct fix		*f = fix_new(STATS_SVC_AI, 1);
	struct services		*ss;
	struct stats_service	 st;
	int			 i;

	(void)state;
	f->sc.url[STATS_SVC_PRESENCE] = f->url;
	f->sc.svc_max_inflight[STATS_SVC_AI] = 2;
	f->sc.svc_timeout[STATS_SVC_AI] = 200;
	assert_int_equal(services_timeout(&f->sc, STATS_SVC_AI), 200);
	assert_int_equal(services_timeout(&f->sc, STATS_SVC_CHAT), 5000);
	assert_int_equal(services_max_inflight(&f->sc, STATS_SVC_AI), 2);
	assert_int_equal(services_max_inflight(&f->sc, STATS_SVC_PRESENCE), 4);
	ss = services_new(f->loop, &f->sc, &f->bc, &f->rc);
	for (i = 0; i < 2; i++)
		assert_int_equal(post(ss, STATS_SVC_AI, f, false),
		    SERVICES_SENT);
	assert_int_equal(post(ss, STATS_SVC_AI, f, false), SERVICES_SHED);
	for (i = 0; i < 4; i++)
		assert_int_equal(post(ss, STATS_SVC_PRESENCE, f, false),
		    SERVICES_SENT);
	assert_int_equal(post(ss, STATS_SVC_PRESENCE, f, false),
	    SERVICES_SHED);
	run_until(f, 2, 3.);
	assert_int_equal(f->done, 2);		/* the AI calls, timed out */
	assert_int_equal(f->outcome, SERVICES_ERROR);
	stats(ss, STATS_SVC_AI, &st);
	assert_int_equal(st.errors, 2);
	assert_int_equal(st.shed, 1);
	stats(ss, STATS_SVC_PRESENCE, &st);
	assert_int_equal(st.errors, 0);		/* still waiting */
	assert_int_equal(st.inflight, 4);
	services_free(ss);
	fix_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unconfigured),
		cmocka_unit_test(test_breaker_opens),
		cmocka_unit_test(test_retries),
		cmocka_unit_test(test_shed_and_free),
		cmocka_unit_test(test_own_settings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
