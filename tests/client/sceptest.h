/*
 * sceptest: a SCEP (RFC 8894) test client for scepd's integration tests.
 * Shared declarations of its modules; see README.md for the interface.
 */
#ifndef SCEPTEST_H
#define SCEPTEST_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

/* Exit status of the program, what the integration tests look at. */
enum st_exit {
	ST_EXIT_SUCCESS = 0,
	ST_EXIT_ERROR = 1,
	ST_EXIT_FAILURE = 2,
	ST_EXIT_PENDING = 3,
};

/* messageType values (RFC 8894, 3.2.1.2). */
enum st_msgtype {
	ST_MSG_CERTREP = 3,
	ST_MSG_RENEWALREQ = 17,
	ST_MSG_PKCSREQ = 19,
	ST_MSG_CERTPOLL = 20,
	ST_MSG_GETCERT = 21,
	ST_MSG_GETCRL = 22,
};

/* pkiStatus values (RFC 8894, 3.2.1.3). */
enum st_pkistatus {
	ST_STATUS_SUCCESS = 0,
	ST_STATUS_FAILURE = 2,
	ST_STATUS_PENDING = 3,
};

/* The SCEP signed attributes, indexes into st_pkimsg_oid(). */
enum st_attr {
	ST_ATTR_MSGTYPE,
	ST_ATTR_PKISTATUS,
	ST_ATTR_FAILINFO,
	ST_ATTR_SENDERNONCE,
	ST_ATTR_RECIPIENTNONCE,
	ST_ATTR_TXID,
	ST_ATTR_FAILINFOTEXT,
	ST_ATTR__MAX,
};

#define ST_NONCE_LEN		16	/* RFC 8894 nonces */
#define ST_MAX_NONCE		256	/* --nonce-len limit */
#define ST_MAX_SANS		32	/* --san-* options per run */

enum st_san_type {
	ST_SAN_DNS,
	ST_SAN_IP,
	ST_SAN_EMAIL,
	ST_SAN_URI,
};

struct st_san {
	enum st_san_type	 type;
	const char		*value;
};

/* st_log.c */
extern int	 st_verbose;
void		 st_warnx(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
void		 st_warn_ssl(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
void		 st_debug(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

/* st_util.c */
int		 st_file_read(const char *, unsigned char **, size_t *);
int		 st_file_write(const char *, const void *, size_t);
int		 st_pem_write_cert(const char *, X509 *);
int		 st_pem_write_crl(const char *, X509_CRL *);
char		*st_hex(const unsigned char *, size_t);
int		 st_legacy_load(void);
void		 st_legacy_unload(void);

/* st_http.c */
extern const char	*st_http_source;	/* --source: local address */
struct st_http_resp {
	long		 status;	/* HTTP status code */
	long		 retry_after;	/* Retry-After seconds, 0: none */
	char		*ctype;		/* Content-Type, "" when absent */
	unsigned char	*body;		/* NUL-terminated for convenience */
	size_t		 len;
};
char		*st_http_url(const char *, const char *,
		    const unsigned char *, size_t);
int		 st_http_get(const char *, struct st_http_resp *);
int		 st_http_post(const char *, const char *,
		    const unsigned char *, size_t, struct st_http_resp *);
void		 st_http_resp_clear(struct st_http_resp *);
int		 st_http_ctype_is(const struct st_http_resp *, const char *);

/* st_cacert.c */
int		 st_cacert_fetch(const char *, STACK_OF(X509) **);
X509		*st_cacert_get0_ca(STACK_OF(X509) *);
X509		*st_cacert_get0_ra(STACK_OF(X509) *);
STACK_OF(X509)	*st_cacert_recipients(STACK_OF(X509) *, const char *);
int		 st_cacert_write(const char *, STACK_OF(X509) *);

/* st_req.c */
EVP_PKEY	*st_req_key_load(const char *, const char *);
EVP_PKEY	*st_req_key_generate(const char *);
EVP_PKEY	*st_req_key_read(const char *);
X509		*st_req_cert_read(const char *);
X509_NAME	*st_req_subject_parse(const char *);
X509_REQ	*st_req_csr_build(EVP_PKEY *, const X509_NAME *,
		    const struct st_san *, int, const char *);
X509_REQ	*st_req_csr_read(const char *);
X509		*st_req_selfsigned(EVP_PKEY *, const X509_NAME *);
char		*st_req_default_txid(EVP_PKEY *);

/* st_pkimsg.c */
struct st_pkimsg {
	X509			*signer_cert;	/* borrowed */
	EVP_PKEY		*signer_key;	/* borrowed */
	STACK_OF(X509)		*recipients;	/* borrowed */
	const EVP_CIPHER	*cipher;
	const EVP_MD		*md;
	const unsigned char	*content;	/* what goes in the envelope */
	size_t			 content_len;
	const char		*txid;		/* NULL: attribute left out */
	const char		*msgtype;	/* NULL: attribute left out */
	const unsigned char	*nonce;		/* NULL: attribute left out */
	size_t			 nonce_len;
	int			 corrupt;	/* flip a signature byte */
	/* Signed instead of an envelope (hostile input); NULL: envelope. */
	const unsigned char	*signed_content;
	size_t			 signed_content_len;
};
int		 st_pkimsg_init(void);
int		 st_pkimsg_nid(enum st_attr);
int		 st_pkimsg_content(int, X509_REQ *, X509 *, const char *,
		    unsigned char **, size_t *);
int		 st_pkimsg_build(const struct st_pkimsg *, unsigned char **,
		    size_t *);

/* st_certrep.c */
struct st_certrep_expect {
	STACK_OF(X509)		*signers;	/* GetCACert certificates */
	const char		*txid;		/* NULL: not checked */
	const unsigned char	*nonce;		/* NULL: not checked */
	size_t			 nonce_len;
	EVP_PKEY		*decrypt_key;	/* NULL: no decryption */
	X509			*decrypt_cert;	/* NULL: any the key opens */
	EVP_PKEY		*request_key;	/* NULL: any certificate */
	int			 msgtype;	/* of our request */
};
struct st_certrep {
	int		 status;	/* enum st_pkistatus */
	int		 failinfo;	/* -1 when absent */
	char		*failinfo_text;	/* NULL when absent */
	char		*txid;
	const char	*cipher;	/* of the SUCCESS envelope, static */
	X509		*cert;		/* issued (or asked for) certificate */
	X509_CRL	*crl;		/* GetCRL answer */
};
int		 st_certrep_parse(const unsigned char *, size_t,
		    const struct st_certrep_expect *, struct st_certrep *);
void		 st_certrep_print(const struct st_certrep *);
void		 st_certrep_clear(struct st_certrep *);

#endif /* SCEPTEST_H */
