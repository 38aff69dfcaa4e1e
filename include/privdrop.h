/*
 * Dropping root: scepd's workers and key process run as server.user
 * when started as root.
 */
#ifndef SCEPD_PRIVDROP_H
#define SCEPD_PRIVDROP_H

/*
 * If the process runs as root and user is set, becomes that user (its
 * group, no supplementary groups) for good.  Not root: nothing to do.
 * -1 (logged) if the user is unknown or the change fails.
 */
int	privdrop_to(const char *user);

#endif
