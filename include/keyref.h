/*
 * A reference to a key object in a PKCS#11 token, as given by an
 * RFC 7512 PKCS#11 URI ("pkcs11:object=scepd-ca;id=%01%a4").
 * Keys are found by label and/or CKA_ID, never remembered by handle.
 */
#ifndef SCEPD_KEYREF_H
#define SCEPD_KEYREF_H

#include <stddef.h>

#define KEYREF_ID_MAX	64

struct keyref {
	char		*label;			/* NULL: any label */
	unsigned char	 id[KEYREF_ID_MAX];
	size_t		 id_len;		/* 0: any id */
	char		*token_label;		/* from the URI, NULL if absent */
};

/*
 * Parses uri into ref.  On failure returns -1 and writes a reason to
 * err; ref then holds nothing that needs freeing.
 */
int	keyref_parse(const char *uri, struct keyref *ref, char *err,
	    size_t errlen);
/* Formats label and id as a PKCS#11 URI; the caller frees it. */
char	*keyref_uri_new(const char *label, const unsigned char *id,
	    size_t id_len);
void	keyref_clear(struct keyref *ref);

#endif
