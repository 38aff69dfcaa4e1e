/*
 * The requester's side: keys, the PKCS#10 request, and the certificate
 * that signs the pkiMessage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "sceptest.h"

#define ST_REQ_SELFSIGNED_BACKDATE	300	/* seconds, clock skew */
#define ST_REQ_SELFSIGNED_LIFETIME	3600	/* seconds, one exchange */
#define ST_REQ_MAX_DN			1024

/* A new key of type "rsa:BITS" or "ec:p256"/"ec:p384". */
EVP_PKEY *
st_req_key_generate(const char *type)
{
	EVP_PKEY	*k = NULL;

	if (strcmp(type, "rsa:2048") == 0)
		k = EVP_RSA_gen(2048);
	else if (strcmp(type, "rsa:3072") == 0)
		k = EVP_RSA_gen(3072);
	else if (strcmp(type, "rsa:4096") == 0)
		k = EVP_RSA_gen(4096);
	else if (strcmp(type, "ec:p256") == 0)
		k = EVP_EC_gen("P-256");
	else if (strcmp(type, "ec:p384") == 0)
		k = EVP_EC_gen("P-384");
	else {
		st_warnx("unknown key type %s", type);
		return NULL;
	}
	if (k == NULL)
		st_warn_ssl("generating a %s key", type);
	return k;
}

/* A PEM private key (any form OpenSSL reads, unencrypted). */
EVP_PKEY *
st_req_key_read(const char *path)
{
	BIO		*b = NULL;
	EVP_PKEY	*k = NULL;

	if ((b = BIO_new_file(path, "r")) == NULL) {
		st_warn_ssl("%s: cannot open", path);
		goto out;
	}
	if ((k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL)
		st_warn_ssl("%s: no PEM private key", path);
 out:
	BIO_free(b);
	return k;
}

/*
 * The request key: read from path, or, when path does not exist,
 * generated and written there (mode 0600).  A NULL path gives a key
 * that is not kept.
 */
EVP_PKEY *
st_req_key_load(const char *path, const char *type)
{
	EVP_PKEY	*k = NULL;
	FILE		*f = NULL;
	int		 fd = -1, ok = 0;

	if (path != NULL && access(path, F_OK) == 0)
		return st_req_key_read(path);
	if ((k = st_req_key_generate(type)) == NULL)
		goto out;
	if (path == NULL) {
		ok = 1;
		goto out;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1) {
		st_warnx("%s: %s", path, strerror(errno));
		goto out;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		st_warnx("%s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) != 1) {
		st_warn_ssl("%s: cannot write the key", path);
		goto out;
	}
	st_debug("new %s key in %s", type, path);
	ok = 1;
 out:
	if (f != NULL && fclose(f) != 0 && ok) {
		st_warnx("%s: %s", path, strerror(errno));
		ok = 0;
	}
	if (fd != -1)
		close(fd);
	if (!ok) {
		EVP_PKEY_free(k);
		k = NULL;
	}
	return k;
}

/* The first certificate of a PEM file. */
X509 *
st_req_cert_read(const char *path)
{
	BIO	*b = NULL;
	X509	*x = NULL;

	if ((b = BIO_new_file(path, "r")) == NULL) {
		st_warn_ssl("%s: cannot open", path);
		goto out;
	}
	if ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
		st_warn_ssl("%s: no PEM certificate", path);
 out:
	BIO_free(b);
	return x;
}

/*
 * A name in OpenSSL's -subj form, "/CN=host1/O=Example", most
 * significant RDN last as written; "\/" is a literal slash.  "/" alone
 * is the empty name.
 */
X509_NAME *
st_req_subject_parse(const char *dn)
{
	X509_NAME	*name = NULL;
	char		 buf[ST_REQ_MAX_DN], *w, *field, *eq;
	const char	*r;
	int		 ok = 0;

	if (dn[0] != '/' || strlen(dn) >= sizeof(buf)) {
		st_warnx("subject \"%s\" is not of the form /CN=x/O=y", dn);
		goto out;
	}
	if ((name = X509_NAME_new()) == NULL) {
		st_warn_ssl("%s: X509_NAME_new", __func__);
		goto out;
	}
	r = dn + 1;
	while (*r != '\0') {
		/* Copy one component, unescaping "\/", into buf. */
		for (w = field = buf; *r != '\0' && *r != '/'; r++) {
			if (r[0] == '\\' && r[1] != '\0')
				r++;
			*w++ = *r;
		}
		*w = '\0';
		if (*r == '/')
			r++;
		if ((eq = strchr(field, '=')) == NULL || eq == field) {
			st_warnx("subject component \"%s\" has no type=value",
			    field);
			goto out;
		}
		*eq = '\0';
		if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
		    (unsigned char *)eq + 1, -1, -1, 0) != 1) {
			st_warn_ssl("subject attribute %s", field);
			goto out;
		}
	}
	ok = 1;
 out:
	if (!ok) {
		X509_NAME_free(name);
		name = NULL;
	}
	return name;
}

