/*
 * Challenge password hashes: "$scrypt$ln=..,r=..,p=..$salt$hash".
 * Hashing and verifying cost one scrypt (N = 2^15) each, so the hash
 * most tests verify against is made once, in the group setup.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "challenge.h"
#include "encode.h"
#include "log.h"

#define SECRET		"correct horse battery staple"
#define SECRET_LEN	(sizeof(SECRET) - 1)

/* Well-formed base64 of 16 (salt) and 32 (hash) zero bytes. */
#define SALT16		"AAAAAAAAAAAAAAAAAAAAAA=="
#define HASH32		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static int
group_setup(void **state)
{
	char	*hash;

	log_init("test_challenge", LOG_LEVEL_ERROR);
	if ((hash = challenge_hash_new(SECRET, SECRET_LEN)) == NULL)
		return -1;
	*state = hash;
	return 0;
}

static int
group_teardown(void **state)
{
	free(*state);
	return 0;
}

/* "$scrypt$<params>$<salt>$<hash>" in buf. */
static const char *
mk(char *buf, size_t len, const char *params, const char *salt,
    const char *hash)
{
	snprintf(buf, len, "$scrypt$%s$%s$%s", params, salt, hash);
	return buf;
}

static void
test_challenge_hash_has_the_documented_form(void **state)
{
	const char	*hash = *state;
	const char	*salt, *sep;
	unsigned char	*raw;
	size_t		 len;

	assert_int_equal(strncmp(hash, "$scrypt$ln=15,r=8,p=1$", 22), 0);
	salt = hash + 22;
	sep = strchr(salt, '$');
	assert_non_null(sep);
	raw = encode_base64_decode_new(salt, (size_t)(sep - salt), &len);
	assert_non_null(raw);
	assert_int_equal(len, 16);
	free(raw);
	raw = encode_base64_decode_new(sep + 1, strlen(sep + 1), &len);
	assert_non_null(raw);
	assert_int_equal(len, 32);
	free(raw);
	assert_int_equal(challenge_hash_check(hash), 0);
}

static void
test_challenge_verify_accepts_the_secret(void **state)
{
	assert_int_equal(challenge_verify(*state, SECRET, SECRET_LEN), 0);
}

static void
test_challenge_verify_refuses_a_wrong_candidate(void **state)
{
	assert_int_equal(challenge_verify(*state, "hunter2", 7), -1);
}

static void
test_challenge_verify_refuses_a_different_last_char(void **state)
{
	char	cand[] = SECRET;

	cand[SECRET_LEN - 1] ^= 0x01;
	assert_int_equal(challenge_verify(*state, cand, SECRET_LEN), -1);
}

static void
test_challenge_verify_refuses_a_prefix_of_the_secret(void **state)
{
	assert_int_equal(challenge_verify(*state, SECRET, SECRET_LEN - 1),
	    -1);
}

static void
test_challenge_verify_refuses_an_empty_candidate(void **state)
{
	assert_int_equal(challenge_verify(*state, "", 0), -1);
}

static void
test_challenge_hashes_of_one_secret_differ_by_salt(void **state)
{
	char	*a, *b;

	(void)state;
	a = challenge_hash_new("same", 4);
	b = challenge_hash_new("same", 4);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_not_equal(a, b);
	/* Not only the hash: the salt part differs too. */
	assert_int_not_equal(strncmp(a, b, 22 + 24), 0);
	free(a);
	free(b);
}

/*
 * A hash computed here with OpenSSL's scrypt (cheap parameters)
 * verifies: the parameters are read from the string, and the salt
 * and hash are plain base64.
 */
static void
test_challenge_verify_uses_the_parameters_of_the_hash(void **state)
{
	static const unsigned char	 salt[16] = "0123456789abcdef";
	unsigned char			 dk[32];
	char				*s64, *h64, buf[256];

	(void)state;
	assert_int_equal(EVP_PBE_scrypt("pw", 2, salt, sizeof(salt),
	    1 << 10, 1, 1, 0, dk, sizeof(dk)), 1);
	s64 = encode_base64_new(salt, sizeof(salt));
	h64 = encode_base64_new(dk, sizeof(dk));
	mk(buf, sizeof(buf), "ln=10,r=1,p=1", s64, h64);
	assert_int_equal(challenge_hash_check(buf), 0);
	assert_int_equal(challenge_verify(buf, "pw", 2), 0);
	assert_int_equal(challenge_verify(buf, "pW", 2), -1);
	free(s64);
	free(h64);
}

static void
test_challenge_check_accepts_the_parameter_bounds(void **state)
{
	char	buf[256];

	(void)state;
	assert_int_equal(challenge_hash_check(mk(buf, sizeof(buf),
	    "ln=10,r=1,p=1", SALT16, HASH32)), 0);
	assert_int_equal(challenge_hash_check(mk(buf, sizeof(buf),
	    "ln=15,r=8,p=16", SALT16, HASH32)), 0);
	assert_int_equal(challenge_hash_check(mk(buf, sizeof(buf),
	    "ln=17,r=8,p=1", SALT16, HASH32)), 0);
}

static void
test_challenge_check_refuses_a_wrong_prefix(void **state)
{
	(void)state;
	assert_int_equal(challenge_hash_check("$scrypy$ln=15,r=8,p=1$"
	    SALT16 "$" HASH32), -1);
	assert_int_equal(challenge_hash_check("scrypt$ln=15,r=8,p=1$"
	    SALT16 "$" HASH32), -1);
	assert_int_equal(challenge_hash_check("$2b$10$abcdefghijklmnopqrstuu"),
	    -1);
	assert_int_equal(challenge_hash_check("plain text"), -1);
	assert_int_equal(challenge_hash_check(""), -1);
}

