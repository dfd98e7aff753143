/*
 * conf_parse: a key's value from its text form, by the key's type (sizes,
 * durations, numbers, bools, enums, strings and URLs, lists, listeners),
 * range-checked against the table (conf_table.c).  Each error names where
 * the value came from; the caller counts them.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bw.h"
#include "conf.h"
#include "redisurl.h"

static int	 set_number(struct conf *, const struct conf_key *,
		    const char *, const char *, conf_err_fn, void *);
static int	 set_enum(struct conf *, const struct conf_key *,
		    const char *, const char *, conf_err_fn, void *);
static int	 check_redis_url(const struct conf_key *, const char *,
		    const char *, conf_err_fn, void *);
static int	 set_string(struct conf *, const struct conf_key *,
		    const char *, const char *, conf_err_fn, void *);
static int	 set_list(struct conf *, const struct conf_key *,
		    const char *, const char *, conf_err_fn, void *);
static int	 set_listen(struct conf *, const char *, const char *,
		    conf_err_fn, void *);
static void	 format_number(const struct conf_key *, long long, char *,
		    size_t);

/* Sizes: 1k = 1000, 1kb = 1024 (the Redis convention), m/mb, g/gb. */
int
conf_parse_size(const char *s, long long *out)
{
	char		*end;
	long long	 v, mul = 1;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return -1;
	if (strcasecmp(end, "") == 0 || strcasecmp(end, "b") == 0)
		mul = 1;
	else if (strcasecmp(end, "k") == 0)
		mul = 1000;
	else if (strcasecmp(end, "kb") == 0)
		mul = 1024;
	else if (strcasecmp(end, "m") == 0)
		mul = 1000 * 1000;
	else if (strcasecmp(end, "mb") == 0)
		mul = 1024 * 1024;
	else if (strcasecmp(end, "g") == 0)
		mul = 1000 * 1000 * 1000;
	else if (strcasecmp(end, "gb") == 0)
		mul = 1024 * 1024 * 1024;
	else
		return -1;
	if (v > LLONG_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

/* Durations in milliseconds: 500ms, 25s, 2m, 1h; a bare number is ms. */
int
conf_parse_duration(const char *s, long long *out)
{
	char		*end;
	long long	 v, mul;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == '\0' || strcmp(end, "ms") == 0)
		mul = 1;
	else if (strcmp(end, "s") == 0)
		mul = 1000;
	else if (strcmp(end, "m") == 0)
		mul = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		mul = 3600 * 1000;
	else
		return -1;
	if (v > LLONG_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

/* "3002", "127.0.0.1:3002", "[::1]:3002", "*:3002". */
int
conf_parse_listen(const char *s, struct conf_listen *l)
{
	const char	*port, *close;
	char		*end;
	size_t		 hlen = 0;
	long		 p;

	memset(l, 0, sizeof(*l));
	if (*s == '[') {
		if ((close = strchr(s, ']')) == NULL || close[1] != ':')
			return -1;
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(l->host))
			return -1;
		memcpy(l->host, s + 1, hlen);
		port = close + 2;
	} else if ((port = strrchr(s, ':')) != NULL) {
		hlen = (size_t)(port - s);
		if (hlen == 0 || hlen >= sizeof(l->host) ||
		    memchr(s, ':', hlen) != NULL)
			return -1;
		if (!(hlen == 1 && *s == '*'))
			memcpy(l->host, s, hlen);
		port++;
	} else
		port = s;
	if (!isdigit((unsigned char)*port))
		return -1;
	errno = 0;
	p = strtol(port, &end, 10);
	if (errno != 0 || *end != '\0' || p < 1 || p > 65535)
		return -1;
	l->port = (int)p;
	return 0;
}

static void
format_number(const struct conf_key *k, long long v, char *buf, size_t len)
{
	if (k->type == CONF_DURATION && v % 1000 == 0 && v != 0)
		snprintf(buf, len, "%llds", v / 1000);
	else if (k->type == CONF_DURATION)
		snprintf(buf, len, "%lldms", v);
	else
		snprintf(buf, len, "%lld", v);
}

static int
set_number(struct conf *c, const struct conf_key *k, const char *v,
    const char *where, conf_err_fn err, void *arg)
{
	static const char *const what[] = { "a number", "a size (64k, 1mb)",
	    "a duration (500ms, 25s, 2m)" };
	long long	 n;
	char		 lim[32];
	int		 rc;

	if (k->type == CONF_SIZE)
		rc = conf_parse_size(v, &n);
	else if (k->type == CONF_DURATION)
		rc = conf_parse_duration(v, &n);
	else {
		char *end;

		errno = 0;
		n = strtoll(v, &end, 10);
		rc = (errno != 0 || end == v || *end != '\0') ? -1 : 0;
	}
	if (rc != 0) {
		conf_report(err, arg, "%s: %s: '%s' is not %s", where, k->name,
		    v, what[k->type]);
		return -1;
	}
	if (n < k->min || n > k->max) {
		format_number(k, n < k->min ? k->min : k->max, lim,
		    sizeof(lim));
		conf_report(err, arg, "%s: %s: %s is %s the %s %s", where,
		    k->name, v, n < k->min ? "below" : "above",
		    n < k->min ? "minimum" : "maximum", lim);
		return -1;
	}
	*CONF_FIELD(c, k, long long) = n;
	return 0;
}

static int
set_enum(struct conf *c, const struct conf_key *k, const char *v,
    const char *where, conf_err_fn err, void *arg)
{
	char		 all[256];
	struct bw	 w;
	size_t		 i;

	bw_init(&w, all, sizeof(all));
	for (i = 0; k->choices[i] != NULL; i++) {
		if (strcasecmp(v, k->choices[i]) == 0 ||
		    (k->choices == conf_log_levels &&
		    strcasecmp(v, "warning") == 0 && i == 1)) {
			*CONF_FIELD(c, k, int) = (int)i;
			return 0;
		}
		bw_printf(&w, "%s%s", i > 0 ? ", " : "", k->choices[i]);
	}
	bw_finish(&w);
	conf_report(err, arg, "%s: %s: '%s' is not one of %s", where,
	    k->name, v, all);
	return -1;
}

/*
 * The whole Redis URL is checked here, so that -t finds what the worker
 * would refuse; the message names the part and never holds the password.
 */
static int
check_redis_url(const struct conf_key *k, const char *v, const char *where,
    conf_err_fn err, void *arg)
{
	struct redisurl	u;
	char		why[256];

	if (redisurl_parse(v, &u, why, sizeof(why)) == 0)
		return 0;
	conf_report(err, arg, "%s: %s: %s", where, k->name, why);
	return -1;
}

static int
set_string(struct conf *c, const struct conf_key *k, const char *v,
    const char *where, conf_err_fn err, void *arg)
{
	char	**field = CONF_FIELD(c, k, char *);
	size_t	  len = strlen(v);

	if ((long long)len < k->min || (long long)len > k->max) {
		conf_report(err, arg, "%s: %s: length %zu is outside %lld..%lld",
		    where, k->name, len, k->min, k->max);
		return -1;
	}
	if (k->type == CONF_URL && len > 0 && strcmp(k->name, "redis_url") ==
	    0 && check_redis_url(k, v, where, err, arg) != 0)
		return -1;
	if (k->type == CONF_URL && len > 0 && strcmp(k->name, "redis_url") !=
	    0 && strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) !=
	    0) {
		conf_report(err, arg, "%s: %s: '%s' is not a http:// or "
		    "https:// URL", where, k->name, v);
		return -1;
	}
	if (k->flags & CONF_F_PATH && len > 0 && v[0] != '/') {
		conf_report(err, arg, "%s: %s: '%s' is not an absolute path",
		    where, k->name, v);
		return -1;
	}
	free(*field);
	if ((*field = strdup(v)) == NULL) {
		conf_report(err, arg, "%s: %s: out of memory", where, k->name);
		return -1;
	}
	return 0;
}

/* A comma separated list; the caller clears it before a fresh value. */
static int
set_list(struct conf *c, const struct conf_key *k, const char *v,
    const char *where, conf_err_fn err, void *arg)
{
	char		**list = CONF_FIELD(c, k, char *);
	size_t		 *n = &c->ncors_origin, len;
	const char	 *p = v, *comma;

	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (*n >= CONF_ORIGIN_MAX) {
			conf_report(err, arg, "%s: %s: more than %d entries",
			    where, k->name, CONF_ORIGIN_MAX);
			return -1;
		}
		if ((long long)len > k->max) {
			conf_report(err, arg, "%s: %s: entry longer than %lld",
			    where, k->name, k->max);
			return -1;
		}
		if ((list[*n] = strndup(p, len)) == NULL)
			return -1;
		(*n)++;
		p += len;
	}
	return 0;
}

