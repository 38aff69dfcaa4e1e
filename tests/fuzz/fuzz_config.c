/*
 * config_load() on a fuzzed scepd.conf, written to this process's
 * working directory: libconfig syntax, every setting's checks, PKCS#11
 * key URIs (hsm/keyref.c), listen addresses, relative paths.
 */
#include <stdint.h>
#include <stdlib.h>

#include "config.h"
#include "fuzz.h"

static char	*fuzz_config_path;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_util_init();
	fuzz_config_path = fuzz_util_path_new("scepd.conf");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scepd_config	*cfg;
	char			 err[1024], host[64];
	uint16_t		 port;

	if (fuzz_util_write(fuzz_config_path, data, size) == -1)
		fuzz_util_die("cannot write %s", fuzz_config_path);
	if ((cfg = config_load(fuzz_config_path, err, sizeof(err))) == NULL)
		return 0;
	/* What scepd does next with the listen address. */
	(void)config_split_listen(cfg->listen, host, sizeof(host), &port);
	config_free(cfg);
	return 0;
}
