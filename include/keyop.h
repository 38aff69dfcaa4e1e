/*
 * What a worker may ask of the key process (src/keyproc.c), and what
 * it answers.  Each request is one ipc_frame whose op is a keyop and
 * whose role is a signer_role; the answer carries the same cookie and
 * a keyop_status.
 *
 * The line: a worker may have the RA key decrypt and sign digests (it
 * builds every CertRep, and sees every decrypted request anyway), but
 * the CA key signs only end-entity certificates issued by this CA
 * (certline_refusal(), src/certline.c): never a CA certificate, a certificate
 * with another issuer, a certificate-signing key usage or an arbitrary
 * digest.  A worker taken over through its parser can at worst issue
 * end-entity certificates, which it could also do by lying to its own
 * policy; it cannot mint a sub-CA or sign CRLs.
 */
#ifndef SCEPD_KEYOP_H
#define SCEPD_KEYOP_H

enum keyop {
	KEYOP_OPEN,		/* a fresh session: lock, login */
	KEYOP_GET_KEY,		/* -> SubjectPublicKeyInfo of the token key */
	KEYOP_RSA_SIGN,		/* RA: arg padding, data -> signature */
	KEYOP_RSA_DECRYPT,	/* RA: arg padding, data -> plaintext */
	KEYOP_SIGN_CERT,	/* CA: arg digest NID, certificate -> signed */
	KEYOP_CLOSE,		/* ends the session, no answer */
	KEYOP_CHECK_KEYS,	/* proves every key against its certificate */
	KEYOP__MAX
};

enum keyop_status {
	KEYOP_OK,
	KEYOP_DOWN,		/* SIGNER_WHY_DOWN */
	KEYOP_PIN,		/* SIGNER_WHY_PIN */
	KEYOP_BUSY,		/* SIGNER_WHY_BUSY */
	KEYOP_RESTORED,		/* SIGNER_WHY_RESTORED */
	KEYOP_TOKEN_FAILED,	/* the token failed during the operation */
	KEYOP_REFUSED,		/* the token refused the data */
	KEYOP_MISMATCH,		/* the signature did not verify: withheld */
	KEYOP_NOT_ALLOWED,	/* outside the allow-list or the line above */
	KEYOP__STATUS_MAX
};

#endif
