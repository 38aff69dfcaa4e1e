/*
 * base64 and hex: round trips, known vectors, tolerated white space,
 * refused input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "encode.h"

#define ROUND_TRIP_MAX	40

static unsigned char *
decode(const char *s, size_t *len)
{
	return encode_base64_decode_new(s, strlen(s), len);
}

/* Fails the test unless s decodes to exactly want (wantlen bytes). */
static void
expect_decodes_to(const char *s, const char *want, size_t wantlen)
{
	unsigned char	*out;
	size_t		 len = 12345;

	out = decode(s, &len);
	if (out == NULL)
		fail_msg("\"%s\" was refused", s);
	assert_int_equal(len, wantlen);
	assert_memory_equal(out, want, wantlen);
	free(out);
}

static void
expect_refused(const char *s)
{
	unsigned char	*out;
	size_t		 len = 12345;

	out = decode(s, &len);
	if (out != NULL) {
		free(out);
		fail_msg("\"%s\" was accepted", s);
	}
}

static void
test_encode_base64_round_trips_lengths_1_to_40(void **state)
{
	unsigned char	 buf[ROUND_TRIP_MAX], *back;
	char		*text;
	size_t		 n, len;

	(void)state;
	for (n = 0; n < sizeof(buf); n++)
		buf[n] = (unsigned char)(n * 37 + 11);
	for (n = 1; n <= sizeof(buf); n++) {
		text = encode_base64_new(buf, n);
		assert_non_null(text);
		assert_int_equal(strlen(text), 4 * ((n + 2) / 3));
		back = decode(text, &len);
		assert_non_null(back);
		assert_int_equal(len, n);
		assert_memory_equal(back, buf, n);
		free(back);
		free(text);
	}
}

static void
test_encode_base64_round_trips_every_byte_value(void **state)
{
	unsigned char	 buf[256], *back;
	char		*text;
	size_t		 i, len;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)i;
	text = encode_base64_new(buf, sizeof(buf));
	assert_non_null(text);
	back = decode(text, &len);
	assert_non_null(back);
	assert_int_equal(len, sizeof(buf));
	assert_memory_equal(back, buf, sizeof(buf));
	free(back);
	free(text);
}

static void
test_encode_base64_of_nothing_is_the_empty_string(void **state)
{
	char	*text;

	(void)state;
	text = encode_base64_new((const unsigned char *)"", 0);
	assert_non_null(text);
	assert_string_equal(text, "");
	free(text);
}

/*
 * The decoder's contract: no data is a "bad length" (callers never
 * want an empty message), so "" is refused rather than decoded to
 * zero bytes.
 */
static void
test_encode_base64_decode_refuses_empty_input(void **state)
{
	(void)state;
	expect_refused("");
}

static void
test_encode_base64_matches_rfc4648_vectors(void **state)
{
	static const char *const vec[][2] = {
		{ "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	char	*text;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		text = encode_base64_new((const unsigned char *)vec[i][0],
		    strlen(vec[i][0]));
		assert_non_null(text);
		assert_string_equal(text, vec[i][1]);
		free(text);
		expect_decodes_to(vec[i][1], vec[i][0], strlen(vec[i][0]));
	}
}

static void
test_encode_base64_decodes_plus_and_slash(void **state)
{
	(void)state;
	expect_decodes_to("+/+/", "\xfb\xff\xbf", 3);
}

/* Each white-space character, at every position of the text. */
static void
test_encode_base64_tolerates_white_space_anywhere(void **state)
{
	static const char	 ws[] = { '\r', '\n', '\t', ' ' };
	static const char	 b64[] = "aGVsbG8gd29ybGQ=";
	char			 buf[sizeof(b64) + 1];
	size_t			 w, at, n = strlen(b64);

	(void)state;
	for (w = 0; w < sizeof(ws); w++)
		for (at = 0; at <= n; at++) {
			memcpy(buf, b64, at);
			buf[at] = ws[w];
			memcpy(buf + at + 1, b64 + at, n - at + 1);
			expect_decodes_to(buf, "hello world", 11);
		}
}

static void
test_encode_base64_tolerates_wrapped_lines(void **state)
{
	(void)state;
	expect_decodes_to(" aGVs\r\nbG8g\td29y bGQ=\r\n", "hello world", 11);
}

static void
test_encode_base64_refuses_only_white_space(void **state)
{
	(void)state;
	expect_refused(" \r\n\t ");
}

