/*
 * kernel.c - `modelgate kernel install|uninstall|list`: Jupyter
 * kernelspecs whose kernels run under the preload.
 *
 * A kernelspec is a directory NAME holding kernel.json; a Jupyter frontend
 * starts the kernel with its argv and with its env laid over the
 * frontend's own environment.  So a spec whose env sets LD_PRELOAD to
 * libmodelgate.so (and MODELGATE_POLICY, with --policy) protects every
 * model file the kernel opens, whoever starts it.  `install` copies an
 * existing spec (python3 by default: its argv, language, metadata, env,
 * logos) and adds that env, plus "metadata": {"modelgate": {...}}, the
 * mark `uninstall` and a later `install` look for: a spec without it was
 * not made here and is never edited or removed.
 *
 * Where Jupyter looks is jupyter.c's business: jupyter_core's rules, in C,
 * with the few facts only an interpreter knows asked of it.  `install`
 * searches along the path of the kernel's interpreter (--python, else
 * python3 from PATH); `list` and `uninstall` along python3's.
 *
 * Why kernel.json is written last, through a temporary file and rename():
 * a frontend listing kernels at that moment sees the old spec or the new
 * one, never half of one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "../policy/policy.h"
#include "cli.h"
#include "jupyter.h"

#define SPEC_FILE "kernel.json"
#define DEFAULT_NAME "python3-modelgate"
#define DEFAULT_FROM "python3"
#define BUILTIN_FROM "ipykernel built-in"
#define MARK " (modelgate)"
/* Why a depth cap: resource directories are flat in practice (logos,
 * kernel.js); a cap keeps a symlink loop in a source spec from recursing
 * forever. */
#define RES_DEPTH 4
/* Room for a message naming a path (PATH_MAX) and saying what is wrong. */
#define ERR_MAX (2 * PATH_MAX)

enum where { WHERE_USER, WHERE_SYS_PREFIX, WHERE_PREFIX };

static const char install_usage[] =
"usage: modelgate kernel install [--name N] [--display-name D]\n"
"                                [--user | --sys-prefix | --prefix P]\n"
"                                [--policy FILE] [--from KERNEL] [--python PY]\n"
"\n"
"Write the Jupyter kernelspec N: a copy of the kernelspec KERNEL (argv,\n"
"language, interrupt_mode, metadata, env and its logo files) whose env\n"
"preloads libmodelgate.so, so that every model file the kernel opens is\n"
"scanned first.  An existing kernelspec N is replaced only if modelgate\n"
"made it.\n"
"\n"
"  --name N          its name (default " DEFAULT_NAME "): ASCII letters,\n"
"                    digits, '.', '_', '-'; lowercased, as jupyter does\n"
"  --display-name D  its name in the frontend's menu (default: KERNEL's,\n"
"                    followed by \" (modelgate)\")\n"
"  --user            into jupyter's user data directory, $JUPYTER_DATA_DIR,\n"
"                    else $XDG_DATA_HOME/jupyter, else ~/.local/share/jupyter,\n"
"                    + /kernels (the default)\n"
"  --sys-prefix      into sys.prefix/share/jupyter/kernels of the kernel's\n"
"                    interpreter (PY, else KERNEL's argv[0])\n"
"  --prefix P        into P/share/jupyter/kernels\n"
"  --policy FILE     the kernel's policy: MODELGATE_POLICY=FILE's absolute\n"
"                    path, after checking that FILE parses\n"
"  --from KERNEL     the kernelspec to copy (default " DEFAULT_FROM "), found on\n"
"                    jupyter's kernel search path; a python3 found nowhere\n"
"                    is made the way ipykernel makes its own, for PY\n"
"  --python PY       the kernel's interpreter: replaces argv[0] (default:\n"
"                    KERNEL's; python3 from PATH for a made python3); its\n"
"                    sys.prefix is the one searched for KERNEL\n";

static const char uninstall_usage[] =
"usage: modelgate kernel uninstall [--user | --sys-prefix | --prefix P] NAME\n"
"\n"
"Remove the kernelspec NAME from the place --user (the default),\n"
"--sys-prefix (of python3 from PATH) or --prefix P names, if modelgate\n"
"made it; any other kernelspec is left alone.\n";

static const char list_usage[] =
"usage: modelgate kernel list\n"
"\n"
"Print every kernelspec on jupyter's kernel search path, one a line:\n"
"NAME, TAB, its directory; a spec a directory earlier on the path hides\n"
"is marked \"shadowed\"; for modelgate's, \"modelgate\", the library and\n"
"whether it is there and preloaded (ok, missing, not-preloaded), and the\n"
"policy (or \"default\").\n";

static const char common_usage[] =
"\n"
"Jupyter's kernel search path, computed as jupyter_core does (no jupyter\n"
"command needed): $JUPYTER_PATH, the user data directory (and the Python\n"
"user base's share/jupyter), sys.prefix/share/jupyter of python3 from\n"
"PATH (PY for install), /usr/local/share/jupyter, /usr/share/jupyter,\n"
"each + /kernels, then IPython's kernels directory.\n"
"\n"
"exit status: 0 done, 2 usage error, refusal, or a file that could not\n"
"be read or written (named in the message)\n";

