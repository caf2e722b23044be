/*
 * check_dbm.c - shelve's databases: the dbm.dumb index parser (dumb.c),
 * dbm.dumb databases judged through their index, and Berkeley DB / GDBM
 * files read by their libraries in a confined child (dbm.c).
 *
 * The expected literal_eval results below were taken from CPython 3.11's
 * ast.literal_eval on the same lines (tests/integration/test_preload_shelve
 * checks the whole path against the real dumb.py).  Databases are written
 * here with libdb and libgdbm themselves; pickles are assembled by hand.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <db.h>
#include <gdbm.h>

#include "../../scanner/formats.h"

/* --- helpers -------------------------------------------------------------- */

static enum mg_gclass
classify(void *ctx, const char *module, const char *name,
         const char **category)
{
	(void)ctx; (void)name;
	if (strcmp(module, "os") == 0 || strcmp(module, "posix") == 0) {
		*category = "command execution";
		return MG_GLOBAL_DENIED;
	}
	return MG_GLOBAL_UNKNOWN;
}

static const struct mg_classifier classifier = { classify, NULL };

/* pickle.dumps(os.system('true'), protocol=2)'s shape: GLOBAL, REDUCE */
static const uint8_t evil[] = "\x80\x02" "cos\nsystem\n" "X\x04\0\0\0true"
                              "\x85R.";
#define EVIL_LEN (sizeof(evil) - 1)
/* pickle.dumps([1, 2], protocol=2) */
static const uint8_t benign[] = "\x80\x02]q\0(K\x01K\x02e.";
#define BENIGN_LEN (sizeof(benign) - 1)

static char dir[64];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_dbm.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void
put_file(const char *name, const void *data, size_t len)
{
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(p, "wb"));
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

static struct mg_report *
scan_path(const char *name)
{
	struct mg_scan_opts o;
	struct mg_report *r = mg_report_new();
	char p[128];
	int fd;

	mg_scan_opts_default(&o);
	o.classifier = &classifier;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	ck_assert_int_ge(fd = open(p, O_RDONLY), 0);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(mg_scan_fd(&o, fd, p, r), MG_OK);
	close(fd);
	return r;
}

static int
has_member(const struct mg_report *r, const char *member, enum mg_verdict v)
{
	size_t i;

	for (i = 0; i < r->nfindings; i++)
		if (r->findings[i].member != NULL &&
		    strcmp(r->findings[i].member, member) == 0 &&
		    r->findings[i].verdict == v)
			return 1;
	return 0;
}

static int
message_has(const struct mg_report *r, const char *needle)
{
	size_t i;

	for (i = 0; i < r->nfindings; i++)
		if (strstr(r->findings[i].message, needle) != NULL)
			return 1;
	return 0;
}

/* Parse @line; 0 and the entry, or -1. */
static int
parse(const char *line, struct mg_dumb_entry *e, char *key, size_t cap)
{
	uint8_t scratch[256];
	const char *why = NULL;
	int rc = mg_dumb_parse_line((const uint8_t *)line, strlen(line),
	                            scratch, e, &why);

	if (rc == 0) {
		ck_assert_uint_lt(e->klen, cap);
		memcpy(key, e->key, e->klen);
		key[e->klen] = '\0';
	} else {
		ck_assert_ptr_nonnull(why);
	}
	return rc;
}

/* --- the index parser ----------------------------------------------------- */

