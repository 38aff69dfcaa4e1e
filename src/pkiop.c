/*
 * PKIOperation: one pkiMessage in, one CertRep (or HTTP error) out.
 *
 *   read + verify the signature          no key needed
 *   decrypt the envelope                 signer session 1 (RA key)
 *   PKCSReq, RenewalReq: CSR, transaction, policy, challenge
 *   CertPoll: the transaction's state    no key held: may be slow
 *   reserve a serial, build certificate  no key held
 *   sign certificate, sign CertRep       signer session 2 (CA, RA keys)
 *   record the outcome durably, audit    then answer
 *
 * Keys are held only around the two signer sessions, so a slow step
 * (scrypt, a webhook) never blocks the token for other requests.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "alg.h"
#include "audit.h"
#include "certbuild.h"
#include "challenge.h"
#include "challenge_check.h"
#include "config.h"
#include "encode.h"
#include "issue.h"
#include "log.h"
#include "policy.h"
#include "ratelimit.h"
#include "scep.h"
#include "service.h"
#include "signer.h"
#include "store.h"

#define PKIOP_SERIAL_TRIES	8
#define PKIOP_HSM_DOWN		SIGNER_WHY_DOWN
#define PKIOP_BUSY_RETRY	5	/* seconds: challenge checks full */
#define PKIOP_KIND_ENROLL	"enroll"
#define PKIOP_KIND_RENEW	"renew"

/* What the request will get. */
enum pkiop_decision {
	PKIOP_FAIL,		/* CertRep FAILURE */
	PKIOP_ISSUE,		/* sign a new certificate */
	PKIOP_RESEND,		/* the certificate issued before */
	PKIOP_PENDING,		/* PENDING, nothing changes */
	PKIOP_HOLD,		/* PENDING, held for an operator now */
};

