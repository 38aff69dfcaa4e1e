/*
 * p11fault: a PKCS#11 module that wraps another module and makes it
 * misbehave on demand, to prove that scepd survives a failing HSM.
 *
 * Configured by the environment of the process that loads it:
 *   P11FAULT_MODULE    the real module (required), e.g. SoftHSM2
 *   P11FAULT_CONTROL   a libconfig file of fault rules, read again on
 *                      every call after it changed (write it to a
 *                      temporary name and rename it into place)
 *   P11FAULT_LOG       a file that gets one line per call:
 *                      "C_Login 0x000000a0 injected" or "C_Sign 0x00000000"
 *   P11FAULT_SERIALIZE a lock file: every call to the real module holds
 *                      flock(2) on it, so that several processes can be
 *                      logged in to SoftHSM2 at once (which alone it
 *                      does not survive), as to an HSM that allows it
 *
 * A rule (see README.md, "Fault injection"):
 *   { function = "C_Sign"; rv = "CKR_DEVICE_ERROR"; nth = 3; }
 *   function     a PKCS#11 function name, or "*" for every function
 *   rv           a CKR_ name or a number: returned instead of calling
 *                the real module
 *   delay_ms     added latency before the call (or before rv)
 *   hang         true: the call blocks until the control file changes
 *   nth          fire on the Nth matching call only (counted from when
 *                the file was read)
 *   every        fire on every Nth matching call
 *   probability  fire with this probability (the generator is seeded by
 *                the file's "seed", so a run can be repeated)
 *   pid          fire only in the process with this id
 *   (none)       fire on every matching call
 * The first firing rule with an rv decides the call; delays add up.
 * "Unplugging" the HSM is { function = "*"; rv = "CKR_DEVICE_REMOVED"; }.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libconfig.h>
#include <p11-kit/pkcs11.h>

#include "p11fault_functions.h"

#define P11FAULT_MAX_RULES	64
#define P11FAULT_HANG_POLL_MS	10

#define P11FAULT_ALL(X) \
	X(C_Initialize, (CK_VOID_PTR a), (a)) \
	P11FAULT_FUNCTIONS(X)

#define P11FAULT_ENUM(name, params, args) P11FAULT_FN_##name,
enum p11fault_fn {
	P11FAULT_ALL(P11FAULT_ENUM)
	P11FAULT_FN__MAX
};

#define P11FAULT_NAME(name, params, args) [P11FAULT_FN_##name] = #name,
static const char *const p11fault_fn_names[P11FAULT_FN__MAX] = {
	P11FAULT_ALL(P11FAULT_NAME)
};

#define P11FAULT_ANY	(-1)

struct p11fault_rule {
	int		 fn;		/* enum p11fault_fn or P11FAULT_ANY */
	int		 has_rv;
	CK_RV		 rv;
	long		 delay_ms;
	int		 hang;
	long		 nth;
	long		 every;
	double		 probability;	/* 0: not a probability rule */
	long		 pid;		/* 0: any process */
	unsigned long	 calls;
};

/* The control file as last read, identified by inode, size and mtime. */
struct p11fault_control {
	dev_t			 dev;
	ino_t			 ino;
	off_t			 size;
	struct timespec		 mtime;
	int			 present;
	struct p11fault_rule	 rules[P11FAULT_MAX_RULES];
	size_t			 nrules;
	uint64_t		 rng;
};

static pthread_mutex_t		 p11fault_mu = PTHREAD_MUTEX_INITIALIZER;
static struct p11fault_control	 p11fault_ctl;
static void			*p11fault_dl;
static CK_FUNCTION_LIST_PTR	 p11fault_real;
static int			 p11fault_log_fd = -1;
static pthread_mutex_t		 p11fault_serial_mu = PTHREAD_MUTEX_INITIALIZER;
static int			 p11fault_serial_fd = -1;

