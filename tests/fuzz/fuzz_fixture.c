/*
 * The SCEP service below the HSM, for the structure-aware targets.
 *
 * service_new() itself sets it up, as scepd does (struct
 * service_policy is private to src/service.c, so the service cannot be
 * assembled field by field), from files in this process's working
 * directory: the scepd.conf and the policy below, CA and RA
 * certificates made at start-up for the fixed keys, an hmac.key and
 * the SQLite database.  The software signer of fuzz_signer.c holds the
 * keys.  No challenge here costs scrypt time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "certbuild.h"
#include "files.h"
#include "fuzz.h"
#include "log.h"
#include "service.h"
#include "store.h"

#define FUZZ_FIXTURE_RESET	4096	/* inputs between fresh databases */
#define FUZZ_FIXTURE_YEARS	20
#define FUZZ_FIXTURE_TXID	"fuzz-fixture-renewed"

const char fuzz_fixture_policy[] =
    "# The policy of the fuzzed service: every kind of condition and\n"
    "# action, no static (scrypt) challenge.\n"
    "pending_expiry = \"1h\";\n"
    "challenges = {\n"
    "  derived = { kind = \"hmac\"; secret_file = \"hmac.key\"; };\n"
    "  tokens = { kind = \"otp\"; };\n"
    "};\n"
    "profiles = {\n"
    "  default = { validity_days = 365; };\n"
    "  device = {\n"
    "    validity_days = 30;\n"
    "    key_usage = [ \"digitalSignature\", \"keyEncipherment\" ];\n"
    "    extended_key_usage = [ \"clientAuth\", \"serverAuth\", "
    "\"1.3.6.1.5.5.7.3.9\" ];\n"
    "    san_types = [ \"dns\", \"ip\" ];\n"
    "    subject_suffix = \"O=scepd fuzz,C=DE\";\n"
    "  };\n"
    "  bare = { key_usage = []; extended_key_usage = []; "
    "san_types = [ \"email\", \"uri\" ]; };\n"
    "};\n"
    "rules = (\n"
    "  { name = \"renewal\"; request = \"renewal\"; challenge = \"none\";\n"
    "    action = \"issue\"; max_active = 2; },\n"
    "  { name = \"refused\"; subject = \"(^|,)OU=refused(,|$)\";\n"
    "    challenge = \"none\"; action = \"reject\"; reason = \"refused\"; },\n"
    "  { name = \"routers\"; subject = \"^CN=rtr-[0-9]+(,|$)\";\n"
    "    san_dns = [ \"*.net.example.com\", \"rtr-?.example.org\" ];\n"
    "    san_ip = [ \"10.0.0.0/8\", \"2001:db8::/32\" ];\n"
    "    key_types = [ \"rsa\", \"ec\" ]; min_rsa_bits = 2048;\n"
    "    min_ec_bits = 256; client = [ \"192.0.2.0/24\", \"::1\" ];\n"
    "    challenge = \"none\"; action = \"issue\"; profile = \"device\";\n"
    "    max_active = 1; },\n"
    "  { name = \"otp\"; subject = \"^CN=otp\"; challenge = \"tokens\";\n"
    "    action = \"issue\"; profile = \"bare\"; },\n"
    "  { name = \"hold\"; subject = \"^CN=hold\"; challenge = \"none\";\n"
    "    action = \"pending\"; },\n"
    "  { name = \"open\"; client = [ \"192.0.2.0/24\" ];\n"
    "    request = \"initial\"; challenge = \"none\"; action = \"issue\"; },\n"
    "  { name = \"hmac\"; request = \"initial\"; challenge = \"derived\";\n"
    "    action = \"issue\"; }\n"
    ");\n";

/*
 * scepd.conf of the fuzzed service, read by config_load() so that every
 * setting not named here has scepd's default.  Single DES is on: its
 * provider and the 3DES answers are code to run too.  The failure
 * limits per client address would turn most inputs into HTTP 429
 * before any parsing, so they are lifted (the second version is for a
 * tree whose scepd.conf has no limits group).
 */
static const char fuzz_fixture_conf[] =
    "database = { path = \"scepd.db\"; };\n"
    "hsm = {\n"
    "  module = \"/nonexistent/fuzz_signer.c\"; token = \"fuzz\";\n"
    "  pin_env = \"SCEPD_FUZZ_PIN\"; lock_file = \"hsm.lock\";\n"
    "  ca_key = \"pkcs11:object=scepd-ca\";\n"
    "  ra_key = \"pkcs11:object=scepd-ra\";\n"
    "};\n"
    "ca = { certificate = \"ca.pem\"; ra_certificate = \"ra.pem\"; };\n"
    "policy = { file = \"policy.conf\"; };\n"
    "algorithms = { legacy_des = true; };\n";
static const char fuzz_fixture_conf_limits[] =
    "limits = { client_failures = 1000000; failure_window = 1; };\n";

static struct fuzz_fixture	*fuzz_fixture;

