/*
 * fileio.c - the two loops every command that writes files needs:
 * writing a whole buffer and copying the rest of a file, each retried on
 * EINTR and on short writes.
 */
#include <errno.h>
#include <unistd.h>

#include "cli.h"

int
mg_cli_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t w;

	while (len > 0) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			/* Why: write() returning 0 leaves errno as it was. */
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int
mg_cli_copy_fd(int out, int in)
{
	char chunk[65536];
	ssize_t r;

	while ((r = read(in, chunk, sizeof(chunk))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || mg_cli_write_all(out, chunk, (size_t)r) != 0)
			return -1;
	}
	return 0;
}
