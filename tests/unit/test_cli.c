/*
 * test_cli: guards the command line (src/process/cli.c).  Every flag, long and
 * short, lands in its field; every usage error has its exact message (the
 * daemon prints it and exits 2); a second parse starts from scratch; and the
 * usage text agrees with the parser and with socket-gatewayd(8): every long
 * option it lists is accepted and documented, and its first two lines are
 * the man page's SYNOPSIS.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

#define ARGV_MAX	16

static int	 parse(struct cli_opts *, char *, const char *, ...);
static void	 expect_usage_error(const char *, const char *, const char *,
		    const char *);
static char	*read_man(void);

/* Parse a NULL-terminated list of arguments after the program name. */
static int
parse(struct cli_opts *o, char *err, const char *first, ...)
{
	char		*argv[ARGV_MAX + 2];
	const char	*a;
	va_list		 ap;
	int		 argc = 0;

	argv[argc++] = (char *)"socket-gatewayd";
	va_start(ap, first);
	for (a = first; a != NULL; a = va_arg(ap, const char *)) {
		assert_true(argc <= ARGV_MAX);
		argv[argc++] = (char *)a;
	}
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	return cli_parse(argc, argv, o, err, 256);
}

/* Up to three arguments (NULL ends them early) give exactly this error. */
static void
expect_usage_error(const char *a1, const char *a2, const char *a3,
    const char *msg)
{
	struct cli_opts	o;
	char		err[256];

	assert_int_equal(parse(&o, err, a1, a2, a3, NULL), -1);
	assert_string_equal(err, msg);
}