static const struct {
	const char	*name;
	CK_RV		 rv;
} p11fault_rv_names[] = {
#define P11FAULT_RV(x) { #x, x }
	P11FAULT_RV(CKR_OK),
	P11FAULT_RV(CKR_HOST_MEMORY),
	P11FAULT_RV(CKR_SLOT_ID_INVALID),
	P11FAULT_RV(CKR_GENERAL_ERROR),
	P11FAULT_RV(CKR_FUNCTION_FAILED),
	P11FAULT_RV(CKR_ARGUMENTS_BAD),
	P11FAULT_RV(CKR_DEVICE_ERROR),
	P11FAULT_RV(CKR_DEVICE_MEMORY),
	P11FAULT_RV(CKR_DEVICE_REMOVED),
	P11FAULT_RV(CKR_ENCRYPTED_DATA_INVALID),
	P11FAULT_RV(CKR_FUNCTION_CANCELED),
	P11FAULT_RV(CKR_FUNCTION_NOT_SUPPORTED),
	P11FAULT_RV(CKR_KEY_HANDLE_INVALID),
	P11FAULT_RV(CKR_MECHANISM_INVALID),
	P11FAULT_RV(CKR_OBJECT_HANDLE_INVALID),
	P11FAULT_RV(CKR_OPERATION_ACTIVE),
	P11FAULT_RV(CKR_OPERATION_NOT_INITIALIZED),
	P11FAULT_RV(CKR_PIN_INCORRECT),
	P11FAULT_RV(CKR_PIN_INVALID),
	P11FAULT_RV(CKR_PIN_LEN_RANGE),
	P11FAULT_RV(CKR_PIN_EXPIRED),
	P11FAULT_RV(CKR_PIN_LOCKED),
	P11FAULT_RV(CKR_SESSION_CLOSED),
	P11FAULT_RV(CKR_SESSION_COUNT),
	P11FAULT_RV(CKR_SESSION_HANDLE_INVALID),
	P11FAULT_RV(CKR_TOKEN_NOT_PRESENT),
	P11FAULT_RV(CKR_TOKEN_NOT_RECOGNIZED),
	P11FAULT_RV(CKR_USER_ALREADY_LOGGED_IN),
	P11FAULT_RV(CKR_USER_NOT_LOGGED_IN),
	P11FAULT_RV(CKR_USER_PIN_NOT_INITIALIZED),
	P11FAULT_RV(CKR_BUFFER_TOO_SMALL),
	P11FAULT_RV(CKR_CRYPTOKI_NOT_INITIALIZED),
	P11FAULT_RV(CKR_CRYPTOKI_ALREADY_INITIALIZED),
#undef P11FAULT_RV
};