static void
test_encode_base64_refuses_invalid_characters(void **state)
{
	static const char *const bad[] = {
		"aGV*bG8=", "aGV-bG8=", "aGV_bG8=", "aGV.bG8=", "aGV%bG8=",
		"aGV\vbG8=", "aGV\fbG8=", "aGV\xc3\xa9G8=", "aGVs%2B==",
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(bad[i]);
}

static void
test_encode_base64_refuses_a_length_not_multiple_of_4(void **state)
{
	(void)state;
	expect_refused("a");
	expect_refused("aG");
	expect_refused("aGV");
	expect_refused("aGVsb");
	expect_refused("aGVsbG8");
	expect_refused("Zg=");
}

static void
test_encode_base64_refuses_pad_in_the_middle(void **state)
{
	(void)state;
	expect_refused("aG=sbG8=");
	expect_refused("Zg==Zg==");
	expect_refused("=aGV");
}

static void
test_encode_base64_refuses_three_pad_characters(void **state)
{
	(void)state;
	expect_refused("aGVsb===");
	expect_refused("Z===");
	expect_refused("====");
}

/* Only inlen bytes are read: the text need not be NUL-terminated. */
static void
test_encode_base64_reads_at_most_inlen_bytes(void **state)
{
	unsigned char	*out;
	size_t		 len;

	(void)state;
	out = encode_base64_decode_new("Zm9vYmFy", 4, &len);
	assert_non_null(out);
	assert_int_equal(len, 3);
	assert_memory_equal(out, "foo", 3);
	free(out);
	/* Cut inside a quantum: a bad length. */
	assert_null(encode_base64_decode_new("Zm9vYmFy", 6, &len));
}

static void
test_encode_hex_is_lower_case(void **state)
{
	static const unsigned char	 in[] = { 0x00, 0xab, 0x7f, 0xff,
					    0x10, 0xcd, 0xef };
	char				*hex;

	(void)state;
	hex = encode_hex_new(in, sizeof(in));
	assert_non_null(hex);
	assert_string_equal(hex, "00ab7fff10cdef");
	free(hex);
}

static void
test_encode_hex_of_nothing_is_the_empty_string(void **state)
{
	char	*hex;

	(void)state;
	hex = encode_hex_new((const unsigned char *)"", 0);
	assert_non_null(hex);
	assert_string_equal(hex, "");
	free(hex);
}

static void
test_encode_hex_round_trips_every_byte_value(void **state)
{
	unsigned char	 in[256], out[256];
	char		*hex;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)i;
	hex = encode_hex_new(in, sizeof(in));
	assert_non_null(hex);
	assert_int_equal(strlen(hex), 2 * sizeof(in));
	memset(out, 0x5a, sizeof(out));
	assert_int_equal(encode_hex_decode(hex, out, sizeof(out)), 0);
	assert_memory_equal(out, in, sizeof(in));
	free(hex);
}

static void
test_encode_hex_decodes_upper_and_mixed_case(void **state)
{
	unsigned char	out[4];

	(void)state;
	assert_int_equal(encode_hex_decode("00AB7FFF", out, sizeof(out)), 0);
	assert_memory_equal(out, "\x00\xab\x7f\xff", 4);
	assert_int_equal(encode_hex_decode("aBcDeF01", out, sizeof(out)), 0);
	assert_memory_equal(out, "\xab\xcd\xef\x01", 4);
}

static void
test_encode_hex_refuses_odd_length(void **state)
{
	unsigned char	out[4];

	(void)state;
	assert_int_equal(encode_hex_decode("00ab7ff", out, sizeof(out)), -1);
	assert_int_equal(encode_hex_decode("0", out, 1), -1);
}

static void
test_encode_hex_refuses_a_length_other_than_asked(void **state)
{
	unsigned char	out[4];

	(void)state;
	assert_int_equal(encode_hex_decode("00ab7fff00", out, sizeof(out)),
	    -1);
	assert_int_equal(encode_hex_decode("00ab7f", out, sizeof(out)), -1);
	assert_int_equal(encode_hex_decode("", out, sizeof(out)), -1);
}

static void
test_encode_hex_refuses_bad_digits(void **state)
{
	static const char *const bad[] = {
		"00ab7fg0", "g0ab7f00", "00ab7f0G", " 0ab7f00", "00ab7f0 ",
		"0xab7f00", "-1ab7f00", "00ab\n7f0",
	};
	unsigned char	out[4];
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (encode_hex_decode(bad[i], out, sizeof(out)) != -1)
			fail_msg("\"%s\" was accepted", bad[i]);
}

#define T(name)	cmocka_unit_test(name)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_encode_base64_round_trips_lengths_1_to_40),
		T(test_encode_base64_round_trips_every_byte_value),
		T(test_encode_base64_of_nothing_is_the_empty_string),
		T(test_encode_base64_decode_refuses_empty_input),
		T(test_encode_base64_matches_rfc4648_vectors),
		T(test_encode_base64_decodes_plus_and_slash),
		T(test_encode_base64_tolerates_white_space_anywhere),
		T(test_encode_base64_tolerates_wrapped_lines),
		T(test_encode_base64_refuses_only_white_space),
		T(test_encode_base64_refuses_invalid_characters),
		T(test_encode_base64_refuses_a_length_not_multiple_of_4),
		T(test_encode_base64_refuses_pad_in_the_middle),
		T(test_encode_base64_refuses_three_pad_characters),
		T(test_encode_base64_reads_at_most_inlen_bytes),
		T(test_encode_hex_is_lower_case),
		T(test_encode_hex_of_nothing_is_the_empty_string),
		T(test_encode_hex_round_trips_every_byte_value),
		T(test_encode_hex_decodes_upper_and_mixed_case),
		T(test_encode_hex_refuses_odd_length),
		T(test_encode_hex_refuses_a_length_other_than_asked),
		T(test_encode_hex_refuses_bad_digits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
