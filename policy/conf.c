/*
 * conf.c - the policy file: an INI file read with inih, one key table.
 *
 * Approach: inih splits lines into (section, key, value); a reader of our
 * own feeds it line by line so we know the line number of every callback
 * (Debian's inih is built without INI_HANDLER_LINENO), see section headers
 * (inih reports none, so an empty unknown section would pass unnoticed) and
 * catch lines longer than inih's fixed 200-byte buffer, which it would
 * otherwise silently split into two "lines".  Every error names the file
 * and line: "policy.conf:12: unknown key 'alow' in [globals]".
 *
 * A file is parsed into a *layer*: a struct mg_policy in which only the keys
 * the file sets are filled, each with the line that set it.  Layering and
 * the lock live in policy.c.
 *
 * Rejected: our own INI parser (inih is the agreed dependency, and its
 * static copy is already linked into the preload); accepting unknown keys
 * with a warning (a typo such as "dangerus = deny" must not silently leave
 * the default in place).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "policy_int.h"

enum ktype { T_ACTION, T_BOOL, T_LIST, T_PATH, T_GLOBALS, T_EXTS,
             T_PACKS, T_PATHS, T_LOCKFILES, T_REPOS, T_GUARD };

struct keydef {
	const char *section, *key;
	enum mg_key k;
	enum ktype type;
};

static const struct keydef keys[] = {
	{ "policy", "locked", MG_K_LOCKED, T_BOOL },
	{ "policy", "processes", MG_K_PROCESSES, T_LIST },
	{ "policy", "extensions", MG_K_EXTENSIONS, T_EXTS },
	{ "policy", "sniff", MG_K_SNIFF, T_BOOL },
	{ "policy", "log_file", MG_K_LOG_FILE, T_PATH },
	{ "policy", "syslog", MG_K_SYSLOG, T_BOOL },
	{ "actions", "clean", MG_K_CLEAN, T_ACTION },
	{ "actions", "unknown", MG_K_UNKNOWN, T_ACTION },
	{ "actions", "unknown_call", MG_K_UNKNOWN_CALL, T_ACTION },
	{ "actions", "error", MG_K_ERROR, T_ACTION },
	{ "actions", "dangerous", MG_K_DANGEROUS, T_ACTION },
	{ "globals", "allow", MG_K_ALLOW, T_GLOBALS },
	{ "globals", "deny", MG_K_DENY, T_GLOBALS },
	{ "globals", "packs", MG_K_PACKS, T_PACKS },
	{ "sandbox", "deny_exec", MG_K_DENY_EXEC, T_BOOL },
	{ "sandbox", "dry_run", MG_K_DRY_RUN, T_BOOL },
	{ "sandbox", "readonly_paths", MG_K_READONLY, T_PATHS },
	{ "pins", "lockfile", MG_K_LOCKFILE, T_LOCKFILES },
	{ "pins", "require_pin", MG_K_REQUIRE_PIN, T_BOOL },
	{ "registry", "allow_repos", MG_K_ALLOW_REPOS, T_REPOS },
	{ "registry", "deny_repos", MG_K_DENY_REPOS, T_REPOS },
	{ "guard", "find_class", MG_K_GUARD_FIND_CLASS, T_GUARD },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* The state shared by our line reader and inih's handler callback. */
struct rd {
	FILE *f;
	const char *path;          /* display name for messages */
	char dir[4096];            /* directory of the file, for lockfiles */
	int lineno;                /* line last handed to inih */
	int cont;                  /* that line is a continuation line */
	int have_prev;             /* a key was seen in this section (inih
	                              only continues a previous key) */
	int bad_line;              /* a line we already reported */
	int errline;               /* first error's line, 0 = none */
	char err[512];
	int nomem;
	struct mg_policy *out;
	int quiet;                 /* no warning notes */
};

const char *
mg_conf_key_name(enum mg_key k)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (keys[i].k == k)
			return keys[i].key;
	return "?";
}

static void MG_PRINTF(3, 4)
fail(struct rd *r, int line, const char *fmt, ...)
{
	va_list ap;

	if (r->errline != 0)
		return;
	r->errline = line;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
}

static int
known_section(const char *s)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, s) == 0)
			return 1;
	return 0;
}

