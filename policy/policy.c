/*
 * policy.c - the effective policy: embedded default, layering, the lock,
 * classification and the settings the preload and helper read.
 *
 * Layering: embedded default < system policy (/etc/modelgate/policy.conf)
 * < the user's file (MODELGATE_POLICY or --policy, passed in by the
 * caller).  Unlocked, a later layer replaces each scalar it sets, replaces
 * the lists that describe a scope (processes, extensions, packs,
 * readonly_paths, allow_repos) and adds to the lists that accumulate rules
 * (allow, deny, lockfile, deny_repos).
 *
 * Locked (the system policy says "locked = yes"): the user's file may only
 * make things stricter.  Per setting: an action only moves up the order
 * allow < audit < sandbox < deny; deny, deny_repos, processes, extensions
 * and readonly_paths only grow; packs only shrink (intersection); sniff,
 * require_pin and deny_exec can only be turned on and dry_run only off;
 * the guard ([guard] find_class) only moves up off < audit < deny;
 * allow, lockfile, log_file, syslog and allow_repos (when the system sets
 * any) cannot be changed at all, because each of them can let a file
 * through that the system policy stops.  Every ignored setting is a note
 * (layer.c): on stderr and in the log (syslog, and the system's log_file)
 * from the CLI, once per acting process from the preload.
 *
 * A system policy that is not root-owned, is group- or world-writable, or
 * does not parse is refused loudly; the embedded default then applies,
 * *locked*, since we cannot know whether the administrator meant to lock.
 *
 * Classification order: policy deny (exact, or module:* which also covers
 * submodules) > embedded deny > policy allow (exact, or module:* for that
 * module only, never a dunder name) > enabled packs > embedded allow >
 * unknown.  A policy cannot allow what the embedded deny-list denies.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy_int.h"

#ifndef MG_SYSTEM_POLICY
#define MG_SYSTEM_POLICY "/etc/modelgate/policy.conf"
#endif

static char system_path[4096] = MG_SYSTEM_POLICY;
static unsigned long serial_counter;

/* --- string vectors ------------------------------------------------------ */

int
mg_strv_add(struct mg_strv *sv, const char *s)
{
	char **nv, *c;
	size_t ncap;

	if (sv->n + 1 >= sv->cap) {
		ncap = sv->cap ? sv->cap * 2 : 8;
		nv = realloc(sv->v, ncap * sizeof(*nv));
		if (nv == NULL)
			return -1;
		sv->v = nv;
		sv->cap = ncap;
	}
	c = strdup(s);
	if (c == NULL)
		return -1;
	sv->v[sv->n++] = c;
	sv->v[sv->n] = NULL;
	return 0;
}

int
mg_strv_has(const struct mg_strv *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return 1;
	return 0;
}

void
mg_strv_clear(struct mg_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof(*sv));
}

int
mg_strv_copy(struct mg_strv *dst, const struct mg_strv *src)
{
	size_t i;

	mg_strv_clear(dst);
	for (i = 0; i < src->n; i++)
		if (mg_strv_add(dst, src->v[i]) != 0)
			return -1;
	return 0;
}

/* --- objects --------------------------------------------------------------- */

const char *
mg_action_name(enum mg_action a)
{
	switch (a) {
	case MG_ACTION_ALLOW: return "allow";
	case MG_ACTION_AUDIT: return "audit";
	case MG_ACTION_SANDBOX: return "sandbox";
	case MG_ACTION_DENY: return "deny";
	}
	return "deny";
}

static enum mg_gclass
classify_cb(void *ctx, const char *module, const char *name,
            const char **category)
{
	return mg_policy_classify(ctx, module, name, category);
}

struct mg_policy *
mg_policy_alloc(void)
{
	struct mg_policy *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->serial = __atomic_add_fetch(&serial_counter, 1, __ATOMIC_RELAXED);
	p->classifier.classify = classify_cb;
	p->classifier.ctx = p;
	return p;
}

/* The model extensions the preload and `scan` treat as model files. */
static const char *const default_exts[] = {
	".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle", ".joblib", ".npy",
	".npz", ".h5", ".hdf5", ".keras", ".safetensors", ".gguf", ".sav",
	".dat", ".model", ".mar", ".pt2", ".ptl",
	/* torch.distributed.checkpoint: archives back to back (scanned
	 * whole, scanner/zip.c); its .metadata pickle is sniffed. */
	".distcp", NULL
};