/* --- small helpers ------------------------------------------------------ */

/* Jupyter's rule for kernel names, [a-zA-Z0-9._-]+, minus "." and "..",
 * which would name the kernels directory itself or its parent. */
static int
valid_name(const char *s)
{
	const char *p;

	if (s[0] == '\0' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
	    strlen(s) > NAME_MAX)
		return 0;
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		      *p == '-'))
			return 0;
	return 1;
}

/* @s in ASCII lower case into @out (room for strlen(@s) + 1). */
static void
lower(char *out, const char *s)
{
	for (; *s; s++)
		*out++ = (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a') : *s;
	*out = '\0';
}

/* Probe python3 from PATH for the search path of `list` and `uninstall`;
 * a failure is said and leaves @pi->ok 0 (searched without sys.prefix). */
static void
probe_default(const char *cmd, struct mg_jupyter_py *pi)
{
	char py[PATH_MAX], why[ERR_MAX];

	memset(pi, 0, sizeof(*pi));
	if (mg_jupyter_find_exe("python3", py) != 0) {
		mg_cli_error("kernel %s: no python3 in PATH: its sys.prefix "
		             "and user base are not searched", cmd);
		return;
	}
	if (mg_jupyter_probe(py, pi, why, sizeof(why)) != 0)
		mg_cli_error("kernel %s: cannot ask %s for sys.prefix: %s; "
		             "its kernel directories are not searched", cmd,
		             py, why);
}

/* --- reading kernelspecs ------------------------------------------------ */

/* Jupyter's _is_kernel_dir(): a directory holding a kernel.json file. */
static int
is_kernel_dir(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	       mg_jupyter_join(path, sizeof(path), dir, SPEC_FILE) == 0 &&
	       stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* kernel.json of the kernelspec @dir, a JSON object; NULL with @err set
 * (naming the file, and the line for a syntax error). */
static json_t *
load_spec(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	json_error_t je;
	json_t *j;

	if (mg_jupyter_join(path, sizeof(path), dir, SPEC_FILE) != 0) {
		snprintf(err, errlen, "%s: path too long", dir);
		return NULL;
	}
	j = json_load_file(path, 0, &je);
	if (j == NULL) {
		snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		snprintf(err, errlen, "%s: not a JSON object", path);
		json_decref(j);
		return NULL;
	}
	return j;
}

/* A spec @dir/kernel.json can start: argv a non-empty list of strings,
 * env (when there) an object of strings, metadata (when there) an
 * object.  0, or -1 with @err set. */
static int
check_spec(const json_t *j, const char *dir, char *err, size_t errlen)
{
	const json_t *argv = json_object_get(j, "argv");
	const json_t *env = json_object_get(j, "env"), *v;
	const json_t *md = json_object_get(j, "metadata");
	const char *k;
	size_t i;

	if (!json_is_array(argv) || json_array_size(argv) == 0) {
		snprintf(err, errlen, "%s/" SPEC_FILE ": \"argv\" is not a "
		         "non-empty list", dir);
		return -1;
	}
	for (i = 0; i < json_array_size(argv); i++)
		if (!json_is_string(json_array_get(argv, i))) {
			snprintf(err, errlen, "%s/" SPEC_FILE ": argv[%zu] is "
			         "not a string", dir, i);
			return -1;
		}
	if (env != NULL && !json_is_object(env)) {
		snprintf(err, errlen, "%s/" SPEC_FILE ": \"env\" is not an "
		         "object", dir);
		return -1;
	}
	json_object_foreach((json_t *)env, k, v)
		if (!json_is_string(v)) {
			snprintf(err, errlen, "%s/" SPEC_FILE ": env %s is not "
			         "a string", dir, k);
			return -1;
		}
	if (md != NULL && !json_is_object(md)) {
		snprintf(err, errlen, "%s/" SPEC_FILE ": \"metadata\" is not "
		         "an object", dir);
		return -1;
	}
	return 0;
}

/* metadata.modelgate of @j, the mark of a spec modelgate made, or NULL. */
static json_t *
mark_of(const json_t *j)
{
	json_t *m = json_object_get(json_object_get(j, "metadata"), "modelgate");

	return json_is_object(m) ? m : NULL;
}

/* In the directory @kdir, the entry whose name is @lname ignoring case
 * (jupyter lowercases names) into @found[PATH_MAX]: 1 found, 0 none. */
static int
find_entry(const char *kdir, const char *lname, int kernels_only,
           char *found)
{
	char low[NAME_MAX + 1], path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(kdir);
	int hit = 0;

	if (d == NULL)
		return 0;
	while (!hit && (de = readdir(d)) != NULL) {
		if (strlen(de->d_name) > NAME_MAX)
			continue;
		lower(low, de->d_name);
		hit = strcmp(low, lname) == 0 &&
		      mg_jupyter_join(path, sizeof(path), kdir, de->d_name) == 0 &&
		      (!kernels_only || is_kernel_dir(path));
	}
	closedir(d);
	if (hit)
		snprintf(found, PATH_MAX, "%s", path);
	return hit;
}

/* The first kernelspec named @lname along @dirs, into @found. */
static int
find_spec(const struct mg_jupyter_list *dirs, const char *lname, char *found)
{
	size_t i;

	for (i = 0; i < dirs->n; i++)
		if (find_entry(dirs->v[i], lname, 1, found))
			return 1;
	return 0;
}

/* --- writing kernelspecs ------------------------------------------------ */

/* mkdir -p @path; directories it makes get mode 0755 whatever the umask. */
static int
make_dirs(const char *path)
{
	char p[PATH_MAX], *s;
	struct stat st;
	int last;

	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p))
		return -1;
	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		last = *s == '\0';
		*s = '\0';
		if (mkdir(p, 0755) == 0) {
			if (chmod(p, 0755) != 0)
				break;
		} else if (errno != EEXIST) {
			break;
		} else if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			break;
		}
		if (last)
			return 0;
		*s = '/';
	}
	mg_cli_error("kernel install: cannot make the directory %s: %s", p,
	             strerror(errno));
	return -1;
}

