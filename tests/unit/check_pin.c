/*
 * check_pin.c - SHA-256 of files (equal to sha256sum from 0 bytes to past
 * 4 GiB), lockfile parsing, the pin rules (trusted, denied, tampered,
 * require_pin), the hash cache and its invalidation, and the registry
 * rules with look-alike detection.
 *
 * Files live in a private temporary directory; HOME and XDG_CACHE_HOME
 * point there so the cache under test is ours.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../policy/pin.h"

static char dir[256];

static const char *
path_of(const char *name)
{
	static char p[4][512];
	static int slot;
	char *s = p[slot++ % 4];

	snprintf(s, 512, "%s/%s", dir, name);
	return s;
}

static const char *
put(const char *name, const char *data, size_t len)
{
	const char *p = path_of(name);
	FILE *f = fopen(p, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	return p;
}

static const char *
put_text(const char *name, const char *text)
{
	return put(name, text, strlen(text));
}

static void
setup(void)
{
	char cache[300];

	snprintf(dir, sizeof(dir), "/tmp/check_pin.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	setenv("XDG_CACHE_HOME", cache, 1);
	mg_policy_set_system_path(path_of("no-system.conf"));
}

static void
teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	mg_policy_set_system_path(NULL);
}

/* sha256sum's answer for @path. */
static void
sha256sum(const char *path, char hex[65])
{
	char cmd[600];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(hex, 65, p));
	pclose(p);
	hex[64] = '\0';
}

static void
expect_same_as_sha256sum(const char *path)
{
	char ours[65], theirs[65];
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(lseek(fd, 7, SEEK_SET), 7);
	ck_assert_int_eq(mg_pin_sha256_fd(fd, ours), MG_OK);
	/* pread only: the caller's offset did not move */
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 7);
	close(fd);
	sha256sum(path, theirs);
	ck_assert_str_eq(ours, theirs);
}

/* --- hashing ----------------------------------------------------------------- */

START_TEST(test_pin_sha256_matches_sha256sum_small_sizes)
{
	static const size_t sizes[] = { 0, 1, 55, 56, 64, 65, 4194303, 4194304,
	                                 4194305, 10000019 };
	char *buf = malloc(10000019);
	size_t i;

	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < 10000019; i++)
		buf[i] = (char)(i * 2654435761u >> 13);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		expect_same_as_sha256sum(put("f.bin", buf, sizes[i]));
	free(buf);
}
END_TEST

