/*
 * test_conf: guards the configuration loader (src/conf*.c).  Every error a
 * user can make in the file, the environment, a .env file or on the command
 * line must be reported with its exact message, naming where it came from
 * ("x.conf:3: ...", "environment PORT: ...", "command line -w: ..."), and
 * the parse must go on to report the next one.  Also: units, listen forms,
 * repeatable keys, the precedence file < environment < flags, the rules that
 * span keys, and that -t's dump never shows a secret.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"
#include "conf.h"
#include "gateway.h"

/* A secret long enough for conf_check() (CONF_HS_SECRET_MIN). */
#define SECRET32	"0123456789abcdef0123456789abcdef"

#define MAXERR		32
#define ERRLEN		1024

/* Every message the loader reported, in order. */
struct errs {
	char	msg[MAXERR][ERRLEN];
	int	n;
};

static void	collect(void *, const char *);
static int	load(struct conf *, struct errs *, const char *);
static void	expect_error(const char *, const char *);
static void	expect_ok(const char *);
static int	check(struct conf *, struct errs *, const char *);
static void	clear_env(void);
static char	*write_temp(const char *, mode_t);
static char	*dump(const struct conf *);
static const char *srcdir(void);

static char	tmpdir[PATH_MAX];

static void
collect(void *arg, const char *msg)
{
	struct errs	*e = arg;

	if (e->n < MAXERR)
		snprintf(e->msg[e->n], ERRLEN, "%s", msg);
	e->n++;
}

/* Defaults, then the text as file "x.conf"; returns the error count. */
static int
load(struct conf *c, struct errs *e, const char *text)
{
	memset(e, 0, sizeof(*e));
	conf_init(c);
	return conf_load_buffer(c, "x.conf", text, strlen(text), collect, e);
}

/* The text has exactly one error, and this is its message. */
static void
expect_error(const char *text, const char *msg)
{
	struct conf	c;
	struct errs	e;

	assert_int_equal(load(&c, &e, text), 1);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0], msg);
	conf_free(&c);
}

static void
expect_ok(const char *text)
{
	struct conf	c;
	struct errs	e;

	if (load(&c, &e, text) != 0)
		fail_msg("'%s': unexpected error: %s", text, e.msg[0]);
	assert_int_equal(e.n, 0);
	conf_free(&c);
}

/* No variable the loader reads may leak in from the caller or a test. */
static void
clear_env(void)
{
	size_t	i;

	for (i = 0; i < conf_nkeys; i++)
		if (conf_keys[i].env != NULL)
			unsetenv(conf_keys[i].env);
	unsetenv("NODE_ENV");
}

/* A file in the test's private directory; the caller frees the path. */
static char *
write_temp(const char *text, mode_t mode)
{
	char	*path;
	FILE	*f;
	int	 fd;

	if (asprintf(&path, "%s/f.XXXXXX", tmpdir) == -1)
		abort();	/* fail() is not noreturn for the compiler */
	if ((fd = mkstemp(path)) == -1)
		fail_msg("mkstemp: %s", strerror(errno));
	if ((f = fdopen(fd, "w")) == NULL)
		fail();
	fputs(text, f);
	fclose(f);
	if (chmod(path, mode) != 0)
		fail();
	return path;
}

/* conf_dump into a string; the caller frees it. */
static char *
dump(const struct conf *c)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		fail();
	conf_dump(c, f);
	fclose(f);
	return buf;
}

static const char *
srcdir(void)
{
	const char	*s = getenv("srcdir");

	return s != NULL && *s != '\0' ? s : ".";
}

static int
setup(void **state)
{
	(void)state;
	clear_env();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	clear_env();
	return 0;
}

/* The table is sane and its defaults give a working single-host setup. */
static void
test_table_and_defaults(void **state)
{
	const struct conf_key	*k;
	struct conf		 c;
	size_t			 i, j;

	(void)state;
	assert_true(conf_nkeys > 0 && conf_nkeys <= CONF_KEYS_MAX);
	for (i = 0; i < conf_nkeys; i++) {
		k = &conf_keys[i];
		assert_non_null(k->name);
		assert_non_null(k->def);
		assert_non_null(k->doc);
		assert_true(strlen(k->doc) > 0);
		assert_ptr_equal(conf_key_find(k->name), k);
		assert_true(k->type != CONF_ENUM || k->choices != NULL);
		for (j = 0; j < i; j++) {
			assert_string_not_equal(conf_keys[j].name, k->name);
			if (k->env != NULL && conf_keys[j].env != NULL)
				assert_string_not_equal(conf_keys[j].env,
				    k->env);
		}
	}
	assert_null(conf_key_find("nope"));
	assert_null(conf_key_find(""));

	conf_init(&c);
	assert_int_equal(c.workers, 0);
	assert_int_equal(c.nlisten, 1);
	assert_string_equal(c.listen[0].host, "");
	assert_int_equal(c.listen[0].port, 3002);
	assert_int_equal(c.ncors_origin, 1);
	assert_string_equal(c.cors_origin[0], "*");
	assert_false(c.cors_credentials);
	assert_int_equal(c.log_level, 2);
	assert_int_equal(c.ping_interval, 25000);
	assert_int_equal(c.ping_timeout, 20000);
	assert_int_equal(c.max_payload, 1000000);
	assert_int_equal(c.output_queue_limit, 4194304);
	assert_int_equal(c.shutdown_timeout, 30000);
	assert_int_equal(c.jwt_algorithm, 0);
	assert_string_equal(conf_jwt_algs[c.jwt_algorithm], "HS256");
	assert_string_equal(c.jwt_secret, "");
	assert_string_equal(c.auth_service_url, "");
	assert_string_equal(c.run_dir, "/run/socket-gateway");
	/* Issue 13's resilience defaults: at most 3 tries in all. */
	assert_int_equal(c.service_retries, 2);
	assert_int_equal(c.retry_base, 100);
	assert_int_equal(c.retry_cap, 2000);
	assert_int_equal(c.retry_budget, 20);
	assert_int_equal(c.breaker_threshold, 5);
	assert_int_equal(c.breaker_failure_rate, 50);
	assert_int_equal(c.breaker_window, 10000);
	assert_int_equal(c.breaker_min_calls, 20);
	assert_int_equal(c.breaker_cooldown, 30000);
	assert_int_equal(c.breaker_max_cooldown, 300000);
	conf_free(&c);
}

/*
 * The resilience keys reach the gateway as the breaker's and the backoff's
 * own settings, and their defaults are those modules' defaults, so that
 * the table and breaker.h / backoff.h cannot drift apart.
 */
static void
test_services_policy(void **state)
{
	struct conf		 c;
	struct errs		 e;
	struct gateway_conf	 g;
	struct breaker_conf	 bc;
	struct backoff_conf	 rc;

	(void)state;
	assert_int_equal(load(&c, &e, ""), 0);
	conf_gateway(&c, &g);
	breaker_defaults(&bc);
	backoff_defaults(&rc);
	assert_memory_equal(&g.breaker, &bc, sizeof(bc));
	assert_memory_equal(&g.retry, &rc, sizeof(rc));
	conf_free(&c);

	assert_int_equal(load(&c, &e, "service_retries 0\nretry_base 5ms\n"
	    "retry_cap 1m\nretry_budget 0\nbreaker_threshold 7\n"
	    "breaker_failure_rate 100\nbreaker_window 1m\n"
	    "breaker_min_calls 1\nbreaker_cooldown 1s\n"
	    "breaker_max_cooldown 1h\n"), 0);
	conf_gateway(&c, &g);
	assert_int_equal(g.retry.tries, 1);
	assert_int_equal(g.retry.base, 5);
	assert_int_equal(g.retry.cap, 60000);
	assert_int_equal(g.retry.budget, 0);
	assert_int_equal(g.breaker.consecutive, 7);
	assert_int_equal(g.breaker.failure_rate, 100);
	assert_int_equal(g.breaker.window, 60000);
	assert_int_equal(g.breaker.min_calls, 1);
	assert_int_equal(g.breaker.cooldown, 1000);
	assert_int_equal(g.breaker.max_cooldown, 3600000);
	conf_free(&c);

	expect_error("breaker_failure_rate 0\n",
	    "x.conf:1: breaker_failure_rate: 0 is below the minimum 1");
	expect_error("breaker_failure_rate 101\n",
	    "x.conf:1: breaker_failure_rate: 101 is above the maximum 100");
	expect_error("retry_budget 101\n",
	    "x.conf:1: retry_budget: 101 is above the maximum 100");
	expect_error("breaker_window 999ms\n",
	    "x.conf:1: breaker_window: 999ms is below the minimum 1s");
	expect_error("breaker_min_calls 0\n",
	    "x.conf:1: breaker_min_calls: 0 is below the minimum 1");
	expect_error("retry_base 0\n",
	    "x.conf:1: retry_base: 0 is below the minimum 1ms");
	expect_ok("retry_budget 0\nbreaker_failure_rate 1\nretry_base 1\n");
}

