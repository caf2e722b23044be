/*
 * policy.c - the effective policy: actions per verdict and classification.
 */
#include <stdlib.h>

#include "policy.h"

struct mg_policy {
	enum mg_action actions[4]; /* indexed by enum mg_verdict */
	struct mg_classifier classifier;
};

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
mg_policy_new_default(void)
{
	struct mg_policy *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	/* DESIGN.md's table: unknown is usually legitimate (a full module,
	 * a team's classes) so it loads, but without network; error is
	 * denied because unparseable is never clean. */
	p->actions[MG_VERDICT_CLEAN] = MG_ACTION_ALLOW;
	p->actions[MG_VERDICT_UNKNOWN] = MG_ACTION_SANDBOX;
	p->actions[MG_VERDICT_ERROR] = MG_ACTION_DENY;
	p->actions[MG_VERDICT_DANGEROUS] = MG_ACTION_DENY;
	p->classifier.classify = classify_cb;
	p->classifier.ctx = p;
	return p;
}

void
mg_policy_free(struct mg_policy *p)
{
	free(p);
}

enum mg_action
mg_policy_action(const struct mg_policy *p, enum mg_verdict v)
{
	if (p == NULL || (unsigned)v > MG_VERDICT_DANGEROUS)
		return MG_ACTION_DENY;
	return p->actions[v];
}

enum mg_gclass
mg_policy_classify(const struct mg_policy *p, const char *module,
                   const char *name, const char **category)
{
	(void)p;
	return mg_globals_classify(module, name, category);
}

const struct mg_classifier *
mg_policy_classifier(const struct mg_policy *p)
{
	return &p->classifier;
}

/* --- settings: embedded defaults until the policy file lands ------------ */

#include <string.h>
#include <strings.h>

static const char *const default_exts[] = {
	".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle", ".joblib", ".npy",
	".npz", ".h5", ".hdf5", ".keras", ".safetensors", ".gguf", ".sav",
	".dat", ".model", ".mar", ".pt2", ".ptl", NULL
};

enum mg_err
mg_policy_load_effective(const char *user_path, int secure,
                         struct mg_policy **out, char *err, size_t errlen)
{
	(void)user_path;
	(void)secure;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	*out = mg_policy_new_default();
	return *out ? MG_OK : MG_ERR_NOMEM;
}

int
mg_policy_acts_in(const struct mg_policy *p, const char *exe)
{
	const char *base;

	(void)p;
	if (exe == NULL)
		return 0;
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	return strncmp(base, "python", 6) == 0;
}

int
mg_policy_model_ext(const struct mg_policy *p, const char *path)
{
	size_t n, e;
	int i;

	(void)p;
	if (path == NULL)
		return 0;
	n = strlen(path);
	for (i = 0; default_exts[i] != NULL; i++) {
		e = strlen(default_exts[i]);
		if (n > e && strcasecmp(path + n - e, default_exts[i]) == 0)
			return 1;
	}
	return 0;
}

int
mg_policy_sniff(const struct mg_policy *p)
{
	(void)p;
	return 1;
}

const char *
mg_policy_log_file(const struct mg_policy *p)
{
	(void)p;
	return NULL;
}

int
mg_policy_log_syslog(const struct mg_policy *p)
{
	(void)p;
	return 0;
}

const struct mg_sandbox_conf *
mg_policy_sandbox(const struct mg_policy *p)
{
	static const struct mg_sandbox_conf def = { 0, 0, NULL };

	(void)p;
	return &def;
}
