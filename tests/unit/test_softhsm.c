/*
 * Telling and repairing SoftHSM token files a crash damaged: an empty
 * object file or one the backup has and the token lacks is damage; a
 * token directory that is not there is not; a restore swaps in a
 * verified copy and keeps the damaged files.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "softhsm.h"
#include "testutil.h"

#define TOKEN_UUID	"0b1c2d3e-0000-1111-2222-333344445555"

struct fixture {
	char	*dir;
	char	 tokens[512];
	char	 backup[512];
};

static void
put(const char *dir, const char *name, const char *text)
{
	char	 path[1024];
	FILE	*f;

	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/%s", dir, TOKEN_UUID);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/%s/%s", dir, TOKEN_UUID, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = tu_temp_dir();
	snprintf(f->tokens, sizeof(f->tokens), "%s/tokens", f->dir);
	snprintf(f->backup, sizeof(f->backup), "%s/tokens.backup", f->dir);
	put(f->tokens, "token.object", "token");
	put(f->tokens, "key.object", "key");
	put(f->tokens, "key.lock", "");
	put(f->backup, "token.object", "token");
	put(f->backup, "key.object", "key");
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
test_softhsm_whole_token_files_are_not_damaged(void **state)
{
	struct fixture	*f = *state;

	/* Empty lock files are how SoftHSM keeps them. */
	assert_int_equal(softhsm_tokens_damaged(f->tokens, f->backup), 0);
}

static void
test_softhsm_an_empty_token_object_is_damage(void **state)
{
	struct fixture	*f = *state;

	put(f->tokens, "token.object", "");
	assert_int_equal(softhsm_tokens_damaged(f->tokens, f->backup), 1);
	assert_int_equal(softhsm_tokens_damaged(f->tokens, NULL), 1);
}

static void
test_softhsm_an_object_the_backup_has_and_the_token_lacks_is_damage(
    void **state)
{
	struct fixture	*f = *state;
	char		 path[1024];

	snprintf(path, sizeof(path), "%s/%s/key.object", f->tokens,
	    TOKEN_UUID);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(softhsm_tokens_damaged(f->tokens, f->backup), 1);
	/* Without a backup to compare with, a missing file is unknown. */
	assert_int_equal(softhsm_tokens_damaged(f->tokens, NULL), 0);
}

static void
test_softhsm_a_missing_token_directory_is_not_damage(void **state)
{
	struct fixture	*f = *state;
	char		 away[1024];

	snprintf(away, sizeof(away), "%s/away", f->dir);
	assert_int_equal(rename(f->tokens, away), 0);
	assert_int_equal(softhsm_tokens_damaged(f->tokens, f->backup), 0);
}

static void
test_softhsm_restore_swaps_in_the_backup_and_keeps_the_damage(
    void **state)
{
	struct fixture	*f = *state;
	struct dirent	*de;
	struct stat	 st;
	char		 path[1024];
	DIR		*d;
	int		 kept = 0;

	put(f->tokens, "token.object", "");
	assert_int_equal(softhsm_restore(f->tokens, f->backup), 0);
	assert_int_equal(softhsm_tokens_damaged(f->tokens, f->backup), 0);
	snprintf(path, sizeof(path), "%s/%s/token.object", f->tokens,
	    TOKEN_UUID);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 5);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(f->tokens, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_non_null(d = opendir(f->dir));
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "tokens.damaged-", 15) == 0)
			kept++;
	closedir(d);
	assert_int_equal(kept, 1);
}

int
main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_softhsm_whole_token_files_are_not_damaged),
		T(test_softhsm_an_empty_token_object_is_damage),
		T(test_softhsm_an_object_the_backup_has_and_the_token_lacks_is_damage),
		T(test_softhsm_a_missing_token_directory_is_not_damage),
		T(test_softhsm_restore_swaps_in_the_backup_and_keeps_the_damage),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
