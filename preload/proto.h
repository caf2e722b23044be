/*
 * proto.h - the wire protocol between the preload (client) and the
 * helper (`modelgate helper`, server).
 *
 * Transport: a SOCK_SEQPACKET UNIX socket in the abstract namespace whose
 * name is random and known only to the process tree that started the
 * helper.  One message is one record (no framing to get wrong).  A client
 * keeps a connection across requests, one request at a time on it (a
 * process holds one per thread that is inside a round trip at the same
 * moment; a forked child never uses its parent's: see client.c).  Both
 * sides check SO_PEERCRED once per connection: the helper serves only its
 * own uid, and the client talks only to a listener created by its own
 * uid.
 *
 * Request: one message, struct mg_proto_req followed by the path (not
 * NUL-terminated, req.pathlen bytes), with exactly one fd in SCM_RIGHTS:
 * the open file the caller is about to read.  The helper reads it with
 * pread/mmap only, so the caller's file offset never moves.
 * Replies: zero or more MG_PROTO_PROGRESS messages (one every 250 ms
 * while the helper works on, or holds, the request: the client's timeout
 * is a silence, not a total), then one final message (DECIDED or FAILED)
 * carrying the request's seq.  A progress message with seq 0 means "your
 * request is queued behind another one of this worker".  A client that
 * closes its connection cancels what the helper was doing for it.
 */
#ifndef MG_PROTO_H
#define MG_PROTO_H

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Version 2: enum mg_verdict gained MG_VERDICT_UNKNOWN_CALL (values of
 * error and dangerous moved up one).  Version 3: persistent connections,
 * seq, progress messages, elapsed time.  A helper and a preload of
 * different builds must not understand each other's messages. */
#define MG_PROTO_MAGIC 0x4d47a003u /* "MG", protocol version 3 */
/* Why 4096: PATH_MAX; the path is for messages and extension checks only. */
#define MG_PROTO_PATH_MAX 4096
#define MG_PROTO_REASON_MAX 256

struct mg_proto_req {
	uint32_t magic;   /* MG_PROTO_MAGIC */
	uint32_t pathlen; /* bytes of path that follow, <= MG_PROTO_PATH_MAX */
	uint32_t seq;     /* the client's request number, never 0 */
	uint32_t pad;
};

/* Reply status: did the helper decide, or could it not? */
enum mg_proto_status {
	MG_PROTO_DECIDED = 0, /* verdict and action are the helper's decision */
	MG_PROTO_FAILED = 1,  /* no decision (read error, bad request...):
	                         reason says why; the client denies */
	MG_PROTO_PROGRESS = 2, /* not final: the helper is still at work
	                          (done: bytes read so far) */
};

struct mg_proto_rep {
	uint32_t magic;    /* MG_PROTO_MAGIC */
	uint8_t status;    /* enum mg_proto_status */
	uint8_t verdict;   /* enum mg_verdict */
	uint8_t action;    /* enum mg_action, per the helper's policy */
	uint8_t pad;
	uint32_t seq;      /* the request's seq; 0 in a "queued" progress */
	uint32_t elapsed_ms; /* final: time the helper spent on it */
	uint64_t done;     /* progress: bytes the worker has read so far */
	char format[24];   /* outer format name, NUL-terminated */
	char sha256[65];   /* lowercase hex or "" when not computed */
	char reason[MG_PROTO_REASON_MAX]; /* NUL-terminated, one line */
};

/* Milliseconds from @t (CLOCK_MONOTONIC) to now: both ends time the
 * protocol's waits with it. */
static inline long long
mg_proto_ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - t->tv_sec) * 1000 +
	       (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* What both clients (the preload, the watch daemon) send: @req (its
 * pathlen set here), @path cut to MG_PROTO_PATH_MAX (it is for messages and
 * the extension test; the helper scans the fd), and @fd as SCM_RIGHTS,
 * laid out in @msg over @iov and @cbuf (CMSG_SPACE(sizeof(int)) bytes). */
static inline void
mg_proto_req_msg(struct msghdr *msg, struct iovec iov[2], char *cbuf,
                 size_t cbuflen, struct mg_proto_req *req, const char *path,
                 int fd)
{
	size_t plen = strlen(path);
	struct cmsghdr *c;

	if (plen > MG_PROTO_PATH_MAX)
		plen = MG_PROTO_PATH_MAX;
	req->pathlen = (uint32_t)plen;
	iov[0].iov_base = req;
	iov[0].iov_len = sizeof(*req);
	iov[1].iov_base = (void *)path;
	iov[1].iov_len = plen;
	memset(msg, 0, sizeof(*msg));
	memset(cbuf, 0, cbuflen);
	msg->msg_iov = iov;
	msg->msg_iovlen = 2;
	msg->msg_control = cbuf;
	msg->msg_controllen = cbuflen;
	c = CMSG_FIRSTHDR(msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
}

#endif /* MG_PROTO_H */
