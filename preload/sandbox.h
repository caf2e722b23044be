/*
 * sandbox.h - the "sandbox" action: lock the process out of the network
 * before a model of verdict "unknown" is loaded.
 *
 * Called by the interposer inside the intercepted open, before the fd is
 * returned, so the unpickling that follows runs under the lock.
 */
#ifndef MG_SANDBOX_H
#define MG_SANDBOX_H

#include <stddef.h>

#include "../policy/policy.h"

/*
 * Install the no-network lock described by @conf on every thread of the
 * calling process (and, by inheritance, its future children).  Idempotent:
 * a second call after success returns 0 without stacking another filter.
 * Returns 0 on success, or a negative errno (-ENOSYS, -EPERM, -EINVAL...)
 * with a human-readable reason in @why[0..@whylen) when the lock could not
 * be installed; the caller must then deny the open (never a silent pass).
 * Async-signal-unsafe; allocation-free after the first call.
 */
int mg_sandbox_lock(const struct mg_sandbox_conf *conf, char *why,
                    size_t whylen);

/* 1 if this process has already been locked by mg_sandbox_lock(). */
int mg_sandbox_active(void);

#endif /* MG_SANDBOX_H */
