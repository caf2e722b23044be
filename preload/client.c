/*
 * client.c - the preload's side of the helper: start it, ask it.
 *
 * One helper per process tree.  The first process that needs a verdict
 * creates a listening SOCK_SEQPACKET socket under a random abstract name,
 * starts `modelgate helper` with that socket as fd 3 and the read end of
 * a "lifeline" pipe as fd 4, and closes its own copy of the listener.
 * Threads and forked children (DataLoader workers) inherit the name and
 * the lifeline's write end, and reach the same helper; every request is
 * its own connection, so replies cannot interleave, and a child forked
 * while another thread was mid-request simply never sees that reply.
 * exec() drops the lifeline (O_CLOEXEC) and the name (memory), so an
 * exec'd child starts its own helper.  When the last holder of the
 * lifeline exits, the helper sees POLLHUP and exits: no daemon outlives
 * its process tree.
 *
 * Rejected: an inherited socketpair (forked children would share one
 * stream and read each other's replies); a filesystem socket (a
 * directory to create, clean up and protect).  Spoofing: the abstract
 * name is random, and the client checks with SO_PEERCRED that the
 * listener was created by its own euid (after the helper dies another
 * user could bind the name); the helper checks its clients the same way.
 *
 * The helper is started with an empty environment (it reads none; the
 * policy path the preload decided on is passed as an argument), all
 * signals at their defaults, and /dev/null as stdin/stdout/stderr (it
 * reports through its replies).  It daemonises (forks, the first process
 * exits at once) so it is never a child the program might reap or wait
 * for; we reap the short-lived first process ourselves.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"


static pthread_mutex_t spawn_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sockaddr_un helper_addr;
static socklen_t helper_addrlen;
static unsigned helper_gen; /* 0: never started; bumped per start */
static int lifeline = -1;   /* write end; the helper exits on its EOF */
static ino_t lifeline_ino;  /* its pipe's inode: the program may have closed
                               the fd and reused the number */

/*
 * Descriptors other threads have open for a moment (a request's socket,
 * a listener being handed over).  A fork() child gets copies of them but
 * not the threads that would close them: the atfork handler closes them,
 * so a DataLoader worker forked mid-request leaks nothing.
 */
enum { INFLIGHT = 64 }; /* why 64: one per thread inside a round trip;
                           past that a fork child may keep a socket */
static int inflight[INFLIGHT];

/*
 * Why a lock as well as the table: a fork() between socket() and
 * inflight_add() (or between inflight_drop() and close()) would hand the
 * child a descriptor the table does not know.  Creating-and-recording and
 * forgetting-and-closing happen under fork_lock, and the atfork prepare
 * handler takes it, so fork() sees either both steps or neither.  Held
 * only around those few system calls, never across a round trip.
 */
static pthread_mutex_t fork_lock = PTHREAD_MUTEX_INITIALIZER;

static void
inflight_add(int fd)
{
	int i;

	for (i = 0; i < INFLIGHT; i++)
		if (__atomic_load_n(&inflight[i], __ATOMIC_RELAXED) == 0) {
			int zero = 0;

			/* fd + 1 so that the zeroed table means "empty" */
			if (__atomic_compare_exchange_n(&inflight[i], &zero,
			                                fd + 1, 0,
			                                __ATOMIC_SEQ_CST,
			                                __ATOMIC_RELAXED))
				return;
		}
}

/* Forget @fd; close it too if @do_close. */
static void
inflight_drop(int fd, int do_close)
{
	int i, want = fd + 1;

	for (i = 0; i < INFLIGHT; i++)
		if (__atomic_compare_exchange_n(&inflight[i], &want, 0, 0,
		                                __ATOMIC_SEQ_CST,
		                                __ATOMIC_RELAXED))
			break;
		else
			want = fd + 1;
	if (do_close)
		mg_raw_close(fd);
}

void
mg_client_atfork_prepare(void)
{
	pthread_mutex_lock(&fork_lock);
}

void
mg_client_atfork_parent(void)
{
	pthread_mutex_unlock(&fork_lock);
}

