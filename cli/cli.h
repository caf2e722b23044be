/*
 * cli.h - the modelgate commands.  Each returns the process exit status:
 * 0 all allowed, 1 something would be sandboxed or denied, 2 usage or I/O
 * error (DESIGN.md, "Contracts").
 */
#ifndef MG_CLI_H
#define MG_CLI_H

#include <stddef.h>

#define MG_EXIT_OK 0
#define MG_EXIT_BLOCKED 1
#define MG_EXIT_USAGE 2

int mg_cmd_scan(int argc, char **argv);   /* scan.c */
int mg_cmd_run(int argc, char **argv);    /* run.c */
int mg_cmd_helper(int argc, char **argv); /* helper.c: started by the preload */
int mg_cmd_pin(int argc, char **argv);    /* pin_cmd.c */
int mg_cmd_policy(int argc, char **argv); /* policy_cmd.c */
int mg_cmd_kernel(int argc, char **argv); /* kernel.c: Jupyter kernelspecs */
int mg_cmd_host(int argc, char **argv);   /* host.c: /etc/ld.so.preload */
int mg_cmd_watch(int argc, char **argv);  /* watch.c: the fanotify daemon */

/*
 * The absolute path of the libmodelgate.so that goes with this binary
 * into @out[PATH_MAX] (paths.c): next to it, then PREFIX/lib/modelgate,
 * then the compiled-in library directory.  0, or -1 when none is readable.
 */
int mg_cli_find_lib(char *out);

/* The compiled-in library directory (for messages). */
const char *mg_cli_libdir(void);

/* Write all @len bytes of @buf to @fd, retrying on EINTR and short
 * writes (fileio.c).  0, or -1 with errno set (EIO for a write of 0). */
int mg_cli_write_all(int fd, const void *buf, size_t len);

/* Copy everything from @in's offset to its end onto @out (fileio.c).  0,
 * or -1 with errno set. */
int mg_cli_copy_fd(int out, int in);

/* Print "modelgate: " + message to stderr. */
void mg_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* MG_CLI_H */
