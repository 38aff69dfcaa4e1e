/*
 * PKIOperation: one pkiMessage in, one CertRep (or HTTP error) out.
 *
 *   read + verify signature            no key needed
 *   decrypt the envelope               signer session 1 (RA key)
 *   read CSR, transaction, challenge   no key held: may take time
 *   reserve serial, build certificate  no key held
 *   sign certificate, sign CertRep     signer session 2 (CA, RA keys)
 *   record the outcome durably         then answer
 *
 * Keys are held only around the two signer sessions, so a slow step
 * (scrypt, later a policy webhook) never blocks the token for others.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "alg.h"
#include "certbuild.h"
#include "challenge.h"
#include "config.h"
#include "encode.h"
#include "issue.h"
#include "log.h"
#include "scep.h"
#include "service.h"
#include "signer.h"
#include "store.h"

#define PKIOP_SUBJECT_MAX	512
#define PKIOP_SERIAL_TRIES	8

/* What the request will get. */
enum pkiop_decision {
	PKIOP_FAIL,		/* CertRep FAILURE */
	PKIOP_ISSUE,		/* sign a new certificate */
	PKIOP_RESEND,		/* retransmission: the earlier certificate */
	PKIOP_PENDING,		/* the same transaction is in flight */
};

/* Everything about one PKIOperation; freed before the answer is sent. */
struct pkiop {
	struct service		*svc;
	const char		*client;
	struct scep_request	*req;
	X509_REQ		*csr;
	char			 subject[PKIOP_SUBJECT_MAX];
	char			*pubkey_sha256;
	struct store_txn	 txn;
	int			 txn_open;	/* we own a processing row */
	enum pkiop_decision	 decision;
	enum scep_failinfo	 fail;
	char			 fail_text[SCEP_FAIL_TEXT_MAX];
	int			 internal;	/* failed by our fault */
	int			 hsm_down;	/* no signer session */
	ASN1_INTEGER		*serial;
	char			*serial_hex;
	X509			*cert;		/* issued or resent */
	unsigned char		*cert_der;
	int			 cert_der_len;
};

static void
pkiop_fail(struct pkiop *op, enum scep_failinfo fail, const char *text)
{
	op->decision = PKIOP_FAIL;
	op->fail = fail;
	snprintf(op->fail_text, sizeof(op->fail_text), "%s", text);
}

/* A failure that is ours, not the client's (logged where detected). */
static void
pkiop_internal_error(struct pkiop *op)
{
	pkiop_fail(op, SCEP_FAIL_BAD_REQUEST, "internal error");
	op->internal = 1;
}

/* Session 1: decrypt the envelope with the RA key. */
static unsigned char *
pkiop_decrypt(struct pkiop *op, size_t *len)
{
	struct signer_session	*ss;
	EVP_PKEY		*ra_key;
	unsigned char		*content = NULL;

	*len = 0;
	if ((ss = signer_session_open(op->svc->signer)) == NULL) {
		op->hsm_down = 1;
		return NULL;
	}
	if ((ra_key = signer_session_get0_key(ss, SIGNER_ROLE_RA)) == NULL)
		op->hsm_down = 1;
	else if (scep_request_decrypt(op->req, op->svc->ra_cert, ra_key,
	    op->svc->cfg->ciphers, &content, len) == -1)
		pkiop_fail(op, op->req->fail, op->req->fail_text);
	signer_session_close(ss);
	return content;
}

static int
pkiop_describe_csr(struct pkiop *op)
{
	BIO		*bio;
	unsigned char	*spki = NULL;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	int		 n, len, rc = -1;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return -1;
	X509_NAME_print_ex(bio, X509_REQ_get_subject_name(op->csr), 0,
	    XN_FLAG_RFC2253);
	n = BIO_read(bio, op->subject, sizeof(op->subject) - 1);
	op->subject[n > 0 ? n : 0] = '\0';
	BIO_free(bio);
	if ((len = i2d_PUBKEY(X509_REQ_get0_pubkey(op->csr), &spki)) <= 0 ||
	    EVP_Digest(spki, (size_t)len, md, &mdlen, EVP_sha256(),
	    NULL) != 1 ||
	    (op->pubkey_sha256 = encode_hex_new(md, mdlen)) == NULL)
		log_ssl("%s: hashing the public key", __func__);
	else
		rc = 0;
	OPENSSL_free(spki);
	return rc;
}

