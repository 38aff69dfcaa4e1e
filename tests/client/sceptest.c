/*
 * sceptest: a SCEP (RFC 8894) test client for scepd's integration
 * tests.  It sends what Debian's scepclient cannot (chosen cipher,
 * digest, transactionID, message type, recipient, broken messages) and
 * checks every CertRep before printing it.
 *
 * Exit status: 0 SUCCESS, 2 FAILURE, 3 PENDING, 1 anything else.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "sceptest.h"

#define ST_MAX_ERROR_LINE	200	/* of a non-200 body, on "error=" */
#define ST_MAX_SUBJECT		1024

struct st_opts {
	const char	*url;
	const char	*command;
	const char	*key_file;
	const char	*key_type;
	const char	*subject;	/* /CN=x/O=y form */
	char		 cn_subject[ST_MAX_SUBJECT];	/* from --cn */
	struct st_san	 sans[ST_MAX_SANS];
	int		 nsans;
	const char	*challenge;
	const char	*cipher;
	const char	*digest;
	int		 msgtype;
	const char	*txid;
	size_t		 nonce_len;
	int		 omit_txid;
	int		 omit_msgtype;
	int		 omit_nonce;
	const char	*signer_cert;
	const char	*signer_key;
	const char	*serial;
	const char	*recipient;
	const char	*csr_file;
	int		 corrupt;
	int		 use_get;
	const char	*out;
	const char	*save_request;
	const char	*save_response;
	const char	*send_file;
	const char	*signed_content;
	long		 count;		/* --count: enrollments in a row */
	const char	*out_dir;
};

/* Everything one enrollment holds; freed by st_enroll_clear(). */
struct st_enroll {
	STACK_OF(X509)		*cacerts;
	STACK_OF(X509)		*recipients;
	EVP_PKEY		*key;		/* --key: request key */
	EVP_PKEY		*signer_key;
	X509			*signer_cert;
	X509_REQ		*csr;
	X509_NAME		*subject;
	char			*txid;
	unsigned char		 nonce[ST_MAX_NONCE];
	unsigned char		*content;
	size_t			 content_len;
	unsigned char		*signed_content;	/* --signed-content */
	size_t			 signed_content_len;
	unsigned char		*msg;		/* the pkiMessage sent */
	size_t			 msg_len;
	struct st_http_resp	 resp;
	struct st_certrep	 rep;
};

static void
st_usage(FILE *f)
{
	fputs(
"usage: sceptest --url URL [options] caps | getca --out FILE | enroll\n"
"  caps                  print the GetCACaps answer\n"
"  getca                 write the GetCACert certificates as PEM, CA first\n"
"  enroll                send one pkiMessage, check and print the CertRep\n"
"options:\n"
"  --key FILE            request key (PEM); made with --key-type if FILE\n"
"                        does not exist (mode 0600)\n"
"  --key-type T          rsa:2048 (default), rsa:3072, rsa:4096, ec:p256,\n"
"                        ec:p384\n"
"  --subject DN          CSR subject, \"/CN=host1/O=Example\" (default\n"
"                        /CN=sceptest); --cn NAME is --subject /CN=NAME\n"
"  --san-dns N, --san-ip A, --san-email E, --san-uri U   (repeatable)\n"
"  --challenge S         challengePassword (or env SCEPTEST_CHALLENGE)\n"
"  --cipher C            aes-256-cbc (default), aes-192-cbc, aes-128-cbc,\n"
"                        des-ede3-cbc, des-cbc\n"
"  --digest D            sha256 (default), sha1, sha512, md5\n"
"  --msgtype T           PKCSReq (default), RenewalReq, CertPoll, GetCert,\n"
"                        GetCRL, or a number\n"
"  --txid S              transactionID (default: hex SHA-256 of the\n"
"                        request's SubjectPublicKeyInfo)\n"
"  --nonce-len N         senderNonce length (default 16)\n"
"  --omit A              leave out transactionID, messageType or\n"
"                        senderNonce (repeatable)\n"
"  --signer-cert F --signer-key F   sign with these instead of a fresh\n"
"                        self-signed certificate\n"
"  --serial HEX          serial for GetCert and GetCRL\n"
"  --recipient R         ra (default; the CA if there is no RA), ca, all,\n"
"                        or a PEM certificate file\n"
"  --csr FILE            send this PEM CSR as it is\n"
"  --corrupt-signature   flip a byte of the SignerInfo signature\n"
"  --signed-content FILE sign these bytes instead of the envelope\n"
"  --source ADDR         send from this local address (127.0.0.2)\n"
"  --method M            post (default) or get\n"
"  --out FILE            getca: the certificates; enroll: the issued\n"
"                        certificate (or CRL) on SUCCESS\n"
"  --save-request F      write the DER pkiMessage sent\n"
"  --save-response F     write the response body\n"
"  --send-file F         send this file as the pkiMessage\n"
"  --count N             enroll N times in a row with the key of --key,\n"
"                        subjects DN-1 .. DN-N and random transactionIDs;\n"
"                        each answer's lines begin with n=I and end with\n"
"                        exit=STATUS (the exit status of one enrollment)\n"
"  --out-dir DIR         the certificate of enrollment I in DIR/I.pem\n"
"                        (and the output of --count, also for one)\n"
"  --verbose, --help\n"
"The answer is enveloped to the signer certificate, so the signer key\n"
"is RSA: with an EC request key and no --signer-key, an ephemeral\n"
"RSA-2048 key signs.\n"
"Output: http=, status=, failInfo=, failInfoText=, txid=, cipher=,\n"
"serial= (error= and retry_after= when HTTP is not 200).\n"
"Exit: 0 SUCCESS, 2 FAILURE, 3 PENDING, 1 any other outcome.\n", f);
}

