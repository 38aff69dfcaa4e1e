/*
 * scepctl init: a complete scepd installation in a new directory.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "challenge.h"
#include "encode.h"
#include "files.h"
#include "keyref.h"
#include "log.h"
#include "provision.h"
#include "scepctl.h"
#include "softhsm.h"
#include "store.h"

#define INIT_SECRET_BYTES	16
#define INIT_CA_DAYS		3650
#define INIT_RA_DAYS		1825
#define INIT_TOKEN_LABEL	"scepd"
#define INIT_PIN_MAX		256

struct init_opts {
	const char	*dir;
	const char	*challenge;
	const char	*ca_subject;
	const char	*ra_subject;
	const char	*ca_key;
	const char	*ra_key;
	const char	*module;	/* NULL: a new SoftHSM2 token */
	const char	*token;
	const char	*pin_file;	/* existing token: its user PIN */
	const char	*lock_file;	/* NULL: DIR/hsm.lock */
	int		 strict;
};

static void
init_usage(FILE *f)
{
	fprintf(f,
"usage: scepctl init --dir DIR [options]\n"
"\n"
"Provisions a CA for scepd under DIR (which must not exist or be empty):\n"
"a SoftHSM2 token, CA and RA key pairs generated inside it, a self-signed\n"
"CA certificate and an RA certificate signed through PKCS#11, the PIN,\n"
"scepd.conf and an empty database.  Prints the CA fingerprint and the\n"
"challenge password.\n"
"\n"
"  --dir DIR            where everything goes\n"
"  --challenge SECRET   challenge password (default: a random one)\n"
"  --ca-subject DN      CA subject, \"/O=y/CN=x\" (default /CN=scepd CA)\n"
"  --ra-subject DN      RA subject (default /CN=scepd RA)\n"
"  --ca-key SPEC        rsa:3072 (default), rsa:2048, rsa:4096, ec:p256,\n"
"                       ec:p384\n"
"  --ra-key SPEC        rsa:2048 (default), rsa:3072, rsa:4096\n"
"  --strict             refuse single-DES requests (Debian's scepclient\n"
"                       sends them; see README)\n"
"  --module PATH        use an existing, initialised token of this PKCS#11\n"
"                       module instead of a new SoftHSM2 token; needs\n"
"  --token LABEL        its label, and\n"
"  --pin-file FILE      a file holding its user PIN\n"
"  --lock-file FILE     the token lock a running scepd of this token\n"
"                       uses (default DIR/hsm.lock); held while\n"
"                       provisioning\n"
"  -h, --help           this text\n");
}

static int
init_parse(int argc, char *argv[], struct init_opts *o)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "challenge", required_argument, NULL, 'c' },
		{ "ca-subject", required_argument, NULL, 's' },
		{ "ra-subject", required_argument, NULL, 'r' },
		{ "ca-key", required_argument, NULL, 'k' },
		{ "ra-key", required_argument, NULL, 'K' },
		{ "strict", no_argument, NULL, 'S' },
		{ "module", required_argument, NULL, 'm' },
		{ "token", required_argument, NULL, 't' },
		{ "pin-file", required_argument, NULL, 'p' },
		{ "lock-file", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int	ch;

	memset(o, 0, sizeof(*o));
	o->ca_subject = "/CN=scepd CA";
	o->ra_subject = "/CN=scepd RA";
	o->ca_key = "rsa:3072";
	o->ra_key = "rsa:2048";
	o->token = INIT_TOKEN_LABEL;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': o->dir = optarg; break;
		case 'c': o->challenge = optarg; break;
		case 's': o->ca_subject = optarg; break;
		case 'r': o->ra_subject = optarg; break;
		case 'k': o->ca_key = optarg; break;
		case 'K': o->ra_key = optarg; break;
		case 'S': o->strict = 1; break;
		case 'm': o->module = optarg; break;
		case 't': o->token = optarg; break;
		case 'p': o->pin_file = optarg; break;
		case 'l': o->lock_file = optarg; break;
		case 'h':
			init_usage(stdout);
			exit(SCEPCTL_EXIT_OK);
		default:
			init_usage(stderr);
			return -1;
		}
	}
	if (optind != argc || o->dir == NULL) {
		fprintf(stderr, "scepctl init: --dir is required\n");
		return -1;
	}
	if (provision_check_keyspec(o->ca_key, 0) == -1 ||
	    provision_check_keyspec(o->ra_key, 1) == -1) {
		fprintf(stderr, "scepctl init: unsupported --ca-key or "
		    "--ra-key\n");
		return -1;
	}
	if ((o->module != NULL) != (o->pin_file != NULL)) {
		fprintf(stderr, "scepctl init: --module and --pin-file go "
		    "together\n");
		return -1;
	}
	if (o->challenge != NULL && (*o->challenge == '\0' ||
	    strlen(o->challenge) > CHALLENGE_MAX_LEN)) {
		fprintf(stderr, "scepctl init: the challenge must be 1 to %d "
		    "characters\n", CHALLENGE_MAX_LEN);
		return -1;
	}
	return 0;
}