/* Write @len bytes of @data (or all of the file @src_fd when @data is
 * NULL) to @path, mode 0644, through a temporary file in the same
 * directory and rename(), so a reader sees the old file or the new one. */
static int
write_atomic(const char *path, const char *data, size_t len, int src_fd)
{
	char tmp[PATH_MAX];
	const char *base = strrchr(path, '/');
	int fd, rc = -1;

	base = base ? base + 1 : path;
	if (snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", (int)(base - path),
	             path, base) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		goto out;
	}
	if ((fd = mkstemp(tmp)) < 0)
		goto out;
	if ((data ? mg_cli_write_all(fd, data, len) :
	     mg_cli_copy_fd(fd, src_fd)) == 0 &&
	    fchmod(fd, 0644) == 0 && fsync(fd) == 0)
		rc = 0;
	if (close(fd) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -1;
	if (rc != 0) {
		int err = errno;

		unlink(tmp);
		errno = err;
	}
out:
	if (rc != 0)
		mg_cli_error("kernel install: cannot write %s: %s", path,
		             strerror(errno));
	return rc;
}

/* Copy the resource files of the spec directory @src into @dst (kernel.json
 * and dot files aside; subdirectories to RES_DEPTH; symlinks followed, as
 * shutil.copytree, which jupyter installs with, does). */
