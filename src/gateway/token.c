/*
 * token: the token of a live connection.  Checking one costs a signature
 * verification, so a connection gets auth_attempts of them a minute
 * (token_attempt: the CONNECT's and refresh_token's); the token's expiry
 * holds on a live connection too (on_expiry), and refresh_token brings a
 * fresh one (token_refresh).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "events.h"
#include "gateway.h"
#include "grouplist.h"
#include "isotime.h"
#include "session.h"
#include "socketio.h"
#include "transport.h"

#define EXPIRY_NOTICE	60	/* seconds: token_expiring before exp */

static void	on_expiry(struct ev_loop *, ev_timer *, int);

/* The expiry check, once a second. */
void
token_init(struct gateway *g)
{
	ev_timer_init(&g->expiry, on_expiry, 1.0, 1.0);
	g->expiry.data = g;
	ev_timer_start(g->t->loop, &g->expiry);
}

/*
 * A token check costs a signature verification, and RS and ES ones are
 * expensive: one connection may ask for auth_attempts of them (CONNECT
 * and refresh_token together) in a minute.  Past that the attempt is
 * refused unchecked (the connect deadline still closes a socket that
 * never connects).
 */
int
token_attempt(struct gateway *g, struct session *s, const char **why)
{
	uint32_t	now = (uint32_t)ev_now(g->t->loop);

	if (now - s->auth_since >= 60) {
		s->auth_since = now;
		s->auth_tries = 0;
	}
	if (s->auth_tries >= g->conf->auth_attempts) {
		g->auth_refused++;
		*why = "Too many authentication attempts";
		return -1;
	}
	s->auth_tries++;
	return 0;
}

/*
 * When gs's token needs a look: its notice, then its exp (the leeway,
 * reloadable, left out: a look too early is only a look).  INT64_MAX:
 * never (no exp).
 */
static int64_t
due(const struct gw_socket *gs)
{
	if (gs->exp == 0)
		return INT64_MAX;
	if (gs->warned)
		return gs->exp;
	return gs->exp < INT64_MIN + EXPIRY_NOTICE ? INT64_MIN :
	    gs->exp - EXPIRY_NOTICE;
}

/*
 * gs has a new token (its CONNECT's or a refresh): the walk comes by
 * then (issue 16: the walk is O(N), so it runs only when the earliest
 * socket's time has come, not every second).
 */
void
token_track(struct gateway *g, const struct gw_socket *gs)
{
	int64_t	 d = due(gs);

	if (d < g->expiry_next)
		g->expiry_next = d;
}

/*
 * A token's expiry holds on a live connection too.  Once a second: a
 * socket whose token runs out within EXPIRY_NOTICE seconds hears
 * `token_expiring` {expires_at, expires_in} and may answer with
 * `refresh_token` {token}; past exp (and jwt_leeway) it is disconnected.
 */
static void
on_expiry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct gateway		*g = w->data;
	struct session		*s, *next;
	struct gw_socket	*gs;
	int64_t			 now = (int64_t)time(NULL);
	int64_t			 leeway = g->conf->auth.leeway / 1000;
	int64_t			 first = INT64_MAX;
	char			 at[32];
	json_t			*o;

	(void)loop;
	(void)revents;
	if (now < g->expiry_next)
		return;
	for (s = g->t->all; s != NULL; s = next) {
		next = s->next;
		if ((gs = s->app_data) == NULL || gs->exp == 0)
			continue;
		/* exp is the token's, up to INT64_MAX: no sum with it. */
		if (now - leeway > gs->exp) {
			first = INT64_MIN;	/* a look while it stays */
			o = json_pack("{s:s,s:s,s:s}", "code", "token_expired",
			    "message", "the authentication token expired",
			    "event", "");
			emit_to(g, s, "error", o);
			json_decref(o);
			/*
			 * Leave the session open for the client to hear
			 * why (a polling client reads it at its next poll);
			 * the connect deadline closes it if it stays.
			 */
			socketio_disconnect(s, 0);
			session_connect_within(s, 5.0);
		} else if (!gs->warned && now >= gs->exp - EXPIRY_NOTICE) {
			gs->warned = 1;
			if (due(gs) < first)
				first = due(gs);
			isotime_format(gs->exp * 1000, at);
			o = json_pack("{s:s,s:I}", "expires_at", at,
			    "expires_in", (json_int_t)(gs->exp - now));
			emit_to(g, s, "token_expiring", o);
			json_decref(o);
		} else if (due(gs) < first)
			first = due(gs);
	}
	g->expiry_next = first;
}

/*
 * refresh_token {token}: a fresh token for the same user, verified here.
 * -2: not checked, past auth_attempts.  With the auth service (auth_mode
 * service or both) the new token must be one it has already answered for
 * (its cache): a refresh does not wait for a call; a client whose token
 * is not known reconnects with it.
 */
int
token_refresh(struct gateway *g, struct gw_socket *gs, json_t *arg,
    const char **why)
{
	struct auth_result	r;
	const char		*token;

	if (token_attempt(g, gs->s, why) != 0)
		return -2;
	token = json_string_value(json_object_get(arg, "token"));
	if (g->conf->auth_mode != GW_AUTH_SERVICE &&
	    auth_verify(g->auth, token, time(NULL), &r, why) != 0)
		return -1;
	*why = NULL;
	if (g->conf->auth_mode != GW_AUTH_LOCAL &&
	    authsvc_cached(g, token, &r, why) != 1) {
		if (*why == NULL || token == NULL)
			*why = "refresh_token needs a token the auth service "
			    "has verified: reconnect with the new token";
		return -1;
	}
	if (strcmp(r.user, gs->user) != 0) {
		grouplist_free(r.groups);
		*why = "the new token names another user";
		return -1;
	}
	gs->exp = (int64_t)r.exp;
	gs->warned = 0;
	token_track(g, gs);
	membership_token(g, gs, &r);	/* the new token's groups */
	return 0;
}
