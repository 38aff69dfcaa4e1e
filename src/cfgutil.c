/*
 * libconfig helpers shared by scepd.conf and policy files: typed
 * reads with defaults, relative paths, and every error reported as
 * "file:line: reason".
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "cfgutil.h"

int
cfgutil_fail(struct cfgutil *cx, const config_setting_t *s,
    const char *fmt, ...)
{
	va_list	ap;
	int	n = 0;

	if (s != NULL && config_setting_source_line(s) > 0)
		n = snprintf(cx->err, cx->errlen, "%s:%d: ", cx->file,
		    config_setting_source_line(s));
	else
		n = snprintf(cx->err, cx->errlen, "%s: ", cx->file);
	if (n < 0 || (size_t)n >= cx->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(cx->err + n, cx->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Rejects any member of group s that is not in the NULL-ended list. */
int
cfgutil_check_names(struct cfgutil *cx, const config_setting_t *s,
    const char *where, const char *const *allowed)
{
	config_setting_t	*m;
	const char		*name;
	int			 i, j;

	for (i = 0; (m = config_setting_get_elem(s, (unsigned)i)) != NULL;
	    i++) {
		if ((name = config_setting_name(m)) == NULL)
			continue;
		for (j = 0; allowed[j] != NULL; j++)
			if (strcmp(allowed[j], name) == 0)
				break;
		if (allowed[j] == NULL)
			return cfgutil_fail(cx, m, "unknown setting %s%s%s",
			    where, *where ? "." : "", name);
	}
	return 0;
}

int
cfgutil_group(struct cfgutil *cx, const config_setting_t *root,
    const char *name, int required, config_setting_t **out)
{
	config_setting_t *g;

	*out = NULL;
	if ((g = config_setting_get_member(root, name)) == NULL) {
		if (required)
			return cfgutil_fail(cx, NULL, "missing group %s", name);
		return 0;
	}
	if (!config_setting_is_group(g))
		return cfgutil_fail(cx, g, "%s must be a group { ... }", name);
	*out = g;
	return 0;
}

/*
 * Copies the string member name of group g into *out.  A missing
 * optional member leaves *out unchanged (its default).
 */
int
cfgutil_string(struct cfgutil *cx, const config_setting_t *g,
    const char *gname, const char *name, int required, char **out)
{
	config_setting_t	*m;
	const char		*v;
	char			*copy;

	if (g == NULL || (m = config_setting_get_member(g, name)) == NULL) {
		if (required)
			return cfgutil_fail(cx, g, "missing setting %s.%s",
			    gname, name);
		return 0;
	}
	if ((v = config_setting_get_string(m)) == NULL)
		return cfgutil_fail(cx, m, "%s.%s must be a string", gname,
		    name);
	if (*v == '\0')
		return cfgutil_fail(cx, m, "%s.%s must not be empty", gname,
		    name);
	if ((copy = strdup(v)) == NULL)
		return cfgutil_fail(cx, m, "out of memory");
	free(*out);
	*out = copy;
	return 0;
}

/* Like cfgutil_string, and resolves a relative path against the file. */
int
cfgutil_path(struct cfgutil *cx, const config_setting_t *g,
    const char *gname, const char *name, int required, char **out)
{
	char	*rel = NULL, *abs;

	if (cfgutil_string(cx, g, gname, name, required, &rel) == -1)
		return -1;
	if (rel == NULL)
		return 0;
	if (rel[0] == '/') {
		free(*out);
		*out = rel;
		return 0;
	}
	if (asprintf(&abs, "%s/%s", cx->dir, rel) == -1) {
		free(rel);
		return cfgutil_fail(cx, g, "out of memory");
	}
	free(rel);
	free(*out);
	*out = abs;
	return 0;
}

int
cfgutil_int(struct cfgutil *cx, const config_setting_t *g,
    const char *gname, const char *name, int min, int max, int *out)
{
	config_setting_t *m;
	int		  v;

	if (g == NULL || (m = config_setting_get_member(g, name)) == NULL)
		return 0;
	if (config_setting_type(m) != CONFIG_TYPE_INT)
		return cfgutil_fail(cx, m, "%s.%s must be an integer", gname,
		    name);
	v = config_setting_get_int(m);
	if (v < min || v > max)
		return cfgutil_fail(cx, m, "%s.%s must be between %d and %d",
		    gname, name, min, max);
	*out = v;
	return 0;
}

int
cfgutil_bool(struct cfgutil *cx, const config_setting_t *g,
    const char *gname, const char *name, int *out)
{
	config_setting_t *m;

	if (g == NULL || (m = config_setting_get_member(g, name)) == NULL)
		return 0;
	if (config_setting_type(m) != CONFIG_TYPE_BOOL)
		return cfgutil_fail(cx, m, "%s.%s must be true or false",
		    gname, name);
	*out = config_setting_get_bool(m);
	return 0;
}

/* Reads path into lc and sets up cx; -1 with err written. */
static int
cfgutil_read(config_t *lc, const char *path, struct cfgutil *cx)
{
	char	 real[PATH_MAX];
	char	*copy;

	if (realpath(path, real) == NULL) {
		snprintf(cx->err, cx->errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((cx->file = strdup(real)) == NULL ||
	    (copy = strdup(real)) == NULL) {
		snprintf(cx->err, cx->errlen, "%s: out of memory", path);
		return -1;
	}
	cx->dir = strdup(dirname(copy));
	free(copy);
	if (cx->dir == NULL) {
		snprintf(cx->err, cx->errlen, "%s: out of memory", path);
		return -1;
	}
	config_set_include_dir(lc, cx->dir);
	if (config_read_file(lc, real) != CONFIG_TRUE) {
		if (config_error_type(lc) == CONFIG_ERR_FILE_IO)
			snprintf(cx->err, cx->errlen, "%s: cannot read file",
			    path);
		else
			snprintf(cx->err, cx->errlen, "%s:%d: %s",
			    config_error_file(lc) ? config_error_file(lc) :
			    path, config_error_line(lc), config_error_text(lc));
		return -1;
	}
	return 0;
}

int
cfgutil_load(const char *path, char *err, size_t errlen,
    int (*load)(struct cfgutil *, const config_setting_t *, void *),
    void *arg, char **abspath)
{
	struct cfgutil	cx = { NULL, NULL, err, errlen };
	config_t	lc;
	int		rc = -1;

	*abspath = NULL;
	config_init(&lc);
	if (cfgutil_read(&lc, path, &cx) == -1 ||
	    load(&cx, config_root_setting(&lc), arg) == -1)
		goto out;
	*abspath = cx.file;
	cx.file = NULL;
	rc = 0;
 out:
	config_destroy(&lc);
	free(cx.file);
	free(cx.dir);
	return rc;
}
