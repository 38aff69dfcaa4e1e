/*
 * base64 and hex: round trips, tolerated white space, refused input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "encode.h"

static unsigned char *
decode(const char *s, size_t *len)
{
	return encode_base64_decode_new(s, strlen(s), len);
}

static void
test_encode_base64_round_trips_every_length(void **state)
{
	unsigned char	 buf[41], *back;
	char		*text;
	size_t		 n, len;

	(void)state;
	for (n = 0; n < sizeof(buf); n++)
		buf[n] = (unsigned char)(n * 37 + 11);
	for (n = 1; n <= sizeof(buf); n++) {
		text = encode_base64_new(buf, n);
		assert_non_null(text);
		back = decode(text, &len);
		assert_non_null(back);
		assert_int_equal(len, n);
		assert_memory_equal(back, buf, n);
		free(back);
		free(text);
	}
}

static void
test_encode_base64_skips_white_space(void **state)
{
	unsigned char	*out;
	size_t		 len;

	(void)state;
	out = decode(" aGVs\r\nbG8g\td29y bGQ=\n", &len);
	assert_non_null(out);
	assert_int_equal(len, 11);
	assert_memory_equal(out, "hello world", 11);
	free(out);
}

static void
test_encode_base64_refuses_bad_input(void **state)
{
	size_t	len;

	(void)state;
	assert_null(decode("", &len));
	assert_null(decode("   ", &len));
	assert_null(decode("aGVsbG8", &len));		/* length */
	assert_null(decode("aGV*bG8=", &len));		/* character */
	assert_null(decode("aG=sbG8=", &len));		/* '=' inside */
	assert_null(decode("aGVsb===", &len));		/* three pads */
	assert_null(decode("aGVs%2B==", &len));		/* still escaped */
}

static void
test_encode_hex_round_trips_and_refuses_bad_digits(void **state)
{
	unsigned char	 in[4] = { 0x00, 0xab, 0x7f, 0xff }, out[4];
	char		*hex = encode_hex_new(in, sizeof(in));

	(void)state;
	assert_string_equal(hex, "00ab7fff");
	assert_int_equal(encode_hex_decode(hex, out, sizeof(out)), 0);
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(encode_hex_decode("00AB7FFF", out, sizeof(out)), 0);
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(encode_hex_decode("00ab7ff", out, sizeof(out)), -1);
	assert_int_equal(encode_hex_decode("00ab7fg0", out, sizeof(out)), -1);
	assert_int_equal(encode_hex_decode("00ab7fff00", out, sizeof(out)),
	    -1);
	free(hex);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_base64_round_trips_every_length),
		cmocka_unit_test(test_encode_base64_skips_white_space),
		cmocka_unit_test(test_encode_base64_refuses_bad_input),
		cmocka_unit_test(
		    test_encode_hex_round_trips_and_refuses_bad_digits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