void
mg_client_atfork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_t fresh2 = PTHREAD_MUTEX_INITIALIZER;
	int i, v;

	spawn_lock = fresh;
	fork_lock = fresh2;
	for (i = 0; i < INFLIGHT; i++) {
		v = __atomic_exchange_n(&inflight[i], 0, __ATOMIC_SEQ_CST);
		if (v > 0)
			mg_raw_close(v - 1);
	}
}

/* Move @fd to >= 10 (so the dup2 to 3 and 4 in the child cannot clobber
 * one another), close-on-exec.  Returns the new fd or -1. */
static int
high_fd(int fd)
{
	int n;

	if (fd < 0 || fd >= 10)
		return fd;
	n = fcntl(fd, F_DUPFD_CLOEXEC, 10);
	mg_raw_close(fd);
	return n;
}

static int
make_listener(struct sockaddr_un *sa, socklen_t *salen)
{
	unsigned char rnd[8];
	int s, n, i;

	s = high_fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
	if (s < 0)
		return -1;
	for (i = 0; i < 4; i++) {
		if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(rnd))
			break;
		memset(sa, 0, sizeof(*sa));
		sa->sun_family = AF_UNIX;
		/* sun_path[0] == '\0': abstract namespace, no file. */
		n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1,
		             "modelgate.%u.%d.%02x%02x%02x%02x%02x%02x%02x%02x",
		             (unsigned)geteuid(), (int)getpid(), rnd[0], rnd[1],
		             rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
		*salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		                     1 + (size_t)n);
		if (bind(s, (struct sockaddr *)sa, *salen) == 0 &&
		    listen(s, 128) == 0)
			return s;
	}
	mg_raw_close(s);
	return -1;
}

static int
spawn_helper_process(int lst, int life_r, char *why, size_t whylen)
{
	char *argv[10], *envp[1] = { NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int argc = 0, rc, status = 0;
	pid_t pid;

	argv[argc++] = mg_state.helper;
	argv[argc++] = "helper";
	argv[argc++] = "--listen-fd=3";
	argv[argc++] = "--lifeline-fd=4";
	if (mg_state.policy_path[0] != '\0') {
		argv[argc++] = "--policy";
		argv[argc++] = mg_state.policy_path;
	}
	if (mg_state.secure)
		argv[argc++] = "--secure";
	argv[argc] = NULL;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, lst, 3);
	posix_spawn_file_actions_adddup2(&fa, life_r, 4);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
	                         POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	rc = posix_spawn(&pid, mg_state.helper, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		snprintf(why, whylen, "cannot start the helper %s: %s",
		         mg_state.helper, strerror(rc));
		return -1;
	}
	/* The first process exits as soon as it has forked the server.
	 * ECHILD (SIGCHLD ignored, or the program reaped it) is fine. */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		snprintf(why, whylen, "the helper %s failed to start (exit %d)",
		         mg_state.helper, WEXITSTATUS(status));
		return -1;
	}
	return 0;
}

