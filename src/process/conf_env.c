/*
 * The environment: the seed's variables override the file
 * (conf_apply_env()), and --env-file reads a dotenv file (KEY=VALUE lines,
 * `export` prefix, single or double quotes, # comments) into the
 * environment, so people who ran the Node.js service with a .env file keep
 * it.  As dotenv does, a variable that is already set in the environment
 * wins over the file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

static int	env_line(char *, char **, char **, const char **);

/* Split KEY=VALUE; 0 blank, 1 pair, -1 with *why. */
static int
env_line(char *p, char **key, char **val, const char **why)
{
	char	*end, q;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	if (strncmp(p, "export ", 7) == 0)
		p += 7;
	*key = p;
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	if (p == *key || *p != '=') {
		*why = "expected KEY=VALUE";
		return -1;
	}
	*p++ = '\0';
	if (*p == '"' || *p == '\'') {
		q = *p++;
		if ((end = strchr(p, q)) == NULL) {
			*why = "unterminated quoted value";
			return -1;
		}
		*end = '\0';
		*val = p;
		return 1;
	}
	*val = p;
	if ((end = strstr(p, " #")) != NULL)
		*end = '\0';
	end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return 1;
}

/* Returns the number of errors; each names the file and line. */
int
conf_load_env_file(const char *path, conf_err_fn err, void *arg)
{
	FILE		*f;
	char		 line[CONF_LINE_MAX], msg[CONF_LINE_MAX + 64];
	char		*key, *val;
	const char	*why = NULL;
	int		 lineno = 0, errors = 0, rc;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(msg, sizeof(msg), "%s: cannot open: %s", path,
		    strerror(errno));
		err(arg, msg);
		return 1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if ((rc = env_line(line, &key, &val, &why)) < 0) {
			snprintf(msg, sizeof(msg), "%s:%d: %s", path, lineno,
			    why);
			err(arg, msg);
			errors++;
		} else if (rc > 0 && getenv(key) == NULL)
			setenv(key, val, 0);
	}
	fclose(f);
	return errors;
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
			if (conf_parse_port(c, v, where, err, arg) != 0)
				errors++;
			continue;
		}
		if (k->type == CONF_LIST)
			conf_list_reset(c, k);
		if (conf_parse_value(c, k, v, where, err, arg) != 0)
			errors++;
	}
	v = getenv("NODE_ENV");
	if (v != NULL && strcmp(v, "development") == 0 &&
	    getenv("LOG_LEVEL") == NULL)
		c->log_level = 3;
	return errors;
}
