/*
 * fuzz_scan.c - libFuzzer target over the whole scanner: the sniffer and
 * every container reader it dispatches to (zip, tar, legacy torch, npy,
 * npz, joblib streams, compression wrappers), classified by the embedded
 * default policy.  Seeds: tests/fuzz/seeds-scan (real torch, numpy
 * and joblib output).
 *
 * HDF5 input is skipped: the HDF5 reader forks a child per file (libhdf5
 * itself is fuzzed, opt-in, by fuzz_formats).  Properties beyond "no
 * crash, no sanitizer report": mg_scan_buffer returns MG_OK, and a clean
 * verdict never comes with a finding worse than clean, and no memory is
 * kept from one input to the next (retained.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/policy.h"
#include "../../scanner/scanner.h"
#include "retained.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mg_policy *policy;
	struct mg_scan_opts o;
	struct mg_report *r;
	const char *fmt;
	size_t i, before = mg_fuzz_allocated();

	if (policy == NULL && (policy = mg_policy_new_default()) == NULL)
		abort();
	fmt = mg_scan_sniff(data, size);
	if (fmt != NULL && strcmp(fmt, "hdf5") == 0)
		return 0;
	mg_scan_opts_default(&o);
	o.classifier = mg_policy_classifier(policy);
	/* Why smaller caps: keep each run fast and bomb inputs cheap. */
	o.max_decompressed = 64u << 20;
	r = mg_report_new();
	if (r == NULL)
		return 0;
	if (mg_scan_buffer(&o, "fuzz.pt", data, size, r) != MG_OK)
		abort();
	for (i = 0; i < r->nfindings; i++)
		if (r->verdict == MG_VERDICT_CLEAN &&
		    r->findings[i].verdict != MG_VERDICT_CLEAN)
			abort();
	mg_report_free(r);
	mg_fuzz_check_retained(before);
	return 0;
}