/*
 * A header line (conf_svc.c): a token-character name, a colon, a value
 * that is not empty and has no line break; not one the gateway sets.
 */
static void
test_header_check(void **state)
{
	(void)state;
	assert_null(conf_header_check("X-Api-Key: abc"));
	assert_null(conf_header_check("X-Api-Key:abc"));
	assert_null(conf_header_check("Authorization: Basic dXNlcjpw"));
	assert_null(conf_header_check("x!#$%&'*+-.^_`|~9: a\tb c"));
	assert_non_null(strstr(conf_header_check("X-Api-Key abc"),
	    "no colon"));
	assert_non_null(strstr(conf_header_check("X Api: abc"),
	    "header name is letters"));
	assert_non_null(strstr(conf_header_check("X(Api): abc"),
	    "header name is letters"));
	assert_non_null(strstr(conf_header_check(": abc"),
	    "no name before the colon"));
	assert_non_null(strstr(conf_header_check("X-Api-Key: a\r\nX: b"),
	    "line break"));
	assert_non_null(strstr(conf_header_check("X-Api-Key: a\nb"),
	    "line break"));
	assert_non_null(strstr(conf_header_check("X-Api-Key: a\033b"),
	    "control character"));
	assert_non_null(strstr(conf_header_check("X-Api-Key: \t "),
	    "empty value"));
	assert_non_null(strstr(conf_header_check("X-Api-Key:"),
	    "empty value"));
	assert_non_null(strstr(conf_header_check("content-length: 5"),
	    "sets itself"));
	assert_non_null(strstr(conf_header_check("Idempotency-Key: x"),
	    "sets itself"));
	assert_null(conf_header_check("Content-Lengthy: 5"));
}

/*
 * Each service's own timeout, limit and credentials (issue 13): 0 or ""
 * takes the shared key's; own credentials replace the shared ones whole;
 * -t names the key of a bad header or token, and quotes neither.
 */
static void
test_service_settings(void **state)
{
	struct conf		 c;
	struct errs		 e;
	struct gateway_conf	 g;
	char			*out;
	int			 i;

	(void)state;
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"), 0);
	conf_gateway(&c, &g);
	for (i = 0; i < STATS_SERVICES; i++) {
		assert_int_equal(g.services.svc_timeout[i], 5000);
		assert_int_equal(g.services.svc_max_inflight[i], 64);
		assert_string_equal(g.services.svc_token[i], "");
		assert_string_equal(g.services.svc_header[i], "");
	}
	conf_free(&c);

	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "service_timeout 3s\nchat_service_timeout 2s\n"
	    "ai_engine_timeout 300ms\nai_engine_max_inflight 8\n"
	    "service_token shared-tok\nservice_header \"X-Team: core\"\n"
	    "ai_engine_header \"X-Api-Key: k3y\"\n"
	    "auth_service_token auth-tok\n"), 0);
	conf_gateway(&c, &g);
	assert_int_equal(g.services.svc_timeout[STATS_SVC_CHAT], 2000);
	assert_int_equal(g.services.svc_timeout[STATS_SVC_AI], 300);
	assert_int_equal(g.services.svc_timeout[STATS_SVC_AUTH], 3000);
	assert_int_equal(g.services.svc_max_inflight[STATS_SVC_AI], 8);
	assert_int_equal(g.services.svc_max_inflight[STATS_SVC_CHAT], 64);
	assert_string_equal(g.services.svc_token[STATS_SVC_AI], "");
	assert_string_equal(g.services.svc_header[STATS_SVC_AI],
	    "X-Api-Key: k3y");
	assert_string_equal(g.services.svc_token[STATS_SVC_AUTH], "auth-tok");
	assert_string_equal(g.services.svc_header[STATS_SVC_AUTH], "");
	assert_string_equal(g.services.svc_token[STATS_SVC_PRESENCE],
	    "shared-tok");
	assert_string_equal(g.services.svc_header[STATS_SVC_PRESENCE],
	    "X-Team: core");
	out = dump(&c);
	assert_null(strstr(out, "k3y"));
	assert_null(strstr(out, "auth-tok"));
	assert_null(strstr(out, "core"));
	assert_non_null(strstr(out, "\nai_engine_header \"***\"\n"));
	assert_non_null(strstr(out, "\nservice_header \"***\"\n"));
	assert_non_null(strstr(out, "\nchat_service_header \"\"\n"));
	assert_non_null(strstr(out, "\nai_engine_timeout 300ms\n"));
	free(out);
	conf_free(&c);

	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "auth_service_header \"X-Api-Key s3cr3t\"\n"), 1);
	assert_string_equal(e.msg[0], "auth_service_header is not \"Name: "
	    "value\": it has no colon");
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "service_header \"X-Api-Key: s3cr3t\r\"\n"
	    "quantum_room_engine_token \"a s3cr3t\"\n"
	    "chat_service_timeout 99ms\n"), 3);
	assert_string_equal(e.msg[0], "service_header has a line break (CR "
	    "or LF) in its value");
	assert_non_null(strstr(e.msg[1], "chat_service_timeout (99ms) must "
	    "be 0 (service_timeout) or at least 100ms"));
	assert_non_null(strstr(e.msg[2], "quantum_room_engine_token has a "
	    "space"));
	for (i = 0; i < e.n && i < MAXERR; i++)
		assert_null(strstr(e.msg[i], "s3cr3t"));
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "service_token t\nservice_header \"authorization: Basic x\"\n"),
	    CONF_SERVICES);
	assert_non_null(strstr(e.msg[0], "auth_service would get two "
	    "Authorization headers"));
	conf_free(&c);
	/* Its own header: the shared token is not sent to it, no clash. */
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "service_token t\nai_engine_header \"Authorization: Basic x\"\n"),
	    0);
	conf_free(&c);
	expect_error("ai_engine_max_inflight 100001\n", "x.conf:1: "
	    "ai_engine_max_inflight: 100001 is above the maximum 100000");
}

/*
 * group_membership (issue 13): auto is service with a chat service, else
 * open; service without one is an error of -t; the groups claim is read
 * in token mode only.
 */
static void
test_membership(void **state)
{
	struct conf		 c;
	struct errs		 e;
	struct gateway_conf	 g;

	(void)state;
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"), 0);
	conf_gateway(&c, &g);
	assert_int_equal(g.membership, GW_MEMBERSHIP_OPEN);
	assert_int_equal(g.auth.groups_max, 0);
	assert_string_equal(g.groups_path, "/api/groups");
	assert_int_equal(g.membership_ttl, 60000);
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "chat_service_url http://chat:3003\n"), 0);
	conf_gateway(&c, &g);
	assert_int_equal(g.membership, GW_MEMBERSHIP_SERVICE);
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "chat_service_url http://chat:3003\ngroup_membership open\n"), 0);
	conf_gateway(&c, &g);
	assert_int_equal(g.membership, GW_MEMBERSHIP_OPEN);
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "group_membership token\nmembership_token_groups 5\n"), 0);
	conf_gateway(&c, &g);
	assert_int_equal(g.membership, GW_MEMBERSHIP_TOKEN);
	assert_int_equal(g.auth.groups_max, 5);
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "group_membership service\n"), 1);
	assert_non_null(strstr(e.msg[0], "group_membership service needs "
	    "chat_service_url"));
	conf_free(&c);
	/* The auth service's answer carries no groups claim. */
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "auth_service_url http://auth:3001\nauth_mode both\n"
	    "group_membership token\n"), 1);
	assert_non_null(strstr(e.msg[0], "group_membership token reads the "
	    "groups claim"));
	conf_free(&c);
	expect_error("group_membership closed\n", "x.conf:1: group_membership: "
	    "'closed' is not one of auto, service, token, open");
}

