/*
 * Files, hex and OpenSSL's legacy provider.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/provider.h>

#include "sceptest.h"

#define ST_MAX_FILE	(16 * 1024 * 1024)	/* --send-file, --csr, ... */

/*
 * Providers are process-wide in OpenSSL, so their handles are too;
 * st_legacy_unload() releases them before exit.
 */
static OSSL_PROVIDER	*st_prov_default;
static OSSL_PROVIDER	*st_prov_legacy;

/* Reads a whole file into a new buffer (NUL-terminated, not counted). */
int
st_file_read(const char *path, unsigned char **out, size_t *outlen)
{
	FILE		*f = NULL;
	unsigned char	*buf = NULL, *grown;
	size_t		 len = 0, cap = 0, n;
	int		 rc = -1;

	*out = NULL;
	*outlen = 0;
	if ((f = fopen(path, "rb")) == NULL) {
		st_warnx("%s: %s", path, strerror(errno));
		goto out;
	}
	for (;;) {
		if (cap - len < 4096) {
			if (cap >= ST_MAX_FILE) {
				st_warnx("%s: larger than %d bytes", path,
				    ST_MAX_FILE);
				goto out;
			}
			cap = cap ? cap * 2 : 8192;
			if ((grown = realloc(buf, cap + 1)) == NULL) {
				st_warnx("%s: out of memory", path);
				goto out;
			}
			buf = grown;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		st_warnx("%s: read error", path);
		goto out;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
	rc = 0;
 out:
	if (f != NULL)
		fclose(f);
	free(buf);
	return rc;
}

int
st_file_write(const char *path, const void *buf, size_t len)
{
	FILE	*f = NULL;
	int	 rc = -1;

	if ((f = fopen(path, "wb")) == NULL) {
		st_warnx("%s: %s", path, strerror(errno));
		goto out;
	}
	if (len > 0 && fwrite(buf, 1, len, f) != len) {
		st_warnx("%s: write error", path);
		goto out;
	}
	rc = 0;
 out:
	if (f != NULL && fclose(f) != 0 && rc == 0) {
		st_warnx("%s: %s", path, strerror(errno));
		rc = -1;
	}
	return rc;
}

int
st_pem_write_cert(const char *path, X509 *x)
{
	BIO	*b = NULL;
	int	 rc = -1;

	if ((b = BIO_new_file(path, "w")) == NULL ||
	    PEM_write_bio_X509(b, x) != 1 || BIO_flush(b) != 1) {
		st_warn_ssl("%s: cannot write the certificate", path);
		goto out;
	}
	rc = 0;
 out:
	BIO_free(b);
	return rc;
}

int
st_pem_write_crl(const char *path, X509_CRL *crl)
{
	BIO	*b = NULL;
	int	 rc = -1;

	if ((b = BIO_new_file(path, "w")) == NULL ||
	    PEM_write_bio_X509_CRL(b, crl) != 1 || BIO_flush(b) != 1) {
		st_warn_ssl("%s: cannot write the CRL", path);
		goto out;
	}
	rc = 0;
 out:
	BIO_free(b);
	return rc;
}

/* Lower-case hex of a buffer, as a new string. */
char *
st_hex(const unsigned char *p, size_t len)
{
	static const char	 digits[] = "0123456789abcdef";
	char			*s;
	size_t			 i;

	if ((s = malloc(2 * len + 1)) == NULL) {
		st_warnx("%s: out of memory", __func__);
		return NULL;
	}
	for (i = 0; i < len; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 0xf];
	}
	s[2 * len] = '\0';
	return s;
}

/*
 * Single DES lives in OpenSSL 3's legacy provider.  Loading a provider
 * by hand stops the default one from loading by itself, so both are
 * loaded.  Only done when single DES is actually needed.
 */
int
st_legacy_load(void)
{
	if (st_prov_legacy != NULL)
		return 0;
	if (st_prov_default == NULL &&
	    (st_prov_default = OSSL_PROVIDER_load(NULL, "default")) == NULL) {
		st_warn_ssl("cannot load OpenSSL's default provider");
		return -1;
	}
	if ((st_prov_legacy = OSSL_PROVIDER_load(NULL, "legacy")) == NULL) {
		st_warn_ssl("single DES needs OpenSSL's legacy provider");
		return -1;
	}
	st_debug("loaded OpenSSL's legacy provider for single DES");
	return 0;
}

void
st_legacy_unload(void)
{
	if (st_prov_legacy != NULL)
		OSSL_PROVIDER_unload(st_prov_legacy);
	if (st_prov_default != NULL)
		OSSL_PROVIDER_unload(st_prov_default);
	st_prov_legacy = st_prov_default = NULL;
}