START_TEST(test_pin_sha256_matches_sha256sum_past_4gib_sparse)
{
	const char *p = path_of("big.bin");
	int fd = open(p, O_CREAT | O_RDWR | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	/* 4 GiB + 4097: offsets past 32 bits, a partial last chunk, and
	 * data at both ends so a wrapped offset would change the hash. */
	ck_assert_int_eq(pwrite(fd, "head", 4, 0), 4);
	ck_assert_int_eq(ftruncate(fd, (off_t)4 * 1024 * 1024 * 1024 + 4097),
	                 0);
	ck_assert_int_eq(pwrite(fd, "tail", 4, (off_t)4 * 1024 * 1024 * 1024 +
	                        4093), 4);
	close(fd);
	expect_same_as_sha256sum(p);
}
END_TEST

/* --- lockfiles ----------------------------------------------------------------- */

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define HA "AbCdEf0000000000000000000000000000000000000000000000000000000000"

START_TEST(test_pin_lockfile_reads_sha256sum_forms)
{
	struct mg_pintab t;
	char err[512], want[600];

	memset(&t, 0, sizeof(t));
	put_text("a.pt", "x");
	put_text("models.lock", "# comment\n\n" H1 "  a.pt\n" H2 " *sub dir/b.pt"
	         " deny\n" HA "  /abs/c.pt allow\n\\" H1 "  we\\\\ird\\nname\n");
	ck_assert_int_eq(mg_pintab_load(&t, path_of("models.lock"), 0, err,
	                                sizeof(err)), MG_OK);
	ck_assert_uint_eq(t.n, 4);
	/* relative to the lockfile's directory, symlinks resolved */
	ck_assert_ptr_nonnull(realpath(path_of("a.pt"), want));
	ck_assert_str_eq(t.pins[0].path, want);
	ck_assert_int_eq(t.pins[0].deny, 0);
	ck_assert_int_eq(t.pins[0].line, 3);
	snprintf(want, sizeof(want), "%s/sub dir/b.pt", dir);
	ck_assert_str_eq(t.pins[1].path, want);
	ck_assert_int_eq(t.pins[1].deny, 1);
	ck_assert_str_eq(t.pins[2].hex, "abcdef00000000000000000000000000"
	                 "00000000000000000000000000000000");
	ck_assert_str_eq(t.pins[2].path, "/abs/c.pt");
	snprintf(want, sizeof(want), "%s/we\\ird\nname", dir);
	ck_assert_str_eq(t.pins[3].path, want);
	mg_pintab_clear(&t);
}
END_TEST

START_TEST(test_pin_lockfile_errors_name_the_line)
{
	struct mg_pintab t;
	char err[512];

	memset(&t, 0, sizeof(t));
	put_text("bad.lock", H1 "  a.pt\n" "1234  short.pt\n");
	ck_assert_int_eq(mg_pintab_load(&t, path_of("bad.lock"), 0, err,
	                                sizeof(err)), MG_ERR_PARSE);
	ck_assert_ptr_nonnull(strstr(err, "bad.lock:2: "));
	mg_pintab_clear(&t);
	put_text("bad2.lock", H1 "\ta.pt\n");
	ck_assert_int_eq(mg_pintab_load(&t, path_of("bad2.lock"), 0, err,
	                                sizeof(err)), MG_ERR_PARSE);
	ck_assert_ptr_nonnull(strstr(err, "bad2.lock:1: "));
	mg_pintab_clear(&t);
	ck_assert_int_eq(mg_pintab_load(&t, path_of("none.lock"), 0, err,
	                                sizeof(err)), MG_ERR_IO);
	mg_pintab_clear(&t);
}
END_TEST

START_TEST(test_pin_locked_lockfile_must_be_root_only)
{
	struct mg_pintab t;
	char err[512];

	memset(&t, 0, sizeof(t));
	put_text("l.lock", H1 "  a.pt\n");
	chmod(path_of("l.lock"), 0666);
	ck_assert_int_eq(mg_pintab_load(&t, path_of("l.lock"), 1, err,
	                                sizeof(err)), MG_ERR_PERM);
	chmod(path_of("l.lock"), 0644);
	ck_assert_int_eq(mg_pintab_load(&t, path_of("l.lock"), 1, err,
	                                sizeof(err)), MG_OK);
	mg_pintab_clear(&t);
}
END_TEST

/* --- pin rules through prescan --------------------------------------------------- */

/* Prescan @file under a policy whose text is @conf; returns the report. */
static struct mg_report *
prescan(const char *conf, const char *file, int *skip)
{
	struct mg_policy *p = NULL;
	struct mg_report *r = mg_report_new();
	char err[512], hex[65];
	int fd;

	ck_assert_int_eq(mg_policy_load_effective(put_text("p.conf", conf), 0,
	                                          &p, err, sizeof(err)), MG_OK);
	fd = open(file, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(mg_policy_prescan(p, fd, file, r, hex, skip), MG_OK);
	ck_assert_uint_eq(strlen(hex), 64);
	close(fd);
	mg_policy_free(p);
	return r;
}

static int
has_rule(const struct mg_report *r, const char *rule)
{
	size_t i;

	for (i = 0; i < r->nfindings; i++)
		if (strcmp(r->findings[i].rule, rule) == 0)
			return 1;
	return 0;
}

/* Pin @name (holding @data) with suffix @suffix into models.lock. */
static void
pin_file(const char *name, const char *data, const char *suffix)
{
	char hex[65], line[200];
	int fd = open(put_text(name, data), O_RDONLY);

	ck_assert_int_eq(mg_pin_sha256_fd(fd, hex), MG_OK);
	close(fd);
	snprintf(line, sizeof(line), "%s  %s%s\n", hex, name, suffix);
	put_text("models.lock", line);
}

START_TEST(test_pin_trusted_hash_skips_the_scan)
{
	struct mg_report *r;
	int skip = 0;

	pin_file("m.pt", "model bytes", "");
	r = prescan("[pins]\nlockfile = models.lock\n", path_of("m.pt"), &skip);
	ck_assert_int_eq(skip, 1);
	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	ck_assert(has_rule(r, "pin.trusted"));
	mg_report_free(r);
	/* the same content under another name is trusted too */
	put_text("copy.pt", "model bytes");
	r = prescan("[pins]\nlockfile = models.lock\n", path_of("copy.pt"),
	            &skip);
	ck_assert_int_eq(skip, 1);
	mg_report_free(r);
}
END_TEST

START_TEST(test_pin_deny_pinned_hash_is_dangerous_anywhere)
{
	struct mg_report *r;
	int skip = 1;

	pin_file("evil.pt", "bad bytes", " deny");
	put_text("renamed.bin", "bad bytes");
	r = prescan("[pins]\nlockfile = models.lock\n", path_of("renamed.bin"),
	            &skip);
	ck_assert_int_eq(skip, 0);
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_rule(r, "pin.denied"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_pin_changed_content_at_pinned_path_is_tampered)
{
	struct mg_report *r;
	int skip = 1;

	pin_file("m.pt", "original", "");
	put_text("m.pt", "replaced");
	r = prescan("[pins]\nlockfile = models.lock\n", path_of("m.pt"), &skip);
	ck_assert_int_eq(skip, 0);
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_rule(r, "pin.tampered"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_pin_require_pin_makes_unpinned_dangerous)
{
	struct mg_report *r;
	int skip = 1;

	pin_file("m.pt", "pinned", "");
	put_text("other.pt", "not pinned");
	r = prescan("[pins]\nlockfile = models.lock\nrequire_pin = yes\n",
	            path_of("other.pt"), &skip);
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_rule(r, "pin.required"));
	mg_report_free(r);
	r = prescan("[pins]\nlockfile = models.lock\nrequire_pin = yes\n",
	            path_of("m.pt"), &skip);
	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	ck_assert_int_eq(skip, 1);
	mg_report_free(r);
	/* without the rule an unpinned file is simply scanned */
	r = prescan("[pins]\nlockfile = models.lock\n", path_of("other.pt"),
	            &skip);
	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	ck_assert_int_eq(skip, 0);
	ck_assert_uint_eq(r->nfindings, 0);
	mg_report_free(r);
}
END_TEST

START_TEST(test_pin_unreadable_lockfile_trusts_nothing)
{
	struct mg_report *r;
	int skip = 1;

	put_text("m.pt", "x");
	r = prescan("[pins]\nlockfile = missing.lock\n", path_of("m.pt"), &skip);
	ck_assert_int_eq(skip, 0);
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	ck_assert(has_rule(r, "pin.lockfile"));
	mg_report_free(r);
}
END_TEST

/* --- the hash cache ---------------------------------------------------------- */

static void
test_cache(struct mg_hashcache *c)
{
	mg_hashcache_default(c, 0);
	c->min_size = 1;
	c->racy_secs = 0;
	c->memory = 0; /* these tests are about the file */
	/* not the host's system cache */
	snprintf(c->sys_path, sizeof(c->sys_path), "%s", path_of("sys/hashes"));
}

/* Hash @name through @c; returns whether the cache answered. */
static int
cached(const struct mg_hashcache *c, const char *name, char hex[65])
{
	int hit = -1, fd = open(path_of(name), O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(mg_pin_sha256_cached(c, fd, hex, &hit), MG_OK);
	close(fd);
	return hit;
}

/* Let the coarse kernel clock tick, so timestamps really move. */
static void
tick(void)
{
	struct timespec ts = { 0, 30 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

START_TEST(test_pin_cache_hits_then_misses_when_file_changes)
{
	struct mg_hashcache c;
	char h1[65], h2[65], h3[65];

	test_cache(&c);
	put_text("m.pt", "aaaa");
	ck_assert_int_eq(cached(&c, "m.pt", h1), 0);
	ck_assert_int_eq(cached(&c, "m.pt", h2), 1);
	ck_assert_str_eq(h1, h2);
	/* same size, new content: mtime and ctime move */
	tick();
	put_text("m.pt", "bbbb");
	ck_assert_int_eq(cached(&c, "m.pt", h3), 0);
	ck_assert_str_ne(h1, h3);
	ck_assert_int_eq(cached(&c, "m.pt", h3), 1);
	/* size change */
	tick();
	put_text("m.pt", "bbbbb");
	ck_assert_int_eq(cached(&c, "m.pt", h2), 0);
	/* ctime only (chmod): still a miss */
	ck_assert_int_eq(cached(&c, "m.pt", h2), 1);
	tick();
	chmod(path_of("m.pt"), 0600);
	ck_assert_int_eq(cached(&c, "m.pt", h2), 0);
}
END_TEST

START_TEST(test_pin_cache_restored_mtime_still_misses)
{
	struct mg_hashcache c;
	struct stat st;
	struct timespec ts[2];
	char h[65];

	test_cache(&c);
	put_text("m.pt", "aaaa");
	ck_assert_int_eq(cached(&c, "m.pt", h), 0);
	ck_assert_int_eq(stat(path_of("m.pt"), &st), 0);
	tick();
	put_text("m.pt", "cccc");
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	ck_assert_int_eq(utimensat(AT_FDCWD, path_of("m.pt"), ts, 0), 0);
	ck_assert_int_eq(cached(&c, "m.pt", h), 0);
}
END_TEST

START_TEST(test_pin_cache_untrusted_file_is_ignored)
{
	struct mg_hashcache c;
	char h[65];

	test_cache(&c);
	put_text("m.pt", "aaaa");
	ck_assert_int_eq(cached(&c, "m.pt", h), 0);
	ck_assert_int_eq(cached(&c, "m.pt", h), 1);
	chmod(c.path, 0666);
	ck_assert_int_eq(cached(&c, "m.pt", h), 0);
	chmod(c.path, 0600);
	ck_assert_int_eq(cached(&c, "m.pt", h), 1);
	/* locked: only a root-owned cache counts */
	ck_assert_int_eq(chown(c.path, 65534, 65534), 0);
	c.require_root = 1;
	ck_assert_int_eq(cached(&c, "m.pt", h), 0);
}
END_TEST

START_TEST(test_pin_cache_skips_racy_and_small_files)
{
	struct mg_hashcache c;
	char h[65];

	mg_hashcache_default(&c, 0);
	c.memory = 0;
	put_text("small.pt", "aaaa");
	ck_assert_int_eq(cached(&c, "small.pt", h), 0);
	ck_assert_int_eq(cached(&c, "small.pt", h), 0);
	c.min_size = 1; /* just written: inside the racy window */
	ck_assert_int_eq(cached(&c, "small.pt", h), 0);
	ck_assert_int_eq(cached(&c, "small.pt", h), 0);
}
END_TEST

START_TEST(test_pin_cache_is_bounded)
{
	struct mg_hashcache c;
	char h[65], name[32];
	int i, lines = 0, ch;
	FILE *f;

	test_cache(&c);
	c.max_entries = 5;
	for (i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "f%d.pt", i);
		put_text(name, name);
		ck_assert_int_eq(cached(&c, name, h), 0);
	}
	f = fopen(c.path, "r");
	ck_assert_ptr_nonnull(f);
	while ((ch = fgetc(f)) != EOF)
		lines += ch == '\n';
	fclose(f);
	ck_assert_int_eq(lines, 5);
	ck_assert_int_eq(cached(&c, "f11.pt", h), 1);
	ck_assert_int_eq(cached(&c, "f0.pt", h), 0);
}
END_TEST

START_TEST(test_pin_memory_cache_works_without_a_file)
{
	struct mg_hashcache c;
	char h1[65], h2[65];

	test_cache(&c);
	c.path[0] = '\0'; /* like the helper: no file can be written */
	c.memory = 1;
	put_text("mem.pt", "memory cached");
	ck_assert_int_eq(cached(&c, "mem.pt", h1), 0);
	ck_assert_int_eq(cached(&c, "mem.pt", h2), 1);
	ck_assert_str_eq(h1, h2);
	tick();
	put_text("mem.pt", "memory changed");
	ck_assert_int_eq(cached(&c, "mem.pt", h2), 0);
	ck_assert_str_ne(h1, h2);
}
END_TEST

START_TEST(test_pin_cache_locked_reads_only_the_root_system_cache)
{
	struct mg_hashcache c, sys;
	char h[65];

	test_cache(&c);
	put_text("m.pt", "aaaa");
	ck_assert_int_eq(cached(&c, "m.pt", h), 0); /* into the user's cache */
	ck_assert_int_eq(cached(&c, "m.pt", h), 1);
	/* locked: the user's cache is not read, even root-owned */
	c.require_root = 1;
	ck_assert_int_eq(cached(&c, "m.pt", h), 0);
	/* root (these tests run as root) writes the system cache ... */
	test_cache(&sys);
	snprintf(sys.path, sizeof(sys.path), "%s", sys.sys_path);
	ck_assert_int_eq(cached(&sys, "m.pt", h), 0);
	/* ... which a locked policy reads, only while root-owned */
	ck_assert_int_eq(cached(&c, "m.pt", h), 1);
	ck_assert_int_eq(chown(c.sys_path, 65534, 65534), 0);
	ck_assert_int_eq(cached(&c, "m.pt", h), 0);
}
END_TEST

START_TEST(test_pin_cache_open_appends_through_its_descriptor)
{
	struct mg_hashcache c, r;
	char h1[65], h2[65];

	test_cache(&c);
	put_text("m.pt", "appended");
	ck_assert_int_eq(mg_hashcache_open(&c), 0);
	ck_assert_int_ge(c.fd, 0);
	c.path[0] = '\0'; /* like the confined helper: no path to open */
	ck_assert_int_eq(cached(&c, "m.pt", h1), 0);
	close(c.fd);
	test_cache(&r); /* a new process: the file answers */
	ck_assert_int_eq(cached(&r, "m.pt", h2), 1);
	ck_assert_str_eq(h1, h2);
	/* locked, as a user would be: no cache to write */
	test_cache(&r);
	r.require_root = 1;
	if (geteuid() != 0)
		ck_assert_int_eq(mg_hashcache_open(&r), -1);
}
END_TEST

START_TEST(test_pin_lazy_prescan_hashes_only_for_pins)
{
	struct mg_policy *p = NULL;
	struct mg_report *r = mg_report_new();
	char err[512], hex[65];
	int fd, skip = 0;

	ck_assert_int_eq(mg_policy_load_effective(put_text("p.conf", ""), 0,
	                                          &p, err, sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_pins_need_hash(p), 0);
	fd = open(put_text("m.pt", "x"), O_RDONLY);
	ck_assert_int_eq(mg_policy_prescan_lazy(p, fd, path_of("m.pt"), r, hex,
	                                        &skip, NULL), MG_OK);
	ck_assert_str_eq(hex, "");
	mg_policy_free(p);
	p = NULL;
	pin_file("m.pt", "x", "");
	ck_assert_int_eq(mg_policy_load_effective(put_text("p.conf",
	    "[pins]\nlockfile = models.lock\n"), 0, &p, err, sizeof(err)),
	    MG_OK);
	ck_assert_int_eq(mg_policy_pins_need_hash(p), 1);
	ck_assert_int_eq(mg_policy_prescan_lazy(p, fd, path_of("m.pt"), r, hex,
	                                        &skip, NULL), MG_OK);
	ck_assert_uint_eq(strlen(hex), 64);
	ck_assert_int_eq(skip, 1);
	close(fd);
	mg_policy_free(p);
	mg_report_free(r);
}
END_TEST

/* --- registry -------------------------------------------------------------------- */

START_TEST(test_registry_repo_from_hf_cache_path)
{
	char repo[128];

	ck_assert_int_eq(mg_registry_repo("/root/.cache/huggingface/hub/models--"
	                                  "google-bert--bert-base-uncased/"
	                                  "snapshots/abc/model.bin", repo,
	                                  sizeof(repo)), 1);
	ck_assert_str_eq(repo, "google-bert/bert-base-uncased");
	ck_assert_int_eq(mg_registry_repo("/h/models--gpt2/blobs/x", repo,
	                                  sizeof(repo)), 1);
	ck_assert_str_eq(repo, "gpt2");
	ck_assert_int_eq(mg_registry_repo("/h/mymodels--a--b/x", repo,
	                                  sizeof(repo)), 0);
	ck_assert_int_eq(mg_registry_repo("/data/model.pt", repo, sizeof(repo)),
	                 0);
}
END_TEST

START_TEST(test_registry_lookalike_detection)
{
	ck_assert(mg_registry_lookalike("google/bert-base-uncaseed",
	                                "google/bert-base-uncased"));
	ck_assert(mg_registry_lookalike("google/bert-base-uncsaed",
	                                "google/bert-base-uncased"));
	ck_assert(mg_registry_lookalike("g00gle/bert-base-uncased",
	                                "google/bert-base-uncased"));
	/* Cyrillic o (U+043E) in "google" */
	ck_assert(mg_registry_lookalike("g\xd0\xbeogle/bert", "google/bert"));
	ck_assert(mg_registry_lookalike("meta-llama/Llama-2-7b-hf",
	                                "meta-llama/Llama-2-7b-hf") == 0);
	ck_assert(mg_registry_lookalike("gpt3", "gpt2") == 0);
	ck_assert(mg_registry_lookalike("meta/llama-3", "meta/llama-2") == 0);
	ck_assert(mg_registry_lookalike("meta/lama-2", "meta/llama-2"));
	ck_assert(mg_registry_lookalike("mistralai/Mistral-7B",
	                                "google/bert-base-uncased") == 0);
	ck_assert(mg_registry_lookalike("googel/anything", "google/*"));
	ck_assert(mg_registry_lookalike("google/anything", "google/*") == 0);
	ck_assert(mg_registry_lookalike("faceb00k/x", "meta/*") == 0);
}
END_TEST

START_TEST(test_registry_rules_through_prescan)
{
	char hub[300], file[400], cmd[1400];
	struct mg_report *r;
	int skip;
	const char *conf = "[registry]\nallow_repos = google/bert-base-uncased,"
	                   " acme/*\ndeny_repos = evil/*\n";

	snprintf(hub, sizeof(hub), "%s/hub", dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/models--evil--m/snapshots/r "
	         "%s/models--google--bert-base-uncaseed/snapshots/r "
	         "%s/models--other--m/snapshots/r "
	         "%s/models--acme--m/snapshots/r", hub, hub, hub, hub);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(file, sizeof(file), "%s/models--evil--m/snapshots/r/x", hub);
	fclose(fopen(file, "w"));
	r = prescan(conf, file, &skip);
	ck_assert(has_rule(r, "registry.denied"));
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
	snprintf(file, sizeof(file), "%s/models--google--bert-base-uncaseed/"
	         "snapshots/r/x", hub);
	fclose(fopen(file, "w"));
	r = prescan(conf, file, &skip);
	ck_assert(has_rule(r, "registry.lookalike"));
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
	snprintf(file, sizeof(file), "%s/models--other--m/snapshots/r/x", hub);
	fclose(fopen(file, "w"));
	r = prescan(conf, file, &skip);
	ck_assert(has_rule(r, "registry.unlisted"));
	ck_assert_int_eq(r->verdict, MG_VERDICT_UNKNOWN);
	mg_report_free(r);
	snprintf(file, sizeof(file), "%s/models--acme--m/snapshots/r/x", hub);
	fclose(fopen(file, "w"));
	r = prescan(conf, file, &skip);
	ck_assert_uint_eq(r->nfindings, 0);
	mg_report_free(r);
}
END_TEST

static Suite *
pin_suite(void)
{
	Suite *s = suite_create("pin");
	TCase *tc;

	tc = tcase_create("hashing");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_pin_sha256_matches_sha256sum_small_sizes);
	tcase_add_test(tc, test_pin_sha256_matches_sha256sum_past_4gib_sparse);
	suite_add_tcase(s, tc);

	tc = tcase_create("lockfile");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pin_lockfile_reads_sha256sum_forms);
	tcase_add_test(tc, test_pin_lockfile_errors_name_the_line);
	tcase_add_test(tc, test_pin_locked_lockfile_must_be_root_only);
	suite_add_tcase(s, tc);

	tc = tcase_create("rules");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pin_trusted_hash_skips_the_scan);
	tcase_add_test(tc, test_pin_deny_pinned_hash_is_dangerous_anywhere);
	tcase_add_test(tc, test_pin_changed_content_at_pinned_path_is_tampered);
	tcase_add_test(tc, test_pin_require_pin_makes_unpinned_dangerous);
	tcase_add_test(tc, test_pin_unreadable_lockfile_trusts_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("cache");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pin_cache_hits_then_misses_when_file_changes);
	tcase_add_test(tc, test_pin_cache_restored_mtime_still_misses);
	tcase_add_test(tc, test_pin_cache_untrusted_file_is_ignored);
	tcase_add_test(tc, test_pin_cache_skips_racy_and_small_files);
	tcase_add_test(tc, test_pin_cache_is_bounded);
	tcase_add_test(tc, test_pin_memory_cache_works_without_a_file);
	tcase_add_test(tc, test_pin_cache_locked_reads_only_the_root_system_cache);
	tcase_add_test(tc, test_pin_cache_open_appends_through_its_descriptor);
	tcase_add_test(tc, test_pin_lazy_prescan_hashes_only_for_pins);
	suite_add_tcase(s, tc);

	tc = tcase_create("registry");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_registry_repo_from_hf_cache_path);
	tcase_add_test(tc, test_registry_lookalike_detection);
	tcase_add_test(tc, test_registry_rules_through_prescan);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(pin_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
