/*
 * fuzz_formats.c - libFuzzer target over the Keras config, HDF5,
 * safetensors and GGUF readers.
 *
 * The first byte picks the reader (low two bits), the rest is its input,
 * so one corpus covers all four and the fuzzer can move a seed between
 * them.
 *
 * HDF5 (selector 3) runs only with MG_FUZZ_HDF5 set in the environment:
 * =1 stops at the first libhdf5 crash, =2 lets the reader turn crashes
 * into findings and goes on (fuzzing the isolation itself).  HDF5 is
 * opt-in because it
 * fuzzes Debian's libhdf5 1.10.8 far more than our few lines around it,
 * and that library has known memory-safety bugs on corrupt files (a
 * corrupt global heap makes H5HG_read memcpy tens of MB into a 4 KiB
 * buffer within seconds of fuzzing).  We cannot fix those here; the reader
 * runs libhdf5 in a forked child, and a crash there comes back as an
 * "hdf5.crashed" finding, which this target (with =1) turns into an
 * abort so that libFuzzer keeps the input.
 * Properties checked beyond "no crash, no sanitizer report": every reader
 * returns MG_OK (these inputs are never an allocation failure), every
 * finding carries a rule and a message, and the verdict is the maximum of
 * the findings' verdicts, and no memory is kept from one input to the
 * next (retained.h).  Seeds: tests/fuzz/seeds-formats.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../scanner/formats.h"
#include "retained.h"

static enum mg_gclass
classify(void *ctx, const char *module, const char *name,
         const char **category)
{
	(void)ctx; (void)name;
	if (strcmp(module, "os") == 0) {
		*category = "code execution";
		return MG_GLOBAL_DENIED;
	}
	return MG_GLOBAL_UNKNOWN;
}

static int hdf5_mode = -1; /* MG_FUZZ_HDF5: 0 off, 1 stop, 2 go on */

static void
check_report(const struct mg_report *r)
{
	enum mg_verdict max = MG_VERDICT_CLEAN;
	size_t i;

	for (i = 0; i < r->nfindings; i++) {
		if (r->findings[i].rule == NULL || r->findings[i].message == NULL)
			abort();
		if (r->findings[i].verdict > max)
			max = r->findings[i].verdict;
	}
	if (r->dropped == 0 && max != r->verdict)
		abort();
	/* The HDF5 reader runs libhdf5 in a child: a crash there comes back
	 * as this finding (the child's sanitizer report is on stderr). */
	for (i = 0; hdf5_mode == 1 && i < r->nfindings; i++)
		if (strcmp(r->findings[i].rule, "hdf5.crashed") == 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mg_classifier c = { classify, NULL };
	struct mg_scan_opts o;
	struct mg_report *r;
	enum mg_err err;
	uint8_t *copy;
	const char *env;
	size_t before = mg_fuzz_allocated();

	if (hdf5_mode < 0) {
		env = getenv("MG_FUZZ_HDF5");
		hdf5_mode = env == NULL ? 0 : env[0] == '1' ? 1 :
		            env[0] == '2' ? 2 : 0;
	}
	if (size < 1 || ((data[0] & 3) == 3 && hdf5_mode == 0))
		return 0;
	memset(&o, 0, sizeof(o));
	o.classifier = &c;
	o.max_depth = 8;
	r = mg_report_new();
	/* An exact-size copy, so ASan sees any read past the end. */
	copy = malloc(size - 1 ? size - 1 : 1);
	if (r == NULL || copy == NULL)
		abort();
	memcpy(copy, data + 1, size - 1);
	switch (data[0] & 3) {
	case 0:
		err = mg_keras_config_scan(&o, "config.json", copy, size - 1, r);
		break;
	case 1:
		err = mg_safetensors_scan(&o, "f", NULL, copy, size - 1, 0, r);
		break;
	case 2:
		err = mg_gguf_scan(&o, "f", NULL, copy, size - 1, 0, r);
		break;
	default:
		err = mg_hdf5_scan(&o, "f", NULL, copy, size - 1, 0, r);
		break;
	}
	if (err != MG_OK)
		abort();
	check_report(r);
	mg_report_free(r);
	free(copy);
	mg_fuzz_check_retained(before);
	return 0;
}
