/*
 * scepctl subcommands.  Each takes its own argv (argv[0] is the
 * subcommand) and returns the process exit status.
 */
#ifndef SCEPCTL_H
#define SCEPCTL_H

#include <time.h>

#define SCEPCTL_EXIT_OK		0
#define SCEPCTL_EXIT_FAIL	1
#define SCEPCTL_EXIT_USAGE	2

struct scepd_config;
struct store;

int	scepctl_init(int argc, char *argv[]);
int	scepctl_otp(int argc, char *argv[]);
int	scepctl_pending(int argc, char *argv[]);
int	scepctl_policy(int argc, char *argv[]);
int	scepctl_challenge(int argc, char *argv[]);
int	scepctl_hsm(int argc, char *argv[]);

/* Loads FILE of --config and opens its database; -1 (reported). */
int	scepctl_open(const char *config, struct scepd_config **cfg,
	    struct store **st);
void	scepctl_close(struct scepd_config *cfg, struct store *st);
/* "2026-11-25T08:00:00Z", or "-" for 0. */
const char *scepctl_time(time_t t, char *buf, size_t len);
/* Who is deciding, for the record: the login name. */
const char *scepctl_operator(void);

#endif
