/*
 * layer.c - building the effective policy from its layers, the lock, and
 * writing a policy back out as a file (`modelgate policy show`).
 *
 * The rules per setting are stated at the top of policy.c; merge() below is
 * their one implementation.  A locked merge never lowers anything: each
 * branch either takes the stricter of the two values or ignores the user's
 * and records a note.
 *
 * Notes (a refused system policy, a parse warning, an ignored setting) go
 * to a sink: by default printed on stderr when they happen and, for an
 * ignored setting, logged - what the CLI wants.  The preload, which loads
 * the policy in every process on a host that lists it in
 * /etc/ld.so.preload, installs a sink that keeps them and reports them
 * once, only in a process that acts (preload.c).  Rejected: printing from
 * the preload's constructor (every `ls` said the refusal two or three
 * times) and a note list inside the policy object (a load that fails
 * returns no object, and the refusal would be lost with it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "policy_int.h"

struct merge_ctx {
	struct mg_policy *dst;
	const struct mg_policy *layer;
	const char *file;      /* the layer's file, for notes */
	int locked;
	int nomem;
};

/* --- notes ---------------------------------------------------------------- */

static mg_note_fn note_fn;   /* NULL: default_sink() */
static void *note_ctx;

void
mg_policy_set_note_sink(mg_note_fn fn, void *ctx)
{
	note_fn = fn;
	note_ctx = ctx;
}

/* A JSON line being built in a caller's buffer; overflow marks it bad. */
struct jbuf {
	char *b;
	size_t cap, n;
	int bad;
};

static void MG_PRINTF(2, 3)
jput(struct jbuf *j, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (j->bad)
		return;
	va_start(ap, fmt);
	k = vsnprintf(j->b + j->n, j->cap - j->n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= j->cap - j->n)
		j->bad = 1;
	else
		j->n += (size_t)k;
}

/* @s as a JSON string, quotes included; NULL as null. */
static void
jstr(struct jbuf *j, const char *s)
{
	unsigned char c;

	if (s == NULL) {
		jput(j, "null");
		return;
	}
	jput(j, "\"");
	for (; *s != '\0' && !j->bad; s++) {
		c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			jput(j, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			jput(j, "\\u%04x", c);
		else
			jput(j, "%c", c);
	}
	jput(j, "\"");
}

size_t
mg_policy_note_json(const struct mg_note *n, char *buf, size_t cap)
{
	static const char *const events[] = {
		"policy.refused", "policy.warning", "policy.locked" };
	struct jbuf j = { buf, cap, 0, cap == 0 };
	const char *msg = n->text;
	struct timespec ts;
	struct tm tm;

	if (strncmp(msg, "modelgate: ", 11) == 0)
		msg += 11;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	jput(&j, "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\","
	     "\"pid\":%d,\"uid\":%u,\"event\":\"%s\",\"key\":",
	     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	     ts.tv_nsec / 1000000L, (int)getpid(), (unsigned)getuid(),
	     events[(unsigned)n->kind % 3]);
	jstr(&j, n->key);
	jput(&j, ",\"line\":%d,\"file\":", n->line);
	jstr(&j, n->file);
	jput(&j, ",\"message\":");
	jstr(&j, msg);
	jput(&j, "}\n");
	return j.bad ? 0 : j.n;
}

/* Append @line to @path with one write on an O_APPEND descriptor (lines
 * from many processes never mix).  0, or -1 with errno set. */
static int
append_log(const char *path, const char *line, size_t n)
{
	int fd, e = 0;

	/* Why 0600: a log we create is the creator's alone; one that users
	 * append to is the administrator's to make (and to protect). */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	          0600);
	if (fd < 0)
		return -1;
	if (write(fd, line, n) != (ssize_t)n)
		e = errno ? errno : EIO;
	close(fd);
	errno = e;
	return e ? -1 : 0;
}

