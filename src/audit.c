/*
 * Audit lines as JSON (jansson), each written with one write(2) on an
 * O_APPEND descriptor so that scepd's threads and scepctl never
 * interleave their lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "log.h"

struct audit {
	int	fd;		/* -1: stderr only */
};

struct audit *
audit_open(const char *path)
{
	struct audit	*au;

	if ((au = calloc(1, sizeof(*au))) == NULL) {
		log_error("%s: out of memory", __func__);
		return NULL;
	}
	au->fd = -1;
	if (path != NULL && (au->fd = open(path, O_WRONLY | O_APPEND |
	    O_CREAT | O_CLOEXEC, 0640)) == -1) {
		log_error("audit log %s: %s", path, strerror(errno));
		free(au);
		return NULL;
	}
	return au;
}

void
audit_close(struct audit *au)
{
	if (au == NULL)
		return;
	if (au->fd != -1)
		close(au->fd);
	free(au);
}

int
audit_log(struct audit *au, const struct audit_entry *e)
{
	json_t		*doc;
	char		*line = NULL;
	char		 when[32];
	struct timespec	 ts;
	struct tm	 tm;
	size_t		 len;
	int		 rc = -1;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	doc = json_pack("{s:s, s:s*, s:s*, s:s*, s:s*, s:s*, s:s, s:s*, s:s*, "
	    "s:s*}", "time", when, "transactionID", e->txid,
	    "msgtype", e->msgtype, "subject", e->subject, "client", e->client,
	    "rule", e->rule, "decision", e->decision, "reason", e->reason,
	    "serial", e->serial, "operator", e->operator_name);
	if (doc == NULL || (line = json_dumps(doc, JSON_COMPACT)) == NULL) {
		log_error("%s: cannot format the audit line", __func__);
		goto out;
	}
	log_info("audit %s", line);
	if (au == NULL || au->fd == -1) {
		rc = 0;
		goto out;
	}
	len = strlen(line);
	line[len] = '\n';	/* json_dumps leaves room: it wrote a NUL */
	if (write(au->fd, line, len + 1) != (ssize_t)(len + 1))
		log_error("audit log: write: %s", strerror(errno));
	else
		rc = 0;
	line[len] = '\0';
 out:
	free(line);
	json_decref(doc);
	return rc;
}