static int
set_listen(struct conf *c, const char *v, const char *where, conf_err_fn err,
    void *arg)
{
	struct conf_listen	l;

	if (conf_parse_listen(v, &l) != 0) {
		conf_report(err, arg, "%s: listen: '%s' is not [address:]port "
		    "with a port in 1..65535", where, v);
		return -1;
	}
	if (c->nlisten >= CONF_LISTEN_MAX) {
		conf_report(err, arg, "%s: listen: more than %d listeners",
		    where, CONF_LISTEN_MAX);
		return -1;
	}
	c->listen[c->nlisten++] = l;
	return 0;
}

/* Set one key from its text form; where names the source for errors. */
int
conf_parse_value(struct conf *c, const struct conf_key *k, const char *v,
    const char *where, conf_err_fn err, void *arg)
{
	switch (k->type) {
	case CONF_INT:
	case CONF_SIZE:
	case CONF_DURATION:
		return set_number(c, k, v, where, err, arg);
	case CONF_BOOL:
		if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0 ||
		    strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
			*CONF_FIELD(c, k, bool) = true;
		else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "off") == 0 ||
		    strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
			*CONF_FIELD(c, k, bool) = false;
		else {
			conf_report(err, arg, "%s: %s: '%s' is not yes or no",
			    where, k->name, v);
			return -1;
		}
		return 0;
	case CONF_ENUM:
		return set_enum(c, k, v, where, err, arg);
	case CONF_STRING:
	case CONF_URL:
		return set_string(c, k, v, where, err, arg);
	case CONF_LIST:
		return set_list(c, k, v, where, err, arg);
	case CONF_LISTEN:
		return set_listen(c, v, where, err, arg);
	}
	return -1;
}

/* PORT, -p: one port for every listener, keeping their addresses. */
int
conf_parse_port(struct conf *c, const char *v, const char *where,
    conf_err_fn err, void *arg)
{
	struct conf_listen	l;
	size_t			i;

	if (conf_parse_listen(v, &l) != 0 || l.host[0] != '\0') {
		conf_report(err, arg, "%s: '%s' is not a port in 1..65535",
		    where, v);
		return -1;
	}
	for (i = 0; i < c->nlisten; i++)
		c->listen[i].port = l.port;
	return 0;
}