/* Start a helper; called with spawn_lock held.  0 or -1 with @why. */
static int
spawn_helper(char *why, size_t whylen)
{
	struct sockaddr_un sa;
	socklen_t salen = 0;
	int lst, pfd[2] = { -1, -1 }, rc = -1;
	struct stat st;

	if (mg_state.helper[0] == '\0') {
		snprintf(why, whylen, "the modelgate helper binary was not "
		         "found next to the library or in %s", MG_BINDIR);
		return -1;
	}
	pthread_mutex_lock(&fork_lock);
	lst = make_listener(&sa, &salen);
	if (lst >= 0 && pipe2(pfd, O_CLOEXEC) == 0) {
		pfd[0] = high_fd(pfd[0]);
		pfd[1] = high_fd(pfd[1]);
	}
	if (lst >= 0)
		inflight_add(lst);
	if (pfd[0] >= 0)
		inflight_add(pfd[0]);
	if (pfd[1] >= 0)
		inflight_add(pfd[1]);
	pthread_mutex_unlock(&fork_lock);
	if (lst < 0 || pfd[0] < 0 || pfd[1] < 0) {
		snprintf(why, whylen, "cannot create the helper socket: %s",
		         strerror(errno));
		goto out;
	}
	if (
	    spawn_helper_process(lst, pfd[0], why, whylen) != 0)
		goto out;
	/* An old, stuck helper exits too -- but only close the fd if it is
	 * still our pipe, never a descriptor the program reused. */
	if (lifeline >= 0 && fstat(lifeline, &st) == 0 &&
	    S_ISFIFO(st.st_mode) && st.st_ino == lifeline_ino)
		mg_raw_close(lifeline);
	if (fstat(pfd[1], &st) == 0)
		lifeline_ino = st.st_ino;
	lifeline = pfd[1];
	inflight_drop(pfd[1], 0); /* from now on a fork child should keep it */
	pfd[1] = -1;
	helper_addr = sa;
	helper_addrlen = salen;
	helper_gen++;
	rc = 0;
out:
	pthread_mutex_lock(&fork_lock);
	if (lst >= 0)
		inflight_drop(lst, 1);
	if (pfd[0] >= 0)
		inflight_drop(pfd[0], 1);
	if (pfd[1] >= 0)
		inflight_drop(pfd[1], 1);
	pthread_mutex_unlock(&fork_lock);
	return rc;
}

/* The current helper's address (starting one if none, or if @stale is
 * the generation that just failed).  Returns the generation, 0 on error. */
static unsigned
current_helper(unsigned stale, struct sockaddr_un *sa, socklen_t *salen,
               char *why, size_t whylen)
{
	unsigned gen = 0;

	pthread_mutex_lock(&spawn_lock);
	if ((helper_gen == 0 || helper_gen == stale) &&
	    spawn_helper(why, whylen) != 0)
		goto out;
	*sa = helper_addr;
	*salen = helper_addrlen;
	gen = helper_gen;
out:
	pthread_mutex_unlock(&spawn_lock);
	return gen;
}

/*
 * Why a deadline: a socket call with SO_RCVTIMEO/SO_SNDTIMEO that a signal
 * interrupts fails with EINTR and is never resumed with the time left, so
 * retrying with the full timeout never ends in a program with a periodic
 * timer signal (profilers, watchdogs): a hung helper blocked it for ever.
 * After EINTR: 0 with the timeouts set to what is left of @end, or -1
 * (errno EAGAIN) once @end has passed.
 */
static int
time_left(int s, const struct timespec *end)
{
	struct timespec now;
	struct timeval tv;
	long long us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (long long)(end->tv_sec - now.tv_sec) * 1000000 +
	     (end->tv_nsec - now.tv_nsec) / 1000;
	if (us <= 0) { /* and never 0 below: a zero timeout means none */
		errno = EAGAIN;
		return -1;
	}
	tv.tv_sec = (time_t)(us / 1000000);
	tv.tv_usec = (suseconds_t)(us % 1000000);
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return 0;
}

