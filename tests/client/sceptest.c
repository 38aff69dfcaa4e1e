/*
 * sceptest: a SCEP (RFC 8894) test client for scepd's integration
 * tests.  It builds pkiMessages the standard way with OpenSSL's PKCS7
 * API, sends them with libcurl, and checks every CertRep it gets back
 * (signature, transactionID, nonces, and the issued certificate's key).
 * Options let a test choose what Debian's scepclient cannot: cipher,
 * digest, transactionID, message type, recipient, broken signatures.
 *
 * Exit status: 0 SUCCESS, 2 FAILURE, 3 PENDING, 1 anything else.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define ST_EXIT_SUCCESS		0
#define ST_EXIT_ERROR		1
#define ST_EXIT_FAILURE		2
#define ST_EXIT_PENDING		3
#define ST_NONCE_LEN		16
#define ST_MAX_SAN		16
#define ST_MAX_RESPONSE		(1024 * 1024)

#define OID_MSGTYPE		"2.16.840.1.113733.1.9.2"
#define OID_PKISTATUS		"2.16.840.1.113733.1.9.3"
#define OID_FAILINFO		"2.16.840.1.113733.1.9.4"
#define OID_SENDERNONCE		"2.16.840.1.113733.1.9.5"
#define OID_RECIPIENTNONCE	"2.16.840.1.113733.1.9.6"
#define OID_TXID		"2.16.840.1.113733.1.9.7"
#define OID_FAILINFOTEXT	"1.3.6.1.5.5.7.24.1"

struct opts {
	const char	*url;
	const char	*command;
	const char	*key_file;
	const char	*key_type;
	const char	*subject;
	const char	*sans[ST_MAX_SAN];
	int		 nsans;
	const char	*challenge;
	const char	*cipher;
	const char	*digest;
	int		 msgtype;
	const char	*txid;
	size_t		 nonce_len;
	int		 omit_txid, omit_msgtype, omit_nonce;
	const char	*signer_cert, *signer_key;
	const char	*serial;
	const char	*recipient;
	const char	*csr_file;
	int		 corrupt;
	int		 get;
	const char	*out;
	const char	*save_request, *save_response;
	const char	*send_file;
	int		 verbose;
};

/* Everything one run creates; freed by st_clear(). */
struct st {
	struct opts	 o;
	STACK_OF(X509)	*cacerts;
	EVP_PKEY	*key;		/* request key */
	EVP_PKEY	*signer_key;
	X509		*signer_cert;
	X509_REQ	*csr;
	unsigned char	 nonce[64];
	char		 txid[256];
};

static void
die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "sceptest: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	ERR_print_errors_fp(stderr);
	exit(ST_EXIT_ERROR);
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: sceptest --url URL [options] caps|getca|enroll\n"
"  caps                   print the GetCACaps answer\n"
"  getca --out FILE       write the CA and RA certificates (PEM)\n"
"  enroll                 send one pkiMessage, check and print the CertRep\n"
"options:\n"
"  --key FILE             request key (PEM); made with --key-type if absent\n"
"  --key-type T           rsa:2048 (default), rsa:3072, rsa:4096, ec:p256, ec:p384\n"
"  --subject DN | --cn NAME   CSR subject, \"/O=y/CN=x\" (default /CN=sceptest)\n"
"  --san-dns N, --san-ip A, --san-email E, --san-uri U   (repeatable)\n"
"  --challenge S          challengePassword (or env SCEPTEST_CHALLENGE)\n"
"  --cipher C             aes-256-cbc (default), aes-192-cbc, aes-128-cbc,\n"
"                         des-ede3-cbc, des-cbc\n"
"  --digest D             sha256 (default), sha1, sha512, md5\n"
"  --msgtype T            PKCSReq (default), RenewalReq, CertPoll, GetCert,\n"
"                         GetCRL or a number\n"
"  --txid S               transactionID (default: hex SHA-256 of the public key)\n"
"  --nonce-len N          senderNonce length (default 16)\n"
"  --omit A               leave out transactionID, messageType or senderNonce\n"
"  --signer-cert F --signer-key F   sign with these instead of a fresh\n"
"                         self-signed certificate\n"
"  --serial HEX           serial for GetCert/GetCRL\n"
"  --recipient R          ra (default), ca, all, or a PEM certificate file\n"
"  --csr FILE             send this PEM CSR as it is\n"
"  --corrupt-signature    flip a byte of the signature\n"
"  --method M             post (default) or get\n"
"  --out FILE             issued certificate (PEM) on SUCCESS\n"
"  --save-request F, --save-response F   keep the DER sent / body received\n"
"  --send-file F          send this file as the pkiMessage\n"
"  --verbose\n"
"Without a key, an EC request key, the pkiMessage is signed by an\n"
"ephemeral RSA key (the answer is enveloped to the signer, which needs RSA).\n"
"Output: http=, status=, failInfo=, failInfoText=, txid=, serial= lines.\n"
"Exit: 0 SUCCESS, 2 FAILURE, 3 PENDING, 1 other errors.\n");
}