static void
pkiop_check_challenge(struct pkiop *op)
{
	char	*challenge;
	size_t	 len;

	if ((challenge = scep_csr_get_challenge(op->csr, &len)) == NULL) {
		pkiop_fail(op, SCEP_FAIL_BAD_REQUEST,
		    "the request has no challenge password");
		return;
	}
	if (len > CHALLENGE_MAX_LEN ||
	    challenge_verifier_check(op->svc->challenge, challenge,
	    len) == -1)
		pkiop_fail(op, SCEP_FAIL_BAD_REQUEST,
		    "wrong challenge password");
	OPENSSL_clear_free(challenge, len);
}

/* Looks up the transaction: new, retransmitted, or in flight. */
static void
pkiop_begin_txn(struct pkiop *op)
{
	enum store_begin	 found;
	unsigned char		*der = NULL;
	const unsigned char	*p;
	size_t			 len;

	op->txn.txid = op->req->txid;
	op->txn.kind = "enroll";
	op->txn.pubkey_sha256 = op->pubkey_sha256;
	op->txn.subject = op->subject;
	op->txn.client = op->client;
	if (store_txn_begin(op->svc->store, &op->txn, &found, &der,
	    &len) == -1) {
		pkiop_internal_error(op);
		return;
	}
	switch (found) {
	case STORE_BEGIN_NEW:
		op->txn_open = 1;
		op->decision = PKIOP_ISSUE;
		break;
	case STORE_BEGIN_ISSUED:
		p = der;
		if ((op->cert = d2i_X509(NULL, &p, (long)len)) == NULL) {
			log_ssl("txid=%s: stored certificate unreadable",
			    op->req->txid);
			pkiop_internal_error(op);
		} else
			op->decision = PKIOP_RESEND;
		break;
	case STORE_BEGIN_BUSY:
		op->decision = PKIOP_PENDING;
		break;
	case STORE_BEGIN_KEY_MISMATCH:
		pkiop_fail(op, SCEP_FAIL_BAD_REQUEST, "this transactionID was "
		    "already used for another public key");
		break;
	}
	free(der);
}

/* Reserves a serial number nobody has had, before anything is signed. */
static int
pkiop_reserve_serial(struct pkiop *op)
{
	int	i, r;

	for (i = 0; i < PKIOP_SERIAL_TRIES; i++) {
		ASN1_INTEGER_free(op->serial);
		free(op->serial_hex);
		op->serial_hex = NULL;
		if ((op->serial = certbuild_serial_new()) == NULL ||
		    (op->serial_hex = certbuild_serial_hex_new(op->serial)) ==
		    NULL)
			return -1;
		r = store_serial_reserve(op->svc->store, op->serial_hex,
		    op->req->txid);
		if (r != 1)
			return r;
		log_warnx("serial %s collided; drawing another",
		    op->serial_hex);
	}
	return -1;
}

static void
pkiop_enroll(struct pkiop *op, const unsigned char *content, size_t len)
{
	struct issue_profile	pf;
	char			why[SCEP_FAIL_TEXT_MAX];

	if ((op->csr = scep_csr_parse(content, len, why, sizeof(why))) ==
	    NULL) {
		pkiop_fail(op, SCEP_FAIL_BAD_MESSAGE_CHECK, why);
		return;
	}
	if (pkiop_describe_csr(op) == -1) {
		pkiop_internal_error(op);
		return;
	}
	if (issue_check_request(op->csr, why, sizeof(why)) == -1) {
		pkiop_fail(op, SCEP_FAIL_BAD_REQUEST, why);
		return;
	}
	/* The certificate is enveloped to the signer: RSA key transport. */
	if (EVP_PKEY_get_base_id(X509_get0_pubkey(op->req->signer_cert)) !=
	    EVP_PKEY_RSA) {
		pkiop_fail(op, SCEP_FAIL_BAD_ALG, "the signer certificate "
		    "must hold an RSA key to receive the certificate");
		return;
	}
	pkiop_begin_txn(op);
	if (op->decision != PKIOP_ISSUE)
		return;
	pkiop_check_challenge(op);
	if (op->decision != PKIOP_ISSUE)
		return;
	if (pkiop_reserve_serial(op) == -1) {
		pkiop_internal_error(op);
		return;
	}
	pf.validity_days = op->svc->cfg->validity_days;
	if ((op->cert = issue_cert_new(op->csr, op->svc->ca_cert, op->serial,
	    &pf, time(NULL))) == NULL)
		pkiop_internal_error(op);
}

/* Responses are never sent under single DES. */
static unsigned
pkiop_reply_cipher(const struct scep_request *req)
{
	return req->cipher == ALG_CIPHER_DES ? ALG_CIPHER_DES3 : req->cipher;
}

