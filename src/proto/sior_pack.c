/*
 * sior_pack: a jansson tree to msgpack, byte for byte as notepack.io 3.0's
 * encode() writes the same value (sior_js.h).  Pure: no I/O, no logging.
 *
 * A JS number is an int on the wire when it is integral, in the smallest
 * form (msgpack-c picks the same ones), and a float64 otherwise.
 * notepack writes integral doubles past 2^64 as garbled uint64s; we write
 * them as float64, which every decoder reads back exactly.
 */
#include <math.h>
#include <string.h>

#include "sior_js.h"

static int	pack_number(msgpack_packer *, double);

static int
pack_number(msgpack_packer *pk, double d)
{
	if (d != floor(d) || !isfinite(d) || d < -9223372036854775808.0 ||
	    d >= 18446744073709551616.0)
		return (msgpack_pack_double(pk, d));
	if (d >= 0)
		return (msgpack_pack_uint64(pk, (uint64_t)d));
	return (msgpack_pack_int64(pk, (int64_t)d));
}

/* Pack j (fixed by sior_js_fix(): no undefined, JS key order); 0 or -1. */
int
sior_pack(msgpack_packer *pk, const json_t *j)
{
	const char	*key;
	json_t		*v;
	size_t		 i, n;

	switch (json_typeof(j)) {
	case JSON_NULL:
		return (msgpack_pack_nil(pk));
	case JSON_TRUE:
		return (msgpack_pack_true(pk));
	case JSON_FALSE:
		return (msgpack_pack_false(pk));
	case JSON_INTEGER:
		return (msgpack_pack_int64(pk, json_integer_value(j)));
	case JSON_REAL:
		return (pack_number(pk, json_real_value(j)));
	case JSON_STRING:
		n = json_string_length(j);
		if (msgpack_pack_str(pk, n) != 0)
			return (-1);
		return (msgpack_pack_str_body(pk, json_string_value(j), n));
	case JSON_ARRAY:
		if (msgpack_pack_array(pk, json_array_size(j)) != 0)
			return (-1);
		json_array_foreach(j, i, v) {
			if (sior_pack(pk, v) != 0)
				return (-1);
		}
		return (0);
	case JSON_OBJECT:
		if (msgpack_pack_map(pk, json_object_size(j)) != 0)
			return (-1);
		json_object_foreach((json_t *)j, key, v) {
			n = strlen(key);
			if (msgpack_pack_str(pk, n) != 0 ||
			    msgpack_pack_str_body(pk, key, n) != 0 ||
			    sior_pack(pk, v) != 0)
				return (-1);
		}
		return (0);
	}
	return (-1);
}