/* --- HTTP ------------------------------------------------------------ */

struct buf {
	unsigned char	*data;
	size_t		 len;
};

static size_t
http_collect(char *data, size_t size, size_t n, void *arg)
{
	struct buf	*b = arg;
	size_t		 len = size * n;
	unsigned char	*grown;

	if (b->len + len > ST_MAX_RESPONSE)
		return 0;
	if ((grown = realloc(b->data, b->len + len + 1)) == NULL)
		return 0;
	b->data = grown;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

/* GET (body NULL) or POST; returns the HTTP status. */
static long
http_request(const char *url, const unsigned char *body, size_t len,
    struct buf *out, char *ctype, size_t ctlen)
{
	CURL			*c;
	struct curl_slist	*hdrs = NULL;
	char			*ct = NULL;
	long			 status = 0;
	CURLcode		 rc;

	memset(out, 0, sizeof(*out));
	if ((c = curl_easy_init()) == NULL)
		die("curl_easy_init");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	if (body != NULL) {
		hdrs = curl_slist_append(hdrs,
		    "Content-Type: application/x-pki-message");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
	}
	if ((rc = curl_easy_perform(c)) != CURLE_OK)
		die("%s: %s", url, curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	if (ctype != NULL)
		snprintf(ctype, ctlen, "%s", ct ? ct : "");
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return status;
}

static char *
op_url(const char *base, const char *op)
{
	char	*u;

	if (asprintf(&u, "%s%soperation=%s", base,
	    strchr(base, '?') ? "&" : "?", op) == -1)
		die("out of memory");
	return u;
}

/* --- CA certificates ---------------------------------------------------- */

static STACK_OF(X509) *
getca(const char *url)
{
	STACK_OF(X509)		*certs;
	struct buf		 b;
	char			*u = op_url(url, "GetCACert");
	char			 ctype[128];
	const unsigned char	*p;
	PKCS7			*p7;
	X509			*x;
	long			 st;
	int			 i;

	if ((st = http_request(u, NULL, 0, &b, ctype, sizeof(ctype))) != 200)
		die("GetCACert: HTTP %ld", st);
	free(u);
	if ((certs = sk_X509_new_null()) == NULL)
		die("out of memory");
	p = b.data;
	if (strcmp(ctype, "application/x-x509-ca-cert") == 0) {
		if ((x = d2i_X509(NULL, &p, (long)b.len)) == NULL)
			die("GetCACert: not a certificate");
		sk_X509_push(certs, x);
	} else {
		if ((p7 = d2i_PKCS7(NULL, &p, (long)b.len)) == NULL ||
		    !PKCS7_type_is_signed(p7))
			die("GetCACert: not a PKCS#7 certs-only message");
		for (i = 0; i < sk_X509_num(p7->d.sign->cert); i++) {
			x = sk_X509_value(p7->d.sign->cert, i);
			X509_up_ref(x);
			sk_X509_push(certs, x);
		}
		PKCS7_free(p7);
	}
	free(b.data);
	if (sk_X509_num(certs) == 0)
		die("GetCACert: no certificate");
	return certs;
}

static int
cert_is_ca(X509 *x)
{
	return X509_check_ca(x) != 0;
}

static X509 *
cert_ca(STACK_OF(X509) *certs)
{
	int	i;

	for (i = 0; i < sk_X509_num(certs); i++)
		if (cert_is_ca(sk_X509_value(certs, i)))
			return sk_X509_value(certs, i);
	return sk_X509_value(certs, 0);
}

/* The RA: a non-CA certificate allowed to encipher keys. */
static X509 *
cert_ra(STACK_OF(X509) *certs)
{
	X509	*x;
	int	 i;

	for (i = 0; i < sk_X509_num(certs); i++) {
		x = sk_X509_value(certs, i);
		if (!cert_is_ca(x) &&
		    (X509_get_key_usage(x) & KU_KEY_ENCIPHERMENT))
			return x;
	}
	return cert_ca(certs);
}

static X509 *
read_cert(const char *path)
{
	FILE	*f;
	X509	*x;

	if ((f = fopen(path, "r")) == NULL)
		die("%s: %s", path, strerror(errno));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL)
		die("%s: no PEM certificate", path);
	return x;
}

static void
write_certs(const char *path, STACK_OF(X509) *certs, int first_ca)
{
	FILE	*f;
	int	 i;

	if ((f = fopen(path, "w")) == NULL)
		die("%s: %s", path, strerror(errno));
	if (first_ca)
		PEM_write_X509(f, cert_ca(certs));
	for (i = 0; i < sk_X509_num(certs); i++)
		if (!first_ca || sk_X509_value(certs, i) != cert_ca(certs))
			PEM_write_X509(f, sk_X509_value(certs, i));
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

/* --- keys, CSR, signer -------------------------------------------------- */

static EVP_PKEY *
key_generate(const char *type)
{
	if (strcmp(type, "rsa:2048") == 0)
		return EVP_RSA_gen(2048);
	if (strcmp(type, "rsa:3072") == 0)
		return EVP_RSA_gen(3072);
	if (strcmp(type, "rsa:4096") == 0)
		return EVP_RSA_gen(4096);
	if (strcmp(type, "ec:p256") == 0)
		return EVP_EC_gen("P-256");
	if (strcmp(type, "ec:p384") == 0)
		return EVP_EC_gen("P-384");
	die("unknown --key-type %s", type);
}

static EVP_PKEY *
key_load_or_make(const char *path, const char *type)
{
	EVP_PKEY	*k;
	FILE		*f;
	int		 fd;

	if (path != NULL && (f = fopen(path, "r")) != NULL) {
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		if (k == NULL)
			die("%s: no PEM private key", path);
		return k;
	}
	if ((k = key_generate(type)) == NULL)
		die("key generation");
	if (path == NULL)
		return k;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1 ||
	    (f = fdopen(fd, "w")) == NULL)
		die("%s: %s", path, strerror(errno));
	if (PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) != 1 ||
	    fclose(f) != 0)
		die("%s: cannot write the key", path);
	return k;
}

