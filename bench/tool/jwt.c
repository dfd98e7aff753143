/*
 * HS256 JSON Web Tokens (RFC 7519), made with OpenSSL's one-shot HMAC:
 * base64url(header) "." base64url(claims) "." base64url(HMAC-SHA256).
 * The header never changes, so it is encoded once, as a constant.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base64.h"
#include "bench.h"

/* base64url of {"alg":"HS256","typ":"JWT"} */
#define JWT_HEADER	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

/* base64url of len bytes into out, NUL-terminated; its length. */
static size_t
b64url(const unsigned char *in, size_t len, char *out)
{
	ptrdiff_t	n;

	n = base64_encode(in, len, out, base64_encoded_len(len, BASE64_URL),
	    BASE64_URL);
	out[n < 0 ? 0 : n] = '\0';
	return n < 0 ? 0 : (size_t)n;
}

/*
 * A token for user sub, issued at iat, expiring at exp, into out (cap
 * bytes).  Returns its length, or -1 if it does not fit or HMAC fails.
 */
int
jwt_hs256(const char *secret, size_t secretlen, const char *sub, long iat,
    long exp, char *out, size_t cap)
{
	char		 claims[256];
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;
	size_t		 n, len;
	int		 c;

	c = snprintf(claims, sizeof(claims),
	    "{\"sub\":\"%s\",\"iat\":%ld,\"exp\":%ld}", sub, iat, exp);
	if (c < 0 || (size_t)c >= sizeof(claims))
		return -1;
	n = (size_t)c;
	/* header + '.' + claims + '.' + 43 chars of MAC + NUL */
	if (sizeof(JWT_HEADER) + (n + 2) / 3 * 4 + 1 + 44 + 1 > cap)
		return -1;
	memcpy(out, JWT_HEADER ".", sizeof(JWT_HEADER));
	len = sizeof(JWT_HEADER);
	len += b64url((const unsigned char *)claims, n, out + len);
	if (HMAC(EVP_sha256(), secret, (int)secretlen,
	    (const unsigned char *)out, len, mac, &maclen) == NULL)
		return -1;
	out[len++] = '.';
	len += b64url(mac, maclen, out + len);
	return (int)len;
}
