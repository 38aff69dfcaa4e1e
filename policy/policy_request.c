/*
 * What the policy engine sees of a request, read from its CSR, and the
 * small value types rules are written in: addresses, CIDR blocks,
 * durations.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "policy.h"

static void
policy_names_free(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
policy_request_clear(struct policy_request *req)
{
	policy_names_free(req->san_dns, req->n_san_dns);
	policy_names_free(req->san_email, req->n_san_email);
	policy_names_free(req->san_uri, req->n_san_uri);
	free(req->san_ip);
	memset(req, 0, sizeof(*req));
}

/*
 * Appends an IA5String name.  One with a NUL or a control character
 * is refused: what the policy matches must be what the certificate
 * says (issue_check_request() refuses such requests first).
 */
static int
policy_request_add_name(char ***v, size_t *n, const ASN1_STRING *s)
{
	const unsigned char	*p = ASN1_STRING_get0_data(s);
	char			**grown;
	int			  len = ASN1_STRING_length(s), i;

	for (i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return -1;
	if ((grown = reallocarray(*v, *n + 1, sizeof(*grown))) == NULL)
		return -1;
	*v = grown;
	if ((grown[*n] = malloc((size_t)len + 1)) == NULL)
		return -1;
	memcpy(grown[*n], p, (size_t)len);
	grown[*n][len] = '\0';
	(*n)++;
	return 0;
}

static int
policy_request_add_san(struct policy_request *req, const GENERAL_NAME *gn)
{
	const ASN1_STRING	*s;
	struct policy_addr	*ip;
	int			 len;

	switch (gn->type) {
	case GEN_DNS:
		return policy_request_add_name(&req->san_dns, &req->n_san_dns,
		    gn->d.dNSName);
	case GEN_EMAIL:
		return policy_request_add_name(&req->san_email,
		    &req->n_san_email, gn->d.rfc822Name);
	case GEN_URI:
		return policy_request_add_name(&req->san_uri, &req->n_san_uri,
		    gn->d.uniformResourceIdentifier);
	case GEN_IPADD:
		s = gn->d.iPAddress;
		len = ASN1_STRING_length(s);
		if (len != 4 && len != 16)
			return -1;
		if ((ip = reallocarray(req->san_ip, req->n_san_ip + 1,
		    sizeof(*ip))) == NULL)
			return -1;
		req->san_ip = ip;
		memset(&ip[req->n_san_ip], 0, sizeof(*ip));
		ip[req->n_san_ip].family = len == 4 ? AF_INET : AF_INET6;
		memcpy(ip[req->n_san_ip].addr, ASN1_STRING_get0_data(s),
		    (size_t)len);
		req->n_san_ip++;
		return 0;
	default:
		return 0;	/* never copied into a certificate */
	}
}

int
policy_request_from_csr(struct policy_request *req, const X509_REQ *csr,
    const char *subject)
{
	STACK_OF(X509_EXTENSION)	*exts;
	GENERAL_NAMES			*gens = NULL;
	EVP_PKEY			*pub;
	int				 i, rc = -1;

	memset(req, 0, sizeof(*req));
	req->subject = subject;
	if ((pub = X509_REQ_get0_pubkey((X509_REQ *)csr)) == NULL)
		goto out;
	switch (EVP_PKEY_get_base_id(pub)) {
	case EVP_PKEY_RSA:
		req->key_type = POLICY_KEY_RSA;
		break;
	case EVP_PKEY_EC:
		req->key_type = POLICY_KEY_EC;
		break;
	default:
		goto out;
	}
	req->key_bits = EVP_PKEY_get_bits(pub);
	if ((exts = X509_REQ_get_extensions((X509_REQ *)csr)) != NULL) {
		gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++)
		if (policy_request_add_san(req,
		    sk_GENERAL_NAME_value(gens, i)) == -1) {
			log_error("%s: a malformed subjectAltName, or out of "
			    "memory", __func__);
			goto out;
		}
	rc = 0;
 out:
	GENERAL_NAMES_free(gens);
	if (rc == -1)
		policy_request_clear(req);
	return rc;
}

int
policy_cidr_parse(const char *text, struct policy_cidr *c)
{
	char	 buf[64], *slash, *end;
	long	 prefix;
	int	 max;

	memset(c, 0, sizeof(*c));
	if (strlen(text) >= sizeof(buf))
		return -1;
	strcpy(buf, text);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, c->net.addr) == 1) {
		c->net.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->net.addr) == 1) {
		c->net.family = AF_INET6;
		max = 128;
	} else
		return -1;
	c->prefix = max;
	if (slash != NULL) {
		prefix = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || prefix < 0 ||
		    prefix > max)
			return -1;
		c->prefix = (int)prefix;
	}
	return 0;
}

int
policy_cidr_contains(const struct policy_cidr *c, const struct policy_addr *a)
{
	int		full, rest;
	unsigned char	mask;

	if (a->family != c->net.family)
		return 0;
	full = c->prefix / 8;
	rest = c->prefix % 8;
	if (memcmp(a->addr, c->net.addr, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a->addr[full] & mask) == (c->net.addr[full] & mask);
}

long
policy_duration_parse(const char *text)
{
	char	*end;
	long	 v, unit = 1;

	v = strtol(text, &end, 10);
	if (end == text || v <= 0)
		return -1;
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (v > 100L * 366 * 86400 / unit)
		return -1;
	return v * unit;
}
