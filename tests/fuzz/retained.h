/*
 * retained.h - a fuzz-target property: no memory is kept across inputs.
 *
 * Why: the leak checker reports only memory nothing points to at exit.  A
 * reader that keeps something from each file in a static cache (or a
 * library's free list that grows) is no leak to it, yet a long-lived
 * helper would grow with every file it scans.  So each input's net
 * allocation (the allocator's live bytes after the input minus before)
 * is summed over the runs after the first MG_FUZZ_RETAIN_WARMUP (which
 * may set up libraries once: OpenSSL, jansson, libhdf5); a sum above
 * MG_FUZZ_RETAIN_MAX aborts, so libFuzzer keeps the input that tipped it.
 *
 * Not what this catches: memory the allocator itself keeps after free
 * (ASan's quarantine, glibc's heap), which is why a fuzz target's RSS
 * grows to several hundred MB and then levels off; see bench/bench_soak
 * for the helper's RSS.
 */
#ifndef MG_FUZZ_RETAINED_H
#define MG_FUZZ_RETAINED_H

#include <stdio.h>
#include <stdlib.h>
#include <sanitizer/allocator_interface.h>

#define MG_FUZZ_RETAIN_WARMUP 1000
#define MG_FUZZ_RETAIN_MAX ((long long)1 << 20) /* 1 MiB */

/* The allocator's live bytes now (call first thing in the target). */
static inline size_t
mg_fuzz_allocated(void)
{
	return __sanitizer_get_current_allocated_bytes();
}

/* Add this input's net allocation since @before; abort past the bound. */
static inline void
mg_fuzz_check_retained(size_t before)
{
	static unsigned long long runs;
	static long long kept;

	if (++runs <= MG_FUZZ_RETAIN_WARMUP)
		return;
	kept += (long long)mg_fuzz_allocated() - (long long)before;
	if (kept > MG_FUZZ_RETAIN_MAX) {
		fprintf(stderr, "fuzz: %lld bytes kept across %llu inputs: "
		        "a reader keeps memory from one input to the next\n",
		        kept, runs - MG_FUZZ_RETAIN_WARMUP);
		abort();
	}
}

#endif