static X509_NAME *
parse_subject(const char *dn)
{
	X509_NAME	*name;
	char		*copy, *p, *next, *eq;

	if (dn[0] != '/')
		die("--subject must look like /O=y/CN=x");
	if ((name = X509_NAME_new()) == NULL || (copy = strdup(dn + 1)) == NULL)
		die("out of memory");
	for (p = copy; p != NULL && *p != '\0'; p = next) {
		if ((next = strchr(p, '/')) != NULL)
			*next++ = '\0';
		if ((eq = strchr(p, '=')) == NULL)
			die("bad subject component %s", p);
		*eq = '\0';
		if (X509_NAME_add_entry_by_txt(name, p, MBSTRING_UTF8,
		    (unsigned char *)eq + 1, -1, -1, 0) != 1)
			die("bad subject attribute %s", p);
	}
	free(copy);
	return name;
}

static int
is_printable(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr(" '()+,-./:=?", *s)))
			return 0;
	return 1;
}

static X509_REQ *
csr_build(struct st *st)
{
	X509_REQ			*req;
	X509_NAME			*name;
	STACK_OF(X509_EXTENSION)	*exts;
	X509_EXTENSION			*ext;
	char				 san[4096] = "";
	int				 i;

	if ((req = X509_REQ_new()) == NULL)
		die("out of memory");
	name = parse_subject(st->o.subject);
	X509_REQ_set_subject_name(req, name);
	X509_NAME_free(name);
	X509_REQ_set_pubkey(req, st->key);
	if (st->o.challenge != NULL &&
	    X509_REQ_add1_attr_by_NID(req, NID_pkcs9_challengePassword,
	    is_printable(st->o.challenge) ? V_ASN1_PRINTABLESTRING :
	    V_ASN1_UTF8STRING, (const unsigned char *)st->o.challenge,
	    (int)strlen(st->o.challenge)) != 1)
		die("challengePassword");
	for (i = 0; i < st->o.nsans; i++) {
		if (i > 0)
			strncat(san, ",", sizeof(san) - strlen(san) - 1);
		strncat(san, st->o.sans[i], sizeof(san) - strlen(san) - 1);
	}
	if (st->o.nsans > 0) {
		if ((exts = sk_X509_EXTENSION_new_null()) == NULL ||
		    (ext = X509V3_EXT_conf_nid(NULL, NULL,
		    NID_subject_alt_name, san)) == NULL)
			die("subjectAltName %s", san);
		sk_X509_EXTENSION_push(exts, ext);
		X509_REQ_add_extensions(req, exts);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	if (X509_REQ_sign(req, st->key, EVP_sha256()) <= 0)
		die("signing the CSR");
	return req;
}

static X509_REQ *
csr_read(const char *path)
{
	FILE		*f;
	X509_REQ	*req;

	if ((f = fopen(path, "r")) == NULL)
		die("%s: %s", path, strerror(errno));
	req = PEM_read_X509_REQ(f, NULL, NULL, NULL);
	fclose(f);
	if (req == NULL)
		die("%s: no PEM certificate request", path);
	return req;
}

/* A short-lived self-signed certificate to sign the pkiMessage. */
static X509 *
signer_self_signed(EVP_PKEY *key, const X509_NAME *subject)
{
	X509		*x;
	unsigned char	 serial[8];
	BIGNUM		*bn;

	if ((x = X509_new()) == NULL)
		die("out of memory");
	RAND_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_set_version(x, X509_VERSION_3);
	X509_set_subject_name(x, subject);
	X509_set_issuer_name(x, subject);
	X509_gmtime_adj(X509_getm_notBefore(x), -300);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	if (X509_sign(x, key, EVP_sha256()) <= 0)
		die("self-signing");
	return x;
}

static void
signer_setup(struct st *st)
{
	FILE	*f;

	if (st->o.signer_cert != NULL) {
		st->signer_cert = read_cert(st->o.signer_cert);
		if ((f = fopen(st->o.signer_key, "r")) == NULL)
			die("%s: %s", st->o.signer_key, strerror(errno));
		st->signer_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		if (st->signer_key == NULL)
			die("%s: no PEM private key", st->o.signer_key);
		return;
	}
	if (EVP_PKEY_get_base_id(st->key) == EVP_PKEY_RSA) {
		EVP_PKEY_up_ref(st->key);
		st->signer_key = st->key;
	} else if ((st->signer_key = EVP_RSA_gen(2048)) == NULL)
		die("ephemeral signer key");
	st->signer_cert = signer_self_signed(st->signer_key,
	    X509_REQ_get_subject_name(st->csr));
}

/* --- the pkiMessage ----------------------------------------------------- */

static int
msgtype_parse(const char *s)
{
	static const struct { const char *name; int type; } types[] = {
		{ "PKCSReq", 19 }, { "RenewalReq", 17 }, { "CertPoll", 20 },
		{ "GetCertInitial", 20 }, { "GetCert", 21 }, { "GetCRL", 22 },
	};
	size_t	i;
	char	*end;
	long	v;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(s, types[i].name) == 0)
			return types[i].type;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 0 || v > 255)
		die("unknown --msgtype %s", s);
	return (int)v;
}

