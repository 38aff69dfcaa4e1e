/*
 * Certificates and small files on disk.
 */
#ifndef SCEPD_FILES_H
#define SCEPD_FILES_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/x509.h>

/* Reads the first certificate of a PEM or DER file; NULL (logged). */
X509	*files_read_cert(const char *path);
/* Writes x as PEM to a new file with mode; -1 (logged). */
int	 files_write_cert(const char *path, X509 *x, mode_t mode);
/*
 * Writes len bytes to a new file with mode, refusing to replace an
 * existing one, and fsyncs it.  -1 (logged).
 */
int	 files_write_new(const char *path, const void *buf, size_t len,
	    mode_t mode);

/*
 * Reads a secret (a PIN) from the first line of a small file, without
 * its line ending; warns if group or others may read the file.  The
 * caller clears and frees it.  NULL (logged) if absent or empty.
 */
char	*files_read_secret_new(const char *path, size_t max);

#endif