static enum mg_err
send_request(int s, int fd, const char *path, const struct timespec *end)
{
	struct mg_proto_req req = { MG_PROTO_MAGIC, 0 };
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov[2];
	struct msghdr msg;
	struct cmsghdr *c;
	size_t plen = strlen(path);

	/* Why truncate: the path is for messages and the extension test;
	 * the helper scans the fd, whatever the name. */
	if (plen > MG_PROTO_PATH_MAX)
		plen = MG_PROTO_PATH_MAX;
	req.pathlen = (uint32_t)plen;
	iov[0].iov_base = &req;
	iov[0].iov_len = sizeof(req);
	iov[1].iov_base = (void *)path;
	iov[1].iov_len = plen;
	memset(&msg, 0, sizeof(msg));
	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	while (sendmsg(s, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR || time_left(s, end) != 0)
			return MG_ERR_PROTO;
	return MG_OK;
}

static enum mg_err
recv_reply(int s, struct mg_proto_rep *rep, const struct timespec *end,
           char *why, size_t whylen)
{
	ssize_t n;

	do
		n = recv(s, rep, sizeof(*rep), 0);
	while (n < 0 && errno == EINTR && time_left(s, end) == 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		snprintf(why, whylen, "the helper did not answer within %d s",
		         mg_state.timeout_s);
		return MG_ERR_TIMEOUT;
	}
	if (n != (ssize_t)sizeof(*rep) || rep->magic != MG_PROTO_MAGIC) {
		snprintf(why, whylen, "the helper died or answered garbage "
		         "while scanning");
		return MG_ERR_PROTO;
	}
	rep->reason[sizeof(rep->reason) - 1] = '\0';
	rep->format[sizeof(rep->format) - 1] = '\0';
	rep->sha256[sizeof(rep->sha256) - 1] = '\0';
	return MG_OK;
}

/* One request on its own connection. */
static enum mg_err
request(const struct sockaddr_un *sa, socklen_t salen, int fd,
        const char *path, struct mg_proto_rep *rep, char *why, size_t whylen)
{
	struct timeval tv = { mg_state.timeout_s, 0 };
	struct timespec end;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	enum mg_err err = MG_ERR_IO;
	int s, rc;

	pthread_mutex_lock(&fork_lock);
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s >= 0)
		inflight_add(s);
	pthread_mutex_unlock(&fork_lock);
	if (s < 0) {
		snprintf(why, whylen, "cannot create a socket: %s",
		         strerror(errno));
		return MG_ERR_IO;
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += mg_state.timeout_s;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* A UNIX connect interrupted by a signal may complete anyway. */
	rc = connect(s, (const struct sockaddr *)sa, salen);
	while (rc != 0 && errno == EINTR && time_left(s, &end) == 0)
		rc = connect(s, (const struct sockaddr *)sa, salen);
	if (rc != 0 && errno == EISCONN)
		rc = 0;
	if (rc != 0) {
		snprintf(why, whylen, "cannot reach the helper: %s",
		         strerror(errno));
		goto out;
	}
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
	    cred.uid != geteuid()) {
		snprintf(why, whylen, "the helper socket belongs to another "
		         "user (possible spoofing)");
		err = MG_ERR_PERM;
		goto out;
	}
	err = send_request(s, fd, path, &end);
	if (err != MG_OK)
		snprintf(why, whylen, "the helper went away: %s",
		         strerror(errno));
	else
		err = recv_reply(s, rep, &end, why, whylen);
out:
	pthread_mutex_lock(&fork_lock);
	inflight_drop(s, 1);
	pthread_mutex_unlock(&fork_lock);
	return err;
}

enum mg_err
mg_client_ask(int fd, const char *path, struct mg_proto_rep *rep, char *why,
              size_t whylen)
{
	struct sockaddr_un sa;
	socklen_t salen = 0;
	unsigned gen, stale = 0;
	enum mg_err err = MG_ERR_IO;
	int attempt, cancel, ignored_state;

	/* No cancellation while we may hold spawn_lock or a half-done
	 * request (waitpid, connect and recv are cancellation points). */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	/* Two attempts: the helper may have exited (killed, or its process
	 * tree's lifeline closed under a fork child); a second failure
	 * means something is really wrong, and the open is denied. */
	for (attempt = 0; attempt < 2; attempt++) {
		gen = current_helper(stale, &sa, &salen, why, whylen);
		if (gen == 0) {
			err = MG_ERR_IO;
			break;
		}
		err = request(&sa, salen, fd, path, rep, why, whylen);
		if (err == MG_OK)
			break;
		if (err == MG_ERR_TIMEOUT) {
			/* Replace the hung helper for the next open (its
			 * lifeline closes); this one is denied. */
			char ignored[MG_PROTO_REASON_MAX];

			current_helper(gen, &sa, &salen, ignored,
			               sizeof(ignored));
			break;
		}
		stale = gen;
	}
	pthread_setcancelstate(cancel, &ignored_state);
	return err;
}
