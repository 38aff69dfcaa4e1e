/*
 * Small utilities of the fuzz targets: quiet logs, a per-process
 * working directory, files, hashes.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "encode.h"
#include "fuzz.h"
#include "log.h"

#define FUZZ_UTIL_NFTW_FDS	16

static char	*fuzz_util_dir;

void
fuzz_util_die(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fprintf(stderr, "fuzz: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

void
fuzz_util_init(void)
{
	const char	*v = getenv("SCEPD_FUZZ_LOG");
	enum log_level	 level = LOG_LEVEL_ERROR;
	int		 fd;

	if (v != NULL && strcmp(v, "debug") == 0)
		level = LOG_LEVEL_DEBUG;
	else if (v != NULL && strcmp(v, "info") == 0)
		level = LOG_LEVEL_INFO;
	log_init("scepd-fuzz", level);
	/* A fuzzed path such as /dev/stdin must not wait for a terminal. */
	if ((fd = open("/dev/null", O_RDONLY)) != -1) {
		if (fd != STDIN_FILENO) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
	}
}

static int
fuzz_util_rm(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void
fuzz_util_cleanup(void)
{
	if (fuzz_util_dir == NULL)
		return;
	nftw(fuzz_util_dir, fuzz_util_rm, FUZZ_UTIL_NFTW_FDS,
	    FTW_DEPTH | FTW_PHYS);
	free(fuzz_util_dir);
	fuzz_util_dir = NULL;
}

static const char *
fuzz_util_base(void)
{
	const char	*v;

	if ((v = getenv("SCEPD_FUZZ_SHM")) != NULL && *v != '\0')
		return v;
	if (access("/dev/shm", W_OK | X_OK) == 0)
		return "/dev/shm";
	if ((v = getenv("TMPDIR")) != NULL && *v != '\0')
		return v;
	return "/tmp";
}

const char *
fuzz_util_workdir(void)
{
	char	*path;

	if (fuzz_util_dir != NULL)
		return fuzz_util_dir;
	if (asprintf(&path, "%s/scepd-fuzz-XXXXXX", fuzz_util_base()) == -1)
		fuzz_util_die("out of memory");
	if (mkdtemp(path) == NULL)
		fuzz_util_die("mkdtemp %s: %s", path, strerror(errno));
	fuzz_util_dir = path;
	atexit(fuzz_util_cleanup);
	return fuzz_util_dir;
}

char *
fuzz_util_path_new(const char *name)
{
	char	*path;

	if (asprintf(&path, "%s/%s", fuzz_util_workdir(), name) == -1)
		fuzz_util_die("out of memory");
	return path;
}

int
fuzz_util_write(const char *path, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	ssize_t			 n;
	int			 fd, rc = -1;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	while (len > 0) {
		if ((n = write(fd, p, len)) <= 0) {
			log_error("%s: write: %s", path, strerror(errno));
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	rc = 0;
 out:
	close(fd);
	return rc;
}

void
fuzz_util_sha256_hex(const void *buf, size_t len, char *out)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;

	if (EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		fuzz_util_die("EVP_Digest failed");
	encode_hex(md, mdlen, out);
}

void
fuzz_util_err_check(const char *what)
{
	const char	*file, *func;
	unsigned long	 e;
	int		 line;
	char		 buf[256];

	if ((e = ERR_peek_error_all(&file, &line, &func, NULL, NULL)) == 0)
		return;
	ERR_error_string_n(e, buf, sizeof(buf));
	fuzz_util_die("%s left the OpenSSL error queue undrained: %s "
	    "(raised at %s:%d in %s)", what, buf, file, line, func);
}