/* Creates dir (and missing parents); an existing dir must be empty. */
static int
init_make_dir(const char *dir)
{
	char		 path[PATH_MAX];
	char		*p;
	DIR		*d;
	struct dirent	*de;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0) {
				closedir(d);
				log_error("%s exists and is not empty; "
				    "refusing to overwrite it", dir);
				return -1;
			}
		closedir(d);
		return chmod(dir, 0700);
	}
	if (errno != ENOENT) {
		log_error("%s: %s", dir, strerror(errno));
		return -1;
	}
	if (strlen(dir) >= sizeof(path))
		return -1;
	strcpy(path, dir);
	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST) {
			log_error("%s: %s", path, strerror(errno));
			return -1;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) == -1) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static char *
init_random_secret(void)
{
	unsigned char	raw[INIT_SECRET_BYTES];
	char		*hex = NULL;

	if (RAND_bytes(raw, sizeof(raw)) == 1)
		hex = encode_hex_new(raw, sizeof(raw));
	OPENSSL_cleanse(raw, sizeof(raw));
	return hex;
}

static char *
init_path(const char *dir, const char *name)
{
	char	*p;

	if (asprintf(&p, "%s/%s", dir, name) == -1)
		return NULL;
	return p;
}

/* The starting policy: a shared challenge, issue; renewals issue. */
static int
init_write_policy(const char *dir, const char *challenge_hash)
{
	char	*text = NULL, *path = NULL;
	int	 n, rc = -1;

	n = asprintf(&text,
"# scepd policy, written by scepctl init.  Rules are tried in order;\n"
"# the first that matches decides.  See policy/README.md for every\n"
"# setting, and \"scepctl policy check\" before \"kill -HUP\".\n"
"\n"
"pending_expiry = \"7d\";   # held requests expire unless decided\n"
"\n"
"challenges = {\n"
"  # Salted scrypt hash of the challenge password; make a new one with\n"
"  # \"scepctl challenge hash\".\n"
"  shared = { kind = \"static\"; hash = \"%s\"; };\n"
"};\n"
"\n"
"profiles = {\n"
"  default = {\n"
"    validity_days = 365;\n"
"    key_usage = [ \"digitalSignature\", \"keyEncipherment\" ];\n"
"    extended_key_usage = [ \"clientAuth\" ];\n"
"    san_types = [ \"dns\", \"ip\", \"email\", \"uri\" ];\n"
"  };\n"
"};\n"
"\n"
"rules = (\n"
"  {\n"
"    # Signed with a valid certificate of this CA, same subject.\n"
"    name = \"renewal\";\n"
"    request = \"renewal\";\n"
"    challenge = \"none\";\n"
"    action = \"issue\";\n"
"    profile = \"default\";\n"
"  },\n"
"  {\n"
"    name = \"enroll-with-challenge\";\n"
"    request = \"initial\";\n"
"    challenge = \"shared\";\n"
"    action = \"issue\";\n"
"    profile = \"default\";\n"
"  }\n"
");\n", challenge_hash);
	if (n == -1) {
		text = NULL;
		goto out;
	}
	if ((path = init_path(dir, "policy.conf")) == NULL ||
	    files_write_new(path, text, (size_t)n, 0600) == -1)
		goto out;
	rc = 0;
 out:
	free(text);
	free(path);
	return rc;
}

