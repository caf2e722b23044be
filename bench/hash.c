/*
 * hash.c - time modelgate's SHA-256 of one file and a cached lookup
 * of it.  Built and run by bench/hash.sh, which times sha256sum on the
 * same file in the same run.
 *
 * usage: hash FILE CACHEDIR
 * prints: "ours_s S", "hex H", "cached_lookup_us U" (the on-disk cache, as a
 * new process sees it), "memory_lookup_us U" (the in-process copy), each
 * the median of 1001 lookups
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../policy/pin.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median time of 1001 cached lookups of @fd, or exit if one misses. */
static double
median_lookup(const struct mg_hashcache *c, int fd, const char *hex)
{
	static double t[1001];
	char h2[65];
	double t0;
	int i, hit = 0;

	for (i = 0; i < 1001; i++) {
		t0 = now();
		if (mg_pin_sha256_cached(c, fd, h2, &hit) != MG_OK || !hit ||
		    strcmp(h2, hex) != 0) {
			fprintf(stderr, "cache miss or mismatch\n");
			exit(1);
		}
		t[i] = now() - t0;
	}
	qsort(t, 1001, sizeof(t[0]), cmp_double);
	return t[500] * 1e6;
}

int
main(int argc, char **argv)
{
	struct mg_hashcache c;
	struct stat st;
	char hex[65];
	double t0;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: hash FILE CACHEDIR\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) != 0)
		return 2;
	t0 = now();
	if (mg_pin_sha256_fd(fd, hex) != MG_OK)
		return 2;
	printf("ours_s %.3f\nhex %s\n", now() - t0, hex);
	setenv("XDG_CACHE_HOME", argv[2], 1);
	mg_hashcache_default(&c, 0);
	c.racy_secs = 0; /* the file was just written; we know it is stable */
	c.memory = 0;
	mg_hashcache_store(&c, &st, hex);
	printf("cached_lookup_us %.1f\n", median_lookup(&c, fd, hex));
	c.memory = 1;
	mg_hashcache_store(&c, &st, hex);
	printf("memory_lookup_us %.1f\n", median_lookup(&c, fd, hex));
	close(fd);
	return 0;
}
