/*
 * sandbox.h - the "sandbox" action: lock the process out of the network
 * before a model of verdict "unknown" is loaded.
 *
 * Called by the interposer inside the intercepted open, before the fd is
 * returned, so the unpickling that follows runs under the lock.
 *
 * What the lock is (README-sandbox.md says it for users): a seccomp filter
 * on every thread, inherited by every child, that fails with EACCES
 *   - socket() and socketpair() of every address family but AF_UNIX (the
 *     family is compared on its low 32 bits, as the kernel reads it),
 *   - io_uring_setup/enter/register (io_uring can open sockets itself),
 *   - ptrace, process_vm_writev, pidfd_getfd (borrowing a neighbour's
 *     network),
 *   - execve/execveat when conf->deny_exec,
 *   - every syscall of a foreign ABI (i386 int 0x80, x32),
 * with SECCOMP_FILTER_FLAG_LOG, so the kernel's audit log records each
 * blocked attempt (type=1326 SECCOMP).  conf->readonly_paths adds a Landlock
 * layer (calling thread and its future children only: this kernel has no
 * Landlock TSYNC).  conf->dry_run turns every "fail" into "log and allow"
 * (SECCOMP_RET_LOG) and leaves Landlock out: a dry run never denies.
 */
#ifndef MG_SANDBOX_H
#define MG_SANDBOX_H

#include <stddef.h>

#include "../policy/policy.h"

/*
 * Install the no-network lock described by @conf (NULL: all options off)
 * on every thread of the calling process (and, by inheritance, its future
 * children).  Idempotent: a second call after success returns 0 without
 * stacking another filter.  Thread-safe and safe across fork (a child
 * inherits the lock and the "active" state).
 * Returns 0 on success, or a negative errno with a human-readable reason in
 * @why[0..@whylen) when the lock could not be installed; the caller must
 * then deny the open (never a silent pass):
 *   -ENOSYS      the kernel lacks seccomp filters, or Landlock when
 *                readonly_paths is set;
 *   -EOPNOTSUPP  Landlock is built but disabled at boot;
 *   -ESRCH       another thread could not be synchronised (it runs its own
 *                seccomp filter), so the lock would not cover it;
 *   -EINVAL      a readonly_paths entry is not absolute (or "~/...");
 *   -ENOMEM, -EPERM, -EFAULT, -ENAMETOOLONG  as the kernel or libseccomp
 *                reported them.
 * A failure after the seccomp filter was loaded (Landlock restrict) leaves
 * the filter in place: the process is locked *and* the open is denied.
 * Async-signal-unsafe (allocates while building the filter, once).
 */
int mg_sandbox_lock(const struct mg_sandbox_conf *conf, char *why,
                    size_t whylen);

/* 1 if this process has already been locked by mg_sandbox_lock(). */
int mg_sandbox_active(void);

/*
 * One-line description of the lock @conf (NULL: defaults) installs, for
 * the audit log's "sandboxed PID after PATH (...)" record, written into
 * @buf[0..@len) (always NUL-terminated when @len > 0).  Names what is
 * blocked, whether it is a dry run, and where blocked attempts are recorded
 * (the kernel audit log, or a warning that this host's
 * /proc/sys/kernel/seccomp/actions_logged drops them).  Returns the length
 * snprintf would have written.  Allocation-free.
 */
int mg_sandbox_describe(const struct mg_sandbox_conf *conf, char *buf,
                        size_t len);

#endif /* MG_SANDBOX_H */
