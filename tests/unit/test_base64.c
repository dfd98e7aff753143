/*
 * test_base64.c: base64 with both alphabets (base64.c): RFC 4648's test
 * vectors, the URL alphabet without padding, strict decoding (every
 * non-canonical form refused), and round trips of every length.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"

static void
enc(const char *in, int alpha, const char *want)
{
	char		out[64];
	ptrdiff_t	n;

	n = base64_encode((const uint8_t *)in, strlen(in), out, sizeof(out),
	    alpha);
	assert_int_equal(n, (ptrdiff_t)strlen(want));
	assert_int_equal((size_t)n, base64_encoded_len(strlen(in), alpha));
	assert_memory_equal(out, want, (size_t)n);
}

static void
test_vectors(void **state)
{
	(void)state;
	/* RFC 4648 section 10. */
	enc("", BASE64_STD, "");
	enc("f", BASE64_STD, "Zg==");
	enc("fo", BASE64_STD, "Zm8=");
	enc("foo", BASE64_STD, "Zm9v");
	enc("foob", BASE64_STD, "Zm9vYg==");
	enc("fooba", BASE64_STD, "Zm9vYmE=");
	enc("foobar", BASE64_STD, "Zm9vYmFy");
	enc("f", BASE64_URL, "Zg");
	enc("fo", BASE64_URL, "Zm8");
	enc("foobar", BASE64_URL, "Zm9vYmFy");
	/* The two alphabets differ in 62 and 63 only. */
	enc("\xfb\xff", BASE64_STD, "+/8=");
	enc("\xfb\xff", BASE64_URL, "-_8");
	/* JWT's header, as the bench tool makes it. */
	enc("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", BASE64_URL,
	    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
}

static void
test_strict(void **state)
{
	uint8_t		out[16];
	const char	*bad_std[] = { "Zg", "Zg=", "Zh==", "Zm9=", "Z===",
	    "Zm9v=", "Zm-v", "Zm_v", "Zm9v\n", " Zm9", "=Zm9", "Zg==Zg==" };
	const char	*bad_url[] = { "Z", "Zh", "Zm9", "Zg==", "Zm+v",
	    "Zm/v" };
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(bad_std) / sizeof(bad_std[0]); i++)
		assert_int_equal(base64_decode(bad_std[i], strlen(bad_std[i]),
		    out, sizeof(out), BASE64_STD), BASE64_EINVAL);
	for (i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++)
		assert_int_equal(base64_decode(bad_url[i], strlen(bad_url[i]),
		    out, sizeof(out), BASE64_URL), BASE64_EINVAL);
	assert_int_equal(base64_decode("Zm9vYmFy", 8, out, 5, BASE64_STD),
	    BASE64_ENOSPACE);
	assert_int_equal(base64_decode("", 0, NULL, 0, BASE64_STD), 0);
	assert_int_equal(base64_encode((const uint8_t *)"foo", 3,
	    (char *)out, 3, BASE64_STD), BASE64_ENOSPACE);
}

static void
test_round_trip(void **state)
{
	uint8_t		in[64], back[64];
	char		text[128];
	ptrdiff_t	n, m;
	size_t		len, i;
	int		alpha;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (alpha = BASE64_STD; alpha <= BASE64_URL; alpha++)
		for (len = 0; len <= sizeof(in); len++) {
			n = base64_encode(in, len, text, sizeof(text), alpha);
			assert_true(n >= 0);
			m = base64_decode(text, (size_t)n, back, sizeof(back),
			    alpha);
			assert_int_equal(m, (ptrdiff_t)len);
			assert_memory_equal(back, in, len);
		}
	for (i = 0; i < 64; i++)
		assert_int_equal(base64_value(base64_digit((unsigned)i,
		    BASE64_URL), BASE64_URL), (int)i);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