START_TEST(test_dumb_parses_what_dumb_py_writes_and_its_variants)
{
	static const struct {
		const char *line, *key;
		long long pos, siz;
	} ok[] = {
		{ "'k', (0, 25)", "k", 0, 25 },
		{ "'k', (512, 7)\n", "k", 512, 7 },      /* rstrip */
		{ "  'k', (0, 5) \xa0", "k", 0, 5 },     /* lstrip, U+00A0 */
		{ "'k',(0,5),", "k", 0, 5 },
		{ "('k', (0, 5))", "k", 0, 5 },
		{ "['k', [0, 5]]", "k", 0, 5 },
		{ "'k', (0, 5,)", "k", 0, 5 },
		{ "'k', (0, -5)", "k", 0, -5 },
		{ "'k', (-0, 5)", "k", 0, 5 },
		{ "'k', (- 5, 5)", "k", -5, 5 },
		{ "'k', (+7, 5)", "k", 7, 5 },
		{ "'k', (00, 5)", "k", 0, 5 },
		{ "'k', (0_0, 1_000)", "k", 0, 1000 },
		{ "'k', (0x10, 0o7)", "k", 16, 7 },
		{ "'k', (0b101, 0X_f)", "k", 5, 15 },
		{ "'k', (True, False)", "k", 1, 0 },
		{ "'k', (0, None)", "k", 0, -1 },
		{ "'k' 'j', (0, 5)", "kj", 0, 5 },
		{ "'k'\"j\" u'l', (0, 5)", "kjl", 0, 5 },
		{ "r'k\\'', (0, 5)", "k\\'", 0, 5 },
		{ "'''k''', (0, 5)", "k", 0, 5 },
		{ "\"\"\"k'\"\"\", (0, 5)", "k'", 0, 5 },
		{ "'k', (0, 5) # a comment", "k", 0, 5 },
		{ "\f'k',\f(0,5)\f", "k", 0, 5 },
		{ "'\\x41\\101\\u0042\\U00000043\\n', (0, 5)", "AABC\n", 0, 5 },
		{ "'\\q\\8', (0, 5)", "\\q\\8", 0, 5 },  /* unknown escapes */
		{ "'\xe9', (0, 5)", "\xe9", 0, 5 },      /* Latin-1 byte */
		{ "'', (0, 5)", "", 0, 5 },
		{ "'k', (9223372036854775807, -9223372036854775808)", "k",
		  INT64_MAX, INT64_MIN },
	};
	struct mg_dumb_entry e;
	char key[128];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(parse(ok[i].line, &e, key, sizeof(key)) == 0,
		              "refused: %s", ok[i].line);
		ck_assert_str_eq(key, ok[i].key);
		ck_assert_int_eq(e.pos, ok[i].pos);
		ck_assert_int_eq(e.siz, ok[i].siz);
	}
}
END_TEST

START_TEST(test_dumb_refuses_lines_it_does_not_read_as_literal_eval)
{
	static const char *const bad[] = {
		"",                          /* literal_eval('') raises */
		"   ",
		"'k'",
		"'k', (0, 5), 'x'",
		"'k', (0, 5, 6)",
		"'k', (0,)",
		"'k', (0)",
		"b'k', (0, 5)",              /* a bytes key has no .encode */
		"f'k', (0, 5)",
		"br'k', (0, 5)",
		"ur'k', (0, 5)",
		"x'k', (0, 5)",
		"'k', (0.0, 5)",             /* seek(float) raises */
		"'k', (0, 5.)",
		"'k', (0, 5j)",
		"'k', (0, 1e3)",
		"'k', (01, 5)",              /* leading zeros */
		"'k', (1_, 5)",
		"'k', (1__0, 5)",
		"'k', (0x, 5)",
		"'k', (0o8, 5)",
		"'k', (--5, 5)",             /* one sign only */
		"'k', (-(5), 5)",            /* literal_eval takes it; refused */
		"'k', (-True, 5)",
		"'k', (1+2j, 5)",
		"'k', (x, 5)",
		"'k', {0: 5}",
		"'k', {0, 5}",
		"'k', set()",
		"{'k': (0, 5)}",
		"'k', (0, 5) \\",
		"'k', (0, 5))",
		"'k', ((0, 5)",
		"'k, (0, 5)",
		"'''k'', (0, 5)",
		"'\\x4', (0, 5)",
		"'\\u004', (0, 5)",
		"'\\N{LATIN SMALL LETTER A}', (0, 5)",
		"'\\u0100', (0, 5)",         /* key.encode('Latin-1') raises */
		"'\\777', (0, 5)",
		"'k'\v, (0, 5)",             /* U+000B is no blank */
		"'k', (99999999999999999999, 5)",
		"'k', (0, 5) None",
		"'k', ((((((((((0)))))))))), 5)",
		"5, (0, 5)",
		"'k', 'ab'",
	};
	struct mg_dumb_entry e;
	char key[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse(bad[i], &e, key, sizeof(key)) != 0,
		              "accepted: %s", bad[i]);
}
END_TEST

