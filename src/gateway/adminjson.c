/*
 * adminjson: the Admin UI's payloads and its basic authentication
 * (adminjson.h).  The shapes follow @socket.io/admin-ui 0.5.x's server
 * (dist/index.js): what it sends, field by field, read there, not copied.
 */
#include <crypt.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adminjson.h"

/*
 * The handshake as socket.io's socket.handshake has it, with what the
 * gateway keeps (adapter_req.c's fetchSockets answers it too): time as
 * JavaScript's Date.prototype.toString() in UTC, issued in ms.
 */
json_t *
adminjson_handshake(bool websocket, const char *address, int64_t issued,
    bool secure)
{
	const char	*kind = websocket ? "websocket" : "polling";
	char		 when[96], url[64];
	time_t		 t = (time_t)(issued / 1000);
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when),
	    "%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)", &tm);
	snprintf(url, sizeof(url), "/socket.io/?EIO=4&transport=%s", kind);
	return json_pack("{s:{},s:s,s:s,s:b,s:b,s:I,s:s,s:{s:s,s:s},s:{}}",
	    "headers", "time", when, "address", address, "xdomain", 0,
	    "secure", secure, "issued", (json_int_t)issued, "url", url,
	    "query", "EIO", "4", "transport", kind, "auth");
}

/*
 * One socket of namespace "/"; rooms (taken) are the rooms it joined,
 * its own id is put first.  NULL: out of memory.
 */
json_t *
adminjson_socket(const struct adminjson_sock *k, json_t *rooms)
{
	char	cid[ADMINJSON_CLIENT_ID + 1];

	if (rooms == NULL || json_array_insert_new(rooms, 0,
	    json_string(k->id)) != 0) {
		json_decref(rooms);
		return NULL;
	}
	snprintf(cid, sizeof(cid), "%s", k->eio_sid);
	return json_pack("{s:s,s:s,s:s,s:s,s:{s:s%},s:o,s:o}",
	    "id", k->id, "clientId", cid,
	    "transport", k->websocket ? "websocket" : "polling",
	    "nsp", "/", "data", "user_id", k->user, k->ulen,
	    "handshake", adminjson_handshake(k->websocket, k->address,
	    k->issued, k->secure), "rooms", rooms);
}

/*
 * server_stats, one per worker: the UI lists each serverId as a server,
 * as it does the workers of a Node cluster ("<host>#<pid>").  No
 * aggregatedEvents: config does not offer AGGREGATED_EVENTS.
 */
json_t *
adminjson_stats(const struct adminjson_stats *st)
{
	return json_pack("{s:s,s:s,s:I,s:f,s:I,s:I,s:[{s:s,s:I},{s:s,s:I}]}",
	    "serverId", st->server_id, "hostname", st->hostname,
	    "pid", (json_int_t)st->pid, "uptime", st->uptime,
	    "clientsCount", (json_int_t)st->clients,
	    "pollingClientsCount", (json_int_t)st->polling,
	    "namespaces", "name", "/", "socketsCount",
	    (json_int_t)st->sockets, "name", "/admin", "socketsCount",
	    (json_int_t)st->admins);
}

/*
 * config: the features answered.  Neither AGGREGATED_EVENTS nor
 * ALL_EVENTS: without the first the UI shows its socket and room pages
 * (its "development mode"), and without the second nobody asks for
 * every event of every socket, which a large gateway cannot afford.
 * Read-only offers no operation, as the reference does.
 */
json_t *
adminjson_config(bool read_only)
{
	if (read_only)
		return json_pack("{s:[]}", "supportedFeatures");
	return json_pack("{s:[s,s,s,s,s,s,s]}", "supportedFeatures", "EMIT",
	    "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT");
}

/*
 * The text of an EVENT to /admin, with the Engine.IO "4" before it:
 * 42/admin,[name,...args]; args (a JSON array) is taken.  The caller
 * frees the text; NULL: out of memory.
 */
