/*
 * Raw PKCS#11 for the few administrative steps libp11 cannot do.
 * Used only by provisioning, never on the request path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>

#include "log.h"
#include "p11_admin.h"

#define P11_ADMIN_MAX_SLOTS	256

struct p11_admin {
	CK_FUNCTION_LIST	*f;
	CK_SESSION_HANDLE	 session;
	int			 initialized;
	int			 has_session;
	int			 logged_in;
};

static int
p11_admin_check(CK_RV rv, const char *what)
{
	if (rv == CKR_OK)
		return 0;
	log_error("PKCS#11 %s failed: %s (0x%lx)", what,
	    p11_kit_strerror(rv), (unsigned long)rv);
	return -1;
}

/* Token labels are 32 bytes, blank padded. */
static void
p11_admin_pad_label(const char *label, CK_UTF8CHAR out[32])
{
	size_t	len = strlen(label);

	memset(out, ' ', 32);
	memcpy(out, label, len > 32 ? 32 : len);
}

/*
 * Finds the slot whose token is labelled label (want_free == 0), or
 * the first slot with an uninitialised token (want_free == 1).
 */
static int
p11_admin_find_slot(struct p11_admin *pa, const char *label, int want_free,
    CK_SLOT_ID *out)
{
	CK_SLOT_ID	slots[P11_ADMIN_MAX_SLOTS];
	CK_ULONG	n = P11_ADMIN_MAX_SLOTS, i;
	CK_TOKEN_INFO	ti;
	CK_UTF8CHAR	padded[32];
	int		inited;

	if (p11_admin_check(pa->f->C_GetSlotList(CK_TRUE, slots, &n),
	    "C_GetSlotList") == -1)
		return -1;
	p11_admin_pad_label(label, padded);
	for (i = 0; i < n; i++) {
		if (pa->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		inited = (ti.flags & CKF_TOKEN_INITIALIZED) != 0;
		if ((want_free && !inited) || (!want_free && inited &&
		    memcmp(ti.label, padded, sizeof(padded)) == 0)) {
			*out = slots[i];
			return 0;
		}
	}
	if (want_free)
		log_error("the module offers no uninitialised token");
	else
		log_error("no token labelled \"%s\"", label);
	return -1;
}

static int
p11_admin_init_token(struct p11_admin *pa, const char *label,
    const char *so_pin, const char *user_pin, CK_SLOT_ID *slot)
{
	CK_UTF8CHAR	padded[32];

	if (p11_admin_find_slot(pa, label, 1, slot) == -1)
		return -1;
	p11_admin_pad_label(label, padded);
	if (p11_admin_check(pa->f->C_InitToken(*slot,
	    (CK_UTF8CHAR_PTR)so_pin, strlen(so_pin), padded),
	    "C_InitToken") == -1)
		return -1;
	/* Some modules (SoftHSM) move an initialised token to a new slot. */
	if (p11_admin_find_slot(pa, label, 0, slot) == -1)
		return -1;
	if (p11_admin_check(pa->f->C_OpenSession(*slot, CKF_SERIAL_SESSION |
	    CKF_RW_SESSION, NULL, NULL, &pa->session), "C_OpenSession") == -1)
		return -1;
	pa->has_session = 1;
	if (p11_admin_check(pa->f->C_Login(pa->session, CKU_SO,
	    (CK_UTF8CHAR_PTR)so_pin, strlen(so_pin)), "C_Login (SO)") == -1)
		return -1;
	pa->logged_in = 1;
	if (p11_admin_check(pa->f->C_InitPIN(pa->session,
	    (CK_UTF8CHAR_PTR)user_pin, strlen(user_pin)), "C_InitPIN") == -1)
		return -1;
	pa->logged_in = 0;
	if (p11_admin_check(pa->f->C_Logout(pa->session), "C_Logout") == -1)
		return -1;
	return 0;
}

/* Refuses to add a second object with a label we are about to use. */
static int
p11_admin_label_free(struct p11_admin *pa, const char *label)
{
	CK_ATTRIBUTE		tmpl = { CKA_LABEL, (void *)label,
				    strlen(label) };
	CK_OBJECT_HANDLE	obj;
	CK_ULONG		n = 0;

	if (p11_admin_check(pa->f->C_FindObjectsInit(pa->session, &tmpl, 1),
	    "C_FindObjectsInit") == -1)
		return -1;
	pa->f->C_FindObjects(pa->session, &obj, 1, &n);
	pa->f->C_FindObjectsFinal(pa->session);
	if (n > 0) {
		log_error("the token already holds an object labelled \"%s\"; "
		    "not replacing it", label);
		return -1;
	}
	return 0;
}

/* DER of the named curve OID, for CKA_EC_PARAMS. */
static unsigned char *
p11_admin_ec_params(const char *curve, int *len)
{
	unsigned char	*der = NULL;
	int		 nid;

	if (strcmp(curve, "p256") == 0)
		nid = NID_X9_62_prime256v1;
	else if (strcmp(curve, "p384") == 0)
		nid = NID_secp384r1;
	else
		return NULL;
	if ((*len = i2d_ASN1_OBJECT(OBJ_nid2obj(nid), &der)) <= 0)
		return NULL;
	return der;
}

/* Confirms what the token says about the new private key. */
static int
p11_admin_check_private(struct p11_admin *pa, CK_OBJECT_HANDLE priv,
    const char *label)
{
	CK_BBOOL	sensitive = CK_FALSE, extractable = CK_TRUE;
	CK_ATTRIBUTE	a[] = {
		{ CKA_SENSITIVE, &sensitive, sizeof(sensitive) },
		{ CKA_EXTRACTABLE, &extractable, sizeof(extractable) },
	};

	if (p11_admin_check(pa->f->C_GetAttributeValue(pa->session, priv, a,
	    2), "C_GetAttributeValue") == -1)
		return -1;
	if (sensitive != CK_TRUE || extractable != CK_FALSE) {
		log_error("the token did not make \"%s\" sensitive and "
		    "non-extractable", label);
		return -1;
	}
	return 0;
}

/* Appends one attribute to a template. */
static void
p11_admin_attr(CK_ATTRIBUTE *t, CK_ULONG *n, CK_ATTRIBUTE_TYPE type,
    const void *value, CK_ULONG len)
{
	t[*n].type = type;
	t[*n].pValue = (void *)value;
	t[*n].ulValueLen = len;
	(*n)++;
}

static int
p11_admin_generate(struct p11_admin *pa, const struct p11_admin_key *k)
{
	CK_BBOOL		yes = CK_TRUE, no = CK_FALSE;
	CK_BBOOL		dec = k->decrypt ? CK_TRUE : CK_FALSE;
	CK_ULONG		bits = 0;
	CK_BYTE			exponent[] = { 0x01, 0x00, 0x01 };
	CK_MECHANISM		mech = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_OBJECT_HANDLE	pub, priv;
	unsigned char		*ecparams = NULL;
	int			 eclen = 0, rc = -1;
	CK_ATTRIBUTE		pubt[8], privt[10];
	CK_ULONG		np = 0, nq = 0;

	if (strncmp(k->spec, "rsa:", 4) == 0) {
		bits = strtoul(k->spec + 4, NULL, 10);
		p11_admin_attr(pubt, &np, CKA_MODULUS_BITS, &bits, sizeof(bits));
		p11_admin_attr(pubt, &np, CKA_PUBLIC_EXPONENT, exponent,
		    sizeof(exponent));
		p11_admin_attr(pubt, &np, CKA_ENCRYPT, &dec, sizeof(dec));
	} else if (strncmp(k->spec, "ec:", 3) == 0 &&
	    (ecparams = p11_admin_ec_params(k->spec + 3, &eclen)) != NULL) {
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
		p11_admin_attr(pubt, &np, CKA_EC_PARAMS, ecparams, (CK_ULONG)eclen);
	} else {
		log_error("unknown key specification \"%s\"", k->spec);
		goto out;
	}
	p11_admin_attr(pubt, &np, CKA_TOKEN, &yes, sizeof(yes));
	p11_admin_attr(pubt, &np, CKA_VERIFY, &yes, sizeof(yes));
	p11_admin_attr(pubt, &np, CKA_LABEL, k->label, strlen(k->label));
	p11_admin_attr(pubt, &np, CKA_ID, k->id, k->id_len);
	p11_admin_attr(privt, &nq, CKA_TOKEN, &yes, sizeof(yes));
	p11_admin_attr(privt, &nq, CKA_PRIVATE, &yes, sizeof(yes));
	p11_admin_attr(privt, &nq, CKA_SENSITIVE, &yes, sizeof(yes));
	p11_admin_attr(privt, &nq, CKA_EXTRACTABLE, &no, sizeof(no));
	p11_admin_attr(privt, &nq, CKA_SIGN, &yes, sizeof(yes));
	p11_admin_attr(privt, &nq, CKA_LABEL, k->label, strlen(k->label));
	p11_admin_attr(privt, &nq, CKA_ID, k->id, k->id_len);
	if (mech.mechanism == CKM_RSA_PKCS_KEY_PAIR_GEN)
		p11_admin_attr(privt, &nq, CKA_DECRYPT, &dec, sizeof(dec));
	if (p11_admin_label_free(pa, k->label) == -1)
		goto out;
	if (p11_admin_check(pa->f->C_GenerateKeyPair(pa->session, &mech,
	    pubt, np, privt, nq, &pub, &priv), "C_GenerateKeyPair") == -1)
		goto out;
	rc = p11_admin_check_private(pa, priv, k->label);
 out:
	OPENSSL_free(ecparams);
	return rc;
}

int
p11_admin_setup(const char *module, const char *label, const char *so_pin,
    const char *user_pin, const struct p11_admin_key *keys, size_t nkeys)
{
	struct p11_admin	pa;
	CK_SLOT_ID		slot;
	size_t			i;
	int			rc = -1;

	memset(&pa, 0, sizeof(pa));
	if ((pa.f = p11_kit_module_load(module,
	    P11_KIT_MODULE_UNMANAGED)) == NULL) {
		log_error("cannot load PKCS#11 module %s: %s", module,
		    p11_kit_message() ? p11_kit_message() : "");
		return -1;
	}
	if (p11_admin_check(p11_kit_module_initialize(pa.f),
	    "C_Initialize") == -1)
		goto out;
	pa.initialized = 1;
	if (so_pin != NULL) {
		if (p11_admin_init_token(&pa, label, so_pin, user_pin,
		    &slot) == -1)
			goto out;
	} else {
		if (p11_admin_find_slot(&pa, label, 0, &slot) == -1 ||
		    p11_admin_check(pa.f->C_OpenSession(slot,
		    CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
		    &pa.session), "C_OpenSession") == -1)
			goto out;
		pa.has_session = 1;
	}
	if (p11_admin_check(pa.f->C_Login(pa.session, CKU_USER,
	    (CK_UTF8CHAR_PTR)user_pin, strlen(user_pin)), "C_Login") == -1)
		goto out;
	pa.logged_in = 1;
	for (i = 0; i < nkeys; i++)
		if (p11_admin_generate(&pa, &keys[i]) == -1)
			goto out;
	rc = 0;
 out:
	if (pa.logged_in)
		pa.f->C_Logout(pa.session);
	if (pa.has_session)
		pa.f->C_CloseSession(pa.session);
	if (pa.initialized)
		p11_kit_module_finalize(pa.f);
	p11_kit_module_release(pa.f);
	return rc;
}
