/*
 * landlock.h - private to preload/: the Landlock layer of the sandbox
 * (readonly_paths), used by sandbox.c only.
 */
#ifndef MG_LANDLOCK_H
#define MG_LANDLOCK_H

#include <stddef.h>

/*
 * The Landlock ABI version of the running kernel (>= 1), or a negative
 * errno: -ENOSYS (not built in), -EOPNOTSUPP (disabled at boot).
 */
int mg_landlock_abi(void);

/*
 * Build a ruleset under which the paths in @paths (NULL-terminated;
 * absolute, or "~/..." for the user's home) and everything beneath them
 * become read-only (no write, truncate, create, remove, rename or link),
 * while every other file stays writable.  Paths that do not exist are
 * protected too: their missing parent components cannot be created.
 * Side effect, stated in README-sandbox.md: in the directories *above* a
 * protected path (e.g. $HOME for ~/.ssh) nothing can be created, removed
 * or renamed; existing files there stay writable.
 * Returns the ruleset fd (>= 0; the caller passes it to
 * mg_landlock_apply() or closes it) or a negative errno (-ENOSYS,
 * -EOPNOTSUPP, -EINVAL for a relative path, -ENAMETOOLONG, -ENOMEM, or
 * what landlock_add_rule reported) with the reason in @why.
 */
int mg_landlock_prepare(char *const *paths, char *why, size_t whylen);

/*
 * Bind ruleset @rs to the calling thread and its future children
 * (no_new_privs must already be set).  Closes @rs in every case.
 * Other threads that already exist are NOT covered: this kernel's Landlock
 * ABI has no thread synchronisation.  0 or a negative errno with @why.
 */
int mg_landlock_apply(int rs, char *why, size_t whylen);

#endif /* MG_LANDLOCK_H */