START_TEST(test_dumb_refuses_a_nul_byte)
{
	static const uint8_t line[] = "'k\0', (0, 5)";
	struct mg_dumb_entry e;
	uint8_t scratch[64];
	const char *why = NULL;

	ck_assert_int_ne(mg_dumb_parse_line(line, sizeof(line) - 1, scratch,
	                                    &e, &why), 0);
	ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(test_dbm_member_names_the_key_and_spells_nul)
{
	char m[256], big[400];

	mg_dbm_member(m, sizeof(m), (const uint8_t *)"a\0b", 3);
	ck_assert_str_eq(m, "key 'a\\x00b'");
	memset(big, 'z', sizeof(big));
	mg_dbm_member(m, sizeof(m), (const uint8_t *)big, sizeof(big));
	ck_assert_uint_lt(strlen(m), sizeof(m));
	ck_assert_ptr_nonnull(strstr(m, "...'"));
}
END_TEST

/* --- dbm.dumb databases --------------------------------------------------- */

/* A .dat of the benign value at 0 and @second at 512 (NUL padding
 * between, as dumb.py writes), with @index as its .dir. */
/* db.dat as dbm.dumb lays it out: @first at 0, @second at 512 (its
 * block size), NUL padding between. */
static void
put_dat(const uint8_t *first, size_t flen, const uint8_t *second,
        size_t slen)
{
	uint8_t dat[2048];

	ck_assert_uint_le(flen, 512);
	ck_assert_uint_le(slen, sizeof(dat) - 512);
	memset(dat, 0, sizeof(dat));
	memcpy(dat, first, flen);
	memcpy(dat + 512, second, slen);
	put_file("db.dat", dat, 512 + slen);
}

static void
dumb_db(const uint8_t *second, size_t slen, const char *index)
{
	put_dat(benign, BENIGN_LEN, second, slen);
	put_file("db.dir", index, strlen(index));
}

START_TEST(test_dumb_benign_values_with_padding_are_clean)
{
	char idx[128];
	struct mg_report *r;

	snprintf(idx, sizeof(idx), "'a', (0, %zu)\n'b', (512, %zu)\n",
	         BENIGN_LEN, BENIGN_LEN);
	dumb_db(benign, BENIGN_LEN, idx);
	r = scan_path("db.dat");
	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	ck_assert_str_eq(r->format, "dbm.dumb");
	mg_report_free(r);
	r = scan_path("db.dir");
	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	mg_report_free(r);
}
END_TEST

START_TEST(test_dumb_value_named_by_index_is_judged_with_its_key)
{
	char idx[128];
	struct mg_report *r;

	snprintf(idx, sizeof(idx), "'a', (0, %zu)\n'evil', (512, %zu)\n",
	         BENIGN_LEN, EVIL_LEN);
	dumb_db(evil, EVIL_LEN, idx);
	r = scan_path("db.dir");
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_member(r, "key 'evil'", MG_VERDICT_DANGEROUS));
	mg_report_free(r);
	r = scan_path("db.dat");
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_member(r, "key 'evil'", MG_VERDICT_DANGEROUS));
	mg_report_free(r);
}
END_TEST

