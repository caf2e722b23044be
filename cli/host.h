/*
 * host.h - private to `modelgate host install|uninstall|status`: what the
 * command (host.c: options, install, uninstall, the host policy) shares
 * with the files that do one part of it:
 *   host_fs.c      directories only root controls, and files replaced
 *                  atomically;
 *   host_run.c     running a program with a clean environment and
 *                  capturing what it says (the load and helper checks);
 *   host_list.c    editing /etc/ld.so.preload, every line that is not
 *                  ours kept byte for byte;
 *   host_status.c  `host status`: each check, OK or PROBLEM.
 *
 * Every function that fails reports why itself, unless its comment says
 * the caller does (then it says how: errno, or a @why buffer).
 */
#ifndef MG_CLI_HOST_H
#define MG_CLI_HOST_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "../policy/policy.h"

#define MG_HOST_LIST "/etc/ld.so.preload"
#define MG_HOST_POLICY_DIR "/etc/modelgate"
#define MG_HOST_POLICY MG_HOST_POLICY_DIR "/policy.conf"
#define MG_HOST_LIB_NAME "libmodelgate.so"

/* One run of the command: what it was asked, and where the files go. */
struct mg_host {
	const char *cmd;       /* "install", "uninstall", "status" */
	const char *policy;    /* --policy FILE, or NULL */
	char prefix[PATH_MAX]; /* resolved, absolute */
	char bindir[PATH_MAX], bin[PATH_MAX];
	char libdir[PATH_MAX], lib[PATH_MAX];
};

/* A growable byte buffer, always NUL-terminated once non-empty.
 * { NULL, 0, 0 } is an empty one. */
struct mg_host_buf {
	char *p;
	size_t n, cap;
};

/* What a program printed (each NUL-terminated, cut to fit) and how it
 * ended. */
struct mg_host_run {
	int status;            /* waitpid() status */
	char out[65536], err[4096];
	size_t nout, nerr;
};

/* What loading the host policy had to say: a refusal is kept here, every
 * other note printed as an indented line (mg_host_load_policy). */
struct mg_host_notes {
	int refused;           /* the system policy was refused */
	char why[1024];        /* the refusal's text */
};

/* --- host.c --------------------------------------------------------------- */

/* Print "modelgate: host CMD: " + the message on stderr. */
void mg_host_fail(const struct mg_host *h, const char *fmt, ...)
	MG_PRINTF(2, 3);

/* Print how to get a working system back: uninstall, deleting the line
 * by hand, and what to do when no shell starts. */
void mg_host_print_rescue(const struct mg_host *h);

/*
 * Load the installed host policy the way every process will (the
 * embedded default with MG_HOST_POLICY layered on).  The policy
 * (free with mg_policy_free()), or NULL when it cannot be loaded at all,
 * @err[@errlen] saying why.  A refusal of the file (the embedded default
 * then applies, locked) is in @n, not an error.
 */
struct mg_policy *mg_host_load_policy(struct mg_host_notes *n, char *err,
                                      size_t errlen);

/* --- host_fs.c ------------------------------------------------------------ */

/* Free what @b holds and make it empty again. */
void mg_host_buf_free(struct mg_host_buf *b);

/* Append @n bytes of @s to @b.  0, or -1 when out of memory (@b is
 * unchanged then).  Reports nothing. */
int mg_host_buf_add(struct mg_host_buf *b, const char *s, size_t n);

/* Append the string @s to @b; as mg_host_buf_add(). */
int mg_host_buf_str(struct mg_host_buf *b, const char *s);

/*
 * Append the whole of @path (at most 1 MiB: no policy or list a person
 * wrote is larger) to @b, which then holds a string even for an empty
 * file.  0, or -1 with errno set (ENOENT a missing file, EFBIG too large,
 * ENOMEM); reports nothing.
 */
int mg_host_read_text(const char *path, struct mg_host_buf *b);

/* The directory part of @path into @dir[PATH_MAX]: "/" for "/x". */
void mg_host_dir_of(const char *path, char *dir);

