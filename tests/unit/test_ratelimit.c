/*
 * Per-address event counts: limits per window, windows that pass,
 * addresses kept apart, and a full table that forgets the oldest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "ratelimit.h"

static void
test_ratelimit_limits_an_address_until_its_window_passes(void **state)
{
	struct ratelimit	*rl = ratelimit_new(3, 60);
	int			 i;

	(void)state;
	assert_non_null(rl);
	for (i = 1; i <= 2; i++)
		assert_int_equal(ratelimit_add(rl, "192.0.2.1", 1000), i);
	assert_int_equal(ratelimit_wait(rl, "192.0.2.1", 1000), 0);
	assert_int_equal(ratelimit_add(rl, "192.0.2.1", 1010), 3);
	assert_int_equal(ratelimit_wait(rl, "192.0.2.1", 1010), 50);
	assert_int_equal(ratelimit_wait(rl, "192.0.2.1", 1059), 1);
	assert_int_equal(ratelimit_wait(rl, "192.0.2.1", 1060), 0);
	assert_int_equal(ratelimit_add(rl, "192.0.2.1", 1060), 1);
	ratelimit_free(rl);
}

static void
test_ratelimit_keeps_addresses_apart(void **state)
{
	struct ratelimit	*rl = ratelimit_new(1, 60);

	(void)state;
	assert_int_equal(ratelimit_add(rl, "192.0.2.1", 1000), 1);
	assert_int_equal(ratelimit_wait(rl, "192.0.2.1", 1000), 60);
	assert_int_equal(ratelimit_wait(rl, "192.0.2.2", 1000), 0);
	assert_int_equal(ratelimit_wait(rl, "2001:db8::1", 1000), 0);
	ratelimit_free(rl);
}

/* A flood of addresses costs no memory and never crashes the table. */
static void
test_ratelimit_full_table_forgets_the_oldest(void **state)
{
	struct ratelimit	*rl = ratelimit_new(1, 60);
	char			 addr[64];
	int			 i;

	(void)state;
	assert_int_equal(ratelimit_add(rl, "198.51.100.7", 1000), 1);
	for (i = 0; i < 4 * RATELIMIT_SLOTS; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", i >> 16,
		    (i >> 8) & 0xff, i & 0xff);
		assert_int_equal(ratelimit_add(rl, addr, 1001), 1);
	}
	/* The oldest count was taken over, not kept at any cost. */
	assert_int_equal(ratelimit_wait(rl, "198.51.100.7", 1001), 0);
	/* And the newest ones are still counted. */
	assert_int_equal(ratelimit_wait(rl, addr, 1001), 60);
	ratelimit_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_ratelimit_limits_an_address_until_its_window_passes),
		cmocka_unit_test(test_ratelimit_keeps_addresses_apart),
		cmocka_unit_test(test_ratelimit_full_table_forgets_the_oldest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
