/*
 * SoftHSM2 set-up for `scepctl init`, and repair of a token a crash
 * damaged.
 *
 * A process killed during a SoftHSM login can leave token.object
 * empty (SoftHSM truncates it, drops its lock and writes it again); the
 * copy made right after provisioning is what scepd restores from (see
 * README: "The token survives a crash").
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "log.h"
#include "softhsm.h"

#define SOFTHSM_FILE_MAX	(16 * 1024 * 1024)

int
softhsm_prepare(const char *dir)
{
	char	*tokens = NULL, *conf = NULL, *text = NULL;
	int	 n, rc = -1;

	if (asprintf(&tokens, "%s/%s", dir, SOFTHSM_TOKENS_NAME) == -1 ||
	    asprintf(&conf, "%s/%s", dir, SOFTHSM_CONF_NAME) == -1) {
		tokens = conf = NULL;
		log_error("%s: out of memory", __func__);
		goto out;
	}
	if (mkdir(tokens, 0700) == -1) {
		log_error("%s: %s", tokens, strerror(errno));
		goto out;
	}
	n = asprintf(&text,
	    "# SoftHSM2 configuration for scepd, written by scepctl init.\n"
	    "directories.tokendir = %s\n"
	    "objectstore.backend = file\n"
	    "log.level = ERROR\n"
	    "slots.removable = false\n", tokens);
	if (n == -1) {
		text = NULL;
		goto out;
	}
	if (files_write_new(conf, text, (size_t)n, 0600) == -1)
		goto out;
	if (setenv("SOFTHSM2_CONF", conf, 1) == -1) {
		log_error("setenv: %s", strerror(errno));
		goto out;
	}
	rc = 0;
 out:
	free(tokens);
	free(conf);
	free(text);
	return rc;
}

/* Reads a whole (small) file; NULL (logged). */
static unsigned char *
softhsm_read(const char *path, size_t *len)
{
	struct stat	 st;
	unsigned char	*buf = NULL;
	ssize_t		 n;
	size_t		 off = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		log_error("%s: %s", path, strerror(errno));
		goto fail;
	}
	if (st.st_size > SOFTHSM_FILE_MAX) {
		log_error("%s: unexpectedly large", path);
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	while (off < (size_t)st.st_size &&
	    (n = read(fd, buf + off, (size_t)st.st_size - off)) > 0)
		off += (size_t)n;
	if (off != (size_t)st.st_size) {
		log_error("%s: short read", path);
		goto fail;
	}
	close(fd);
	*len = off;
	return buf;
 fail:
	if (fd != -1)
		close(fd);
	free(buf);
	return NULL;
}

/* Copies one file and reads the copy back to compare. */
static int
softhsm_copy_file(const char *from, const char *to)
{
	unsigned char	*a = NULL, *b = NULL;
	size_t		 alen = 0, blen = 0;
	int		 rc = -1;

	if ((a = softhsm_read(from, &alen)) == NULL ||
	    files_write_new(to, a, alen, 0600) == -1 ||
	    (b = softhsm_read(to, &blen)) == NULL)
		goto out;
	if (alen != blen || memcmp(a, b, alen) != 0) {
		log_error("%s: the copy differs from %s", to, from);
		goto out;
	}
	rc = 0;
 out:
	free(a);
	free(b);
	return rc;
}

static int
softhsm_copy_tree(const char *from, const char *to)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		*src = NULL, *dst = NULL;
	int		 rc = -1;

	if (mkdir(to, 0700) == -1) {
		log_error("%s: %s", to, strerror(errno));
		return -1;
	}
	if ((d = opendir(from)) == NULL) {
		log_error("%s: %s", from, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (asprintf(&src, "%s/%s", from, de->d_name) == -1 ||
		    asprintf(&dst, "%s/%s", to, de->d_name) == -1) {
			src = dst = NULL;
			goto out;
		}
		if (lstat(src, &st) == -1) {
			log_error("%s: %s", src, strerror(errno));
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			if (softhsm_copy_tree(src, dst) == -1)
				goto out;
		} else if (S_ISREG(st.st_mode)) {
			if (softhsm_copy_file(src, dst) == -1)
				goto out;
		}
		free(src);
		free(dst);
		src = dst = NULL;
	}
	rc = 0;
 out:
	free(src);
	free(dst);
	closedir(d);
	return rc;
}

