/*
 * jupyter.c - where Jupyter looks for kernelspecs, computed as
 * jupyter_core's paths.py and jupyter_client's kernelspec.py do it (read
 * in jupyter_core 4.12 / jupyter_client 7.4, Debian 12's, and in
 * jupyter_core 5.9 / jupyter_client 8.10), so `modelgate kernel` needs no
 * `jupyter` command.
 *
 * The search path, most important first: $JUPYTER_PATH's entries; the
 * user's directories (the data directory, and the Python user base's
 * share/jupyter when user site-packages are enabled); sys.prefix's
 * share/jupyter unless it is a site directory; the site directories
 * (/usr/local/share/jupyter, /usr/share/jupyter); each + /kernels; then
 * IPython's kernels directory, which jupyter_client adds.  The user's come
 * before sys.prefix's unless JUPYTER_PREFER_ENV_PATH says otherwise, or,
 * in jupyter_core 5 only, the interpreter is a virtualenv or conda env the
 * user owns.  jupyter_core 5 alone reads JUPYTER_PLATFORM_DIRS, which
 * takes the directories from platformdirs (the XDG variables on Linux).
 *
 * What C cannot know about an interpreter (sys.prefix, sys.base_prefix,
 * site.ENABLE_USER_SITE, site.getuserbase(), which jupyter_core it has) is
 * asked of it by running it once (mg_jupyter_probe).  The rules of a
 * jupyter_core 4 are applied when that is what it has; with none, today's.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jupyter.h"

/* The probe prints a few paths; anything longer is not what we asked. */
#define PROBE_MAX 65536

void
mg_jupyter_list_free(struct mg_jupyter_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

int
mg_jupyter_list_has(const struct mg_jupyter_list *l, const char *str)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], str) == 0)
			return 1;
	return 0;
}

int
mg_jupyter_list_add(struct mg_jupyter_list *l, const char *str)
{
	char **nv;
	size_t cap;

	if (mg_jupyter_list_has(l, str))
		return 0;
	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 8;
		nv = realloc(l->v, cap * sizeof(*nv));
		if (nv == NULL)
			return -1;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n] = strdup(str);
	if (l->v[l->n] == NULL)
		return -1;
	l->n++;
	return 0;
}

/* Append every string of @src to @dst, then, with @sub, each + /@sub
 * instead.  0, or -1 out of memory or a path too long. */
static int
add_all(struct mg_jupyter_list *dst, const struct mg_jupyter_list *src,
        const char *sub)
{
	char buf[PATH_MAX];
	size_t i;

	for (i = 0; i < src->n; i++) {
		if (sub != NULL &&
		    mg_jupyter_join(buf, sizeof(buf), src->v[i], sub) != 0)
			return -1;
		if (mg_jupyter_list_add(dst, sub ? buf : src->v[i]) != 0)
			return -1;
	}
	return 0;
}

int
mg_jupyter_join(char *out, size_t cap, const char *a, const char *b)
{
	size_t n = strlen(a);
	int w = snprintf(out, cap, "%s%s%s", a,
	                 n == 0 || a[n - 1] == '/' ? "" : "/", b);

	return w < 0 || (size_t)w >= cap ? -1 : 0;
}

int
mg_jupyter_absolute(char *out, size_t cap, const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return snprintf(out, cap, "%s", path) >= (int)cap ? -1 : 0;
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	return mg_jupyter_join(out, cap, cwd, path);
}

/* jupyter_core's envset(): set, and not no/n/false/off/0/0.0 in any case. */
static int
envset(const char *name)
{
	static const char *const off[] = { "no", "n", "false", "off", "0", "0.0" };
	const char *v = getenv(name);
	size_t i;

	if (v == NULL)
		return 0;
	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++)
		if (strcasecmp(v, off[i]) == 0)
			return 0;
	return 1;
}

/*
 * os.path.expanduser("~"): $HOME (trailing slashes dropped, "/" if that
 * leaves nothing), else the password database; with @resolve, symlinks
 * resolved as jupyter_core's get_home_dir() does.  Why realpath may fail
 * and the path is kept: pathlib's resolve() is not strict either.
 */
static int
home_dir(char *out, int resolve)
{
	const char *h = getenv("HOME");
	struct passwd *pw;
	char buf[PATH_MAX];
	size_t n;

	if (h == NULL) {
		pw = getpwuid(getuid());
		h = pw ? pw->pw_dir : NULL;
	}
	if (h == NULL || snprintf(buf, sizeof(buf), "%s", h) >= (int)sizeof(buf))
		return -1;
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '/')
		buf[--n] = '\0';
	if (n == 0)
		snprintf(buf, sizeof(buf), "/");
	if (resolve && realpath(buf, out) != NULL)
		return 0;
	snprintf(out, PATH_MAX, "%s", buf);
	return 0;
}