static void
p11fault_complain(const char *fmt, const char *arg)
{
	fprintf(stderr, "p11fault: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
}

static int
p11fault_fn_lookup(const char *name)
{
	int	i;

	if (strcmp(name, "*") == 0)
		return P11FAULT_ANY;
	for (i = 0; i < P11FAULT_FN__MAX; i++)
		if (strcmp(name, p11fault_fn_names[i]) == 0)
			return i;
	return P11FAULT_FN__MAX;
}

/* An rv setting: a CKR_ name or a number.  -1 if unknown. */
static int
p11fault_rv_parse(const config_setting_t *s, CK_RV *rv)
{
	const char	*name;
	size_t		 i;

	if (config_setting_type(s) == CONFIG_TYPE_INT) {
		*rv = (CK_RV)(unsigned int)config_setting_get_int(s);
		return 0;
	}
	if ((name = config_setting_get_string(s)) == NULL)
		return -1;
	for (i = 0; i < sizeof(p11fault_rv_names) /
	    sizeof(p11fault_rv_names[0]); i++)
		if (strcmp(name, p11fault_rv_names[i].name) == 0) {
			*rv = p11fault_rv_names[i].rv;
			return 0;
		}
	return -1;
}

static int
p11fault_rule_parse(const config_setting_t *s, struct p11fault_rule *r)
{
	const config_setting_t	*v;
	const char		*fn;
	int			 i;
	long long		 ll;

	memset(r, 0, sizeof(*r));
	if (config_setting_lookup_string(s, "function", &fn) != CONFIG_TRUE) {
		p11fault_complain("a rule has no function%s", "");
		return -1;
	}
	if ((r->fn = p11fault_fn_lookup(fn)) == P11FAULT_FN__MAX) {
		p11fault_complain("unknown function %s", fn);
		return -1;
	}
	if ((v = config_setting_get_member(s, "rv")) != NULL) {
		if (p11fault_rv_parse(v, &r->rv) == -1) {
			p11fault_complain("unknown rv in the rule for %s", fn);
			return -1;
		}
		r->has_rv = 1;
	}
	if (config_setting_lookup_int64(s, "delay_ms", &ll) == CONFIG_TRUE)
		r->delay_ms = (long)ll;
	if (config_setting_lookup_bool(s, "hang", &i) == CONFIG_TRUE)
		r->hang = i;
	if (config_setting_lookup_int64(s, "nth", &ll) == CONFIG_TRUE)
		r->nth = (long)ll;
	if (config_setting_lookup_int64(s, "every", &ll) == CONFIG_TRUE)
		r->every = (long)ll;
	if (config_setting_lookup_int64(s, "pid", &ll) == CONFIG_TRUE)
		r->pid = (long)ll;
	if (config_setting_lookup_float(s, "probability", &r->probability) !=
	    CONFIG_TRUE)
		r->probability = 0;
	if (!r->has_rv && r->delay_ms <= 0 && !r->hang) {
		p11fault_complain("the rule for %s does nothing", fn);
		return -1;
	}
	return 0;
}

/*
 * Reads the control file into ctl.  A file that cannot be parsed is
 * reported and leaves no rules: a test should notice, not fault at
 * random.
 */
static void
p11fault_control_read(struct p11fault_control *ctl, const char *path)
{
	config_t		 cfg;
	const config_setting_t	*list;
	long long		 seed = 1;
	int			 i, n;

	ctl->nrules = 0;
	config_init(&cfg);
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		fprintf(stderr, "p11fault: %s:%d: %s\n", path,
		    config_error_line(&cfg), config_error_text(&cfg));
		goto out;
	}
	config_lookup_int64(&cfg, "seed", &seed);
	ctl->rng = (uint64_t)seed;
	if ((list = config_lookup(&cfg, "faults")) == NULL)
		goto out;
	n = config_setting_length(list);
	for (i = 0; i < n && ctl->nrules < P11FAULT_MAX_RULES; i++)
		if (p11fault_rule_parse(config_setting_get_elem(list,
		    (unsigned int)i), &ctl->rules[ctl->nrules]) == 0)
			ctl->nrules++;
 out:
	config_destroy(&cfg);
}

/* Re-reads the control file if it changed; under p11fault_mu. */
static void
p11fault_control_refresh(struct p11fault_control *ctl)
{
	const char	*path = getenv("P11FAULT_CONTROL");
	struct stat	 st;

	if (path == NULL || stat(path, &st) == -1) {
		ctl->present = 0;
		ctl->nrules = 0;
		return;
	}
	if (ctl->present && st.st_dev == ctl->dev && st.st_ino == ctl->ino &&
	    st.st_size == ctl->size &&
	    st.st_mtim.tv_sec == ctl->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == ctl->mtime.tv_nsec)
		return;
	ctl->present = 1;
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	ctl->size = st.st_size;
	ctl->mtime = st.st_mtim;
	p11fault_control_read(ctl, path);
}

/* splitmix64: small, and the same sequence for the same seed. */
static double
p11fault_random(struct p11fault_control *ctl)
{
	uint64_t	z = (ctl->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) / (double)(1ULL << 53);
}

static int
p11fault_rule_fires(struct p11fault_control *ctl, struct p11fault_rule *r)
{
	if (r->pid != 0 && r->pid != (long)getpid())
		return 0;
	r->calls++;
	if (r->nth > 0)
		return r->calls == (unsigned long)r->nth;
	if (r->every > 0)
		return r->calls % (unsigned long)r->every == 0;
	if (r->probability > 0)
		return p11fault_random(ctl) < r->probability;
	return 1;
}

static void
p11fault_sleep_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void	p11fault_log_line(int, const char *);

/*
 * Decides the call to fn: 1 with *rv set if a fault answers it, 0 if
 * it goes to the real module.  Sleeps and hangs outside the lock.
 */
