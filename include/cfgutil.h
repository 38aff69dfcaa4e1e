/*
 * libconfig helpers: typed settings with "file:line: reason" errors.
 * Each reader returns 0, or -1 after writing the error; an optional
 * setting that is absent leaves *out unchanged (its default).
 */
#ifndef SCEPD_CFGUTIL_H
#define SCEPD_CFGUTIL_H

#include <stddef.h>

#include <libconfig.h>

struct cfgutil {
	char	*file;		/* absolute path of the file read */
	char	*dir;		/* its directory, for relative paths */
	char	*err;
	size_t	 errlen;
};

/*
 * Reads path and hands its root setting to load, which fills arg; the
 * file's absolute path goes to *abspath (free()).  -1 with err written.
 */
int	cfgutil_load(const char *path, char *err, size_t errlen,
	    int (*load)(struct cfgutil *, const config_setting_t *, void *),
	    void *arg, char **abspath);

int	cfgutil_fail(struct cfgutil *cx, const config_setting_t *s,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Rejects any member of group s not in the NULL-ended allowed list. */
int	cfgutil_check_names(struct cfgutil *cx, const config_setting_t *s,
	    const char *where, const char *const *allowed);
/*
 * The group name of root in *out; absent and optional: 0 with *out
 * NULL.  A member of another type is an error, never "absent".
 */
int	cfgutil_group(struct cfgutil *cx, const config_setting_t *root,
	    const char *name, int required, config_setting_t **out);
int	cfgutil_string(struct cfgutil *cx, const config_setting_t *g,
	    const char *gname, const char *name, int required, char **out);
/* Like cfgutil_string, resolving a relative path against cx->dir. */
int	cfgutil_path(struct cfgutil *cx, const config_setting_t *g,
	    const char *gname, const char *name, int required, char **out);
int	cfgutil_int(struct cfgutil *cx, const config_setting_t *g,
	    const char *gname, const char *name, int min, int max, int *out);
int	cfgutil_bool(struct cfgutil *cx, const config_setting_t *g,
	    const char *gname, const char *name, int *out);

#endif
