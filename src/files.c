/*
 * File helpers: certificates in, new files out (never overwriting).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "files.h"
#include "log.h"

X509 *
files_read_cert(const char *path)
{
	BIO	*bio;
	X509	*x = NULL;

	if ((bio = BIO_new_file(path, "rb")) == NULL) {
		log_error("%s: %s", path, strerror(errno));
		log_ssl_clear();
		return NULL;
	}
	if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		log_ssl_clear();
		if (BIO_reset(bio) == 0)
			x = d2i_X509_bio(bio, NULL);
	}
	if (x == NULL)
		log_ssl("%s: no certificate (PEM or DER)", path);
	BIO_free(bio);
	return x;
}

int
files_write_new(const char *path, const void *buf, size_t len, mode_t mode)
{
	const char	*p = buf;
	ssize_t		 n;
	int		 fd, rc = -1;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    mode)) == -1) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			log_error("%s: %s", path, strerror(errno));
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1) {
		log_error("%s: fsync: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
 out:
	if (close(fd) == -1 && rc == 0) {
		log_error("%s: %s", path, strerror(errno));
		rc = -1;
	}
	return rc;
}

int
files_write_cert(const char *path, X509 *x, mode_t mode)
{
	BIO	*mem;
	char	*data;
	long	 len;
	int	 rc = -1;

	if ((mem = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(mem, x) != 1) {
		log_ssl("%s: PEM_write_bio_X509", path);
		goto out;
	}
	len = BIO_get_mem_data(mem, &data);
	rc = files_write_new(path, data, (size_t)len, mode);
 out:
	BIO_free(mem);
	return rc;
}

char *
files_read_secret_new(const char *path, size_t max)
{
	struct stat	 st;
	char		*buf = NULL, *secret = NULL;
	ssize_t		 n;
	size_t		 len;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0)
		log_warnx("%s is accessible to group or others; chmod 600 it",
		    path);
	if ((buf = malloc(max + 2)) == NULL)
		goto out;
	if ((n = read(fd, buf, max + 1)) < 0) {
		log_error("%s: %s", path, strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");
	if (len == 0 || len > max) {
		log_error("%s: %s", path, len == 0 ? "empty" : "too long");
		goto out;
	}
	if ((secret = malloc(len + 1)) == NULL)
		goto out;
	memcpy(secret, buf, len);
	secret[len] = '\0';
 out:
	close(fd);
	if (buf != NULL) {
		OPENSSL_cleanse(buf, max + 2);
		free(buf);
	}
	return secret;
}