/*
 * Session 2: sign the certificate (if issuing) and the CertRep.  On
 * success *der holds the CertRep.
 */
static int
pkiop_sign(struct pkiop *op, unsigned char **der, size_t *len)
{
	struct signer_session	*ss;
	struct scep_reply	 rep;
	EVP_PKEY		*ca_key, *ra_key;
	int			 rc = -1;

	if ((ss = signer_session_open(op->svc->signer)) == NULL ||
	    (ra_key = signer_session_get0_key(ss, SIGNER_ROLE_RA)) == NULL) {
		op->hsm_down = 1;
		goto out;
	}
	if (op->decision == PKIOP_ISSUE) {
		if ((ca_key = signer_session_get0_key(ss,
		    SIGNER_ROLE_CA)) == NULL ||
		    X509_sign(op->cert, ca_key, certbuild_digest_for(
		    X509_get0_pubkey(op->svc->ca_cert))) <= 0) {
			log_ssl("txid=%s: signing the certificate",
			    op->req->txid);
			op->hsm_down = 1;
			goto out;
		}
	}
	memset(&rep, 0, sizeof(rep));
	rep.txid = op->req->txid;
	rep.recipient_nonce = op->req->sender_nonce;
	rep.recipient_nonce_len = op->req->sender_nonce_len;
	rep.digest = op->req->digest & op->svc->cfg->digests ?
	    op->req->digest : ALG_DIGEST_SHA256;
	switch (op->decision) {
	case PKIOP_ISSUE:
	case PKIOP_RESEND:
		rep.status = SCEP_STATUS_SUCCESS;
		rep.issued = op->cert;
		rep.recipient = op->req->signer_cert;
		rep.cipher = pkiop_reply_cipher(op->req);
		break;
	case PKIOP_PENDING:
		rep.status = SCEP_STATUS_PENDING;
		break;
	case PKIOP_FAIL:
		rep.status = SCEP_STATUS_FAILURE;
		rep.fail = op->fail;
		rep.fail_text = op->fail_text;
		break;
	}
	rc = scep_certrep_build(&rep, op->svc->ra_cert, ra_key, der, len);
 out:
	signer_session_close(ss);
	return rc;
}

static const char *
pkiop_outcome(const struct pkiop *op)
{
	switch (op->decision) {
	case PKIOP_ISSUE:
		return "issued";
	case PKIOP_RESEND:
		return "resent";
	case PKIOP_PENDING:
		return "pending";
	case PKIOP_FAIL:
	default:
		return op->internal ? "failed" : "rejected";
	}
}

/* Makes the outcome durable; -1 means the answer must not be sent. */
static int
pkiop_record(struct pkiop *op)
{
	struct store_event	 ev;
	struct store_cert	 sc;
	enum store_txn_state	 state;

	memset(&ev, 0, sizeof(ev));
	ev.txid = op->req->txid;
	ev.msgtype = scep_msgtype_name(op->req->msgtype);
	ev.client = op->client;
	ev.outcome = pkiop_outcome(op);
	if (op->decision == PKIOP_FAIL) {
		ev.failinfo = op->fail == SCEP_FAIL_NONE ? NULL :
		    scep_failinfo_name(op->fail);
		ev.reason = op->fail_text;
	}
	if (op->decision == PKIOP_ISSUE)
		ev.serial = op->serial_hex;
	if (!op->txn_open)
		return store_event_add(op->svc->store, &ev);
	if (op->decision != PKIOP_ISSUE) {
		state = op->internal ? STORE_TXN_FAILED : STORE_TXN_REJECTED;
		return store_txn_finish(op->svc->store, &op->txn, state, NULL,
		    &ev);
	}
	if ((op->cert_der_len = i2d_X509(op->cert, &op->cert_der)) <= 0) {
		log_ssl("i2d_X509");
		return -1;
	}
	memset(&sc, 0, sizeof(sc));
	sc.serial = op->serial_hex;
	sc.subject = op->subject;
	sc.not_before = certbuild_time(X509_get0_notBefore(op->cert));
	sc.not_after = certbuild_time(X509_get0_notAfter(op->cert));
	sc.der = op->cert_der;
	sc.der_len = (size_t)op->cert_der_len;
	return store_txn_finish(op->svc->store, &op->txn, STORE_TXN_ISSUED,
	    &sc, &ev);
}

