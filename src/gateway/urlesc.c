/*
 * urlesc: percent-encoding of a path segment (urlesc.h).  A '/' or a '?'
 * in an id must not change which resource a call names, and neither may
 * ".." : '.' is unreserved, but a segment of dots only is escaped too.
 */
#include <string.h>

#include "urlesc.h"

/*
 * The n bytes of id into out (size bytes, NUL-terminated); the length
 * written, or -1 when out is too small.
 */
ssize_t
urlesc_segment(const char *id, size_t n, char *out, size_t size)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 i, o = 0;
	int			 dots = n > 0;
	unsigned char		 c;

	for (i = 0; i < n; i++)
		dots = dots && id[i] == '.';
	for (i = 0; i < n; i++) {
		c = (unsigned char)id[i];
		if (!dots && ((c >= 'a' && c <= 'z') || (c >= 'A' &&
		    c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '.' || c == '_' || c == '~')) {
			if (o + 1 >= size)
				return -1;
			out[o++] = (char)c;
			continue;
		}
		if (o + 3 >= size)
			return -1;
		out[o++] = '%';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	if (o >= size)
		return -1;
	out[o] = '\0';
	return (ssize_t)o;
}