char *
adminjson_packet(const char *name, json_t *args, size_t *len)
{
	static const char	 head[] = "42/admin,";
	char			*json, *out;
	size_t			 n;

	if (args == NULL || json_array_insert_new(args, 0,
	    json_string(name)) != 0) {
		json_decref(args);
		return NULL;
	}
	json = json_dumps(args, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(args);
	if (json == NULL)
		return NULL;
	n = strlen(json);
	if ((out = malloc(sizeof(head) - 1 + n + 1)) != NULL) {
		memcpy(out, head, sizeof(head) - 1);
		memcpy(out + sizeof(head) - 1, json, n + 1);
		*len = sizeof(head) - 1 + n;
	}
	free(json);
	return out;
}

/* bcrypt's base64 alphabet. */
#define B64	"./ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
		"abcdefghijklmnopqrstuvwxyz0123456789"

/* A bcrypt hash crypt_rn() takes: $2a$, $2b$ or $2y$, cost, 53 chars. */
bool
adminjson_hash_valid(const char *h)
{
	size_t	i;

	if (h == NULL || strlen(h) != 60 || h[0] != '$' || h[1] != '2' ||
	    (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') || h[3] != '$' ||
	    h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9' ||
	    h[6] != '$')
		return false;
	if ((h[4] - '0') * 10 + (h[5] - '0') < 4 ||
	    (h[4] - '0') * 10 + (h[5] - '0') > 31)
		return false;
	for (i = 7; i < 60; i++)
		if (strchr(B64, h[i]) == NULL)
			return false;
	return true;
}

/*
 * The UI's basic authentication, as the reference checks it: auth's
 * username equals user and its password matches the bcrypt hash.  0 or
 * -1.  bcrypt is slow on purpose (~100 ms at cost 10): the caller limits
 * how often this runs.
 */
int
adminjson_login(const char *user, const char *hash, json_t *auth)
{
	const char		*u, *p;
	struct crypt_data	*cd;
	const char		*out;
	unsigned char		 diff = 0;
	size_t			 i, n;
	int			 rc = -1;

	u = json_string_value(json_object_get(auth, "username"));
	p = json_string_value(json_object_get(auth, "password"));
	if (user == NULL || user[0] == '\0' || u == NULL || p == NULL ||
	    strcmp(u, user) != 0 || !adminjson_hash_valid(hash) ||
	    strlen(p) > 512 || strlen(p) != json_string_length(
	    json_object_get(auth, "password")))
		return -1;
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return -1;
	out = crypt_rn(p, hash, cd, (int)sizeof(*cd));
	if (out != NULL && (n = strlen(out)) == strlen(hash)) {
		for (i = 0; i < n; i++)
			diff |= (unsigned char)(out[i] ^ hash[i]);
		rc = diff == 0 ? 0 : -1;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return rc;
}

/* A name of 1..max bytes without NUL; NULL and 0 for a JSON null. */
static int
name_of(json_t *v, size_t max, bool nullable, const char **p, size_t *len)
{
	*p = NULL;
	*len = 0;
	if (v == NULL || json_is_null(v))
		return nullable ? 0 : -1;
	if (!json_is_string(v))
		return -1;
	*p = json_string_value(v);
	*len = json_string_length(v);
	if (*len == 0)			/* "" filters nothing: all, as in JS */
		*p = NULL;
	else if (*len > max || memchr(*p, '\0', *len) != NULL)
		return -1;
	return *p == NULL && !nullable ? -1 : 0;
}

/*
 * An event of the UI, [name, nsp, ...], as its ClientEvents have them:
 *	join, leave	(nsp, room, filter?)
 *	_disconnect	(nsp, close, filter?)
 *	emit		(nsp, filter, event, ...args)
 * nsp must be "/", the gateway's only namespace of clients.  0 and *op,
 * or -1: not one of them, or not of its shape.
 */
int
adminjson_op(json_t *ev, struct adminjson_op *op)
{
	const char	*name, *nsp;

	memset(op, 0, sizeof(*op));
	if (!json_is_array(ev) || json_array_size(ev) < 3 ||
	    (name = json_string_value(json_array_get(ev, 0))) == NULL ||
	    (nsp = json_string_value(json_array_get(ev, 1))) == NULL ||
	    strcmp(nsp, "/") != 0)
		return -1;
	if (strcmp(name, "join") == 0 || strcmp(name, "leave") == 0) {
		op->kind = name[0] == 'j' ? ADMINJSON_OP_JOIN :
		    ADMINJSON_OP_LEAVE;
		if (name_of(json_array_get(ev, 2), ADMINJSON_ROOM_MAX, false,
		    &op->room, &op->rlen) != 0)
			return -1;
		return name_of(json_array_get(ev, 3), ADMINJSON_ROOM_MAX, true,
		    &op->filter, &op->flen);
	}
	if (strcmp(name, "_disconnect") == 0) {
		op->kind = ADMINJSON_OP_DISCONNECT;
		if (!json_is_boolean(json_array_get(ev, 2)))
			return -1;
		op->close = json_is_true(json_array_get(ev, 2));
		return name_of(json_array_get(ev, 3), ADMINJSON_ROOM_MAX, true,
		    &op->filter, &op->flen);
	}
	if (strcmp(name, "emit") == 0) {
		size_t	elen;

		op->kind = ADMINJSON_OP_EMIT;
		op->first_arg = 4;
		if (name_of(json_array_get(ev, 2), ADMINJSON_ROOM_MAX, true,
		    &op->filter, &op->flen) != 0)
			return -1;
		return name_of(json_array_get(ev, 3), ADMINJSON_EVENT_MAX,
		    false, &op->event, &elen);
	}
	return -1;
}

/* The MAC of a session's expiry (its 16 hex digits), as 32 hex digits. */
static int
session_mac(const char *hash, const char *exp, char *out)
{
	unsigned char	mac[EVP_MAX_MD_SIZE];
	unsigned int	n = 0, i;

	if (HMAC(EVP_sha256(), hash, (int)strlen(hash),
	    (const unsigned char *)exp, 16, mac, &n) == NULL || n < 16)
		return -1;
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
	return 0;
}

/* A sessionId for a password login at now (unix s) into out. */
int
adminjson_session_make(const char *hash, int64_t now, char *out, size_t len)
{
	if (len < ADMINJSON_SESSION_LEN + 1 || !adminjson_hash_valid(hash))
		return -1;
	snprintf(out, len, "%016" PRIx64,
	    (uint64_t)(now + ADMINJSON_SESSION_TTL));
	return session_mac(hash, out, out + 16);
}

/* 0: id is a sessionId made with hash, not expired at now; else -1. */
int
adminjson_session_check(const char *hash, const char *id, int64_t now)
{
	char		 mine[33];
	uint64_t	 exp = 0;
	size_t		 i;

	if (id == NULL || strlen(id) != ADMINJSON_SESSION_LEN ||
	    !adminjson_hash_valid(hash))
		return -1;
	for (i = 0; i < 16; i++) {
		if (strchr("0123456789abcdef", id[i]) == NULL || id[i] == '\0')
			return -1;
		exp = exp * 16 + (uint64_t)(id[i] <= '9' ? id[i] - '0' :
		    id[i] - 'a' + 10);
	}
	if ((int64_t)exp < now || session_mac(hash, id, mine) != 0)
		return -1;
	return CRYPTO_memcmp(mine, id + 16, 32) == 0 ? 0 : -1;
}