static int
st_msgtype_parse(const char *s)
{
	static const struct {
		const char	*name;
		int		 type;
	} types[] = {
		{ "PKCSReq", ST_MSG_PKCSREQ },
		{ "RenewalReq", ST_MSG_RENEWALREQ },
		{ "CertPoll", ST_MSG_CERTPOLL },
		{ "GetCertInitial", ST_MSG_CERTPOLL },
		{ "GetCert", ST_MSG_GETCERT },
		{ "GetCRL", ST_MSG_GETCRL },
		{ "CertRep", ST_MSG_CERTREP },
	};
	size_t	 i;
	char	*end;
	long	 v;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(s, types[i].name) == 0)
			return types[i].type;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0 || v > 999) {
		st_warnx("unknown --msgtype %s", s);
		return -1;
	}
	return (int)v;
}

static int
st_opts_parse(int argc, char *argv[], struct st_opts *o)
{
	enum {
		OPT_URL = 256, OPT_KEY, OPT_KEY_TYPE, OPT_SUBJECT, OPT_CN,
		OPT_SAN_DNS, OPT_SAN_IP, OPT_SAN_EMAIL, OPT_SAN_URI,
		OPT_CHALLENGE, OPT_CIPHER, OPT_DIGEST, OPT_MSGTYPE, OPT_TXID,
		OPT_NONCE_LEN, OPT_OMIT, OPT_SIGNER_CERT, OPT_SIGNER_KEY,
		OPT_SERIAL, OPT_RECIPIENT, OPT_CSR, OPT_CORRUPT, OPT_METHOD,
		OPT_OUT, OPT_SAVE_REQUEST, OPT_SAVE_RESPONSE, OPT_SEND_FILE,
		OPT_SIGNED_CONTENT, OPT_SOURCE, OPT_COUNT, OPT_OUT_DIR,
	};
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, OPT_URL },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "key-type", required_argument, NULL, OPT_KEY_TYPE },
		{ "subject", required_argument, NULL, OPT_SUBJECT },
		{ "cn", required_argument, NULL, OPT_CN },
		{ "san-dns", required_argument, NULL, OPT_SAN_DNS },
		{ "san-ip", required_argument, NULL, OPT_SAN_IP },
		{ "san-email", required_argument, NULL, OPT_SAN_EMAIL },
		{ "san-uri", required_argument, NULL, OPT_SAN_URI },
		{ "challenge", required_argument, NULL, OPT_CHALLENGE },
		{ "cipher", required_argument, NULL, OPT_CIPHER },
		{ "digest", required_argument, NULL, OPT_DIGEST },
		{ "msgtype", required_argument, NULL, OPT_MSGTYPE },
		{ "txid", required_argument, NULL, OPT_TXID },
		{ "nonce-len", required_argument, NULL, OPT_NONCE_LEN },
		{ "omit", required_argument, NULL, OPT_OMIT },
		{ "signer-cert", required_argument, NULL, OPT_SIGNER_CERT },
		{ "signer-key", required_argument, NULL, OPT_SIGNER_KEY },
		{ "serial", required_argument, NULL, OPT_SERIAL },
		{ "recipient", required_argument, NULL, OPT_RECIPIENT },
		{ "csr", required_argument, NULL, OPT_CSR },
		{ "corrupt-signature", no_argument, NULL, OPT_CORRUPT },
		{ "method", required_argument, NULL, OPT_METHOD },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "save-request", required_argument, NULL, OPT_SAVE_REQUEST },
		{ "save-response", required_argument, NULL, OPT_SAVE_RESPONSE },
		{ "send-file", required_argument, NULL, OPT_SEND_FILE },
		{ "signed-content", required_argument, NULL,
		    OPT_SIGNED_CONTENT },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "out-dir", required_argument, NULL, OPT_OUT_DIR },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char	*end;
	long	 n;
	int	 ch;

	memset(o, 0, sizeof(*o));
	o->key_type = "rsa:2048";
	o->subject = "/CN=sceptest";
	o->cipher = "aes-256-cbc";
	o->digest = "sha256";
	o->msgtype = ST_MSG_PKCSREQ;
	o->nonce_len = ST_NONCE_LEN;
	o->recipient = "ra";
	o->count = 1;
	/* From the environment, so a test need not show it in argv. */
	if ((o->challenge = getenv("SCEPTEST_CHALLENGE")) != NULL &&
	    *o->challenge == '\0')
		o->challenge = NULL;	/* set but empty: no challenge */

	while ((ch = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_URL:
			o->url = optarg;
			break;
		case OPT_KEY:
			o->key_file = optarg;
			break;
		case OPT_KEY_TYPE:
			o->key_type = optarg;
			break;
		case OPT_SUBJECT:
			o->subject = optarg;
			break;
		case OPT_CN:
			/* The last of --cn and --subject wins. */
			if (strchr(optarg, '/') != NULL ||
			    (size_t)snprintf(o->cn_subject,
			    sizeof(o->cn_subject), "/CN=%s", optarg) >=
			    sizeof(o->cn_subject)) {
				st_warnx("--cn %s: too long or has a '/'",
				    optarg);
				return -1;
			}
			o->subject = o->cn_subject;
			break;
		case OPT_SAN_DNS:
		case OPT_SAN_IP:
		case OPT_SAN_EMAIL:
		case OPT_SAN_URI:
			if (o->nsans == ST_MAX_SANS) {
				st_warnx("more than %d subjectAltNames",
				    ST_MAX_SANS);
				return -1;
			}
			o->sans[o->nsans].type = ch == OPT_SAN_DNS ?
			    ST_SAN_DNS : ch == OPT_SAN_IP ? ST_SAN_IP :
			    ch == OPT_SAN_EMAIL ? ST_SAN_EMAIL : ST_SAN_URI;
			o->sans[o->nsans++].value = optarg;
			break;
		case OPT_CHALLENGE:
			o->challenge = optarg;
			break;
		case OPT_CIPHER:
			o->cipher = optarg;
			break;
		case OPT_DIGEST:
			o->digest = optarg;
			break;
		case OPT_MSGTYPE:
			if ((o->msgtype = st_msgtype_parse(optarg)) == -1)
				return -1;
			break;
		case OPT_TXID:
			o->txid = optarg;
			break;
		case OPT_NONCE_LEN:
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 0 ||
			    n > ST_MAX_NONCE) {
				st_warnx("--nonce-len is 0 to %d",
				    ST_MAX_NONCE);
				return -1;
			}
			o->nonce_len = (size_t)n;
			break;
		case OPT_OMIT:
			if (strcmp(optarg, "transactionID") == 0)
				o->omit_txid = 1;
			else if (strcmp(optarg, "messageType") == 0)
				o->omit_msgtype = 1;
			else if (strcmp(optarg, "senderNonce") == 0)
				o->omit_nonce = 1;
			else {
				st_warnx("--omit takes transactionID, "
				    "messageType or senderNonce");
				return -1;
			}
			break;
		case OPT_SIGNER_CERT:
			o->signer_cert = optarg;
			break;
		case OPT_SIGNER_KEY:
			o->signer_key = optarg;
			break;
		case OPT_SERIAL:
			o->serial = optarg;
			break;
		case OPT_RECIPIENT:
			o->recipient = optarg;
			break;
		case OPT_CSR:
			o->csr_file = optarg;
			break;
		case OPT_CORRUPT:
			o->corrupt = 1;
			break;
		case OPT_METHOD:
			if (strcasecmp(optarg, "get") == 0)
				o->use_get = 1;
			else if (strcasecmp(optarg, "post") == 0)
				o->use_get = 0;
			else {
				st_warnx("--method is post or get");
				return -1;
			}
			break;
		case OPT_OUT:
			o->out = optarg;
			break;
		case OPT_SAVE_REQUEST:
			o->save_request = optarg;
			break;
		case OPT_SAVE_RESPONSE:
			o->save_response = optarg;
			break;
		case OPT_SEND_FILE:
			o->send_file = optarg;
			break;
		case OPT_SIGNED_CONTENT:
			o->signed_content = optarg;
			break;
		case OPT_SOURCE:
			st_http_source = optarg;
			break;
		case OPT_COUNT:
			o->count = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || o->count < 1 ||
			    o->count > 1000000) {
				st_warnx("--count is 1 to 1000000");
				return -1;
			}
			break;
		case OPT_OUT_DIR:
			o->out_dir = optarg;
			break;
		case 'v':
			st_verbose = 1;
			break;
		case 'h':
			st_usage(stdout);
			exit(ST_EXIT_SUCCESS);
		default:
			st_usage(stderr);
			return -1;
		}
	}
	if (optind + 1 != argc || o->url == NULL) {
		st_usage(stderr);
		return -1;
	}
	o->command = argv[optind];
	if ((o->count > 1 || o->out_dir != NULL) && (o->key_file == NULL || o->csr_file != NULL ||
	    o->send_file != NULL || o->txid != NULL || o->out != NULL)) {
		st_warnx("--count needs --key, and goes with neither --csr, "
		    "--send-file, --txid nor --out (use --out-dir)");
		return -1;
	}
	if ((o->signer_cert == NULL) != (o->signer_key == NULL)) {
		st_warnx("--signer-cert and --signer-key go together");
		return -1;
	}
	return 0;
}

