/*
 * The parent: binds the listening socket, starts the key processes
 * (hsm.key_processes, one by default) and the worker (procs.h),
 * restarts any that dies (with backoff for one that dies before it is
 * ready), passes SIGHUP on, and on SIGTERM or SIGINT stops the worker
 * (which answers every request it has accepted), then the key
 * processes.
 *
 * It never loads the PKCS#11 module, never reads the PIN file and
 * starts no thread, so that fork() is safe.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "config.h"
#include "http.h"
#include "ipc.h"
#include "log.h"
#include "procs.h"
#include "version.h"

#ifndef SCEPD_LIBEXECDIR
#define SCEPD_LIBEXECDIR	"/usr/local/libexec/scepd"
#endif
#define PARENT_KEYPROC_NAME	"scepd-keyproc"
#define PARENT_BACKOFF_MIN_MS	100
#define PARENT_BACKOFF_MAX_MS	30000
#define PARENT_STOP_GRACE_S	60	/* after SIGTERM, then SIGKILL */
#define PARENT_START_SLACK_S	30
#define PARENT_INSTANCE_BYTES	8	/* this run's id, in store claims */

extern char	**environ;

struct parent_child {
	char		 name[32];
	pid_t		 pid;		/* 0: not running */
	int		 ctl;		/* our end of its control socket */
	int		 backoff_ms;
	long long	 restart_at;	/* monotonic ms; 0: none due */
};

struct parent {
	const struct procs_args	*args;
	struct scepd_config	*cfg;
	int			 listen_fd;
	char			*pin_entry;	/* "NAME=PIN" for hsm.pin_env */
	char			 instance[2 * PARENT_INSTANCE_BYTES + 1];
	char			 self[PATH_MAX];
	char			 keyproc_path[PATH_MAX];
	/* The worker starts with a channel to the first, gets the rest. */
	struct parent_child	 keyprocs[HSM_MAX_KEY_PROCESSES];
	int			 n_keyprocs;
	struct parent_child	 worker;
	sigset_t		 signals;
};

static long long
parent_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Where this program is, and the key process beside it (or installed). */
static int
parent_find_programs(struct parent *p)
{
	ssize_t	 n;
	char	*slash;

	if ((n = readlink("/proc/self/exe", p->self, sizeof(p->self) - 1)) <=
	    0) {
		log_error("cannot find this program: %s", strerror(errno));
		return -1;
	}
	p->self[n] = '\0';
	snprintf(p->keyproc_path, sizeof(p->keyproc_path), "%s",
	    p->self);
	if ((slash = strrchr(p->keyproc_path, '/')) != NULL &&
	    (size_t)(slash - p->keyproc_path) + sizeof(PARENT_KEYPROC_NAME) +
	    1 < sizeof(p->keyproc_path)) {
		strcpy(slash + 1, PARENT_KEYPROC_NAME);
		if (access(p->keyproc_path, X_OK) == 0)
			return 0;
	}
	snprintf(p->keyproc_path, sizeof(p->keyproc_path), "%s/%s",
	    SCEPD_LIBEXECDIR, PARENT_KEYPROC_NAME);
	if (access(p->keyproc_path, X_OK) == 0)
		return 0;
	log_error("the key process program %s is missing", p->keyproc_path);
	return -1;
}

/*
 * A PIN in the environment is for the key process only: taken out of
 * ours (and wiped where it was) before any worker can inherit it.
 */
static int
parent_take_pin_env(struct parent *p)
{
	const char	*name = p->cfg->hsm.pin_env;
	char		*v;
	size_t		 len;

	if (name == NULL || (v = getenv(name)) == NULL)
		return 0;
	len = strlen(name) + 1 + strlen(v) + 1;
	if ((p->pin_entry = malloc(len)) == NULL) {
		log_error("%s: out of memory", __func__);
		return -1;
	}
	snprintf(p->pin_entry, len, "%s=%s", name, v);
	OPENSSL_cleanse(v, strlen(v));
	unsetenv(name);
	return 0;
}

/* This run's id: its workers' claims on transactions carry it. */
static int
parent_instance(struct parent *p)
{
	unsigned char	id[PARENT_INSTANCE_BYTES];
	size_t		i;

	if (RAND_bytes(id, sizeof(id)) != 1) {
		log_ssl("%s: RAND_bytes", __func__);
		return -1;
	}
	for (i = 0; i < sizeof(id); i++)
		snprintf(p->instance + 2 * i, 3, "%02x", id[i]);
	return 0;
}