/* Everything about one PKIOperation; freed before the answer is sent. */
struct pkiop {
	struct service		*svc;
	const struct policy	*pol;
	struct service_policy	*pref;
	const char		*client;
	struct scep_request	*req;
	X509_REQ		*csr;
	unsigned char		*csr_der;
	size_t			 csr_len;
	char			*subject;	/* the CSR's, whole */
	char			*pubkey_sha256;	/* the CSR's key */
	char			*signer_sha256;	/* the pkiMessage signer's */
	char			*renewed_serial;
	struct store_txn	 txn;
	/* The transaction this request ends, once it owns one. */
	const char		*own_txid;
	const char		*own_kind;
	int			 own_approved;	/* taken over from approved */
	struct store_row	 row;		/* found, for answers from it */
	char			 rule[POLICY_NAME_MAX];
	const struct policy_profile *profile;
	int			 max_active;	/* the rule's; 0: none */
	enum pkiop_decision	 decision;
	enum scep_failinfo	 fail;
	char			 fail_text[SCEP_FAIL_TEXT_MAX];
	int			 internal;	/* failed by our fault */
	const char		*no_answer;	/* why no CertRep: 503 */
	int			 retry_after;	/* seconds, with the 503 */
	ASN1_INTEGER		*serial;
	char			*serial_hex;
	X509			*cert;		/* issued or resent */
	unsigned char		*cert_der;
	int			 cert_der_len;
	char			*cert_subject;
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

/*
 * Verify after sign: a key replaced in the token, or a faulty
 * signature (RSA fault attacks), must not reach a client.  Checked
 * again on every request.
 */
static int
pkiop_key_mismatch(struct pkiop *op, enum signer_role role)
{
	static const char *const why[SIGNER_ROLE__MAX] = {
		[SIGNER_ROLE_CA] = "the CA key in the token does not match "
		    "the CA certificate",
		[SIGNER_ROLE_RA] = "the RA key in the token does not match "
		    "the RA certificate",
	};

	log_error("txid=%s: %s %s: nothing sent", op->req->txid, why[role],
	    role == SIGNER_ROLE_CA ? op->svc->cfg->ca_cert_file :
	    op->svc->cfg->ra_cert_file);
	op->no_answer = why[role];
	return -1;
}

/*
 * The RA key found in the token has the RA certificate's public key
 * (no key operation: a replaced key is told from a broken envelope).
 */
static int
pkiop_ra_key_matches(struct pkiop *op, EVP_PKEY *ra_key)
{
	if (X509_check_private_key(op->svc->ra_cert, ra_key) == 1)
		return 1;
	log_ssl_clear();
	return 0;
}

/* Session 1: decrypt the envelope with the RA key. */
/*
 * A token that failed while unwrapping the key is the HSM's problem,
 * answered "try again later" and not recorded against the request; a
 * key that did not unwrap is the request's.
 */
static void
pkiop_decrypt_failed(struct pkiop *op)
{
	char	what[SCEP_TXID_MAX + 64];

	if (op->req->unwrap_failed) {
		snprintf(what, sizeof(what), "txid=%s: the RA key did not "
		    "unwrap the content key", op->req->txid);
		if (signer_log_key_failure(what)) {
			op->no_answer = PKIOP_HSM_DOWN;
			return;
		}
	}
	pkiop_fail(op, op->req->fail, op->req->fail_text);
}

static unsigned char *
pkiop_decrypt(struct pkiop *op, size_t *len)
{
	struct signer_session	*ss;
	EVP_PKEY		*ra_key;
	unsigned char		*content = NULL;

	*len = 0;
	if ((ss = signer_session_open(op->svc->signer, &op->no_answer)) ==
	    NULL)
		return NULL;
	if ((ra_key = signer_session_get0_key(ss, SIGNER_ROLE_RA)) == NULL)
		op->no_answer = PKIOP_HSM_DOWN;
	else if (!pkiop_ra_key_matches(op, ra_key))
		pkiop_key_mismatch(op, SIGNER_ROLE_RA);
	else if (scep_request_decrypt(op->req, op->svc->ra_cert, ra_key,
	    op->svc->cfg->ciphers, &content, len) == -1)
		pkiop_decrypt_failed(op);
	signer_session_close(ss);
	return content;
}

/* Hex SHA-256 of a public key's SubjectPublicKeyInfo (free()). */
static char *
pkiop_key_hash(EVP_PKEY *pub)
{
	unsigned char	*spki = NULL;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	char		*hex = NULL;
	int		 len;

	if ((len = i2d_PUBKEY(pub, &spki)) <= 0 ||
	    EVP_Digest(spki, (size_t)len, md, &mdlen, EVP_sha256(),
	    NULL) != 1 || (hex = encode_hex_new(md, mdlen)) == NULL)
		log_ssl("%s", __func__);
	OPENSSL_free(spki);
	return hex;
}

/* Reads and checks the CSR of a PKCSReq or RenewalReq. */
static int
pkiop_read_csr(struct pkiop *op, const unsigned char *der, size_t len)
{
	char	why[SCEP_FAIL_TEXT_MAX];

	if ((op->csr = scep_csr_parse(der, len, why, sizeof(why))) == NULL) {
		pkiop_fail(op, SCEP_FAIL_BAD_MESSAGE_CHECK, why);
		return -1;
	}
	free(op->subject);
	if ((op->csr_der = malloc(len)) == NULL ||
	    (op->subject = certbuild_name_text_new(
	    X509_REQ_get_subject_name(op->csr))) == NULL ||
	    (op->pubkey_sha256 = pkiop_key_hash(X509_REQ_get0_pubkey(
	    op->csr))) == NULL) {
		pkiop_internal_error(op);
		return -1;
	}
	memcpy(op->csr_der, der, len);
	op->csr_len = len;
	if (issue_check_request(op->csr, why, sizeof(why)) == -1) {
		pkiop_fail(op, SCEP_FAIL_BAD_REQUEST, why);
		return -1;
	}
	/* The certificate is enveloped to the signer: RSA key transport. */
	if (EVP_PKEY_get_base_id(X509_get0_pubkey(op->req->signer_cert)) !=
	    EVP_PKEY_RSA) {
		pkiop_fail(op, SCEP_FAIL_BAD_ALG, "the signer certificate "
		    "must hold an RSA key to receive the certificate");
		return -1;
	}
	return 0;
}

/*
 * A RenewalReq is signed with a valid certificate we issued, for the
 * same subject as the request.
 */
static int
pkiop_check_renewal(struct pkiop *op)
{
	X509	*old = op->req->signer_cert;
	int	 r;

	if (X509_verify(old, X509_get0_pubkey(op->svc->ca_cert)) != 1 ||
	    X509_cmp_current_time(X509_get0_notAfter(old)) <= 0 ||
	    X509_cmp_current_time(X509_get0_notBefore(old)) > 0 ||
	    (op->renewed_serial = certbuild_serial_hex_new(
	    X509_get0_serialNumber(old))) == NULL) {
		log_ssl_clear();
		pkiop_fail(op, SCEP_FAIL_BAD_REQUEST, "a renewal must be "
		    "signed with a valid certificate of this CA");
		return -1;
	}
	if ((r = store_cert_issued(op->svc->store, op->renewed_serial)) ==
	    -1) {
		pkiop_internal_error(op);
		return -1;
	}
	if (r == 1) {
		pkiop_fail(op, SCEP_FAIL_BAD_REQUEST, "the signer certificate "
		    "was not issued here");
		return -1;
	}
	if (X509_NAME_cmp(X509_get_subject_name(old),
	    X509_REQ_get_subject_name(op->csr)) != 0) {
		pkiop_fail(op, SCEP_FAIL_BAD_REQUEST, "a renewal must keep the "
		    "subject of the certificate it renews");
		return -1;
	}
	return 0;
}

/*
 * Reserves a serial number nobody has had, before anything is signed,
 * for the subject the certificate will carry: within the rule's limit
 * on valid certificates, checked atomically with the reservation.
 * 0, 1 if the subject is at its limit (the request fails), -1.
 */
static int
pkiop_reserve_serial(struct pkiop *op)
{
	struct store_limit	lim;
	char			why[SCEP_FAIL_TEXT_MAX];
	int			i, r, active;

	memset(&lim, 0, sizeof(lim));
	lim.subject = op->cert_subject;
	lim.max = op->max_active;
	lim.exclude_serial = op->renewed_serial;
	lim.now = time(NULL);
	for (i = 0; i < PKIOP_SERIAL_TRIES; i++) {
		ASN1_INTEGER_free(op->serial);
		free(op->serial_hex);
		op->serial_hex = NULL;
		if ((op->serial = certbuild_serial_new()) == NULL ||
		    (op->serial_hex = certbuild_serial_hex_new(op->serial)) ==
		    NULL)
			return -1;
		r = store_serial_reserve(op->svc->store, op->serial_hex,
		    op->own_txid, &lim, &active);
		if (r == STORE_RESERVE_LIMIT) {
			snprintf(why, sizeof(why), "the subject has %d valid "
			    "certificate(s), the limit is %d", active,
			    lim.max);
			pkiop_fail(op, SCEP_FAIL_BAD_REQUEST, why);
			return 1;
		}
		if (r != 1)
			return r;
		log_warnx("serial %s collided; drawing another",
		    op->serial_hex);
	}
	return -1;
}

/* Builds the unsigned certificate with the profile; the HSM signs it. */
static void
pkiop_prepare_issue(struct pkiop *op, const struct policy_profile *pf)
{
	X509_NAME	*subject;
	int		 r;

	op->profile = pf;
	if ((subject = issue_subject_new(op->csr, &pf->issue)) == NULL ||
	    (op->cert_subject = certbuild_name_text_new(subject)) == NULL) {
		X509_NAME_free(subject);
		pkiop_internal_error(op);
		return;
	}
	X509_NAME_free(subject);
	if ((r = pkiop_reserve_serial(op)) == 1)
		return;
	if (r == -1 || (op->cert = issue_cert_new(op->csr, op->svc->ca_cert,
	    op->serial, &pf->issue, time(NULL))) == NULL) {
		pkiop_internal_error(op);
		return;
	}
	op->decision = PKIOP_ISSUE;
}

/* The policy view: valid certificates the subject would collide with. */
static int
pkiop_active_count(void *arg, const struct issue_profile *pf)
{
	struct pkiop	*op = arg;
	X509_NAME	*name;
	char		*text = NULL;
	int		 rc = -1;

	if ((name = issue_subject_new(op->csr, pf)) != NULL &&
	    (text = certbuild_name_text_new(name)) != NULL)
		rc = store_active_count(op->svc->store, text,
		    op->renewed_serial, op->own_txid, time(NULL));
	X509_NAME_free(name);
	free(text);
	return rc;
}

static void
pkiop_client_addr(const char *client, struct policy_request *q)
{
	if (inet_pton(AF_INET, client, q->client.addr) == 1)
		q->client.family = AF_INET;
	else if (inet_pton(AF_INET6, client, q->client.addr) == 1)
		q->client.family = AF_INET6;
	else
		return;
	q->has_client = 1;
}

/*
 * Checks the challenge rule r requires; the clear text is wiped.  A
 * refusal, or no room to check it, counts against the client's address.  With dry_run, a
 * one-time password is checked but not used up.
 */
static enum challenge_result
pkiop_challenge_check(struct pkiop *op, const struct policy_rule *r,
    const struct policy_request *q, int dry_run, char *why, size_t whylen)
{
	struct challenge_check	 cc;
	size_t			 len = 0;
	char			*challenge;
	enum challenge_result	 res;

	*why = '\0';
	if (r->challenge == NULL)
		return CHALLENGE_OK;
	challenge = scep_csr_get_challenge(op->csr, &len);
	memset(&cc, 0, sizeof(cc));
	cc.c = r->challenge;
	cc.challenge = challenge;
	cc.len = len;
	cc.txid = op->req->txid;
	cc.client = op->client;
	cc.rule = r->name;
	cc.req = q;
	cc.store = op->svc->store;
	cc.gate = op->svc->challenge_gate;
	cc.dry_run = dry_run;
	res = challenge_check(&cc, why, whylen);
	if (challenge != NULL)
		OPENSSL_clear_free(challenge, len);
	/*
	 * Busy counts too: the address that floods is the one that finds
	 * its place taken, and it must reach its limit (a 429, before any
	 * key work) instead of costing a decryption each time.
	 */
	if (res == CHALLENGE_REFUSED || res == CHALLENGE_BUSY)
		ratelimit_add(op->svc->client_failures, op->client, time(NULL));
	return res;
}

static int
pkiop_otp(const struct policy_rule *r)
{
	return r->challenge != NULL &&
	    r->challenge->kind == POLICY_CHALLENGE_OTP;
}

/* Uses up the one-time password of a rule that issues or holds. */
static int
pkiop_use_otp(struct pkiop *op, const struct policy_rule *r,
    const struct policy_request *q)
{
	char			why[SCEP_FAIL_TEXT_MAX];
	enum challenge_result	res;

	if (!pkiop_otp(r) || (res = pkiop_challenge_check(op, r, q, 0, why,
	    sizeof(why))) == CHALLENGE_OK)
		return 0;
	if (res == CHALLENGE_ERROR)
		pkiop_internal_error(op);
	else
		pkiop_fail(op, SCEP_FAIL_BAD_REQUEST, why);
	return -1;
}

/*
 * The first rule that matches and whose challenge the request has:
 * a rule with fall_through lets a request without its challenge go on
 * to the next rule.  The challenge is checked before the rule's action
 * and limit, so a client without it learns nothing more.  0 with
 * d->rule set (or NULL: no rule matches), -1 when answered (failed).
 */
static int
pkiop_match(struct pkiop *op, const struct policy_request *q,
    struct policy_decision *d)
{
	char			 why[SCEP_FAIL_TEXT_MAX];
	size_t			 from = 0;
	enum challenge_result	 res;

