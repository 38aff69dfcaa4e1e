/*
 * The token lock's two modes: key processes of one token hold it
 * shared among themselves, everything else (scepctl, a token restore)
 * exclusive.  Each struct hsm_lock opens the file on its own, so two
 * of them in one process conflict exactly as two processes do.
 * Timeouts of 0 s try once: nothing here waits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "hsm_lock.h"
#include "testutil.h"

struct fixture {
	char	*dir;
	char	 path[512];
};

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = tu_temp_dir();
	snprintf(f->path, sizeof(f->path), "%s/hsm.lock", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	tu_remove_tree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void
test_hsm_lock_shared_holders_coexist(void **state)
{
	struct fixture	*f = *state;
	struct hsm_lock	*a, *b;

	assert_non_null(a = hsm_lock_new(f->path, HSM_LOCK_SHARED));
	assert_non_null(b = hsm_lock_new(f->path, HSM_LOCK_SHARED));
	assert_int_equal(hsm_lock_acquire(a, 0), 0);
	assert_int_equal(hsm_lock_acquire(b, 0), 0);
	hsm_lock_release(a);
	hsm_lock_release(b);
	hsm_lock_free(a);
	hsm_lock_free(b);
}

static void
test_hsm_lock_exclusive_excludes_shared_and_exclusive(void **state)
{
	struct fixture	*f = *state;
	struct hsm_lock	*ex, *sh, *ex2;

	assert_non_null(ex = hsm_lock_new(f->path, HSM_LOCK_EXCLUSIVE));
	assert_non_null(sh = hsm_lock_new(f->path, HSM_LOCK_SHARED));
	assert_non_null(ex2 = hsm_lock_new(f->path, HSM_LOCK_EXCLUSIVE));
	assert_int_equal(hsm_lock_acquire(ex, 0), 0);
	assert_int_equal(hsm_lock_acquire(sh, 0), -1);
	assert_int_equal(hsm_lock_acquire(ex2, 0), -1);
	hsm_lock_release(ex);
	assert_int_equal(hsm_lock_acquire(sh, 0), 0);
	/* ... and a shared holder keeps an exclusive one out. */
	assert_int_equal(hsm_lock_acquire(ex2, 0), -1);
	hsm_lock_release(sh);
	assert_int_equal(hsm_lock_acquire(ex2, 0), 0);
	hsm_lock_release(ex2);
	hsm_lock_free(ex);
	hsm_lock_free(sh);
	hsm_lock_free(ex2);
}

static void
test_hsm_lock_upgrade_waits_for_the_other_shared_holders(void **state)
{
	struct fixture	*f = *state;
	struct hsm_lock	*a, *b, *ex;

	assert_non_null(a = hsm_lock_new(f->path, HSM_LOCK_SHARED));
	assert_non_null(b = hsm_lock_new(f->path, HSM_LOCK_SHARED));
	assert_non_null(ex = hsm_lock_new(f->path, HSM_LOCK_EXCLUSIVE));
	assert_int_equal(hsm_lock_acquire(a, 0), 0);
	assert_int_equal(hsm_lock_acquire(b, 0), 0);
	assert_int_equal(hsm_lock_exclusive(a, 0), -1);
	hsm_lock_release(a);	/* still to be released after a failure */
	hsm_lock_release(b);
	/* Alone, the upgrade succeeds and keeps everyone else out. */
	assert_int_equal(hsm_lock_acquire(a, 0), 0);
	assert_int_equal(hsm_lock_exclusive(a, 0), 0);
	assert_int_equal(hsm_lock_acquire(b, 0), -1);
	assert_int_equal(hsm_lock_acquire(ex, 0), -1);
	hsm_lock_release(a);
	assert_int_equal(hsm_lock_acquire(b, 0), 0);
	hsm_lock_release(b);
	hsm_lock_free(a);
	hsm_lock_free(b);
	hsm_lock_free(ex);
}

static void
test_hsm_lock_upgrade_of_an_exclusive_lock_is_a_no_op(void **state)
{
	struct fixture	*f = *state;
	struct hsm_lock	*ex, *sh;

	assert_non_null(ex = hsm_lock_new(f->path, HSM_LOCK_EXCLUSIVE));
	assert_non_null(sh = hsm_lock_new(f->path, HSM_LOCK_SHARED));
	assert_int_equal(hsm_lock_acquire(ex, 0), 0);
	assert_int_equal(hsm_lock_exclusive(ex, 0), 0);
	assert_int_equal(hsm_lock_acquire(sh, 0), -1);
	hsm_lock_release(ex);
	hsm_lock_free(ex);
	hsm_lock_free(sh);
}

int
main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_hsm_lock_shared_holders_coexist),
		T(test_hsm_lock_exclusive_excludes_shared_and_exclusive),
		T(test_hsm_lock_upgrade_waits_for_the_other_shared_holders),
		T(test_hsm_lock_upgrade_of_an_exclusive_lock_is_a_no_op),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