/* Every key written with its default, as the shipped file shows them. */
static void
test_every_default_parses_from_a_file(void **state)
{
	const struct conf_key	*k;
	char			 line[512], *text = NULL;
	size_t			 i, len = 0;
	struct conf		 c;
	struct errs		 e;

	(void)state;
	for (i = 0; i < conf_nkeys; i++) {
		k = &conf_keys[i];
		snprintf(line, sizeof(line), "%s \"%s\"\n", k->name, k->def);
		text = realloc(text, len + strlen(line) + 1);
		assert_non_null(text);
		memcpy(text + len, line, strlen(line) + 1);
		len += strlen(line);
	}
	assert_int_equal(load(&c, &e, text), 0);
	assert_int_equal(c.nlisten, 1);
	assert_int_equal(c.listen[0].port, 3002);
	conf_free(&c);
	free(text);
}

static void
test_unknown_key(void **state)
{
	(void)state;
	expect_error("wrokers 3\n",
	    "x.conf:1: unknown key 'wrokers' (did you mean 'workers'?)");
	expect_error("# a comment\n\nping_intervall 1s\n",
	    "x.conf:3: unknown key 'ping_intervall' (did you mean "
	    "'ping_interval'?)");
	expect_error("listn 80\n",
	    "x.conf:1: unknown key 'listn' (did you mean 'listen'?)");
	expect_error("Workers 3\n",
	    "x.conf:1: unknown key 'Workers' (did you mean 'workers'?)");
	expect_error("zzzzzzzzz 3\n", "x.conf:1: unknown key 'zzzzzzzzz'");
	expect_error("port 3002\n", "x.conf:1: unknown key 'port'");
	assert_null(conf_key_suggest("a_name_far_longer_than_any_key_and_"
	    "longer_than_sixty_four_characters_in_all"));
}

static void
test_bad_numbers(void **state)
{
	(void)state;
	expect_error("workers many\n",
	    "x.conf:1: workers: 'many' is not a number");
	expect_error("workers 4x\n", "x.conf:1: workers: '4x' is not a number");
	expect_error("workers 0x10\n",
	    "x.conf:1: workers: '0x10' is not a number");
	expect_error("workers 99999999999999999999\n",
	    "x.conf:1: workers: '99999999999999999999' is not a number");
	expect_error("max_payload 1.5k\n",
	    "x.conf:1: max_payload: '1.5k' is not a size (64k, 1mb)");
	expect_error("max_payload 1tb\n",
	    "x.conf:1: max_payload: '1tb' is not a size (64k, 1mb)");
	expect_error("max_payload -1\n",
	    "x.conf:1: max_payload: '-1' is not a size (64k, 1mb)");
	expect_error("ping_interval 2d\n",
	    "x.conf:1: ping_interval: '2d' is not a duration (500ms, 25s, 2m)");
	expect_error("ping_interval soon\n",
	    "x.conf:1: ping_interval: 'soon' is not a duration (500ms, 25s, "
	    "2m)");
	expect_error("ping_interval 25S\n",
	    "x.conf:1: ping_interval: '25S' is not a duration (500ms, 25s, "
	    "2m)");
}

static void
test_ranges(void **state)
{
	(void)state;
	expect_error("ping_interval 0s\n",
	    "x.conf:1: ping_interval: 0s is below the minimum 100ms");
	expect_error("ping_interval 99\n",
	    "x.conf:1: ping_interval: 99 is below the minimum 100ms");
	expect_error("ping_interval 2d\n",
	    "x.conf:1: ping_interval: '2d' is not a duration (500ms, 25s, 2m)");
	expect_error("ping_interval 25h\n",
	    "x.conf:1: ping_interval: 25h is above the maximum 86400s");
	expect_error("drain_interval 2m\n",
	    "x.conf:1: drain_interval: 2m is above the maximum 60s");
	expect_error("drain_interval 0\n",
	    "x.conf:1: drain_interval: 0 is below the minimum 1ms");
	expect_error("workers 300\n",
	    "x.conf:1: workers: 300 is above the maximum 256");
	expect_error("workers -1\n",
	    "x.conf:1: workers: -1 is below the minimum 0");
	expect_error("max_payload 10\n",
	    "x.conf:1: max_payload: 10 is below the minimum 64");
	expect_error("max_payload 1gb\n",
	    "x.conf:1: max_payload: 1gb is above the maximum 1000000");
	expect_error("service_retries 11\n",
	    "x.conf:1: service_retries: 11 is above the maximum 10");
	/* The limits themselves are allowed. */
	expect_ok("ping_interval 100ms\nworkers 256\nmax_payload 64\n"
	    "drain_interval 60s\nservice_retries 0\n");
}

static void
test_enum_bool_url_path(void **state)
{
	struct conf	c;
	struct errs	e;

	(void)state;
	expect_error("log_level loud\n",
	    "x.conf:1: log_level: 'loud' is not one of error, warn, info, "
	    "debug");
	expect_error("jwt_algorithm none\n",
	    "x.conf:1: jwt_algorithm: 'none' is not one of HS256, HS384, "
	    "HS512, RS256, RS384, RS512, ES256, ES384, ES512");
	expect_error("presence_mode some\n",
	    "x.conf:1: presence_mode: 'some' is not one of all, scoped");
	expect_error("cors_credentials maybe\n",
	    "x.conf:1: cors_credentials: 'maybe' is not yes or no");
	expect_error("auth_service_url ftp://auth\n",
	    "x.conf:1: auth_service_url: 'ftp://auth' is not a http:// or "
	    "https:// URL");
	expect_error("chat_service_url chat:8080\n",
	    "x.conf:1: chat_service_url: 'chat:8080' is not a http:// or "
	    "https:// URL");
	expect_error("redis_url http://cache\n",
	    "x.conf:1: redis_url: scheme: 'http' is not redis:// or unix://");
	expect_error("redis_url rediss://cache:6380\n",
	    "x.conf:1: redis_url: rediss:// (TLS) needs hiredis >= 1.0 and "
	    "Debian 12 has 0.14.1: use a unix:// socket, or a TLS tunnel "
	    "such as stunnel to a redis:// address on the loopback");
	expect_error("redis_url redis://:pw@cache:99999/0\n",
	    "x.conf:1: redis_url: port: not a number in 1..65535");
	expect_error("run_dir run\n",
	    "x.conf:1: run_dir: 'run' is not an absolute path");
	expect_error("tls_cert ./cert.pem\n",
	    "x.conf:1: tls_cert: './cert.pem' is not an absolute path");
	expect_error("run_dir \"\"\n",
	    "x.conf:1: run_dir: length 0 is outside 1..256");
	expect_error("node_id aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaa\n",
	    "x.conf:1: node_id: length 65 is outside 0..64");

	assert_int_equal(load(&c, &e, "log_level WARNING\n"
	    "jwt_algorithm rs256\npresence_mode scoped\n"), 0);
	assert_int_equal(c.log_level, 1);
	assert_int_equal(c.jwt_algorithm, 3);
	assert_int_equal(c.presence_mode, 1);
	conf_free(&c);

	assert_int_equal(load(&c, &e, "cors_credentials yes\n"), 0);
	assert_true(c.cors_credentials);
	conf_free(&c);
	expect_ok("cors_credentials on\n");
	expect_ok("cors_credentials TRUE\n");
	expect_ok("cors_credentials 1\n");
	assert_int_equal(load(&c, &e, "cors_credentials off\n"), 0);
	assert_false(c.cors_credentials);
	conf_free(&c);
	expect_ok("cors_credentials no\n");
	expect_ok("cors_credentials False\n");
	expect_ok("cors_credentials 0\n");

	expect_ok("auth_service_url http://auth:3001\n"
	    "chat_service_url https://chat.example/api\n"
	    "presence_engine_url \"\"\n"
	    "redis_url redis://cache:6379/0\n");
	expect_ok("redis_url redis://app:pw@[::1]:6380/2\n");
	expect_ok("redis_url unix:///run/redis.sock\n");
	expect_ok("tls_cert /etc/ssl/cert.pem\ntls_key /etc/ssl/key.pem\n");
}

static void
test_duplicate_key(void **state)
{
	(void)state;
	expect_error("workers 1\nuser nobody\nworkers 2\n",
	    "x.conf:3: duplicate key 'workers' (first set on line 1)");
	expect_error("log_level info\n\n# again\nlog_level debug\n",
	    "x.conf:4: duplicate key 'log_level' (first set on line 1)");
}

