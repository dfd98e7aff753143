/*
 * test_auth: guards token verification (src/gateway/auth.c) without any I/O but
 * the key files: HS256/384/512 tokens signed with the secret are accepted,
 * and nothing else is: a wrong signature, a tampered payload, alg "none",
 * another algorithm than the configured one (algorithm confusion included:
 * an HS256 token signed with the RS256 public key's text), exp and nbf
 * outside jwt_leeway, a claim of the wrong type, a wrong or missing iss or
 * aud, a token naming no user.  Each refusal is checked with its reason,
 * the one the client's CONNECT_ERROR carries.  Secrets are 32 bytes or
 * more and tokens carry exp, as the gateway requires.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <jwt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth.h"
#include "conf.h"
#include "grouplist.h"

#define SECRET		"unit-test-secret-0123456789abcdef-xyz"
#define OTHER		"another-secret-0123456789abcdef-xyzzy"
#define NOW		1800000000LL	/* a fixed "now" for auth_verify */
#define INVALID		"Invalid authentication token"
#define EXPIRED		"Authentication token expired"
#define NOTYET		"Authentication token not yet valid"
#define NOUSER		"Authentication token names no user"
#define REQUIRED	"Authentication token required"

static const char rsa_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuRaY/0aljO4wKIA4AAjc\n"
    "cT7BE1IkV5mDpYyRMwPq4plq/lkl7Kv3PIwN65p4drh1bGOH3rfwJRYPFERw+o4n\n"
    "eQZnargrQ6vl7yxNtIDiosyYbCZ1uq4bdP6yGxYEcRUKLl+f9gssPVY5LlsWtHxV\n"
    "/QDF00YRXVlZ/W3uKaCNIbqFCeyGDK21I6Bt1/TeNO92wZ4NitjyqMmUudtwlXrd\n"
    "sqc6x1VBSBuVBYbntll6FG97i+0euWbOn9BhVl57hXxKp0DiSBGxbtivbakM2+vD\n"
    "u4psf0cgOHZ78B+wJoqjUPB0JKGqwXX/pqss/Zz7pnKM9u6Sus8Bw/pnkIYfjpk9\n"
    "9wIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