static void
test_challenge_check_refuses_missing_fields(void **state)
{
	static const char *const bad[] = {
		"$scrypt$",
		"$scrypt$ln=15,r=8,p=1",
		"$scrypt$ln=15,r=8,p=1$",
		"$scrypt$ln=15,r=8,p=1$" SALT16,
		"$scrypt$ln=15,r=8,p=1$" SALT16 "$",
		"$scrypt$ln=15,r=8$" SALT16 "$" HASH32,
		"$scrypt$r=8,p=1$" SALT16 "$" HASH32,
		"$scrypt$ln=15,p=1$" SALT16 "$" HASH32,
		"$scrypt$" SALT16 "$" HASH32,
		"$scrypt$ln=15,r=8,p=1$$" HASH32,
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (challenge_hash_check(bad[i]) != -1)
			fail_msg("\"%s\" was accepted", bad[i]);
}

static void
test_challenge_check_refuses_bad_base64(void **state)
{
	char	buf[256];

	(void)state;
	assert_int_equal(challenge_hash_check(mk(buf, sizeof(buf),
	    "ln=15,r=8,p=1", "AAAAAAAAAAAAAAAAAAAAA*==", HASH32)), -1);
	assert_int_equal(challenge_hash_check(mk(buf, sizeof(buf),
	    "ln=15,r=8,p=1", SALT16,
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!=")), -1);
	assert_int_equal(challenge_hash_check(mk(buf, sizeof(buf),
	    "ln=15,r=8,p=1", SALT16, HASH32 "$extra")), -1);
}

static void
test_challenge_check_refuses_wrong_salt_length(void **state)
{
	char	buf[256];

	(void)state;
	/* 15 and 17 bytes. */
	assert_int_equal(challenge_hash_check(mk(buf, sizeof(buf),
	    "ln=15,r=8,p=1", "AAAAAAAAAAAAAAAAAAAA", HASH32)), -1);
	assert_int_equal(challenge_hash_check(mk(buf, sizeof(buf),
	    "ln=15,r=8,p=1", "AAAAAAAAAAAAAAAAAAAAAAA=", HASH32)), -1);
}

static void
test_challenge_check_refuses_wrong_hash_length(void **state)
{
	char	buf[256];

	(void)state;
	/* 31 and 33 bytes. */
	assert_int_equal(challenge_hash_check(mk(buf, sizeof(buf),
	    "ln=15,r=8,p=1", SALT16,
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")), -1);
	assert_int_equal(challenge_hash_check(mk(buf, sizeof(buf),
	    "ln=15,r=8,p=1", SALT16,
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")), -1);
}

static void
test_challenge_check_refuses_out_of_range_parameters(void **state)
{
	static const char *const bad[] = {
		"ln=9,r=8,p=1", "ln=21,r=8,p=1", "ln=-15,r=8,p=1",
		"ln=15,r=0,p=1", "ln=15,r=33,p=1", "ln=15,r=-8,p=1",
		"ln=15,r=8,p=0", "ln=15,r=8,p=17",
	};
	char	buf[256];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (challenge_hash_check(mk(buf, sizeof(buf), bad[i], SALT16,
		    HASH32)) != -1)
			fail_msg("%s was accepted", bad[i]);
}

/*
 * Parameters whose scrypt needs more memory than challenge_verify()
 * allows (256 MiB: 128 * r * 2^ln bytes) can never be verified, not
 * even with the right secret, so the check must not call such a hash
 * well formed: ln=18 with the usual r=8 needs 256 MiB plus a little,
 * ln=20 with r=8 needs 1 GiB.
 */
static void
test_challenge_check_refuses_params_beyond_memory(void **state)
{
	static const char *const bad[] = {
		"ln=18,r=8,p=1", "ln=20,r=8,p=1", "ln=16,r=32,p=1",
		"ln=20,r=32,p=16",
	};
	char	buf[256];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (challenge_hash_check(mk(buf, sizeof(buf), bad[i], SALT16,
		    HASH32)) != -1)
			fail_msg("%s was accepted, but challenge_verify() "
			    "cannot compute it", bad[i]);
}

static void
test_challenge_verify_refuses_a_malformed_hash(void **state)
{
	char	buf[256];

	(void)state;
	assert_int_equal(challenge_verify("plain text", "plain text", 10),
	    -1);
	assert_int_equal(challenge_verify(mk(buf, sizeof(buf),
	    "ln=9,r=8,p=1", SALT16, HASH32), "x", 1), -1);
	assert_int_equal(challenge_verify(mk(buf, sizeof(buf),
	    "ln=15,r=8,p=1", SALT16, "AAAA"), "x", 1), -1);
}

#define T(name)	cmocka_unit_test(name)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_challenge_hash_has_the_documented_form),
		T(test_challenge_verify_accepts_the_secret),
		T(test_challenge_verify_refuses_a_wrong_candidate),
		T(test_challenge_verify_refuses_a_different_last_char),
		T(test_challenge_verify_refuses_a_prefix_of_the_secret),
		T(test_challenge_verify_refuses_an_empty_candidate),
		T(test_challenge_hashes_of_one_secret_differ_by_salt),
		T(test_challenge_verify_uses_the_parameters_of_the_hash),
		T(test_challenge_check_accepts_the_parameter_bounds),
		T(test_challenge_check_refuses_a_wrong_prefix),
		T(test_challenge_check_refuses_missing_fields),
		T(test_challenge_check_refuses_bad_base64),
		T(test_challenge_check_refuses_wrong_salt_length),
		T(test_challenge_check_refuses_wrong_hash_length),
		T(test_challenge_check_refuses_out_of_range_parameters),
		T(test_challenge_check_refuses_params_beyond_memory),
		T(test_challenge_verify_refuses_a_malformed_hash),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