static int
st_cmd_caps(const struct st_opts *o)
{
	struct st_http_resp	 r = { 0, 0, NULL, NULL, 0 };
	char			*u = NULL;
	int			 rc = -1;

	if ((u = st_http_url(o->url, "GetCACaps", NULL, 0)) == NULL ||
	    st_http_get(u, &r) == -1)
		goto out;
	if (r.status != 200) {
		st_warnx("GetCACaps: HTTP %ld", r.status);
		goto out;
	}
	if (r.len > 0 && fwrite(r.body, 1, r.len, stdout) != r.len) {
		st_warnx("GetCACaps: cannot write the answer");
		goto out;
	}
	rc = 0;
 out:
	st_http_resp_clear(&r);
	free(u);
	return rc;
}

static int
st_cmd_getca(const struct st_opts *o)
{
	STACK_OF(X509)	*certs = NULL;
	int		 rc = -1;

	if (o->out == NULL) {
		st_warnx("getca needs --out FILE");
		goto out;
	}
	if (st_cacert_fetch(o->url, &certs) == -1 ||
	    st_cacert_write(o->out, certs) == -1)
		goto out;
	rc = 0;
 out:
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

/*
 * Who signs: --signer-cert/--signer-key, or a fresh self-signed
 * certificate for the request key, or, when that key cannot receive
 * an envelope (EC) or there is none (--csr without --key), for an
 * ephemeral RSA key.
 */
static int
st_enroll_signer(const struct st_opts *o, struct st_enroll *e)
{
	if (o->signer_cert != NULL) {
		if ((e->signer_cert = st_req_cert_read(o->signer_cert)) ==
		    NULL ||
		    (e->signer_key = st_req_key_read(o->signer_key)) == NULL)
			return -1;
		if (X509_check_private_key(e->signer_cert, e->signer_key) !=
		    1) {
			st_warn_ssl("%s does not match %s", o->signer_key,
			    o->signer_cert);
			return -1;
		}
		return 0;
	}
	if (e->key != NULL && EVP_PKEY_get_base_id(e->key) == EVP_PKEY_RSA) {
		if (!EVP_PKEY_up_ref(e->key)) {
			st_warn_ssl("%s: EVP_PKEY_up_ref", __func__);
			return -1;
		}
		e->signer_key = e->key;
	} else {
		st_debug("signing with an ephemeral RSA-2048 key");
		if ((e->signer_key = st_req_key_generate("rsa:2048")) == NULL)
			return -1;
	}
	if ((e->signer_cert = st_req_selfsigned(e->signer_key,
	    X509_REQ_get_subject_name(e->csr))) == NULL)
		return -1;
	return 0;
}

/* Builds the pkiMessage from the options into e->msg. */
static int
st_enroll_build(const struct st_opts *o, struct st_enroll *e)
{
	struct st_pkimsg	 m;
	char			 msgtype[16];

	memset(&m, 0, sizeof(m));
	if ((m.cipher = EVP_get_cipherbyname(o->cipher)) == NULL) {
		st_warnx("unknown --cipher %s", o->cipher);
		return -1;
	}
	/* Only now, and only for single DES, the legacy provider. */
	if (EVP_CIPHER_get_nid(m.cipher) == NID_des_cbc &&
	    st_legacy_load() == -1)
		return -1;
	if ((m.md = EVP_get_digestbyname(o->digest)) == NULL) {
		st_warnx("unknown --digest %s", o->digest);
		return -1;
	}
	if (o->csr_file != NULL) {
		if ((e->csr = st_req_csr_read(o->csr_file)) == NULL)
			return -1;
		if (o->key_file != NULL && (e->key = st_req_key_load(
		    o->key_file, o->key_type)) == NULL)
			return -1;
	} else {
		if ((e->key = st_req_key_load(o->key_file,
		    o->key_type)) == NULL ||
		    (e->subject = st_req_subject_parse(o->subject)) == NULL ||
		    (e->csr = st_req_csr_build(e->key, e->subject, o->sans,
		    o->nsans, o->challenge)) == NULL)
			return -1;
	}
	if (st_enroll_signer(o, e) == -1)
		return -1;
	if (o->txid != NULL) {
		if ((e->txid = strdup(o->txid)) == NULL) {
			st_warnx("%s: out of memory", __func__);
			return -1;
		}
	} else if ((e->txid = st_req_default_txid(
	    X509_REQ_get0_pubkey(e->csr))) == NULL)
		return -1;
	if (RAND_bytes(e->nonce, (int)o->nonce_len) != 1) {
		st_warn_ssl("%s: RAND_bytes", __func__);
		return -1;
	}
	if ((e->recipients = st_cacert_recipients(e->cacerts,
	    o->recipient)) == NULL)
		return -1;
	if (st_pkimsg_content(o->msgtype, e->csr,
	    st_cacert_get0_ca(e->cacerts), o->serial, &e->content,
	    &e->content_len) == -1)
		return -1;
	snprintf(msgtype, sizeof(msgtype), "%d", o->msgtype);
	m.signer_cert = e->signer_cert;
	m.signer_key = e->signer_key;
	m.recipients = e->recipients;
	m.content = e->content;
	m.content_len = e->content_len;
	m.txid = o->omit_txid ? NULL : e->txid;
	m.msgtype = o->omit_msgtype ? NULL : msgtype;
	m.nonce = o->omit_nonce ? NULL : e->nonce;
	m.nonce_len = o->nonce_len;
	m.corrupt = o->corrupt;
	if (o->signed_content != NULL) {
		if (st_file_read(o->signed_content, &e->signed_content,
		    &e->signed_content_len) == -1)
			return -1;
		m.signed_content = e->signed_content;
		m.signed_content_len = e->signed_content_len;
	}
	st_debug("messageType %s, transactionID %s, %s, %s, to %d "
	    "recipient(s)", msgtype, e->txid, o->cipher, o->digest,
	    sk_X509_num(e->recipients));
	return st_pkimsg_build(&m, &e->msg, &e->msg_len);
}

/* PKIOperation by POST, or by GET with the message in the URL. */
static int
st_enroll_send(const struct st_opts *o, struct st_enroll *e)
{
	char	*u = NULL;
	int	 rc = -1;

	if (o->use_get)
		u = st_http_url(o->url, "PKIOperation", e->msg, e->msg_len);
	else
		u = st_http_url(o->url, "PKIOperation", NULL, 0);
	if (u == NULL)
		goto out;
	if (o->use_get)
		rc = st_http_get(u, &e->resp);
	else
		rc = st_http_post(u, "application/x-pki-message", e->msg,
		    e->msg_len, &e->resp);
 out:
	free(u);
	return rc;
}

static void
st_enroll_clear(struct st_enroll *e)
{
	sk_X509_pop_free(e->cacerts, X509_free);
	sk_X509_pop_free(e->recipients, X509_free);
	EVP_PKEY_free(e->key);
	EVP_PKEY_free(e->signer_key);
	X509_free(e->signer_cert);
	X509_REQ_free(e->csr);
	X509_NAME_free(e->subject);
	free(e->txid);
	free(e->content);
	free(e->signed_content);
	OPENSSL_free(e->msg);
	st_http_resp_clear(&e->resp);
	st_certrep_clear(&e->rep);
}

/* Prints "http=" and, when it is not 200, the body's first line. */
static void
st_enroll_print_http(const struct st_http_resp *r)
{
	size_t	i, n;

	printf("http=%ld\n", r->status);
	if (r->status == 200)
		return;
	n = r->body != NULL ? strcspn((const char *)r->body, "\r\n") : 0;
	if (n > ST_MAX_ERROR_LINE)
		n = ST_MAX_ERROR_LINE;
	fputs("error=", stdout);
	for (i = 0; i < n; i++)
		putchar(r->body[i] < 0x20 || r->body[i] == 0x7f ? '?' :
		    r->body[i]);
	putchar('\n');
	if (r->retry_after > 0)
		printf("retry_after=%ld\n", r->retry_after);
}

static int
st_cmd_enroll(const struct st_opts *o)
{
	struct st_enroll		 e;
	struct st_certrep_expect	 ex;
	size_t				 len;
	int				 rc = ST_EXIT_ERROR;

	memset(&e, 0, sizeof(e));
	memset(&ex, 0, sizeof(ex));
	e.rep.failinfo = -1;
	/* The answer is only believed if a GetCACert certificate signed it. */
	if (st_cacert_fetch(o->url, &e.cacerts) == -1)
		goto out;
	if (o->send_file != NULL) {
		if (st_file_read(o->send_file, &e.msg, &len) == -1)
			goto out;
		e.msg_len = len;
		/* Without our key the SUCCESS envelope stays closed. */
		if (o->signer_cert != NULL && st_enroll_signer(o, &e) == -1)
			goto out;
	} else if (st_enroll_build(o, &e) == -1)
		goto out;
	if (o->save_request != NULL &&
	    st_file_write(o->save_request, e.msg, e.msg_len) == -1)
		goto out;
	if (st_enroll_send(o, &e) == -1)
		goto out;
	if (o->save_response != NULL &&
	    st_file_write(o->save_response, e.resp.body, e.resp.len) == -1)
		goto out;
	st_enroll_print_http(&e.resp);
	fflush(stdout);
	if (e.resp.status != 200)
		goto out;
	if (!st_http_ctype_is(&e.resp, "application/x-pki-message")) {
		st_warnx("PKIOperation: Content-Type \"%s\", not "
		    "application/x-pki-message", e.resp.ctype);
		goto out;
	}

	ex.signers = e.cacerts;
	ex.msgtype = o->msgtype;
	ex.decrypt_key = e.signer_key;
	/*
	 * A file sent as it is may have been signed by another certificate
	 * for the same key: then only the key has to match the envelope.
	 */
	ex.decrypt_cert = o->send_file == NULL ? e.signer_cert : NULL;
	if (o->send_file == NULL) {
		ex.txid = o->omit_txid ? NULL : e.txid;
		ex.nonce = o->omit_nonce ? NULL : e.nonce;
		ex.nonce_len = o->nonce_len;
		/* GetCert and GetCRL ask for someone else's certificate. */
		if (o->msgtype != ST_MSG_GETCERT && o->msgtype != ST_MSG_GETCRL)
			ex.request_key = X509_REQ_get0_pubkey(e.csr);
	}
	if (st_certrep_parse(e.resp.body, e.resp.len, &ex, &e.rep) == -1)
		goto out;
	if (o->out != NULL && e.rep.cert != NULL &&
	    st_pem_write_cert(o->out, e.rep.cert) == -1)
		goto out;
	if (o->out != NULL && e.rep.crl != NULL &&
	    st_pem_write_crl(o->out, e.rep.crl) == -1)
		goto out;
	st_certrep_print(&e.rep);
	rc = e.rep.status == ST_STATUS_SUCCESS ? ST_EXIT_SUCCESS :
	    e.rep.status == ST_STATUS_FAILURE ? ST_EXIT_FAILURE :
	    ST_EXIT_PENDING;
 out:
	st_enroll_clear(&e);
	return rc;
}

/*
 * Enrollment I of --count has the subject DN-I, a random transactionID
 * (the key is the same every time) and its certificate in DIR/I.pem.
 * The caller judges each answer from its lines.
 */
static int
st_cmd_enroll_many(const struct st_opts *o)
{
	struct st_opts	 oi;
	unsigned char	 rnd[16];
	char		 subject[ST_MAX_SUBJECT], out[PATH_MAX], *txid;
	long		 i;
	int		 rc;

	for (i = 1; i <= o->count; i++) {
		oi = *o;
		if ((size_t)snprintf(subject, sizeof(subject), "%s-%ld",
		    o->subject, i) >= sizeof(subject)) {
			st_warnx("--subject is too long");
			return ST_EXIT_ERROR;
		}
		oi.subject = subject;
		if (o->out_dir != NULL) {
			if ((size_t)snprintf(out, sizeof(out), "%s/%ld.pem",
			    o->out_dir, i) >= sizeof(out)) {
				st_warnx("--out-dir is too long");
				return ST_EXIT_ERROR;
			}
			oi.out = out;
		}
		if (RAND_bytes(rnd, sizeof(rnd)) != 1 ||
		    (txid = st_hex(rnd, sizeof(rnd))) == NULL) {
			st_warn_ssl("%s: a transactionID", __func__);
			return ST_EXIT_ERROR;
		}
		oi.txid = txid;
		printf("n=%ld\n", i);
		fflush(stdout);
		rc = st_cmd_enroll(&oi);
		printf("exit=%d\n", rc);
		fflush(stdout);
		free(txid);
		ERR_clear_error();
	}
	return ST_EXIT_SUCCESS;
}

int
main(int argc, char *argv[])
{
	struct st_opts	 o;
	int		 curl_up = 0, rc = ST_EXIT_ERROR;

	if (st_opts_parse(argc, argv, &o) == -1)
		goto out;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		st_warnx("curl_global_init failed");
		goto out;
	}
	curl_up = 1;
	if (st_pkimsg_init() == -1)
		goto out;
	if (strcmp(o.command, "caps") == 0)
		rc = st_cmd_caps(&o) == 0 ? ST_EXIT_SUCCESS : ST_EXIT_ERROR;
	else if (strcmp(o.command, "getca") == 0)
		rc = st_cmd_getca(&o) == 0 ? ST_EXIT_SUCCESS : ST_EXIT_ERROR;
	else if (strcmp(o.command, "enroll") == 0)
		rc = o.count > 1 || o.out_dir != NULL ?
		    st_cmd_enroll_many(&o) : st_cmd_enroll(&o);
	else {
		st_warnx("unknown command %s (caps, getca or enroll)",
		    o.command);
		st_usage(stderr);
	}
 out:
	if (curl_up)
		curl_global_cleanup();
	st_legacy_unload();
	ERR_clear_error();
	return rc;
}