/* Does jupyter_core ask platformdirs (5.x, JUPYTER_PLATFORM_DIRS set)?
 * An interpreter without jupyter_core, or none asked (@pi NULL or not
 * ok), is given today's jupyter_core rules. */
static int
platform_dirs(const struct mg_jupyter_py *pi)
{
	return (pi == NULL || !pi->ok || pi->jcore == 0 || pi->jcore >= 5) &&
	       envset("JUPYTER_PLATFORM_DIRS");
}

/*
 * jupyter_core's jupyter_data_dir() on Linux, into @out[PATH_MAX]:
 * $JUPYTER_DATA_DIR, else $XDG_DATA_HOME/jupyter, else the resolved home's
 * .local/share/jupyter.  Through platformdirs (platform_dirs()) the same
 * but for an $XDG_DATA_HOME that is not absolute (ignored) and the home
 * directory (not resolved).
 */
int
mg_jupyter_data_dir(const struct mg_jupyter_py *pi, char *out)
{
	const char *d = getenv("JUPYTER_DATA_DIR");
	const char *x = getenv("XDG_DATA_HOME");
	int pd = platform_dirs(pi);
	char home[PATH_MAX];

	if (d != NULL && d[0] != '\0')
		return snprintf(out, PATH_MAX, "%s", d) >= PATH_MAX ? -1 : 0;
	if (x != NULL && (pd ? x[0] == '/' : x[0] != '\0'))
		return mg_jupyter_join(out, PATH_MAX, x, "jupyter");
	if (home_dir(home, !pd) != 0)
		return -1;
	return mg_jupyter_join(out, PATH_MAX, home, ".local/share/jupyter");
}

/* jupyter_core 5's _do_i_own(): the first existing ancestor of @path
 * belongs to the login name (os.getlogin()), else to this euid. */
static int
do_i_own(const char *path)
{
	char p[PATH_MAX], *slash;
	struct stat st;
	struct passwd *pw;
	const char *login;

	snprintf(p, sizeof(p), "%s", path);
	while (stat(p, &st) != 0) {
		slash = strrchr(p, '/');
		if (slash == NULL || slash == p)
			return 0;
		*slash = '\0';
	}
	login = getlogin();
	if (login != NULL && (pw = getpwuid(st.st_uid)) != NULL)
		return strcmp(pw->pw_name, login) == 0;
	return st.st_uid == geteuid();
}

/* jupyter_core's choice of sys.prefix before the user's directories. */
static int
prefer_env(const struct mg_jupyter_py *pi)
{
	const char *cp = getenv("CONDA_PREFIX"), *ce = getenv("CONDA_DEFAULT_ENV");

	if (getenv("JUPYTER_PREFER_ENV_PATH") != NULL)
		return envset("JUPYTER_PREFER_ENV_PATH");
	/* 4.x: only when asked.  No jupyter_core at all: today's rules. */
	if (!pi->ok || (pi->jcore != 0 && pi->jcore < 5))
		return 0;
	if (strcmp(pi->prefix, pi->base_prefix) != 0 && do_i_own(pi->prefix))
		return 1;
	return cp != NULL && strncmp(pi->prefix, cp, strlen(cp)) == 0 &&
	       strcmp(ce ? ce : "base", "base") != 0 && do_i_own(pi->prefix);
}

/* SYSTEM_JUPYTER_PATH: /usr/local/share/jupyter, /usr/share/jupyter; with
 * jupyter_core 5 and JUPYTER_PLATFORM_DIRS, platformdirs' site data dirs
 * ($XDG_DATA_DIRS entries that are absolute, else those two), + /jupyter. */
static int
site_dirs(const struct mg_jupyter_py *pi, struct mg_jupyter_list *out)
{
	const char *x = getenv("XDG_DATA_DIRS");
	char buf[PATH_MAX], *list, *p, *next;
	int rc = 0;

	if (platform_dirs(pi) && x != NULL && (list = strdup(x)) != NULL) {
		for (p = list; p != NULL && rc == 0; p = next) {
			next = strchr(p, ':');
			if (next != NULL)
				*next++ = '\0';
			if (p[0] == '/')
				rc = mg_jupyter_join(buf, sizeof(buf), p,
				                     "jupyter") ||
				     mg_jupyter_list_add(out, buf);
		}
		free(list);
		if (out->n > 0 || rc != 0)
			return rc ? -1 : 0;
	}
	return mg_jupyter_list_add(out, "/usr/local/share/jupyter") ||
	       mg_jupyter_list_add(out, "/usr/share/jupyter") ? -1 : 0;
}

