/*
 * scepd.conf: the one configuration file that scepd and scepctl read.
 * libconfig syntax; every relative path is taken relative to the
 * directory of the file itself.
 */
#ifndef SCEPD_CONFIG_H
#define SCEPD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "keyref.h"

#define CONFIG_DEFAULT_LISTEN		"127.0.0.1:8080"
#define CONFIG_DEFAULT_WORKERS		4
#define CONFIG_DEFAULT_MAX_BODY		65536
#define CONFIG_DEFAULT_QUEUE_LENGTH	64
#define CONFIG_DEFAULT_MAX_HEADER	32768
#define CONFIG_DEFAULT_MAX_CONNECTIONS	512
#define CONFIG_DEFAULT_MAX_PER_CLIENT	32
#define CONFIG_DEFAULT_REQUEST_TIMEOUT	30
#define CONFIG_DEFAULT_IDLE_TIMEOUT	10
#define CONFIG_DEFAULT_LOCK_TIMEOUT	30
/* A refused PIN is tried again after this long (README, "PIN refusals"). */
#define CONFIG_DEFAULT_CALL_TIMEOUT	20
#define CONFIG_DEFAULT_PIN_RETRY	300
#define HSM_MAX_KEY_PROCESSES		16
#define CONFIG_DEFAULT_CHALLENGE_HASHES	2
#define CONFIG_DEFAULT_CLIENT_FAILURES	30
#define CONFIG_DEFAULT_FAILURE_WINDOW	60
#define CONFIG_DEFAULT_MALFORMED_EVENTS	20

struct config_env {
	char	*name;
	char	*value;
};

struct hsm_config {
	char			*module;	/* PKCS#11 module path */
	char			*token_label;
	char			*pin_file;	/* PIN from a file ... */
	char			*pin_env;	/* ... or an environment variable */
	struct keyref		 ca_key;
	struct keyref		 ra_key;
	char			*lock_file;	/* serialises all token work */
	int			 lock_timeout;	/* seconds */
	int			 pin_retry_interval; /* seconds, 0: never */
	int			 call_timeout;	/* seconds per key operation */
	int			 key_processes;	/* each logged in on its own */
	char			*softhsm_tokens;	/* SoftHSM token files */
	char			*softhsm_backup;	/* ... and their copy */
	struct config_env	*env;		/* set before the module loads */
	size_t			 n_env;
};

/* What unauthenticated clients may cost (see README, "Limits"). */
struct limits_config {
	int	challenge_hashes;	/* scrypt computations at once */
	int	client_failures;	/* per address and window, then 429 */
	int	failure_window;		/* seconds */
	int	malformed_events;	/* recorded per address and window */
};

struct scepd_config {
	char		*path;
	char		*listen;		/* "ADDR:PORT" */
	int		 workers;		/* PKIOperation threads */
	int		 queue_length;		/* PKIOperations waiting */
	size_t		 max_body;
	size_t		 max_header;		/* request line + headers */
	int		 max_connections;
	int		 max_connections_per_client;
	int		 request_timeout;	/* seconds, whole request */
	int		 idle_timeout;		/* seconds without a byte */
	char		*user;			/* run as, when started as root */
	char		*db_path;
	struct hsm_config hsm;
	struct limits_config limits;
	char		*ca_cert_file;
	char		*ra_cert_file;
	char		*policy_file;
	char		*audit_log;		/* NULL: stderr only */
	unsigned	 ciphers;		/* enum alg_cipher bits */
	unsigned	 digests;		/* enum alg_digest bits */
};

/*
 * Reads and validates path.  On failure returns NULL after writing
 * "file:line: reason" to err.
 */
struct scepd_config	*config_load(const char *path, char *err,
			    size_t errlen);
void			 config_free(struct scepd_config *cfg);

/*
 * Splits "ADDR:PORT" or "[ADDR]:PORT" (numeric only).  Returns -1 on a
 * malformed value.
 */
int	config_split_listen(const char *listen, char *host, size_t hostlen,
	    uint16_t *port);

#endif
