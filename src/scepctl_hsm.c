/*
 * scepctl hsm: the verified copy of the SoftHSM token files that scepd
 * restores from after a crash damaged them.
 *
 * Each command proves keys on exactly one token in its process: the
 * module is loaded once, and SoftHSM reads its configuration when it is.
 */
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "config.h"
#include "files.h"
#include "hsm_lock.h"
#include "log.h"
#include "scepctl.h"
#include "signer.h"
#include "softhsm.h"

static void
hsm_usage(FILE *f)
{
	fprintf(f,
"usage: scepctl hsm verify --config FILE\n"
"       scepctl hsm backup --config FILE\n"
"       scepctl hsm restore --config FILE\n"
"\n"
"For a SoftHSM token (hsm.softhsm_tokens and hsm.softhsm_backup):\n"
"verify proves that the backup holds the keys of the CA and RA\n"
"certificates (on a copy of it) and says whether the token files are\n"
"damaged; backup replaces the backup by a verified copy of the token\n"
"files, after proving their keys; restore replaces the token files by\n"
"the backup (the old ones are kept beside them) and proves the keys.\n"
"Each takes the token lock, so scepd may run; stop it before a restore\n"
"of a token that is not damaged.\n");
}

/*
 * Proves with the signer that the token files in tokens hold the keys
 * of the configured certificates.  With own_conf, SoftHSM is pointed
 * at tokens through a configuration of its own in work; otherwise the
 * configured environment is used as it is.  -1 (logged).
 */
static int
hsm_prove(const struct scepd_config *cfg, const char *work, int own_conf)
{
	struct hsm_config	 h = cfg->hsm;
	struct config_env	*env = NULL;
	struct signer		*sg = NULL;
	X509			*ca = NULL, *ra = NULL;
	char			*lock = NULL;
	size_t			 i;
	int			 rc = -1;

	/* No automatic restore while proving. */
	h.softhsm_tokens = h.softhsm_backup = NULL;
	if (own_conf) {
		if ((env = calloc(h.n_env + 1, sizeof(*env))) == NULL ||
		    asprintf(&lock, "%s/hsm.lock", work) == -1) {
			lock = NULL;
			log_error("%s: out of memory", __func__);
			goto out;
		}
		h.n_env = 0;
		for (i = 0; i < cfg->hsm.n_env; i++)
			if (strcmp(cfg->hsm.env[i].name, "SOFTHSM2_CONF") != 0)
				env[h.n_env++] = cfg->hsm.env[i];
		h.env = env;
		h.lock_file = lock;
	}
	if ((ca = files_read_cert(cfg->ca_cert_file)) == NULL ||
	    (ra = files_read_cert(cfg->ra_cert_file)) == NULL ||
	    (sg = signer_new(&h, ca, ra)) == NULL ||
	    signer_check_keys(sg) == -1)
		goto out;
	rc = 0;
 out:
	signer_free(sg);
	X509_free(ca);
	X509_free(ra);
	free(env);
	free(lock);
	return rc;
}

/* A temporary directory with a SoftHSM configuration for work/tokens. */
static char *
hsm_workdir_new(void)
{
	const char	*tmp = getenv("TMPDIR");
	char		*dir, *tokens = NULL;

	if (asprintf(&dir, "%s/scepctl-hsm.XXXXXX", tmp ? tmp : "/tmp") ==
	    -1)
		return NULL;
	if (mkdtemp(dir) == NULL) {
		log_error("mkdtemp: %s", strerror(errno));
		free(dir);
		return NULL;
	}
	/* softhsm_prepare makes an empty work/tokens: the copy goes there. */
	if (softhsm_prepare(dir) == -1 ||
	    asprintf(&tokens, "%s/%s", dir, SOFTHSM_TOKENS_NAME) == -1 ||
	    rmdir(tokens) == -1) {
		free(tokens);
		free(dir);
		return NULL;
	}
	free(tokens);
	return dir;
}

static int
hsm_remove_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes what hsm_workdir_new() made, and frees dir. */
static void
hsm_workdir_free(char *dir)
{
	if (dir == NULL)
		return;
	if (nftw(dir, hsm_remove_one, 16, FTW_DEPTH | FTW_PHYS) == -1)
		log_warnx("could not remove %s: %s", dir, strerror(errno));
	free(dir);
}

static int
hsm_verify(const struct scepd_config *cfg)
{
	char	*work = NULL, *copy = NULL;
	int	 damaged, rc = -1;

	if ((work = hsm_workdir_new()) == NULL ||
	    asprintf(&copy, "%s/%s", work, SOFTHSM_TOKENS_NAME) == -1) {
		copy = NULL;
		goto out;
	}
	if (softhsm_tokens_damaged(cfg->hsm.softhsm_backup, NULL) != 0) {
		log_error("the backup %s is damaged or unreadable",
		    cfg->hsm.softhsm_backup);
		goto out;
	}
	if (softhsm_copy(cfg->hsm.softhsm_backup, copy) == -1 ||
	    hsm_prove(cfg, work, 1) == -1) {
		log_error("the backup %s does not hold the keys of %s and %s",
		    cfg->hsm.softhsm_backup, cfg->ca_cert_file,
		    cfg->ra_cert_file);
		goto out;
	}
	printf("backup %s: holds the CA and RA keys\n",
	    cfg->hsm.softhsm_backup);
	damaged = softhsm_tokens_damaged(cfg->hsm.softhsm_tokens,
	    cfg->hsm.softhsm_backup);
	printf("token files %s: %s\n", cfg->hsm.softhsm_tokens,
	    damaged == 1 ? "DAMAGED (scepd restores them at its next use, "
	    "or run scepctl hsm restore)" : damaged == 0 ? "not damaged" :
	    "unreadable");
	rc = damaged == 0 ? 0 : -1;
 out:
	hsm_workdir_free(work);
	free(copy);
	return rc;
}

