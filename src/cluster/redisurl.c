/*
 * The Redis URL (see redisurl.h).  Strict: whatever is not one of the
 * forms is refused with the part named, so that a typo in redis_url shows
 * at `socket-gatewayd -t`, not as a connection that never comes up.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "redisurl.h"

#define TLS_WHY	"rediss:// (TLS) needs hiredis >= 1.0 and Debian 12 has " \
	"0.14.1: use a unix:// socket, or a TLS tunnel such as stunnel to " \
	"a redis:// address on the loopback"

static int	 fail(char *, size_t, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static int	 unhex(int);
static int	 decode(const char *, size_t, char *, size_t, const char *,
		    char *, size_t);
static int	 number(const char *, size_t, long, long, long *);
static int	 parse_host(const char *, size_t, struct redisurl *, char *,
		    size_t);
static int	 parse_tcp(const char *, struct redisurl *, char *, size_t);
static int	 parse_query(const char *, struct redisurl *, char *, size_t);
static int	 parse_unix(const char *, struct redisurl *, char *, size_t);

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
unhex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %XX-decode s[0..len) into out; what is wrong is said, never the text. */
static int
decode(const char *s, size_t len, char *out, size_t outlen, const char *what,
    char *err, size_t errlen)
{
	size_t	i, o = 0;
	int	c, h, l;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= len)
				return fail(err, errlen, "%s: a '%%' without "
				    "two hex digits", what);
			h = unhex((unsigned char)s[i + 1]);
			l = unhex((unsigned char)s[i + 2]);
			if (h < 0 || l < 0)
				return fail(err, errlen, "%s: a '%%' without "
				    "two hex digits", what);
			c = h * 16 + l;
			i += 2;
			if (c < ' ' || c == 0x7f)
				return fail(err, errlen, "%s: an escaped "
				    "control character (%%00 to %%1F, %%7F)",
				    what);
		} else if (c <= ' ' || c == 0x7f)
			return fail(err, errlen, "%s: a space or control "
			    "character (escape it as %%XX)", what);
		if (o + 1 >= outlen)
			return fail(err, errlen, "%s: longer than %zu bytes",
			    what, outlen - 1);
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* Decimal digits only, no sign, within min..max. */
static int
number(const char *s, size_t len, long min, long max, long *v)
{
	size_t	i;
	long	n = 0;

	if (len == 0 || len > 10)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	if (n < min || n > max)
		return -1;
	*v = n;
	return 0;
}

/* host or [ipv6], then an optional :port; s[0..len) is the whole of it. */
static int
parse_host(const char *s, size_t len, struct redisurl *u, char *err,
    size_t errlen)
{
	const char	*end, *port = NULL;
	size_t		 hlen, i, colons = 0;
	long		 v;

	if (len > 0 && s[0] == '[') {
		if ((end = memchr(s, ']', len)) == NULL)
			return fail(err, errlen, "host: '[' without ']'");
		hlen = (size_t)(end - s) - 1;
		for (i = 1; i <= hlen; i++) {
			if (s[i] == ':')
				colons++;
			else if (unhex((unsigned char)s[i]) < 0 && s[i] != '.')
				return fail(err, errlen, "host: '[...]' is not "
				    "an IPv6 address");
		}
		if (colons < 2 || hlen > REDISURL_HOST_MAX)
			return fail(err, errlen, "host: '[...]' is not an "
			    "IPv6 address");
		memcpy(u->host, s + 1, hlen);
		u->host[hlen] = '\0';
		end++;
		if (end < s + len) {
			if (*end != ':')
				return fail(err, errlen, "host: something "
				    "other than ':port' after ']'");
			port = end + 1;
		}
	} else {
		end = memchr(s, ':', len);
		hlen = end != NULL ? (size_t)(end - s) : len;
		if (end != NULL)
			port = end + 1;
		if (hlen == 0)
			return fail(err, errlen, "host: missing");
		if (hlen > REDISURL_HOST_MAX)
			return fail(err, errlen, "host: longer than %d bytes",
			    REDISURL_HOST_MAX);
		for (i = 0; i < hlen; i++)
			if (!((s[i] >= 'a' && s[i] <= 'z') ||
			    (s[i] >= 'A' && s[i] <= 'Z') ||
			    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
			    s[i] == '-' || s[i] == '_'))
				return fail(err, errlen, "host: not a host "
				    "name or address (letters, digits, '.', "
				    "'-', '_'; an IPv6 address goes in [...])");
		memcpy(u->host, s, hlen);
		u->host[hlen] = '\0';
	}
	if (u->host[0] == '\0')
		return fail(err, errlen, "host: missing");
	u->port = REDISURL_PORT;
	if (port != NULL) {
		if (number(port, (size_t)(s + len - port), 1, 65535, &v) != 0)
			return fail(err, errlen, "port: not a number in "
			    "1..65535");
		u->port = (unsigned)v;
	}
	return 0;
}

