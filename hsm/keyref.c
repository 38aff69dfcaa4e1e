/*
 * PKCS#11 URI handling for key references, by p11-kit's parser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include "keyref.h"

/* Token labels are blank-padded fixed-size fields (p11-kit leaves
 * an absent one zero-filled). */
static char *
keyref_padded_dup(const unsigned char *s, size_t len)
{
	char	*out;

	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\0'))
		len--;
	if (len == 0)
		return NULL;
	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(out, s, len);
	out[len] = '\0';
	return out;
}

int
keyref_parse(const char *uri, struct keyref *ref, char *err, size_t errlen)
{
	P11KitUri		*pu = NULL;
	CK_ATTRIBUTE_PTR	 a;
	CK_TOKEN_INFO_PTR	 ti;
	int			 r, rc = -1;

	memset(ref, 0, sizeof(*ref));
	if ((pu = p11_kit_uri_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	r = p11_kit_uri_parse(uri, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, pu);
	if (r != P11_KIT_URI_OK) {
		snprintf(err, errlen, "not a PKCS#11 URI (RFC 7512): %s",
		    p11_kit_uri_message(r));
		goto out;
	}
	if ((a = p11_kit_uri_get_attribute(pu, CKA_LABEL)) != NULL) {
		if ((ref->label = malloc(a->ulValueLen + 1)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		memcpy(ref->label, a->pValue, a->ulValueLen);
		ref->label[a->ulValueLen] = '\0';
	}
	if ((a = p11_kit_uri_get_attribute(pu, CKA_ID)) != NULL) {
		if (a->ulValueLen == 0 || a->ulValueLen > KEYREF_ID_MAX) {
			snprintf(err, errlen, "id must be 1 to %d bytes",
			    KEYREF_ID_MAX);
			goto out;
		}
		memcpy(ref->id, a->pValue, a->ulValueLen);
		ref->id_len = a->ulValueLen;
	}
	if (ref->label == NULL && ref->id_len == 0) {
		snprintf(err, errlen, "the URI names neither object= nor id=");
		goto out;
	}
	if ((ti = p11_kit_uri_get_token_info(pu)) != NULL)
		ref->token_label = keyref_padded_dup(ti->label,
		    sizeof(ti->label));
	rc = 0;
 out:
	if (rc == -1)
		keyref_clear(ref);
	p11_kit_uri_free(pu);
	return rc;
}

char *
keyref_uri_new(const char *label, const unsigned char *id, size_t id_len)
{
	P11KitUri	*pu = NULL;
	CK_ATTRIBUTE	 a;
	char		*s = NULL;

	if ((pu = p11_kit_uri_new()) == NULL)
		return NULL;
	if (label != NULL) {
		a.type = CKA_LABEL;
		a.pValue = (void *)label;
		a.ulValueLen = strlen(label);
		if (p11_kit_uri_set_attribute(pu, &a) != P11_KIT_URI_OK)
			goto out;
	}
	if (id_len > 0) {
		a.type = CKA_ID;
		a.pValue = (void *)id;
		a.ulValueLen = id_len;
		if (p11_kit_uri_set_attribute(pu, &a) != P11_KIT_URI_OK)
			goto out;
	}
	if (p11_kit_uri_format(pu, P11_KIT_URI_FOR_OBJECT, &s) !=
	    P11_KIT_URI_OK)
		s = NULL;
 out:
	p11_kit_uri_free(pu);
	return s;
}

void
keyref_clear(struct keyref *ref)
{
	free(ref->label);
	free(ref->token_label);
	memset(ref, 0, sizeof(*ref));
}