static int
hsm_backup(const struct scepd_config *cfg)
{
	struct hsm_lock	*lk = NULL;
	char		*work = NULL, *copy = NULL, *fresh = NULL, *old = NULL;
	int		 locked = 0, rc = -1;

	if ((work = hsm_workdir_new()) == NULL ||
	    asprintf(&copy, "%s/%s", work, SOFTHSM_TOKENS_NAME) == -1 ||
	    asprintf(&fresh, "%s.new-%ld", cfg->hsm.softhsm_backup,
	    (long)getpid()) == -1 ||
	    asprintf(&old, "%s.old-%lld", cfg->hsm.softhsm_backup,
	    (long long)time(NULL)) == -1) {
		copy = fresh = old = NULL;
		goto out;
	}
	/* A snapshot taken while no login rewrites the files. */
	if ((lk = hsm_lock_new(cfg->hsm.lock_file, HSM_LOCK_EXCLUSIVE)) == NULL ||
	    hsm_lock_acquire(lk, cfg->hsm.lock_timeout) == -1)
		goto out;
	locked = 1;
	if (softhsm_tokens_damaged(cfg->hsm.softhsm_tokens,
	    cfg->hsm.softhsm_backup) != 0) {
		log_error("the token files %s are damaged: restore them "
		    "instead", cfg->hsm.softhsm_tokens);
		goto out;
	}
	if (softhsm_copy(cfg->hsm.softhsm_tokens, copy) == -1 ||
	    softhsm_copy(cfg->hsm.softhsm_tokens, fresh) == -1)
		goto out;
	hsm_lock_release(lk);
	locked = 0;
	/* What becomes the backup is proved first, on a copy of it. */
	if (hsm_prove(cfg, work, 1) == -1) {
		log_error("the token files %s do not hold the keys of the "
		    "certificates: the backup is left as it was",
		    cfg->hsm.softhsm_tokens);
		goto out;
	}
	if (rename(cfg->hsm.softhsm_backup, old) == -1 && errno != ENOENT) {
		log_error("rename %s: %s", cfg->hsm.softhsm_backup,
		    strerror(errno));
		goto out;
	}
	if (rename(fresh, cfg->hsm.softhsm_backup) == -1) {
		log_error("rename %s: %s", fresh, strerror(errno));
		goto out;
	}
	printf("backup %s: replaced by a verified copy of %s (the previous "
	    "one is %s)\n", cfg->hsm.softhsm_backup, cfg->hsm.softhsm_tokens,
	    old);
	rc = 0;
 out:
	if (locked)
		hsm_lock_release(lk);
	hsm_lock_free(lk);
	hsm_workdir_free(work);
	free(copy);
	free(fresh);
	free(old);
	return rc;
}

static int
hsm_restore(const struct scepd_config *cfg)
{
	struct hsm_lock	*lk;
	int		 rc = -1;

	if ((lk = hsm_lock_new(cfg->hsm.lock_file, HSM_LOCK_EXCLUSIVE)) == NULL ||
	    hsm_lock_acquire(lk, cfg->hsm.lock_timeout) == -1) {
		hsm_lock_free(lk);
		return -1;
	}
	rc = softhsm_restore(cfg->hsm.softhsm_tokens, cfg->hsm.softhsm_backup);
	hsm_lock_release(lk);
	hsm_lock_free(lk);
	if (rc == -1)
		return -1;
	if (hsm_prove(cfg, NULL, 0) == -1) {
		log_error("the restored token does not hold the keys of the "
		    "certificates");
		return -1;
	}
	printf("token files %s: restored from %s; they hold the CA and RA "
	    "keys\n", cfg->hsm.softhsm_tokens, cfg->hsm.softhsm_backup);
	return 0;
}

int
scepctl_hsm(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char	*name;
		int		(*fn)(const struct scepd_config *);
	} subs[] = {
		{ "verify", hsm_verify },
		{ "backup", hsm_backup },
		{ "restore", hsm_restore },
	};
	struct scepd_config	*cfg;
	const char		*config = NULL, *sub = argc > 1 ? argv[1] : "";
	char			 err[512];
	size_t			 i;
	int			 ch, rc;

	optind = 2;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'h') {
			hsm_usage(stdout);
			return SCEPCTL_EXIT_OK;
		}
		if (ch != 'c') {
			hsm_usage(stderr);
			return SCEPCTL_EXIT_USAGE;
		}
		config = optarg;
	}
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(sub, subs[i].name) == 0)
			break;
	if (i == sizeof(subs) / sizeof(subs[0]) || config == NULL ||
	    optind != argc) {
		hsm_usage(stderr);
		return SCEPCTL_EXIT_USAGE;
	}
	if ((cfg = config_load(config, err, sizeof(err))) == NULL) {
		fprintf(stderr, "scepctl hsm: %s\n", err);
		return SCEPCTL_EXIT_FAIL;
	}
	if (cfg->hsm.softhsm_tokens == NULL) {
		fprintf(stderr, "scepctl hsm: %s sets no hsm.softhsm_tokens "
		    "and hsm.softhsm_backup: for another HSM, use its "
		    "vendor's backup\n", config);
		config_free(cfg);
		return SCEPCTL_EXIT_FAIL;
	}
	rc = subs[i].fn(cfg) == 0 ? SCEPCTL_EXIT_OK : SCEPCTL_EXIT_FAIL;
	config_free(cfg);
	return rc;
}