static int
init_write_config(const struct init_opts *o, const char *dir,
    const char *module, const struct provision_result *res)
{
	char	*ca_uri = NULL, *ra_uri = NULL, *text = NULL, *path = NULL;
	char	 env[PATH_MAX + 512] = "";
	int	 n, rc = -1;

	if ((ca_uri = keyref_uri_new(PROVISION_CA_LABEL, res->ca_id,
	    sizeof(res->ca_id))) == NULL ||
	    (ra_uri = keyref_uri_new(PROVISION_RA_LABEL, res->ra_id,
	    sizeof(res->ra_id))) == NULL)
		goto out;
	if (o->module == NULL)
		snprintf(env, sizeof(env),
		    "  # A crash during a SoftHSM login can empty the token\n"
		    "  # files: scepd then restores them from this verified\n"
		    "  # copy (scepctl hsm verify checks it).\n"
		    "  softhsm_tokens = \"%s\";\n"
		    "  softhsm_backup = \"%s\";\n"
		    "  # SoftHSM reads its settings when the module loads.\n"
		    "  environment = {\n"
		    "    SOFTHSM2_CONF = \"%s/%s\";\n"
		    "  };\n", SOFTHSM_TOKENS_NAME, SOFTHSM_BACKUP_NAME, dir,
		    SOFTHSM_CONF_NAME);
	n = asprintf(&text,
"# scepd configuration, written by scepctl init.\n"
"# Relative paths are relative to this file's directory.\n"
"\n"
"server = {\n"
"  listen = \"127.0.0.1:8080\";\n"
"  workers = 4;\n"
"  max_body = 65536;   # bytes; a larger PKIOperation gets HTTP 413\n"
"};\n"
"\n"
"database = {\n"
"  path = \"scepd.db\";\n"
"};\n"
"\n"
"hsm = {\n"
"  module = \"%s\";\n"
"  token = \"%s\";\n"
"  pin_file = \"%s\";\n"
"  # RFC 7512 PKCS#11 URIs: object= is CKA_LABEL, id= is CKA_ID.\n"
"  ca_key = \"%s\";\n"
"  ra_key = \"%s\";\n"
"  # Serialises every use of the token, across processes.\n"
"  lock_file = \"%s\";\n"
"  lock_timeout = 30;   # seconds a request waits for the token\n"
"  # After the token refuses the PIN it is tried again when the PIN\n"
"  # file changes, on SIGHUP, and after this many seconds (0: never by\n"
"  # itself; every wrong try counts towards the token's lock-out).\n"
"  pin_retry_interval = 300;\n"
"%s"
"};\n"
"\n"
"ca = {\n"
"  certificate = \"ca.pem\";\n"
"  ra_certificate = \"ra.pem\";\n"
"};\n"
"\n"
"policy = {\n"
"  # Who gets which certificate: see policy.conf.  SIGHUP reloads it.\n"
"  file = \"policy.conf\";\n"
"  # One JSON line per decision (also on stderr).\n"
"  audit_log = \"audit.log\";\n"
"};\n"
"\n"
"algorithms = {\n"
"  # Content encryption accepted in requests, and signature digests.\n"
"  ciphers = [ \"aes-256-cbc\", \"aes-192-cbc\", \"aes-128-cbc\",\n"
"              \"des-ede3-cbc\" ];\n"
"  digests = [ \"sha512\", \"sha256\", \"sha1\" ];\n"
"  # Single DES (56-bit keys) is broken, but Debian's scepclient 2.1.0\n"
"  # and other Go clients encrypt requests with it whatever GetCACaps\n"
"  # says.  The envelope only protects the CSR and challenge in\n"
"  # transit; responses are never encrypted with single DES.  Set to\n"
"  # false (or init with --strict) once no such client is left.\n"
"  legacy_des = %s;\n"
"};\n",
	    module, o->token, o->module ? o->pin_file : "pin", ca_uri, ra_uri,
	    o->lock_file ? o->lock_file : "hsm.lock", env,
	    o->strict ? "false" : "true");
	if (n == -1) {
		text = NULL;
		goto out;
	}
	if ((path = init_path(dir, "scepd.conf")) == NULL ||
	    files_write_new(path, text, (size_t)n, 0600) == -1)
		goto out;
	rc = 0;
 out:
	free(ca_uri);
	free(ra_uri);
	free(text);
	free(path);
	return rc;
}

static int
init_write_files(const char *dir, const struct provision_result *res)
{
	char	*ca = NULL, *ra = NULL, *db = NULL;
	struct store *st = NULL;
	int	 rc = -1;

	if ((ca = init_path(dir, "ca.pem")) == NULL ||
	    (ra = init_path(dir, "ra.pem")) == NULL ||
	    (db = init_path(dir, "scepd.db")) == NULL)
		goto out;
	if (files_write_cert(ca, res->ca_cert, 0644) == -1 ||
	    files_write_cert(ra, res->ra_cert, 0644) == -1 ||
	    (st = store_open(db)) == NULL)
		goto out;
	rc = 0;
 out:
	store_close(st);
	free(ca);
	free(ra);
	free(db);
	return rc;
}