START_TEST(test_dumb_entry_inside_another_value_is_followed)
{
	/* value 'b' is a bytes pickle whose content is the malicious one;
	 * 'x' points at that content */
	uint8_t v[256];
	char idx[160];
	struct mg_report *r;
	size_t n = 0;

	v[n++] = 0x80; v[n++] = 3; v[n++] = 'C'; v[n++] = (uint8_t)EVIL_LEN;
	memcpy(v + n, evil, EVIL_LEN);
	n += EVIL_LEN;
	v[n++] = '.';
	snprintf(idx, sizeof(idx), "'a', (0, %zu)\n'b', (512, %zu)\n", BENIGN_LEN,
	         n);
	dumb_db(v, n, idx);
	r = scan_path("db.dir");
	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);   /* as shelve reads */
	mg_report_free(r);
	snprintf(idx + strlen(idx), sizeof(idx) - strlen(idx),
	         "'x', (516, %zu)\n", EVIL_LEN);
	put_file("db.dir", idx, strlen(idx));
	r = scan_path("db.dir");
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_member(r, "key 'x'", MG_VERDICT_DANGEROUS));
	mg_report_free(r);
}
END_TEST

START_TEST(test_dumb_seek_and_read_semantics)
{
	char idx[256];
	struct mg_report *r;

	/* negative pos raises, past the end reads b'', siz 0 reads b'' */
	snprintf(idx, sizeof(idx), "'a', (-512, %zu)\n'b', (4096, 9)\n"
	         "'c', (512, 0)\n", EVIL_LEN);
	dumb_db(evil, EVIL_LEN, idx);
	r = scan_path("db.dir");
	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	mg_report_free(r);
	/* a negative size, or None, reads to the end */
	put_file("db.dir", "'a', (512, -1)\n", 15);
	r = scan_path("db.dir");
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
	put_file("db.dir", "'a', (512, None)\n", 17);
	r = scan_path("db.dir");
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
	/* a short size cuts the pickle: the unpickler fails, an error */
	put_file("db.dir", "'a', (512, 10)\n", 15);
	r = scan_path("db.dir");
	ck_assert_int_ge(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
}
END_TEST

START_TEST(test_dumb_unreadable_line_is_error_with_line_number)
{
	char idx[128];
	struct mg_report *r;

	snprintf(idx, sizeof(idx), "'a', (0, %zu)\r\n'b', (512, 5.0)\r\n",
	         BENIGN_LEN);
	dumb_db(evil, EVIL_LEN, idx);
	r = scan_path("db.dat");
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	ck_assert(message_has(r, "line 2"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_dumb_first_pickle_of_dat_counts_without_an_entry)
{
	/* pickle.load(open("db.dat")) runs the pickle at 0, which no index
	 * entry names */
	struct mg_report *r;

	put_dat(evil, EVIL_LEN, benign, BENIGN_LEN);
	put_file("db.dir", "'b', (512, 11)\n", 15);
	r = scan_path("db.dat");
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
}
END_TEST

START_TEST(test_dumb_index_that_is_also_a_pickle_is_dangerous)
{
	/* line 1 starts with SHORT_BINSTRING ('U', length "'" = 39), whose
	 * bytes end at line 2's opening quote; line 2's key holds binary
	 * opcodes: os.system('true') for pickle.load(open("db.dir")) */
	static const char op[] = "\x8c\x02os\x8c\x06system\x93\x8c\x04true"
	                         "\x85R.";
	char idx[256];
	struct mg_report *r;

	snprintf(idx, sizeof(idx), "U'%s', (0, 5)\n'%s', (0, 5)\n",
	         "aaaaaaaaaaaaaaaaaaaaaaaaaaaa", op);
	dumb_db(benign, BENIGN_LEN, idx);
	r = scan_path("db.dir");
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
}
END_TEST

START_TEST(test_dumb_dat_without_dir_is_read_as_before)
{
	struct mg_report *r;

	put_dat(benign, BENIGN_LEN, benign, BENIGN_LEN);
	r = scan_path("db.dat");
	ck_assert_str_ne(r->format, "dbm.dumb");
	/* the first pickle, then NUL padding a second load fails on */
	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	ck_assert_uint_ge(r->nfindings, 1);
	ck_assert_str_eq(r->findings[r->nfindings - 1].rule, "format.inert");
	mg_report_free(r);
}
END_TEST

/* --- Berkeley DB and GDBM ------------------------------------------------- */

static void
bdb_put(DB *db, const char *k, const void *v, size_t n)
{
	DBT key, val;

	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	key.data = (void *)k;
	key.size = (u_int32_t)strlen(k);
	val.data = (void *)v;
	val.size = (u_int32_t)n;
	ck_assert_int_eq(db->put(db, NULL, &key, &val, 0), 0);
}

/* x.db: a hash database (what dbm.ndbm writes) with "a" benign, a
 * 100 KiB value in overflow pages, and "k" = @k_val. */
static void
bdb_file(const uint8_t *k_val, size_t k_len)
{
	static uint8_t big[100 << 10];
	char p[128];
	DB *db;
	size_t n;

	/* a BINBYTES pickle of 100 KiB: overflow pages */
	n = sizeof(big) - 8;
	big[0] = 0x80; big[1] = 3; big[2] = 'B';
	big[3] = (uint8_t)n; big[4] = (uint8_t)(n >> 8);
	big[5] = (uint8_t)(n >> 16); big[6] = 0;
	big[sizeof(big) - 1] = '.';
	snprintf(p, sizeof(p), "%s/x.db", dir);
	ck_assert_int_eq(db_create(&db, NULL, 0), 0);
	ck_assert_int_eq(db->open(db, NULL, p, NULL, DB_HASH, DB_CREATE,
	                          0600), 0);
	bdb_put(db, "a", benign, BENIGN_LEN);
	bdb_put(db, "big", big, sizeof(big));
	bdb_put(db, "k", k_val, k_len);
	ck_assert_int_eq(db->close(db, 0), 0);
}

START_TEST(test_bdb_values_are_read_and_judged_by_key)
{
	struct mg_report *r;

	bdb_file(benign, BENIGN_LEN);
	r = scan_path("x.db");
	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	ck_assert_str_eq(r->format, "dbm");
	mg_report_free(r);
	bdb_file(evil, EVIL_LEN);
	r = scan_path("x.db");
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_member(r, "key 'k'", MG_VERDICT_DANGEROUS));
	mg_report_free(r);
}
END_TEST

/* 24 MiB of values (overflow pages): libdb's verification keeps page
 * records in temporary databases that spill to a /var/tmp file once its
 * cache is full, a file the reader may not create (without a cache sized
 * to the file this is an error). */
START_TEST(test_bdb_large_benign_file_verifies_and_is_clean)
{
	static uint8_t big[(512 << 10) + 8];
	char p[128], k[16];
	struct mg_report *r;
	DB *db;
	size_t n = sizeof(big) - 8;
	int i;

	big[0] = 0x80; big[1] = 3; big[2] = 'B';
	big[3] = (uint8_t)n; big[4] = (uint8_t)(n >> 8);
	big[5] = (uint8_t)(n >> 16); big[6] = 0;
	big[sizeof(big) - 1] = '.';
	snprintf(p, sizeof(p), "%s/x.db", dir);
	ck_assert_int_eq(db_create(&db, NULL, 0), 0);
	ck_assert_int_eq(db->open(db, NULL, p, NULL, DB_HASH, DB_CREATE,
	                          0600), 0);
	for (i = 0; i < 48; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		memset(big + 7, 'a' + i % 26, n - 1);
		bdb_put(db, k, big, sizeof(big));
	}
	ck_assert_int_eq(db->close(db, 0), 0);
	r = scan_path("x.db");
	ck_assert_msg(r->verdict == MG_VERDICT_CLEAN, "%s",
	              r->nfindings ? r->findings[0].message : "");
	mg_report_free(r);
}
END_TEST

START_TEST(test_bdb_corrupt_file_is_error_naming_it)
{
	uint8_t buf[8192];
	char p[128];
	struct mg_report *r;
	FILE *f;
	size_t n, i;

	bdb_file(evil, EVIL_LEN);
	snprintf(p, sizeof(p), "%s/x.db", dir);
	ck_assert_ptr_nonnull(f = fopen(p, "rb"));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	for (i = 600; i < n; i += 61)
		buf[i] ^= 0xa5;
	put_file("bad.db", buf, n);
	r = scan_path("bad.db");
	ck_assert_int_ge(r->verdict, MG_VERDICT_ERROR);
	ck_assert(message_has(r, "bad.db"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_dbm_in_a_buffer_is_error)
{
	struct mg_scan_opts o;
	struct mg_report *r = mg_report_new();
	uint8_t buf[8192];
	char p[128];
	FILE *f;
	size_t n;

	bdb_file(benign, BENIGN_LEN);
	snprintf(p, sizeof(p), "%s/x.db", dir);
	ck_assert_ptr_nonnull(f = fopen(p, "rb"));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	mg_scan_opts_default(&o);
	o.classifier = &classifier;
	ck_assert_int_eq(mg_scan_buffer(&o, "x.db", buf, n, r), MG_OK);
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	ck_assert(message_has(r, "only from files"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_gdbm_values_are_read_and_judged_by_key)
{
	char p[128];
	GDBM_FILE g;
	datum k, v;
	struct mg_report *r;

	snprintf(p, sizeof(p), "%s/g", dir);
	ck_assert_ptr_nonnull(g = gdbm_open(p, 0, GDBM_NEWDB, 0600, NULL));
	k.dptr = "a"; k.dsize = 1;
	v.dptr = (char *)benign; v.dsize = (int)BENIGN_LEN;
	ck_assert_int_eq(gdbm_store(g, k, v, GDBM_REPLACE), 0);
	k.dptr = "k"; k.dsize = 1;
	v.dptr = (char *)evil; v.dsize = (int)EVIL_LEN;
	ck_assert_int_eq(gdbm_store(g, k, v, GDBM_REPLACE), 0);
	gdbm_close(g);
	r = scan_path("g");
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_member(r, "key 'k'", MG_VERDICT_DANGEROUS));
	mg_report_free(r);
}
END_TEST

static Suite *
dbm_suite(void)
{
	Suite *s = suite_create("dbm");
	TCase *idx = tcase_create("dumb index");
	TCase *dumb = tcase_create("dumb database");
	TCase *lib = tcase_create("bdb and gdbm");

	tcase_add_test(idx, test_dumb_parses_what_dumb_py_writes_and_its_variants);
	tcase_add_test(idx, test_dumb_refuses_lines_it_does_not_read_as_literal_eval);
	tcase_add_test(idx, test_dumb_refuses_a_nul_byte);
	tcase_add_test(idx, test_dbm_member_names_the_key_and_spells_nul);
	suite_add_tcase(s, idx);

	tcase_add_checked_fixture(dumb, setup, teardown);
	tcase_add_test(dumb, test_dumb_benign_values_with_padding_are_clean);
	tcase_add_test(dumb, test_dumb_value_named_by_index_is_judged_with_its_key);
	tcase_add_test(dumb, test_dumb_entry_inside_another_value_is_followed);
	tcase_add_test(dumb, test_dumb_seek_and_read_semantics);
	tcase_add_test(dumb, test_dumb_unreadable_line_is_error_with_line_number);
	tcase_add_test(dumb, test_dumb_first_pickle_of_dat_counts_without_an_entry);
	tcase_add_test(dumb, test_dumb_index_that_is_also_a_pickle_is_dangerous);
	tcase_add_test(dumb, test_dumb_dat_without_dir_is_read_as_before);
	suite_add_tcase(s, dumb);

	tcase_add_checked_fixture(lib, setup, teardown);
	tcase_add_test(lib, test_bdb_values_are_read_and_judged_by_key);
	tcase_add_test(lib, test_bdb_large_benign_file_verifies_and_is_clean);
	tcase_add_test(lib, test_bdb_corrupt_file_is_error_naming_it);
	tcase_add_test(lib, test_dbm_in_a_buffer_is_error);
	tcase_add_test(lib, test_gdbm_values_are_read_and_judged_by_key);
	tcase_set_timeout(lib, 60);
	suite_add_tcase(s, lib);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dbm_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