/* A section header line: is it one we know? */
static void
check_header(struct rd *r, const char *s)
{
	char name[64];
	size_t n;
	const char *end = strchr(s, ']');

	if (end == NULL)
		return; /* inih reports the syntax error */
	n = (size_t)(end - s - 1);
	if (n >= sizeof(name)) {
		fail(r, r->lineno, "unknown section (name too long)");
		return;
	}
	memcpy(name, s + 1, n);
	name[n] = '\0';
	if (!known_section(name))
		fail(r, r->lineno, "unknown section [%s]", name);
}

/*
 * inih's reader: one line per call, so r->lineno is the line of the next
 * handler callback.  Why the length check: inih's buffer is 200 bytes and
 * it would hand the rest of a longer line back as a line of its own.
 */
static char *
read_line(char *str, int num, void *stream)
{
	struct rd *r = stream;
	const char *s;
	size_t n;
	int c;

	if (fgets(str, num, r->f) == NULL)
		return NULL;
	r->lineno++;
	n = strlen(str);
	if (n == (size_t)num - 1 && str[n - 1] != '\n' && !feof(r->f)) {
		fail(r, r->lineno, "line longer than %d characters (split a "
		     "list over indented continuation lines)", num - 3);
		r->bad_line = r->lineno;
		while ((c = fgetc(r->f)) != EOF && c != '\n')
			;
		str[0] = '\0';
		return str;
	}
	for (s = str; *s == ' ' || *s == '\t'; s++)
		;
	r->cont = r->have_prev && s != str && *s != '\0' && *s != '\n' &&
	          *s != '\r' && *s != ';' && *s != '#';
	if (*s == '[') {
		r->have_prev = 0;
		check_header(r, s);
	}
	return str;
}

static const struct keydef *
find_key(const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0 &&
		    strcmp(keys[i].key, key) == 0)
			return &keys[i];
	return NULL;
}

static int
parse_action(const char *v, enum mg_action *a)
{
	static const char *const names[] = { "allow", "audit", "sandbox",
	                                     "deny" };
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(v, names[i]) == 0) {
			*a = (enum mg_action)i;
			return 0;
		}
	return -1;
}

static int
parse_bool(const char *v, int *b)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") ||
	    !strcmp(v, "1"))
		*b = 1;
	else if (!strcmp(v, "no") || !strcmp(v, "false") ||
	         !strcmp(v, "off") || !strcmp(v, "0"))
		*b = 0;
	else
		return -1;
	return 0;
}

/* A dotted Python name: identifiers joined by single dots. */
static int
dotted_ok(const char *s, size_t n)
{
	size_t i;
	int start = 1;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (start)
				return 0;
			start = 1;
			continue;
		}
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_') ||
		    (start && isdigit((unsigned char)s[i])))
			return 0;
		start = 0;
	}
	return !start;
}

/* 1 if some dotted part of @s[0..n) is a dunder (__x__). */
static int
has_dunder(const char *s, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		for (j = i; j < n && s[j] != '.'; j++)
			;
		if (j - i >= 4 && s[i] == '_' && s[i + 1] == '_' &&
		    s[j - 1] == '_' && s[j - 2] == '_')
			return 1;
		i = j + 1;
	}
	return 0;
}

/* Validate one "module:name" / "module:*" entry of allow (@allow) or deny. */
static int
check_global(struct rd *r, const char *e, int allow)
{
	const char *colon = strchr(e, ':');
	const char *cat = NULL;
	char mod[256];
	size_t ml;

	if (colon == NULL || !dotted_ok(e, (size_t)(colon - e)) ||
	    (strcmp(colon + 1, "*") != 0 &&
	     !dotted_ok(colon + 1, strlen(colon + 1)))) {
		fail(r, r->lineno, "bad global '%s' (expected module:name or "
		     "module:*, e.g. torch.nn.modules.linear:Linear)", e);
		return -1;
	}
	if (!allow)
		return 0;
	ml = (size_t)(colon - e);
	if (has_dunder(e, ml) || has_dunder(colon + 1, strlen(colon + 1))) {
		fail(r, r->lineno, "'%s': dunder names are never allowed", e);
		return -1;
	}
	if (strcmp(colon + 1, "*") == 0) {
		if (!r->quiet)
			mg_policy_note(MG_NOTE_WARNING, r->path, r->lineno, NULL,
			               NULL, "%s:%d: warning: '%s' allows every "
			               "name of the module (only dunders excepted)",
			               r->path, r->lineno, e);
		return 0;
	}
	if (ml >= sizeof(mod))
		return 0;
	memcpy(mod, e, ml);
	mod[ml] = '\0';
	if (mg_globals_classify(mod, colon + 1, &cat) == MG_GLOBAL_DENIED) {
		fail(r, r->lineno, "'%s' is on the embedded deny-list (%s) and "
		     "cannot be allowed", e, cat ? cat : "denied");
		return -1;
	}
	return 0;
}