/* The request's one log line: who, what, and how it ended. */
static void
pkiop_log(const struct pkiop *op)
{
	char	detail[SCEP_FAIL_TEXT_MAX + 64] = "";

	if (op->decision == PKIOP_FAIL && op->fail != SCEP_FAIL_NONE)
		snprintf(detail, sizeof(detail), " failInfo=%s reason=\"%s\"",
		    scep_failinfo_name(op->fail), op->fail_text);
	else if (op->decision == PKIOP_FAIL)
		snprintf(detail, sizeof(detail), " reason=\"%s\"",
		    op->fail_text);
	else if (op->decision == PKIOP_ISSUE)
		snprintf(detail, sizeof(detail), " serial=%s", op->serial_hex);
	log_info("txid=%s client=%s msgtype=%s subject=\"%s\" outcome=%s%s",
	    op->req->txid, op->client, scep_msgtype_name(op->req->msgtype),
	    op->subject, pkiop_outcome(op), detail);
}

static void
pkiop_clear(struct pkiop *op)
{
	scep_request_free(op->req);
	X509_REQ_free(op->csr);
	free(op->pubkey_sha256);
	ASN1_INTEGER_free(op->serial);
	free(op->serial_hex);
	X509_free(op->cert);
	OPENSSL_free(op->cert_der);
}

/* Input with nothing to answer to: recorded, then HTTP 400. */
static void
pkiop_malformed(struct service *svc, const char *client, const char *why,
    struct service_response *r)
{
	struct store_event	ev;

	log_info("client=%s outcome=malformed reason=\"%s\"", client, why);
	memset(&ev, 0, sizeof(ev));
	ev.client = client;
	ev.outcome = "malformed";
	ev.reason = why;
	if (store_event_add(svc->store, &ev) == -1)
		service_text(r, 500, "internal error");
	else
		service_text(r, 400, why);
}

void
service_pkioperation(struct service *svc, const unsigned char *der,
    size_t len, const char *client, struct service_response *r)
{
	struct pkiop	 op;
	unsigned char	*content = NULL, *rep = NULL;
	size_t		 content_len = 0, rep_len = 0;
	char		 why[SCEP_FAIL_TEXT_MAX];
	const char	*no_answer = NULL;

	memset(&op, 0, sizeof(op));
	op.svc = svc;
	op.client = client;
	op.decision = PKIOP_FAIL;
	op.fail = SCEP_FAIL_NONE;
	if ((op.req = scep_request_parse(der, len, svc->cfg->digests, why,
	    sizeof(why))) == NULL) {
		pkiop_malformed(svc, client, why, r);
		return;
	}
	log_debug("txid=%s client=%s msgtype=%s received", op.req->txid,
	    client, scep_msgtype_name(op.req->msgtype));
	if (op.req->fail != SCEP_FAIL_NONE)
		pkiop_fail(&op, op.req->fail, op.req->fail_text);
	else if ((content = pkiop_decrypt(&op, &content_len)) != NULL) {
		if (op.req->msgtype == SCEP_MSG_PKCSREQ)
			pkiop_enroll(&op, content, content_len);
		else {
			snprintf(why, sizeof(why), "messageType %d (%s) is not "
			    "supported", op.req->msgtype,
			    scep_msgtype_name(op.req->msgtype));
			pkiop_fail(&op, SCEP_FAIL_BAD_REQUEST, why);
		}
		OPENSSL_cleanse(content, content_len);
		free(content);
	}
	if (op.hsm_down)
		no_answer = "HSM unavailable";
	else if (pkiop_sign(&op, &rep, &rep_len) == -1)
		no_answer = op.hsm_down ? "HSM unavailable" :
		    "the CertRep could not be built";
	if (no_answer != NULL) {
		/* No CertRep can be signed: the client retries later. */
		pkiop_fail(&op, SCEP_FAIL_NONE, no_answer);
		op.internal = 1;
	}
	if (pkiop_record(&op) == -1) {
		log_error("txid=%s: not answered: the outcome could not be "
		    "recorded", op.req->txid);
		service_text(r, 500, "internal error: nothing was issued");
	} else if (no_answer != NULL) {
		pkiop_log(&op);
		service_text(r, 503, "cannot answer now (HSM unavailable); "
		    "try again later");
	} else if ((r->body = malloc(rep_len)) == NULL) {
		service_text(r, 500, "out of memory");
	} else {
		pkiop_log(&op);
		memcpy(r->body, rep, rep_len);
		r->body_len = rep_len;
		r->http_status = 200;
		r->content_type = "application/x-pki-message";
	}
	OPENSSL_free(rep);
	pkiop_clear(&op);
}