/* IssuerAndSubject ::= SEQUENCE { issuer Name, subject Name } */
static unsigned char *
issuer_and_subject(const X509_NAME *issuer, const X509_NAME *subject,
    int *len)
{
	unsigned char	*a = NULL, *b = NULL, *out, *p;
	int		 la, lb, inner, total;

	la = i2d_X509_NAME(issuer, &a);
	lb = i2d_X509_NAME(subject, &b);
	if (la <= 0 || lb <= 0)
		die("encoding IssuerAndSubject");
	inner = la + lb;
	total = ASN1_object_size(1, inner, V_ASN1_SEQUENCE);
	if ((out = malloc((size_t)total)) == NULL)
		die("out of memory");
	p = out;
	ASN1_put_object(&p, 1, inner, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	memcpy(p, a, (size_t)la);
	memcpy(p + la, b, (size_t)lb);
	OPENSSL_free(a);
	OPENSSL_free(b);
	*len = total;
	return out;
}

static unsigned char *
issuer_and_serial(X509 *ca, const char *hex, int *len)
{
	PKCS7_ISSUER_AND_SERIAL	*ias;
	BIGNUM			*bn = NULL;
	unsigned char		*out = NULL;

	if (hex == NULL)
		die("--serial is needed for this message type");
	if ((ias = PKCS7_ISSUER_AND_SERIAL_new()) == NULL ||
	    BN_hex2bn(&bn, hex) == 0)
		die("bad --serial %s", hex);
	X509_NAME_set(&ias->issuer, X509_get_subject_name(ca));
	ASN1_INTEGER_free(ias->serial);
	ias->serial = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	if ((*len = i2d_PKCS7_ISSUER_AND_SERIAL(ias, &out)) <= 0)
		die("encoding IssuerAndSerialNumber");
	PKCS7_ISSUER_AND_SERIAL_free(ias);
	return out;
}

/* What goes inside the envelope for the message type. */
static unsigned char *
message_content(struct st *st, int *len)
{
	unsigned char	*der = NULL, *copy;

	switch (st->o.msgtype) {
	case 20:
		return issuer_and_subject(X509_get_subject_name(
		    cert_ca(st->cacerts)), X509_REQ_get_subject_name(st->csr),
		    len);
	case 21:
	case 22:
		return issuer_and_serial(cert_ca(st->cacerts), st->o.serial,
		    len);
	default:
		if ((*len = i2d_X509_REQ(st->csr, &der)) <= 0)
			die("encoding the CSR");
		if ((copy = malloc((size_t)*len)) == NULL)
			die("out of memory");
		memcpy(copy, der, (size_t)*len);
		OPENSSL_free(der);
		return copy;
	}
}

static STACK_OF(X509) *
recipients(struct st *st)
{
	STACK_OF(X509)	*r;
	int		 i;

	if ((r = sk_X509_new_null()) == NULL)
		die("out of memory");
	if (strcmp(st->o.recipient, "ra") == 0) {
		X509_up_ref(cert_ra(st->cacerts));
		sk_X509_push(r, cert_ra(st->cacerts));
	} else if (strcmp(st->o.recipient, "ca") == 0) {
		X509_up_ref(cert_ca(st->cacerts));
		sk_X509_push(r, cert_ca(st->cacerts));
	} else if (strcmp(st->o.recipient, "all") == 0)
		for (i = 0; i < sk_X509_num(st->cacerts); i++) {
			X509_up_ref(sk_X509_value(st->cacerts, i));
			sk_X509_push(r, sk_X509_value(st->cacerts, i));
		}
	else
		sk_X509_push(r, read_cert(st->o.recipient));
	return r;
}

/* The NID of a SCEP attribute, registered on first use. */
static int
attr_nid(const char *oid)
{
	int	nid;

	if ((nid = OBJ_txt2nid(oid)) == NID_undef &&
	    (nid = OBJ_create(oid, NULL, NULL)) == NID_undef)
		die("OBJ_create %s", oid);
	return nid;
}

static void
add_attr(PKCS7_SIGNER_INFO *si, const char *oid, int type,
    const void *value, int len)
{
	ASN1_STRING	*s;
	int		 nid = attr_nid(oid);

	if ((s = ASN1_STRING_type_new(type)) == NULL ||
	    ASN1_STRING_set(s, value, len) != 1 ||
	    PKCS7_add_signed_attribute(si, nid, type, s) != 1)
		die("adding attribute %s", oid);
}

static void
default_txid(struct st *st)
{
	unsigned char	*spki = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen, i;
	int		 len;

	if ((len = i2d_PUBKEY(st->key, &spki)) <= 0 ||
	    EVP_Digest(spki, (size_t)len, md, &mdlen, EVP_sha256(),
	    NULL) != 1)
		die("hashing the public key");
	for (i = 0; i < mdlen; i++)
		snprintf(st->txid + 2 * i, 3, "%02x", md[i]);
	OPENSSL_free(spki);
}

static unsigned char *
pkimessage_build(struct st *st, size_t *outlen)
{
	STACK_OF(X509)		*recips;
	const EVP_CIPHER	*cipher;
	const EVP_MD		*md;
	PKCS7			*env, *p7;
	PKCS7_SIGNER_INFO	*si;
	BIO			*in, *envbio;
	unsigned char		*content, *envder = NULL, *out = NULL, *sig;
	char			 num[8];
	int			 clen, n;

	if ((cipher = EVP_get_cipherbyname(st->o.cipher)) == NULL)
		die("unknown --cipher %s", st->o.cipher);
	if ((md = EVP_get_digestbyname(st->o.digest)) == NULL)
		die("unknown --digest %s", st->o.digest);
	content = message_content(st, &clen);
	recips = recipients(st);
	in = BIO_new_mem_buf(content, clen);
	if ((env = PKCS7_encrypt(recips, in, cipher, PKCS7_BINARY)) == NULL ||
	    (n = i2d_PKCS7(env, &envder)) <= 0)
		die("PKCS7_encrypt");
	envbio = BIO_new_mem_buf(envder, n);
	if ((p7 = PKCS7_sign(NULL, NULL, NULL, NULL, PKCS7_PARTIAL |
	    PKCS7_BINARY)) == NULL ||
	    (si = PKCS7_sign_add_signer(p7, st->signer_cert, st->signer_key,
	    md, PKCS7_NOSMIMECAP)) == NULL)
		die("PKCS7_sign with %s", st->o.digest);
	if (!st->o.omit_txid)
		add_attr(si, OID_TXID, V_ASN1_PRINTABLESTRING, st->txid, -1);
	snprintf(num, sizeof(num), "%d", st->o.msgtype);
	if (!st->o.omit_msgtype)
		add_attr(si, OID_MSGTYPE, V_ASN1_PRINTABLESTRING, num, -1);
	RAND_bytes(st->nonce, (int)st->o.nonce_len);
	if (!st->o.omit_nonce)
		add_attr(si, OID_SENDERNONCE, V_ASN1_OCTET_STRING, st->nonce,
		    (int)st->o.nonce_len);
	if (PKCS7_final(p7, envbio, PKCS7_BINARY) != 1)
		die("PKCS7_final");
	if (st->o.corrupt) {
		sig = (unsigned char *)ASN1_STRING_get0_data(si->enc_digest);
		sig[ASN1_STRING_length(si->enc_digest) / 2] ^= 0x5a;
	}
	if ((n = i2d_PKCS7(p7, &out)) <= 0)
		die("encoding the pkiMessage");
	*outlen = (size_t)n;
	PKCS7_free(p7);
	PKCS7_free(env);
	BIO_free(in);
	BIO_free(envbio);
	OPENSSL_free(envder);
	free(content);
	sk_X509_pop_free(recips, X509_free);
	return out;
}

/* --- the CertRep ---------------------------------------------------- */

static const ASN1_STRING *
attr_get(PKCS7_SIGNER_INFO *si, const char *oid)
{
	ASN1_TYPE	*t;

	if ((t = PKCS7_get_signed_attribute(si, attr_nid(oid))) == NULL ||
	    t->type == V_ASN1_OBJECT || t->type == V_ASN1_BOOLEAN ||
	    t->type == V_ASN1_NULL)
		return NULL;
	return t->value.asn1_string;
}

static int
attr_is(const ASN1_STRING *s, const char *v)
{
	return s != NULL && ASN1_STRING_length(s) == (int)strlen(v) &&
	    memcmp(ASN1_STRING_get0_data(s), v, strlen(v)) == 0;
}

static void
attr_print(const char *label, const ASN1_STRING *s)
{
	printf("%s=%.*s\n", label, ASN1_STRING_length(s),
	    (const char *)ASN1_STRING_get0_data(s));
}

static const char *
failinfo_name(const ASN1_STRING *s)
{
	static const char *const names[] = { "badAlg", "badMessageCheck",
	    "badRequest", "badTime", "badCertId" };
	int	v;

	if (s == NULL || ASN1_STRING_length(s) != 1)
		return "unknown";
	v = ASN1_STRING_get0_data(s)[0] - '0';
	return v >= 0 && v <= 4 ? names[v] : "unknown";
}

/* Decrypts the SUCCESS content and returns the issued certificate. */
static X509 *
certrep_certificate(struct st *st, BIO *content)
{
	const unsigned char	*p;
	char			*data;
	long			 len;
	PKCS7			*env, *deg;
	BIO			*plain;
	X509			*x;

	len = BIO_get_mem_data(content, &data);
	p = (const unsigned char *)data;
	if ((env = d2i_PKCS7(NULL, &p, len)) == NULL ||
	    !PKCS7_type_is_enveloped(env))
		die("SUCCESS without an EnvelopedData");
	if ((plain = BIO_new(BIO_s_mem())) == NULL ||
	    PKCS7_decrypt(env, st->signer_key, st->signer_cert, plain, 0) != 1)
		die("cannot decrypt the CertRep envelope with our key");
	printf("cipher=%s\n", OBJ_nid2sn(OBJ_obj2nid(
	    env->d.enveloped->enc_data->algorithm->algorithm)));
	len = BIO_get_mem_data(plain, &data);
	p = (const unsigned char *)data;
	if ((deg = d2i_PKCS7(NULL, &p, len)) == NULL ||
	    !PKCS7_type_is_signed(deg) || deg->d.sign->cert == NULL ||
	    sk_X509_num(deg->d.sign->cert) < 1)
		die("the envelope holds no certificate");
	x = sk_X509_value(deg->d.sign->cert, 0);
	X509_up_ref(x);
	PKCS7_free(deg);
	PKCS7_free(env);
	BIO_free(plain);
	return x;
}

static void
print_serial(X509 *x)
{
	BIGNUM	*bn;
	char	*hex;

	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) ==
	    NULL || (hex = BN_bn2hex(bn)) == NULL)
		die("serial number");
	printf("serial=%s\n", hex);
	OPENSSL_free(hex);
	BN_free(bn);
}