	for (;;) {
		policy_match(op->pol, q, from, d, NULL, 0);
		if (d->rule == NULL)
			return 0;
		snprintf(op->rule, sizeof(op->rule), "%s", d->rule->name);
		/* An OTP is used up only once the rule has decided. */
		res = pkiop_challenge_check(op, d->rule, q, pkiop_otp(d->rule),
		    why, sizeof(why));
		if (res == CHALLENGE_OK)
			return 0;
		if (res == CHALLENGE_REFUSED && d->rule->fall_through) {
			from = (size_t)(d->rule - op->pol->rules) + 1;
			continue;
		}
		if (res == CHALLENGE_ERROR)
			pkiop_internal_error(op);
		else if (res == CHALLENGE_BUSY) {
			/* Answered at once: the client comes back later. */
			op->no_answer = "too many challenge checks at once";
			op->retry_after = PKIOP_BUSY_RETRY;
		} else
			pkiop_fail(op, SCEP_FAIL_BAD_REQUEST, why);
		return -1;
	}
}

/* A new transaction: the rule and its challenge, then the policy. */
static void
pkiop_decide(struct pkiop *op, int renewal)
{
	struct policy_request	 q;
	struct policy_view	 view = { pkiop_active_count, op };
	struct policy_decision	 d;

	if (policy_request_from_csr(&q, op->csr, op->subject) == -1) {
		pkiop_internal_error(op);
		return;
	}
	q.renewal = renewal;
	pkiop_client_addr(op->client, &q);
	if (pkiop_match(op, &q, &d) == -1)
		goto out;
	if (policy_decide(&view, &d) == -1) {
		pkiop_internal_error(op);
		goto out;
	}
	snprintf(op->rule, sizeof(op->rule), "%s", d.rule ? d.rule->name :
	    "(none)");
	if (d.action == POLICY_REJECT) {
		pkiop_fail(op, SCEP_FAIL_BAD_REQUEST, d.reason);
		goto out;
	}
	if (pkiop_use_otp(op, d.rule, &q) == -1)
		goto out;
	if (d.action == POLICY_PENDING) {
		op->profile = d.rule->profile;
		op->decision = PKIOP_HOLD;
	} else {
		op->max_active = d.rule->max_active;
		pkiop_prepare_issue(op, d.rule->profile);
	}
 out:
	policy_request_clear(&q);
}

/* An approved request is issued by the first poll that takes it. */
static void
pkiop_issue_approved(struct pkiop *op)
{
	const struct policy_profile	*pf;
	char				 why[SCEP_FAIL_TEXT_MAX];
	int				 r;

	r = store_txn_transition(op->svc->store, op->row.txid, op->row.kind,
	    STORE_TXN_APPROVED, STORE_TXN_PROCESSING, NULL);
	if (r == -1) {
		pkiop_internal_error(op);
		return;
	}
	if (r == 1) {			/* another poll is issuing it */
		op->decision = PKIOP_PENDING;
		return;
	}
	op->own_txid = op->row.txid;
	op->own_kind = op->row.kind;
	op->own_approved = 1;
	snprintf(op->rule, sizeof(op->rule), "%s", op->row.rule ?
	    op->row.rule : "(none)");
	if ((pf = policy_profile_find(op->pol, op->row.profile ?
	    op->row.profile : "")) == NULL) {
		log_error("txid=%s: profile \"%s\" is no longer in the policy",
		    op->row.txid, op->row.profile ? op->row.profile : "");
		pkiop_internal_error(op);
		return;
	}
	X509_REQ_free(op->csr);
	if ((op->csr = scep_csr_parse(op->row.csr, op->row.csr_len, why,
	    sizeof(why))) == NULL) {
		log_error("txid=%s: the held request is unreadable: %s",
		    op->row.txid, why);
		pkiop_internal_error(op);
		return;
	}
	if (op->subject == NULL && (op->subject = strdup(op->row.subject ?
	    op->row.subject : "")) == NULL) {
		pkiop_internal_error(op);
		return;
	}
	pkiop_prepare_issue(op, pf);
}

/* Answers from a transaction decided or held before. */
static void
pkiop_answer_existing(struct pkiop *op)
{
	const unsigned char	*p;
	char			 text[SCEP_FAIL_TEXT_MAX];

	snprintf(op->rule, sizeof(op->rule), "%s", op->row.rule ?
	    op->row.rule : "(none)");
	switch (op->row.state) {
	case STORE_TXN_ISSUED:
		p = op->row.cert;
		if (p == NULL || (op->cert = d2i_X509(NULL, &p,
		    (long)op->row.cert_len)) == NULL) {
			log_ssl("txid=%s: stored certificate unreadable",
			    op->row.txid);
			pkiop_internal_error(op);
		} else
			op->decision = PKIOP_RESEND;
		break;
	case STORE_TXN_PENDING:
		if (op->row.expires_at > time(NULL)) {
			op->decision = PKIOP_PENDING;
			break;
		}
		pkiop_fail(op, SCEP_FAIL_BAD_REQUEST, "the held request "
		    "expired before an operator decided");
		if (store_txn_transition(op->svc->store, op->row.txid,
		    op->row.kind, STORE_TXN_PENDING, STORE_TXN_EXPIRED,
		    NULL) == -1)
			pkiop_internal_error(op);
		break;
	case STORE_TXN_APPROVED:
		pkiop_issue_approved(op);
		break;
	case STORE_TXN_PROCESSING:
		op->decision = PKIOP_PENDING;
		break;
	case STORE_TXN_EXPIRED:
		pkiop_fail(op, SCEP_FAIL_BAD_REQUEST, "the held request "
		    "expired before an operator decided");
		break;
	case STORE_TXN_DENIED:
		snprintf(text, sizeof(text), "refused by an operator%s%s",
		    op->row.reason ? ": " : "", op->row.reason ?
		    op->row.reason : "");
		pkiop_fail(op, SCEP_FAIL_BAD_REQUEST, text);
		break;
	default:
		pkiop_fail(op, SCEP_FAIL_BAD_REQUEST, op->row.reason ?
		    op->row.reason : "the request was refused");
		break;
	}
}

static void
pkiop_enroll(struct pkiop *op, const unsigned char *content, size_t len,
    int renewal)
{
	enum store_begin	found;

	if (pkiop_read_csr(op, content, len) == -1 ||
	    (renewal && pkiop_check_renewal(op) == -1))
		return;
	op->txn.txid = op->req->txid;
	op->txn.kind = renewal ? PKIOP_KIND_RENEW : PKIOP_KIND_ENROLL;
	op->txn.pubkey_sha256 = op->pubkey_sha256;
	op->txn.signer_sha256 = op->signer_sha256;
	op->txn.subject = op->subject;
	op->txn.client = op->client;
	if (store_txn_begin(op->svc->store, &op->txn, &found,
	    &op->row) == -1) {
		pkiop_internal_error(op);
		return;
	}
	switch (found) {
	case STORE_BEGIN_BUSY:
		op->decision = PKIOP_PENDING;
		break;
	case STORE_BEGIN_EXISTS:
		/* A repeated request, or a poll by repeating the request. */
		if (strcmp(op->row.pubkey_sha256, op->pubkey_sha256) != 0)
			pkiop_fail(op, SCEP_FAIL_BAD_REQUEST, "this "
			    "transactionID was already used for another "
			    "public key");
		else
			pkiop_answer_existing(op);
		break;
	case STORE_BEGIN_NEW:
		op->own_txid = op->txn.txid;
		op->own_kind = op->txn.kind;
		op->txn.claim = op->row.claim;	/* kept until pkiop_clear */
		pkiop_decide(op, renewal);
		break;
	}
}

/* CertPoll (GetCertInitial): the state of an earlier request. */
static void
pkiop_poll(struct pkiop *op, const unsigned char *content, size_t len)
{
	int	r;

	if (scep_issuer_and_subject_check(content, len) == -1) {
		pkiop_fail(op, SCEP_FAIL_BAD_REQUEST, "a CertPoll holds an "
		    "IssuerAndSubject");
		return;
	}
	if ((r = store_txn_lookup(op->svc->store, op->req->txid,
	    &op->row)) == -1) {
		pkiop_internal_error(op);
		return;
	}
	/* Only the requester may poll: same signer or same request key. */
	if (r == 1 || (strcmp(op->signer_sha256, op->row.pubkey_sha256) != 0 &&
	    (op->row.signer_sha256 == NULL ||
	    strcmp(op->signer_sha256, op->row.signer_sha256) != 0))) {
		pkiop_fail(op, SCEP_FAIL_BAD_CERT_ID, "no request with this "
		    "transactionID from this requester");
		return;
	}
	if ((op->subject = strdup(op->row.subject ? op->row.subject :
	    "")) == NULL) {
		pkiop_internal_error(op);
		return;
	}
	pkiop_answer_existing(op);
}

/* Responses are never sent under single DES. */
static unsigned
pkiop_reply_cipher(const struct scep_request *req)
{
	return req->cipher == ALG_CIPHER_DES ? ALG_CIPHER_DES3 : req->cipher;
}

/* Signs the certificate being issued with the CA key, and proves it. */
static int
pkiop_sign_cert(struct pkiop *op, struct signer_session *ss)
{
	int	r;

	if ((r = signer_session_sign_cert(ss, &op->cert, certbuild_digest_for(
	    X509_get0_pubkey(op->svc->ca_cert)))) == SIGNER_MISMATCH)
		return pkiop_key_mismatch(op, SIGNER_ROLE_CA);
	if (r == -1) {
		log_error("txid=%s: the certificate could not be signed",
		    op->req->txid);
		op->no_answer = PKIOP_HSM_DOWN;
		return -1;
	}
	return 0;
}

/*
 * Session 2: sign the certificate (if issuing) and the CertRep.  On
 * success *der holds the CertRep, both signatures proven.
 */
static int
pkiop_sign(struct pkiop *op, unsigned char **der, size_t *len)
{
	struct signer_session	*ss;
	struct scep_reply	 rep;
	EVP_PKEY		*ra_key;
	int			 rc = -1;

	*der = NULL;
	if ((ss = signer_session_open(op->svc->signer, &op->no_answer)) ==
	    NULL)
		goto out;
	if ((ra_key = signer_session_get0_key(ss, SIGNER_ROLE_RA)) == NULL) {
		op->no_answer = PKIOP_HSM_DOWN;
		goto out;
	}
	if (!pkiop_ra_key_matches(op, ra_key)) {
		pkiop_key_mismatch(op, SIGNER_ROLE_RA);
		goto out;
	}
	if (op->decision == PKIOP_ISSUE && pkiop_sign_cert(op, ss) == -1)
		goto out;
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
	case PKIOP_HOLD:
		rep.status = SCEP_STATUS_PENDING;
		break;
	case PKIOP_FAIL:
		rep.status = SCEP_STATUS_FAILURE;
		rep.fail = op->fail;
		rep.fail_text = op->fail_text;
		break;
	}
	if (scep_certrep_build(&rep, op->svc->ra_cert, ra_key, der,
	    len) == -1) {
		op->no_answer = "the CertRep could not be built";
		goto out;
	}
	if (scep_certrep_verify(*der, *len, op->svc->ra_cert) == -1) {
		pkiop_key_mismatch(op, SIGNER_ROLE_RA);
		goto out;
	}
	rc = 0;
 out:
	signer_session_close(ss);
	if (rc == -1) {
		OPENSSL_free(*der);
		*der = NULL;
	}
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
	case PKIOP_HOLD:
		return "held";
	case PKIOP_FAIL:
	default:
		return op->internal ? "failed" : "rejected";
	}
}