/* In a child: descriptors at their numbers, default signal mask. */
static void
parent_child_setup(const int *fds, int n)
{
	sigset_t	none;
	int		moved[3], i;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	/* Above every target first, so that no dup2 overwrites a source. */
	for (i = 0; i < n; i++)
		if ((moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 10)) == -1)
			_exit(127);
	for (i = 0; i < n; i++)
		if (dup2(moved[i], 3 + i) == -1)
			_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * Waits for the child's PROCS_READY.  -1 if it exited or did not say
 * it in time (it is then killed).
 */
static int
parent_wait_ready(struct parent_child *c, int timeout_s)
{
	struct pollfd	pfd = { .fd = c->ctl, .events = POLLIN };
	long long	deadline = parent_now_ms() + timeout_s * 1000LL;
	char		b;
	int		r;

	for (;;) {
		r = poll(&pfd, 1, (int)(deadline - parent_now_ms()));
		if (r == -1 && errno == EINTR)
			continue;
		if (r > 0 && read(c->ctl, &b, 1) == 1 && b == PROCS_READY)
			return 0;
		if (r == 0 || parent_now_ms() >= deadline) {
			log_error("the %s did not start within %d s", c->name,
			    timeout_s);
			kill(c->pid, SIGKILL);
		}
		return -1;
	}
}

static int
parent_start_timeout(const struct parent *p)
{
	return p->cfg->hsm.lock_timeout + 2 * p->cfg->hsm.call_timeout +
	    PARENT_START_SLACK_S;
}

static int
parent_start_keyproc(struct parent *p, int index)
{
	struct parent_child	*c = &p->keyprocs[index];
	char			*argv[5], **envp;
	size_t			 n = 0, i;
	int			 sv[2];
	pid_t			 pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_error("socketpair: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_error("fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		parent_child_setup(&sv[1], 1);
		while (environ[n] != NULL)
			n++;
		if ((envp = calloc(n + 2, sizeof(*envp))) == NULL)
			_exit(127);
		for (i = 0; i < n; i++)
			envp[i] = environ[i];
		envp[n] = p->pin_entry;
		argv[0] = PARENT_KEYPROC_NAME;
		argv[1] = "--config";
		argv[2] = (char *)p->args->config;
		argv[3] = p->args->level >= LOG_LEVEL_DEBUG ? "--verbose" :
		    NULL;
		argv[4] = NULL;
		execve(p->keyproc_path, argv, envp);
		_exit(127);
	}
	close(sv[1]);
	c->pid = pid;
	c->ctl = sv[0];
	if (parent_wait_ready(c, parent_start_timeout(p)) == -1)
		return -1;
	log_info("key process %d of %d (pid %d) is up", index + 1,
	    p->n_keyprocs, (int)pid);
	return 0;
}

/* A channel between the worker and key process index; *worker_end. */
static int
parent_channel(struct parent *p, int index, int *worker_end)
{
	int	sv[2], rc;

	*worker_end = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_error("socketpair: %s", strerror(errno));
		return -1;
	}
	rc = ipc_fd_send(p->keyprocs[index].ctl, sv[0], 'C');
	close(sv[0]);
	if (rc == -1) {
		log_error("cannot pass a channel to the key process: %s",
		    strerror(errno));
		close(sv[1]);
		return -1;
	}
	*worker_end = sv[1];
	return 0;
}

/* The running worker gets a channel to key process index. */
static void
parent_connect_worker(struct parent *p, int index)
{
	int	chan;

	if (p->worker.pid == 0 || parent_channel(p, index, &chan) == -1)
		return;
	/* The tag says which key process it is. */
	if (ipc_fd_send(p->worker.ctl, chan, (uint8_t)index) == -1)
		log_error("cannot pass a channel to the worker: %s",
		    strerror(errno));
	close(chan);
}