static int
certrep_check(struct st *st, const unsigned char *der, size_t len,
    int strict)
{
	const unsigned char	*p = der;
	PKCS7			*p7;
	PKCS7_SIGNER_INFO	*si;
	BIO			*content;
	const ASN1_STRING	*status, *rn, *sn, *s;
	X509			*x;
	FILE			*f;
	int			 rc;

	if ((p7 = d2i_PKCS7(NULL, &p, (long)len)) == NULL ||
	    !PKCS7_type_is_signed(p7))
		die("the response is not a PKCS#7 SignedData");
	content = BIO_new(BIO_s_mem());
	/* Only a certificate from GetCACert may have signed it. */
	if (PKCS7_verify(p7, st->cacerts, NULL, NULL, content,
	    PKCS7_NOVERIFY | PKCS7_NOINTERN | PKCS7_BINARY) != 1)
		die("the CertRep signature does not verify against the "
		    "GetCACert certificates");
	si = sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(p7), 0);
	if (!attr_is(attr_get(si, OID_MSGTYPE), "3"))
		die("the response's messageType is not CertRep (3)");
	if ((s = attr_get(si, OID_TXID)) == NULL)
		die("the CertRep has no transactionID");
	attr_print("txid", s);
	if (strict && !attr_is(s, st->txid))
		die("the CertRep's transactionID is not ours");
	sn = attr_get(si, OID_SENDERNONCE);
	if (sn == NULL || ASN1_STRING_length(sn) != ST_NONCE_LEN)
		die("the CertRep has no 16-byte senderNonce");
	rn = attr_get(si, OID_RECIPIENTNONCE);
	if (strict && !st->o.omit_nonce && (rn == NULL ||
	    ASN1_STRING_length(rn) != (int)st->o.nonce_len ||
	    memcmp(ASN1_STRING_get0_data(rn), st->nonce,
	    st->o.nonce_len) != 0))
		die("the CertRep's recipientNonce is not our senderNonce");
	status = attr_get(si, OID_PKISTATUS);
	if (attr_is(status, "0")) {
		printf("status=SUCCESS\n");
		if (!strict) {
			rc = ST_EXIT_SUCCESS;
			goto out;
		}
		x = certrep_certificate(st, content);
		if ((st->o.msgtype == 19 || st->o.msgtype == 17) &&
		    EVP_PKEY_eq(X509_get0_pubkey(x), st->key) != 1)
			die("the certificate is not for our public key");
		print_serial(x);
		if (st->o.out != NULL) {
			if ((f = fopen(st->o.out, "w")) == NULL ||
			    PEM_write_X509(f, x) != 1 || fclose(f) != 0)
				die("%s: cannot write", st->o.out);
		}
		X509_free(x);
		rc = ST_EXIT_SUCCESS;
	} else if (attr_is(status, "2")) {
		printf("status=FAILURE\n");
		printf("failInfo=%s\n", failinfo_name(attr_get(si,
		    OID_FAILINFO)));
		if ((s = attr_get(si, OID_FAILINFOTEXT)) != NULL)
			attr_print("failInfoText", s);
		rc = ST_EXIT_FAILURE;
	} else if (attr_is(status, "3")) {
		printf("status=PENDING\n");
		rc = ST_EXIT_PENDING;
	} else
		die("unknown pkiStatus");
 out:
	BIO_free(content);
	PKCS7_free(p7);
	return rc;
}

