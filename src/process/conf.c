/*
 * Configuration: defaults from the table, then the file, then the
 * environment (the seed's variable names, conf_env.c), then the command
 * line; each value is parsed by its type in conf_parse.c.  Every
 * error is reported, each naming where the bad value came from, before the
 * caller gives up; nothing is half-applied because callers load into a fresh
 * struct conf and swap it in only when the count of errors is zero.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "conf.h"

/*
 * The most a configuration file may hold, read 4 KiB at least at a time:
 * a file over CONF_FILE_MAX - 4096 bytes is refused as too large.
 */
#define CONF_FILE_MAX	(16 * 1024 * 1024 + 65536)

static int	 parse_line(char *, char **, char **, const char **);
static int	 is_list_key(const struct conf_key *);

/* Format one error and hand it to err, if any (conf*.c report so). */
void
conf_report(conf_err_fn err, void *arg, const char *fmt, ...)
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
		if (conf_parse_value(c, &conf_keys[i], conf_keys[i].def,
		    "default", NULL, NULL) != 0)
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
			free(*CONF_FIELD(c, k, char *));
		else if (k->type == CONF_LIST) {
			list = CONF_FIELD(c, k, char *);
			for (j = 0; j < CONF_ORIGIN_MAX; j++)
				free(list[j]);
		}
	}
	memset(c, 0, sizeof(*c));
}

static int
is_list_key(const struct conf_key *k)
{
	return k->type == CONF_LIST || k->type == CONF_LISTEN;
}

/* Empty a repeatable key before the first value from a new source. */
void
conf_list_reset(struct conf *c, const struct conf_key *k)
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
	int			 first[CONF_KEYS_MAX] = { 0 };
	size_t			 n, idx;

	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		snprintf(where, sizeof(where), "%s:%d", name, lineno);
		if (n >= sizeof(line)) {
			conf_report(err, arg, "%s: line longer than %d bytes",
			    where, CONF_LINE_MAX - 1);
			errors++;
		} else if (memchr(p, '\0', n) != NULL) {
			conf_report(err, arg, "%s: NUL byte in line", where);
			errors++;
		} else {
			memcpy(line, p, n);
			line[n] = '\0';
			if ((rc = parse_line(line, &key, &val, &why)) < 0) {
				conf_report(err, arg, "%s: %s", where, why);
				errors++;
			} else if (rc > 0 && (k = conf_key_find(key)) == NULL) {
				near = conf_key_suggest(key);
				if (near != NULL)
					conf_report(err, arg, "%s: unknown key "
					    "'%s' (did you mean '%s'?)", where,
					    key, near->name);
				else
					conf_report(err, arg, "%s: unknown "
					    "key '%s'", where, key);
				errors++;
			} else if (rc > 0) {
				idx = (size_t)(k - conf_keys);
				if (first[idx] != 0 && !is_list_key(k)) {
					conf_report(err, arg, "%s: duplicate "
					    "key '%s' (first set on line %d)",
					    where, key, first[idx]);
					errors++;
				} else {
					if (first[idx] == 0 && is_list_key(k))
						conf_list_reset(c, k);
					if (first[idx] == 0)
						first[idx] = lineno;
					if (conf_parse_value(c, k, val, where,
					    err, arg) != 0)
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
	FILE		*f;
	struct buf	 b = { NULL, 0, 0 };
	size_t		 n;
	int		 errors;

	if ((f = fopen(path, "r")) == NULL) {
		conf_report(err, arg, "%s: cannot open: %s", path,
		    strerror(errno));
		return 1;
	}
	for (;;) {
		/* Read 4 KiB at least at a time, up to CONF_FILE_MAX. */
		if (buf_reserve(&b, 4096, CONF_FILE_MAX) != 0) {
			conf_report(err, arg, "%s: too large", path);
			buf_free(&b);
			fclose(f);
			return 1;
		}
		if ((n = fread(b.p + b.len, 1, b.cap - b.len, f)) == 0)
			break;
		b.len += n;
	}
	if (ferror(f)) {
		conf_report(err, arg, "%s: read error: %s", path,
		    strerror(errno));
		fclose(f);
		buf_free(&b);
		return 1;
	}
	fclose(f);
	errors = conf_load_buffer(c, path, b.p == NULL ? "" : (char *)b.p,
	    b.len, err, arg);
	buf_free(&b);
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
