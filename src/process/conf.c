/*
 * Configuration: defaults from the table, then the file, then the
 * environment (the seed's variable names), then the command line.  Every
 * error is reported, each naming where the bad value came from, before the
 * caller gives up; nothing is half-applied because callers load into a fresh
 * struct conf and swap it in only when the count of errors is zero.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"

static void	 report(conf_err_fn, void *, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static int	 set_number(struct conf *, const struct conf_key *,
		    const char *, const char *, conf_err_fn, void *);
static int	 set_enum(struct conf *, const struct conf_key *,
		    const char *, const char *, conf_err_fn, void *);
static int	 set_string(struct conf *, const struct conf_key *,
		    const char *, const char *, conf_err_fn, void *);
static int	 set_list(struct conf *, const struct conf_key *,
		    const char *, const char *, conf_err_fn, void *);
static int	 set_listen(struct conf *, const char *, const char *,
		    conf_err_fn, void *);
static void	 format_number(const struct conf_key *, long long, char *,
		    size_t);
static int	 parse_line(char *, char **, char **, const char **);
static int	 is_list_key(const struct conf_key *);

#define FIELD(c, k, t)	((t *)(void *)((char *)(c) + (k)->off))

static void
report(conf_err_fn err, void *arg, const char *fmt, ...)
{
	char	buf[CONF_LINE_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (err != NULL)
		err(arg, buf);
}

/* Fill a struct with every key's default; the defaults always parse. */
void
conf_init(struct conf *c)
{
	size_t	i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < conf_nkeys; i++)
		if (conf_set(c, &conf_keys[i], conf_keys[i].def, "default",
		    NULL, NULL) != 0)
			abort();
}

void
conf_free(struct conf *c)
{
	const struct conf_key	*k;
	size_t			 i, j;
	char			**list;

	for (i = 0; i < conf_nkeys; i++) {
		k = &conf_keys[i];
		if (k->type == CONF_STRING || k->type == CONF_URL)
			free(*FIELD(c, k, char *));
		else if (k->type == CONF_LIST) {
			list = FIELD(c, k, char *);
			for (j = 0; j < CONF_ORIGIN_MAX; j++)
				free(list[j]);
		}
	}
	memset(c, 0, sizeof(*c));
}

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
		report(err, arg, "%s: %s: '%s' is not %s", where, k->name, v,
		    what[k->type]);
		return -1;
	}
	if (n < k->min || n > k->max) {
		format_number(k, n < k->min ? k->min : k->max, lim,
		    sizeof(lim));
		report(err, arg, "%s: %s: %s is %s the %s %s", where, k->name,
		    v, n < k->min ? "below" : "above",
		    n < k->min ? "minimum" : "maximum", lim);
		return -1;
	}
	*FIELD(c, k, long long) = n;
	return 0;
}

static int
set_enum(struct conf *c, const struct conf_key *k, const char *v,
    const char *where, conf_err_fn err, void *arg)
{
	char	 all[256];
	size_t	 i, len = 0;

	for (i = 0; k->choices[i] != NULL; i++) {
		if (strcasecmp(v, k->choices[i]) == 0 ||
		    (k->choices == conf_log_levels &&
		    strcasecmp(v, "warning") == 0 && i == 1)) {
			*FIELD(c, k, int) = (int)i;
			return 0;
		}
		len += (size_t)snprintf(all + len, sizeof(all) - len, "%s%s",
		    i > 0 ? ", " : "", k->choices[i]);
	}
	report(err, arg, "%s: %s: '%s' is not one of %s", where, k->name, v,
	    all);
	return -1;
}

static int
set_string(struct conf *c, const struct conf_key *k, const char *v,
    const char *where, conf_err_fn err, void *arg)
{
	char	**field = FIELD(c, k, char *);
	size_t	  len = strlen(v);

	if ((long long)len < k->min || (long long)len > k->max) {
		report(err, arg, "%s: %s: length %zu is outside %lld..%lld",
		    where, k->name, len, k->min, k->max);
		return -1;
	}
	if (k->type == CONF_URL && len > 0 && (strcmp(k->name, "redis_url") ==
	    0 ? strncmp(v, "redis://", 8) != 0 && strncmp(v, "rediss://", 9) !=
	    0 && strncmp(v, "unix://", 7) != 0 : strncmp(v, "http://", 7) != 0 &&
	    strncmp(v, "https://", 8) != 0)) {
		report(err, arg, "%s: %s: '%s' is not a %s URL", where,
		    k->name, v, strcmp(k->name, "redis_url") == 0 ?
		    "redis://" : "http:// or https://");
		return -1;
	}
	if (k->flags & CONF_F_PATH && len > 0 && v[0] != '/') {
		report(err, arg, "%s: %s: '%s' is not an absolute path", where,
		    k->name, v);
		return -1;
	}
	free(*field);
	if ((*field = strdup(v)) == NULL) {
		report(err, arg, "%s: %s: out of memory", where, k->name);
		return -1;
	}
	return 0;
}