static void
test_syntax_errors(void **state)
{
	char	*line;

	(void)state;
	expect_error("user \"nobody\n", "x.conf:1: unterminated quoted string");
	expect_error("user \"nobody\\\"\n",
	    "x.conf:1: unterminated quoted string");
	expect_error("user \"nobody\" extra\n",
	    "x.conf:1: text after the closing quote");
	expect_error("user \"a\"\"b\"\n",
	    "x.conf:1: text after the closing quote");
	expect_error("workers\n", "x.conf:1: missing value");
	expect_error("workers   \t \n", "x.conf:1: missing value");
	expect_error("workers # four\n", "x.conf:1: missing value");
	expect_error("cors_origin #\n", "x.conf:1: missing value");

	/* CONF_LINE_MAX - 1 bytes is the longest line. */
	line = malloc(CONF_LINE_MAX + 2);
	assert_non_null(line);
	memset(line, ' ', CONF_LINE_MAX + 1);
	memcpy(line, "workers 2", 9);
	line[CONF_LINE_MAX - 1] = '\n';
	line[CONF_LINE_MAX] = '\0';
	expect_ok(line);
	line[CONF_LINE_MAX - 1] = ' ';
	line[CONF_LINE_MAX] = '\n';
	line[CONF_LINE_MAX + 1] = '\0';
	expect_error(line, "x.conf:1: line longer than 4095 bytes");
	free(line);
}

/* A NUL cannot come through a C string: conf_load_buffer takes a length. */
static void
test_nul_byte(void **state)
{
	static const char	 text[] = "workers 1\nuser no\0body\nlog_level "
	    "debug\n";
	struct conf		 c;
	struct errs		 e;

	(void)state;
	memset(&e, 0, sizeof(e));
	conf_init(&c);
	assert_int_equal(conf_load_buffer(&c, "x.conf", text, sizeof(text) - 1,
	    collect, &e), 1);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0], "x.conf:2: NUL byte in line");
	assert_int_equal(c.workers, 1);
	assert_int_equal(c.log_level, 3);
	assert_string_equal(c.user, "");
	conf_free(&c);
}

/* Every error is reported, each with its own line, and parsing goes on. */
static void
test_all_errors_reported(void **state)
{
	struct conf	c;
	struct errs	e;

	(void)state;
	assert_int_equal(load(&c, &e,
	    "# socket-gateway.conf\n"
	    "wrokers 3\n"
	    "log_level debug\n"
	    "ping_interval 0s\n"
	    "user \"x\n"
	    "max_connections 10\n"
	    "cors_credentials perhaps\n"
	    "log_level error\n"
	    "spool_dir var/spool"), 6);
	assert_int_equal(e.n, 6);
	assert_string_equal(e.msg[0],
	    "x.conf:2: unknown key 'wrokers' (did you mean 'workers'?)");
	assert_string_equal(e.msg[1],
	    "x.conf:4: ping_interval: 0s is below the minimum 100ms");
	assert_string_equal(e.msg[2], "x.conf:5: unterminated quoted string");
	assert_string_equal(e.msg[3],
	    "x.conf:7: cors_credentials: 'perhaps' is not yes or no");
	assert_string_equal(e.msg[4],
	    "x.conf:8: duplicate key 'log_level' (first set on line 3)");
	assert_string_equal(e.msg[5],
	    "x.conf:9: spool_dir: 'var/spool' is not an absolute path");
	/* What did parse took effect; the bad values left the defaults. */
	assert_int_equal(c.log_level, 3);
	assert_int_equal(c.max_connections, 10);
	assert_int_equal(c.ping_interval, 25000);
	conf_free(&c);
}

static void
test_comments_and_quotes(void **state)
{
	struct conf	c;
	struct errs	e;

	(void)state;
	assert_int_equal(load(&c, &e,
	    "# comment\n"
	    "   # indented comment\n"
	    "\n"
	    "\t\n"
	    "workers 4 # trailing comment\n"
	    "jwt_audience a#b\n"
	    "jwt_issuer \"iss # not a comment\"   # but this is\n"
	    "user \"a\\\"b\\\\c\\n\"\n"
	    "node_id \"\"\n"
	    "jwt_user_claim\t \tuid  \t\n"
	    "log_level debug\r\n"
	    "run_dir \"/var/run/with space\""), 0);
	assert_int_equal(c.workers, 4);
	assert_string_equal(c.jwt_audience, "a#b");
	assert_string_equal(c.jwt_issuer, "iss # not a comment");
	/* \" and \\ are escapes; any other backslash stays as it is. */
	assert_string_equal(c.user, "a\"b\\c\\n");
	assert_string_equal(c.node_id, "");
	assert_string_equal(c.jwt_user_claim, "uid");
	assert_int_equal(c.log_level, 3);
	assert_string_equal(c.run_dir, "/var/run/with space");
	conf_free(&c);
}