static int
copy_resources(const char *src, const char *dst, int depth)
{
	char from[PATH_MAX], to[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(src);
	int fd, rc = 0;

	if (d == NULL) {
		mg_cli_error("kernel install: cannot read the directory %s: %s",
		             src, strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    (depth == 0 && strcmp(de->d_name, SPEC_FILE) == 0))
			continue;
		if (mg_jupyter_join(from, sizeof(from), src, de->d_name) ||
		    mg_jupyter_join(to, sizeof(to), dst, de->d_name) || stat(from, &st))
			continue;
		if (S_ISDIR(st.st_mode) && depth < RES_DEPTH) {
			rc = make_dirs(to) || copy_resources(from, to, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			if ((fd = open(from, O_RDONLY | O_CLOEXEC)) < 0) {
				mg_cli_error("kernel install: cannot read %s: "
				             "%s", from, strerror(errno));
				rc = -1;
				continue;
			}
			rc = write_atomic(to, NULL, 0, fd);
			close(fd);
		}
	}
	closedir(d);
	return rc ? -1 : 0;
}

/* --- install ------------------------------------------------------------ */

struct install {
	const char *name_arg, *display, *prefix, *policy_arg, *from_arg;
	const char *python_arg;
	enum where where;
	int nwhere;
	char name[NAME_MAX + 1], from[NAME_MAX + 1];
	char lib[PATH_MAX], policy[PATH_MAX], python[PATH_MAX];
	char src[PATH_MAX];   /* the source spec's directory, "" if built in */
	char kdir[PATH_MAX];  /* the kernels directory written into */
	char dest[PATH_MAX];  /* kdir/name */
	struct mg_jupyter_py pi;     /* the interpreter whose search path is used */
};

/* A path jupyter can carry in a kernel.json env unchanged: ld.so splits
 * LD_PRELOAD at spaces and colons, and jupyter_client 8 expands $NAME in
 * env values. */
static int
env_safe(const char *what, const char *path)
{
	if (strpbrk(path, " :$") == NULL)
		return 0;
	mg_cli_error("kernel install: the %s path '%s' contains a space, "
	             "colon or '$', which a kernel's env cannot carry",
	             what, path);
	return -1;
}

static int
check_policy(struct install *in)
{
	struct mg_policy *p = NULL;
	char err[1024];
	enum mg_err e;

	if (realpath(in->policy_arg, in->policy) == NULL) {
		mg_cli_error("kernel install: policy %s: %s", in->policy_arg,
		             strerror(errno));
		return -1;
	}
	e = mg_policy_load_effective(in->policy, 0, &p, err, sizeof(err));
	mg_policy_free(p);
	if (e != MG_OK) {
		mg_cli_error("kernel install: %s", err[0] ? err : mg_strerror(e));
		return -1;
	}
	return env_safe("policy", in->policy);
}

/* Names, interpreter, library and policy: everything that can be checked
 * before anything is read or written. */
static int
check_args(struct install *in)
{
	const char *n = in->name_arg ? in->name_arg : DEFAULT_NAME;
	const char *f = in->from_arg ? in->from_arg : DEFAULT_FROM;

	if (!valid_name(n) || !valid_name(f)) {
		mg_cli_error("kernel install: '%s' is not a kernel name: ASCII "
		             "letters, digits, '.', '_' and '-' only",
		             valid_name(n) ? f : n);
		return -1;
	}
	lower(in->name, n);
	lower(in->from, f);
	if (in->python_arg != NULL &&
	    mg_jupyter_find_exe(in->python_arg, in->python) != 0) {
		mg_cli_error("kernel install: --python %s: no such executable "
		             "file%s", in->python_arg,
		             strchr(in->python_arg, '/') ? "" : " in PATH");
		return -1;
	}
	if (mg_cli_find_lib(in->lib) != 0) {
		mg_cli_error("kernel install: libmodelgate.so not found next "
		             "to this binary or in %s", mg_cli_libdir());
		return -1;
	}
	if (env_safe("library", in->lib) != 0)
		return -1;
	return in->policy_arg ? check_policy(in) : 0;
}

/* ipykernel's own spec (ipykernel/kernelspec.py get_kernel_dict()) for
 * @py, which jupyter_client offers as python3 when no directory has one. */
static json_t *
builtin_spec(const char *py, const struct mg_jupyter_py *pi)
{
	return json_pack("{s:[s,s,s,s,s], s:s, s:s, s:{s:b}}", "argv", py,
	                 "-m", "ipykernel_launcher", "-f", "{connection_file}",
	                 "display_name", "Python 3 (ipykernel)",
	                 "language", "python", "metadata", "debugger",
	                 pi->debugpy);
}

/* The spec to copy: --from along the search path of --python (else of
 * python3 from PATH); for python3 found nowhere, ipykernel's own. */
static json_t *
source_spec(struct install *in)
{
	struct mg_jupyter_list dirs = { 0 };
	char why[ERR_MAX], py3[PATH_MAX], found[PATH_MAX];
	const char *py = in->python[0] ? in->python : NULL;
	json_t *j = NULL;
	int hit;

	if (py == NULL && mg_jupyter_find_exe("python3", py3) == 0)
		py = py3;
	if (py != NULL && mg_jupyter_probe(py, &in->pi, why, sizeof(why)) != 0)
		mg_cli_error("kernel install: cannot ask %s for sys.prefix: %s; "
		             "its kernel directories are not searched", py, why);
	if (mg_jupyter_kernel_dirs(&in->pi, &dirs) != 0) {
		mg_cli_error("kernel install: out of memory, or a path too long");
		return NULL;
	}
	hit = find_spec(&dirs, in->from, found);
	if (hit && mg_jupyter_absolute(in->src, sizeof(in->src), found) != 0) {
		mg_cli_error("kernel install: %s: path too long", found);
	} else if (hit) {
		j = load_spec(in->src, why, sizeof(why));
		if (j != NULL && check_spec(j, in->src, why, sizeof(why)) != 0) {
			json_decref(j);
			j = NULL;
		}
		if (j == NULL)
			mg_cli_error("kernel install: %s", why);
	} else if (strcmp(in->from, DEFAULT_FROM) == 0 && py != NULL) {
		mg_cli_error("kernel install: no python3 kernelspec on jupyter's "
		             "search path: using ipykernel's built-in one, for %s",
		             py);
		j = builtin_spec(py, &in->pi);
	} else {
		mg_cli_error("kernel install: no kernelspec named '%s' on "
		             "jupyter's search path ('modelgate kernel list' "
		             "shows those there are)%s", in->from,
		             py ? "" : "; no python3 in PATH either (use --python)");
	}
	mg_jupyter_list_free(&dirs);
	return j;
}

/* LD_PRELOAD for the spec: @lib, then the entries of @old (split where
 * ld.so splits them) that are not some libmodelgate.so, colon-separated.
 * Malloc'd, or NULL when out of memory. */
static char *
preload_value(const char *lib, const char *old)
{
	size_t cap = strlen(lib) + (old ? strlen(old) : 0) + 2, n, len;
	char *out = malloc(cap);
	const char *p = old, *e;
	int mine;

	if (out == NULL)
		return NULL;
	len = (size_t)snprintf(out, cap, "%s", lib);
	while (p != NULL && *p != '\0') {
		n = strcspn(p, " :");
		e = p + n;
		mine = n >= 15 && memcmp(e - 15, "libmodelgate.so", 15) == 0 &&
		       (n == 15 || e[-16] == '/');
		if (n > 0 && !mine)
			len += (size_t)snprintf(out + len, cap - len, ":%.*s",
			                        (int)n, p);
		else if (mine && !(n == strlen(lib) && memcmp(p, lib, n) == 0))
			mg_cli_error("kernel install: dropped %.*s from the "
			             "copied LD_PRELOAD", (int)n, p);
		p = *e ? e + 1 : e;
	}
	return out;
}

/* The display name: --display-name, else the source's followed by MARK
 * (once: a copy of a copy is not marked twice).  0, or -1 out of memory. */
static int
set_display_name(const struct install *in, json_t *j)
{
	const char *dn = json_string_value(json_object_get(j, "display_name"));
	size_t n, m = strlen(MARK);
	char *disp;
	int rc;

	if (in->display != NULL)
		return json_object_set_new(j, "display_name",
		                           json_string(in->display));
	dn = dn ? dn : in->from;
	n = strlen(dn);
	if ((disp = malloc(n + m + 1)) == NULL)
		return -1;
	snprintf(disp, n + m + 1, "%s%s", dn,
	         n >= m && strcmp(dn + n - m, MARK) == 0 ? "" : MARK);
	rc = json_object_set_new(j, "display_name", json_string(disp));
	free(disp);
	return rc;
}

/* The object @key of @j, made empty if it is not there. */
static json_t *
object_of(json_t *j, const char *key)
{
	json_t *o = json_object_get(j, key);

	if (o == NULL && json_object_set_new(j, key, json_object()) == 0)
		o = json_object_get(j, key);
	return o;
}

/* Turn the copied @j into the modelgate spec: display name, argv[0],
 * env, metadata.modelgate.  0, or -1 out of memory. */
static int
make_spec(const struct install *in, json_t *j)
{
	json_t *env = object_of(j, "env"), *md = object_of(j, "metadata");
	const char *old;
	char *pre;
	int rc;

	if (env == NULL || md == NULL || set_display_name(in, j) != 0)
		return -1;
	if (in->python[0] != '\0' &&
	    json_array_set_new(json_object_get(j, "argv"), 0,
	                       json_string(in->python)) != 0)
		return -1;
	old = json_string_value(json_object_get(env, "LD_PRELOAD"));
	if ((pre = preload_value(in->lib, old)) == NULL)
		return -1;
	rc = json_object_set_new(env, "LD_PRELOAD", json_string(pre));
	free(pre);
	if (rc != 0 || (in->policy_arg != NULL &&
	                json_object_set_new(env, "MODELGATE_POLICY",
	                                    json_string(in->policy)) != 0))
		return -1;
	return json_object_set_new(md, "modelgate",
	                           json_pack("{s:s, s:s, s:s}",
	                                     "version", MG_VERSION,
	                                     "from", in->src[0] ? in->src :
	                                             BUILTIN_FROM,
	                                     "library", in->lib));
}

/* The kernels directory @w names into @out[PATH_MAX]: the user's from
 * the rules of the interpreter @pi describes (may be NULL); for
 * --sys-prefix, sys.prefix of @py, or of @pi's when @py is NULL.  -1 with
 * the reason said. */
static int
kernels_dir(const char *cmd, enum where w, const char *prefix,
            const char *py, const struct mg_jupyter_py *pi, char *out)
{
	struct mg_jupyter_py own;
	char buf[PATH_MAX], why[ERR_MAX];

	switch (w) {
	case WHERE_USER:
		if (mg_jupyter_data_dir(pi, buf) == 0 &&
		    mg_jupyter_join(out, PATH_MAX, buf, "kernels") == 0)
			return 0;
		mg_cli_error("kernel %s: no home directory to find jupyter's "
		             "data directory in (set JUPYTER_DATA_DIR)", cmd);
		return -1;
	case WHERE_PREFIX:
		if (mg_jupyter_absolute(buf, sizeof(buf), prefix) == 0 &&
		    mg_jupyter_join(out, PATH_MAX, buf,
		                    "share/jupyter/kernels") == 0)
			return 0;
		mg_cli_error("kernel %s: --prefix %s: path too long", cmd,
		             prefix);
		return -1;
	case WHERE_SYS_PREFIX:
		if (py == NULL && (pi == NULL || !pi->ok)) {
			mg_cli_error("kernel %s: --sys-prefix: no python3 to ask "
			             "for sys.prefix", cmd);
			return -1;
		}
		if (py != NULL &&
		    mg_jupyter_probe(py, &own, why, sizeof(why)) != 0) {
			mg_cli_error("kernel %s: --sys-prefix: cannot ask %s for "
			             "sys.prefix: %s", cmd, py, why);
			return -1;
		}
		return mg_jupyter_join(out, PATH_MAX,
		                       py ? own.prefix : pi->prefix,
		                       "share/jupyter/kernels");
	}
	return -1;
}

/* May @in->dest be written?  1 it is a spec modelgate made (replace),
 * 0 it is free, -1 refused (said why). */
static int
dest_state(struct install *in)
{
	char found[PATH_MAX], err[ERR_MAX], real_src[PATH_MAX], real_dst[PATH_MAX];
	json_t *j;
	DIR *d;
	int mine, empty = 1;
	struct dirent *de;

	if (!find_entry(in->kdir, in->name, 0, found))
		return 0;
	if (strcmp(found, in->dest) != 0) {
		mg_cli_error("kernel install: %s already names the kernel '%s' "
		             "(jupyter ignores case): choose another --name",
		             found, in->name);
		return -1;
	}
	if (in->src[0] && realpath(in->src, real_src) &&
	    realpath(in->dest, real_dst) && strcmp(real_src, real_dst) == 0) {
		mg_cli_error("kernel install: --from %s is the kernelspec %s "
		             "itself", in->from, in->dest);
		return -1;
	}
	if (is_kernel_dir(in->dest)) {
		if ((j = load_spec(in->dest, err, sizeof(err))) == NULL) {
			mg_cli_error("kernel install: %s; not replaced", err);
			return -1;
		}
		mine = mark_of(j) != NULL;
		json_decref(j);
		if (mine)
			return 1;
		mg_cli_error("kernel install: %s is a kernelspec modelgate did "
		             "not make (no \"modelgate\" in its metadata): left "
		             "alone; choose another --name", in->dest);
		return -1;
	}
	if ((d = opendir(in->dest)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				empty = 0;
		closedir(d);
	}
	if (d != NULL && empty)
		return 0;
	mg_cli_error("kernel install: %s exists and is not an empty directory "
	             "or a kernelspec: left alone", in->dest);
	return -1;
}

/* @j as kernel.json's text, indented as jupyter writes it, with a final
 * newline; malloc'd, length in *@len, or NULL when out of memory. */
static char *
dump_spec(const json_t *j, size_t *len)
{
	char *text = json_dumps(j, JSON_INDENT(1)), *t;

	if (text == NULL)
		return NULL;
	*len = strlen(text);
	if ((t = realloc(text, *len + 2)) == NULL) {
		free(text);
		return NULL;
	}
	t[(*len)++] = '\n';
	t[*len] = '\0';
	return t;
}

/* Write the spec @j as @in->name into the place @in->where names: its
 * directory (0755), the source's resource files, then kernel.json. */
static int
write_spec(struct install *in, json_t *j)
{
	const char *py =
	    json_string_value(json_array_get(json_object_get(j, "argv"), 0));
	char path[PATH_MAX], res[PATH_MAX], *text;
	size_t len;
	int state, rc;

	if (kernels_dir("install", in->where, in->prefix, py, &in->pi, in->kdir))
		return -1;
	if (mg_jupyter_join(in->dest, sizeof(in->dest), in->kdir, in->name) != 0 ||
	    mg_jupyter_join(path, sizeof(path), in->dest, SPEC_FILE) != 0) {
		mg_cli_error("kernel install: %s: path too long", in->kdir);
		return -1;
	}
	if ((state = dest_state(in)) < 0 || make_dirs(in->dest) != 0)
		return -1;
	if (in->src[0] != '\0') {
		if (copy_resources(in->src, in->dest, 0) != 0)
			return -1;
	} else if (in->pi.ipykernel[0] != '\0' &&
	           mg_jupyter_join(res, sizeof(res), in->pi.ipykernel,
	                           "resources") == 0 &&
	           access(res, R_OK) == 0 &&
	           copy_resources(res, in->dest, 0) != 0) {
		return -1;
	}
	if ((text = dump_spec(j, &len)) == NULL) {
		mg_cli_error("kernel install: out of memory");
		return -1;
	}
	rc = write_atomic(path, text, len, -1);
	free(text);
	if (rc == 0)
		printf("%s kernelspec %s in %s (from %s, library %s%s%s)\n",
		       state == 1 ? "replaced" : "installed", in->name, in->dest,
		       in->src[0] ? in->src : BUILTIN_FROM, in->lib,
		       in->policy_arg ? ", policy " : "",
		       in->policy_arg ? in->policy : "");
	return rc;
}

/* Parse the location options shared by install and uninstall. */
static int
set_where(enum where *w, int *n, enum where to)
{
	if (*n > 0 && *w != to) {
		mg_cli_error("kernel: --user, --sys-prefix and --prefix exclude "
		             "one another");
		return -1;
	}
	*w = to;
	(*n)++;
	return 0;
}

/* getopt_long over @argv (argv[0] the subcommand); messages of our own,
 * naming the option. */
static int
next_opt(int argc, char **argv, const struct option *lo, const char *cmd)
{
	int c = getopt_long(argc, argv, "h", lo, NULL);

	if (c == '?' || c == ':')
		mg_cli_error("kernel %s: unknown option, or one missing its "
		             "argument: %s", cmd, argv[optind - 1]);
	return c;
}

static int
cmd_install(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "display-name", required_argument, NULL, 'd' },
		{ "user", no_argument, NULL, 'u' },
		{ "sys-prefix", no_argument, NULL, 's' },
		{ "prefix", required_argument, NULL, 'P' },
		{ "policy", required_argument, NULL, 'p' },
		{ "from", required_argument, NULL, 'f' },
		{ "python", required_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct install *in = calloc(1, sizeof(*in));
	json_t *j = NULL;
	int c, rc = MG_EXIT_USAGE;

	if (in == NULL)
		return MG_EXIT_USAGE;
	while ((c = next_opt(argc, argv, lo, "install")) != -1) {
		switch (c) {
		case 'n': in->name_arg = optarg; break;
		case 'd': in->display = optarg; break;
		case 'p': in->policy_arg = optarg; break;
		case 'f': in->from_arg = optarg; break;
		case 'y': in->python_arg = optarg; break;
		case 'u':
		case 's':
		case 'P':
			in->prefix = c == 'P' ? optarg : in->prefix;
			if (set_where(&in->where, &in->nwhere,
			              c == 'u' ? WHERE_USER :
			              c == 's' ? WHERE_SYS_PREFIX : WHERE_PREFIX))
				goto out;
			break;
		case 'h':
			fputs(install_usage, stdout);
			rc = MG_EXIT_OK;
			goto out;
		default:
			fputs(install_usage, stderr);
			goto out;
		}
	}
	if (optind != argc) {
		mg_cli_error("kernel install: unexpected argument '%s'", argv[optind]);
		fputs(install_usage, stderr);
		goto out;
	}
	if (check_args(in) != 0 || (j = source_spec(in)) == NULL)
		goto out;
	if (make_spec(in, j) != 0) {
		mg_cli_error("kernel install: out of memory");
		goto out;
	}
	if (write_spec(in, j) == 0)
		rc = MG_EXIT_OK;
out:
	json_decref(j);
	free(in);
	return rc;
}

/* --- uninstall ---------------------------------------------------------- */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) == 0)
		return 0;
	mg_cli_error("kernel uninstall: cannot remove %s: %s", path,
	             strerror(errno));
	return -1;
}