/*
 * The CLI's sink: the note on stderr as it happens; an ignored setting
 * is also logged, to syslog (the lock is on: see preload/audit.c for why
 * AUTHPRIV) and to the system's log_file, saying once when that fails.
 */
static void
default_sink(const struct mg_note *n)
{
	static int said;
	char line[4096];
	size_t len;

	fprintf(stderr, "%s\n", n->text);
	if (n->kind != MG_NOTE_IGNORED)
		return;
	len = mg_policy_note_json(n, line, sizeof(line));
	if (len == 0)
		return;
	if (n->log_file != NULL && append_log(n->log_file, line, len) != 0 &&
	    !said) {
		said = 1;
		fprintf(stderr, "modelgate: cannot write the audit log %s: %s; "
		        "this goes to syslog\n", n->log_file, strerror(errno));
	}
	syslog(LOG_AUTHPRIV | LOG_WARNING, "%.*s", (int)len - 1, line);
}

void
mg_policy_note(enum mg_note_kind kind, const char *file, int line,
               const char *key, const char *log_file, const char *fmt, ...)
{
	char text[1024];
	struct mg_note n;
	va_list ap;

	memcpy(text, "modelgate: ", 12);
	va_start(ap, fmt);
	vsnprintf(text + 11, sizeof(text) - 11, fmt, ap);
	va_end(ap);
	n.kind = kind;
	n.text = text;
	n.file = file ? file : "";
	n.line = line;
	n.key = key;
	n.log_file = log_file;
	if (note_fn != NULL)
		note_fn(note_ctx, &n);
	else
		default_sink(&n);
}

/* A user setting ignored under the lock. */
static void
note_ignored(struct merge_ctx *c, enum mg_key k)
{
	mg_policy_note(MG_NOTE_IGNORED, c->file, c->layer->line[k],
	               mg_conf_key_name(k), c->dst->log_file,
	               "locked system policy: ignored '%s' from %s:%d (it "
	               "would weaken the system policy)", mg_conf_key_name(k),
	               c->file, c->layer->line[k]);
}

static void
union_into(struct merge_ctx *c, struct mg_strv *d, const struct mg_strv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!mg_strv_has(d, s->v[i]) && mg_strv_add(d, s->v[i]) != 0)
			c->nomem = 1;
}

static void
replace_list(struct merge_ctx *c, struct mg_strv *d, const struct mg_strv *s)
{
	if (mg_strv_copy(d, s) != 0)
		c->nomem = 1;
}

/* Packs under the lock: keep only those both layers name. */
static void
intersect_packs(struct merge_ctx *c)
{
	struct mg_strv keep = { NULL, 0, 0 };
	size_t i;
	int dropped = 0;

	for (i = 0; i < c->dst->packs.n; i++) {
		if (mg_strv_has(&c->layer->packs, c->dst->packs.v[i])) {
			if (mg_strv_add(&keep, c->dst->packs.v[i]) != 0)
				c->nomem = 1;
		}
	}
	for (i = 0; i < c->layer->packs.n; i++)
		if (!mg_strv_has(&c->dst->packs, c->layer->packs.v[i]))
			dropped = 1;
	if (dropped)
		note_ignored(c, MG_K_PACKS);
	mg_strv_clear(&c->dst->packs);
	c->dst->packs = keep;
}

/* A boolean that the lock lets move only to @strict. */
static void
merge_bool(struct merge_ctx *c, enum mg_key k, int *d, int s, int strict)
{
	if (c->locked && s != strict && *d == strict) {
		note_ignored(c, k);
		return;
	}
	*d = s;
}

static void
merge_action(struct merge_ctx *c, enum mg_key k)
{
	int v = (int)(k - MG_K_CLEAN);

	if (c->locked && c->layer->actions[v] < c->dst->actions[v]) {
		note_ignored(c, k);
		return;
	}
	c->dst->actions[v] = c->layer->actions[v];
}