/* $JUPYTER_PATH's entries, each without trailing slashes (an empty one
 * stays empty and so names the working directory, as in jupyter_core). */
static int
env_path_dirs(struct mg_jupyter_list *out)
{
	const char *jp = getenv("JUPYTER_PATH");
	char *list, *p, *next;
	size_t n;
	int rc = 0;

	if (jp == NULL || jp[0] == '\0')
		return 0;
	if ((list = strdup(jp)) == NULL)
		return -1;
	for (p = list; p != NULL && rc == 0; p = next) {
		next = strchr(p, ':');
		if (next != NULL)
			*next++ = '\0';
		n = strlen(p);
		while (n > 0 && p[n - 1] == '/')
			p[--n] = '\0';
		rc = mg_jupyter_list_add(out, p);
	}
	free(list);
	return rc;
}

/* IPython's get_ipython_dir(): $IPYTHONDIR (IPython 8 also $IPYTHON_DIR),
 * "~" expanded, else ~/.ipython.  Why the legacy ~/.config/ipython and
 * the fallback to a temporary directory are left out: a kernel in either
 * would be one no `jupyter kernelspec` command installs. */
static int
ipython_kernels(char *out)
{
	const char *d = getenv("IPYTHONDIR");
	char home[PATH_MAX], buf[PATH_MAX];

	if (d == NULL)
		d = getenv("IPYTHON_DIR");
	if (home_dir(home, 1) != 0)
		return -1;
	if (d == NULL) {
		if (mg_jupyter_join(buf, sizeof(buf), home, ".ipython") != 0)
			return -1;
	} else if (d[0] == '~' && (d[1] == '/' || d[1] == '\0')) {
		if (mg_jupyter_join(buf, sizeof(buf), home,
		                    d[1] ? d + 2 : "") != 0)
			return -1;
	} else if (snprintf(buf, sizeof(buf), "%s", d) >= (int)sizeof(buf)) {
		return -1;
	}
	return mg_jupyter_join(out, PATH_MAX, buf, "kernels");
}

/*
 * jupyter_client's kernel_dirs: jupyter_path("kernels") of the interpreter
 * @pi describes (JUPYTER_PATH, then user and env in the order
 * prefer_env() gives, then the site directories), then IPython's.
 * Without @pi->ok, sys.prefix and the user base are unknown and left out.
 */
int
mg_jupyter_kernel_dirs(const struct mg_jupyter_py *pi,
                       struct mg_jupyter_list *out)
{
	struct mg_jupyter_list data = { 0 }, user = { 0 }, env = { 0 };
	struct mg_jupyter_list sys = { 0 };
	int pref = prefer_env(pi), rc = -1;
	char buf[PATH_MAX];

	if (env_path_dirs(&data) || mg_jupyter_data_dir(pi, buf) ||
	    mg_jupyter_list_add(&user, buf) || site_dirs(pi, &sys))
		goto out;
	if (pi->ok && pi->user_site && pi->userbase[0] != '\0' &&
	    (mg_jupyter_join(buf, sizeof(buf), pi->userbase, "share/jupyter") ||
	     mg_jupyter_list_add(&user, buf)))
		goto out;
	/* sys.prefix's, unless it is a site directory (Debian's /usr). */
	if (pi->ok &&
	    (mg_jupyter_join(buf, sizeof(buf), pi->prefix, "share/jupyter") ||
	     (!mg_jupyter_list_has(&sys, buf) && mg_jupyter_list_add(&env, buf))))
		goto out;
	if (add_all(&data, pref ? &env : &user, NULL) ||
	    add_all(&data, pref ? &user : &env, NULL) ||
	    add_all(&data, &sys, NULL) || add_all(out, &data, "kernels"))
		goto out;
	if (pi->ok && pi->ipython &&
	    (ipython_kernels(buf) || mg_jupyter_list_add(out, buf)))
		goto out;
	rc = 0;
out:
	mg_jupyter_list_free(&data);
	mg_jupyter_list_free(&user);
	mg_jupyter_list_free(&env);
	mg_jupyter_list_free(&sys);
	return rc;
}

/* Prints, NUL-terminated: sys.prefix, sys.base_prefix, ENABLE_USER_SITE,
 * the user base, jupyter_core's major version (0: none), IPython and
 * debugpy importable, ipykernel's directory.  find_spec() imports nothing
 * but parent packages, so this costs no more than the interpreter start. */