static int
parent_start_worker(struct parent *p)
{
	struct parent_child	*c = &p->worker;
	char			*argv[9];
	int			 sv[2], chan, fds[3], i = 0, k;
	pid_t			 pid;

	if (parent_channel(p, 0, &chan) == -1)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_error("socketpair: %s", strerror(errno));
		close(chan);
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_error("fork: %s", strerror(errno));
		close(chan);
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		/* --check binds nothing: a placeholder keeps the numbers. */
		fds[0] = p->listen_fd != -1 ? p->listen_fd :
		    open("/dev/null", O_RDONLY | O_CLOEXEC);
		fds[1] = chan;
		fds[2] = sv[1];
		parent_child_setup(fds, 3);
		argv[i++] = "scepd";
		argv[i++] = "--worker";
		argv[i++] = "--config";
		argv[i++] = (char *)p->args->config;
		argv[i++] = "--instance";
		argv[i++] = p->instance;
		if (p->args->level >= LOG_LEVEL_DEBUG)
			argv[i++] = "--verbose";
		if (p->args->check)
			argv[i++] = "--check";
		argv[i] = NULL;
		execve(p->self, argv, environ);
		_exit(127);
	}
	close(chan);
	close(sv[1]);
	c->pid = pid;
	c->ctl = sv[0];
	if (p->args->check)
		return 0;
	for (k = 1; k < p->n_keyprocs; k++)
		if (p->keyprocs[k].pid != 0)
			parent_connect_worker(p, k);
	return parent_wait_ready(c, parent_start_timeout(p));
}

static void
parent_describe(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d",
		    WTERMSIG(status));
	else
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
}

static void
parent_child_gone(struct parent_child *c)
{
	if (c->ctl != -1)
		close(c->ctl);
	c->ctl = -1;
	c->pid = 0;
}

/* Key process index, or -1 for the worker. */
static int
parent_keyproc_index(const struct parent *p, const struct parent_child *c)
{
	return c == &p->worker ? -1 : (int)(c - p->keyprocs);
}

/* Starts c again; on failure, later and later. */
static void
parent_restart(struct parent *p, struct parent_child *c)
{
	int	index = parent_keyproc_index(p, c), rc;

	c->restart_at = 0;
	if (index == -1 && p->keyprocs[0].pid == 0) {
		/* It needs the first key process; started after it. */
		return;
	}
	rc = index == -1 ? parent_start_worker(p) :
	    parent_start_keyproc(p, index);
	if (rc == 0) {
		c->backoff_ms = PARENT_BACKOFF_MIN_MS;
		log_info("the %s is running again", c->name);
		if (index == -1)
			return;
		if (p->worker.pid != 0)
			parent_connect_worker(p, index);
		else if (index == 0 && p->worker.restart_at == 0)
			p->worker.restart_at = parent_now_ms();
		return;
	}
	/* What did not start is reaped with SIGCHLD and tried again. */
	if (c->pid == 0)
		c->restart_at = parent_now_ms() + c->backoff_ms;
	c->backoff_ms = c->backoff_ms * 2 > PARENT_BACKOFF_MAX_MS ?
	    PARENT_BACKOFF_MAX_MS : c->backoff_ms * 2;
}

static void
parent_reap(struct parent *p, int stopping)
{
	struct parent_child	*c;
	char			 how[64];
	pid_t			 pid;
	int			 status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		c = pid == p->worker.pid ? &p->worker : NULL;
		for (i = 0; i < p->n_keyprocs && c == NULL; i++)
			if (pid == p->keyprocs[i].pid)
				c = &p->keyprocs[i];
		if (c == NULL)
			continue;
		parent_describe(status, how, sizeof(how));
		parent_child_gone(c);
		if (stopping)
			continue;
		log_error("the %s (pid %d) %s; restarting it in %d ms",
		    c->name, (int)pid, how, c->backoff_ms);
		c->restart_at = parent_now_ms() + c->backoff_ms;
	}
}

/* Stops c (SIGTERM, then SIGKILL after a grace); its exit status. */
static int
parent_stop_child(struct parent *p, struct parent_child *c)
{
	struct timespec	ts = { .tv_sec = 1, .tv_nsec = 0 };
	sigset_t	chld;
	long long	deadline;
	pid_t		pid = c->pid;
	int		status = 0;

	if (pid == 0)
		return 0;
	(void)p;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	kill(pid, SIGTERM);
	deadline = parent_now_ms() + PARENT_STOP_GRACE_S * 1000LL;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (parent_now_ms() >= deadline) {
			log_error("the %s did not stop: killing it", c->name);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		sigtimedwait(&chld, NULL, &ts);
	}
	parent_child_gone(c);
	return status;
}

/* Restarts what is due; ms until the next is due (at most 1000). */
static long long
parent_restart_due(struct parent *p)
{
	struct parent_child	*c;
	long long		 now = parent_now_ms(), next = 1000;
	int			 i;

	/* The key processes first: the worker waits for the first. */
	for (i = 0; i <= p->n_keyprocs; i++) {
		c = i < p->n_keyprocs ? &p->keyprocs[i] : &p->worker;
		if (c->restart_at != 0 && c->restart_at <= now)
			parent_restart(p, c);
		if (c->restart_at != 0 && c->restart_at - now < next)
			next = c->restart_at - now;
	}
	return next;
}

