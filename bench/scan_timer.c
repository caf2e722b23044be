/*
 * scan_timer.c - time the scanner engine alone on files: mg_scan_fd with
 * the embedded default policy's classifier, no SHA-256 and no output
 * formatting (`modelgate scan` adds both).  Used by bench/torch_scan.py,
 * which compiles it against the build's libmgcore.a.
 *
 * usage: scan_timer FILE...
 * prints "<ms> <cpu-ms> <verdict> <format> FILE" lines: wall time
 * (CLOCK_MONOTONIC) and this process's CPU time over mg_scan_fd; the
 * machine is shared, and CPU time does not count the waits for a core.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../policy/policy.h"
#include "../scanner/scanner.h"

/* Milliseconds from @a to @b. */
static double
ms(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

int
main(int argc, char **argv)
{
	struct mg_policy *p = mg_policy_new_default();
	struct mg_scan_opts o;
	struct mg_report *r;
	struct timespec a, b, ca, cb;
	int i, fd, rc = 0;

	if (p == NULL)
		return 2;
	mg_scan_opts_default(&o);
	o.classifier = mg_policy_classifier(p);
	for (i = 1; i < argc; i++) {
		if ((fd = open(argv[i], O_RDONLY)) < 0 ||
		    (r = mg_report_new()) == NULL) {
			perror(argv[i]);
			return 2;
		}
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (mg_scan_fd(&o, fd, argv[i], r) != MG_OK)
			rc = 2;
		clock_gettime(CLOCK_MONOTONIC, &b);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
		printf("%.3f %.3f %s %s %s\n", ms(&a, &b), ms(&ca, &cb),
		       mg_verdict_name(r->verdict), r->format, argv[i]);
		mg_report_free(r);
		close(fd);
	}
	mg_policy_free(p);
	return rc;
}