/* A comma separated list; the caller clears it before a fresh value. */
static int
set_list(struct conf *c, const struct conf_key *k, const char *v,
    const char *where, conf_err_fn err, void *arg)
{
	char		**list = FIELD(c, k, char *);
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
			report(err, arg, "%s: %s: more than %d entries", where,
			    k->name, CONF_ORIGIN_MAX);
			return -1;
		}
		if ((long long)len > k->max) {
			report(err, arg, "%s: %s: entry longer than %lld",
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
		report(err, arg, "%s: listen: '%s' is not [address:]port with "
		    "a port in 1..65535", where, v);
		return -1;
	}
	if (c->nlisten >= CONF_LISTEN_MAX) {
		report(err, arg, "%s: listen: more than %d listeners", where,
		    CONF_LISTEN_MAX);
		return -1;
	}
	c->listen[c->nlisten++] = l;
	return 0;
}

/* Set one key from its text form; where names the source for errors. */
int
conf_set(struct conf *c, const struct conf_key *k, const char *v,
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
			*FIELD(c, k, bool) = true;
		else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "off") == 0 ||
		    strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
			*FIELD(c, k, bool) = false;
		else {
			report(err, arg, "%s: %s: '%s' is not yes or no", where,
			    k->name, v);
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

static int
is_list_key(const struct conf_key *k)
{
	return k->type == CONF_LIST || k->type == CONF_LISTEN;
}

/* Empty a repeatable key before the first value from a new source. */
static void
list_reset(struct conf *c, const struct conf_key *k)
{
	size_t	i;

	if (k->type == CONF_LISTEN) {
		c->nlisten = 0;
		return;
	}
	for (i = 0; i < c->ncors_origin; i++) {
		free(c->cors_origin[i]);
		c->cors_origin[i] = NULL;
	}
	c->ncors_origin = 0;
}

/*
 * Split a line into key and value.  The value is the rest of the line, or a
 * double-quoted string with \" and \\ escapes; '#' after a blank starts a
 * comment.  Returns 0 for a blank line, 1 for a pair, -1 with *why set.
 */
static int
parse_line(char *line, char **key, char **val, const char **why)
{
	char	*p = line, *w, *end;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	*key = p;
	while (*p != '\0' && !isspace((unsigned char)*p))
		p++;
	if (*p != '\0')
		*p++ = '\0';
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '"') {
		*val = w = ++p;
		for (; *p != '"'; p++) {
			if (*p == '\0') {
				*why = "unterminated quoted string";
				return -1;
			}
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			*w++ = *p;
		}
		*w = '\0';
		for (p++; isspace((unsigned char)*p); p++)
			;
		if (*p != '\0' && *p != '#') {
			*why = "text after the closing quote";
			return -1;
		}
		return 1;
	}
	*val = p;
	for (end = p; *p != '\0'; p++) {
		if (*p == '#' && (p == *val || isspace((unsigned char)p[-1])))
			break;
		if (!isspace((unsigned char)*p))
			end = p + 1;
	}
	*end = '\0';
	if (**val == '\0') {
		*why = "missing value";
		return -1;
	}
	return 1;
}

/* Parse a whole file held in memory; returns the number of errors. */
int
conf_load_buffer(struct conf *c, const char *name, const char *buf,
    size_t len, conf_err_fn err, void *arg)
{
	const struct conf_key	*k, *near;
	char			 line[CONF_LINE_MAX], where[512], *key, *val;
	const char		*p = buf, *end = buf + len, *nl, *why = NULL;
	int			 lineno = 0, errors = 0, rc;
	int			 first[128] = { 0 };
	size_t			 n, idx;

	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		snprintf(where, sizeof(where), "%s:%d", name, lineno);
		if (n >= sizeof(line)) {
			report(err, arg, "%s: line longer than %d bytes", where,
			    CONF_LINE_MAX - 1);
			errors++;
		} else if (memchr(p, '\0', n) != NULL) {
			report(err, arg, "%s: NUL byte in line", where);
			errors++;
		} else {
			memcpy(line, p, n);
			line[n] = '\0';
			if ((rc = parse_line(line, &key, &val, &why)) < 0) {
				report(err, arg, "%s: %s", where, why);
				errors++;
			} else if (rc > 0 && (k = conf_key_find(key)) == NULL) {
				near = conf_key_suggest(key);
				if (near != NULL)
					report(err, arg, "%s: unknown key '%s' "
					    "(did you mean '%s'?)", where, key,
					    near->name);
				else
					report(err, arg, "%s: unknown key '%s'",
					    where, key);
				errors++;
			} else if (rc > 0) {
				idx = (size_t)(k - conf_keys);
				if (first[idx] != 0 && !is_list_key(k)) {
					report(err, arg, "%s: duplicate key "
					    "'%s' (first set on line %d)",
					    where, key, first[idx]);
					errors++;
				} else {
					if (first[idx] == 0 && is_list_key(k))
						list_reset(c, k);
					if (first[idx] == 0)
						first[idx] = lineno;
					if (conf_set(c, k, val, where, err,
					    arg) != 0)
						errors++;
				}
			}
		}
		p += n + 1;
	}
	return errors;
}