/* The kernelspec @dir, if modelgate made it: removed with everything in it
 * (symlinks removed, never followed). */
static int
remove_spec(const char *dir)
{
	char err[ERR_MAX];
	json_t *j = load_spec(dir, err, sizeof(err));
	int mine = j != NULL && mark_of(j) != NULL;

	json_decref(j);
	if (j == NULL) {
		mg_cli_error("kernel uninstall: %s; left alone", err);
		return MG_EXIT_USAGE;
	}
	if (!mine) {
		mg_cli_error("kernel uninstall: %s is a kernelspec modelgate did "
		             "not make (no \"modelgate\" in its metadata): left "
		             "alone", dir);
		return MG_EXIT_USAGE;
	}
	if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return MG_EXIT_USAGE;
	printf("removed kernelspec %s\n", dir);
	return MG_EXIT_OK;
}

/* NAME is not in @kdir: say where it is instead, if anywhere. */
static void
not_here(const char *kdir, const char *name, const struct mg_jupyter_py *pi)
{
	struct mg_jupyter_list dirs = { 0 };
	char found[PATH_MAX];

	if (mg_jupyter_kernel_dirs(pi, &dirs) == 0 && find_spec(&dirs, name, found))
		mg_cli_error("kernel uninstall: no kernelspec %s in %s; there is "
		             "one in %s (choose that place with --user, "
		             "--sys-prefix or --prefix)", name, kdir, found);
	else
		mg_cli_error("kernel uninstall: no kernelspec %s in %s, nor "
		             "anywhere on jupyter's kernel search path", name, kdir);
	mg_jupyter_list_free(&dirs);
}

