/*
 * test_uipath: guards the Admin UI's file paths and the dashboard's
 * origins (src/core/uipath.c, src/core/origin.c; issue 18): what is
 * served under the prefix, every traversal refused ("..", ".", hidden
 * files, empty segments, '%', '\\', bytes outside names), content types,
 * and Origins against admin_origins and the gateway's own Host.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "origin.h"
#include "uipath.h"

static const char *
res(const char *prefix, const char *path, char *rel)
{
	return uipath_resolve(prefix, path, rel, UIPATH_MAX + 1);
}

static void
test_served(void **state)
{
	char	rel[UIPATH_MAX + 1];

	(void)state;
	assert_string_equal(res("/admin/", "/admin/", rel),
	    "text/html; charset=utf-8");
	assert_string_equal(rel, "index.html");
	assert_string_equal(res("/admin/", "/admin/js/app.0d7d7845.js", rel),
	    "text/javascript; charset=utf-8");
	assert_string_equal(rel, "js/app.0d7d7845.js");
	assert_string_equal(res("/admin/", "/admin/css/a-b_c.css", rel),
	    "text/css; charset=utf-8");
	assert_string_equal(res("/admin/", "/admin/favicon.png", rel),
	    "image/png");
	assert_string_equal(res("/admin/", "/admin/img/l.svg", rel),
	    "image/svg+xml");
	assert_string_equal(res("/", "/index.html", rel),
	    "text/html; charset=utf-8");
	assert_string_equal(res("/ui/x/", "/ui/x/a.js.map", rel),
	    "application/json");
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
		"/admin", "/adminx/index.html", "/other/index.html",
		"/admin/../etc/passwd", "/admin/js/../../x.html",
		"/admin/..", "/admin/./index.html", "/admin/.hidden.js",
		"/admin/js/.x.js", "/admin//index.html", "/admin/js/",
		"/admin/%2e%2e/x.html", "/admin/a%00.html", "/admin/a\\b.html",
		"/admin/a b.html", "/admin/a?b.html", "/admin/index",
		"/admin/passwd", "/admin/x.exe", "/admin/x.html/",
		"/admin/\xc3\xa9.html", "/admin/a:b.html", NULL
	};
	char	rel[UIPATH_MAX + 1], longp[UIPATH_MAX + 20];
	size_t	i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++)
		assert_null(res("/admin/", bad[i], rel));
	/* A prefix without its slash is no prefix. */
	assert_null(res("/admin", "/admin/index.html", rel));
	memset(longp, 'a', sizeof(longp));
	memcpy(longp, "/admin/", 7);
	memcpy(longp + sizeof(longp) - 6, ".html", 6);
	assert_null(res("/admin/", longp, rel));
	/* The caller's buffer is respected. */
	assert_null(uipath_resolve("/admin/", "/admin/index.html", rel, 5));
}

static void
test_origins(void **state)
{
	(void)state;
	assert_true(origin_listed("https://a.example", "https://a.example"));
	assert_true(origin_listed(" https://a.example , http://b:8080 ",
	    "http://b:8080"));
	assert_true(origin_listed("https://x,*", "http://anything"));
	assert_false(origin_listed("https://a.example",
	    "https://a.example.evil"));
	assert_false(origin_listed("https://a.example.evil",
	    "https://a.example"));
	assert_false(origin_listed("https://a.example", "http://a.example"));
	assert_false(origin_listed("", "https://a.example"));
	assert_false(origin_listed("https://a.example", ""));
	assert_false(origin_listed("https://a.example", NULL));
	assert_false(origin_listed(",,, ,", "https://a.example"));
	assert_true(origin_same("http://127.0.0.1:3002", "127.0.0.1:3002"));
	assert_true(origin_same("https://GW.example", "gw.example"));
	assert_false(origin_same("http://127.0.0.1:3003", "127.0.0.1:3002"));
	assert_false(origin_same("ftp://gw.example", "gw.example"));
	assert_false(origin_same("gw.example", "gw.example"));
	assert_false(origin_same("null", "gw.example"));
	assert_false(origin_same("http://gw.example", ""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_served),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_origins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