/* man/socket-gatewayd.8.in, with mdoc's backslashes removed. */
static char *
read_man(void)
{
	const char	*dir = getenv("srcdir");
	char		 path[4096], *buf, *r, *w;
	FILE		*f;
	size_t		 n;

	snprintf(path, sizeof(path), "%s/man/socket-gatewayd.8.in",
	    dir != NULL && *dir != '\0' ? dir : ".");
	if ((f = fopen(path, "r")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	if ((buf = malloc(1 << 20)) == NULL)
		fail();
	n = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (r = w = buf; *r != '\0'; r++)
		if (*r != '\\')
			*w++ = *r;
	*w = '\0';
	return buf;
}

static void
test_defaults(void **state)
{
	struct cli_opts	o;
	char		err[256];

	(void)state;
	assert_int_equal(parse(&o, err, NULL), 0);
	assert_null(o.config);
	assert_null(o.env_file);
	assert_null(o.workers);
	assert_null(o.port);
	assert_null(o.log_level);
	assert_false(o.test);
	assert_false(o.help);
	assert_false(o.version);
}

static void
test_short_flags(void **state)
{
	struct cli_opts	o;
	char		err[256];

	(void)state;
	assert_int_equal(parse(&o, err, "-c", "/etc/sg.conf", "-e", ".env",
	    "-l", "debug", "-p", "3002", "-w", "4", "-t", "-h", "-V", NULL), 0);
	assert_string_equal(o.config, "/etc/sg.conf");
	assert_string_equal(o.env_file, ".env");
	assert_string_equal(o.log_level, "debug");
	assert_string_equal(o.port, "3002");
	assert_string_equal(o.workers, "4");
	assert_true(o.test);
	assert_true(o.help);
	assert_true(o.version);

	/* Values glued on, flags grouped, a value that looks like a flag. */
	assert_int_equal(parse(&o, err, "-c/etc/x.conf", "-tVw2", "-p", "-1",
	    NULL), 0);
	assert_string_equal(o.config, "/etc/x.conf");
	assert_true(o.test);
	assert_true(o.version);
	assert_false(o.help);
	assert_string_equal(o.workers, "2");
	assert_string_equal(o.port, "-1");

	/* The last of a repeated flag wins. */
	assert_int_equal(parse(&o, err, "-w", "1", "-w", "3", NULL), 0);
	assert_string_equal(o.workers, "3");
}

static void
test_long_flags(void **state)
{
	struct cli_opts	o;
	char		err[256];

	(void)state;
	assert_int_equal(parse(&o, err, "--config", "/etc/sg.conf",
	    "--env-file", ".env", "--log-level", "warn", "--port", "8080",
	    "--workers", "0", "--test-config", "--help", "--version", NULL), 0);
	assert_string_equal(o.config, "/etc/sg.conf");
	assert_string_equal(o.env_file, ".env");
	assert_string_equal(o.log_level, "warn");
	assert_string_equal(o.port, "8080");
	assert_string_equal(o.workers, "0");
	assert_true(o.test);
	assert_true(o.help);
	assert_true(o.version);

	assert_int_equal(parse(&o, err, "--config=/etc/y.conf",
	    "--env-file=/etc/env", "--log-level=error", "--port=1",
	    "--workers=8", NULL), 0);
	assert_string_equal(o.config, "/etc/y.conf");
	assert_string_equal(o.env_file, "/etc/env");
	assert_string_equal(o.log_level, "error");
	assert_string_equal(o.port, "1");
	assert_string_equal(o.workers, "8");
	assert_false(o.test);

	/* getopt_long takes an unambiguous prefix. */
	assert_int_equal(parse(&o, err, "--test", "--conf", "z.conf", NULL), 0);
	assert_true(o.test);
	assert_string_equal(o.config, "z.conf");
}

static void
test_missing_value(void **state)
{
	(void)state;
	expect_usage_error("-c", NULL, NULL, "option '-c' needs a value");
	expect_usage_error("-e", NULL, NULL, "option '-e' needs a value");
	expect_usage_error("-l", NULL, NULL, "option '-l' needs a value");
	expect_usage_error("-p", NULL, NULL, "option '-p' needs a value");
	expect_usage_error("-t", "-w", NULL, "option '-w' needs a value");
	expect_usage_error("--config", NULL, NULL,
	    "option '--config' needs a value");
	expect_usage_error("--env-file", NULL, NULL,
	    "option '--env-file' needs a value");
	expect_usage_error("--log-level", NULL, NULL,
	    "option '--log-level' needs a value");
	expect_usage_error("--port", NULL, NULL,
	    "option '--port' needs a value");
	expect_usage_error("-t", "--workers", NULL,
	    "option '--workers' needs a value");
}

static void
test_unknown_option(void **state)
{
	(void)state;
	expect_usage_error("-x", NULL, NULL, "unknown option '-x'");
	expect_usage_error("-t", "-v", NULL, "unknown option '-v'");
	expect_usage_error("--bogus", NULL, NULL, "unknown option '--bogus'");
	expect_usage_error("--bogus=1", NULL, NULL,
	    "unknown option '--bogus=1'");
	expect_usage_error("--verbose", NULL, NULL,
	    "unknown option '--verbose'");
	expect_usage_error("-c", "x.conf", "--Config",
	    "unknown option '--Config'");
}

static void
test_stray_argument(void **state)
{
	(void)state;
	expect_usage_error("extra", NULL, NULL, "unexpected argument 'extra'");
	expect_usage_error("-t", "/etc/sg.conf", NULL,
	    "unexpected argument '/etc/sg.conf'");
	/* GNU getopt moves operands last, so the flags were all valid. */
	expect_usage_error("stray", "-t", NULL, "unexpected argument 'stray'");
	expect_usage_error("--", "-t", NULL, "unexpected argument '-t'");
	expect_usage_error("-c", "a.conf", "b.conf",
	    "unexpected argument 'b.conf'");
}

/*
 * A parse that stopped inside "-xt" must not leak into the next one (glibc
 * keeps its place in a group of flags unless optind is reset to 0).
 */
static void
test_reparse_is_fresh(void **state)
{
	struct cli_opts	o;
	char		err[256];

	(void)state;
	assert_int_equal(parse(&o, err, "-xt", NULL), -1);
	assert_int_equal(parse(&o, err, "-V", NULL), 0);
	assert_true(o.version);
	assert_false(o.test);
	assert_int_equal(parse(&o, err, "-t", "-c", "a", NULL), 0);
	assert_int_equal(parse(&o, err, NULL), 0);
	assert_false(o.test);
	assert_null(o.config);
}

/* Every "--name" in the help is accepted, with a value when it shows one. */
static void
test_usage_matches_parser(void **state)
{
	const char	*p, *q;
	char		 opt[64], sopt[3], err[256];
	struct cli_opts	 o;
	size_t		 n;
	int		 count = 0, rc;

	(void)state;
	assert_int_equal(strncmp(cli_usage, "usage: socket-gatewayd ", 23), 0);
	for (p = cli_usage; (p = strstr(p, "--")) != NULL; p = q) {
		q = p + 2;
		n = strspn(q, "abcdefghijklmnopqrstuvwxyz-");
		assert_true(n > 0 && n + 3 < sizeof(opt));
		snprintf(opt, sizeof(opt), "--%.*s", (int)n, q);
		q += n;
		/* "  -c, --config FILE": the short one is just before. */
		assert_true(p - cli_usage >= 4);
		assert_int_equal(p[-4], '-');
		assert_int_equal(p[-2], ',');
		snprintf(sopt, sizeof(sopt), "-%c", p[-3]);
		if (q[0] == ' ' && q[1] >= 'A' && q[1] <= 'Z') {
			rc = parse(&o, err, opt, "v", NULL);
			if (rc != 0)
				fail_msg("%s: %s", opt, err);
			rc = parse(&o, err, sopt, "v", NULL);
		} else {
			rc = parse(&o, err, opt, NULL);
			if (rc != 0)
				fail_msg("%s: %s", opt, err);
			rc = parse(&o, err, sopt, NULL);
		}
		if (rc != 0)
			fail_msg("%s: %s", sopt, err);
		count++;
	}
	assert_int_equal(count, 8);
}

/* Every option of the help is in socket-gatewayd(8), in OPTIONS. */
static void
test_man_lists_every_option(void **state)
{
	const char	*p, *q, *r;
	char		*man, want[128];
	size_t		 n;

	(void)state;
	man = read_man();
	for (p = cli_usage; (p = strstr(p, "--")) != NULL; p = q) {
		q = p + 2;
		n = strspn(q, "abcdefghijklmnopqrstuvwxyz-");
		/* ".It Fl c Ar file , Fl -config Ns = Ns Ar file" */
		snprintf(want, sizeof(want), "Fl -%.*s", (int)n, q);
		for (r = man; (r = strstr(r, want)) != NULL; r++)
			if (strchr(" \n", r[strlen(want)]) != NULL)
				break;
		if (r == NULL)
			fail_msg("socket-gatewayd.8.in lacks '%s'", want);
		snprintf(want, sizeof(want), "\n.It Fl %c", p[-3]);
		if (strstr(man, want) == NULL)
			fail_msg("socket-gatewayd.8.in lacks '%s'", want + 1);
		q += n;
	}
	free(man);
}

/* "[-htV] [-c file]" is ".Op Fl htV" and ".Op Fl c Ar file" in SYNOPSIS. */
static void
test_man_synopsis(void **state)
{
	const char	*p, *end, *rb;
	char		*man, *syn, want[128], flag[32], arg[32];
	int		 groups = 0;

	(void)state;
	man = read_man();
	if ((syn = strstr(man, "\n.Sh SYNOPSIS\n")) == NULL) {
		fail_msg("no SYNOPSIS");
		return;
	}
	if ((p = strstr(syn + 1, "\n.Sh ")) == NULL) {
		fail_msg("nothing after SYNOPSIS");
		return;
	}
	syn[p - syn + 1] = '\0';
	assert_non_null(strstr(syn, "\n.Nm socket-gatewayd\n"));
	/* The usage's first two lines: up to the first option description. */
	end = strstr(cli_usage, "\n  -");
	assert_non_null(end);
	for (p = strchr(cli_usage, '['); p != NULL && p < end;
	    p = strchr(rb, '[')) {
		if ((rb = strchr(p, ']')) == NULL) {
			fail_msg("unclosed [ in the usage");
			return;
		}
		flag[0] = arg[0] = '\0';
		if (sscanf(p, "[-%31[a-zA-Z] %31[a-z]]", flag, arg) < 1)
			fail_msg("cannot read usage group %.*s",
			    (int)(rb - p + 1), p);
		if (arg[0] != '\0')
			snprintf(want, sizeof(want), "\n.Op Fl %s Ar %s\n",
			    flag, arg);
		else
			snprintf(want, sizeof(want), "\n.Op Fl %s\n", flag);
		if (strstr(syn, want) == NULL)
			fail_msg("SYNOPSIS lacks '%.*s'", (int)strlen(want) - 2,
			    want + 1);
		groups++;
	}
	assert_int_equal(groups, 6);
	free(man);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_short_flags),
		cmocka_unit_test(test_long_flags),
		cmocka_unit_test(test_missing_value),
		cmocka_unit_test(test_unknown_option),
		cmocka_unit_test(test_stray_argument),
		cmocka_unit_test(test_reparse_is_fresh),
		cmocka_unit_test(test_usage_matches_parser),
		cmocka_unit_test(test_man_lists_every_option),
		cmocka_unit_test(test_man_synopsis),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