/* The keys mg_policy_model_ext_n filters on.  An entry with no extension
 * of its own ("model", "x.") gets key 0: it is always compared in full. */
enum { EXT_SET = sizeof(((struct mg_policy *)0)->ext_set) / sizeof(uint64_t) };

/* Why multiplicative: keys of short extensions differ in their low
 * bytes; the top bits of the product mix them all. */
static size_t
ext_slot(uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 58) % EXT_SET;
}

static int
ext_set_has(const struct mg_policy *p, uint64_t key)
{
	size_t i, s = ext_slot(key);

	for (i = 0; i < EXT_SET && p->ext_set[s] != 0; i++) {
		if (p->ext_set[s] == key)
			return 1;
		s = (s + 1) % EXT_SET;
	}
	return 0;
}

static void
index_exts(struct mg_policy *p)
{
	struct mg_ext e;
	size_t i, s;

	p->ext_nkeys = 0;
	p->ext_unkeyed = 0;
	memset(p->ext_set, 0, sizeof(p->ext_set));
	memset(&p->ext_tails, 0, sizeof(p->ext_tails));
	for (i = 0; i < p->exts.n; i++)
		mg_tail_set_add(&p->ext_tails, p->exts.v[i],
		                strlen(p->exts.v[i]));
	mg_policy_add_open_tails(&p->ext_tails);
	p->ext_tails.built = 1;
	/* Why the bound at half the set: probes stay short, and it is
	 * never full (a lookup always meets an empty slot). */
	if (p->exts.n > sizeof(p->ext_keys) / sizeof(p->ext_keys[0]))
		return; /* ext_nkeys != exts.n: every entry in full */
	for (i = 0; i < p->exts.n; i++) {
		mg_ext_of(p->exts.v[i], strlen(p->exts.v[i]), &e);
		p->ext_keys[i] = e.key;
		p->ext_unkeyed |= e.key == 0;
		if (e.key == 0 || ext_set_has(p, e.key))
			continue;
		for (s = ext_slot(e.key); p->ext_set[s] != 0;
		     s = (s + 1) % EXT_SET)
			;
		p->ext_set[s] = e.key;
	}
	p->ext_nkeys = p->exts.n;
}

/* Resolve pack names to tables and point the sandbox at its paths. */
void
mg_policy_finalize(struct mg_policy *p)
{
	size_t i;
	char name[64];
	const char *at;

	p->npack = 0;
	for (i = 0; i < p->packs.n && p->npack < 16; i++) {
		at = strchr(p->packs.v[i], '@');
		snprintf(name, sizeof(name), "%.*s",
		         at ? (int)(at - p->packs.v[i]) : 63, p->packs.v[i]);
		if (mg_pack_find(name) != NULL)
			p->pack_tab[p->npack++] = mg_pack_find(name);
	}
	p->sandbox.readonly_paths = p->ro_paths.n ? p->ro_paths.v : NULL;
	index_exts(p);
}