static int
cmd_uninstall(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "user", no_argument, NULL, 'u' },
		{ "sys-prefix", no_argument, NULL, 's' },
		{ "prefix", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum where w = WHERE_USER;
	const char *prefix = NULL;
	char name[NAME_MAX + 1], kdir[PATH_MAX], found[PATH_MAX];
	struct mg_jupyter_py pi;
	int c, n = 0;

	while ((c = next_opt(argc, argv, lo, "uninstall")) != -1) {
		if (c == 'u' || c == 's' || c == 'P') {
			prefix = c == 'P' ? optarg : prefix;
			if (set_where(&w, &n, c == 'u' ? WHERE_USER :
			              c == 's' ? WHERE_SYS_PREFIX : WHERE_PREFIX))
				return MG_EXIT_USAGE;
			continue;
		}
		fputs(uninstall_usage, c == 'h' ? stdout : stderr);
		return c == 'h' ? MG_EXIT_OK : MG_EXIT_USAGE;
	}
	if (optind != argc - 1) {
		fputs(uninstall_usage, stderr);
		return MG_EXIT_USAGE;
	}
	if (!valid_name(argv[optind])) {
		mg_cli_error("kernel uninstall: '%s' is not a kernel name",
		             argv[optind]);
		return MG_EXIT_USAGE;
	}
	lower(name, argv[optind]);
	probe_default("uninstall", &pi);
	if (kernels_dir("uninstall", w, prefix, NULL, &pi, kdir) != 0)
		return MG_EXIT_USAGE;
	if (find_entry(kdir, name, 1, found))
		return remove_spec(found);
	not_here(kdir, name, &pi);
	return MG_EXIT_USAGE;
}