static const char rsa_priv[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC5Fpj/RqWM7jAo\n"
    "gDgACNxxPsETUiRXmYOljJEzA+rimWr+WSXsq/c8jA3rmnh2uHVsY4fet/AlFg8U\n"
    "RHD6jid5BmdquCtDq+XvLE20gOKizJhsJnW6rht0/rIbFgRxFQouX5/2Cyw9Vjku\n"
    "Wxa0fFX9AMXTRhFdWVn9be4poI0huoUJ7IYMrbUjoG3X9N4073bBng2K2PKoyZS5\n"
    "23CVet2ypzrHVUFIG5UFhue2WXoUb3uL7R65Zs6f0GFWXnuFfEqnQOJIEbFu2K9t\n"
    "qQzb68O7imx/RyA4dnvwH7AmiqNQ8HQkoarBdf+mqyz9nPumcoz27pK6zwHD+meQ\n"
    "hh+OmT33AgMBAAECggEAGgfMkrJb3BsvmLKXraGRZzfdLZty0wMbGbBQR214nk/X\n"
    "VVgyVjvFNLW5y3XZFVFR6mGBHVifJIgarM4HWaWedY3qA39NTmIhn2aKsyUhOqYt\n"
    "laA/FHciE20ynU6WZ1T/LpByTcc6fJHgzt0ur0mBSmjOaa1ECe3kExlf0mjrEGAO\n"
    "bt1vrFS2m14+Gk0IKErJomHghsofpdfMP0f33EdfAGT1VxLN6m9AHi++Ar8m0rPS\n"
    "Obu8yil8tc7Vx9Djh0MHAyw93V+CGJcpOJIVGsJjZ//m2gTqb9qpfNaWuHiuzdkY\n"
    "TZeg3JP2BwPeDIhFnEyuJG/eVkWOGqNx2NUPeGk/AQKBgQD0DisPKo1KBpt3jbVi\n"
    "VyPvAeN7AYvMWXKBk6+JyH2Hnjw67Es6T8H9szmewsq3Xe3M6Q+lS32RURvHyDgM\n"
    "ELC1aYHZNEW/NdAamIFx+I9u7iHbIzcN0JGTmtDLhfGO/dGMDkT4bGLkLcySPh/9\n"
    "FH484iXj+55THrUjzpqErAzmgQKBgQDCJZ2s8IDTi1Ew0vq6hGrZLgk0jkhjVP5q\n"
    "TdsLmG7tYBr1vqY7mL6ezvyYAzfWaMZfBLBahNFNGmP0Dh4fBC5QjHPuc7hoUX72\n"
    "cMvKakbbVSKbeMnRHR8rZTiTDRpOxpxqoy6bDSSWroFrGmn2+MS47Xt5nB0XLzZr\n"
    "YmfOK/4YdwKBgE63ayf/H4cqzmYnLMPFO2/Reh+ohgCpMQeeLNYR9nsRjHes0y7B\n"
    "nt5HOmR8i4nNH/Ahk8xKpvuB36X2bC1oDLbWiu0VsRFVOAP8AHRUKV8sK3tUxmMM\n"
    "TIgBPSsHzrvCHh5AU/qUaukR5JOeug6U14qnnnUEKTLCCsa70pbML3UBAoGAV0f/\n"
    "7dqln/T3CEMhUy7qtj57BvScWIPCaNodisX5wJ+/HxGZvBs8PzsA1fpEZRDvdZIv\n"
    "ElK5obcmjna2Ve1UQQQTrnS5x7QzpukoxRQoTLymdUzFNkyoUaMM3xc554ZklZBN\n"
    "CInNFCzZo+PZFZ3bGuQw6Ygkj+K6zWYNEuQ2NJsCgYEAt7mW6eEtbuZrGziBWeww\n"
    "/77CxUVSHoGaYX58rhZbByQzRAjHU1p9RD8zjwJ7axHJE20Y0CJS3N/0RIE27tvq\n"
    "+rXlDXNFEz5sg9xR4ViqdRFxSSrl/ns8j4x8HWmO4OTk6sfKzVTQQVXLYsOnrRhD\n"
    "EeP3RAbWlLC8bjTVtwa6SLM=\n"
    "-----END PRIVATE KEY-----\n";

static char	tmpdir[] = "/tmp/test_auth.XXXXXX";

static void
collect(void *arg, const char *msg)
{
	(void)arg;
	fail_msg("configuration error: %s", msg);
}

/* An auth from configuration text (defaults, then the text). */
static struct auth *
auth_from(const char *text)
{
	struct conf	 c;
	struct auth_conf ac;
	struct auth	*a;
	char		 err[256] = "";

	conf_init(&c);
	assert_int_equal(conf_load_buffer(&c, "x.conf", text, strlen(text),
	    collect, NULL), 0);
	conf_auth(&c, &ac);
	a = auth_new(&ac, err, sizeof(err));
	if (a == NULL)
		fail_msg("auth_new: %s", err);
	conf_free(&c);
	return a;
}

/* auth_new's error for configuration text that gives no usable key. */
static void
expect_no_auth(const char *text, const char *want)
{
	struct conf	 c;
	struct auth_conf ac;
	char		 err[512] = "";

	conf_init(&c);
	assert_int_equal(conf_load_buffer(&c, "x.conf", text, strlen(text),
	    collect, NULL), 0);
	conf_auth(&c, &ac);
	assert_null(auth_new(&ac, err, sizeof(err)));
	assert_non_null(strstr(err, want));
	conf_free(&c);
}

/* A token of claims (a JSON object) signed with alg and key by libjwt. */
static char *
sign(const char *alg, const char *key, const char *claims)
{
	jwt_t	*jwt;
	char	*s;

	assert_int_equal(jwt_new(&jwt), 0);
	assert_int_equal(jwt_add_grants_json(jwt, claims), 0);
	assert_int_equal(jwt_set_alg(jwt, jwt_str_alg(alg),
	    (const unsigned char *)key, key == NULL ? 0 : (int)strlen(key)), 0);
	s = jwt_encode_str(jwt);
	assert_non_null(s);
	jwt_free(jwt);
	return s;
}

/* 0 and the user, or -1 and why; the token is freed. */
static int
verify_at(const struct auth *a, char *token, long long now,
    struct auth_result *r, const char **why)
{
	int	rc;

	*why = "(not set)";
	rc = auth_verify(a, token, (time_t)now, r, why);
	free(token);
	return rc;
}

static void
expect_user(const struct auth *a, char *token, const char *user)
{
	struct auth_result	 r;
	const char		*why;

	if (verify_at(a, token, NOW, &r, &why) != 0)
		fail_msg("refused: %s (want user %s)", why, user);
	assert_string_equal(r.user, user);
	assert_null(why);
}

static void
expect_refused(const struct auth *a, char *token, long long now,
    const char *reason)
{
	struct auth_result	 r;
	const char		*why;

	assert_int_equal(verify_at(a, token, now, &r, &why), -1);
	assert_string_equal(why, reason);
}

/* Claims {"sub": "alice", "exp": NOW + 3600} plus the rest. */
static char *
claims(const char *more)
{
	static char	buf[1024];

	snprintf(buf, sizeof(buf), "{\"sub\":\"alice\",\"exp\":%lld%s%s}",
	    NOW + 3600, more[0] != '\0' ? "," : "", more);
	return buf;
}

/* base64url of len bytes, without padding, in out. */
static void
b64url(const unsigned char *in, size_t len, char *out)
{
	static const char	 t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t			 i;
	uint32_t		 v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*out++ = t[v >> 18 & 63];
		*out++ = t[v >> 12 & 63];
		*out++ = t[v >> 6 & 63];
		*out++ = t[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		*out++ = t[v >> 18 & 63];
		*out++ = t[v >> 12 & 63];
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*out++ = t[v >> 18 & 63];
		*out++ = t[v >> 12 & 63];
		*out++ = t[v >> 6 & 63];
	}
	*out = '\0';
}

/* A token with this header and payload text and an empty signature. */
static char *
unsigned_token(const char *head, const char *body)
{
	char	*s;
	size_t	 n = 4 * (strlen(head) + strlen(body)) / 3 + 16;

	assert_non_null(s = malloc(n));
	b64url((const unsigned char *)head, strlen(head), s);
	strcat(s, ".");
	b64url((const unsigned char *)body, strlen(body), s + strlen(s));
	strcat(s, ".");
	return s;
}

/* A file in tmpdir holding text, mode 0600; its path (static). */
static const char *
write_file(const char *name, const char *text)
{
	static char	path[256];
	int		fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* Each HS algorithm accepts its own tokens, with the user and exp. */
static void
test_hs_accept(void **state)
{
	static const char *const	 algs[] = { "HS256", "HS384", "HS512" };
	struct auth_result		 r;
	struct auth			*a;
	const char			*why;
	char				 text[256];
	size_t				 i;

	for (i = 0; i < 3; i++) {
		snprintf(text, sizeof(text), "jwt_secret \"%s\"\n"
		    "jwt_algorithm %s\n", SECRET, algs[i]);
		a = auth_from(text);
		assert_int_equal(verify_at(a, sign(algs[i], SECRET, claims("")),
		    NOW, &r, &why), 0);
		assert_string_equal(r.user, "alice");
		assert_int_equal((long long)r.exp, NOW + 3600);
		assert_null(why);
		auth_free(a);
	}
	(void)state;
}

/* Another secret, a tampered payload or signature, garbage: refused. */
static void
test_bad_signature(void **state)
{
	struct auth	*a = auth_from("jwt_secret \"" SECRET "\"\n");
	char		*t, *dot, big[9000];

	expect_refused(a, sign("HS256", OTHER, claims("")), NOW, INVALID);
	/* The payload of bob's token under alice's signature. */
	t = sign("HS256", SECRET, claims(""));
	{
		char	*bob = sign("HS256", OTHER, "{\"sub\":\"bob\","
		    "\"exp\":1900000000}");
		char	*p1 = strchr(t, '.'), *p2 = strchr(bob, '.');
		char	*s1 = strchr(p1 + 1, '.'), *s2 = strchr(p2 + 1, '.');
		char	 forged[2048];

		snprintf(forged, sizeof(forged), "%.*s%.*s%s",
		    (int)(p1 - t), t, (int)(s2 - p2), p2, s1);
		expect_refused(a, strdup(forged), NOW, INVALID);
		free(bob);
	}
	/* One character of the signature changed. */
	dot = strrchr(t, '.');
	dot[1] = dot[1] == 'A' ? 'B' : 'A';
	expect_refused(a, t, NOW, INVALID);
	expect_refused(a, strdup("not.a.token"), NOW, INVALID);
	expect_refused(a, strdup("garbage"), NOW, INVALID);
	expect_refused(a, strdup(""), NOW, REQUIRED);
	{
		struct auth_result	 r;
		const char		*why;

		assert_int_equal(auth_verify(a, NULL, NOW, &r, &why), -1);
		assert_string_equal(why, REQUIRED);
	}
	/* Over 8 KiB: refused before it is decoded. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_refused(a, strdup(big), NOW, INVALID);
	auth_free(a);
	(void)state;
}

/* alg "none", with or without a signature, is never accepted. */
static void
test_alg_none(void **state)
{
	struct auth	*a = auth_from("jwt_secret \"" SECRET "\"\n");
	char		*t;

	expect_refused(a, unsigned_token("{\"alg\":\"none\",\"typ\":\"JWT\"}",
	    claims("")), NOW, INVALID);
	expect_refused(a, unsigned_token("{\"alg\":\"none\"}", claims("")),
	    NOW, INVALID);
	/* An HS256 header with the signature stripped. */
	t = sign("HS256", SECRET, claims(""));
	strrchr(t, '.')[1] = '\0';
	expect_refused(a, t, NOW, INVALID);
	auth_free(a);
	(void)state;
}

/* The configured algorithm only, even with the right secret. */
static void
test_alg_pinned(void **state)
{
	struct auth	*a;

	a = auth_from("jwt_secret \"" SECRET "\"\n");	/* HS256 */
	expect_refused(a, sign("HS384", SECRET, claims("")), NOW, INVALID);
	expect_refused(a, sign("HS512", SECRET, claims("")), NOW, INVALID);
	auth_free(a);
	a = auth_from("jwt_secret \"" SECRET "\"\njwt_algorithm HS512\n");
	expect_refused(a, sign("HS256", SECRET, claims("")), NOW, INVALID);
	expect_refused(a, sign("HS384", SECRET, claims("")), NOW, INVALID);
	expect_user(a, sign("HS512", SECRET, claims("")), "alice");
	auth_free(a);
	(void)state;
}

/*
 * RS256 with a public key file: the private key's tokens pass; an HS256
 * token whose HMAC key is the public key's PEM text (algorithm
 * confusion, which libjwt alone accepts) does not.
 */
static void
test_alg_confusion(void **state)
{
	struct auth	*a;
	char		 text[512], pem[sizeof(rsa_pub)];

	snprintf(text, sizeof(text), "jwt_algorithm RS256\n"
	    "jwt_public_key_file \"%s\"\n", write_file("key.pub", rsa_pub));
	a = auth_from(text);
	expect_user(a, sign("RS256", rsa_priv, claims("")), "alice");
	/* The key as read (less its final newline), and as written. */
	snprintf(pem, sizeof(pem), "%.*s", (int)strlen(rsa_pub) - 1, rsa_pub);
	expect_refused(a, sign("HS256", pem, claims("")), NOW, INVALID);
	expect_refused(a, sign("HS512", pem, claims("")), NOW, INVALID);
	expect_refused(a, sign("HS256", rsa_pub, claims("")), NOW, INVALID);
	expect_refused(a, unsigned_token("{\"alg\":\"none\",\"typ\":\"JWT\"}",
	    claims("")), NOW, INVALID);
	auth_free(a);
	(void)state;
}

/* exp and nbf, with and without jwt_leeway; integers only. */
static void
test_times(void **state)
{
	struct auth	*a;
	char		 c[256];

	a = auth_from("jwt_secret \"" SECRET "\"\njwt_leeway 0\n");
	snprintf(c, sizeof(c), "{\"sub\":\"alice\",\"exp\":%lld}", NOW);
	expect_user(a, sign("HS256", SECRET, c), "alice");	/* at exp */
	expect_refused(a, sign("HS256", SECRET, c), NOW + 1, EXPIRED);
	snprintf(c, sizeof(c), "{\"sub\":\"alice\",\"exp\":%lld,\"nbf\":%lld}",
	    NOW + 3600, NOW);
	expect_user(a, sign("HS256", SECRET, c), "alice");	/* at nbf */
	expect_refused(a, sign("HS256", SECRET, c), NOW - 1, NOTYET);
	auth_free(a);

	a = auth_from("jwt_secret \"" SECRET "\"\njwt_leeway 30s\n");
	snprintf(c, sizeof(c), "{\"sub\":\"alice\",\"exp\":%lld}", NOW - 30);
	expect_user(a, sign("HS256", SECRET, c), "alice");
	expect_refused(a, sign("HS256", SECRET, c), NOW + 1, EXPIRED);
	snprintf(c, sizeof(c), "{\"sub\":\"alice\",\"exp\":%lld,\"nbf\":%lld}",
	    NOW + 3600, NOW + 30);
	expect_user(a, sign("HS256", SECRET, c), "alice");
	expect_refused(a, sign("HS256", SECRET, c), NOW - 1, NOTYET);
	/* Not integers: refused, not read as 0 (libjwt would). */
	expect_refused(a, sign("HS256", SECRET,
	    "{\"sub\":\"alice\",\"exp\":1900000000.5}"), NOW, INVALID);
	expect_refused(a, sign("HS256", SECRET,
	    "{\"sub\":\"alice\",\"exp\":\"1900000000\"}"), NOW, INVALID);
	expect_refused(a, sign("HS256", SECRET, claims("\"nbf\":\"now\"")),
	    NOW, INVALID);
	auth_free(a);
	(void)state;
}

/* jwt_issuer and jwt_audience, when set, must match; aud may be a list. */
static void
test_iss_aud(void **state)
{
	struct auth	*a;

	a = auth_from("jwt_secret \"" SECRET "\"\n"
	    "jwt_issuer \"https://issuer.example\"\njwt_audience \"chat\"\n");
	expect_user(a, sign("HS256", SECRET, claims(
	    "\"iss\":\"https://issuer.example\",\"aud\":\"chat\"")), "alice");
	expect_user(a, sign("HS256", SECRET, claims(
	    "\"iss\":\"https://issuer.example\",\"aud\":[\"x\",\"chat\"]")),
	    "alice");
	expect_refused(a, sign("HS256", SECRET, claims(
	    "\"iss\":\"https://evil.example\",\"aud\":\"chat\"")), NOW, INVALID);
	expect_refused(a, sign("HS256", SECRET, claims("\"aud\":\"chat\"")),
	    NOW, INVALID);
	expect_refused(a, sign("HS256", SECRET, claims(
	    "\"iss\":\"https://issuer.example\"")), NOW, INVALID);
	expect_refused(a, sign("HS256", SECRET, claims(
	    "\"iss\":\"https://issuer.example\",\"aud\":\"chatty\"")), NOW,
	    INVALID);
	expect_refused(a, sign("HS256", SECRET, claims(
	    "\"iss\":\"https://issuer.example\",\"aud\":[\"x\",7]")), NOW,
	    INVALID);
	expect_refused(a, sign("HS256", SECRET, claims(
	    "\"iss\":\"https://issuer.example\",\"aud\":{\"chat\":1}")), NOW,
	    INVALID);
	auth_free(a);
	/* Not configured: not checked. */
	a = auth_from("jwt_secret \"" SECRET "\"\n");
	expect_user(a, sign("HS256", SECRET, claims(
	    "\"iss\":\"anyone\",\"aud\":\"anything\"")), "alice");
	auth_free(a);
	(void)state;
}

/* The user: sub, user_id, userId, id in that order, or jwt_user_claim. */
static void
test_user_claim(void **state)
{
	struct auth	*a;
	char		 c[512], u129[130];

	a = auth_from("jwt_secret \"" SECRET "\"\n");
	expect_user(a, sign("HS256", SECRET,
	    "{\"exp\":1900000000,\"id\":\"d\",\"userId\":\"c\","
	    "\"user_id\":\"b\"}"), "b");
	expect_user(a, sign("HS256", SECRET,
	    "{\"exp\":1900000000,\"id\":\"d\",\"userId\":\"c\"}"), "c");
	expect_user(a, sign("HS256", SECRET,
	    "{\"exp\":1900000000,\"id\":\"d\"}"), "d");
	expect_user(a, sign("HS256", SECRET,
	    "{\"exp\":1900000000,\"sub\":42}"), "42");
	/* An empty or non-scalar sub: the next claim. */
	expect_user(a, sign("HS256", SECRET,
	    "{\"exp\":1900000000,\"sub\":\"\",\"user_id\":\"b\"}"), "b");
	expect_user(a, sign("HS256", SECRET,
	    "{\"exp\":1900000000,\"sub\":{\"x\":1},\"id\":\"d\"}"), "d");
	expect_refused(a, sign("HS256", SECRET, "{\"exp\":1900000000,"
	    "\"name\":\"alice\"}"), NOW, NOUSER);
	expect_refused(a, sign("HS256", SECRET, "{\"exp\":1900000000,"
	    "\"sub\":true}"), NOW, NOUSER);
	/* AUTH_USER_MAX bytes pass, one more does not. */
	memset(u129, 'u', sizeof(u129) - 1);
	u129[sizeof(u129) - 1] = '\0';
	snprintf(c, sizeof(c), "{\"exp\":1900000000,\"sub\":\"%s\"}", u129);
	expect_refused(a, sign("HS256", SECRET, c), NOW, NOUSER);
	u129[AUTH_USER_MAX] = '\0';
	snprintf(c, sizeof(c), "{\"exp\":1900000000,\"sub\":\"%s\"}", u129);
	expect_user(a, sign("HS256", SECRET, c), u129);
	auth_free(a);

	/* jwt_user_claim: that claim only. */
	a = auth_from("jwt_secret \"" SECRET "\"\njwt_user_claim uid\n");
	expect_user(a, sign("HS256", SECRET,
	    "{\"exp\":1900000000,\"sub\":\"alice\",\"uid\":\"u-7\"}"), "u-7");
	expect_refused(a, sign("HS256", SECRET, claims("")), NOW, NOUSER);
	auth_free(a);
	(void)state;
}

/*
 * group_membership token: the groups claim, at most membership_token_
 * groups of it; in the other modes it is not read (no memory for it).
 */
static void
test_groups_claim(void **state)
{
	struct auth		*a;
	struct auth_result	 r;
	const char		*why;
	char			*tok;

	(void)state;
	tok = sign("HS256", SECRET, "{\"exp\":1900000000,\"sub\":\"alice\","
	    "\"groups\":[\"g1\",\"g2\",\"g3\",7]}");
	a = auth_from("jwt_secret \"" SECRET "\"\ngroup_membership token\n"
	    "membership_token_groups 2\n");
	assert_int_equal(auth_verify(a, tok, NOW, &r, &why), 0);
	assert_non_null(r.groups);
	assert_int_equal(r.groups_claimed, 3);
	assert_int_equal(r.groups->n, 2);
	assert_true(grouplist_has(r.groups, "g1", 2));
	assert_false(grouplist_has(r.groups, "g3", 2));
	grouplist_free(r.groups);
	auth_free(a);
	a = auth_from("jwt_secret \"" SECRET "\"\n");
	assert_int_equal(auth_verify(a, tok, NOW, &r, &why), 0);
	assert_null(r.groups);
	auth_free(a);
	free(tok);
}

/* jwt_secret_file: its text less the final newline is the secret. */
static void
test_secret_file(void **state)
{
	struct auth	*a;
	char		 text[512];

	snprintf(text, sizeof(text), "jwt_secret \"\"\njwt_secret_file \"%s\"\n"
	    "jwt_algorithm HS384\n", write_file("jwt.secret", SECRET "\n"));
	a = auth_from(text);
	expect_user(a, sign("HS384", SECRET, claims("")), "alice");
	expect_refused(a, sign("HS384", SECRET "\n", claims("")), NOW,
	    INVALID);
	auth_free(a);
	snprintf(text, sizeof(text), "jwt_secret \"\"\njwt_secret_file "
	    "\"%s/absent\"\n", tmpdir);
	expect_no_auth(text, "absent: No such file or directory");
	expect_no_auth("jwt_algorithm RS256\njwt_public_key_file \"\"\n",
	    "no key for RS256 tokens");
	(void)state;
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char	path[300];

	(void)state;
	snprintf(path, sizeof(path), "%s/key.pub", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/jwt.secret", tmpdir);
	unlink(path);
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_hs_accept),
		cmocka_unit_test(test_bad_signature),
		cmocka_unit_test(test_alg_none),
		cmocka_unit_test(test_alg_pinned),
		cmocka_unit_test(test_alg_confusion),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_iss_aud),
		cmocka_unit_test(test_user_claim),
		cmocka_unit_test(test_secret_file),
		cmocka_unit_test(test_groups_claim),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