/* Ends the transaction we own (if any) with the outcome in ev. */
static int
pkiop_record_owned(struct pkiop *op, const struct store_event *ev)
{
	struct store_cert	sc;
	struct store_hold	h;

	if (op->decision == PKIOP_HOLD) {
		memset(&h, 0, sizeof(h));
		h.csr = op->csr_der;
		h.csr_len = op->csr_len;
		h.rule = op->rule;
		h.profile = op->profile->name;
		h.reason = ev->reason;
		h.expires_at = time(NULL) + op->pol->pending_expiry;
		return store_txn_hold(op->svc->store, &op->txn, &h, ev);
	}
	if (op->decision == PKIOP_FAIL) {
		/* An approved request stays approved until it is issued. */
		if (op->own_approved && op->internal)
			return store_txn_transition(op->svc->store,
			    op->own_txid, op->own_kind, STORE_TXN_PROCESSING,
			    STORE_TXN_APPROVED, ev) == -1 ? -1 : 0;
		return store_txn_finish(op->svc->store, op->own_txid,
		    op->own_kind, op->txn.claim, op->internal ?
		    STORE_TXN_FAILED : STORE_TXN_REJECTED, NULL, ev);
	}
	if ((op->cert_der_len = i2d_X509(op->cert, &op->cert_der)) <= 0) {
		log_ssl("i2d_X509");
		return -1;
	}
	memset(&sc, 0, sizeof(sc));
	sc.serial = op->serial_hex;
	sc.subject = op->cert_subject;
	sc.not_before = certbuild_time(X509_get0_notBefore(op->cert));
	sc.not_after = certbuild_time(X509_get0_notAfter(op->cert));
	sc.der = op->cert_der;
	sc.der_len = (size_t)op->cert_der_len;
	return store_txn_finish(op->svc->store, op->own_txid, op->own_kind,
	    op->txn.claim, STORE_TXN_ISSUED, &sc, ev);
}