static const char probe_src[] =
"import sys, site, importlib.util as u\n"
"def has(m):\n"
"    try:\n"
"        return u.find_spec(m)\n"
"    except Exception:\n"
"        return None\n"
"try:\n"
"    import jupyter_core\n"
"    j = str(int(jupyter_core.version_info[0]))\n"
"except Exception:\n"
"    j = '0'\n"
"k = has('ipykernel')\n"
"k = list(k.submodule_search_locations or [''])[0] if k else ''\n"
"b = site.getuserbase() if hasattr(site, 'getuserbase') else site.USER_BASE\n"
"f = [sys.prefix, getattr(sys, 'base_prefix', sys.prefix),\n"
"     '1' if site.ENABLE_USER_SITE else '0', b or '', j,\n"
"     '1' if has('IPython') else '0', '1' if has('debugpy') else '0', k]\n"
"sys.stdout.write('\\0'.join(f) + '\\0')\n";

/* Run @py with probe_src; its output into @buf (NUL-terminated, length in
 * *@len).  -1 with @why set when it could not run or did not succeed. */
static int
run_probe(const char *py, char *buf, size_t cap, size_t *len, char *why,
          size_t whylen)
{
	int fd[2], status, devnull;
	ssize_t r;
	pid_t pid;

	*len = 0;
	if (pipe2(fd, O_CLOEXEC) != 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char *argv[] = { (char *)py, (char *)"-c", (char *)probe_src, NULL };

		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(fd[1], 1);
		execvp(py, argv);
		_exit(127);
	}
	close(fd[1]);
	while (pid > 0 && (r = read(fd[0], buf + *len, cap - 1 - *len)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (*len += (size_t)r) >= cap - 1)
			break;
	}
	buf[*len] = '\0';
	close(fd[0]);
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		snprintf(why, whylen, "it cannot be run (not found?)");
	else if (WIFEXITED(status))
		snprintf(why, whylen, "it exited with status %d",
		         WEXITSTATUS(status));
	else
		snprintf(why, whylen, "it was killed by signal %d",
		         WTERMSIG(status));
	return -1;
}

int
mg_jupyter_probe(const char *py, struct mg_jupyter_py *pi, char *why,
                 size_t whylen)
{
	char *buf, *f[8], *p;
	size_t len, i;
	int rc = -1;

	memset(pi, 0, sizeof(*pi));
	if ((buf = malloc(PROBE_MAX)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (run_probe(py, buf, PROBE_MAX, &len, why, whylen) != 0)
		goto out;
	for (i = 0, p = buf; i < 8; i++) {
		if (p >= buf + len) {
			snprintf(why, whylen, "it printed something else than "
			         "asked");
			goto out;
		}
		f[i] = p;
		p += strlen(p) + 1;
		if (strlen(f[i]) >= PATH_MAX) {
			snprintf(why, whylen, "a path it printed is too long");
			goto out;
		}
	}
	snprintf(pi->prefix, PATH_MAX, "%s", f[0]);
	snprintf(pi->base_prefix, PATH_MAX, "%s", f[1]);
	pi->user_site = f[2][0] == '1';
	snprintf(pi->userbase, PATH_MAX, "%s", f[3]);
	pi->jcore = (int)strtol(f[4], NULL, 10);
	pi->ipython = f[5][0] == '1';
	pi->debugpy = f[6][0] == '1';
	snprintf(pi->ipykernel, PATH_MAX, "%s", f[7]);
	pi->ok = 1;
	rc = 0;
out:
	free(buf);
	return rc;
}

int
mg_jupyter_find_exe(const char *name, char *out)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX], *list, *p, *next;
	struct stat st;
	int found = 0;

	if (strchr(name, '/') != NULL)
		return mg_jupyter_absolute(out, PATH_MAX, name) == 0 &&
		       access(out, X_OK) == 0 && stat(out, &st) == 0 &&
		       S_ISREG(st.st_mode) ? 0 : -1;
	if ((list = strdup(path ? path : "/bin:/usr/bin")) == NULL)
		return -1;
	for (p = list; p != NULL && !found; p = next) {
		next = strchr(p, ':');
		if (next != NULL)
			*next++ = '\0';
		/* An empty entry is the working directory, as for execvp. */
		found = mg_jupyter_join(buf, sizeof(buf), p[0] ? p : ".",
		                        name) == 0 &&
		        access(buf, X_OK) == 0 && stat(buf, &st) == 0 &&
		        S_ISREG(st.st_mode) &&
		        mg_jupyter_absolute(out, PATH_MAX, buf) == 0;
	}
	free(list);
	return found ? 0 : -1;
}