static void
test_sizes(void **state)
{
	static const struct {
		const char	*in;
		long long	 out;
	} ok[] = {
		{ "0", 0 }, { "1", 1 }, { "1b", 1 }, { "64", 64 },
		{ "1k", 1000 }, { "1K", 1000 },
		{ "1kb", 1024 }, { "1KB", 1024 },
		{ "64k", 64000 }, { "64kb", 65536 },
		{ "2m", 2000000 }, { "2mb", 2097152 }, { "2Mb", 2097152 },
		{ "1g", 1000000000 }, { "1gb", 1073741824 },
		{ "3gb", 3221225472LL },
	};
	static const char *const bad[] = { "", "k", "kb", "-1", "+1", " 1",
	    "1 k", "1.5k", "1kib", "1t", "1tb", "1kk", "0x10",
	    "9223372036854775807k", "99999999999999999999",
	    "9007199254740993gb" };
	struct conf	c;
	struct errs	e;
	long long	v;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = -1;
		if (conf_parse_size(ok[i].in, &v) != 0)
			fail_msg("size '%s' refused", ok[i].in);
		if (v != ok[i].out)
			fail_msg("size '%s' = %lld, not %lld", ok[i].in, v,
			    ok[i].out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (conf_parse_size(bad[i], &v) == 0)
			fail_msg("size '%s' accepted as %lld", bad[i], v);

	assert_int_equal(load(&c, &e, "max_payload 64kb\n"
	    "output_queue_limit 2m\n"), 0);
	assert_int_equal(c.max_payload, 65536);
	assert_int_equal(c.output_queue_limit, 2000000);
	conf_free(&c);
}

static void
test_durations(void **state)
{
	static const struct {
		const char	*in;
		long long	 out;
	} ok[] = {
		{ "0", 0 }, { "500", 500 }, { "500ms", 500 }, { "25s", 25000 },
		{ "2m", 120000 }, { "1h", 3600000 }, { "48h", 172800000 },
	};
	static const char *const bad[] = { "", "s", "ms", "-1", "-1s", "+1s",
	    " 1s", "1 s", "1.5s", "1d", "1S", "1MS", "1H", "1sec", "1min",
	    "1hh", "9223372036854775807h", "99999999999999999999" };
	struct conf	c;
	struct errs	e;
	long long	v;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = -1;
		if (conf_parse_duration(ok[i].in, &v) != 0)
			fail_msg("duration '%s' refused", ok[i].in);
		if (v != ok[i].out)
			fail_msg("duration '%s' = %lld, not %lld", ok[i].in, v,
			    ok[i].out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (conf_parse_duration(bad[i], &v) == 0)
			fail_msg("duration '%s' accepted as %lld", bad[i], v);

	assert_int_equal(load(&c, &e, "ping_interval 500\n"
	    "ping_timeout 2m\nconnect_timeout 1h\nshutdown_timeout 1500ms\n"),
	    0);
	assert_int_equal(c.ping_interval, 500);
	assert_int_equal(c.ping_timeout, 120000);
	assert_int_equal(c.connect_timeout, 3600000);
	assert_int_equal(c.shutdown_timeout, 1500);
	conf_free(&c);
}

static void
test_listen_forms(void **state)
{
	static const struct {
		const char	*in;
		const char	*host;
		int		 port;
	} ok[] = {
		{ "3002", "", 3002 },
		{ "1", "", 1 },
		{ "65535", "", 65535 },
		{ "*:8080", "", 8080 },
		{ "127.0.0.1:3002", "127.0.0.1", 3002 },
		{ "0.0.0.0:80", "0.0.0.0", 80 },
		{ "localhost:443", "localhost", 443 },
		{ "[::1]:3002", "::1", 3002 },
		{ "[::]:3002", "::", 3002 },
		{ "[fe80::1%eth0]:9", "fe80::1%eth0", 9 },
	};
	static const char *const bad[] = { "", "0", "65536", "99999999999",
	    "-1", "+80", "abc", "80x", "80 ", ":80", "host:", "host:port",
	    "1.2.3.4:", "::1:80", "[::1]", "[::1]80", "[::1]:", "[]:80",
	    "[::1:80", "a:b:80",
	    ("a234567890123456789012345678901234567890"
	    "123456789012345678901234:80")
	};
	struct conf_listen	l;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (conf_parse_listen(ok[i].in, &l) != 0)
			fail_msg("listen '%s' refused", ok[i].in);
		assert_string_equal(l.host, ok[i].host);
		assert_int_equal(l.port, ok[i].port);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (conf_parse_listen(bad[i], &l) == 0)
			fail_msg("listen '%s' accepted", bad[i]);
	expect_error("listen 0\n", "x.conf:1: listen: '0' is not "
	    "[address:]port with a port in 1..65535");
	expect_error("listen ::1:80\n", "x.conf:1: listen: '::1:80' is not "
	    "[address:]port with a port in 1..65535");
}

/* The first listen replaces the default; the next ones add listeners. */
static void
test_listen_repeats(void **state)
{
	struct conf	c;
	struct errs	e;
	char		text[CONF_LISTEN_MAX * 20 + 20];
	size_t		i, len = 0;

	(void)state;
	assert_int_equal(load(&c, &e, "listen 127.0.0.1:4000\n"), 0);
	assert_int_equal(c.nlisten, 1);
	assert_string_equal(c.listen[0].host, "127.0.0.1");
	assert_int_equal(c.listen[0].port, 4000);
	conf_free(&c);

	assert_int_equal(load(&c, &e, "listen 127.0.0.1:4000\n"
	    "workers 1\nlisten [::1]:4001\nlisten 4002\n"), 0);
	assert_int_equal(c.nlisten, 3);
	assert_string_equal(c.listen[1].host, "::1");
	assert_int_equal(c.listen[1].port, 4001);
	assert_string_equal(c.listen[2].host, "");
	assert_int_equal(c.listen[2].port, 4002);
	conf_free(&c);

	for (i = 0; i <= CONF_LISTEN_MAX; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "listen %zu\n", 5000 + i);
	assert_int_equal(load(&c, &e, text), 1);
	assert_string_equal(e.msg[0], "x.conf:17: listen: more than 16 "
	    "listeners");
	assert_int_equal(c.nlisten, CONF_LISTEN_MAX);
	conf_free(&c);
}

static void
test_cors_origin_list(void **state)
{
	struct conf	c;
	struct errs	e;

	(void)state;
	assert_int_equal(load(&c, &e,
	    "cors_origin https://a.example, https://b.example ,"
	    "https://c.example\n"), 0);
	assert_int_equal(c.ncors_origin, 3);
	assert_string_equal(c.cors_origin[0], "https://a.example");
	assert_string_equal(c.cors_origin[1], "https://b.example");
	assert_string_equal(c.cors_origin[2], "https://c.example");
	conf_free(&c);

	/* Repeated lines add to the list; the first replaces the "*". */
	assert_int_equal(load(&c, &e, "cors_origin https://a.example\n"
	    "cors_origin \"https://b.example,,\"\n"), 0);
	assert_int_equal(c.ncors_origin, 2);
	assert_string_equal(c.cors_origin[0], "https://a.example");
	assert_string_equal(c.cors_origin[1], "https://b.example");
	conf_free(&c);

	/* An empty quoted value allows no origin at all. */
	assert_int_equal(load(&c, &e, "cors_origin \"\"\n"), 0);
	assert_int_equal(c.ncors_origin, 0);
	conf_free(&c);

	expect_error("cors_origin a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n",
	    "x.conf:1: cors_origin: more than 16 entries");
}

/* The seed's variables override the file; each error names its variable. */
static void
test_env_overrides(void **state)
{
	struct conf	c;
	struct errs	e;

	(void)state;
	assert_int_equal(load(&c, &e, "listen 127.0.0.1:4000\n"
	    "listen [::1]:4001\nlog_level error\njwt_secret from-file\n"
	    "cors_origin https://file.example\n"), 0);
	setenv("PORT", "5000", 1);
	setenv("JWT_SECRET", "from-env", 1);
	setenv("CHAT_SERVICE_URL", "http://chat:3003", 1);
	setenv("AUTH_SERVICE_URL", "https://auth:3001/v1", 1);
	setenv("LOG_LEVEL", "warn", 1);
	setenv("CORS_ORIGIN", "https://a.example,https://b.example", 1);
	setenv("REDIS_URL", "redis://cache:6379", 1);
	assert_int_equal(conf_apply_env(&c, collect, &e), 0);
	assert_int_equal(e.n, 0);
	/* PORT changes every listener's port and keeps its address. */
	assert_int_equal(c.nlisten, 2);
	assert_string_equal(c.listen[0].host, "127.0.0.1");
	assert_int_equal(c.listen[0].port, 5000);
	assert_string_equal(c.listen[1].host, "::1");
	assert_int_equal(c.listen[1].port, 5000);
	assert_string_equal(c.jwt_secret, "from-env");
	assert_string_equal(c.chat_service_url, "http://chat:3003");
	assert_string_equal(c.auth_service_url, "https://auth:3001/v1");
	assert_string_equal(c.redis_url, "redis://cache:6379");
	assert_int_equal(c.log_level, 1);
	assert_int_equal(c.ncors_origin, 2);
	assert_string_equal(c.cors_origin[0], "https://a.example");
	assert_string_equal(c.cors_origin[1], "https://b.example");
	conf_free(&c);

	/* NODE_ENV=development means debug, unless LOG_LEVEL says more. */
	clear_env();
	setenv("NODE_ENV", "development", 1);
	assert_int_equal(load(&c, &e, "log_level error\n"), 0);
	assert_int_equal(conf_apply_env(&c, collect, &e), 0);
	assert_int_equal(c.log_level, 3);
	conf_free(&c);
	setenv("LOG_LEVEL", "info", 1);
	assert_int_equal(load(&c, &e, ""), 0);
	assert_int_equal(conf_apply_env(&c, collect, &e), 0);
	assert_int_equal(c.log_level, 2);
	conf_free(&c);
	clear_env();
	setenv("NODE_ENV", "production", 1);
	assert_int_equal(load(&c, &e, ""), 0);
	assert_int_equal(conf_apply_env(&c, collect, &e), 0);
	assert_int_equal(c.log_level, 2);
	conf_free(&c);
}

static void
test_env_errors(void **state)
{
	struct conf	c;
	struct errs	e;

	(void)state;
	setenv("PORT", "abc", 1);
	setenv("LOG_LEVEL", "loud", 1);
	setenv("CHAT_SERVICE_URL", "chat:3003", 1);
	assert_int_equal(load(&c, &e, ""), 0);
	assert_int_equal(conf_apply_env(&c, collect, &e), 3);
	assert_int_equal(e.n, 3);
	/* In table order: log_level, listen, chat_service_url. */
	assert_string_equal(e.msg[0], "environment LOG_LEVEL: log_level: "
	    "'loud' is not one of error, warn, info, debug");
	assert_string_equal(e.msg[1],
	    "environment PORT: 'abc' is not a port in 1..65535");
	assert_string_equal(e.msg[2], "environment CHAT_SERVICE_URL: "
	    "chat_service_url: 'chat:3003' is not a http:// or https:// URL");
	/* A bad value leaves what was there. */
	assert_int_equal(c.listen[0].port, 3002);
	conf_free(&c);

	clear_env();
	setenv("PORT", "127.0.0.1:80", 1);
	assert_int_equal(load(&c, &e, ""), 0);
	assert_int_equal(conf_apply_env(&c, collect, &e), 1);
	assert_string_equal(e.msg[0],
	    "environment PORT: '127.0.0.1:80' is not a port in 1..65535");
	conf_free(&c);

	clear_env();
	setenv("PORT", "70000", 1);
	assert_int_equal(load(&c, &e, ""), 0);
	assert_int_equal(conf_apply_env(&c, collect, &e), 1);
	assert_string_equal(e.msg[0],
	    "environment PORT: '70000' is not a port in 1..65535");
	conf_free(&c);
}

/* --env-file: dotenv syntax, and a variable already set wins. */
static void
test_env_file(void **state)
{
	struct errs	 e;
	char		*path, *want;

	(void)state;
	unsetenv("SGWT_A");
	unsetenv("SGWT_B");
	unsetenv("SGWT_C");
	unsetenv("SGWT_D");
	unsetenv("SGWT_E");
	unsetenv("SGWT_F");
	unsetenv("SGWT_G");
	setenv("SGWT_SET", "from-env", 1);
	path = write_temp(
	    "# a .env file\n"
	    "\n"
	    "SGWT_A=plain\n"
	    "export SGWT_B=exported\n"
	    "SGWT_C=\"double # quoted\"\n"
	    "SGWT_D='single \"quoted\"'\n"
	    "SGWT_E=value # comment\n"
	    "  SGWT_F=trailing   \r\n"
	    "SGWT_G=\n"
	    "SGWT_SET=from-file\n"
	    "PORT=3002\n", 0600);
	memset(&e, 0, sizeof(e));
	assert_int_equal(conf_load_env_file(path, collect, &e), 0);
	assert_int_equal(e.n, 0);
	assert_string_equal(getenv("SGWT_A"), "plain");
	assert_string_equal(getenv("SGWT_B"), "exported");
	assert_string_equal(getenv("SGWT_C"), "double # quoted");
	assert_string_equal(getenv("SGWT_D"), "single \"quoted\"");
	assert_string_equal(getenv("SGWT_E"), "value");
	assert_string_equal(getenv("SGWT_F"), "trailing");
	assert_string_equal(getenv("SGWT_G"), "");
	assert_string_equal(getenv("SGWT_SET"), "from-env");
	assert_string_equal(getenv("PORT"), "3002");
	unlink(path);
	free(path);

	path = write_temp(
	    "SGWT_H=ok\n"
	    "not a pair\n"
	    "SGWT_I=\"unterminated\n"
	    "=value\n"
	    "SGWT-J=dash\n"
	    "SGWT_K=ok\n", 0600);
	memset(&e, 0, sizeof(e));
	assert_int_equal(conf_load_env_file(path, collect, &e), 4);
	assert_int_equal(e.n, 4);
	if (asprintf(&want, "%s:2: expected KEY=VALUE", path) == -1)
		fail();
	assert_string_equal(e.msg[0], want);
	free(want);
	if (asprintf(&want, "%s:3: unterminated quoted value", path) == -1)
		fail();
	assert_string_equal(e.msg[1], want);
	free(want);
	if (asprintf(&want, "%s:4: expected KEY=VALUE", path) == -1)
		fail();
	assert_string_equal(e.msg[2], want);
	free(want);
	if (asprintf(&want, "%s:5: expected KEY=VALUE", path) == -1)
		fail();
	assert_string_equal(e.msg[3], want);
	free(want);
	assert_string_equal(getenv("SGWT_H"), "ok");
	assert_string_equal(getenv("SGWT_K"), "ok");
	assert_null(getenv("SGWT_I"));
	unlink(path);
	free(path);

	memset(&e, 0, sizeof(e));
	assert_int_equal(conf_load_env_file("/nonexistent/.env", collect, &e),
	    1);
	assert_string_equal(e.msg[0],
	    "/nonexistent/.env: cannot open: No such file or directory");

	unsetenv("SGWT_A");
	unsetenv("SGWT_B");
	unsetenv("SGWT_C");
	unsetenv("SGWT_D");
	unsetenv("SGWT_E");
	unsetenv("SGWT_F");
	unsetenv("SGWT_G");
	unsetenv("SGWT_H");
	unsetenv("SGWT_K");
	unsetenv("SGWT_SET");
}

/* Load text, then run the cross-key rules; returns conf_check's count. */
static int
check(struct conf *c, struct errs *e, const char *text)
{
	if (load(c, e, text) != 0)
		fail_msg("'%s': %s", text, e->msg[0]);
	return conf_check(c, collect, e);
}

static void
test_check_rules(void **state)
{
	struct conf	 c;
	struct errs	 e;
	char		*secret, *text, *want;

	(void)state;
	/*
	 * A secret is enough, and so is an auth service alone (issue 13:
	 * auth_mode auto is then service).  Neither: -t must not pass a
	 * configuration whose workers could not start.
	 */
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"), 0);
	assert_int_equal(conf_auth_mode(&c), CONF_AUTH_LOCAL);
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret_file /nonexistent/s\n"
	    "auth_service_url http://auth:3001\n"), 0);
	assert_int_equal(conf_auth_mode(&c), CONF_AUTH_SERVICE);
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "auth_service_url http://auth:3001\n"), 0);
	assert_int_equal(conf_auth_mode(&c), CONF_AUTH_LOCAL);
	conf_free(&c);

	assert_int_equal(check(&c, &e, "jwt_secret_file /nonexistent/s\n"), 1);
	assert_string_equal(e.msg[0], "no way to verify tokens: set jwt_secret "
	    "(or JWT_SECRET), create jwt_secret_file /nonexistent/s, or set "
	    "auth_service_url (or AUTH_SERVICE_URL) for the auth service");
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "auth_mode service\n"), 1);
	assert_string_equal(e.msg[0], "auth_mode service needs "
	    "auth_service_url (or AUTH_SERVICE_URL)");
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret_file /nonexistent/s\n"
	    "auth_mode both\nauth_service_url http://auth:3001\n"), 1);
	assert_true(strstr(e.msg[0], "auth_mode both needs a key too") !=
	    NULL);
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret_file /nonexistent/s\n"
	    "auth_mode local\nauth_service_url http://auth:3001\n"), 1);
	conf_free(&c);

	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "tls_cert /etc/ssl/cert.pem\n"), 1);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0],
	    "tls_cert and tls_key must be set together");
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "tls_key /etc/ssl/key.pem\n"), 1);
	assert_string_equal(e.msg[0],
	    "tls_cert and tls_key must be set together");
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "tls_cert /nonexistent/cert.pem\ntls_key /nonexistent/key.pem\n"),
	    2);
	assert_string_equal(e.msg[0], "tls_cert: /nonexistent/cert.pem: "
	    "No such file or directory");
	assert_string_equal(e.msg[1], "tls_key: /nonexistent/key.pem: "
	    "No such file or directory");
	conf_free(&c);

	assert_int_equal(check(&c, &e, "jwt_algorithm RS256\n"), 1);
	assert_string_equal(e.msg[0],
	    "jwt_algorithm RS256 needs jwt_public_key_file");
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_algorithm ES384\n"
	    "jwt_public_key_file /nonexistent/key.pub\n"), 1);
	assert_string_equal(e.msg[0], "jwt_public_key_file: "
	    "/nonexistent/key.pub: No such file or directory");
	conf_free(&c);
	/* No key, an auth service: it verifies (auth_mode auto). */
	assert_int_equal(check(&c, &e, "jwt_algorithm RS512\n"
	    "auth_service_url https://auth\n"), 0);
	assert_int_equal(conf_auth_mode(&c), CONF_AUTH_SERVICE);
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_algorithm RS512\n"
	    "auth_mode local\nauth_service_url https://auth\n"), 1);
	conf_free(&c);

	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32
	    "\nmax_payload 1m\n"
	    "output_queue_limit 1mb\n"), 1);
	assert_string_equal(e.msg[0], "output_queue_limit (1048576) must be "
	    "at least twice max_payload (1000000)");
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32
	    "\nshutdown_timeout 1s\n"),
	    1);
	assert_string_equal(e.msg[0], "shutdown_timeout (1000ms) is shorter "
	    "than drain_interval (2000ms)");
	conf_free(&c);

	/* Issue 13: a backoff cap under its base, an open time that shrinks. */
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "retry_base 500ms\nretry_cap 200ms\n"), 1);
	assert_string_equal(e.msg[0], "retry_cap (200ms) is shorter than "
	    "retry_base (500ms)");
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "breaker_cooldown 1m\nbreaker_max_cooldown 30s\n"), 1);
	assert_string_equal(e.msg[0], "breaker_max_cooldown (30000ms) is "
	    "shorter than breaker_cooldown (60000ms)");
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "retry_base 2s\nretry_cap 2s\nbreaker_cooldown 5m\n"), 0);
	conf_free(&c);

	/* A secret file others can read is refused, with the fix. */
	if ((secret = write_temp(SECRET32 "\n", 0644)) == NULL)
		abort();
	if (asprintf(&text, "jwt_secret_file %s\n", secret) == -1)
		fail();
	assert_int_equal(check(&c, &e, text), 1);
	if (asprintf(&want, "jwt_secret_file: %s is readable by other users; "
	    "run chmod o-r %s", secret, secret) == -1)
		fail();
	assert_string_equal(e.msg[0], want);
	free(want);
	conf_free(&c);
	assert_int_equal(chmod(secret, 0600), 0);
	assert_int_equal(check(&c, &e, text), 0);
	conf_free(&c);
	/* jwt_secret, when set, is used and the file is not looked at. */
	assert_int_equal(chmod(secret, 0644), 0);
	free(text);
	if (asprintf(&text, "jwt_secret " SECRET32 "\njwt_secret_file %s\n",
	    secret) == -1)
		fail();
	assert_int_equal(check(&c, &e, text), 0);
	conf_free(&c);
	unlink(secret);
	free(secret);
	free(text);
}