/* A certificate for key, signed by issuer_key (self-signed if NULL). */
static X509 *
fuzz_fixture_cert(EVP_PKEY *key, const char *dn, X509 *issuer,
    EVP_PKEY *issuer_key, long serial, const char *ku, long days)
{
	X509_NAME	*name = NULL;
	ASN1_INTEGER	*sn = NULL;
	X509		*x = NULL;
	time_t		 now = time(NULL);

	if ((name = certbuild_name_parse(dn)) == NULL ||
	    (sn = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set(sn, serial) != 1 ||
	    (x = certbuild_new(name, issuer ? X509_get_subject_name(issuer) :
	    name, key, sn, now - 3600, now + days * 86400)) == NULL)
		goto fail;
	if (certbuild_add_ext(x, issuer ? issuer : x, NID_basic_constraints,
	    issuer ? "critical,CA:FALSE" : "critical,CA:TRUE") == -1 ||
	    certbuild_add_ext(x, issuer ? issuer : x, NID_key_usage,
	    ku) == -1 ||
	    certbuild_add_ext(x, issuer ? issuer : x,
	    NID_subject_key_identifier, "hash") == -1 ||
	    X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) <= 0)
		goto fail;
	X509_NAME_free(name);
	ASN1_INTEGER_free(sn);
	return x;
 fail:
	log_ssl("%s: %s", __func__, dn);
	X509_NAME_free(name);
	ASN1_INTEGER_free(sn);
	X509_free(x);
	return NULL;
}

/* The renewal certificate, as if issued here before. */
static int
fuzz_fixture_record(struct fuzz_fixture *fx)
{
	struct store		*st = fx->svc->store;
	struct store_txn	 t;
	struct store_row	 row;
	struct store_cert	 sc;
	struct store_event	 ev;
	enum store_begin	 found;
	char			*subject = NULL, *serial = NULL;
	unsigned char		*der = NULL;
	int			 n, rc = -1;

	memset(&t, 0, sizeof(t));
	memset(&row, 0, sizeof(row));
	memset(&sc, 0, sizeof(sc));
	memset(&ev, 0, sizeof(ev));
	if ((subject = certbuild_name_text_new(X509_get_subject_name(
	    fx->renew_cert))) == NULL ||
	    (serial = certbuild_serial_hex_new(X509_get0_serialNumber(
	    fx->renew_cert))) == NULL ||
	    (n = i2d_X509(fx->renew_cert, &der)) <= 0)
		goto out;
	t.txid = FUZZ_FIXTURE_TXID;
	t.kind = "enroll";
	t.pubkey_sha256 = "fixture";
	t.subject = subject;
	t.client = "127.0.0.1";
	if (store_txn_begin(st, &t, &found, &row) == -1 ||
	    found != STORE_BEGIN_NEW ||
	    store_serial_reserve(st, serial, t.txid, NULL, NULL) != 0)
		goto out;
	sc.serial = serial;
	sc.subject = subject;
	sc.not_before = certbuild_time(X509_get0_notBefore(fx->renew_cert));
	sc.not_after = certbuild_time(X509_get0_notAfter(fx->renew_cert));
	sc.der = der;
	sc.der_len = (size_t)n;
	ev.txid = t.txid;
	ev.msgtype = "PKCSReq";
	ev.client = t.client;
	ev.outcome = "issued";
	ev.serial = serial;
	ev.rule = "fixture";
	rc = store_txn_finish(st, t.txid, t.kind, row.claim, STORE_TXN_ISSUED,
	    &sc, &ev);
 out:
	store_row_clear(&row);
	free(subject);
	free(serial);
	OPENSSL_free(der);
	return rc;
}

/* SCEPD_FUZZ_EXPORT=DIR: certificates, key and policy, for seeds. */
static void
fuzz_fixture_export(struct fuzz_fixture *fx)
{
	const char	*dir = getenv("SCEPD_FUZZ_EXPORT");
	char		 path[4096];
	FILE		*f;

	if (dir == NULL || *dir == '\0')
		return;
#define FUZZ_EXPORT(name, stmt) do {					\
	snprintf(path, sizeof(path), "%s/%s", dir, name);		\
	if ((f = fopen(path, "w")) == NULL || !(stmt))			\
		fuzz_util_die("cannot write %s", path);			\
	fclose(f);							\
} while (0)
	FUZZ_EXPORT("ca.pem", PEM_write_X509(f, fx->svc->ca_cert));
	FUZZ_EXPORT("ra.pem", PEM_write_X509(f, fx->svc->ra_cert));
	FUZZ_EXPORT("client.pem", PEM_write_X509(f, fx->client_cert));
	FUZZ_EXPORT("renew.pem", PEM_write_X509(f, fx->renew_cert));
	FUZZ_EXPORT("client.key", PEM_write_PrivateKey(f,
	    fuzz_keys_get0(FUZZ_KEY_CLIENT), NULL, NULL, 0, NULL, NULL));
	FUZZ_EXPORT("policy.conf", fputs(fuzz_fixture_policy, f) >= 0);
	FUZZ_EXPORT("scepd.conf", fputs(fuzz_fixture_conf, f) >= 0);
#undef FUZZ_EXPORT
}

