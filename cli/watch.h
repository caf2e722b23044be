/*
 * watch.h - private to `modelgate watch` (watch.c, watch_scope.c,
 * watch_scan.c): the fanotify daemon's parts.
 *
 * watch.c        options, set-up, the event loop, answers and the log
 * watch_scope.c  is this process in scope (Python), is this file a model
 *                candidate
 * watch_scan.c   the confined helper (`modelgate helper`) the daemon
 *                hands candidates to, and its connections
 */
#ifndef MG_WATCH_H
#define MG_WATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "../policy/policy.h"
#include "../preload/proto.h"

/*
 * 1 if the process @pid is in scope under @p: its executable's name
 * matches the policy's `processes`, or the CPython runtime is in it (a
 * mapped libpython, or an ELF object it has mapped whose dynamic string
 * table names Py_IsInitialized).  The executable's path goes to
 * @exe[@cap] ("?" when unreadable).  A process that cannot be inspected
 * (gone, or /proc unreadable) is in scope: fail closed.  Reads only
 * /proc files: never opens a file on a watched filesystem (that would
 * wait for this very daemon).
 */
int mg_watch_in_scope(const struct mg_policy *p, pid_t pid, char *exe,
                      size_t cap);

/* 1 if @pid is this daemon's child, grandchild or great-grandchild (the
 * helper's processes: it is reparented to us, a child subreaper; its
 * workers; the dbm reader a worker forks). */
int mg_watch_is_ours(pid_t pid);

/*
 * 1 if the open file @fd named @path (fstat @st) is a model candidate
 * under @p, the preload's test (preload/gate.c, is_candidate) rebuilt
 * here: a model extension or a wrapped model name, else (unless the
 * name proves plain code or data, or the policy does not sniff) a model
 * magic in its first bytes, read with pread (the event fd's offset is
 * its own).  Non-regular files and files under 2 bytes are not.
 */
int mg_watch_candidate(const struct mg_policy *p, int fd, const char *path,
                       const struct stat *st);

/* The scanning helper (watch_scan.c). */
struct mg_watch_helper {
	char sun[108];       /* abstract socket name (sun_path) */
	unsigned salen;
	int life_w;          /* lifeline: the helper ends when it closes */
	pid_t starter;       /* the first process (exits at once) */
	int idle[16];        /* connections free for a request */
	int nidle;
};

/*
 * Start `@self helper` (the modelgate binary at @self) with @policy (or
 * NULL) on a fresh listener.  fork+exec, never vfork: the exec's own
 * open may be a watched file, which only this (running) process can
 * answer.  0, or -1 with @why.
 */
int mg_watch_helper_start(struct mg_watch_helper *h, const char *self,
                          const char *policy, char *why, size_t whylen);

/*
 * Send the request (@fd, @path, @seq) on a connection (an idle one, or
 * a new one checked with SO_PEERCRED to be root's).  The connection's
 * descriptor, or -1 with @why.  Does not wait for the reply.
 */
int mg_watch_helper_send(struct mg_watch_helper *h, int fd, const char *path,
                         uint32_t seq, char *why, size_t whylen);

/*
 * Read one message from the connection @c into @rep.  1: the final reply
 * for @seq, 0: a progress message (or one for an older request: ignore
 * it), -2: nothing to read now, -1: the connection failed (close it).
 */
int mg_watch_helper_read(int c, uint32_t seq, struct mg_proto_rep *rep);

/* Give the connection @c back after a final reply (or close it when the
 * pool is full). */
void mg_watch_helper_release(struct mg_watch_helper *h, int c);

/* Let the helper go: its idle connections and its lifeline are closed
 * (it exits when no connection is left to answer). */
void mg_watch_helper_stop(struct mg_watch_helper *h);

#endif /* MG_WATCH_H */