/* Read a file and parse it; a file that cannot be read is one error. */
int
conf_load_file(struct conf *c, const char *path, conf_err_fn err, void *arg)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 len = 0, cap = 0, n;
	int	 errors;

	if ((f = fopen(path, "r")) == NULL) {
		report(err, arg, "%s: cannot open: %s", path, strerror(errno));
		return 1;
	}
	for (;;) {
		if (cap - len < 4096) {
			char *nb;

			if (cap > 16 * 1024 * 1024 ||
			    (nb = realloc(buf, cap + 65536)) == NULL) {
				report(err, arg, "%s: too large", path);
				free(buf);
				fclose(f);
				return 1;
			}
			buf = nb;
			cap += 65536;
		}
		if ((n = fread(buf + len, 1, cap - len, f)) == 0)
			break;
		len += n;
	}
	if (ferror(f)) {
		report(err, arg, "%s: read error: %s", path, strerror(errno));
		fclose(f);
		free(buf);
		return 1;
	}
	fclose(f);
	errors = conf_load_buffer(c, path, buf == NULL ? "" : buf, len, err,
	    arg);
	free(buf);
	return errors;
}

/* PORT, -p: one port for every listener, keeping their addresses. */
int
conf_set_port(struct conf *c, const char *v, const char *where,
    conf_err_fn err, void *arg)
{
	struct conf_listen	l;
	size_t			i;

	if (conf_parse_listen(v, &l) != 0 || l.host[0] != '\0') {
		report(err, arg, "%s: '%s' is not a port in 1..65535", where,
		    v);
		return -1;
	}
	for (i = 0; i < c->nlisten; i++)
		c->listen[i].port = l.port;
	return 0;
}

/*
 * The seed's environment variables override the file.  NODE_ENV=development
 * turns on debug logging when LOG_LEVEL does not say otherwise, as the seed's
 * logger did.
 */
int
conf_apply_env(struct conf *c, conf_err_fn err, void *arg)
{
	const struct conf_key	*k;
	const char		*v;
	char			 where[128];
	size_t			 i;
	int			 errors = 0;

	for (i = 0; i < conf_nkeys; i++) {
		k = &conf_keys[i];
		if (k->env == NULL || (v = getenv(k->env)) == NULL)
			continue;
		snprintf(where, sizeof(where), "environment %s", k->env);
		if (k->type == CONF_LISTEN) {
			if (conf_set_port(c, v, where, err, arg) != 0)
				errors++;
			continue;
		}
		if (k->type == CONF_LIST)
			list_reset(c, k);
		if (conf_set(c, k, v, where, err, arg) != 0)
			errors++;
	}
	v = getenv("NODE_ENV");
	if (v != NULL && strcmp(v, "development") == 0 &&
	    getenv("LOG_LEVEL") == NULL)
		c->log_level = 3;
	return errors;
}

/*
 * A reload keeps the running value of every string key that needs a
 * restart (no CONF_F_RELOADABLE: user, run_dir, spool_dir, redis_url,
 * node_id), and says which changed.  `listen` is the master's to keep.
 */
void
conf_keep_fixed(struct conf *next, const struct conf *cur, conf_err_fn err,
    void *arg)
{
	const struct conf_key	*k;
	char			**np, msg[96];
	const char		*cv;
	size_t			 i;

	for (i = 0; i < conf_nkeys; i++) {
		k = &conf_keys[i];
		if ((k->flags & CONF_F_RELOADABLE) ||
		    (k->type != CONF_STRING && k->type != CONF_URL))
			continue;
		np = (char **)(void *)((char *)next + k->off);
		cv = *(char *const *)(const void *)((const char *)cur + k->off);
		if (strcmp(*np != NULL ? *np : "", cv != NULL ? cv : "") == 0)
			continue;
		snprintf(msg, sizeof(msg), "%s changed; restart to apply it",
		    k->name);
		err(arg, msg);
		free(*np);
		*np = cv != NULL ? strdup(cv) : NULL;
	}
}
