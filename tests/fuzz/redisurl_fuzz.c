/*
 * libFuzzer harness for redisurl.c.  The input, NUL-terminated at its
 * first NUL byte, is parsed with a full and with a tiny error buffer.
 * Checked, beyond memory safety:
 *  - both parses agree, and an error message is always NUL-terminated;
 *  - an accepted URL has a port in 1..65535, a db >= 0, a user only with
 *    a password, and no control character in a decoded field;
 *  - an accepted URL written back (credentials %XX-escaped) parses to the
 *    same address and credentials;
 *  - the printed address is exactly host:port/db ([v6]:port/db) or
 *    unix:path/db: no credential.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redisurl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
escape(char *out, size_t outlen, const char *s)
{
	size_t	o = 0;

	for (; *s != '\0' && o + 4 < outlen; s++)
		o += (size_t)snprintf(out + o, outlen - o, "%%%02X",
		    (unsigned char)*s);
	out[o] = '\0';
}

static void
check_fields(const struct redisurl *u)
{
	const char	*f[] = { u->host, u->path, u->user, u->password };
	size_t		 i, j;

	if (u->port < 1 || u->port > 65535 || u->db < 0)
		abort();
	if (u->user[0] != '\0' && !u->has_password)
		abort();
	for (i = 0; i < 4; i++)
		for (j = 0; f[i][j] != '\0'; j++)
			if ((unsigned char)f[i][j] < ' ')
				abort();
}

static void
round_trip(const struct redisurl *u)
{
	static char	 url[2048];
	char		 user[1024], pass[1024], err[256];
	struct redisurl	 v;

	escape(user, sizeof(user), u->user);
	escape(pass, sizeof(pass), u->password);
	if (u->unix_path)
		snprintf(url, sizeof(url), "unix://%s?db=%d%s%s%s%s", u->path,
		    u->db, u->user[0] != '\0' ? "&user=" : "", user,
		    u->has_password ? "&password=" : "", pass);
	else
		snprintf(url, sizeof(url), "redis://%s%s%s%s%s%s%s:%u/%d",
		    user, u->has_password ? ":" : "", pass,
		    u->has_password ? "@" : "",
		    strchr(u->host, ':') != NULL ? "[" : "", u->host,
		    strchr(u->host, ':') != NULL ? "]" : "", u->port, u->db);
	if (redisurl_parse(url, &v, err, sizeof(err)) != 0)
		abort();
	if (v.unix_path != u->unix_path || strcmp(v.host, u->host) != 0 ||
	    strcmp(v.path, u->path) != 0 || v.port != u->port ||
	    v.db != u->db || strcmp(v.user, u->user) != 0 ||
	    strcmp(v.password, u->password) != 0 ||
	    v.has_password != u->has_password)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*s, err[256], tiny[3], addr[512], want[512];
	struct redisurl	 u, w;
	int		 rc, rc2;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(err, 'x', sizeof(err));
	memset(tiny, 'x', sizeof(tiny));
	rc = redisurl_parse(s, &u, err, sizeof(err));
	rc2 = redisurl_parse(s, &w, tiny, sizeof(tiny));
	if (rc != rc2)
		abort();
	if (rc != 0) {
		if (memchr(err, '\0', sizeof(err)) == NULL ||
		    memchr(tiny, '\0', sizeof(tiny)) == NULL)
			abort();
	} else {
		check_fields(&u);
		round_trip(&u);
		redisurl_print(&u, addr, sizeof(addr));
		if (u.unix_path)
			snprintf(want, sizeof(want), "unix:%s/%d", u.path,
			    u.db);
		else
			snprintf(want, sizeof(want), "%s%s%s:%u/%d",
			    strchr(u.host, ':') != NULL ? "[" : "", u.host,
			    strchr(u.host, ':') != NULL ? "]" : "", u.port,
			    u.db);
		if (strcmp(addr, want) != 0)
			abort();
	}
	free(s);
	return 0;
}