int
softhsm_backup(const char *dir)
{
	char	*tokens = NULL, *backup = NULL;
	int	 rc = -1;

	if (asprintf(&tokens, "%s/%s", dir, SOFTHSM_TOKENS_NAME) == -1 ||
	    asprintf(&backup, "%s/%s", dir, SOFTHSM_BACKUP_NAME) == -1) {
		tokens = backup = NULL;
		goto out;
	}
	rc = softhsm_copy_tree(tokens, backup);
 out:
	free(tokens);
	free(backup);
	return rc;
}

static int
softhsm_is_object_file(const char *name)
{
	size_t	n = strlen(name);

	return n > 7 && strcmp(name + n - 7, ".object") == 0;
}

/*
 * One token directory (tokens/UUID): damaged if an object file in it
 * is empty, or if want (the same directory in the backup, or NULL) has
 * an object file it lacks.
 */
static int
softhsm_token_damaged(const char *dir, const char *want)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		*path = NULL;
	int		 damaged = 0;

	if ((d = opendir(dir)) == NULL) {
		log_error("%s: %s", dir, strerror(errno));
		return -1;
	}
	while (damaged == 0 && (de = readdir(d)) != NULL) {
		if (!softhsm_is_object_file(de->d_name))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) == -1) {
			path = NULL;
			damaged = -1;
			break;
		}
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_size == 0) {
			log_warnx("SoftHSM object file %s is empty", path);
			damaged = 1;
		}
		free(path);
		path = NULL;
	}
	closedir(d);
	if (damaged != 0 || want == NULL || (d = opendir(want)) == NULL)
		return damaged;
	while (damaged == 0 && (de = readdir(d)) != NULL) {
		if (!softhsm_is_object_file(de->d_name))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) == -1) {
			path = NULL;
			damaged = -1;
			break;
		}
		if (stat(path, &st) == -1 && errno == ENOENT) {
			log_warnx("SoftHSM object file %s is missing", path);
			damaged = 1;
		}
		free(path);
		path = NULL;
	}
	closedir(d);
	return damaged;
}

int
softhsm_tokens_damaged(const char *tokens, const char *backup)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		*dir = NULL, *want = NULL;
	int		 damaged = 0;

	if ((d = opendir(tokens)) == NULL) {
		if (errno == ENOENT)
			return 0;
		log_error("%s: %s", tokens, strerror(errno));
		return -1;
	}
	while (damaged == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&dir, "%s/%s", tokens, de->d_name) == -1 ||
		    asprintf(&want, "%s/%s", backup, de->d_name) == -1) {
			free(dir);
			dir = want = NULL;
			damaged = -1;
			break;
		}
		if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
			damaged = softhsm_token_damaged(dir,
			    stat(want, &st) == 0 ? want : NULL);
		free(dir);
		free(want);
		dir = want = NULL;
	}
	closedir(d);
	return damaged;
}

/* Makes a rename in dir durable. */
static void
softhsm_sync_dir(const char *path)
{
	char	*dir, *slash;
	int	 fd;

	if ((dir = strdup(path)) == NULL)
		return;
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if ((fd = open(slash != NULL ? dir : ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

int
softhsm_restore(const char *tokens, const char *backup)
{
	struct timespec	 ts;
	char		*fresh = NULL, *old = NULL;
	int		 rc = -1;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (asprintf(&fresh, "%s.restoring-%ld", tokens, (long)getpid()) ==
	    -1 || asprintf(&old, "%s.damaged-%lld.%09ld", tokens,
	    (long long)ts.tv_sec, ts.tv_nsec) == -1) {
		free(fresh);
		fresh = old = NULL;
		log_error("%s: out of memory", __func__);
		goto out;
	}
	/* The copy is complete and verified before anything moves. */
	if (softhsm_copy_tree(backup, fresh) == -1)
		goto out;
	if (rename(tokens, old) == -1 && errno != ENOENT) {
		log_error("rename %s: %s", tokens, strerror(errno));
		goto out;
	}
	if (rename(fresh, tokens) == -1) {
		log_error("rename %s to %s: %s", fresh, tokens,
		    strerror(errno));
		goto out;
	}
	softhsm_sync_dir(tokens);
	log_warnx("restored the SoftHSM token directory %s from %s; the "
	    "damaged one is kept as %s", tokens, backup, old);
	rc = 0;
 out:
	free(fresh);
	free(old);
	return rc;
}

int
softhsm_copy(const char *from, const char *to)
{
	return softhsm_copy_tree(from, to);
}
