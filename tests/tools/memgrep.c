/*
 * memgrep PID STRING: exit 0 if STRING occurs anywhere in the readable
 * memory of process PID (its /proc/PID/maps regions, read through
 * /proc/PID/mem), 1 if not, 2 on error.  Needs the right to trace PID
 * (root, or the same user with ptrace allowed).  The tests use it to
 * prove that a worker's memory holds no PIN, with the key process as
 * the control that does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MEMGREP_CHUNK	(1 << 20)

int
main(int argc, char *argv[])
{
	char		 path[64], line[512], perms[8];
	unsigned long	 lo, hi, at;
	unsigned char	*buf;
	size_t		 nlen, keep, total;
	ssize_t		 n;
	FILE		*maps;
	int		 mem, found = 0;

	if (argc != 3 || (nlen = strlen(argv[2])) == 0 || nlen > 4096) {
		fprintf(stderr, "usage: memgrep PID STRING\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/proc/%s/maps", argv[1]);
	if ((maps = fopen(path, "r")) == NULL) {
		perror(path);
		return 2;
	}
	snprintf(path, sizeof(path), "/proc/%s/mem", argv[1]);
	if ((mem = open(path, O_RDONLY)) == -1) {
		perror(path);
		return 2;
	}
	if ((buf = malloc(MEMGREP_CHUNK + nlen)) == NULL)
		return 2;
	while (!found && fgets(line, sizeof(line), maps) != NULL) {
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 ||
		    perms[0] != 'r' || strstr(line, "[vvar]") != NULL)
			continue;
		keep = 0;
		for (at = lo; at < hi && !found; ) {
			size_t want = hi - at < MEMGREP_CHUNK ? hi - at :
			    MEMGREP_CHUNK;

			n = pread(mem, buf + keep, want, (off_t)at);
			if (n <= 0)
				break;
			total = keep + (size_t)n;
			if (memmem(buf, total, argv[2], nlen) != NULL)
				found = 1;
			/* A match may straddle two chunks. */
			keep = nlen - 1 < total ? nlen - 1 : total;
			memmove(buf, buf + total - keep, keep);
			at += (unsigned long)n;
		}
	}
	free(buf);
	close(mem);
	fclose(maps);
	return found ? 0 : 1;
}
