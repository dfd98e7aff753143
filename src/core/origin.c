/*
 * origin: an Origin against a comma list of origins, and against the
 * request's own Host (origin.h).  Origins are compared whole and exactly,
 * as the CORS check of socket.io's cors option does: no wildcard but a
 * lone "*", no prefix.
 */
#include <string.h>
#include <strings.h>

#include "origin.h"

/* Is origin one of list's comma separated entries (spaces trimmed)? */
bool
origin_listed(const char *list, const char *origin)
{
	const char	*p = list, *end;
	size_t		 olen, len;

	if (list == NULL || origin == NULL || *origin == '\0')
		return false;
	olen = strlen(origin);
	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		end = strchr(p, ',');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		p += len;
		while (len > 0 && p[-1] == ' ') {
			len--;
			p--;
		}
		if ((len == 1 && p[-1] == '*') || (len == olen &&
		    memcmp(p - len, origin, len) == 0))
			return true;
		while (*p == ' ')
			p++;
	}
	return false;
}

/*
 * Is origin ("scheme://host[:port]") the gateway itself, as the request's
 * Host header names it: a page the gateway served (the Admin UI's)?
 */
bool
origin_same(const char *origin, const char *host)
{
	const char	*h;

	if (origin == NULL || host == NULL || *host == '\0' ||
	    (h = strstr(origin, "://")) == NULL)
		return false;
	if ((size_t)(h - origin) != 4 && (size_t)(h - origin) != 5)
		return false;		/* http, https */
	if (strncasecmp(origin, "http", 4) != 0)
		return false;
	return strcasecmp(h + 3, host) == 0;
}
