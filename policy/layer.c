/*
 * layer.c - building the effective policy from its layers, the lock, and
 * writing a policy back out as a file (`modelgate policy show`).
 *
 * The rules per setting are stated at the top of policy.c; merge() below is
 * their one implementation.  A locked merge never lowers anything: each
 * branch either takes the stricter of the two values or ignores the user's
 * and records a note, which is printed on stderr and appended to the
 * system's audit log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Write one JSON string (escaped) to @fd's buffer @b. */
static void
json_str(char *b, size_t cap, const char *s)
{
	size_t n = strlen(b);

	for (; *s && n + 8 < cap; s++) {
		if (*s == '"' || *s == '\\') {
			b[n++] = '\\';
			b[n++] = *s;
		} else if ((unsigned char)*s < 0x20) {
			n += (size_t)snprintf(b + n, cap - n, "\\u%04x",
			                      (unsigned char)*s);
		} else {
			b[n++] = *s;
		}
	}
	b[n] = '\0';
}

/* A user setting ignored under the lock: say so on stderr and in the log. */
static void
note_ignored(struct merge_ctx *c, enum mg_key k)
{
	char line[2048];
	int fd;

	fprintf(stderr, "modelgate: locked system policy: ignored '%s' from "
	        "%s:%d (it would weaken the system policy)\n",
	        mg_conf_key_name(k), c->file, c->layer->line[k]);
	if (c->dst->log_file == NULL)
		return;
	snprintf(line, sizeof(line), "{\"time\":%lld,\"pid\":%d,\"uid\":%u,"
	         "\"event\":\"policy.locked\",\"key\":\"%s\",\"line\":%d,"
	         "\"file\":\"", (long long)time(NULL), (int)getpid(),
	         (unsigned)getuid(), mg_conf_key_name(k), c->layer->line[k]);
	/* Why -4: json_str stops short so the closing "}\n fits. */
	json_str(line, sizeof(line) - 4, c->file);
	memcpy(line + strlen(line), "\"}\n", 4);
	fd = open(c->dst->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	          O_NOFOLLOW, 0640);
	if (fd < 0)
		return;
	/* One write on an O_APPEND fd: lines from many processes never mix. */
	if (write(fd, line, strlen(line)) < 0) {
		/* nothing more we can do; stderr already has it */
	}
	close(fd);
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
	e = mg_conf_parse(path, f, *layer, err, errlen, stderr);
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
	fprintf(stderr, "modelgate: refusing the system policy: %s; using the "
	        "embedded default, locked\n", err);
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
}
