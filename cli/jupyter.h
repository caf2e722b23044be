/*
 * jupyter.h - where Jupyter looks for kernelspecs (jupyter.c), for
 * `modelgate kernel` (kernel.c).  Private to the CLI.
 */
#ifndef MG_JUPYTER_H
#define MG_JUPYTER_H

#include <limits.h>
#include <stddef.h>

/* A growable list of distinct strings, owned by the list. */
struct mg_jupyter_list {
	char **v;
	size_t n, cap;
};

/* What mg_jupyter_probe() learns from an interpreter. */
struct mg_jupyter_py {
	int ok;                     /* the interpreter answered */
	char prefix[PATH_MAX];      /* sys.prefix */
	char base_prefix[PATH_MAX]; /* sys.base_prefix */
	char userbase[PATH_MAX];    /* site.getuserbase(), or "" */
	char ipykernel[PATH_MAX];   /* ipykernel's package directory, or "" */
	int user_site;              /* site.ENABLE_USER_SITE */
	int jcore;                  /* jupyter_core's major version, 0: none */
	int ipython;                /* IPython is importable */
	int debugpy;                /* debugpy is importable */
};

/* Free the strings of @l and empty it (it may be reused). */
void mg_jupyter_list_free(struct mg_jupyter_list *l);

/* 1 if @l holds @str. */
int mg_jupyter_list_has(const struct mg_jupyter_list *l, const char *str);

/* Append a copy of @str unless @l holds it already; 0, or -1 when out of
 * memory. */
int mg_jupyter_list_add(struct mg_jupyter_list *l, const char *str);

/* os.path.join(@a, @b) for a relative @b into @out[@cap]: no doubled
 * slash, @b alone when @a is empty.  0, or -1 when it does not fit. */
int mg_jupyter_join(char *out, size_t cap, const char *a, const char *b);

/* @path made absolute against the working directory into @out[@cap],
 * symlinks kept (a virtualenv's bin/python is one, and resolving it
 * would leave the env).  0, or -1 when too long or no working directory. */
int mg_jupyter_absolute(char *out, size_t cap, const char *path);

/*
 * Ask the interpreter @py (a path, or a command execvp finds) for what
 * struct mg_jupyter_py holds, by running it once.  0 with @pi->ok set, or
 * -1 with @pi zeroed and @why[@whylen] saying why (cannot be run, exit
 * status, signal, unexpected output).
 */
int mg_jupyter_probe(const char *py, struct mg_jupyter_py *pi, char *why,
                     size_t whylen);

/* @name (a path, or a command searched in PATH as execvp does) as the
 * absolute path of an executable regular file into @out[PATH_MAX]; 0, or
 * -1 when there is none. */
int mg_jupyter_find_exe(const char *name, char *out);

/*
 * jupyter_core's jupyter_data_dir() into @out[PATH_MAX], by the rules of
 * the interpreter @pi describes (NULL or not ok: today's jupyter_core).
 * 0, or -1 when there is no home directory or the path is too long.
 */
int mg_jupyter_data_dir(const struct mg_jupyter_py *pi, char *out);

/*
 * jupyter_client's kernel search path (KernelSpecManager.kernel_dirs) for
 * the interpreter @pi describes, most important first, appended to @out.
 * Without @pi->ok, sys.prefix and the user base are unknown and left out.
 * 0, or -1 when out of memory or a path is too long.
 */
int mg_jupyter_kernel_dirs(const struct mg_jupyter_py *pi,
                           struct mg_jupyter_list *out);

#endif /* MG_JUPYTER_H */