/*
 * Issue 11 (hostile clients), items 17 and 18: what -t refuses.  A short
 * HMAC secret (in the file or in a secret file), any CORS origin with
 * credentials, and a status_allow that is not a list of addresses.
 */
static void
test_check_hostile(void **state)
{
	struct conf	 c;
	struct errs	 e;
	char		*secret, *text;

	(void)state;
	assert_int_equal(check(&c, &e, "jwt_secret "
	    "0123456789abcdef0123456789abcde\n"), 1);
	assert_string_equal(e.msg[0], "jwt_secret is 31 bytes; an "
	    "HS256/384/512 secret must be at least 32 bytes (make one with: "
	    "head -c 48 /dev/urandom | base64)");
	conf_free(&c);
	/* Public keys have no such rule. */
	assert_int_equal(check(&c, &e, "jwt_secret x\njwt_algorithm RS256\n"
	    "jwt_public_key_file /nonexistent/k\n"), 1);
	assert_string_equal(e.msg[0], "jwt_public_key_file: /nonexistent/k: "
	    "No such file or directory");
	conf_free(&c);
	/* A secret file's trailing newline does not count. */
	if ((secret = write_temp("0123456789abcdef0123456789abcde\n", 0600))
	    == NULL)
		abort();
	if (asprintf(&text, "jwt_secret_file %s\n", secret) == -1)
		fail();
	assert_int_equal(check(&c, &e, text), 1);
	assert_string_equal(e.msg[0], "jwt_secret_file is 31 bytes; an "
	    "HS256/384/512 secret must be at least 32 bytes (make one with: "
	    "head -c 48 /dev/urandom | base64)");
	conf_free(&c);
	unlink(secret);
	free(secret);
	free(text);

	/* jwt_require_exp: yes unless said otherwise. */
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"), 0);
	assert_true(c.jwt_require_exp);
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "jwt_require_exp no\n"), 0);
	assert_false(c.jwt_require_exp);
	conf_free(&c);

	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "cors_credentials yes\n"), 1);
	assert_string_equal(e.msg[0], "cors_origin * with cors_credentials "
	    "yes would let any web site send credentialed requests; list the "
	    "allowed origins instead");
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "cors_origin https://a.example,*\ncors_credentials yes\n"), 1);
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "cors_origin https://a.example\ncors_credentials yes\n"), 0);
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "cors_origin *\ncors_credentials no\n"), 0);
	conf_free(&c);

	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "status_allow \"127.0.0.1, 10.0.0.0/8 ::1\"\n"), 0);
	conf_free(&c);
	assert_int_equal(check(&c, &e, "jwt_secret " SECRET32 "\n"
	    "status_allow \"127.0.0.1,monitoring.local\"\n"), 1);
	assert_string_equal(e.msg[0], "status_allow: \"monitoring.local\" is "
	    "not an address or an address/prefix");
	conf_free(&c);
}