/* Makes the outcome durable; -1 means the answer must not be sent. */
static int
pkiop_record(struct pkiop *op)
{
	struct store_event	ev;
	char			reason[SCEP_FAIL_TEXT_MAX];

	memset(&ev, 0, sizeof(ev));
	ev.txid = op->req->txid;
	ev.msgtype = scep_msgtype_name(op->req->msgtype);
	ev.client = op->client;
	ev.outcome = pkiop_outcome(op);
	ev.rule = op->rule[0] ? op->rule : NULL;
	if (op->decision == PKIOP_FAIL) {
		ev.failinfo = op->fail == SCEP_FAIL_NONE ? NULL :
		    scep_failinfo_name(op->fail);
		ev.reason = op->fail_text;
	} else if (op->decision == PKIOP_HOLD) {
		snprintf(reason, sizeof(reason), "held for an operator by "
		    "rule %s", op->rule);
		ev.reason = reason;
	} else if (op->decision == PKIOP_ISSUE) {
		ev.serial = op->serial_hex;
		ev.reason = op->own_approved ? "approved by an operator" :
		    NULL;
	}
	if (op->own_txid != NULL)
		return pkiop_record_owned(op, &ev);
	return store_event_add(op->svc->store, &ev);
}

/* The audit line, for decisions (not for resends and waits). */
static void
pkiop_audit(const struct pkiop *op)
{
	struct audit_entry	e;

	if (op->decision == PKIOP_RESEND || op->decision == PKIOP_PENDING)
		return;
	memset(&e, 0, sizeof(e));
	e.txid = op->req->txid;
	e.msgtype = scep_msgtype_name(op->req->msgtype);
	e.subject = op->decision == PKIOP_ISSUE ? op->cert_subject :
	    op->subject;
	e.client = op->client;
	e.rule = op->rule[0] ? op->rule : NULL;
	e.decision = pkiop_outcome(op);
	if (op->decision == PKIOP_FAIL)
		e.reason = op->fail_text;
	else if (op->decision == PKIOP_HOLD)
		e.reason = "held for an operator";
	else if (op->own_approved)
		e.reason = "approved by an operator";
	if (op->decision == PKIOP_ISSUE)
		e.serial = op->serial_hex;
	audit_log(op->svc->audit, &e);
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
	log_info("txid=%s client=%s msgtype=%s subject=\"%s\" rule=%s "
	    "outcome=%s%s", op->req->txid, op->client,
	    scep_msgtype_name(op->req->msgtype), op->subject ? op->subject :
	    "",
	    op->rule[0] ? op->rule : "-", pkiop_outcome(op), detail);
}