static void
merge_log(struct merge_ctx *c, enum mg_key k)
{
	const struct mg_policy *l = c->layer;
	struct mg_policy *d = c->dst;

	if (c->locked) {
		note_ignored(c, k);
		return;
	}
	if (k == MG_K_SYSLOG) {
		d->syslog = l->syslog;
		return;
	}
	free(d->log_file);
	d->log_file = l->log_file ? strdup(l->log_file) : NULL;
	if (l->log_file && d->log_file == NULL)
		c->nomem = 1;
}

/* Lists: rule lists accumulate; scope lists are replaced (or, locked,
 * grow / shrink toward strictness). */
static void
merge_list(struct merge_ctx *c, enum mg_key k)
{
	const struct mg_policy *l = c->layer;
	struct mg_policy *d = c->dst;

	switch (k) {
	case MG_K_DENY: union_into(c, &d->deny, &l->deny); return;
	case MG_K_DENY_REPOS: union_into(c, &d->deny_repos, &l->deny_repos);
		return;
	case MG_K_ALLOW:
	case MG_K_LOCKFILE:
		if (c->locked)
			note_ignored(c, k);
		else if (k == MG_K_ALLOW)
			union_into(c, &d->allow, &l->allow);
		else
			union_into(c, &d->lockfiles, &l->lockfiles);
		return;
	case MG_K_PROCESSES:
	case MG_K_EXTENSIONS:
	case MG_K_READONLY: {
		struct mg_strv *dl = k == MG_K_PROCESSES ? &d->processes :
		    k == MG_K_EXTENSIONS ? &d->exts : &d->ro_paths;
		const struct mg_strv *sl = k == MG_K_PROCESSES ? &l->processes :
		    k == MG_K_EXTENSIONS ? &l->exts : &l->ro_paths;
		if (c->locked)
			union_into(c, dl, sl);
		else
			replace_list(c, dl, sl);
		return;
	}
	case MG_K_PACKS:
		if (c->locked)
			intersect_packs(c);
		else
			replace_list(c, &d->packs, &l->packs);
		return;
	case MG_K_ALLOW_REPOS:
		if (c->locked && d->allow_repos.n > 0)
			note_ignored(c, k);
		else
			replace_list(c, &d->allow_repos, &l->allow_repos);
		return;
	default:
		return;
	}
}

static void
merge_key(struct merge_ctx *c, enum mg_key k)
{
	const struct mg_policy *l = c->layer;
	struct mg_policy *d = c->dst;

	switch (k) {
	case MG_K_LOCKED:
		return; /* only the system layer's counts; load_effective */
	case MG_K_CLEAN: case MG_K_UNKNOWN: case MG_K_UNKNOWN_CALL:
	case MG_K_ERROR: case MG_K_DANGEROUS:
		merge_action(c, k);
		return;
	case MG_K_SNIFF: merge_bool(c, k, &d->sniff, l->sniff, 1); return;
	case MG_K_REQUIRE_PIN:
		merge_bool(c, k, &d->require_pin, l->require_pin, 1);
		return;
	case MG_K_DENY_EXEC:
		merge_bool(c, k, &d->sandbox.deny_exec, l->sandbox.deny_exec, 1);
		return;
	case MG_K_DRY_RUN:
		merge_bool(c, k, &d->sandbox.dry_run, l->sandbox.dry_run, 0);
		return;
	case MG_K_LOG_FILE: case MG_K_SYSLOG:
		merge_log(c, k);
		return;
	case MG_K_GUARD_FIND_CLASS:
		/* Locked: only toward deny (off < audit < deny). */
		if (c->locked && l->guard < d->guard)
			note_ignored(c, k);
		else
			d->guard = l->guard;
		return;
	default:
		merge_list(c, k);
		return;
	}
}