static void
fuzz_fixture_free(void)
{
	struct fuzz_fixture	*fx = fuzz_fixture;

	if (fx == NULL)
		return;
	service_free(fx->svc);
	config_free(fx->cfg);
	X509_free(fx->client_cert);
	X509_free(fx->renew_cert);
	free(fx);
	fuzz_fixture = NULL;
	fuzz_keys_free();
}

static struct scepd_config *
fuzz_fixture_config(void)
{
	struct scepd_config	*cfg;
	char			*path = fuzz_util_path_new("scepd.conf");
	char			*text = NULL, err[1024];

	if (asprintf(&text, "%s%s", fuzz_fixture_conf,
	    fuzz_fixture_conf_limits) == -1)
		fuzz_util_die("out of memory");
	if (fuzz_util_write(path, text, strlen(text)) == -1)
		fuzz_util_die("cannot write %s", path);
	if ((cfg = config_load(path, err, sizeof(err))) == NULL) {
		if (fuzz_util_write(path, fuzz_fixture_conf,
		    strlen(fuzz_fixture_conf)) == -1)
			fuzz_util_die("cannot write %s", path);
		if ((cfg = config_load(path, err, sizeof(err))) == NULL)
			fuzz_util_die("the fixture's scepd.conf: %s", err);
	}
	free(text);
	free(path);
	return cfg;
}

static void
fuzz_fixture_files(struct fuzz_fixture *fx, X509 **ca, X509 **ra)
{
	char	*hmac = fuzz_util_path_new("hmac.key");

	*ca = fuzz_fixture_cert(fuzz_keys_get0(FUZZ_KEY_CA),
	    "CN=scepd fuzz CA,O=scepd fuzz", NULL, NULL, 1,
	    "critical,keyCertSign,cRLSign", FUZZ_FIXTURE_YEARS * 366);
	if (*ca == NULL)
		fuzz_util_die("CA certificate");
	*ra = fuzz_fixture_cert(fuzz_keys_get0(FUZZ_KEY_RA),
	    "CN=scepd fuzz RA,O=scepd fuzz", *ca, fuzz_keys_get0(FUZZ_KEY_CA),
	    2, "critical,digitalSignature,keyEncipherment",
	    FUZZ_FIXTURE_YEARS * 365);
	fx->client_cert = fuzz_fixture_cert(fuzz_keys_get0(FUZZ_KEY_CLIENT),
	    "CN=fuzz client", NULL, NULL, 7,
	    "digitalSignature,keyEncipherment", 1);
	fx->renew_cert = fuzz_fixture_cert(fuzz_keys_get0(FUZZ_KEY_CLIENT),
	    FUZZ_RENEW_SUBJECT, *ca, fuzz_keys_get0(FUZZ_KEY_CA), 3,
	    "digitalSignature,keyEncipherment", 30);
	if (*ra == NULL || fx->client_cert == NULL || fx->renew_cert == NULL)
		fuzz_util_die("certificates");
	if (files_write_cert(fx->cfg->ca_cert_file, *ca, 0644) == -1 ||
	    files_write_cert(fx->cfg->ra_cert_file, *ra, 0644) == -1 ||
	    fuzz_util_write(fx->cfg->policy_file, fuzz_fixture_policy,
	    strlen(fuzz_fixture_policy)) == -1 ||
	    fuzz_util_write(hmac, FUZZ_HMAC_SECRET "\n",
	    strlen(FUZZ_HMAC_SECRET) + 1) == -1)
		fuzz_util_die("writing the fixture's files");
	free(hmac);
}

struct fuzz_fixture *
fuzz_fixture_get(void)
{
	struct fuzz_fixture	*fx;
	X509			*ca = NULL, *ra = NULL;

	if (fuzz_fixture != NULL)
		return fuzz_fixture;
	if ((fx = calloc(1, sizeof(*fx))) == NULL)
		fuzz_util_die("out of memory");
	fx->cfg = fuzz_fixture_config();
	fuzz_fixture_files(fx, &ca, &ra);
	X509_free(ca);
	X509_free(ra);
	if ((fx->svc = service_new(fx->cfg)) == NULL)
		fuzz_util_die("service_new failed (see the log)");
	if (fuzz_fixture_record(fx) == -1)
		fuzz_util_die("recording the renewal certificate");
	fuzz_fixture = fx;
	atexit(fuzz_fixture_free);
	fuzz_fixture_export(fx);
	return fx;
}

void
fuzz_fixture_tick(struct fuzz_fixture *fx)
{
	char	path[4096];

	fuzz_signer_fail_session(0);
	if (++fx->runs % FUZZ_FIXTURE_RESET != 0)
		return;
	/* A database that grows for hours slows every input down. */
	store_close(fx->svc->store);
	fx->svc->store = NULL;
	unlink(fx->cfg->db_path);
	snprintf(path, sizeof(path), "%s-wal", fx->cfg->db_path);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", fx->cfg->db_path);
	unlink(path);
	if ((fx->svc->store = store_open(fx->cfg->db_path)) == NULL ||
	    fuzz_fixture_record(fx) == -1)
		fuzz_util_die("reopening the store");
}
