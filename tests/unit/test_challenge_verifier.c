/*
 * The challenge verifier: scrypt first, then a per-process HMAC of
 * the candidate that matched; a wrong candidate never passes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "challenge.h"
#include "log.h"

static int
setup(void **state)
{
	char	*hash;

	log_init("test_challenge_verifier", LOG_LEVEL_ERROR);
	if ((hash = challenge_hash_new("right one", 9)) == NULL)
		return -1;
	*state = hash;
	return 0;
}

static int
teardown(void **state)
{
	free(*state);
	return 0;
}

static int
verify(struct challenge_verifier *cv, const char *candidate, size_t len)
{
	return challenge_verifier_check(cv, candidate, len, NULL, NULL);
}

/*
 * The gate bounds scrypt runs, not checks: a full gate turns a
 * candidate needing scrypt away at once, while a known-good one still
 * passes on its HMAC.
 */
static void
test_verifier_full_gate_turns_away_only_what_needs_scrypt(void **state)
{
	struct challenge_verifier	*cv = challenge_verifier_new(*state);
	struct challenge_gate		*open = challenge_gate_new(1, 0);
	struct challenge_gate		*shut = challenge_gate_new(0, 0);

	assert_non_null(cv);
	assert_int_equal(challenge_verifier_check(cv, "right one", 9, shut,
	    "a"), CHALLENGE_VERIFY_BUSY);
	assert_int_equal(challenge_verifier_check(cv, "right one", 9, open,
	    "a"), 0);
	/* The gate's place was given back. */
	assert_int_equal(challenge_verifier_check(cv, "wrong", 5, open, "a"),
	    -1);
	assert_int_equal(challenge_verifier_check(cv, "wrong", 5, shut, "a"),
	    CHALLENGE_VERIFY_BUSY);
	assert_int_equal(challenge_verifier_check(cv, "right one", 9, shut,
	    "a"), 0);
	challenge_gate_free(open);
	challenge_gate_free(shut);
	challenge_verifier_free(cv);
}

/* One place per address, max places in all, each given back. */
static void
test_gate_gives_each_address_one_place(void **state)
{
	struct challenge_gate	*g = challenge_gate_new(2, 0);
	int			 a, b;

	(void)state;
	assert_non_null(g);
	assert_true((a = challenge_gate_enter(g, "192.0.2.1", NULL)) >= 0);
	assert_int_equal(challenge_gate_enter(g, "192.0.2.1", NULL), -1);
	assert_true((b = challenge_gate_enter(g, "192.0.2.2", NULL)) >= 0);
	assert_int_not_equal(a, b);
	assert_int_equal(challenge_gate_enter(g, "192.0.2.3", NULL), -1);
	challenge_gate_leave(g, a);
	assert_int_equal(challenge_gate_enter(g, "192.0.2.3", NULL), a);
	assert_int_equal(challenge_gate_enter(g, "192.0.2.1", NULL), -1);
	challenge_gate_leave(g, b);
	assert_int_equal(challenge_gate_enter(g, "192.0.2.1", NULL), b);
	challenge_gate_free(g);
}

static void
test_verifier_accepts_the_challenge_again_and_again(void **state)
{
	struct challenge_verifier	*cv = challenge_verifier_new(*state);
	int				 i;

	assert_non_null(cv);
	for (i = 0; i < 3; i++)
		assert_int_equal(verify(cv, "right one", 9),
		    0);
	challenge_verifier_free(cv);
}

static void
test_verifier_refuses_wrong_candidates_after_a_match(void **state)
{
	struct challenge_verifier	*cv = challenge_verifier_new(*state);

	assert_non_null(cv);
	assert_int_equal(verify(cv, "right one", 9), 0);
	assert_int_equal(verify(cv, "right onE", 9), -1);
	assert_int_equal(verify(cv, "right on", 8), -1);
	assert_int_equal(verify(cv, "right one!", 10), -1);
	assert_int_equal(verify(cv, "", 0), -1);
	assert_int_equal(verify(cv, "right one", 9), 0);
	challenge_verifier_free(cv);
}

static void
test_verifier_refuses_wrong_candidates_before_any_match(void **state)
{
	struct challenge_verifier	*cv = challenge_verifier_new(*state);

	assert_non_null(cv);
	assert_int_equal(verify(cv, "wrong", 5), -1);
	assert_int_equal(verify(cv, "wrong", 5), -1);
	assert_int_equal(verify(cv, "right one", 9), 0);
	challenge_verifier_free(cv);
}

static void
test_verifier_compares_the_whole_length(void **state)
{
	struct challenge_verifier	*cv = challenge_verifier_new(*state);

	assert_non_null(cv);
	/* The candidate's length counts, not a NUL inside it. */
	assert_int_equal(verify(cv, "right one\0x", 11), -1);
	assert_int_equal(verify(cv, "right one", 9), 0);
	assert_int_equal(verify(cv, "right one\0x", 11), -1);
	challenge_verifier_free(cv);
}

static void
test_verifier_refuses_a_malformed_hash(void **state)
{
	(void)state;
	assert_null(challenge_verifier_new("$scrypt$ln=15,r=8,p=1$x$y"));
	assert_null(challenge_verifier_new("plain text"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_verifier_accepts_the_challenge_again_and_again),
		cmocka_unit_test(
		    test_verifier_refuses_wrong_candidates_after_a_match),
		cmocka_unit_test(
		    test_verifier_refuses_wrong_candidates_before_any_match),
		cmocka_unit_test(test_verifier_compares_the_whole_length),
		cmocka_unit_test(
		    test_verifier_full_gate_turns_away_only_what_needs_scrypt),
		cmocka_unit_test(test_gate_gives_each_address_one_place),
		cmocka_unit_test(test_verifier_refuses_a_malformed_hash),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
