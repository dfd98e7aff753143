/*
 * Rules that span several keys, checked after everything is loaded (the
 * smtpd "no rules, nothing to do" idea), and the effective configuration
 * printed by `-t` with every secret masked.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adminjson.h"
#include "allow.h"
#include "conf.h"

static int	check_secret_file(const char *, conf_err_fn, void *);
static int	check_secret_len(const char *, size_t, conf_err_fn, void *);
static int	check_http(const struct conf *, conf_err_fn, void *);
static int	check_readable(const char *, const char *, conf_err_fn, void *);
static int	check_services(const struct conf *, conf_err_fn, void *);
static int	check_tokens(const struct conf *, conf_err_fn, void *);
static int	check_admin(const struct conf *, conf_err_fn, void *);

static void
say(conf_err_fn err, void *arg, const char *fmt, ...)
	__attribute__((__format__ (printf, 3, 4)));

static void
say(conf_err_fn err, void *arg, const char *fmt, ...)
{
	char	buf[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	err(arg, buf);
}

/*
 * A short HMAC secret can be found by trying: RFC 7518 3.2 asks for a key
 * as long as the hash (32 bytes for HS256).  what names where it came from.
 */
static int
check_secret_len(const char *what, size_t len, conf_err_fn err, void *arg)
{
	if (len >= CONF_HS_SECRET_MIN)
		return 0;
	say(err, arg, "%s is %zu bytes; an HS256/384/512 secret must be at "
	    "least %d bytes (make one with: head -c 48 /dev/urandom | "
	    "base64)", what, len, CONF_HS_SECRET_MIN);
	return 1;
}

/* A secret that other users can read is no secret (OpenBSD's rule). */
static int
check_secret_file(const char *path, conf_err_fn err, void *arg)
{
	struct stat	st;
	char		buf[4096];
	size_t		n;
	FILE		*f;

	if (stat(path, &st) != 0) {
		say(err, arg, "jwt_secret_file: %s: %s", path, strerror(errno));
		return 1;
	}
	if (st.st_mode & S_IROTH) {
		say(err, arg, "jwt_secret_file: %s is readable by other users; "
		    "run chmod o-r %s", path, path);
		return 1;
	}
	if (check_readable("jwt_secret_file", path, err, arg) != 0)
		return 1;
	/* As auth.c reads it: the trailing newline is not the key's. */
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	memset(buf, 0, sizeof(buf));
	return check_secret_len("jwt_secret_file", n, err, arg);
}

/*
 * CORS and the status pages.  Any origin with credentials would let every
 * web site read what a logged-in browser may (issue 11.18): list them.
 */
static int
check_http(const struct conf *c, conf_err_fn err, void *arg)
{
	struct allow	a;
	char		why[160];
	size_t		i;
	int		errors = 0;

	for (i = 0; i < c->ncors_origin && c->cors_credentials; i++)
		if (strcmp(c->cors_origin[i], "*") == 0) {
			say(err, arg, "cors_origin * with cors_credentials yes "
			    "would let any web site send credentialed requests; "
			    "list the allowed origins instead");
			errors++;
			break;
		}
	if (allow_parse(c->status_allow, &a, why, sizeof(why)) != 0) {
		say(err, arg, "status_allow: %s", why);
		errors++;
	}
	return errors;
}

/*
 * The Admin UI (issue 18): on, someone must be able to log in, and a
 * password hash must be one crypt_rn() takes; its files' directory must
 * be one, and its path a prefix of its own.
 */
