/*
 * chatrec: the chat service's calls as spool records, and the paths of
 * the calls about one message (chatrec.h).  A record comes back from the
 * disk after a crash or from another version: decoding trusts nothing
 * in it (the spool's CRC says it is whole, not that it is ours).
 */
#include <stdio.h>
#include <string.h>

#include "chatrec.h"
#include "urlesc.h"

static int
valid_type(int t)
{
	return t == CHATREC_MESSAGE || t == CHATREC_STATUS ||
	    t == CHATREC_DELETE;
}

/* The bytes chatrec_encode() writes for r, or 0 if r cannot be one. */
size_t
chatrec_size(const struct chatrec *r)
{
	if (!valid_type(r->type) || r->idlen == 0 ||
	    r->idlen > CHATREC_FIELD_MAX || r->keylen == 0 ||
	    r->keylen > CHATREC_FIELD_MAX)
		return 0;
	return CHATREC_HDR_LEN + r->idlen + r->keylen + r->blen;
}

/* r into out: its size, or 0 if r is invalid or out too small. */
size_t
chatrec_encode(const struct chatrec *r, uint8_t *out, size_t size)
{
	size_t	n = chatrec_size(r);
	uint8_t	*p = out;

	if (n == 0 || n > size)
		return 0;
	*p++ = (uint8_t)r->type;
	*p++ = (uint8_t)(r->idlen >> 8);
	*p++ = (uint8_t)r->idlen;
	memcpy(p, r->id, r->idlen);
	p += r->idlen;
	*p++ = (uint8_t)(r->keylen >> 8);
	*p++ = (uint8_t)r->keylen;
	memcpy(p, r->key, r->keylen);
	p += r->keylen;
	if (r->blen > 0)
		memcpy(p, r->body, r->blen);
	return n;
}

/* A record into r, pointing into data: 0, or -1 if it is not one. */
int
chatrec_decode(const void *data, size_t len, struct chatrec *r)
{
	const uint8_t	*p = data, *end = p + len;

	memset(r, 0, sizeof(*r));
	if (len < CHATREC_HDR_LEN || !valid_type(p[0]))
		return -1;
	r->type = p[0];
	r->idlen = (size_t)p[1] << 8 | p[2];
	p += 3;
	if (r->idlen == 0 || r->idlen > CHATREC_FIELD_MAX ||
	    (size_t)(end - p) < r->idlen + 2)
		return -1;
	r->id = (const char *)p;
	p += r->idlen;
	r->keylen = (size_t)p[0] << 8 | p[1];
	p += 2;
	if (r->keylen == 0 || r->keylen > CHATREC_FIELD_MAX ||
	    (size_t)(end - p) < r->keylen)
		return -1;
	r->key = (const char *)p;
	p += r->keylen;
	r->body = (const char *)p;
	r->blen = (size_t)(end - p);
	return 0;
}

/*
 * base "/" id suffix into out, the id one escaped path segment
 * (urlesc.h: no id can leave it, not even ".."): the length, or -1 if it
 * does not fit.
 */
int
chatrec_path(const char *base, const char *id, size_t idlen,
    const char *suffix, char *out, size_t size)
{
	size_t	 n, i;
	ssize_t	 e;

	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	if (n + 1 >= size)
		return -1;
	memcpy(out, base, n);
	out[n++] = '/';
	if ((e = urlesc_segment(id, idlen, out + n, size - n)) < 0)
		return -1;
	n += (size_t)e;
	i = strlen(suffix);
	if (n + i >= size)
		return -1;
	memcpy(out + n, suffix, i + 1);
	return (int)(n + i);
}
