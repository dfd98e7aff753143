/*
 * Each downstream service's own settings (issue 13): the value a service
 * ends with, its own key's or the shared one's, and the checks of `-t` on
 * them.  A service's own key left at 0 or "" takes the shared key's value
 * (service_timeout, service_max_inflight).  Credentials go as a whole: a
 * service with its own token or header gets those and neither of the
 * shared ones (service_token, service_header), so that a service with its
 * own scheme never sees the others' secret.
 *
 * No message here quotes a token or a header: they are secrets
 * (CONF_F_SENSITIVE), and a mistyped one still is.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf.h"

/* The prefix of each service's keys, as its _url key's. */
const char *const conf_svc_names[CONF_SERVICES + 1] = {
	"auth_service", "chat_service", "presence_engine", "ai_engine",
	"quantum_room_engine", NULL
};

/* The headers the HTTP client (httpc.c) or the calls set themselves. */
static const char *const owned[] = {
	"Host", "Content-Length", "Transfer-Encoding", "Connection",
	"Content-Type", "Expect", "Idempotency-Key", NULL
};

#define SVC_TIMEOUT_MIN	100	/* ms, as service_timeout's minimum */

static void
say(conf_err_fn err, void *arg, const char *fmt, ...)
	__attribute__((__format__ (printf, 3, 4)));

static void
say(conf_err_fn err, void *arg, const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	err(arg, buf);
}

/* RFC 9110 5.6.2: a header name is one or more tchar. */
static bool
tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') ||
	    (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static bool
ctl(char ch)
{
	return (unsigned char)ch < 0x20 || ch == 0x7f;
}

/*
 * Why a "Name: value" line cannot be sent as a header, or NULL when it
 * can.  A line break would let the value add headers of its own; an empty
 * value would make libcurl remove the header instead of sending it.
 */
const char *
conf_header_check(const char *line)
{
	const char	*p, *v;
	size_t		 n, i;

	if ((p = strchr(line, ':')) == NULL)
		return "is not \"Name: value\": it has no colon";
	if ((n = (size_t)(p - line)) == 0)
		return "is not \"Name: value\": no name before the colon";
	for (i = 0; i < n; i++)
		if (!tchar(line[i]))
			return "is not \"Name: value\": a header name is "
			    "letters, digits and !#$%&'*+-.^_`|~ only";
	for (v = p + 1; *v != '\0'; v++)
		if (*v == '\r' || *v == '\n')
			return "has a line break (CR or LF) in its value";
		else if (ctl(*v) && *v != '\t')
			return "has a control character in its value";
	for (v = p + 1; *v == ' ' || *v == '\t'; v++)
		continue;
	if (*v == '\0')
		return "has an empty value";
	for (i = 0; owned[i] != NULL; i++)
		if (strlen(owned[i]) == n &&
		    strncasecmp(line, owned[i], n) == 0)
			return "names a header the gateway sets itself (Host, "
			    "Content-Length, Transfer-Encoding, Connection, "
			    "Content-Type, Expect, Idempotency-Key)";
	return NULL;
}

/* A bearer token is one word (RFC 6750 2.1): no space, no control. */
static const char *
token_check(const char *t)
{
	for (; *t != '\0'; t++)
		if (*t == ' ' || ctl(*t))
			return "has a space or a control character; a bearer "
			    "token is one word";
	return NULL;
}

/* The token and header service i sends; "" for none. */
void
conf_svc_auth(const struct conf *c, int i, const char **token,
    const char **header)
{
	if (c->svc_token[i][0] != '\0' || c->svc_header[i][0] != '\0') {
		*token = c->svc_token[i];
		*header = c->svc_header[i];
	} else {
		*token = c->service_token;
		*header = c->service_header;
	}
}

long long
conf_svc_timeout(const struct conf *c, int i)
{
	return c->svc_timeout[i] != 0 ? c->svc_timeout[i] : c->service_timeout;
}

long long
conf_svc_max_inflight(const struct conf *c, int i)
{
	return c->svc_max_inflight[i] != 0 ? c->svc_max_inflight[i] :
	    c->service_max_inflight;
}

/* One key holding a token or a header, if set. */
static int
check_one(const char *key, const char *v, bool header, conf_err_fn err,
    void *arg)
{
	const char	*why;

	if (*v == '\0')
		return 0;
	if ((why = header ? conf_header_check(v) : token_check(v)) == NULL)
		return 0;
	say(err, arg, "%s %s", key, why);
	return 1;
}

/*
 * Service i's own keys, and what it ends with: a timeout too short to be
 * one, or two Authorization headers (its token's and its header's).
 */
static int
check_service(const struct conf *c, int i, conf_err_fn err, void *arg)
{
	const char	*name = conf_svc_names[i], *tok, *hdr;
	char		 key[64];
	int		 errors = 0;

	snprintf(key, sizeof(key), "%s_token", name);
	errors += check_one(key, c->svc_token[i], false, err, arg);
	snprintf(key, sizeof(key), "%s_header", name);
	errors += check_one(key, c->svc_header[i], true, err, arg);
	if (c->svc_timeout[i] != 0 && c->svc_timeout[i] < SVC_TIMEOUT_MIN) {
		say(err, arg, "%s_timeout (%lldms) must be 0 (service_timeout) "
		    "or at least %dms", name, c->svc_timeout[i],
		    SVC_TIMEOUT_MIN);
		errors++;
	}
	conf_svc_auth(c, i, &tok, &hdr);
	if (errors == 0 && *tok != '\0' &&
	    strncasecmp(hdr, "Authorization:", 14) == 0) {
		say(err, arg, "%s would get two Authorization headers: a token "
		    "(%s_token or service_token) and a header (%s_header or "
		    "service_header); set one", name, name, name);
		errors++;
	}
	return errors;
}

/* The per-service keys and the shared token and header; the errors. */
int
conf_check_svc(const struct conf *c, conf_err_fn err, void *arg)
{
	int	i, errors = 0;

	errors += check_one("service_token", c->service_token, false, err,
	    arg);
	errors += check_one("service_header", c->service_header, true, err,
	    arg);
	for (i = 0; i < CONF_SERVICES; i++)
		errors += check_service(c, i, err, arg);
	return errors;
}
