/*
 * Certificate building helpers on OpenSSL's X509 API.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "certbuild.h"
#include "encode.h"
#include "log.h"

#define CERTBUILD_DN_MAX	1024

X509 *
certbuild_new(const X509_NAME *subject, const X509_NAME *issuer,
    EVP_PKEY *pub, const ASN1_INTEGER *serial, time_t not_before,
    time_t not_after)
{
	X509	*x;

	if ((x = X509_new()) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_serialNumber(x, (ASN1_INTEGER *)serial) != 1 ||
	    X509_set_subject_name(x, subject) != 1 ||
	    X509_set_issuer_name(x, issuer) != 1 ||
	    X509_set_pubkey(x, pub) != 1 ||
	    X509_time_adj_ex(X509_getm_notBefore(x), 0, 0,
	    &not_before) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), 0, 0,
	    &not_after) == NULL) {
		log_ssl("%s", __func__);
		X509_free(x);
		return NULL;
	}
	return x;
}

int
certbuild_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;
	int		 rc = -1;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL) {
		log_ssl("%s: %s = %s", __func__, OBJ_nid2sn(nid), value);
		return -1;
	}
	if (X509_add_ext(x, ext, -1) != 1)
		log_ssl("%s: X509_add_ext", __func__);
	else
		rc = 0;
	X509_EXTENSION_free(ext);
	return rc;
}

char *
certbuild_name_text_new(const X509_NAME *name)
{
	BIO	*bio;
	char	*data, *text = NULL;
	long	 len;

	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0) {
		log_ssl("%s", __func__);
		goto out;
	}
	/* Control characters, NUL included, are escaped: no early end. */
	len = BIO_get_mem_data(bio, &data);
	if (len < 0 || (text = malloc((size_t)len + 1)) == NULL) {
		log_error("%s: out of memory", __func__);
		goto out;
	}
	if (len > 0)		/* an empty name leaves data NULL */
		memcpy(text, data, (size_t)len);
	text[len] = '\0';
 out:
	BIO_free(bio);
	return text;
}

ASN1_INTEGER *
certbuild_serial_new(void)
{
	unsigned char	 buf[CERTBUILD_SERIAL_LEN];
	BIGNUM		*bn = NULL;
	ASN1_INTEGER	*serial = NULL;

	do {
		if (RAND_bytes(buf, sizeof(buf)) != 1) {
			log_ssl("%s: RAND_bytes", __func__);
			return NULL;
		}
		buf[0] &= 0x7f;		/* positive in two's complement */
	} while (buf[0] == 0);		/* and always the full length */
	if ((bn = BN_bin2bn(buf, sizeof(buf), NULL)) == NULL ||
	    (serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		log_ssl("%s", __func__);
	BN_free(bn);
	return serial;
}

char *
certbuild_serial_hex_new(const ASN1_INTEGER *serial)
{
	BIGNUM		*bn;
	unsigned char	 buf[32];
	char		*hex = NULL;
	int		 len;

	if ((bn = ASN1_INTEGER_to_BN(serial, NULL)) == NULL) {
		log_ssl("%s", __func__);
		return NULL;
	}
	if ((len = BN_num_bytes(bn)) > 0 && (size_t)len <= sizeof(buf) &&
	    BN_bn2bin(bn, buf) == len)
		hex = encode_hex_new(buf, (size_t)len);
	BN_free(bn);
	return hex;
}

time_t
certbuild_time(const ASN1_TIME *t)
{
	struct tm	tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

const EVP_MD *
certbuild_digest_for(EVP_PKEY *issuer_pub)
{
	char	curve[64];
	size_t	len;

	if (EVP_PKEY_get_base_id(issuer_pub) == EVP_PKEY_EC &&
	    EVP_PKEY_get_utf8_string_param(issuer_pub, "group", curve,
	    sizeof(curve), &len) == 1 &&
	    (strcmp(curve, "secp384r1") == 0 || strcmp(curve, "P-384") == 0))
		return EVP_sha384();
	return EVP_sha256();
}

/*
 * Adds one "type=value" component, value unescaped in place; at the
 * front when the string lists the most specific RDN first (RFC 4514).
 */
static int
certbuild_name_add(X509_NAME *name, char *rdn, int at_front)
{
	char	*eq, *r, *w;

	if ((eq = strchr(rdn, '=')) == NULL || eq == rdn || eq[1] == '\0')
		return -1;
	*eq = '\0';
	for (r = w = eq + 1; *r != '\0'; r++) {
		if (*r == '\\' && r[1] != '\0')
			r++;
		*w++ = *r;
	}
	*w = '\0';
	while (*rdn == ' ')
		rdn++;
	if (X509_NAME_add_entry_by_txt(name, rdn, MBSTRING_UTF8,
	    (unsigned char *)eq + 1, -1, at_front ? 0 : -1, 0) != 1) {
		log_ssl("%s: %s", __func__, rdn);
		return -1;
	}
	return 0;
}

X509_NAME *
certbuild_name_parse(const char *dn)
{
	X509_NAME	*name = NULL;
	char		 buf[CERTBUILD_DN_MAX];
	char		*p, *start;
	char		 sep;

	if (strlen(dn) >= sizeof(buf) || *dn == '\0')
		goto fail;
	strcpy(buf, dn);
	sep = buf[0] == '/' ? '/' : ',';
	start = buf[0] == '/' ? buf + 1 : buf;
	if ((name = X509_NAME_new()) == NULL)
		goto fail;
	for (p = start;; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p != sep && *p != '\0')
			continue;
		if (p == start)
			goto fail;
		if (*p == '\0') {
			if (certbuild_name_add(name, start, sep == ',') == -1)
				goto fail;
			break;
		}
		*p = '\0';
		if (certbuild_name_add(name, start, sep == ',') == -1)
			goto fail;
		start = p + 1;
	}
	return name;
 fail:
	log_error("malformed distinguished name \"%s\": use \"/O=y/CN=x\" "
	    "or \"CN=x,O=y\"", dn);
	X509_NAME_free(name);
	return NULL;
}