static void
parent_signal_all(struct parent *p, int sig)
{
	int	i;

	if (p->worker.pid != 0)
		kill(p->worker.pid, sig);
	for (i = 0; i < p->n_keyprocs; i++)
		if (p->keyprocs[i].pid != 0)
			kill(p->keyprocs[i].pid, sig);
}

static int
parent_serve(struct parent *p)
{
	struct timespec	 ts;
	long long	 next;
	int		 sig;

	for (;;) {
		next = parent_restart_due(p);
		if (next < 0)
			next = 0;
		if (next > 1000)
			next = 1000;
		ts.tv_sec = next / 1000;
		ts.tv_nsec = (next % 1000) * 1000000;
		if ((sig = sigtimedwait(&p->signals, NULL, &ts)) == -1)
			continue;
		switch (sig) {
		case SIGCHLD:
			parent_reap(p, 0);
			break;
		case SIGHUP:
			log_info("SIGHUP: reloading the policy and trying "
			    "a refused PIN again");
			parent_signal_all(p, SIGHUP);
			break;
		default:
			log_info("%s: stopping after in-flight requests",
			    sig == SIGTERM ? "SIGTERM" : "SIGINT");
			return 0;
		}
	}
}

int
parent_main(const struct procs_args *args)
{
	struct parent	 p;
	char		 err[1024];
	int		 rc = 1, st, i;

	log_init("scepd", args->level);
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	memset(&p, 0, sizeof(p));
	p.args = args;
	p.listen_fd = -1;
	p.worker = (struct parent_child){ .name = "worker", .ctl = -1,
	    .backoff_ms = PARENT_BACKOFF_MIN_MS };
	sigemptyset(&p.signals);
	sigaddset(&p.signals, SIGTERM);
	sigaddset(&p.signals, SIGINT);
	sigaddset(&p.signals, SIGHUP);
	sigaddset(&p.signals, SIGCHLD);
	sigprocmask(SIG_BLOCK, &p.signals, NULL);

	if ((p.cfg = config_load(args->config, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		goto out;
	}
	p.n_keyprocs = p.cfg->hsm.key_processes;
	for (i = 0; i < p.n_keyprocs; i++) {
		p.keyprocs[i] = (struct parent_child){ .ctl = -1,
		    .backoff_ms = PARENT_BACKOFF_MIN_MS };
		if (p.n_keyprocs == 1)
			snprintf(p.keyprocs[i].name, sizeof(p.keyprocs[i].name),
			    "key process");
		else
			snprintf(p.keyprocs[i].name, sizeof(p.keyprocs[i].name),
			    "key process %d", i + 1);
	}
	if (parent_find_programs(&p) == -1 || parent_take_pin_env(&p) == -1 ||
	    parent_instance(&p) == -1)
		goto out;
	if (geteuid() == 0 && p.cfg->user == NULL)
		log_warnx("running as root: set server.user to run the "
		    "worker and the key process as an unprivileged user");
	if (!args->check && (p.listen_fd = http_listen_socket(args->listen ?
	    args->listen : p.cfg->listen)) == -1)
		goto out;
	for (i = 0; i < p.n_keyprocs; i++)
		if (parent_start_keyproc(&p, i) == -1) {
			log_error("the %s did not start", p.keyprocs[i].name);
			goto out;
		}
	if (parent_start_worker(&p) == -1) {
		log_error("the worker did not start");
		goto out;
	}
	if (args->check) {
		waitpid(p.worker.pid, &st, 0);
		parent_child_gone(&p.worker);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			log_info("configuration, database and token keys are "
			    "usable");
			rc = 0;
		}
		goto out;
	}
	log_info("scepd %s ready", SCEPD_VERSION);
	if (parent_serve(&p) == 0)
		rc = 0;
	/* The worker's copy is then the last: it closes it at stop. */
	close(p.listen_fd);
	p.listen_fd = -1;
	st = parent_stop_child(&p, &p.worker);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		rc = 1;
	log_info("stopped");
 out:
	parent_stop_child(&p, &p.worker);
	for (i = 0; i < p.n_keyprocs; i++)
		parent_stop_child(&p, &p.keyprocs[i]);
	parent_reap(&p, 1);
	if (p.listen_fd != -1)
		close(p.listen_fd);
	if (p.pin_entry != NULL) {
		OPENSSL_cleanse(p.pin_entry, strlen(p.pin_entry));
		free(p.pin_entry);
	}
	config_free(p.cfg);
	return rc;
}
