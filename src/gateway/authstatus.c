/*
 * authstatus: the users' online/offline status, told to the auth service
 * (issue 13): PUT auth_status_path ({user} replaced by the URL-escaped id)
 * {user_id, status, last_seen} with an Idempotency-Key, retried, once per
 * gateway-wide transition.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "isotime.h"
#include "presence.h"
#include "services.h"
#include "stats.h"
#include "transport.h"
#include "urlesc.h"

/*
 * A user's first socket anywhere (online 1) or last socket anywhere (0):
 * online.c calls this on one worker per transition (online_owner()).
 * PUT auth_status_path, the user in its {user}, retried under the key
 * "status-<online|offline>-<ms>-<user>".
 */
void
authstatus_tell(struct gateway *g, const char *user, int online)
{
	struct services_call	 sc;
	char			 at[32], key[256], path[1024], *body;
	char			 esc[URLESC_SIZE(PRESENCE_USER_MAX) + 1];
	const char		*tpl = g->conf->auth_status_path, *hole;
	int64_t			 ms;
	json_t			*o;
	int			 n;

	if (!services_configured(g->services, STATS_SVC_AUTH))
		return;
	ms = isotime_now_ms();
	isotime_format(ms, at);
	if (urlesc_segment(user, strlen(user), esc, sizeof(esc)) < 0)
		return;
	if ((hole = strstr(tpl, "{user}")) != NULL)
		n = snprintf(path, sizeof(path), "%.*s%s%s", (int)(hole - tpl),
		    tpl, esc, hole + 6);
	else
		n = snprintf(path, sizeof(path), "%s", tpl);
	if (n < 0 || (size_t)n >= sizeof(path))
		return;
	snprintf(key, sizeof(key), "status-%s-%lld-%s", online ? "online" :
	    "offline", (long long)ms, user);
	o = json_pack("{s:s, s:s, s:s}", "user_id", user, "status",
	    online ? "online" : "offline", "last_seen", at);
	body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (body == NULL)
		return;
	memset(&sc, 0, sizeof(sc));
	sc.method = HTTPC_PUT;
	sc.path = path;
	sc.body = body;
	sc.len = strlen(body);
	sc.idempotent = true;
	sc.key = key;
	(void)services_call(g->services, STATS_SVC_AUTH, &sc);
	free(body);
}