static int
st_req_is_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr(" '()+,-./:=?", *s)))
			return 0;
	return 1;
}

/* One subjectAltName entry. */
static GENERAL_NAME *
st_req_san(const struct st_san *san)
{
	GENERAL_NAME	*gn = NULL;
	ASN1_IA5STRING	*ia5 = NULL;
	ASN1_OCTET_STRING *ip = NULL;
	int		 ok = 0, type;

	if ((gn = GENERAL_NAME_new()) == NULL) {
		st_warn_ssl("%s: GENERAL_NAME_new", __func__);
		goto out;
	}
	if (san->type == ST_SAN_IP) {
		if ((ip = a2i_IPADDRESS(san->value)) == NULL) {
			st_warnx("--san-ip %s: not an IP address", san->value);
			goto out;
		}
		GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
		ip = NULL;
		ok = 1;
		goto out;
	}
	type = san->type == ST_SAN_DNS ? GEN_DNS :
	    san->type == ST_SAN_EMAIL ? GEN_EMAIL : GEN_URI;
	if ((ia5 = ASN1_IA5STRING_new()) == NULL ||
	    ASN1_STRING_set(ia5, san->value, -1) != 1) {
		st_warn_ssl("%s: IA5String", __func__);
		goto out;
	}
	GENERAL_NAME_set0_value(gn, type, ia5);
	ia5 = NULL;
	ok = 1;
 out:
	ASN1_IA5STRING_free(ia5);
	ASN1_OCTET_STRING_free(ip);
	if (!ok) {
		GENERAL_NAME_free(gn);
		gn = NULL;
	}
	return gn;
}

/* The extensionRequest attribute with a subjectAltName. */
static int
st_req_add_sans(X509_REQ *req, const struct st_san *sans, int nsans)
{
	GENERAL_NAMES			*gens = NULL;
	GENERAL_NAME			*gn = NULL;
	STACK_OF(X509_EXTENSION)	*exts = NULL;
	int				 i, rc = -1;

	if ((gens = GENERAL_NAMES_new()) == NULL) {
		st_warn_ssl("%s: GENERAL_NAMES_new", __func__);
		goto out;
	}
	for (i = 0; i < nsans; i++) {
		if ((gn = st_req_san(&sans[i])) == NULL)
			goto out;
		if (!sk_GENERAL_NAME_push(gens, gn)) {
			st_warnx("%s: out of memory", __func__);
			goto out;
		}
		gn = NULL;
	}
	if (X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, 0,
	    X509V3_ADD_DEFAULT) != 1 ||
	    X509_REQ_add_extensions(req, exts) != 1) {
		st_warn_ssl("%s: extensionRequest", __func__);
		goto out;
	}
	rc = 0;
 out:
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