/* --- list --------------------------------------------------------------- */

/* 1 if the LD_PRELOAD value @pre lists @lib. */
static int
preloads(const char *pre, const char *lib)
{
	size_t n, l = strlen(lib);

	while (pre != NULL && *pre != '\0') {
		n = strcspn(pre, " :");
		if (n == l && memcmp(pre, lib, l) == 0)
			return 1;
		pre += n + (pre[n] != '\0');
	}
	return 0;
}

/* The rest of a `list` line for the spec in @dir. */
static void
describe(const char *dir)
{
	char err[ERR_MAX];
	json_t *j = load_spec(dir, err, sizeof(err)), *m, *env;
	const char *lib, *pol, *state;

	if (j == NULL) {
		printf("\tunreadable: %s", err);
		return;
	}
	if ((m = mark_of(j)) != NULL) {
		env = json_object_get(j, "env");
		lib = json_string_value(json_object_get(m, "library"));
		pol = json_string_value(json_object_get(env, "MODELGATE_POLICY"));
		if (lib == NULL || access(lib, R_OK) != 0)
			state = "missing";
		else if (!preloads(json_string_value(json_object_get(env,
		                                     "LD_PRELOAD")), lib))
			state = "not-preloaded";
		else
			state = "ok";
		printf("\tmodelgate library=%s (%s) policy=%s%s",
		       lib ? lib : "?", state, pol ? pol : "default",
		       pol && access(pol, R_OK) != 0 ? " (missing)" : "");
	}
	json_decref(j);
}