static void
test_dump_masks_secrets(void **state)
{
	struct conf	 c;
	struct errs	 e;
	char		*out;

	(void)state;
	assert_int_equal(load(&c, &e, "jwt_secret \"hunter2 and more\"\n"
	    "auth_service_url https://gw:pa55@auth.example:3001/v1\n"
	    "chat_service_url http://chat:3003/api\n"
	    "redis_url redis://:r3dis@cache:6379/0\n"
	    "listen 4000\nlisten 127.0.0.1:4001\nlisten [::1]:4002\n"
	    "cors_origin https://a.example,https://b.example\n"
	    "ping_interval 1500\n"), 0);
	out = dump(&c);
	assert_null(strstr(out, "hunter2"));
	assert_null(strstr(out, "pa55"));
	assert_null(strstr(out, "r3dis"));
	assert_non_null(strstr(out, "\njwt_secret \"***\"\n"));
	assert_non_null(strstr(out,
	    "\nauth_service_url \"https://***@auth.example:3001/v1\"\n"));
	assert_non_null(strstr(out,
	    "\nchat_service_url \"http://chat:3003/api\"\n"));
	assert_non_null(strstr(out,
	    "\nredis_url \"redis://***@cache:6379/0\"\n"));
	assert_non_null(strstr(out, "\nlisten *:4000\nlisten 127.0.0.1:4001\n"
	    "listen [::1]:4002\n"));
	assert_non_null(strstr(out,
	    "\ncors_origin https://a.example,https://b.example\n"));
	assert_non_null(strstr(out, "\nping_interval 1500ms\n"));
	assert_non_null(strstr(out, "\nping_timeout 20s\n"));
	assert_non_null(strstr(out, "\nmax_payload 1000000\n"));
	assert_non_null(strstr(out, "\ncors_credentials no\n"));
	assert_non_null(strstr(out, "\nlog_level info\n"));
	assert_int_equal(strncmp(out, "workers 0\n", 10), 0);
	free(out);
	conf_free(&c);

	/* An empty secret shows as empty, not as a masked one. */
	conf_init(&c);
	out = dump(&c);
	assert_non_null(strstr(out, "\njwt_secret \"\"\n"));
	free(out);
	conf_free(&c);
}

/* What -t prints reads back as the same configuration. */
static void
test_dump_round_trip(void **state)
{
	struct conf	 c, d;
	struct errs	 e;
	char		*out, *again;

	(void)state;
	assert_int_equal(load(&c, &e, "workers 3\nlisten 127.0.0.1:4000\n"
	    "listen [::1]:4001\ncors_origin \"\"\nuser \"a b\"\n"
	    "max_payload 64kb\nping_timeout 250\nlog_level debug\n"
	    "cors_credentials yes\njwt_algorithm ES256\n"), 0);
	out = dump(&c);
	memset(&e, 0, sizeof(e));
	conf_init(&d);
	if (conf_load_buffer(&d, "dump", out, strlen(out), collect, &e) != 0)
		fail_msg("dump does not parse: %s", e.msg[0]);
	again = dump(&d);
	assert_string_equal(out, again);
	assert_int_equal(d.ncors_origin, 0);
	assert_int_equal(d.nlisten, 2);
	free(out);
	free(again);
	conf_free(&c);
	conf_free(&d);
}

