/*
 * watch_scan.c - the watch daemon's scanner: a `modelgate helper`.
 *
 * Why the helper and not a scan in the daemon: the daemon is root and
 * the bytes are hostile.  The helper is the preload's scanner, with its
 * seccomp allow-list (it can read the fds it is handed and answer,
 * nothing else), its workers (a crash on a hostile file costs one worker,
 * replaced), its stall and budget watch, the policy's verdict -> action,
 * pins and the hash cache: the daemon decides exactly what the preload
 * would.  It receives the event's own fd (the very open file the opener
 * will read), so no path can be swapped between scan and load.
 *
 * Started with fork+exec, not posix_spawn: glibc's posix_spawn waits for
 * the exec, and the exec opens the modelgate binary, perhaps on a watched
 * filesystem, an open only this daemon can answer.  The daemon is a child
 * subreaper, so the helper's server (which daemonises) stays its child,
 * its workers its grandchildren, and the dbm reader a worker forks a
 * great-grandchild (mg_watch_is_ours).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "watch.h"

static int
make_listener(struct mg_watch_helper *h)
{
	struct sockaddr_un sa;
	unsigned char rnd[8];
	int s, n, i;

	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	for (i = 0; i < 4; i++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			break;
		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		/* sun_path[0] == '\0': the abstract namespace */
		n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1,
		             "modelgate-watch.%d.%02x%02x%02x%02x%02x%02x%02x%02x",
		             (int)getpid(), rnd[0], rnd[1], rnd[2], rnd[3],
		             rnd[4], rnd[5], rnd[6], rnd[7]);
		h->salen = (unsigned)(offsetof(struct sockaddr_un, sun_path) +
		                      1 + (size_t)n);
		if (bind(s, (struct sockaddr *)&sa, h->salen) == 0 &&
		    listen(s, 128) == 0) {
			memcpy(h->sun, sa.sun_path, sizeof(h->sun));
			return s;
		}
	}
	close(s);
	return -1;
}

int
mg_watch_helper_start(struct mg_watch_helper *h, const char *self,
                      const char *policy, char *why, size_t whylen)
{
	char *argv[7];
	sigset_t none;
	int lst, pfd[2] = { -1, -1 }, argc = 0, dn;
	pid_t pid;

	h->nidle = 0;
	lst = make_listener(h);
	if (lst < 0 || pipe2(pfd, O_CLOEXEC) != 0) {
		snprintf(why, whylen, "cannot create the helper's socket: %s",
		         strerror(errno));
		goto fail;
	}
	argv[argc++] = (char *)"modelgate";
	argv[argc++] = (char *)"helper";
	argv[argc++] = (char *)"--listen-fd=3";
	argv[argc++] = (char *)"--lifeline-fd=4";
	if (policy != NULL) {
		argv[argc++] = (char *)"--policy";
		argv[argc++] = (char *)policy;
	}
	argv[argc] = NULL;
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "cannot start the helper: %s",
		         strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		/* the child: only async-signal-safe calls until exec; the
		 * daemon's blocked signals (signalfd) are not the helper's */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dn = open("/dev/null", O_RDWR);
		if (dn < 0 || dup2(dn, 0) < 0 || dup2(dn, 1) < 0 ||
		    dup2(lst, 3) != 3 || dup2(pfd[0], 4) != 4)
			_exit(127);
		execv(self, argv);
		_exit(127);
	}
	h->starter = pid;
	close(lst);
	close(pfd[0]);
	h->life_w = pfd[1];
	return 0;
fail:
	if (lst >= 0)
		close(lst);
	if (pfd[0] >= 0) {
		close(pfd[0]);
		close(pfd[1]);
	}
	return -1;
}

/* A new connection to the helper, checked to be root's (after the
 * helper died, anyone could bind its name). */
static int
connect_helper(struct mg_watch_helper *h, char *why, size_t whylen)
{
	struct sockaddr_un sa;
	struct timeval tv = { 2, 0 };
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (s < 0) {
		snprintf(why, whylen, "cannot create a socket: %s",
		         strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, h->sun, sizeof(sa.sun_path));
	/* Why a send timeout: connect and sendmsg block on a full backlog
	 * or socket; the event loop must not stop for long. */
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&sa, h->salen) != 0) {
		snprintf(why, whylen, "cannot reach the helper: %s",
		         strerror(errno));
		close(s);
		return -1;
	}
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
	    cred.uid != geteuid()) {
		snprintf(why, whylen, "the helper socket belongs to another "
		         "user (possible spoofing)");
		close(s);
		return -1;
	}
	return s;
}

static int
send_req(int s, int fd, const char *path, uint32_t seq)
{
	struct mg_proto_req req = { MG_PROTO_MAGIC, 0, seq, 0 };
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov[2];
	struct msghdr msg;

	mg_proto_req_msg(&msg, iov, cbuf, sizeof(cbuf), &req, path, fd);
	while (sendmsg(s, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

int
mg_watch_helper_send(struct mg_watch_helper *h, int fd, const char *path,
                     uint32_t seq, char *why, size_t whylen)
{
	int s;

	/* An idle connection may have been closed by its worker (it
	 * crashed): try each, then a fresh one. */
	while (h->nidle > 0) {
		s = h->idle[--h->nidle];
		if (send_req(s, fd, path, seq) == 0)
			return s;
		close(s);
	}
	s = connect_helper(h, why, whylen);
	if (s < 0)
		return -1;
	if (send_req(s, fd, path, seq) != 0) {
		snprintf(why, whylen, "cannot send to the helper: %s",
		         strerror(errno));
		close(s);
		return -1;
	}
	return s;
}

int
mg_watch_helper_read(int c, uint32_t seq, struct mg_proto_rep *rep)
{
	ssize_t n;

	do
		n = recv(c, rep, sizeof(*rep), MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return -2;
	if (n != (ssize_t)sizeof(*rep) || rep->magic != MG_PROTO_MAGIC)
		return -1;
	if (rep->status == MG_PROTO_PROGRESS || rep->seq != seq)
		return 0;
	rep->reason[sizeof(rep->reason) - 1] = '\0';
	rep->format[sizeof(rep->format) - 1] = '\0';
	rep->sha256[sizeof(rep->sha256) - 1] = '\0';
	return 1;
}

void
mg_watch_helper_release(struct mg_watch_helper *h, int c)
{
	if (h->nidle < (int)(sizeof(h->idle) / sizeof(h->idle[0])))
		h->idle[h->nidle++] = c;
	else
		close(c);
}

void
mg_watch_helper_stop(struct mg_watch_helper *h)
{
	while (h->nidle > 0)
		close(h->idle[--h->nidle]);
	if (h->life_w >= 0)
		close(h->life_w);
	h->life_w = -1;
}
