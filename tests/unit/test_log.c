/*
 * test_log: guards the structured logger (src/core/log.c).  Every line on stderr
 * must be exactly one valid JSON object with time, level, pid, role, msg
 * (and worker in a worker), whatever bytes a client put in the message or
 * the extra fields: the escaper turns quotes, backslashes, control bytes and
 * bytes >= 0x80 into JSON escapes, and truncation never cuts one in half.
 * Lines under the level are not written at all.
 */
#include <sys/wait.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "log.h"

#define CAPTURE_MAX	65536

struct capture {
	FILE	*file;
	int	 saved;		/* the real stderr */
};

static void	 capture_start(struct capture *);
static char	*capture_end(struct capture *);
static size_t	 count_lines(const char *);
static json_t	*parse_line(const char *);
static void	 check_common(json_t *, const char *, const char *);
static char	*escape(const char *, size_t, size_t);

/* Point fd 2 at a temporary file; log.c writes there with write(2). */
static void
capture_start(struct capture *c)
{
	fflush(stderr);
	if ((c->file = tmpfile()) == NULL)
		fail_msg("tmpfile: %s", strerror(errno));
	if ((c->saved = dup(STDERR_FILENO)) == -1)
		fail();
	if (dup2(fileno(c->file), STDERR_FILENO) == -1)
		fail();
}

/* Give stderr back; returns what was written, NUL terminated. */
static char *
capture_end(struct capture *c)
{
	char	*buf;
	size_t	 n;

	if (dup2(c->saved, STDERR_FILENO) == -1)
		fail();
	close(c->saved);
	if ((buf = malloc(CAPTURE_MAX + 1)) == NULL)
		fail();
	rewind(c->file);
	n = fread(buf, 1, CAPTURE_MAX, c->file);
	buf[n] = '\0';
	fclose(c->file);
	return buf;
}

static size_t
count_lines(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* One line, newline included, must be one JSON object and nothing else. */
static json_t *
parse_line(const char *line)
{
	json_error_t	 jerr;
	json_t		*o;
	const char	*nl = strchr(line, '\n');

	assert_non_null(nl);
	o = json_loadb(line, (size_t)(nl - line), JSON_REJECT_DUPLICATES,
	    &jerr);
	if (o == NULL)
		fail_msg("not JSON (%s): %.*s", jerr.text, (int)(nl - line),
		    line);
	assert_true(json_is_object(o));
	return o;
}

/* The fields every line has. */
static void
check_common(json_t *o, const char *level, const char *role)
{
	const char	*t;
	json_t		*v;
	size_t		 i;

	v = json_object_get(o, "time");
	assert_true(json_is_string(v));
	t = json_string_value(v);
	/* 2026-02-17T10:30:00.000Z */
	assert_int_equal(strlen(t), 24);
	for (i = 0; i < 24; i++) {
		switch (i) {
		case 4:
		case 7:
			assert_int_equal(t[i], '-');
			break;
		case 10:
			assert_int_equal(t[i], 'T');
			break;
		case 13:
		case 16:
			assert_int_equal(t[i], ':');
			break;
		case 19:
			assert_int_equal(t[i], '.');
			break;
		case 23:
			assert_int_equal(t[i], 'Z');
			break;
		default:
			assert_true(t[i] >= '0' && t[i] <= '9');
		}
	}
	assert_string_equal(json_string_value(json_object_get(o, "level")),
	    level);
	assert_true(json_is_integer(json_object_get(o, "pid")));
	assert_int_equal(json_integer_value(json_object_get(o, "pid")),
	    getpid());
	assert_string_equal(json_string_value(json_object_get(o, "role")),
	    role);
	assert_true(json_is_string(json_object_get(o, "msg")));
}

/* log_json_escape into a fresh buffer of cap bytes. */
static char *
escape(const char *s, size_t len, size_t cap)
{
	char	*out;
	size_t	 n;

	if ((out = malloc(cap + 1)) == NULL)
		fail();
	memset(out, 'X', cap + 1);
	n = log_json_escape(out, cap, s, len);
	assert_true(n < cap);
	assert_int_equal(out[n], '\0');
	assert_int_equal(strlen(out), n);
	assert_int_equal(out[cap], 'X');
	return out;
}

static void
test_escape(void **state)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*out;
	} cases[] = {
		{ "plain text", 10, "plain text" },
		{ "", 0, "" },
		{ "a\"b", 3, "a\\\"b" },
		{ "a\\b", 3, "a\\\\b" },
		{ "line\nbreak", 10, "line\\nbreak" },
		{ "tab\there", 8, "tab\\there" },
		{ "cr\r", 3, "cr\\u000d" },
		{ "\x01\x1f", 2, "\\u0001\\u001f" },
		{ "\x7f", 1, "\\u007f" },
		{ "\x80\xff", 2, "\\u0080\\u00ff" },
		{ "caf\xc3\xa9", 5, "caf\\u00c3\\u00a9" },
		{ "a\0b", 3, "a\\u0000b" },
		{ "</script>", 9, "</script>" },
		{ "{\"forged\":1}\n{", 14, "{\\\"forged\\\":1}\\n{" },
	};
	size_t	 i;
	char	*out;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		out = escape(cases[i].in, cases[i].len, 256);
		assert_string_equal(out, cases[i].out);
		free(out);
	}
}

