/*
 * Diagnostics on standard error; standard output is kept for the
 * machine-parsable result lines.
 */
#include <stdarg.h>
#include <stdio.h>

#include <openssl/err.h>

#include "sceptest.h"

int	st_verbose;	/* --verbose: st_debug() lines are shown */

static void
st_log_vprint(const char *fmt, va_list ap, int ssl)
{
	char		 buf[256];
	unsigned long	 e;
	const char	*sep = ": ";

	fputs("sceptest: ", stderr);
	vfprintf(stderr, fmt, ap);
	/* The OpenSSL error queue is drained into this one line. */
	while (ssl && (e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		fprintf(stderr, "%s%s", sep, buf);
		sep = "; ";
	}
	fputc('\n', stderr);
}

/* One error line. */
void
st_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	st_log_vprint(fmt, ap, 0);
	va_end(ap);
}

/* One error line followed by what OpenSSL had to say. */
void
st_warn_ssl(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	st_log_vprint(fmt, ap, 1);
	va_end(ap);
}

/* A line only shown with --verbose. */
void
st_debug(const char *fmt, ...)
{
	va_list	ap;

	if (!st_verbose)
		return;
	va_start(ap, fmt);
	st_log_vprint(fmt, ap, 0);
	va_end(ap);
}