/*
 * Every existing directory from / down to @dir (absolute, resolved) is
 * root-owned and writable by root alone; the walk stops at the first
 * missing one (install creates the rest).  0, or -1 with @why[@len]
 * naming the first offending directory and what is wrong with it.
 */
int mg_host_dirs_safe(const char *dir, char *why, size_t len);

/*
 * Is @path (not followed if a symlink) a regular root-owned file that
 * only root may write?  1 yes; 0 missing; -1 not, or it cannot be
 * examined.  @why[@len] says why whenever it is not 1.
 */
int mg_host_file_state(const char *path, char *why, size_t len);

/* Create the missing directories of @dir (absolute), root:root 0755,
 * saying which.  0, or -1. */
int mg_host_mkdirs(const struct mg_host *h, const char *dir);

/* fsync the directory @path is in (after a rename or unlink in it);
 * best effort, reports nothing. */
void mg_host_fsync_dir(const char *path);

/* Replace @dst by @n bytes of @data, root:root @mode, atomically (a
 * temporary file in the same directory, fsync, rename, fsync of the
 * directory).  0, or -1 with @dst untouched. */
int mg_host_write_atomic(const struct mg_host *h, const char *dst,
                         const char *data, size_t n, mode_t mode);

/* Replace @dst by a copy of @src, root:root @mode, atomically (as
 * mg_host_write_atomic()).  0, or -1 with @dst untouched. */
int mg_host_copy_atomic(const struct mg_host *h, const char *src,
                        const char *dst, mode_t mode);

/* 1 if @a and @b (followed) name the same file, else 0. */
int mg_host_same_file(const char *a, const char *b);

/* --- host_run.c ----------------------------------------------------------- */

/*
 * Run @argv (@argv[0] an absolute path) with the environment @envp,
 * stdin /dev/null, and capture its output and status into @r.  0, or -1
 * with errno set when it could not be started; reports nothing.
 */
int mg_host_run_capture(char *const argv[], char *const envp[],
                        struct mg_host_run *r);

/* 1 if @r ended with exit status 0, else 0. */
int mg_host_exited_0(const struct mg_host_run *r);

/* The first line of @s (at most 300 bytes of it) into @out[@cap], for a
 * message; returns @out. */
const char *mg_host_first_line(const char *s, char *out, size_t cap);

/*
 * Run `@bin --version` the way the preload starts the helper (a clean
 * environment).  1 if it answered "modelgate VERSION", that line in
 * @line[@cap]; 0 otherwise, @line saying why.  Reports nothing.
 */
int mg_host_helper_runs(const char *bin, char *line, size_t cap);

/* --- host_list.c ---------------------------------------------------------- */

/*
 * Add @h->lib to MG_HOST_LIST (created if missing), dropping any other
 * modelgate library it names, saying what changed.  A list that is not
 * root's alone is refused.  0, or -1 with the list untouched.
 */
int mg_host_list_add(const struct mg_host *h);

/*
 * Take every modelgate library out of MG_HOST_LIST, saying which; a list
 * left with nothing in it is removed.  *@did is set to 1 when something
 * changed (left alone otherwise).  0, or -1.
 */
int mg_host_list_remove(const struct mg_host *h, int *did);

/*
 * What MG_HOST_LIST says about @lib, read with the parser install edits
 * it with: *@listed 1 if it names @lib; the other modelgate libraries it
 * names into @stale[@len] (", "-separated, "" for none).  0, or -1 with
 * errno set when it cannot be read (ENOENT: missing); reports nothing.
 */
int mg_host_list_lookup(const char *lib, int *listed, char *stale,
                        size_t len);

/* --- host_status.c -------------------------------------------------------- */

/* `modelgate host status`: print OK or PROBLEM for each check, then the
 * rescue steps.  MG_EXIT_OK when every check is OK, else MG_EXIT_BLOCKED. */
int mg_host_status(const struct mg_host *h);

#endif /* MG_CLI_HOST_H */
