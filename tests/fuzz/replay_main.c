/*
 * A main() for the fuzz targets without libFuzzer (make fuzz-replay):
 * feeds each input to LLVMFuzzerTestOneInput(), in the order given,
 * in one process.
 *
 *   fuzz_TARGET FILE...        the files themselves
 *   fuzz_TARGET @LIST          the paths listed in LIST, one a line
 *
 * After each input it prints "ok PATH", or "leak PATH" when
 * LeakSanitizer finds memory the input lost, on standard output.  A
 * sanitizer report aborts the process: tests/fuzz/replay.sh then
 * knows the input that did it (the first without a line) and carries
 * on with the next.  An input that runs longer than
 * REPLAY_TIMEOUT seconds is killed by SIGALRM.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#define REPLAY_TIMEOUT		30
#define REPLAY_MAX_INPUT	(16 * 1024 * 1024)

/* From LeakSanitizer, when the program is built with it. */
int	__lsan_do_recoverable_leak_check(void) __attribute__((weak));

struct replay_list {
	char	**paths;
	size_t	  n;
	size_t	  cap;
};

static int
replay_add(struct replay_list *l, const char *path)
{
	char	**grown;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		if ((grown = realloc(l->paths, l->cap * sizeof(*grown))) ==
		    NULL)
			return -1;
		l->paths = grown;
	}
	if ((l->paths[l->n] = strdup(path)) == NULL)
		return -1;
	l->n++;
	return 0;
}

/* Reads the list file of an @LIST argument. */
static int
replay_add_list(struct replay_list *l, const char *file)
{
	FILE	*f;
	char	 line[4096];
	int	 rc = -1;

	if ((f = fopen(file, "r")) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", file, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] != '\0' && replay_add(l, line) == -1)
			goto out;
	}
	rc = 0;
 out:
	fclose(f);
	return rc;
}

/* The whole file (malloc'd; at least one byte allocated). */
static unsigned char *
replay_read(const char *path, size_t *len)
{
	FILE		*f;
	unsigned char	*buf = NULL;
	size_t		 n;

	*len = 0;
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(REPLAY_MAX_INPUT + 1)) == NULL)
		goto out;
	n = fread(buf, 1, REPLAY_MAX_INPUT + 1, f);
	if (ferror(f) || n > REPLAY_MAX_INPUT) {
		fprintf(stderr, "replay: %s: unreadable or too large\n", path);
		free(buf);
		buf = NULL;
		goto out;
	}
	*len = n;
 out:
	fclose(f);
	return buf;
}

int
main(int argc, char **argv)
{
	struct replay_list	 l = { NULL, 0, 0 };
	unsigned char		*buf, *copy;
	size_t			 i, len;
	int			 a, failed = 0;

	for (a = 1; a < argc; a++)
		if ((argv[a][0] == '@' ? replay_add_list(&l, argv[a] + 1) :
		    replay_add(&l, argv[a])) == -1) {
			fprintf(stderr, "replay: cannot read the inputs\n");
			return 2;
		}
	LLVMFuzzerInitialize(&argc, &argv);
	for (i = 0; i < l.n; i++) {
		if ((buf = replay_read(l.paths[i], &len)) == NULL)
			return 2;
		/* Exactly len bytes, as libFuzzer gives: overreads show. */
		if ((copy = malloc(len ? len : 1)) == NULL)
			return 2;
		memcpy(copy, buf, len);
		free(buf);
		alarm(REPLAY_TIMEOUT);
		LLVMFuzzerTestOneInput(copy, len);
		alarm(0);
		free(copy);
		if (__lsan_do_recoverable_leak_check != NULL &&
		    __lsan_do_recoverable_leak_check() != 0) {
			printf("leak %s\n", l.paths[i]);
			failed = 1;
		} else
			printf("ok %s\n", l.paths[i]);
		fflush(stdout);
	}
	for (i = 0; i < l.n; i++)
		free(l.paths[i]);
	free(l.paths);
	return failed;
}
