/*
 * host_run.c - running a program the way a fresh process on the host
 * starts (a clean environment, stdin /dev/null) and capturing what it
 * says: `modelgate host` proves with it that the installed library loads
 * and the helper answers before /etc/ld.so.preload names the library,
 * and `host status` that a fresh process has it mapped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host.h"

/* Read @fo (stdout) and @fe (stderr) until both end, keeping what fits. */
static void
drain(int fo, int fe, struct mg_host_run *r)
{
	struct pollfd p[2] = { { fo, POLLIN, 0 }, { fe, POLLIN, 0 } };
	char chunk[4096];
	int left = 2, i;
	ssize_t n;

	while (left > 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (i = 0; i < 2; i++) {
			char *dst = i == 0 ? r->out : r->err;
			size_t cap = i == 0 ? sizeof(r->out) : sizeof(r->err);
			size_t *len = i == 0 ? &r->nout : &r->nerr;

			if (p[i].fd < 0 || p[i].revents == 0)
				continue;
			n = read(p[i].fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				p[i].fd = -1;
				left--;
				continue;
			}
			if ((size_t)n > cap - 1 - *len)
				n = (ssize_t)(cap - 1 - *len);
			memcpy(dst + *len, chunk, (size_t)n);
			*len += (size_t)n;
			dst[*len] = '\0';
		}
	}
}

/* Run @argv with the environment @envp, stdin /dev/null, capturing its
 * output into @r.  0, or -1 (errno set) when it could not be started. */
int
mg_host_run_capture(char *const argv[], char *const envp[],
                    struct mg_host_run *r)
{
	posix_spawn_file_actions_t fa;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, rc;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
		rc = errno;
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	if (rc == 0) {
		drain(po[0], pe[0], r);
		while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
			;
	}
out:
	if (po[0] >= 0)
		close(po[0]);
	if (pe[0] >= 0)
		close(pe[0]);
	if (po[1] >= 0)
		close(po[1]);
	errno = rc;
	return rc ? -1 : 0;
}

/* 1 if @r ended with exit status 0. */
int
mg_host_exited_0(const struct mg_host_run *r)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
}

/* The first line of @s, for a message (at most 300 bytes). */
const char *
mg_host_first_line(const char *s, char *out, size_t cap)
{
	size_t n = strcspn(s, "\n");

	snprintf(out, cap, "%.*s", (int)(n < 300 ? n : 300), s);
	return out;
}

/* Run `@bin --version` the way the preload would start it (a clean
 * environment).  1 if it answered "modelgate VERSION", with the line in
 * @line; 0 otherwise, @line saying why. */
int
mg_host_helper_runs(const char *bin, char *line, size_t cap)
{
	char *argv[] = { (char *)bin, "--version", NULL };
	char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	struct mg_host_run *r = malloc(sizeof(*r));
	char said[320];
	int ok = 0;

	if (r == NULL) {
		snprintf(line, cap, "out of memory");
		return 0;
	}
	if (mg_host_run_capture(argv, envp, r) != 0)
		snprintf(line, cap, "cannot run it: %s", strerror(errno));
	else if (!mg_host_exited_0(r) || strncmp(r->out, "modelgate ", 10) != 0)
		snprintf(line, cap, "`%s --version` failed (status %d): %s",
		         bin, r->status, mg_host_first_line(r->nerr ? r->err :
		                                            r->out, said,
		                                            sizeof(said)));
	else
		ok = mg_host_first_line(r->out, line, cap) != NULL;
	free(r);
	return ok;
}