/* --- commands ----------------------------------------------------------- */

static void
save(const char *path, const void *buf, size_t len)
{
	FILE	*f;

	if (path == NULL)
		return;
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(buf, 1, len, f) != len || fclose(f) != 0)
		die("%s: cannot write", path);
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE		*f;
	unsigned char	*buf;
	long		 n;

	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		die("%s: %s", path, strerror(errno));
	if ((buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n)
		die("%s: cannot read", path);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static long
send_message(struct st *st, const unsigned char *der, size_t len,
    struct buf *resp)
{
	char	*url, *b64, *esc, *op;
	long	 status;
	int	 n;

	if (!st->o.get) {
		url = op_url(st->o.url, "PKIOperation");
		status = http_request(url, der, len, resp, NULL, 0);
		free(url);
		return status;
	}
	if ((b64 = malloc(4 * ((len + 2) / 3) + 1)) == NULL)
		die("out of memory");
	n = EVP_EncodeBlock((unsigned char *)b64, der, (int)len);
	esc = curl_easy_escape(NULL, b64, n);
	if (asprintf(&op, "PKIOperation&message=%s", esc) == -1)
		die("out of memory");
	url = op_url(st->o.url, op);
	status = http_request(url, NULL, 0, resp, NULL, 0);
	curl_free(esc);
	free(b64);
	free(op);
	free(url);
	return status;
}

static int
cmd_enroll(struct st *st)
{
	unsigned char	*der;
	size_t		 len;
	struct buf	 resp;
	long		 status;
	int		 rc, strict = 1;

	st->cacerts = getca(st->o.url);
	if (st->o.send_file != NULL) {
		der = slurp(st->o.send_file, &len);
		strict = 0;
	} else {
		st->key = key_load_or_make(st->o.key_file, st->o.key_type);
		st->csr = st->o.csr_file ? csr_read(st->o.csr_file) :
		    csr_build(st);
		signer_setup(st);
		if (st->o.txid != NULL)
			snprintf(st->txid, sizeof(st->txid), "%s", st->o.txid);
		else
			default_txid(st);
		der = pkimessage_build(st, &len);
	}
	save(st->o.save_request, der, len);
	status = send_message(st, der, len, &resp);
	free(der);
	printf("http=%ld\n", status);
	save(st->o.save_response, resp.data, resp.len);
	if (status != 200) {
		printf("error=%.*s\n", (int)strcspn(resp.data ?
		    (char *)resp.data : "", "\n"), resp.data ?
		    (char *)resp.data : "");
		free(resp.data);
		return ST_EXIT_ERROR;
	}
	rc = certrep_check(st, resp.data, resp.len, strict);
	free(resp.data);
	return rc;
}

static void
st_clear(struct st *st)
{
	sk_X509_pop_free(st->cacerts, X509_free);
	EVP_PKEY_free(st->key);
	EVP_PKEY_free(st->signer_key);
	X509_free(st->signer_cert);
	X509_REQ_free(st->csr);
}

static void
parse_args(int argc, char *argv[], struct opts *o)
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "key", required_argument, NULL, 'k' },
		{ "key-type", required_argument, NULL, 'K' },
		{ "subject", required_argument, NULL, 's' },
		{ "cn", required_argument, NULL, 'n' },
		{ "san-dns", required_argument, NULL, 'D' },
		{ "san-ip", required_argument, NULL, 'I' },
		{ "san-email", required_argument, NULL, 'E' },
		{ "san-uri", required_argument, NULL, 'U' },
		{ "challenge", required_argument, NULL, 'c' },
		{ "cipher", required_argument, NULL, 'C' },
		{ "digest", required_argument, NULL, 'd' },
		{ "msgtype", required_argument, NULL, 'm' },
		{ "txid", required_argument, NULL, 't' },
		{ "nonce-len", required_argument, NULL, 'N' },
		{ "omit", required_argument, NULL, 'o' },
		{ "signer-cert", required_argument, NULL, 'S' },
		{ "signer-key", required_argument, NULL, 'P' },
		{ "serial", required_argument, NULL, 'r' },
		{ "recipient", required_argument, NULL, 'R' },
		{ "csr", required_argument, NULL, 'q' },
		{ "corrupt-signature", no_argument, NULL, 'x' },
		{ "method", required_argument, NULL, 'M' },
		{ "out", required_argument, NULL, 'O' },
		{ "save-request", required_argument, NULL, 'Q' },
		{ "save-response", required_argument, NULL, 'A' },
		{ "send-file", required_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char	cn[512];
	char		*san;
	int		 ch;

	memset(o, 0, sizeof(*o));
	o->key_type = "rsa:2048";
	o->subject = "/CN=sceptest";
	o->cipher = "aes-256-cbc";
	o->digest = "sha256";
	o->msgtype = 19;
	o->nonce_len = ST_NONCE_LEN;
	o->recipient = "ra";
	/* An empty SCEPTEST_CHALLENGE means no challenge at all. */
	if ((o->challenge = getenv("SCEPTEST_CHALLENGE")) != NULL &&
	    *o->challenge == '\0')
		o->challenge = NULL;
	while ((ch = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u': o->url = optarg; break;
		case 'k': o->key_file = optarg; break;
		case 'K': o->key_type = optarg; break;
		case 's': o->subject = optarg; break;
		case 'n':
			snprintf(cn, sizeof(cn), "/CN=%s", optarg);
			o->subject = cn;
			break;
		case 'D': case 'I': case 'E': case 'U':
			if (o->nsans == ST_MAX_SAN)
				die("too many SANs");
			if (asprintf(&san, "%s:%s", ch == 'D' ? "DNS" :
			    ch == 'I' ? "IP" : ch == 'E' ? "email" : "URI",
			    optarg) == -1)
				die("out of memory");
			o->sans[o->nsans++] = san;
			break;
		case 'c': o->challenge = optarg; break;
		case 'C': o->cipher = optarg; break;
		case 'd': o->digest = optarg; break;
		case 'm': o->msgtype = msgtype_parse(optarg); break;
		case 't': o->txid = optarg; break;
		case 'N':
			o->nonce_len = strtoul(optarg, NULL, 10);
			if (o->nonce_len < 1 || o->nonce_len > 64)
				die("--nonce-len must be 1 to 64");
			break;
		case 'o':
			if (strcmp(optarg, "transactionID") == 0)
				o->omit_txid = 1;
			else if (strcmp(optarg, "messageType") == 0)
				o->omit_msgtype = 1;
			else if (strcmp(optarg, "senderNonce") == 0)
				o->omit_nonce = 1;
			else
				die("--omit takes transactionID, messageType "
				    "or senderNonce");
			break;
		case 'S': o->signer_cert = optarg; break;
		case 'P': o->signer_key = optarg; break;
		case 'r': o->serial = optarg; break;
		case 'R': o->recipient = optarg; break;
		case 'q': o->csr_file = optarg; break;
		case 'x': o->corrupt = 1; break;
		case 'M':
			if (strcmp(optarg, "get") == 0)
				o->get = 1;
			else if (strcmp(optarg, "post") != 0)
				die("--method is post or get");
			break;
		case 'O': o->out = optarg; break;
		case 'Q': o->save_request = optarg; break;
		case 'A': o->save_response = optarg; break;
		case 'F': o->send_file = optarg; break;
		case 'v': o->verbose = 1; break;
		case 'h':
			usage(stdout);
			exit(ST_EXIT_SUCCESS);
		default:
			usage(stderr);
			exit(ST_EXIT_ERROR);
		}
	}
	if (optind + 1 != argc || o->url == NULL) {
		usage(stderr);
		exit(ST_EXIT_ERROR);
	}
	o->command = argv[optind];
	if ((o->signer_cert == NULL) != (o->signer_key == NULL))
		die("--signer-cert and --signer-key go together");
}

