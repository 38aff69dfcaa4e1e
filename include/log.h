/*
 * Logging to stderr: one line per call, written with a single write(2)
 * so that lines from concurrent request threads never interleave.
 * Nothing secret (PIN, challenge, key material) may be passed here.
 */
#ifndef SCEPD_LOG_H
#define SCEPD_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void	log_init(const char *progname, enum log_level max_level);
void	log_error(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* Like log_error, and drains the calling thread's OpenSSL error queue
 * into the same line. */
void	log_ssl(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* Drains the OpenSSL error queue without logging (expected failures). */
void	log_ssl_clear(void);

#endif