static int
p11fault_decide(int fn, CK_RV *rv)
{
	struct p11fault_control	*ctl = &p11fault_ctl;
	struct p11fault_rule	*r;
	struct timespec		 hung_on;
	long			 delay;
	int			 hang, answered;
	size_t			 i;

 again:
	delay = 0;
	hang = answered = 0;
	pthread_mutex_lock(&p11fault_mu);
	p11fault_control_refresh(ctl);
	for (i = 0; i < ctl->nrules && !answered && !hang; i++) {
		r = &ctl->rules[i];
		if (r->fn != P11FAULT_ANY && r->fn != fn)
			continue;
		if (!p11fault_rule_fires(ctl, r))
			continue;
		delay += r->delay_ms > 0 ? r->delay_ms : 0;
		if (r->hang)
			hang = 1;
		else if (r->has_rv) {
			*rv = r->rv;
			answered = 1;
		}
	}
	hung_on = ctl->mtime;
	pthread_mutex_unlock(&p11fault_mu);
	if (delay > 0)
		p11fault_sleep_ms(delay);
	if (!hang)
		return answered;
	p11fault_log_line(fn, "hanging");
	/* Hung until the test writes a new control file. */
	for (;;) {
		p11fault_sleep_ms(P11FAULT_HANG_POLL_MS);
		pthread_mutex_lock(&p11fault_mu);
		p11fault_control_refresh(ctl);
		i = !ctl->present ||
		    ctl->mtime.tv_sec != hung_on.tv_sec ||
		    ctl->mtime.tv_nsec != hung_on.tv_nsec;
		pthread_mutex_unlock(&p11fault_mu);
		if (i)
			goto again;
	}
}

static CK_RV
p11fault_logged(int fn, CK_RV rv, int injected)
{
	char	what[32];

	snprintf(what, sizeof(what), "0x%08lx%s", (unsigned long)rv,
	    injected ? " injected" : "");
	p11fault_log_line(fn, what);
	return rv;
}

/* One line of P11FAULT_LOG: "C_Sign 0x00000000", "C_Sign hanging". */
static void
p11fault_log_line(int fn, const char *what)
{
	const char	*path;
	char		 line[128];
	int		 n;

	pthread_mutex_lock(&p11fault_mu);
	if (p11fault_log_fd == -1 && (path = getenv("P11FAULT_LOG")) != NULL)
		p11fault_log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC, 0600);
	pthread_mutex_unlock(&p11fault_mu);
	if (p11fault_log_fd == -1)
		return;
	n = snprintf(line, sizeof(line), "%s %s\n", p11fault_fn_names[fn],
	    what);
	/* One write with O_APPEND: lines from threads do not interleave. */
	if (n > 0 && write(p11fault_log_fd, line, (size_t)n) == -1)
		p11fault_complain("cannot write the log%s", "");
}

/*
 * With P11FAULT_SERIALIZE, holds its lock: one call to the real module
 * at a time in every process that shares the file.
 */