/* "name" or "name@version" of a compiled-in pack. */
static int
check_pack(struct rd *r, const char *e)
{
	char name[64];
	const char *at = strchr(e, '@');
	size_t n = at ? (size_t)(at - e) : strlen(e);
	const struct mg_pack *pk;

	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, e, n);
	name[n] = '\0';
	pk = mg_pack_find(name);
	if (pk == NULL) {
		fail(r, r->lineno, "unknown pack '%s'", name);
		return -1;
	}
	if (at != NULL && strcmp(at + 1, pk->version) != 0) {
		fail(r, r->lineno, "pack '%s' is version %s, not %s", name,
		     pk->version, at + 1);
		return -1;
	}
	return 0;
}

/* Check one list item of key @kd; 0 or -1 (error recorded). */
static int
check_item(struct rd *r, const struct keydef *kd, const char *it)
{
	switch (kd->type) {
	case T_GLOBALS:
		return check_global(r, it, kd->k == MG_K_ALLOW);
	case T_EXTS:
		if (it[0] != '.' || it[1] == '\0' || strchr(it, '/')) {
			fail(r, r->lineno, "bad extension '%s' (e.g. .pt)", it);
			return -1;
		}
		return 0;
	case T_PACKS:
		return check_pack(r, it);
	case T_PATHS:
		if (it[0] != '/') {
			fail(r, r->lineno, "'%s' in '%s' is not an absolute path",
			     it, kd->key);
			return -1;
		}
		return 0;
	case T_LIST:
		if (strchr(it, '/')) {
			fail(r, r->lineno, "'%s': processes match the executable's "
			     "name, not a path", it);
			return -1;
		}
		return 0;
	default:
		return 0;
	}
}

static struct mg_strv *
list_of(struct mg_policy *p, enum mg_key k)
{
	switch (k) {
	case MG_K_PROCESSES: return &p->processes;
	case MG_K_EXTENSIONS: return &p->exts;
	case MG_K_ALLOW: return &p->allow;
	case MG_K_DENY: return &p->deny;
	case MG_K_PACKS: return &p->packs;
	case MG_K_READONLY: return &p->ro_paths;
	case MG_K_LOCKFILE: return &p->lockfiles;
	case MG_K_ALLOW_REPOS: return &p->allow_repos;
	case MG_K_DENY_REPOS: return &p->deny_repos;
	default: return NULL;
	}
}

/* Split @v on commas into the list of @kd, checking each item. */
static int
add_items(struct rd *r, const struct keydef *kd, const char *v)
{
	struct mg_strv *sv = list_of(r->out, kd->k);
	char item[4096 + 256], *a, *b;
	const char *end;

	while (*v != '\0') {
		end = strchr(v, ',');
		if (end == NULL)
			end = v + strlen(v);
		if ((size_t)(end - v) >= sizeof(item) - 4096) {
			fail(r, r->lineno, "list item too long in '%s'", kd->key);
			return -1;
		}
		memcpy(item, v, (size_t)(end - v));
		item[end - v] = '\0';
		for (a = item; isspace((unsigned char)*a); a++)
			;
		for (b = a + strlen(a); b > a && isspace((unsigned char)b[-1]); )
			*--b = '\0';
		v = *end ? end + 1 : end;
		if (*a == '\0')
			continue;
		if (kd->type == T_LOCKFILES && a[0] != '/') {
			/* Like sha256sum -c: relative to the file naming it. */
			memmove(a + strlen(r->dir) + 1, a, strlen(a) + 1);
			memcpy(a, r->dir, strlen(r->dir));
			a[strlen(r->dir)] = '/';
		}
		if (check_item(r, kd, a) != 0)
			return -1;
		if (mg_strv_add(sv, a) != 0) {
			r->nomem = 1;
			return -1;
		}
	}
	return 0;
}

