/*
 * fuzz_pickle.c - libFuzzer target for the pickle analyser.
 *
 * Scans the input as stacked pickles with a classifier that gives every
 * answer (by first letter of the name) and hooks that take the skip and
 * nested-pickle paths, touching every byte of every value they are handed
 * so ASan sees any dangling pointer.  Also runs the sniffer, and checks
 * that the preload's candidate test agrees with the helper: what the
 * windowed opcode walk calls no candidate, the whole-file walk (the
 * helper's inert test) must call inert.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../scanner/candidate.h"
#include "../../scanner/pickle.h"

static enum mg_gclass
fz_classify(void *ctx, const char *m, const char *n, const char **cat)
{
	(void)ctx;
	(void)m;
	if (n[0] == 'o') {
		*cat = "fuzz";
		return MG_GLOBAL_DENIED;
	}
	return n[0] == 'a' ? MG_GLOBAL_ALLOWED : MG_GLOBAL_UNKNOWN;
}

/* Read every byte reachable from @v (bounded), so ASan checks them. */
static unsigned
touch(const struct mg_pvalue *v, int depth)
{
	unsigned sum = 0;
	size_t i;

	if (v == NULL || depth > 4)
		return 0;
	if (v->data != NULL)
		for (i = 0; i < v->len; i++)
			sum += v->data[i];
	if (v->kind == MG_PV_GLOBAL)
		sum += (unsigned)strlen(v->module) + (unsigned)strlen(v->name);
	for (i = 0; i < v->nitems; i++)
		sum += touch(v->items[i], depth + 1);
	return sum + touch(v->state, depth + 1);
}

static int
fz_build(void *ctx, const struct mg_pvalue *obj, const uint8_t *buf,
         size_t len, size_t pos, size_t *skip)
{
	const struct mg_pvalue *st = obj->state;

	(void)ctx;
	(void)touch(obj, 0);
	if (pos > len)
		__builtin_trap(); /* the contract: pos lies inside the buffer */
	if (st != NULL && st->kind == MG_PV_INT && st->i >= 0) {
		*skip = (size_t)(st->i & 0xff);
		return 0;
	}
	if (st != NULL && st->kind == MG_PV_NONE && pos < len &&
	    buf[pos] != 0xff)
		return 1; /* an inner pickle follows */
	if (st != NULL && st->kind == MG_PV_BOOL && st->i == 0)
		return -1;
	return 0;
}

static void
fz_persid(void *ctx, const struct mg_pvalue *pid)
{
	(void)ctx;
	(void)touch(pid, 0);
}

/* The preload's two looks (gate.c is_candidate); a "no" must be a file
 * the helper's inert test calls inert. */
static void
candidate_agrees(const uint8_t *data, size_t size)
{
	enum mg_cand c;
	const char *why;
	size_t at;

	if (size < 2)
		return;
	c = mg_candidate_classify(data, size < MG_CANDIDATE_WINDOW ? size :
	                          MG_CANDIDATE_WINDOW, size, MG_CAND_WALK);
	if (c == MG_CAND_UNSURE)
		c = mg_candidate_classify(data, size < MG_CANDIDATE_WINDOW2 ?
		                          size : MG_CANDIDATE_WINDOW2, size,
		                          MG_CAND_WALK);
	if (c == MG_CAND_NO && mg_pickle_inert(data, size, &at, &why) != 1)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mg_classifier cl = { fz_classify, NULL };
	struct mg_pickle_hooks hooks = { fz_build, fz_persid, NULL, NULL };
	struct mg_scan_opts o;
	struct mg_report *r;

	memset(&o, 0, sizeof(o));
	o.classifier = &cl;
	o.max_stack = 4096;
	o.max_memo = 4096;
	o.max_pickles = 64;
	(void)mg_pickle_sniff(data, size);
	candidate_agrees(data, size);
	r = mg_report_new();
	if (r == NULL)
		return 0;
	if (mg_pickle_scan_all(&o, &hooks, data, size, "fuzz", 0, r) == MG_OK &&
	    size > 0 && r->verdict == MG_VERDICT_CLEAN && r->npickles == 0)
		__builtin_trap(); /* non-empty input scanned as nothing */
	mg_report_free(r);
	return 0;
}
