/*
 * Base64 (base64.c), with both of RFC 4648's alphabets: the standard one
 * with padding (Engine.IO's binary messages) and the URL one without
 * (session ids, message ids, JWTs).  Decoding is strict: any other byte,
 * missing or misplaced padding, or non-zero bits after the last byte are
 * refused, so that encode(decode(x)) == x for everything accepted.
 */
#ifndef SGW_BASE64_H
#define SGW_BASE64_H

#include <stddef.h>
#include <stdint.h>

#define BASE64_STD	0	/* A-Z a-z 0-9 + /, padded with '=' */
#define BASE64_URL	1	/* A-Z a-z 0-9 - _, no padding */

#define BASE64_EINVAL	(-1)	/* not canonical base64 */
#define BASE64_ENOSPACE	(-2)	/* does not fit the output */
#define BASE64_ETOOBIG	(-3)	/* input too long to encode */

/* base64.c */
char		base64_digit(unsigned, int);
int		base64_value(int, int);
size_t		base64_encoded_len(size_t, int);
ptrdiff_t	base64_encode(const uint8_t *, size_t, char *, size_t, int);
ptrdiff_t	base64_decode(const char *, size_t, uint8_t *, size_t, int);

#endif /* SGW_BASE64_H */
