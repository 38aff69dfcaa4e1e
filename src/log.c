/*
 * Line-oriented logging to stderr with a UTC timestamp and level.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "log.h"

#define LOG_LINE_MAX	2048

static const char	*log_progname = "scepd";
static enum log_level	 log_max_level = LOG_LEVEL_INFO;

static const char *const log_level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void
log_init(const char *progname, enum log_level max_level)
{
	log_progname = progname;
	log_max_level = max_level;
}

/* Appends the OpenSSL error queue, oldest first, to buf. */
static void
log_append_ssl(char *buf, size_t size, size_t *len)
{
	unsigned long	 e;
	const char	*data;
	int		 flags;
	char		 ebuf[256];

	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data,
	    &flags)) != 0) {
		/*
		 * OpenSSL and libp11 probe for optional engines (rdrand)
		 * on the way: a missing one is never why something failed,
		 * and naming it hides the real reason.
		 */
		if (ERR_GET_LIB(e) == ERR_LIB_DSO ||
		    ERR_GET_LIB(e) == ERR_LIB_ENGINE)
			continue;
		ERR_error_string_n(e, ebuf, sizeof(ebuf));
		if (*len < size)
			*len += (size_t)snprintf(buf + *len, size - *len,
			    ": %s%s%s", ebuf,
			    (flags & ERR_TXT_STRING) && *data ? " " : "",
			    (flags & ERR_TXT_STRING) ? data : "");
	}
}

static void
log_vwrite(enum log_level level, int with_ssl, const char *fmt, va_list ap)
{
	char		 buf[LOG_LINE_MAX];
	size_t		 len = 0;
	struct timespec	 ts;
	struct tm	 tm;
	int		 n;

	if (level > log_max_level) {
		if (with_ssl)
			ERR_clear_error();
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(buf, sizeof(buf),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_progname,
	    log_level_names[level]);
	if (n > 0)
		len = (size_t)n;
	if (len < sizeof(buf)) {
		n = vsnprintf(buf + len, sizeof(buf) - len, fmt, ap);
		if (n > 0)
			len += (size_t)n;
	}
	if (with_ssl)
		log_append_ssl(buf, sizeof(buf), &len);
	if (len >= sizeof(buf) - 1)
		len = sizeof(buf) - 2;
	/* Control characters from the network must not forge log lines. */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 && buf[i] != '\t')
			buf[i] = '?';
	buf[len++] = '\n';
	(void)!write(STDERR_FILENO, buf, len);
}

#define LOG_FUNC(name, level, with_ssl)				\
void								\
name(const char *fmt, ...)					\
{								\
	va_list ap;						\
								\
	va_start(ap, fmt);					\
	log_vwrite(level, with_ssl, fmt, ap);			\
	va_end(ap);						\
}

LOG_FUNC(log_error, LOG_LEVEL_ERROR, 0)
LOG_FUNC(log_warnx, LOG_LEVEL_WARN, 0)
LOG_FUNC(log_info, LOG_LEVEL_INFO, 0)
LOG_FUNC(log_debug, LOG_LEVEL_DEBUG, 0)
LOG_FUNC(log_ssl, LOG_LEVEL_ERROR, 1)

void
log_ssl_clear(void)
{
	ERR_clear_error();
}