static void
pkiop_clear(struct pkiop *op)
{
	service_policy_put(op->svc, op->pref);
	scep_request_free(op->req);
	X509_REQ_free(op->csr);
	free(op->csr_der);
	free(op->subject);
	free(op->cert_subject);
	free(op->pubkey_sha256);
	free(op->signer_sha256);
	free(op->renewed_serial);
	store_row_clear(&op->row);
	ASN1_INTEGER_free(op->serial);
	free(op->serial_hex);
	X509_free(op->cert);
	OPENSSL_free(op->cert_der);
}

/*
 * An answer that is no CertRep (HTTP 400, 429), given without any key
 * operation.  It is recorded, but only up to limits.malformed_events
 * per address and window: a flood of bad requests must not fill the
 * database with fsync'd rows.
 */
static void
pkiop_unsigned_answer(struct service *svc, const char *client,
    const char *outcome, unsigned int status, const char *why,
    struct service_response *r)
{
	struct store_event	ev;
	int			n;

	n = ratelimit_add(svc->malformed, client, time(NULL));
	log_info("client=%s outcome=%s status=%u reason=\"%s\"%s", client,
	    outcome, status, why, n > svc->cfg->limits.malformed_events ?
	    " (not recorded: limits.malformed_events reached)" : "");
	if (n <= svc->cfg->limits.malformed_events) {
		memset(&ev, 0, sizeof(ev));
		ev.client = client;
		ev.outcome = outcome;
		ev.reason = why;
		if (store_event_add(svc->store, &ev) == -1) {
			service_text(r, 500, "internal error");
			return;
		}
	}
	service_text(r, status, why);
}