struct mg_policy *
mg_policy_new_default(void)
{
	struct mg_policy *p = mg_policy_alloc();
	int i, bad = 0;

	if (p == NULL)
		return NULL;
	/* DESIGN.md's table: unknown is usually legitimate (a full module,
	 * a team's classes) so it loads, but without network; error is
	 * denied because unparseable is never clean. */
	p->actions[MG_VERDICT_CLEAN] = MG_ACTION_ALLOW;
	/* The guard refuses only what the deny rules name: on by default
	 * (preload/guard.c says what it leaves alone and why). */
	p->guard = MG_GUARD_DENY;
	p->actions[MG_VERDICT_UNKNOWN] = MG_ACTION_SANDBOX;
	/* An unknown callable called with the file's arguments runs what
	 * the file chooses, and the sandbox only stops new sockets: deny.
	 * (scanner/pickle.c says exactly which opcodes count as a call.) */
	p->actions[MG_VERDICT_UNKNOWN_CALL] = MG_ACTION_DENY;
	p->actions[MG_VERDICT_ERROR] = MG_ACTION_DENY;
	p->actions[MG_VERDICT_DANGEROUS] = MG_ACTION_DENY;
	/* Sniffing by content is on: a pickle renamed .txt is still one. */
	p->sniff = 1;
	/* Python only by default: the threat is Python loaders, and a
	 * preload that acts in every process would tax the whole host. */
	bad |= mg_strv_add(&p->processes, "python*");
	for (i = 0; default_exts[i] != NULL; i++)
		bad |= mg_strv_add(&p->exts, default_exts[i]);
	/* Every shipped pack on: what a default user loads is torch
	 * checkpoints and arrays, scikit-learn joblib models, pandas
	 * pickles, HF Trainer and Lightning/OmegaConf checkpoints and
	 * scipy sparse matrices, and with a pack off those ordinary files
	 * are "unknown" and lose the network.  Each pack holds only reviewed data constructors
	 * (policy/packs/README.md); a site can still narrow the list. */
	bad |= mg_strv_add(&p->packs, "torch");
	bad |= mg_strv_add(&p->packs, "numpy");
	bad |= mg_strv_add(&p->packs, "sklearn");
	bad |= mg_strv_add(&p->packs, "pandas");
	bad |= mg_strv_add(&p->packs, "transformers");
	bad |= mg_strv_add(&p->packs, "omegaconf");
	bad |= mg_strv_add(&p->packs, "scipy");
	if (bad) {
		mg_policy_free(p);
		return NULL;
	}
	mg_policy_finalize(p);
	return p;
}

void
mg_policy_free(struct mg_policy *p)
{
	if (p == NULL)
		return;
	free(p->log_file);
	mg_strv_clear(&p->processes);
	mg_strv_clear(&p->exts);
	mg_strv_clear(&p->allow);
	mg_strv_clear(&p->deny);
	mg_strv_clear(&p->packs);
	mg_strv_clear(&p->ro_paths);
	mg_strv_clear(&p->lockfiles);
	mg_strv_clear(&p->allow_repos);
	mg_strv_clear(&p->deny_repos);
	mg_strv_clear(&p->sources);
	free(p);
}

void
mg_policy_set_system_path(const char *path)
{
	snprintf(system_path, sizeof(system_path), "%s",
	         path ? path : MG_SYSTEM_POLICY);
}

const char *
mg_policy_system_path(void)
{
	return system_path;
}

int
mg_policy_locked(const struct mg_policy *p)
{
	return p != NULL && p->locked;
}

/* --- classification ---------------------------------------------------------- */

/*
 * Compare the virtual string "@m:@n" with the entry @e without building
 * it.  Entries are validated dotted names, so a module that itself holds a
 * ':' (only a hostile pickle has one) can never compare equal.
 */
static int
entry_is(const char *e, const char *m, const char *n)
{
	size_t ml = strlen(m);

	return strncmp(e, m, ml) == 0 && e[ml] == ':' &&
	       strcmp(e + ml + 1, n) == 0;
}

/* @e is "mod:*": does it cover @m (itself, or a submodule if @sub)? */
static int
entry_covers(const char *e, const char *m, int sub)
{
	size_t el = strlen(e), ml;

	if (el < 3 || strcmp(e + el - 2, ":*") != 0)
		return 0;
	el -= 2;
	ml = strlen(m);
	if (ml == el)
		return strncmp(e, m, el) == 0;
	return sub && ml > el && strncmp(e, m, el) == 0 && m[el] == '.';
}

static int
is_dunder(const char *s)
{
	size_t n = strlen(s);

	return n >= 4 && s[0] == '_' && s[1] == '_' && s[n - 1] == '_' &&
	       s[n - 2] == '_';
}

static int
name_has_dunder(const char *s)
{
	const char *p = s, *dot;
	char part[256];
	size_t n;

	for (;;) {
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (n < sizeof(part)) {
			memcpy(part, p, n);
			part[n] = '\0';
			if (is_dunder(part))
				return 1;
		}
		if (dot == NULL)
			return 0;
		p = dot + 1;
	}
}

