/*
 * GetCACert: the CA (and RA) certificates, and which of them a request
 * is encrypted to.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "sceptest.h"

/* Takes the certificates of a degenerate certs-only SignedData. */
static int
st_cacert_from_pkcs7(const unsigned char *der, size_t len,
    STACK_OF(X509) *certs)
{
	const unsigned char	*p = der;
	PKCS7			*p7 = NULL;
	STACK_OF(X509)		*in;
	X509			*x;
	int			 i, rc = -1;

	if ((p7 = d2i_PKCS7(NULL, &p, (long)len)) == NULL ||
	    p != der + len || !PKCS7_type_is_signed(p7)) {
		st_warn_ssl("GetCACert: not a PKCS#7 SignedData");
		goto out;
	}
	if ((in = p7->d.sign->cert) == NULL) {
		st_warnx("GetCACert: the SignedData holds no certificate");
		goto out;
	}
	for (i = 0; i < sk_X509_num(in); i++) {
		x = sk_X509_value(in, i);
		if (!sk_X509_push(certs, x)) {
			st_warnx("%s: out of memory", __func__);
			goto out;
		}
		X509_up_ref(x);
	}
	rc = 0;
 out:
	PKCS7_free(p7);
	return rc;
}

/*
 * GetCACert.  On success *out holds the certificates, in the order the
 * server sent them (at least one).
 */
int
st_cacert_fetch(const char *url, STACK_OF(X509) **out)
{
	struct st_http_resp	 r = { 0, 0, NULL, NULL, 0 };
	STACK_OF(X509)		*certs = NULL;
	X509			*x = NULL;
	const unsigned char	*p;
	char			*u = NULL;
	int			 rc = -1;

	*out = NULL;
	if ((u = st_http_url(url, "GetCACert", NULL, 0)) == NULL ||
	    st_http_get(u, &r) == -1)
		goto out;
	if (r.status != 200) {
		st_warnx("GetCACert: HTTP %ld", r.status);
		goto out;
	}
	if ((certs = sk_X509_new_null()) == NULL) {
		st_warnx("%s: out of memory", __func__);
		goto out;
	}
	if (st_http_ctype_is(&r, "application/x-x509-ca-cert")) {
		p = r.body;
		if ((x = d2i_X509(NULL, &p, (long)r.len)) == NULL ||
		    p != r.body + r.len) {
			st_warn_ssl("GetCACert: not one DER certificate");
			goto out;
		}
		if (!sk_X509_push(certs, x)) {
			st_warnx("%s: out of memory", __func__);
			goto out;
		}
		x = NULL;
	} else if (st_http_ctype_is(&r, "application/x-x509-ca-ra-cert")) {
		if (st_cacert_from_pkcs7(r.body, r.len, certs) == -1)
			goto out;
	} else {
		st_warnx("GetCACert: unexpected Content-Type \"%s\"", r.ctype);
		goto out;
	}
	if (sk_X509_num(certs) == 0) {
		st_warnx("GetCACert: no certificate");
		goto out;
	}
	st_debug("GetCACert: %d certificate(s)", sk_X509_num(certs));
	*out = certs;
	certs = NULL;
	rc = 0;
 out:
	X509_free(x);
	sk_X509_pop_free(certs, X509_free);
	st_http_resp_clear(&r);
	free(u);
	return rc;
}

static int
st_cacert_is_ca(X509 *x)
{
	return X509_check_ca(x) != 0;
}

/*
 * The RA: a certificate that is not a CA and may encipher keys (no
 * keyUsage at all allows it).  NULL when the CA answers alone.
 */
X509 *
st_cacert_get0_ra(STACK_OF(X509) *certs)
{
	X509	*x;
	int	 i;

	for (i = 0; i < sk_X509_num(certs); i++) {
		x = sk_X509_value(certs, i);
		if (!st_cacert_is_ca(x) &&
		    (X509_get_key_usage(x) & KU_KEY_ENCIPHERMENT))
			return x;
	}
	return NULL;
}

/*
 * The issuing CA: the issuer of the RA when there is one, else the
 * first CA certificate, else the first certificate.
 */
X509 *
st_cacert_get0_ca(STACK_OF(X509) *certs)
{
	X509	*ra, *x;
	int	 i;

	ra = st_cacert_get0_ra(certs);
	for (i = 0; ra != NULL && i < sk_X509_num(certs); i++) {
		x = sk_X509_value(certs, i);
		if (st_cacert_is_ca(x) && X509_check_issued(x, ra) == X509_V_OK)
			return x;
	}
	for (i = 0; i < sk_X509_num(certs); i++) {
		x = sk_X509_value(certs, i);
		if (st_cacert_is_ca(x))
			return x;
	}
	return sk_X509_value(certs, 0);
}

/*
 * Who the envelope is for: "ra" (the RA, or the CA when there is no
 * RA), "ca", "all", or a PEM certificate file.  Returns a new stack.
 */
STACK_OF(X509) *
st_cacert_recipients(STACK_OF(X509) *certs, const char *which)
{
	STACK_OF(X509)	*r = NULL;
	X509		*x = NULL;
	int		 i, ok = 0;

	if ((r = sk_X509_new_null()) == NULL) {
		st_warnx("%s: out of memory", __func__);
		goto out;
	}
	if (strcmp(which, "all") == 0) {
		for (i = 0; i < sk_X509_num(certs); i++) {
			x = sk_X509_value(certs, i);
			X509_up_ref(x);
			if (!sk_X509_push(r, x)) {
				st_warnx("%s: out of memory", __func__);
				goto out;
			}
		}
		x = NULL;
		ok = 1;
		goto out;
	}
	if (strcmp(which, "ra") == 0) {
		if ((x = st_cacert_get0_ra(certs)) == NULL)
			x = st_cacert_get0_ca(certs);
		X509_up_ref(x);
	} else if (strcmp(which, "ca") == 0) {
		x = st_cacert_get0_ca(certs);
		X509_up_ref(x);
	} else if ((x = st_req_cert_read(which)) == NULL)
		goto out;
	if (!sk_X509_push(r, x)) {
		st_warnx("%s: out of memory", __func__);
		goto out;
	}
	x = NULL;
	ok = 1;
 out:
	X509_free(x);
	if (!ok) {
		sk_X509_pop_free(r, X509_free);
		r = NULL;
	}
	return r;
}

/* Writes the certificates as PEM, the issuing CA first. */
int
st_cacert_write(const char *path, STACK_OF(X509) *certs)
{
	BIO	*b = NULL;
	X509	*ca, *x;
	int	 i, rc = -1;

	ca = st_cacert_get0_ca(certs);
	if ((b = BIO_new_file(path, "w")) == NULL ||
	    PEM_write_bio_X509(b, ca) != 1) {
		st_warn_ssl("%s: cannot write", path);
		goto out;
	}
	for (i = 0; i < sk_X509_num(certs); i++) {
		x = sk_X509_value(certs, i);
		if (x != ca && PEM_write_bio_X509(b, x) != 1) {
			st_warn_ssl("%s: cannot write", path);
			goto out;
		}
	}
	if (BIO_flush(b) != 1) {
		st_warn_ssl("%s: cannot write", path);
		goto out;
	}
	rc = 0;
 out:
	BIO_free(b);
	return rc;
}