/* file < environment < command line, and conf_check runs last. */
static void
test_load_all_precedence(void **state)
{
	struct cli_opts	 o;
	struct conf	 c;
	struct errs	 e;
	char		*path, *want;

	(void)state;
	path = write_temp("log_level error\nlisten 127.0.0.1:4000\nworkers 2\n"
	    "jwt_secret from-file-" SECRET32 "\n", 0600);
	memset(&o, 0, sizeof(o));
	o.config = path;
	assert_string_equal(conf_path(&o), path);

	memset(&e, 0, sizeof(e));
	assert_int_equal(conf_load_all(&o, &c, collect, &e), 0);
	assert_int_equal(c.log_level, 0);
	assert_string_equal(c.listen[0].host, "127.0.0.1");
	assert_int_equal(c.listen[0].port, 4000);
	assert_int_equal(c.workers, 2);
	assert_string_equal(c.jwt_secret, "from-file-" SECRET32);
	conf_free(&c);

	setenv("LOG_LEVEL", "warn", 1);
	setenv("PORT", "5000", 1);
	setenv("JWT_SECRET", "from-env-" SECRET32, 1);
	memset(&e, 0, sizeof(e));
	assert_int_equal(conf_load_all(&o, &c, collect, &e), 0);
	assert_int_equal(c.log_level, 1);
	assert_string_equal(c.listen[0].host, "127.0.0.1");
	assert_int_equal(c.listen[0].port, 5000);
	assert_string_equal(c.jwt_secret, "from-env-" SECRET32);
	conf_free(&c);

	o.log_level = "debug";
	o.port = "6000";
	o.workers = "3";
	memset(&e, 0, sizeof(e));
	assert_int_equal(conf_load_all(&o, &c, collect, &e), 0);
	assert_int_equal(c.log_level, 3);
	assert_string_equal(c.listen[0].host, "127.0.0.1");
	assert_int_equal(c.listen[0].port, 6000);
	assert_int_equal(c.workers, 3);
	conf_free(&c);

	/* Each bad flag names itself; conf_check is skipped after errors. */
	o.log_level = "chatty";
	o.port = "0";
	o.workers = "999";
	unsetenv("JWT_SECRET");
	memset(&e, 0, sizeof(e));
	assert_int_equal(conf_load_all(&o, &c, collect, &e), 3);
	assert_int_equal(e.n, 3);
	assert_string_equal(e.msg[0], "command line -w: workers: 999 is above "
	    "the maximum 256");
	assert_string_equal(e.msg[1],
	    "command line -p: '0' is not a port in 1..65535");
	assert_string_equal(e.msg[2], "command line -l: log_level: 'chatty' is "
	    "not one of error, warn, info, debug");
	conf_free(&c);
	unlink(path);
	free(path);

	/* A file with errors: all of them, named by path and line. */
	path = write_temp("workers 1\nwrokers 2\nping_timeout 1d\n", 0600);
	memset(&o, 0, sizeof(o));
	o.config = path;
	memset(&e, 0, sizeof(e));
	assert_int_equal(conf_load_all(&o, &c, collect, &e), 2);
	if (asprintf(&want, "%s:2: unknown key 'wrokers' (did you mean "
	    "'workers'?)", path) == -1)
		fail();
	assert_string_equal(e.msg[0], want);
	free(want);
	if (asprintf(&want, "%s:3: ping_timeout: '1d' is not a duration "
	    "(500ms, 25s, 2m)", path) == -1)
		fail();
	assert_string_equal(e.msg[1], want);
	free(want);
	conf_free(&c);
	unlink(path);
	free(path);

	/* A cross-key rule fails only once everything else is right. */
	path = write_temp("jwt_secret_file /nonexistent/s\n", 0600);
	o.config = path;
	memset(&e, 0, sizeof(e));
	assert_int_equal(conf_load_all(&o, &c, collect, &e), 1);
	assert_non_null(strstr(e.msg[0], "no way to verify tokens"));
	conf_free(&c);
	unlink(path);
	free(path);

	o.config = "/nonexistent/socket-gateway.conf";
	memset(&e, 0, sizeof(e));
	assert_int_equal(conf_load_all(&o, &c, collect, &e), 1);
	assert_string_equal(e.msg[0], "/nonexistent/socket-gateway.conf: "
	    "cannot open: No such file or directory");
	conf_free(&c);
}

/* The shipped file parses with no error and changes nothing. */
static void
test_shipped_file(void **state)
{
	struct conf	 c, d;
	struct errs	 e;
	char		*path, *a, *b;

	(void)state;
	if (asprintf(&path, "%s/etc/socket-gateway.conf", srcdir()) == -1)
		fail();
	memset(&e, 0, sizeof(e));
	conf_init(&c);
	if (conf_load_file(&c, path, collect, &e) != 0)
		fail_msg("%s", e.msg[0]);
	conf_init(&d);
	a = dump(&c);
	b = dump(&d);
	assert_string_equal(a, b);
	free(a);
	free(b);
	conf_free(&c);
	conf_free(&d);
	free(path);
}

/*
 * The shipped file shows every key once as "# key default" (examples are
 * indented, "#   key value").  Uncommented, those lines must parse and give
 * exactly the compiled defaults, so the documented defaults cannot drift
 * from the table.  A default path depends on the prefix the build was
 * configured with: only its tail from "/socket-gateway" on is compared.
 */
static void
test_shipped_file_defaults(void **state)
{
	const struct conf_key	*k;
	struct conf		 c, d;
	struct errs		 e;
	char			*path, *text = NULL, *line = NULL, *a, *b;
	char			**sc, **sd;
	size_t			 cap = 0, len = 0, n, i;
	int			 seen[256] = { 0 };
	FILE			*f;
	ssize_t			 r;

	(void)state;
	assert_true(conf_nkeys <= 256);
	if (asprintf(&path, "%s/etc/socket-gateway.conf", srcdir()) == -1)
		fail();
	if ((f = fopen(path, "r")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	while ((r = getline(&line, &cap, f)) != -1) {
		if (strncmp(line, "# ", 2) != 0)
			continue;
		n = strcspn(line + 2, " \t\n");
		for (i = 0; i < conf_nkeys; i++)
			if (strlen(conf_keys[i].name) == n &&
			    strncmp(line + 2, conf_keys[i].name, n) == 0 &&
			    line[2 + n] == ' ')
				break;
		if (i == conf_nkeys)
			continue;
		if (seen[i]++ != 0 && conf_keys[i].type != CONF_LISTEN &&
		    conf_keys[i].type != CONF_LIST)
			fail_msg("%s: '%s' shown twice with a default", path,
			    conf_keys[i].name);
		text = realloc(text, len + (size_t)r + 1);
		assert_non_null(text);
		memcpy(text + len, line + 2, (size_t)r - 1);
		len += (size_t)r - 2;
		text[len] = '\0';
	}
	fclose(f);
	free(line);
	for (i = 0; i < conf_nkeys; i++)
		if (seen[i] == 0)
			fail_msg("%s: no '# %s <default>' line", path,
			    conf_keys[i].name);
	memset(&e, 0, sizeof(e));
	conf_init(&c);
	if (conf_load_buffer(&c, path, text, len, collect, &e) != 0)
		fail_msg("uncommented defaults: %s", e.msg[0]);
	conf_init(&d);
	for (i = 0; i < conf_nkeys; i++) {
		k = &conf_keys[i];
		if (k->type != CONF_STRING || !(k->flags & CONF_F_PATH))
			continue;
		sc = (char **)(void *)((char *)&c + k->off);
		sd = (char **)(void *)((char *)&d + k->off);
		if (strcmp(*sc, *sd) != 0 &&
		    strstr(*sc, "/socket-gateway") != NULL &&
		    strstr(*sd, "/socket-gateway") != NULL &&
		    strcmp(strstr(*sc, "/socket-gateway"),
		    strstr(*sd, "/socket-gateway")) == 0) {
			free(*sc);
			*sc = strdup(*sd);
		}
	}
	a = dump(&c);
	b = dump(&d);
	assert_string_equal(a, b);
	free(a);
	free(b);
	free(text);
	conf_free(&c);
	conf_free(&d);
	free(path);
}

/* etc/env.example is a working --env-file with the seed's values. */
static void
test_env_example(void **state)
{
	struct conf	 c;
	struct errs	 e;
	char		*path;

	(void)state;
	if (asprintf(&path, "%s/etc/env.example", srcdir()) == -1)
		fail();
	memset(&e, 0, sizeof(e));
	if (conf_load_env_file(path, collect, &e) != 0)
		fail_msg("%s", e.msg[0]);
	assert_string_equal(getenv("PORT"), "3002");
	assert_string_equal(getenv("JWT_SECRET"),
	    "change-me-to-a-random-secret-of-32-bytes-or-more");
	assert_string_equal(getenv("NODE_ENV"), "production");
	assert_int_equal(load(&c, &e, ""), 0);
	if (conf_apply_env(&c, collect, &e) != 0)
		fail_msg("%s", e.msg[0]);
	assert_int_equal(conf_check(&c, collect, &e), 0);
	assert_int_equal(c.listen[0].port, 3002);
	assert_string_equal(c.jwt_secret,
	    "change-me-to-a-random-secret-of-32-bytes-or-more");
	assert_int_equal(c.log_level, 2);
	conf_free(&c);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_and_defaults),
		cmocka_unit_test(test_every_default_parses_from_a_file),
		cmocka_unit_test(test_services_policy),
		cmocka_unit_test(test_membership),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_bad_numbers),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_enum_bool_url_path),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_comments_and_quotes),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_listen_forms),
		cmocka_unit_test(test_listen_repeats),
		cmocka_unit_test(test_cors_origin_list),
		cmocka_unit_test_setup_teardown(test_env_overrides, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_env_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_env_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_rules, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_check_hostile, setup,
		    teardown),
		cmocka_unit_test(test_dump_masks_secrets),
		cmocka_unit_test(test_dump_round_trip),
		cmocka_unit_test_setup_teardown(test_load_all_precedence, setup,
		    teardown),
		cmocka_unit_test(test_shipped_file),
		cmocka_unit_test(test_shipped_file_defaults),
		cmocka_unit_test_setup_teardown(test_env_example, setup,
		    teardown),
		cmocka_unit_test(test_header_check),
		cmocka_unit_test(test_service_settings),
	};
	const char	*t = getenv("TMPDIR");
	int		 rc;

	clear_env();
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_conf.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(tmpdir);
	return rc;
}
