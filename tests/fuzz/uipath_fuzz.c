/*
 * libFuzzer harness for uipath.c (the Admin UI's file paths, issue 18).
 * The input is a request path, with the prefix "/admin/" or, when it
 * starts with '!', the prefix its first segment names.  Checked, beyond
 * memory safety: a path accepted names a file under the prefix: no "..",
 * no "." segment, no empty one, no leading '/', no '%', no '\\', no byte
 * outside the names' set, a known content type.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uipath.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(const char *rel)
{
	size_t	i, n = strlen(rel);

	if (n == 0 || n > UIPATH_MAX || rel[0] == '/' || rel[n - 1] == '/' ||
	    strstr(rel, "..") == rel || strstr(rel, "/.") != NULL ||
	    strstr(rel, "//") != NULL || rel[0] == '.' ||
	    uipath_type(rel) == NULL)
		abort();
	for (i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/", rel[i]) ==
		    NULL || rel[i] == '\0')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char		*s, *path, rel[UIPATH_MAX + 1], prefix[64] = "/admin/";
	const char	*type, *slash;

	if ((s = malloc(len + 1)) == NULL)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';
	path = s;
	if (s[0] == '!' && (slash = strchr(s + 1, '!')) != NULL &&
	    (size_t)(slash - s) < sizeof(prefix) - 1) {
		memcpy(prefix, s + 1, (size_t)(slash - s - 1));
		prefix[slash - s - 1] = '\0';
		path = (char *)slash + 1;
	}
	type = uipath_resolve(prefix, path, rel, sizeof(rel));
	if (type != NULL) {
		if (strncmp(path, prefix, strlen(prefix)) != 0)
			abort();
		check(rel);
	}
	free(s);
	return 0;
}