enum mg_gclass
mg_policy_classify(const struct mg_policy *p, const char *module,
                   const char *name, const char **category)
{
	enum mg_gclass g, best = MG_GLOBAL_UNKNOWN;
	size_t i;

	if (module == NULL || name == NULL)
		return MG_GLOBAL_UNKNOWN;
	for (i = 0; p != NULL && i < p->deny.n; i++)
		if (entry_is(p->deny.v[i], module, name) ||
		    entry_covers(p->deny.v[i], module, 1)) {
			if (category != NULL)
				*category = "denied by policy";
			return MG_GLOBAL_DENIED;
		}
	g = mg_globals_classify(module, name, category);
	if (g != MG_GLOBAL_UNKNOWN || p == NULL)
		return g;
	/* Why the dunder test: "mod:*" must never reach __reduce__ and
	 * friends; the pickle analyser flags dunders anyway. */
	if (name_has_dunder(name) || name_has_dunder(module))
		return MG_GLOBAL_UNKNOWN;
	for (i = 0; i < p->allow.n; i++)
		if (entry_is(p->allow.v[i], module, name) ||
		    entry_covers(p->allow.v[i], module, 0))
			return MG_GLOBAL_ALLOWED;
	/* Why an allowed entry beats a rebuild-only one: allow-lists only
	 * add, so a pack (or the policy's own allow line above) that allows
	 * the pair outright is the site's choice; rebuild-only is the
	 * narrower grant of the packs that say so. */
	for (i = 0; i < p->npack; i++) {
		g = mg_pack_classify(p->pack_tab[i], module, name);
		if (g == MG_GLOBAL_ALLOWED)
			return g;
		if (g == MG_GLOBAL_REBUILD)
			best = g;
	}
	return best;
}

const struct mg_classifier *
mg_policy_classifier(const struct mg_policy *p)
{
	return &p->classifier;
}

enum mg_action
mg_policy_action(const struct mg_policy *p, enum mg_verdict v)
{
	if (p == NULL || (unsigned)v > MG_VERDICT_DANGEROUS)
		return MG_ACTION_DENY;
	return p->actions[v];
}

/*
 * Why every class and not just the verdict: the verdict is the worst
 * class, but a site may give a worse class a milder action (error =
 * sandbox, unknown_call = deny).  Were the verdict alone to decide, a
 * file could trade its unknown call's deny for error's sandbox by
 * appending a byte the analyser cannot parse - and the loader would run
 * the call before it reached that byte.  So each class a file has counts,
 * and the strictest action wins.  Clean findings never count once the
 * file is worse than clean.
 */
enum mg_action
mg_policy_report_action(const struct mg_policy *p, const struct mg_report *r)
{
	enum mg_action a;
	unsigned v;

	if (p == NULL || r == NULL || (unsigned)r->verdict > MG_VERDICT_DANGEROUS)
		return MG_ACTION_DENY;
	a = p->actions[r->verdict];
	for (v = MG_VERDICT_UNKNOWN; v < (unsigned)r->verdict; v++)
		if ((r->seen & (1u << v)) && p->actions[v] > a)
			a = p->actions[v];
	return a;
}

/* --- settings ------------------------------------------------------------------ */

int
mg_policy_acts_in(const struct mg_policy *p, const char *exe)
{
	const char *base;
	size_t i;

	if (p == NULL || exe == NULL)
		return 0;
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	for (i = 0; i < p->processes.n; i++)
		if (fnmatch(p->processes.v[i], base, 0) == 0)
			return 1;
	return 0;
}

/*
 * Why the key first: this runs on every open of a protected process, and
 * a suffix compare per entry measured most of the preload's cost on an
 * open of a .txt.  @path can end with an entry only if its own last
 * extension is that entry's (an entry ".pkl.gz" ends in "gz"), so a key
 * that differs rules the entry out; a key that matches, or an entry with
 * key 0, is compared in full.
 */
int
mg_policy_model_ext_key(const struct mg_policy *p, const char *path,
                        size_t n, uint64_t key)
{
	size_t e, i;
	int keyed;

	if (p == NULL || path == NULL)
		return 0;
	keyed = p->ext_nkeys == p->exts.n;
	if (keyed && !p->ext_unkeyed && (key == 0 || !ext_set_has(p, key)))
		return 0;
	for (i = 0; i < p->exts.n; i++) {
		if (keyed && p->ext_keys[i] != 0 && p->ext_keys[i] != key)
			continue;
		e = strlen(p->exts.v[i]);
		if (n > e && strncasecmp(path + n - e, p->exts.v[i], e) == 0)
			return 1;
	}
	return 0;
}

