/*
 * Becoming server.user (see privdrop.h).
 */
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privdrop.h"

int
privdrop_to(const char *user)
{
	struct passwd	*pw;

	if (user == NULL || geteuid() != 0)
		return 0;
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		log_error("server.user \"%s\": %s", user,
		    errno ? strerror(errno) : "no such user");
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		log_error("cannot become user %s: %s", user, strerror(errno));
		return -1;
	}
	/* For good: a way back would be a way back for an attacker. */
	if (pw->pw_uid != 0 && setuid(0) != -1) {
		log_error("could become root again after dropping to %s",
		    user);
		return -1;
	}
	return 0;
}