static void
p11fault_serial_enter(void)
{
	const char	*path = getenv("P11FAULT_SERIALIZE");

	if (path == NULL)
		return;
	pthread_mutex_lock(&p11fault_serial_mu);
	if (p11fault_serial_fd == -1 && (p11fault_serial_fd = open(path,
	    O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		p11fault_complain("cannot open the serializing lock %s",
		    path);
	while (p11fault_serial_fd != -1 &&
	    flock(p11fault_serial_fd, LOCK_EX) == -1 && errno == EINTR)
		;
}

static void
p11fault_serial_leave(void)
{
	if (getenv("P11FAULT_SERIALIZE") == NULL)
		return;
	if (p11fault_serial_fd != -1)
		flock(p11fault_serial_fd, LOCK_UN);
	pthread_mutex_unlock(&p11fault_serial_mu);
}

#define P11FAULT_WRAPPER(name, params, args)				\
static CK_RV								\
p11fault_##name params							\
{									\
	CK_RV	rv;							\
									\
	if (p11fault_decide(P11FAULT_FN_##name, &rv))			\
		return p11fault_logged(P11FAULT_FN_##name, rv, 1);	\
	p11fault_serial_enter();					\
	if (p11fault_real->name == NULL)				\
		rv = CKR_FUNCTION_NOT_SUPPORTED;			\
	else								\
		rv = p11fault_real->name args;				\
	p11fault_serial_leave();					\
	return p11fault_logged(P11FAULT_FN_##name, rv, 0);		\
}
P11FAULT_FUNCTIONS(P11FAULT_WRAPPER)

/*
 * A C_Finalize that a fault answered never reached the real module, so
 * it is still initialized when the application starts again: it is
 * restarted here, so the application finds it fresh, as after an HSM
 * restart, instead of being told CKR_CRYPTOKI_ALREADY_INITIALIZED.
 */
static CK_RV
p11fault_C_Initialize(CK_VOID_PTR a)
{
	CK_RV	rv;

	if (p11fault_decide(P11FAULT_FN_C_Initialize, &rv))
		return p11fault_logged(P11FAULT_FN_C_Initialize, rv, 1);
	p11fault_serial_enter();
	rv = p11fault_real->C_Initialize(a);
	if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		(void)p11fault_real->C_Finalize(NULL);
		rv = p11fault_real->C_Initialize(a);
	}
	p11fault_serial_leave();
	return p11fault_logged(P11FAULT_FN_C_Initialize, rv, 0);
}

static CK_RV p11fault_get_function_list(CK_FUNCTION_LIST_PTR_PTR);

#define P11FAULT_ENTRY(name, params, args) .name = p11fault_##name,
static CK_FUNCTION_LIST p11fault_list = {
	.version = { CRYPTOKI_VERSION_MAJOR, CRYPTOKI_VERSION_MINOR },
	.C_GetFunctionList = p11fault_get_function_list,
	P11FAULT_ALL(P11FAULT_ENTRY)
};

/*
 * The rules' call counts must survive the application unloading and
 * loading the module again (scepd does that to recover from a module
 * error), or a fault on the Nth call would fire again after every
 * reload: so this module stays mapped until the process exits.  (Not
 * from a constructor: the module is not loaded yet while it runs.)
 */
static void
p11fault_stay_loaded(void)
{
	Dl_info	info;

	/*
	 * Our own static function: a global such as C_GetFunctionList
	 * may resolve to another library's (p11-kit exports one).
	 */
	if (dladdr((void *)p11fault_stay_loaded, &info) == 0 ||
	    info.dli_fname == NULL ||
	    dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD |
	    RTLD_NODELETE) == NULL)
		p11fault_complain("cannot keep the module loaded%s", "");
}

/* Loads the real module once; CKR_OK or why not (said on stderr). */
static CK_RV
p11fault_load_real(void)
{
	CK_C_GetFunctionList	 get;
	const char		*path = getenv("P11FAULT_MODULE");
	CK_RV			 rv = CKR_OK;

	pthread_mutex_lock(&p11fault_mu);
	if (p11fault_real != NULL)
		goto out;
	if (path == NULL) {
		p11fault_complain("P11FAULT_MODULE is not set%s", "");
		rv = CKR_GENERAL_ERROR;
		goto out;
	}
	if ((p11fault_dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		p11fault_complain("%s", dlerror());
		rv = CKR_GENERAL_ERROR;
		goto out;
	}
	if ((get = (CK_C_GetFunctionList)dlsym(p11fault_dl,
	    "C_GetFunctionList")) == NULL ||
	    (rv = get(&p11fault_real)) != CKR_OK || p11fault_real == NULL) {
		p11fault_complain("%s has no function list", path);
		dlclose(p11fault_dl);
		p11fault_dl = NULL;
		p11fault_real = NULL;
		rv = CKR_GENERAL_ERROR;
	}
 out:
	pthread_mutex_unlock(&p11fault_mu);
	return rv;
}

static CK_RV
p11fault_get_function_list(CK_FUNCTION_LIST_PTR_PTR list)
{
	CK_RV	rv;

	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	if ((rv = p11fault_load_real()) != CKR_OK)
		return rv;
	p11fault_stay_loaded();
	*list = &p11fault_list;
	return CKR_OK;
}

/* The one symbol this module exports. */
__attribute__((visibility("default"))) CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	return p11fault_get_function_list(list);
}