static int
check_admin(const struct conf *c, conf_err_fn err, void *arg)
{
	const char	*p = c->admin_ui_path;
	struct stat	 st;
	int		 errors = 0;
	size_t		 n = strlen(p);

	if (c->admin_password_hash[0] != '\0' &&
	    !adminjson_hash_valid(c->admin_password_hash)) {
		say(err, arg, "admin_password_hash is not a bcrypt hash "
		    "($2a$, $2b$ or $2y$, 60 characters)");
		errors++;
	}
	if (c->admin && c->admin_jwt_claim[0] == '\0' &&
	    (c->admin_username[0] == '\0' ||
	    c->admin_password_hash[0] == '\0')) {
		say(err, arg, "admin on needs admin_username and "
		    "admin_password_hash, or admin_jwt_claim");
		errors++;
	}
	if (n < 2 || p[0] != '/' || p[n - 1] != '/' || strstr(p, "//") !=
	    NULL || strstr(p, "/socket.io/") == p || strchr(p, '?') != NULL ||
	    strchr(p, '%') != NULL || strstr(p, "/..") != NULL) {
		say(err, arg, "admin_ui_path %s: a path that starts and ends "
		    "with / (not the Engine.IO path)", p);
		errors++;
	}
	if (c->admin && c->admin_ui_dir[0] != '\0' &&
	    (stat(c->admin_ui_dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
		say(err, arg, "admin_ui_dir %s: not a directory",
		    c->admin_ui_dir);
		errors++;
	}
	return errors;
}

static int
check_readable(const char *key, const char *path, conf_err_fn err, void *arg)
{
	if (access(path, R_OK) != 0) {
		say(err, arg, "%s: %s: %s", key, path, strerror(errno));
		return 1;
	}
	return 0;
}

/*
 * The downstream services' resilience policy: a cap below the base would
 * make every backoff the cap, and a longest open time below the first
 * would shrink it when it should double; both are typos more likely than
 * wishes.
 */
static int
check_services(const struct conf *c, conf_err_fn err, void *arg)
{
	int	errors = 0;

	if (c->retry_cap < c->retry_base) {
		say(err, arg, "retry_cap (%lldms) is shorter than retry_base "
		    "(%lldms)", c->retry_cap, c->retry_base);
		errors++;
	}
	if (c->breaker_max_cooldown < c->breaker_cooldown) {
		say(err, arg, "breaker_max_cooldown (%lldms) is shorter than "
		    "breaker_cooldown (%lldms)", c->breaker_max_cooldown,
		    c->breaker_cooldown);
		errors++;
	}
	/* 1: service (conf_membership_modes). */
	if (c->group_membership == 1 && c->chat_service_url[0] == '\0') {
		say(err, arg, "group_membership service needs chat_service_url "
		    "(CHAT_SERVICE_URL)");
		errors++;
	}
	return errors;
}

/* A local key is configured (it may still be unfit: check_tokens). */
static bool
has_key(const struct conf *c)
{
	if (c->jwt_algorithm > 2)
		return c->jwt_public_key_file[0] != '\0';
	return c->jwt_secret[0] != '\0' || (c->jwt_secret_file[0] != '\0' &&
	    access(c->jwt_secret_file, F_OK) == 0);
}

/*
 * Who verifies tokens, auth_mode's auto resolved: local with a key, the
 * auth service without one when it is configured, else local (which -t
 * then refuses: no key).
 */
int
conf_auth_mode(const struct conf *c)
{
	if (c->auth_mode != CONF_AUTH_AUTO)
		return c->auth_mode;
	if (!has_key(c) && c->auth_service_url[0] != '\0')
		return CONF_AUTH_SERVICE;
	return CONF_AUTH_LOCAL;
}

/*
 * A way to verify tokens: the key for auth_mode local and both, the auth
 * service for service and both.
 */
static int
check_tokens(const struct conf *c, conf_err_fn err, void *arg)
{
	int	errors = 0, mode = conf_auth_mode(c);
	bool	hmac = c->jwt_algorithm <= 2;

	if (mode != CONF_AUTH_LOCAL && c->auth_service_url[0] == '\0') {
		say(err, arg, "auth_mode %s needs auth_service_url (or "
		    "AUTH_SERVICE_URL)", conf_auth_modes[mode]);
		errors++;
	}
	/* 2: token (conf_membership_modes); the service's answer has none. */
	if (c->group_membership == 2 && mode != CONF_AUTH_LOCAL) {
		say(err, arg, "group_membership token reads the groups claim of "
		    "tokens the gateway verifies itself: it needs auth_mode "
		    "local, not %s", conf_auth_modes[mode]);
		errors++;
	}
	if (mode == CONF_AUTH_SERVICE)
		return errors;		/* no key needed, none read */
	if (hmac && c->jwt_secret[0] != '\0')
		errors += check_secret_len("jwt_secret", strlen(c->jwt_secret),
		    err, arg);
	else if (hmac && c->jwt_secret_file[0] != '\0' &&
	    access(c->jwt_secret_file, F_OK) == 0)
		errors += check_secret_file(c->jwt_secret_file, err, arg);
	else if (hmac && c->jwt_secret[0] == '\0') {
		say(err, arg, "no way to verify tokens: set jwt_secret (or "
		    "JWT_SECRET), create jwt_secret_file %s, or set "
		    "auth_service_url (or AUTH_SERVICE_URL) for the auth service%s",
		    c->jwt_secret_file, mode == CONF_AUTH_BOTH ?
		    " (auth_mode both needs a key too)" : "");
		errors++;
	}
	if (!hmac && c->jwt_public_key_file[0] == '\0') {
		say(err, arg, "jwt_algorithm %s needs jwt_public_key_file",
		    conf_jwt_algs[c->jwt_algorithm]);
		errors++;
	} else if (!hmac && c->jwt_public_key_file[0] != '\0')
		errors += check_readable("jwt_public_key_file",
		    c->jwt_public_key_file, err, arg);
	return errors;
}

/* Cross-key rules; returns the number of errors. */
int
conf_check(struct conf *c, conf_err_fn err, void *arg)
{
	int	errors = 0;

	if ((c->tls_cert[0] == '\0') != (c->tls_key[0] == '\0')) {
		say(err, arg, "tls_cert and tls_key must be set together");
		errors++;
	} else if (c->tls_cert[0] != '\0')
		errors += check_readable("tls_cert", c->tls_cert, err, arg) +
		    check_readable("tls_key", c->tls_key, err, arg);
	errors += check_tokens(c, err, arg);
	if (c->output_queue_limit < 2 * c->max_payload) {
		say(err, arg, "output_queue_limit (%lld) must be at least twice "
		    "max_payload (%lld)", c->output_queue_limit,
		    c->max_payload);
		errors++;
	}
	errors += check_http(c, err, arg);
	errors += check_services(c, err, arg);
	errors += check_admin(c, err, arg);
	errors += conf_check_svc(c, err, arg);
	if (c->shutdown_timeout < c->drain_interval) {
		say(err, arg, "shutdown_timeout (%lldms) is shorter than "
		    "drain_interval (%lldms)", c->shutdown_timeout,
		    c->drain_interval);
		errors++;
	}
	return errors;
}

/* The effective configuration, one key per line as the file takes it. */
void
conf_dump(const struct conf *c, FILE *out)
{
	const struct conf_key	*k;
	const void		*f;
	size_t			 i, j;
	long long		 v;

	for (i = 0; i < conf_nkeys; i++) {
		k = &conf_keys[i];
		f = (const char *)c + k->off;
		fprintf(out, "%s ", k->name);
		switch (k->type) {
		case CONF_INT:
		case CONF_SIZE:
			fprintf(out, "%lld\n", *(const long long *)f);
			break;
		case CONF_DURATION:
			v = *(const long long *)f;
			if (v != 0 && v % 1000 == 0)
				fprintf(out, "%llds\n", v / 1000);
			else
				fprintf(out, "%lldms\n", v);
			break;
		case CONF_BOOL:
			fprintf(out, "%s\n", *(const bool *)f ? "yes" : "no");
			break;
		case CONF_ENUM:
			fprintf(out, "%s\n", k->choices[*(const int *)f]);
			break;
		case CONF_STRING:
		case CONF_URL:
			if (k->type == CONF_URL &&
			    strchr(*(char *const *)f, '@') != NULL)
				fprintf(out, "\"%.*s***%s\"\n",
				    (int)(strstr(*(char *const *)f, "//") + 2 -
				    *(char *const *)f), *(char *const *)f,
				    strrchr(*(char *const *)f, '@'));
			else if (k->flags & CONF_F_SENSITIVE &&
			    **(char *const *)f != '\0')
				fprintf(out, "\"***\"\n");
			else
				fprintf(out, "\"%s\"\n", *(char *const *)f);
			break;
		case CONF_LIST:
			fputs(c->ncors_origin == 0 ? "\"\"" : "", out);
			for (j = 0; j < c->ncors_origin; j++)
				fprintf(out, "%s%s", j > 0 ? "," : "",
				    c->cors_origin[j]);
			fprintf(out, "\n");
			break;
		case CONF_LISTEN:
			for (j = 0; j < c->nlisten; j++) {
				if (j > 0)
					fprintf(out, "%s ", k->name);
				if (c->listen[j].host[0] == '\0')
					fprintf(out, "*:%d\n",
					    c->listen[j].port);
				else if (strchr(c->listen[j].host, ':'))
					fprintf(out, "[%s]:%d\n",
					    c->listen[j].host,
					    c->listen[j].port);
				else
					fprintf(out, "%s:%d\n",
					    c->listen[j].host,
					    c->listen[j].port);
			}
			break;
		}
	}
}
