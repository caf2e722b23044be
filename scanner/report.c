/*
 * report.c - findings, globals and verdicts of one scanned file.
 *
 * A report only ever gets worse: adding a finding raises the verdict and
 * nothing lowers it.  When memory runs out the verdict is raised all the
 * same, so an allocation failure can never turn a dangerous file clean.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner.h"

const char *
mg_strerror(enum mg_err err)
{
	switch (err) {
	case MG_OK: return "success";
	case MG_ERR_NOMEM: return "out of memory";
	case MG_ERR_IO: return "input/output error";
	case MG_ERR_INVAL: return "invalid argument";
	case MG_ERR_PARSE: return "malformed configuration";
	case MG_ERR_PROTO: return "helper protocol error";
	case MG_ERR_PERM: return "unsafe file ownership or permissions";
	case MG_ERR_TIMEOUT: return "timed out";
	case MG_ERR_UNSUPPORTED: return "not supported here";
	}
	return "unknown error";
}

const char *
mg_verdict_name(enum mg_verdict v)
{
	switch (v) {
	case MG_VERDICT_CLEAN: return "clean";
	case MG_VERDICT_UNKNOWN: return "unknown";
	case MG_VERDICT_UNKNOWN_CALL: return "unknown"; /* scanner.h: internal */
	case MG_VERDICT_ERROR: return "error";
	case MG_VERDICT_DANGEROUS: return "dangerous";
	}
	return "error";
}

enum mg_verdict
mg_verdict_public(enum mg_verdict v)
{
	return v == MG_VERDICT_UNKNOWN_CALL ? MG_VERDICT_UNKNOWN : v;
}

const char *
mg_severity_name(enum mg_verdict v)
{
	switch (v) {
	case MG_VERDICT_CLEAN: return "info";
	case MG_VERDICT_UNKNOWN: return "medium";
	/* Why high: the file chooses code that runs (denied by default). */
	case MG_VERDICT_UNKNOWN_CALL: return "high";
	case MG_VERDICT_ERROR: return "high";
	case MG_VERDICT_DANGEROUS: return "critical";
	}
	return "high";
}

struct mg_report *
mg_report_new(void)
{
	struct mg_report *r = calloc(1, sizeof(*r));

	if (r != NULL)
		r->format = "unknown";
	return r;
}

void
mg_report_free(struct mg_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nfindings; i++) {
		free(r->findings[i].global);
		free(r->findings[i].member);
		free(r->findings[i].message);
	}
	for (i = 0; i < r->nglobals; i++) {
		free(r->globals[i].module);
		free(r->globals[i].name);
	}
	free(r->findings);
	free(r->globals);
	free(r);
}

static void
raise_verdict(struct mg_report *r, enum mg_verdict v)
{
	if (v > r->verdict)
		r->verdict = v;
	if ((unsigned)v < MG_VERDICT_COUNT)
		r->seen |= 1u << v;
}

int
mg_report_would_store(const struct mg_report *r, enum mg_verdict v)
{
	/* Why one per verdict past the cap: a reader merging a nested report
	 * copies what is stored, and the policy acts on every class a file
	 * has (mg_policy_report_action), so no class may exist only as a
	 * count.  At most MG_VERDICT_COUNT extra findings. */
	return r->nfindings < MG_REPORT_MAX_FINDINGS ||
	       ((unsigned)v < MG_VERDICT_COUNT && !(r->kept & (1u << v)));
}

/* strdup that maps NULL to NULL and reports failure through *failed. */
static char *
dup_or_null(const char *s, int *failed)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*failed = 1;
	return d;
}

/* Grow a vector of @size-byte elements to hold one more; 0 or -1. */
static int
grow(void **vec, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = realloc(*vec, ncap * size);
	if (p == NULL)
		return -1;
	*vec = p;
	*cap = ncap;
	return 0;
}

enum mg_err
mg_report_add(struct mg_report *r, enum mg_verdict v, const char *rule,
              const char *global, const char *member, uint64_t offset,
              const char *fmt, ...)
{
	struct mg_finding f;
	char buf[1024];
	va_list ap;
	int failed = 0;

	if (r == NULL || rule == NULL || fmt == NULL)
		return MG_ERR_INVAL;
	raise_verdict(r, v);
	if (!mg_report_would_store(r, v)) {
		/* Why a cap: a hostile file can produce a finding per opcode. */
		r->dropped++;
		return MG_OK;
	}
	if (grow((void **)&r->findings, &r->capfindings, r->nfindings,
	         sizeof(*r->findings)) != 0)
		return MG_ERR_NOMEM;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	memset(&f, 0, sizeof(f));
	f.verdict = v;
	f.rule = rule;
	f.offset = offset;
	f.global = dup_or_null(global, &failed);
	f.member = dup_or_null(member, &failed);
	f.message = dup_or_null(buf, &failed);
	if (failed) {
		free(f.global);
		free(f.member);
		free(f.message);
		return MG_ERR_NOMEM;
	}
	r->findings[r->nfindings++] = f;
	if ((unsigned)v < MG_VERDICT_COUNT)
		r->kept |= 1u << v;
	return MG_OK;
}

enum mg_err
mg_report_add_global(struct mg_report *r, const char *module,
                     const char *name, enum mg_verdict v)
{
	struct mg_global g;
	size_t i;
	int failed = 0;

	if (r == NULL || module == NULL || name == NULL)
		return MG_ERR_INVAL;
	raise_verdict(r, v);
	for (i = 0; i < r->nglobals; i++) {
		if (strcmp(r->globals[i].module, module) == 0 &&
		    strcmp(r->globals[i].name, name) == 0) {
			if (v > r->globals[i].verdict)
				r->globals[i].verdict = v;
			return MG_OK;
		}
	}
	if (r->nglobals >= MG_REPORT_MAX_GLOBALS)
		return MG_OK; /* verdict raised above; the list is informative */
	if (grow((void **)&r->globals, &r->capglobals, r->nglobals,
	         sizeof(*r->globals)) != 0)
		return MG_ERR_NOMEM;
	g.module = dup_or_null(module, &failed);
	g.name = dup_or_null(name, &failed);
	g.verdict = v;
	if (failed) {
		free(g.module);
		free(g.name);
		return MG_ERR_NOMEM;
	}
	r->globals[r->nglobals++] = g;
	return MG_OK;
}