/* Layer @l (parsed from @file) onto @d.  0, or -1 when out of memory. */
static int
merge(struct mg_policy *d, const struct mg_policy *l, const char *file,
      int locked)
{
	struct merge_ctx c = { d, l, file, locked, 0 };
	int k;

	for (k = 0; k < MG_K_COUNT; k++)
		if (l->line[k] != 0)
			merge_key(&c, (enum mg_key)k);
	if (mg_strv_add(&d->sources, file) != 0)
		c.nomem = 1;
	return c.nomem ? -1 : 0;
}

/* --- loading --------------------------------------------------------------- */

/* Parse @path into a fresh layer.  MG_OK or as mg_conf_parse(). */
static enum mg_err
parse_file(const char *path, FILE *f, struct mg_policy **layer, char *err,
           size_t errlen)
{
	enum mg_err e;

	*layer = mg_policy_alloc();
	if (*layer == NULL)
		return MG_ERR_NOMEM;
	e = mg_conf_parse(path, f, *layer, err, errlen, 0);
	if (e != MG_OK) {
		mg_policy_free(*layer);
		*layer = NULL;
	}
	return e;
}

/*
 * The system layer, or NULL when there is none.  *@refused is set (and
 * @err says why) when a file exists but may not be trusted or parsed.
 */
static enum mg_err
load_system(struct mg_policy **layer, int *refused, char *err, size_t errlen)
{
	const char *path = mg_policy_system_path();
	struct stat st;
	enum mg_err e = MG_OK;
	FILE *f = NULL;
	int fd;

	*layer = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return MG_OK;
		snprintf(err, errlen, "%s: cannot read: %s", path,
		         strerror(errno));
		goto refuse;
	}
	/* Why fstat of the open fd: the file we check is the file we read. */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "%s: not a root-owned file writable by "
		         "root alone", path);
		close(fd);
		goto refuse;
	}
	f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
		return MG_ERR_NOMEM;
	}
	e = parse_file(path, f, layer, err, errlen);
	fclose(f);
	if (e == MG_ERR_NOMEM)
		return e;
	if (e == MG_OK)
		return MG_OK;
refuse:
	*refused = 1;
	mg_policy_note(MG_NOTE_REFUSED, path, 0, NULL, NULL, "refusing the "
	               "system policy: %s; using the embedded default, locked",
	               err);
	return MG_OK;
}

static enum mg_err
load_user(struct mg_policy *p, const char *user_path, char *err,
          size_t errlen)
{
	struct mg_policy *layer = NULL;
	enum mg_err e;
	FILE *f;

	f = fopen(user_path, "re");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot read: %s", user_path,
		         strerror(errno));
		return MG_ERR_IO;
	}
	e = parse_file(user_path, f, &layer, err, errlen);
	fclose(f);
	if (e == MG_OK && merge(p, layer, user_path, p->locked) != 0)
		e = MG_ERR_NOMEM;
	mg_policy_free(layer);
	return e;
}

enum mg_err
mg_policy_load_effective(const char *user_path, int secure,
                         struct mg_policy **out, char *err, size_t errlen)
{
	struct mg_policy *p = NULL, *sys = NULL;
	enum mg_err e;
	int refused = 0;
	char dummy[8];

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	*out = NULL;
	p = mg_policy_new_default();
	if (p == NULL)
		return MG_ERR_NOMEM;
	e = load_system(&sys, &refused, err, errlen);
	if (e != MG_OK)
		goto fail;
	if (refused) {
		p->locked = 1;
	} else if (sys != NULL) {
		if (merge(p, sys, mg_policy_system_path(), 0) != 0) {
			e = MG_ERR_NOMEM;
			goto fail;
		}
		p->locked = sys->locked;
	}
	/* Why ignore @user_path when secure: under AT_SECURE it can only
	 * have come from an environment the caller does not control. */
	if (user_path != NULL && !secure) {
		e = load_user(p, user_path, err, errlen);
		if (e != MG_OK)
			goto fail;
	}
	mg_policy_finalize(p);
	mg_policy_free(sys);
	*out = p;
	return MG_OK;
fail:
	mg_policy_free(sys);
	mg_policy_free(p);
	return e;
}

