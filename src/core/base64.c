/*
 * base64.c: RFC 4648 base64, standard (padded) and URL (unpadded)
 * alphabets, strict on decode (base64.h).  The one implementation: the
 * Engine.IO layer's 'b' messages, session ids, message ids and the bench
 * tool's tokens all use it.
 */
#include <stddef.h>
#include <stdint.h>

#include "base64.h"

static const char	alphabet[2][65] = {
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
};

static int	check(const char *, size_t, int, size_t *);

/* The digit of value v (0..63) in the alphabet. */
char
base64_digit(unsigned v, int alpha)
{
	return alphabet[alpha != BASE64_STD][v & 0x3f];
}

/* The value of digit c in the alphabet, or -1 ('=' included). */
int
base64_value(int c, int alpha)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (alpha == BASE64_STD ? '+' : '-'))
		return 62;
	if (c == (alpha == BASE64_STD ? '/' : '_'))
		return 63;
	return -1;
}

/* Length of the encoding of n bytes. */
size_t
base64_encoded_len(size_t n, int alpha)
{
	if (alpha == BASE64_STD)
		return (n + 2) / 3 * 4;
	return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

/*
 * Encode len bytes into out: exactly base64_encoded_len() characters, no
 * NUL.  Returns that length, BASE64_ENOSPACE or BASE64_ETOOBIG.
 */
ptrdiff_t
base64_encode(const uint8_t *in, size_t len, char *out, size_t cap,
    int alpha)
{
	const char	*a = alphabet[alpha != BASE64_STD];
	size_t		 i, need;
	uint32_t	 v;
	char		*p;

	if (len > (PTRDIFF_MAX / 4) * 3 - 2)
		return BASE64_ETOOBIG;
	if ((need = base64_encoded_len(len, alpha)) > cap)
		return BASE64_ENOSPACE;
	p = out;
	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		*p++ = a[v >> 18];
		*p++ = a[(v >> 12) & 0x3f];
		*p++ = a[(v >> 6) & 0x3f];
		*p++ = a[v & 0x3f];
	}
	if (len - i > 0) {
		v = (uint32_t)in[i] << 16;
		if (len - i == 2)
			v |= (uint32_t)in[i + 1] << 8;
		*p++ = a[v >> 18];
		*p++ = a[(v >> 12) & 0x3f];
		if (len - i == 2)
			*p++ = a[(v >> 6) & 0x3f];
		if (alpha == BASE64_STD) {
			if (len - i == 1)
				*p++ = '=';
			*p++ = '=';
		}
	}
	return (ptrdiff_t)need;
}

/*
 * Is in canonical base64 of the alphabet?  Gives the decoded length.
 * Standard: a multiple of 4, padding only "x=" or "xx==" at the very end.
 * URL: no padding, never 1 digit over a multiple of 4.  Either way the
 * bits the last digit carries beyond the data must be zero.
 */
static int
check(const char *in, size_t len, int alpha, size_t *outlen)
{
	size_t	i, digits, tail;
	int	last;

	digits = len;
	if (alpha == BASE64_STD) {
		if (len % 4 != 0)
			return BASE64_EINVAL;
		if (len > 0 && in[len - 1] == '=')
			digits -= in[len - 2] == '=' ? 2 : 1;
	}
	for (i = 0; i < digits; i++)
		if (base64_value((unsigned char)in[i], alpha) < 0)
			return BASE64_EINVAL;
	if ((tail = digits % 4) == 1)
		return BASE64_EINVAL;
	if (tail > 0) {
		last = base64_value((unsigned char)in[digits - 1], alpha);
		if ((tail == 2 && (last & 0x0f) != 0) ||
		    (tail == 3 && (last & 0x03) != 0))
			return BASE64_EINVAL;
	}
	*outlen = digits / 4 * 3 + (tail == 0 ? 0 : tail - 1);
	return 0;
}

/*
 * Strict decode into out.  Returns the decoded length, BASE64_EINVAL for
 * input that is not canonical, or BASE64_ENOSPACE when it is but does not
 * fit (out may be NULL if cap is 0).
 */
ptrdiff_t
base64_decode(const char *in, size_t len, uint8_t *out, size_t cap,
    int alpha)
{
	size_t		 i, n, o, k;
	uint32_t	 v;
	int		 r;

	if ((r = check(in, len, alpha, &n)) != 0)
		return r;
	if (n > cap)
		return BASE64_ENOSPACE;
	for (i = 0, o = 0; o < n; i += 4) {
		v = 0;
		for (k = 0; k < 4; k++) {
			v <<= 6;
			if (i + k < len && in[i + k] != '=')
				v |= (uint32_t)base64_value(
				    (unsigned char)in[i + k], alpha);
		}
		out[o++] = (uint8_t)(v >> 16);
		if (o < n)
			out[o++] = (uint8_t)(v >> 8);
		if (o < n)
			out[o++] = (uint8_t)v;
	}
	return (ptrdiff_t)n;
}