/* Cut at any size, the output is the escape of a prefix of the input. */
static void
test_escape_truncation(void **state)
{
	static const char	 in[] = "ab\"c\\d\ne\x01\xc3\xa9" "f";
	size_t			 len = sizeof(in) - 1, cap, k, full_len;
	char			*full, *out, *pre;
	char			 canary[4] = "XYZ";

	(void)state;
	full = escape(in, len, 256);
	full_len = strlen(full);
	for (cap = 1; cap <= full_len + 1; cap++) {
		out = escape(in, len, cap);
		for (k = 0; k <= len; k++) {
			pre = escape(in, k, 256);
			if (strcmp(pre, out) == 0) {
				free(pre);
				break;
			}
			free(pre);
		}
		if (k > len)
			fail_msg("cap %zu: '%s' splits an escape", cap, out);
		/* The longest prefix that fits is taken. */
		if (k < len) {
			pre = escape(in, k + 1, 256);
			assert_true(strlen(pre) >= cap);
			free(pre);
		}
		free(out);
	}
	out = escape(in, len, full_len + 1);
	assert_string_equal(out, full);
	free(out);
	free(full);

	/* cap 0 writes nothing, not even the NUL. */
	assert_int_equal(log_json_escape(canary, 0, "abc", 3), 0);
	assert_string_equal(canary, "XYZ");
	/* cap 1 holds only the NUL. */
	assert_int_equal(log_json_escape(canary, 1, "abc", 3), 0);
	assert_int_equal(canary[0], '\0');
}