/*
 * A client over its failure limit (wrong challenges, bad signatures,
 * malformed requests) is told when to come back, before any parsing,
 * key or challenge work.
 */
static int
pkiop_client_limited(struct service *svc, const char *client,
    struct service_response *r)
{
	char	why[SCEP_FAIL_TEXT_MAX];
	int	wait;

	if ((wait = ratelimit_wait(svc->client_failures, client,
	    time(NULL))) == 0)
		return 0;
	snprintf(why, sizeof(why), "too many failed requests from %s; try "
	    "again in %d s", client, wait);
	pkiop_unsigned_answer(svc, client, "limited", 429, why, r);
	r->retry_after = wait;
	return 1;
}

/*
 * Parsing failures: nothing to answer to (no transactionID, no
 * senderNonce), or a signature that does not verify.  No CertRep is
 * signed for a message nobody can be held to: an RA signature for
 * anyone who sends garbage would be HSM work on demand.
 */
static void
pkiop_unauthenticated(struct service *svc, const char *client,
    const char *why, struct service_response *r)
{
	ratelimit_add(svc->client_failures, client, time(NULL));
	pkiop_unsigned_answer(svc, client, "malformed", 400, why, r);
}

/* Reads the decrypted content according to the message type. */
static void
pkiop_dispatch(struct pkiop *op, const unsigned char *content, size_t len)
{
	char	why[SCEP_FAIL_TEXT_MAX];

	if ((op->signer_sha256 = pkiop_key_hash(X509_get0_pubkey(
	    op->req->signer_cert))) == NULL) {
		pkiop_internal_error(op);
		return;
	}
	switch (op->req->msgtype) {
	case SCEP_MSG_PKCSREQ:
		pkiop_enroll(op, content, len, 0);
		break;
	case SCEP_MSG_RENEWALREQ:
		pkiop_enroll(op, content, len, 1);
		break;
	case SCEP_MSG_CERTPOLL:
		pkiop_poll(op, content, len);
		break;
	default:
		snprintf(why, sizeof(why), "messageType %d (%s) is not "
		    "supported", op->req->msgtype,
		    scep_msgtype_name(op->req->msgtype));
		pkiop_fail(op, SCEP_FAIL_BAD_REQUEST, why);
		break;
	}
}