/*
 * A PKCS#10 request for key, signed with SHA-256, with the challenge
 * password (PrintableString when it fits, else UTF8String) and the
 * subjectAltNames if any.
 */
X509_REQ *
st_req_csr_build(EVP_PKEY *key, const X509_NAME *subject,
    const struct st_san *sans, int nsans, const char *challenge)
{
	X509_REQ	*req = NULL;
	int		 ok = 0, type;

	if ((req = X509_REQ_new()) == NULL ||
	    X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
	    X509_REQ_set_subject_name(req, subject) != 1 ||
	    X509_REQ_set_pubkey(req, key) != 1) {
		st_warn_ssl("%s: building the request", __func__);
		goto out;
	}
	if (challenge != NULL) {
		type = st_req_is_printable(challenge) ?
		    V_ASN1_PRINTABLESTRING : V_ASN1_UTF8STRING;
		if (X509_REQ_add1_attr_by_NID(req, NID_pkcs9_challengePassword,
		    type, (const unsigned char *)challenge,
		    (int)strlen(challenge)) != 1) {
			st_warn_ssl("%s: challengePassword", __func__);
			goto out;
		}
	}
	if (nsans > 0 && st_req_add_sans(req, sans, nsans) == -1)
		goto out;
	if (X509_REQ_sign(req, key, EVP_sha256()) <= 0) {
		st_warn_ssl("%s: signing the request", __func__);
		goto out;
	}
	ok = 1;
 out:
	if (!ok) {
		X509_REQ_free(req);
		req = NULL;
	}
	return req;
}

X509_REQ *
st_req_csr_read(const char *path)
{
	BIO		*b = NULL;
	X509_REQ	*req = NULL;

	if ((b = BIO_new_file(path, "r")) == NULL) {
		st_warn_ssl("%s: cannot open", path);
		goto out;
	}
	if ((req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL)) == NULL)
		st_warn_ssl("%s: no PEM certificate request", path);
 out:
	BIO_free(b);
	return req;
}

/*
 * A short-lived self-signed certificate for key, to sign the
 * pkiMessage and receive the answer's envelope (RFC 8894, 2.3).
 */
X509 *
st_req_selfsigned(EVP_PKEY *key, const X509_NAME *subject)
{
	X509		*x = NULL;
	BIGNUM		*bn = NULL;
	unsigned char	 serial[8];
	int		 ok = 0;

	if (RAND_bytes(serial, sizeof(serial)) != 1) {
		st_warn_ssl("%s: RAND_bytes", __func__);
		goto out;
	}
	serial[0] &= 0x7f;	/* a positive INTEGER */
	serial[0] |= 0x01;	/* and never zero */
	if ((x = X509_new()) == NULL ||
	    (bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_subject_name(x, subject) != 1 ||
	    X509_set_issuer_name(x, subject) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x),
	    -ST_REQ_SELFSIGNED_BACKDATE) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x),
	    ST_REQ_SELFSIGNED_LIFETIME) == NULL ||
	    X509_set_pubkey(x, key) != 1 ||
	    X509_sign(x, key, EVP_sha256()) <= 0) {
		st_warn_ssl("%s: building the signer certificate", __func__);
		goto out;
	}
	ok = 1;
 out:
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/* Hex SHA-256 of the key's DER SubjectPublicKeyInfo, as a new string. */
char *
st_req_default_txid(EVP_PKEY *key)
{
	unsigned char	*spki = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	char		*txid = NULL;
	int		 len;

	if ((len = i2d_PUBKEY(key, &spki)) <= 0 ||
	    EVP_Digest(spki, (size_t)len, md, &mdlen, EVP_sha256(),
	    NULL) != 1) {
		st_warn_ssl("%s: hashing the public key", __func__);
		goto out;
	}
	txid = st_hex(md, mdlen);
 out:
	OPENSSL_free(spki);
	return txid;
}
