/*
 * uipath: which file a request path names under a served directory, and
 * its content type (uipath.h).
 */
#include <string.h>

#include "uipath.h"

static const struct {
	const char	*ext;
	const char	*type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".map", "application/json" },
	{ ".json", "application/json" },
	{ ".png", "image/png" },
	{ ".svg", "image/svg+xml" },
	{ ".ico", "image/x-icon" },
	{ ".woff", "font/woff" },
	{ ".woff2", "font/woff2" },
	{ ".txt", "text/plain; charset=utf-8" },
};

/* The content type of a name by its extension; NULL: not served. */
const char *
uipath_type(const char *name)
{
	const char	*dot = strrchr(name, '.');
	size_t		 i;

	if (dot == NULL || strchr(dot, '/') != NULL)
		return NULL;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

static int
name_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/*
 * path under prefix: the relative name into rel (size len) and its
 * content type, or NULL when it is refused.  The prefix alone is
 * UIPATH_INDEX.
 */
const char *
uipath_resolve(const char *prefix, const char *path, char *rel, size_t len)
{
	size_t		 plen = strlen(prefix), n, i;
	const char	*p;

	if (plen == 0 || prefix[plen - 1] != '/' ||
	    strncmp(path, prefix, plen) != 0)
		return NULL;
	p = path + plen;
	if (*p == '\0')
		p = UIPATH_INDEX;
	n = strlen(p);
	if (n > UIPATH_MAX || n + 1 > len)
		return NULL;
	for (i = 0; i < n; i++) {
		if (p[i] == '/') {
			if (i == 0 || p[i - 1] == '/' || i + 1 == n)
				return NULL;	/* empty segment */
			continue;
		}
		if (!name_byte((unsigned char)p[i]))
			return NULL;
		if (p[i] == '.' && (i == 0 || p[i - 1] == '/'))
			return NULL;	/* ".", "..", hidden */
	}
	memcpy(rel, p, n + 1);
	return uipath_type(rel);
}