static int
set_scalar(struct rd *r, const struct keydef *kd, const char *v)
{
	struct mg_policy *p = r->out;
	enum mg_action a;
	int b = 0;

	if (kd->type == T_ACTION) {
		if (parse_action(v, &a) != 0) {
			fail(r, r->lineno, "bad value '%s' for '%s' (allow, audit, "
			     "sandbox or deny)", v, kd->key);
			return -1;
		}
		p->actions[kd->k - MG_K_CLEAN] = a;
		return 0;
	}
	if (kd->type == T_GUARD) {
		if (strcmp(v, "off") == 0)
			p->guard = MG_GUARD_OFF;
		else if (strcmp(v, "audit") == 0)
			p->guard = MG_GUARD_AUDIT;
		else if (strcmp(v, "deny") == 0)
			p->guard = MG_GUARD_DENY;
		else {
			fail(r, r->lineno, "bad value '%s' for '%s' (deny, audit "
			     "or off)", v, kd->key);
			return -1;
		}
		return 0;
	}
	if (kd->type == T_PATH) {
		if (v[0] != '\0' && v[0] != '/') {
			fail(r, r->lineno, "'%s' must be an absolute path", kd->key);
			return -1;
		}
		free(p->log_file);
		p->log_file = v[0] ? strdup(v) : NULL;
		if (v[0] && p->log_file == NULL)
			r->nomem = 1;
		return r->nomem ? -1 : 0;
	}
	if (parse_bool(v, &b) != 0) {
		fail(r, r->lineno, "bad value '%s' for '%s' (yes or no)", v,
		     kd->key);
		return -1;
	}
	switch (kd->k) {
	case MG_K_LOCKED: p->locked = b; break;
	case MG_K_SNIFF: p->sniff = b; break;
	case MG_K_SYSLOG: p->syslog = b; break;
	case MG_K_DENY_EXEC: p->sandbox.deny_exec = b; break;
	case MG_K_DRY_RUN: p->sandbox.dry_run = b; break;
	case MG_K_REQUIRE_PIN: p->require_pin = b; break;
	default: break;
	}
	return 0;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct rd *r = user;
	const struct keydef *kd;

	r->have_prev = 1;
	if (r->bad_line == r->lineno || r->nomem)
		return 0;
	if (section[0] == '\0') {
		fail(r, r->lineno, "'%s' outside a section (start with "
		     "[policy], [actions], ...)", name);
		return 0;
	}
	if (!known_section(section))
		return 0; /* reported at the header */
	kd = find_key(section, name);
	if (kd == NULL) {
		fail(r, r->lineno, "unknown key '%s' in [%s]", name, section);
		return 0;
	}
	if (r->cont) {
		if (list_of(r->out, kd->k) == NULL) {
			fail(r, r->lineno, "continuation line, but '%s' takes one "
			     "value", kd->key);
			return 0;
		}
		return add_items(r, kd, value) == 0;
	}
	if (r->out->line[kd->k] != 0) {
		fail(r, r->lineno, "duplicate key '%s' in [%s] (first set on "
		     "line %d)", name, section, r->out->line[kd->k]);
		return 0;
	}
	r->out->line[kd->k] = r->lineno;
	if (list_of(r->out, kd->k) != NULL)
		return add_items(r, kd, value) == 0;
	return set_scalar(r, kd, value) == 0;
}

static void
set_dir(struct rd *r, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL || strcmp(path, "/dev/stdin") == 0) {
		if (getcwd(r->dir, sizeof(r->dir)) == NULL)
			snprintf(r->dir, sizeof(r->dir), ".");
	} else if (slash == path) {
		snprintf(r->dir, sizeof(r->dir), "/");
	} else {
		snprintf(r->dir, sizeof(r->dir), "%.*s", (int)(slash - path),
		         path);
	}
}

enum mg_err
mg_conf_parse(const char *path, FILE *f, struct mg_policy *out, char *err,
              size_t errlen, int quiet)
{
	struct rd r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.f = f;
	r.path = path;
	r.out = out;
	r.quiet = quiet;
	set_dir(&r, path);
	rc = ini_parse_stream(read_line, &r, handler, &r);
	if (r.nomem)
		return MG_ERR_NOMEM;
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path,
		         strerror(errno));
		return MG_ERR_IO;
	}
	if (rc > 0 && (r.errline == 0 || rc < r.errline)) {
		snprintf(err, errlen, "%s:%d: syntax error (expected [section] "
		         "or key = value)", path, rc);
		return MG_ERR_PARSE;
	}
	if (r.errline != 0) {
		snprintf(err, errlen, "%s:%d: %s", path, r.errline, r.err);
		return MG_ERR_PARSE;
	}
	return MG_OK;
}
