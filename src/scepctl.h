/*
 * scepctl subcommands.  Each takes its own argv (argv[0] is the
 * subcommand) and returns the process exit status.
 */
#ifndef SCEPCTL_H
#define SCEPCTL_H

#define SCEPCTL_EXIT_OK		0
#define SCEPCTL_EXIT_FAIL	1
#define SCEPCTL_EXIT_USAGE	2

int	scepctl_init(int argc, char *argv[]);

#endif