static void
init_print(const char *dir, const struct provision_result *res,
    const char *challenge, int generated)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	len, i;

	printf("scepd CA provisioned in %s\n", dir);
	if (X509_digest(res->ca_cert, EVP_sha256(), md, &len) == 1) {
		printf("CA certificate SHA-256 fingerprint: ");
		for (i = 0; i < len; i++)
			printf("%02X%s", md[i], i + 1 < len ? ":" : "\n");
	}
	printf("challenge password: %s\n", challenge);
	if (generated)
		printf("(generated; only its hash is stored: keep it now)\n");
	printf("start the server with: scepd --config %s/scepd.conf\n", dir);
}

/* Pins and token: a new SoftHSM2 token, or an existing one. */
static int
init_token(const struct init_opts *o, const char *dir,
    struct provision_result *res)
{
	struct provision_params	 pp;
	char			*pin = NULL, *so_pin = NULL;
	char			*pin_path = NULL, *so_path = NULL;
	char			*lock_path = NULL;
	int			 rc = -1;

	memset(&pp, 0, sizeof(pp));
	if (o->module != NULL) {
		if ((pin = files_read_secret_new(o->pin_file,
		    INIT_PIN_MAX)) == NULL)
			goto out;
		pp.module = o->module;
	} else {
		if ((pin = init_random_secret()) == NULL ||
		    (so_pin = init_random_secret()) == NULL ||
		    (pin_path = init_path(dir, "pin")) == NULL ||
		    (so_path = init_path(dir, "so-pin")) == NULL ||
		    files_write_new(pin_path, pin, strlen(pin), 0600) == -1 ||
		    files_write_new(so_path, so_pin, strlen(so_pin),
		    0600) == -1 ||
		    softhsm_prepare(dir) == -1)
			goto out;
		pp.module = SOFTHSM_MODULE;
		pp.so_pin = so_pin;
	}
	pp.token_label = o->token;
	pp.user_pin = pin;
	pp.ca_subject = o->ca_subject;
	pp.ra_subject = o->ra_subject;
	pp.ca_key = o->ca_key;
	pp.ra_key = o->ra_key;
	pp.ca_days = INIT_CA_DAYS;
	pp.ra_days = INIT_RA_DAYS;
	if (o->lock_file == NULL && (lock_path = init_path(dir,
	    "hsm.lock")) == NULL)
		goto out;
	pp.lock_file = o->lock_file ? o->lock_file : lock_path;
	if (provision_token(&pp, res) == -1)
		goto out;
	if (o->module == NULL && softhsm_backup(dir) == -1)
		goto out;
	rc = 0;
 out:
	if (pin != NULL)
		OPENSSL_clear_free(pin, strlen(pin));
	if (so_pin != NULL)
		OPENSSL_clear_free(so_pin, strlen(so_pin));
	free(pin_path);
	free(so_path);
	free(lock_path);
	return rc;
}

int
scepctl_init(int argc, char *argv[])
{
	struct init_opts	 o;
	struct provision_result	 res;
	char			 dir[PATH_MAX], pin_file[PATH_MAX];
	char			*challenge = NULL, *hash = NULL;
	int			 rc = SCEPCTL_EXIT_FAIL;

	memset(&res, 0, sizeof(res));
	if (init_parse(argc, argv, &o) == -1)
		return SCEPCTL_EXIT_USAGE;
	if (o.pin_file != NULL) {
		if (realpath(o.pin_file, pin_file) == NULL) {
			log_error("%s: %s", o.pin_file, strerror(errno));
			return SCEPCTL_EXIT_FAIL;
		}
		o.pin_file = pin_file;	/* scepd.conf needs it absolute */
	}
	if (init_make_dir(o.dir) == -1 || realpath(o.dir, dir) == NULL)
		return SCEPCTL_EXIT_FAIL;
	challenge = o.challenge ? strdup(o.challenge) : init_random_secret();
	if (challenge == NULL ||
	    (hash = challenge_hash_new(challenge, strlen(challenge))) == NULL)
		goto out;
	if (init_token(&o, dir, &res) == -1 ||
	    init_write_files(dir, &res) == -1 ||
	    init_write_policy(dir, hash) == -1 ||
	    init_write_config(&o, dir, o.module ? o.module : SOFTHSM_MODULE,
	    &res) == -1)
		goto out;
	init_print(dir, &res, challenge, o.challenge == NULL);
	rc = SCEPCTL_EXIT_OK;
 out:
	if (rc != SCEPCTL_EXIT_OK)
		log_error("provisioning failed; remove %s before trying again",
		    dir);
	if (challenge != NULL)
		OPENSSL_clear_free(challenge, strlen(challenge));
	free(hash);
	provision_result_clear(&res);
	return rc;
}