void
service_pkioperation(struct service *svc, const unsigned char *der,
    size_t len, const char *client, struct service_response *r)
{
	struct pkiop	 op;
	unsigned char	*content = NULL, *rep = NULL;
	size_t		 content_len = 0, rep_len = 0;
	char		 why[SCEP_FAIL_TEXT_MAX];
	char		 bad[SCEP_TXID_MAX + SCEP_FAIL_TEXT_MAX + 8];
	const char	*no_answer = NULL;

	memset(&op, 0, sizeof(op));
	op.svc = svc;
	op.client = client;
	op.decision = PKIOP_FAIL;
	op.fail = SCEP_FAIL_NONE;
	if (pkiop_client_limited(svc, client, r))
		return;
	if ((op.req = scep_request_parse(der, len, svc->cfg->digests, why,
	    sizeof(why))) == NULL) {
		pkiop_unauthenticated(svc, client, why, r);
		return;
	}
	if (op.req->fail == SCEP_FAIL_BAD_MESSAGE_CHECK) {
		snprintf(bad, sizeof(bad), "txid=%s: %s", op.req->txid,
		    op.req->fail_text);
		pkiop_unauthenticated(svc, client, bad, r);
		pkiop_clear(&op);
		return;
	}
	op.pol = service_policy_get(svc, &op.pref);
	log_debug("txid=%s client=%s msgtype=%s received", op.req->txid,
	    client, scep_msgtype_name(op.req->msgtype));
	if (op.req->fail != SCEP_FAIL_NONE)
		pkiop_fail(&op, op.req->fail, op.req->fail_text);
	else if ((content = pkiop_decrypt(&op, &content_len)) != NULL) {
		pkiop_dispatch(&op, content, content_len);
		OPENSSL_cleanse(content, content_len);
		free(content);
	}
	if (op.no_answer == NULL)
		pkiop_sign(&op, &rep, &rep_len);
	if ((no_answer = op.no_answer) != NULL) {
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
		snprintf(why, sizeof(why), "cannot answer now (%s); try again "
		    "later", no_answer);
		service_text(r, 503, why);
		r->retry_after = op.retry_after;
	} else if ((r->body = malloc(rep_len)) == NULL) {
		service_text(r, 500, "out of memory");
	} else {
		pkiop_log(&op);
		pkiop_audit(&op);
		memcpy(r->body, rep, rep_len);
		r->body_len = rep_len;
		r->http_status = 200;
		r->content_type = "application/x-pki-message";
	}
	OPENSSL_free(rep);
	pkiop_clear(&op);
}
