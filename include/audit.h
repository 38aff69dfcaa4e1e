/*
 * The audit log: one JSON line per decision (issue, hold, reject,
 * an operator's approval or denial), appended to a file and written to
 * stderr.  Never a challenge or any other secret.
 */
#ifndef SCEPD_AUDIT_H
#define SCEPD_AUDIT_H

struct audit;

struct audit_entry {
	const char	*txid;
	const char	*msgtype;
	const char	*subject;
	const char	*client;
	const char	*rule;
	const char	*decision;	/* issued, pending, rejected, ... */
	const char	*reason;
	const char	*serial;
	const char	*operator_name;	/* scepctl decisions */
};

/* Opens path for appending (NULL: stderr only).  NULL (logged). */
struct audit	*audit_open(const char *path);
void		 audit_close(struct audit *au);
/* -1 if the line could not be written to the file (logged). */
int		 audit_log(struct audit *au, const struct audit_entry *e);

#endif