/* One line per kernelspec in @kdir, in name order; @seen holds the names
 * earlier directories had (jupyter uses the first). */
static int
list_dir(const char *kdir, struct mg_jupyter_list *seen)
{
	struct dirent **ents = NULL;
	char path[PATH_MAX], name[NAME_MAX + 1];
	int i, n = scandir(kdir, &ents, NULL, alphasort), rc = 0;

	for (i = 0; i < n; i++) {
		if (strlen(ents[i]->d_name) <= NAME_MAX &&
		    mg_jupyter_join(path, sizeof(path), kdir,
		                    ents[i]->d_name) == 0 &&
		    is_kernel_dir(path)) {
			lower(name, ents[i]->d_name);
			printf("%s\t%s", name, path);
			if (mg_jupyter_list_has(seen, name))
				printf("\tshadowed");
			describe(path);
			putchar('\n');
			rc |= mg_jupyter_list_add(seen, name);
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

static int
cmd_list(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mg_jupyter_list dirs = { 0 }, seen = { 0 };
	struct mg_jupyter_py pi;
	char res[PATH_MAX];
	size_t i;
	int c, rc = MG_EXIT_OK;

	while ((c = next_opt(argc, argv, lo, "list")) != -1) {
		if (c == 'h') {
			fputs(list_usage, stdout);
			return MG_EXIT_OK;
		}
		fputs(list_usage, stderr);
		return MG_EXIT_USAGE;
	}
	if (optind != argc) {
		fputs(list_usage, stderr);
		return MG_EXIT_USAGE;
	}
	probe_default("list", &pi);
	if (mg_jupyter_kernel_dirs(&pi, &dirs) != 0)
		rc = MG_EXIT_USAGE;
	for (i = 0; i < dirs.n; i++)
		if (list_dir(dirs.v[i], &seen) != 0)
			rc = MG_EXIT_USAGE;
	/* jupyter_client's own python3 when no directory has one. */
	if (!mg_jupyter_list_has(&seen, DEFAULT_FROM) && pi.ok &&
	    pi.ipykernel[0] != '\0' &&
	    mg_jupyter_join(res, sizeof(res), pi.ipykernel, "resources") == 0 &&
	    access(res, R_OK) == 0)
		printf("%s\t%s\t%s\n", DEFAULT_FROM, res, BUILTIN_FROM);
	if (rc != MG_EXIT_OK)
		mg_cli_error("kernel list: out of memory, or a path too long");
	mg_jupyter_list_free(&dirs);
	mg_jupyter_list_free(&seen);
	return rc;
}

int
mg_cmd_kernel(int argc, char **argv)
{
	const char *cmd = argc >= 2 ? argv[1] : "";

	opterr = 0;
	optind = 0; /* glibc: start afresh, over the subcommand's arguments */
	if (strcmp(cmd, "install") == 0)
		return cmd_install(argc - 1, argv + 1);
	if (strcmp(cmd, "uninstall") == 0)
		return cmd_uninstall(argc - 1, argv + 1);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		printf("%s\n%s\n%s%s", install_usage, uninstall_usage,
		       list_usage, common_usage);
		return MG_EXIT_OK;
	}
	if (cmd[0] != '\0')
		mg_cli_error("kernel: unknown subcommand '%s'", cmd);
	fprintf(stderr, "%s\n%s\n%s%s", install_usage, uninstall_usage,
	        list_usage, common_usage);
	return MG_EXIT_USAGE;
}