/* After "redis://". */
static int
parse_tcp(const char *s, struct redisurl *u, char *err, size_t errlen)
{
	const char	*slash, *at, *colon, *p;
	size_t		 alen;
	long		 v;

	if ((p = strpbrk(s, "?#")) != NULL)
		return fail(err, errlen, "'%c': a redis:// URL takes no query "
		    "or fragment (the database goes in /db)", *p);
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	at = NULL;
	for (p = s; p < s + alen; p++)
		if (*p == '@')
			at = p;
	if (at != NULL) {
		if ((colon = memchr(s, ':', (size_t)(at - s))) == NULL)
			return fail(err, errlen, "user and password: no ':' "
			    "(write redis://:password@host for a password "
			    "alone)");
		if (decode(s, (size_t)(colon - s), u->user, sizeof(u->user),
		    "user", err, errlen) != 0 || decode(colon + 1,
		    (size_t)(at - colon - 1), u->password,
		    sizeof(u->password), "password", err, errlen) != 0)
			return -1;
		if (u->password[0] == '\0')
			return fail(err, errlen, "password: empty after ':'");
		u->has_password = true;
		alen -= (size_t)(at + 1 - s);
		s = at + 1;
	}
	if (parse_host(s, alen, u, err, errlen) != 0)
		return -1;
	if (slash != NULL && slash[1] != '\0') {
		if (number(slash + 1, strlen(slash + 1), 0, INT_MAX, &v) != 0)
			return fail(err, errlen, "db: not a database number "
			    "after '/'");
		u->db = (int)v;
	}
	return 0;
}

/* db=N, user=U, password=P, joined by '&'. */
static int
parse_query(const char *q, struct redisurl *u, char *err, size_t errlen)
{
	const char	*amp, *eq;
	size_t		 len;
	long		 v;

	for (; *q != '\0'; q = amp != NULL ? amp + 1 : q + len) {
		amp = strchr(q, '&');
		len = amp != NULL ? (size_t)(amp - q) : strlen(q);
		if ((eq = memchr(q, '=', len)) == NULL)
			return fail(err, errlen, "query: a parameter without "
			    "'=' (db=N, user=U, password=P)");
		if (eq - q == 2 && strncmp(q, "db", 2) == 0) {
			if (number(eq + 1, (size_t)(q + len - eq - 1), 0,
			    INT_MAX, &v) != 0)
				return fail(err, errlen, "db: not a database "
				    "number after 'db='");
			u->db = (int)v;
		} else if (eq - q == 4 && strncmp(q, "user", 4) == 0) {
			if (decode(eq + 1, (size_t)(q + len - eq - 1), u->user,
			    sizeof(u->user), "user", err, errlen) != 0)
				return -1;
		} else if (eq - q == 8 && strncmp(q, "password", 8) == 0) {
			if (decode(eq + 1, (size_t)(q + len - eq - 1),
			    u->password, sizeof(u->password), "password", err,
			    errlen) != 0)
				return -1;
			if (u->password[0] == '\0')
				return fail(err, errlen, "password: empty");
			u->has_password = true;
		} else
			return fail(err, errlen, "query: a parameter other "
			    "than db, user or password");
	}
	if (u->user[0] != '\0' && !u->has_password)
		return fail(err, errlen, "user: given without a password");
	return 0;
}

/* After "unix://". */
static int
parse_unix(const char *s, struct redisurl *u, char *err, size_t errlen)
{
	const char	*q;
	size_t		 plen, i;

	if (s[0] != '/')
		return fail(err, errlen, "path: unix:// takes an absolute "
		    "path and no host (unix:///path/to/sock)");
	q = strchr(s, '?');
	plen = q != NULL ? (size_t)(q - s) : strlen(s);
	if (plen > REDISURL_PATH_MAX)
		return fail(err, errlen, "path: longer than %d bytes",
		    REDISURL_PATH_MAX);
	for (i = 0; i < plen; i++)
		if ((unsigned char)s[i] < ' ' || s[i] == 0x7f || s[i] == '#')
			return fail(err, errlen, "path: a control character "
			    "or '#'");
	memcpy(u->path, s, plen);
	u->path[plen] = '\0';
	u->unix_path = true;
	return q != NULL ? parse_query(q + 1, u, err, errlen) : 0;
}

/*
 * Parse url into u; 0, or -1 with a message in err (at most errlen bytes,
 * NUL-terminated) that names the wrong part and holds no credential.
 */
int
redisurl_parse(const char *url, struct redisurl *u, char *err, size_t errlen)
{
	const char	*sep;

	memset(u, 0, sizeof(*u));
	u->port = REDISURL_PORT;
	if (strncmp(url, "redis://", 8) == 0)
		return parse_tcp(url + 8, u, err, errlen);
	if (strncmp(url, "unix://", 7) == 0)
		return parse_unix(url + 7, u, err, errlen);
	if (strncmp(url, "rediss://", 9) == 0)
		return fail(err, errlen, "%s", TLS_WHY);
	if ((sep = strstr(url, "://")) != NULL && sep - url <= 16 &&
	    strcspn(url, ":@/") == (size_t)(sep - url))
		return fail(err, errlen, "scheme: '%.*s' is not redis:// or "
		    "unix://", (int)(sep - url), url);
	return fail(err, errlen, "scheme: not a redis:// or unix:// URL");
}

/* The address for a log line: host:port/db, [v6]:port/db or path/db. */
void
redisurl_print(const struct redisurl *u, char *out, size_t outlen)
{
	if (outlen == 0)
		return;
	if (u->unix_path)
		snprintf(out, outlen, "unix:%s/%d", u->path, u->db);
	else if (strchr(u->host, ':') != NULL)
		snprintf(out, outlen, "[%s]:%u/%d", u->host, u->port, u->db);
	else
		snprintf(out, outlen, "%s:%u/%d", u->host, u->port, u->db);
}
