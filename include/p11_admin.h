/*
 * Token administration through the raw PKCS#11 API (module loaded with
 * p11-kit): initialising a token and its user PIN, and generating key
 * pairs inside it.  libp11 cannot generate EC keys or set the
 * attributes that keep a private key inside the token.
 */
#ifndef SCEPD_P11_ADMIN_H
#define SCEPD_P11_ADMIN_H

#include <stddef.h>

struct p11_admin_key {
	const char		*spec;		/* "rsa:3072", "ec:p256" */
	const char		*label;
	const unsigned char	*id;
	size_t			 id_len;
	int			 decrypt;	/* also allow C_Decrypt */
};

/*
 * Loads module; if so_pin is set, initialises a free token as label
 * with that SO PIN and sets user_pin; then logs in as user and
 * generates keys[].  Refuses to touch a token that already holds an
 * object with one of the labels.  Unloads the module before
 * returning.  -1 (logged).
 */
int	p11_admin_setup(const char *module, const char *label,
	    const char *so_pin, const char *user_pin,
	    const struct p11_admin_key *keys, size_t nkeys);

#endif