static void
test_logf(void **state)
{
	struct logf	 f;
	char		 obj[sizeof(f.buf) + 16];
	json_t		*o;
	int		 i;

	(void)state;
	memset(&f, 0, sizeof(f));
	logf_str(&f, "user_id", "u\"1\n");
	logf_int(&f, "count", -42);
	logf_str(&f, "empty", NULL);
	logf_int(&f, "big", 9223372036854775807LL);
	assert_string_equal(f.buf, ",\"user_id\":\"u\\\"1\\n\",\"count\":-42,"
	    "\"empty\":\"\",\"big\":9223372036854775807");
	assert_int_equal(f.len, strlen(f.buf));

	/* Filled past its size, what it holds is still whole fields. */
	memset(&f, 0, sizeof(f));
	for (i = 0; i < 200; i++) {
		logf_str(&f, "k", "\x01\x02\x03\"\\");
		logf_int(&f, "n", i);
		assert_true(f.len < sizeof(f.buf));
		snprintf(obj, sizeof(obj), "{\"x\":0%.*s}", (int)f.len, f.buf);
		if ((o = json_loads(obj, 0, NULL)) == NULL)
			fail_msg("not JSON after %d fields: %s", i, obj);
		json_decref(o);
	}
	memset(&f, 0, sizeof(f));
	{
		char	 big[2000];

		memset(big, '"', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		logf_str(&f, "big", big);
		assert_true(f.len < sizeof(f.buf));
		snprintf(obj, sizeof(obj), "{\"x\":0%.*s}", (int)f.len, f.buf);
		if ((o = json_loads(obj, 0, NULL)) == NULL)
			fail_msg("truncated field is not JSON: %s", obj);
		json_decref(o);
	}
}

static void
test_emit_one_object_per_line(void **state)
{
	struct capture	 cap;
	struct logf	 f;
	json_t		*o;
	char		*out;

	(void)state;
	log_init(LOG_LEVEL_DEBUG);
	log_procinit("worker", 3);
	memset(&f, 0, sizeof(f));
	logf_str(&f, "user_id", "u\"1\n\x80");
	logf_int(&f, "conns", 12);
	capture_start(&cap);
	log_emit(LOG_LEVEL_INFO, &f, "hello %s %d", "wor\nld\"}", 7);
	out = capture_end(&cap);
	assert_int_equal(count_lines(out), 1);
	assert_int_equal(out[strlen(out) - 1], '\n');
	o = parse_line(out);
	check_common(o, "info", "worker");
	assert_int_equal(json_integer_value(json_object_get(o, "worker")), 3);
	assert_string_equal(json_string_value(json_object_get(o, "msg")),
	    "hello wor\nld\"} 7");
	assert_string_equal(json_string_value(json_object_get(o, "user_id")),
	    "u\"1\n\xc2\x80");
	assert_int_equal(json_integer_value(json_object_get(o, "conns")), 12);
	assert_int_equal(json_object_size(o), 8);
	json_decref(o);
	free(out);

	/* Not a worker: no worker key; no extra fields. */
	log_procinit("master", -1);
	capture_start(&cap);
	log_emit(LOG_LEVEL_ERROR, NULL, "plain");
	log_info("second %s", "line");
	out = capture_end(&cap);
	assert_int_equal(count_lines(out), 2);
	o = parse_line(out);
	check_common(o, "error", "master");
	assert_null(json_object_get(o, "worker"));
	assert_string_equal(json_string_value(json_object_get(o, "msg")),
	    "plain");
	assert_int_equal(json_object_size(o), 5);
	json_decref(o);
	o = parse_line(strchr(out, '\n') + 1);
	check_common(o, "info", "master");
	assert_string_equal(json_string_value(json_object_get(o, "msg")),
	    "second line");
	json_decref(o);
	free(out);
	log_procinit("main", -1);
}

/* A message far longer than a line is cut, and the line stays JSON. */
static void
test_emit_long_lines(void **state)
{
	static const char *const fill[] = { "a", "\"", "\x01", "\xff" };
	struct capture	 cap;
	struct logf	 f;
	json_t		*o;
	char		*out, msg[6000], key[24];
	size_t		 i;
	int		 j;

	(void)state;
	log_init(LOG_LEVEL_DEBUG);
	memset(&f, 0, sizeof(f));
	for (j = 0; j < 100; j++) {
		snprintf(key, sizeof(key), "field%d", j);
		logf_str(&f, key, "0123456789");
	}
	for (i = 0; i < sizeof(fill) / sizeof(fill[0]); i++) {
		memset(msg, fill[i][0], sizeof(msg) - 1);
		msg[sizeof(msg) - 1] = '\0';
		capture_start(&cap);
		log_emit(LOG_LEVEL_WARN, &f, "%s", msg);
		log_emit(LOG_LEVEL_WARN, NULL, "%s", msg);
		out = capture_end(&cap);
		assert_int_equal(count_lines(out), 2);
		o = parse_line(out);
		check_common(o, "warn", "main");
		assert_true(strlen(json_string_value(json_object_get(o,
		    "msg"))) > 100);
		/* The extra fields always fit: the message leaves room. */
		assert_string_equal(json_string_value(json_object_get(o,
		    "field0")), "0123456789");
		json_decref(o);
		o = parse_line(strchr(out, '\n') + 1);
		json_decref(o);
		free(out);
	}
}

static void
test_level_filter(void **state)
{
	struct capture	 cap;
	json_t		*o;
	char		*out, *p;
	enum log_level	 l;

	(void)state;
	log_init(LOG_LEVEL_WARN);
	assert_int_equal(log_getlevel(), LOG_LEVEL_WARN);
	capture_start(&cap);
	log_debug("not shown");
	log_info("not shown");
	log_emit(LOG_LEVEL_INFO, NULL, "not shown");
	log_warnx("shown %d", 1);
	log_error("shown %d", 2);
	out = capture_end(&cap);
	assert_int_equal(count_lines(out), 2);
	assert_null(strstr(out, "not shown"));
	o = parse_line(out);
	check_common(o, "warn", "main");
	assert_string_equal(json_string_value(json_object_get(o, "msg")),
	    "shown 1");
	json_decref(o);
	p = strchr(out, '\n') + 1;
	o = parse_line(p);
	check_common(o, "error", "main");
	json_decref(o);
	free(out);

	log_setlevel(LOG_LEVEL_ERROR);
	capture_start(&cap);
	log_warnx("not shown");
	out = capture_end(&cap);
	assert_string_equal(out, "");
	free(out);

	log_setlevel(LOG_LEVEL_DEBUG);
	capture_start(&cap);
	log_debug("debug %s", "shown");
	out = capture_end(&cap);
	o = parse_line(out);
	check_common(o, "debug", "main");
	json_decref(o);
	free(out);

	assert_int_equal(log_level_parse("error", &l), 0);
	assert_int_equal(l, LOG_LEVEL_ERROR);
	assert_int_equal(log_level_parse("warn", &l), 0);
	assert_int_equal(l, LOG_LEVEL_WARN);
	assert_int_equal(log_level_parse("warning", &l), 0);
	assert_int_equal(l, LOG_LEVEL_WARN);
	assert_int_equal(log_level_parse("info", &l), 0);
	assert_int_equal(l, LOG_LEVEL_INFO);
	assert_int_equal(log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("loud", &l), -1);
	assert_string_equal(log_level_name(LOG_LEVEL_WARN), "warn");
	assert_string_equal(log_level_name(LOG_LEVEL_DEBUG), "debug");
	log_init(LOG_LEVEL_INFO);
}

/* log_warn appends the errno text and leaves errno as it found it. */
static void
test_warn_errno(void **state)
{
	struct capture	 cap;
	json_t		*o;
	char		*out;

	(void)state;
	log_init(LOG_LEVEL_INFO);
	capture_start(&cap);
	errno = ENOENT;
	log_warn("open %s", "/nonexistent");
	assert_int_equal(errno, ENOENT);
	out = capture_end(&cap);
	o = parse_line(out);
	check_common(o, "warn", "main");
	assert_string_equal(json_string_value(json_object_get(o, "msg")),
	    "open /nonexistent: No such file or directory");
	json_decref(o);
	free(out);
}

/* fatalx logs at error level and exits 1. */
static void
test_fatalx(void **state)
{
	struct capture	 cap;
	json_t		*o;
	char		*out;
	pid_t		 pid;
	int		 status;

	(void)state;
	log_init(LOG_LEVEL_INFO);
	fflush(stdout);
	capture_start(&cap);
	if ((pid = fork()) == -1)
		fail();
	if (pid == 0) {
		log_procinit("master", -1);
		fatalx("cannot %s", "start");
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	out = capture_end(&cap);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_int_equal(count_lines(out), 1);
	o = parse_line(out);
	assert_string_equal(json_string_value(json_object_get(o, "level")),
	    "error");
	assert_string_equal(json_string_value(json_object_get(o, "msg")),
	    "cannot start");
	assert_int_equal(json_integer_value(json_object_get(o, "pid")), pid);
	json_decref(o);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_truncation),
		cmocka_unit_test(test_logf),
		cmocka_unit_test(test_emit_one_object_per_line),
		cmocka_unit_test(test_emit_long_lines),
		cmocka_unit_test(test_level_filter),
		cmocka_unit_test(test_warn_errno),
		cmocka_unit_test(test_fatalx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