enum mg_err
mg_policy_parse_text(const char *name, const char *text, size_t len,
                     struct mg_policy **out, char *err, size_t errlen)
{
	struct mg_policy *p, *layer = NULL;
	enum mg_err e = MG_OK;
	char dummy[8];
	FILE *f;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	*out = NULL;
	p = mg_policy_new_default();
	if (p == NULL)
		return MG_ERR_NOMEM;
	/* Why the test: fmemopen() of zero bytes fails; an empty file is
	 * the embedded default. */
	if (len > 0) {
		f = fmemopen((void *)(uintptr_t)text, len, "r");
		if (f == NULL) {
			e = MG_ERR_NOMEM;
			goto done;
		}
		e = parse_file(name, f, &layer, err, errlen);
		fclose(f);
		if (e != MG_OK)
			goto done;
		if (merge(p, layer, name, 0) != 0) {
			e = MG_ERR_NOMEM;
			goto done;
		}
		p->locked = layer->locked;
	}
	mg_policy_finalize(p);
	*out = p;
	p = NULL;
done:
	mg_policy_free(layer);
	mg_policy_free(p);
	return e;
}

/* --- writing ------------------------------------------------------------------ */

/* "key = a, b, c" with indented continuation lines past ~70 columns
 * (inih reads lines of up to 196 characters). */
static void
write_list(FILE *f, const char *key, const struct mg_strv *sv)
{
	size_t i, col;

	col = (size_t)fprintf(f, "%s =", key);
	for (i = 0; i < sv->n; i++) {
		if (i > 0 && col + strlen(sv->v[i]) > 70) {
			fputs(",\n   ", f);
			col = 3;
		} else if (i > 0) {
			fputc(',', f);
			col++;
		}
		col += (size_t)fprintf(f, " %s", sv->v[i]);
	}
	fputc('\n', f);
}

static const char *
yn(int b)
{
	return b ? "yes" : "no";
}

void
mg_policy_write(const struct mg_policy *p, FILE *f)
{
	/* The [actions] keys, by enum mg_verdict (not mg_verdict_name():
	 * an unknown call has a key of its own but prints as "unknown"). */
	static const char *const vnames[MG_VERDICT_COUNT] = {
		"clean", "unknown", "unknown_call", "error", "dangerous" };
	int v;

	fprintf(f, "[policy]\nlocked = %s\n", yn(p->locked));
	write_list(f, "processes", &p->processes);
	write_list(f, "extensions", &p->exts);
	fprintf(f, "sniff = %s\nlog_file =%s%s\nsyslog = %s\n\n[actions]\n",
	        yn(p->sniff), p->log_file ? " " : "",
	        p->log_file ? p->log_file : "", yn(p->syslog));
	for (v = 0; v < MG_VERDICT_COUNT; v++)
		fprintf(f, "%s = %s\n", vnames[v],
		        mg_action_name(p->actions[v]));
	fputs("\n[globals]\n", f);
	write_list(f, "packs", &p->packs);
	write_list(f, "allow", &p->allow);
	write_list(f, "deny", &p->deny);
	fprintf(f, "\n[sandbox]\ndeny_exec = %s\ndry_run = %s\n",
	        yn(p->sandbox.deny_exec), yn(p->sandbox.dry_run));
	write_list(f, "readonly_paths", &p->ro_paths);
	fprintf(f, "\n[pins]\nrequire_pin = %s\n", yn(p->require_pin));
	write_list(f, "lockfile", &p->lockfiles);
	fputs("\n[registry]\n", f);
	write_list(f, "allow_repos", &p->allow_repos);
	write_list(f, "deny_repos", &p->deny_repos);
	fprintf(f, "\n[guard]\nfind_class = %s\n",
	        mg_guard_mode_name(p->guard));
}