int
main(int argc, char *argv[])
{
	struct st	 st;
	struct buf	 b;
	char		*u;
	long		 status;
	int		 i, rc = ST_EXIT_ERROR;
	OSSL_PROVIDER	*legacy = NULL, *deflt = NULL;

	memset(&st, 0, sizeof(st));
	parse_args(argc, argv, &st.o);
	if (strcmp(st.o.cipher, "des-cbc") == 0 &&
	    ((legacy = OSSL_PROVIDER_load(NULL, "legacy")) == NULL ||
	    (deflt = OSSL_PROVIDER_load(NULL, "default")) == NULL))
		die("des-cbc needs OpenSSL's legacy provider");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(st.o.command, "caps") == 0) {
		u = op_url(st.o.url, "GetCACaps");
		status = http_request(u, NULL, 0, &b, NULL, 0);
		free(u);
		if (status != 200)
			die("GetCACaps: HTTP %ld", status);
		fwrite(b.data, 1, b.len, stdout);
		free(b.data);
		rc = ST_EXIT_SUCCESS;
	} else if (strcmp(st.o.command, "getca") == 0) {
		if (st.o.out == NULL)
			die("getca needs --out FILE");
		st.cacerts = getca(st.o.url);
		write_certs(st.o.out, st.cacerts, 1);
		rc = ST_EXIT_SUCCESS;
	} else if (strcmp(st.o.command, "enroll") == 0)
		rc = cmd_enroll(&st);
	else
		die("unknown command %s", st.o.command);
	st_clear(&st);
	for (i = 0; i < st.o.nsans; i++)
		free((char *)st.o.sans[i]);
	curl_global_cleanup();
	OSSL_PROVIDER_unload(legacy);
	OSSL_PROVIDER_unload(deflt);
	return rc;
}