int
mg_policy_model_ext_n(const struct mg_policy *p, const char *path, size_t n)
{
	struct mg_ext e;

	if (path == NULL)
		return 0;
	mg_ext_of(path, n, &e);
	return mg_policy_model_ext_key(p, path, n, e.key);
}

int
mg_policy_model_ext(const struct mg_policy *p, const char *path)
{
	return path != NULL && mg_policy_model_ext_n(p, path, strlen(path));
}

int
mg_policy_sniff(const struct mg_policy *p)
{
	return p == NULL || p->sniff;
}

enum mg_guard_mode
mg_policy_guard(const struct mg_policy *p)
{
	return p == NULL ? MG_GUARD_DENY : p->guard;
}

const char *
mg_guard_mode_name(enum mg_guard_mode m)
{
	switch (m) {
	case MG_GUARD_OFF: return "off";
	case MG_GUARD_AUDIT: return "audit";
	case MG_GUARD_DENY: return "deny";
	}
	return "deny";
}

const char *
mg_policy_log_file(const struct mg_policy *p)
{
	return p ? p->log_file : NULL;
}

int
mg_policy_log_syslog(const struct mg_policy *p)
{
	return p ? p->syslog : 0;
}

const struct mg_sandbox_conf *
mg_policy_sandbox(const struct mg_policy *p)
{
	static const struct mg_sandbox_conf def = { 0, 0, NULL };

	return p ? &p->sandbox : &def;
}

/* The directory part of @path into @dir (cap PATH_MAX): "/" for "/x". */
static void
dir_of(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash && slash != path ? (size_t)(slash - path) : 1;

	if (n >= cap)
		n = cap - 1;
	memcpy(dir, path, n);
	dir[n] = '\0';
}

/* Every directory from / down to @dir (absolute) searchable by others?
 * 0, or -1 with @why naming the first one that is not. */
static int
dirs_searchable(const char *dir, char *why, size_t whylen)
{
	char cur[4096];
	struct stat st;
	size_t i, n = strlen(dir);

	if (n >= sizeof(cur))
		n = sizeof(cur) - 1;
	for (i = 1; i <= n; i++) {
		/* cur: "/", then each longer prefix ending at a component */
		if (i > 1 && i < n && dir[i] != '/')
			continue;
		if (i == 1 && n > 1 && dir[1] != '/') {
			memcpy(cur, "/", 2);
		} else {
			memcpy(cur, dir, i);
			cur[i] = '\0';
		}
		if (stat(cur, &st) != 0 || !S_ISDIR(st.st_mode) ||
		    !(st.st_mode & S_IXOTH)) {
			snprintf(why, whylen, "the directory %s is not "
			         "searchable by other users", cur);
			return -1;
		}
	}
	return 0;
}

int
mg_policy_log_reachable(const struct mg_policy *p, char *why, size_t whylen)
{
	const char *path = mg_policy_log_file(p);
	char dir[4096];
	struct stat st;

	why[0] = '\0';
	if (path == NULL)
		return 0;
	if (lstat(path, &st) != 0) {
		snprintf(why, whylen, "%s does not exist: the first process "
		         "to log creates it, mode 0600, and only that process's "
		         "user can append to it", path);
		return 0;
	}
	if (S_ISLNK(st.st_mode) || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s is not a regular file (%s)", path,
		         S_ISLNK(st.st_mode) ? "a symlink, and the log is "
		         "opened with O_NOFOLLOW" : "a device, FIFO or directory");
		return 0;
	}
	if (!(st.st_mode & S_IWOTH)) {
		snprintf(why, whylen, "%s is mode %04o, owner uid %u: other "
		         "users cannot append to it", path,
		         (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
		return 0;
	}
	dir_of(path, dir, sizeof(dir));
	return dirs_searchable(dir, why, whylen) == 0;
}
