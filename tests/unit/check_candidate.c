/*
 * check_candidate.c - the content half of the preload's candidate test
 * (scanner/candidate.c) and the windowed opcode walk it runs (inert.c).
 *
 * Inputs are written here byte by byte: pickles of each protocol as
 * pickletools shows them, container and compression magics, a tar header
 * with its checksum computed, Berkeley DB and GDBM first bytes, and the
 * beginnings of real text files that start with opcode letters.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../scanner/candidate.h"
#include "../../scanner/pickle.h"

/* --- helpers --------------------------------------------------------------- */

/* A whole file given as a string literal (NULs included). */
#define walk(lit) walk_n(lit, sizeof(lit) - 1, sizeof(lit) - 1)

static enum mg_cand
walk_n(const void *b, size_t n, uint64_t size)
{
	return mg_candidate_classify(b, n, size, MG_CAND_WALK);
}

/* The same walk with the guard's name test (a data name's first read). */
#define guarded(lit) mg_candidate_classify((const uint8_t *)(lit), \
	sizeof(lit) - 1, sizeof(lit) - 1, MG_CAND_WALK_GUARDED)

/* A v7 (pre-POSIX) tar header for a member @name, checksum filled in. */
static void
v7_header(uint8_t *h, const char *name)
{
	unsigned sum = 0;
	size_t i;

	memset(h, 0, 512);
	memcpy(h, name, strlen(name));
	memcpy(h + 100, "0000644", 7);
	memcpy(h + 124, "00000000012", 11);
	memset(h + 148, ' ', 8);
	h[156] = '0';
	for (i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

/* --- loaders' first bytes: candidates -------------------------------------- */

START_TEST(test_pickles_of_every_protocol_are_candidates)
{
	/* protocol 0 and 1 have no PROTO: the walk reaches the GLOBAL */
	ck_assert_int_eq(walk("cos\nsystem\n(S'touch x'\ntR."), MG_CAND_YES);
	ck_assert_int_eq(walk("cposix\nsystem\nq\x00(X\x07\x00\x00\x00touch "
	                      "xq\x01tq\x02Rq\x03."), MG_CAND_YES);
	/* protocol 2 with its PROTO cut off: still reaches the GLOBAL */
	ck_assert_int_eq(walk("cposix\nsystem\nq\x00X\x01\x00\x00\x00x\x85R."),
	                 MG_CAND_YES);
	ck_assert_int_eq(walk_n("\x80\x04\x95\x10", 4, 4), MG_CAND_YES);
	ck_assert_int_eq(walk_n("\x80\x02}q\x00.", 6, 6), MG_CAND_YES);
}
END_TEST

START_TEST(test_containers_and_databases_are_candidates)
{
	uint8_t b[MG_CANDIDATE_WINDOW];

	ck_assert_int_eq(walk_n("PK\x03\x04\x14\x00", 6, 100), MG_CAND_YES);
	ck_assert_int_eq(walk_n("PK\x05\x06\x00\x00", 6, 22), MG_CAND_YES);
	ck_assert_int_eq(walk_n("\x93NUMPY\x01\x00", 8, 128), MG_CAND_YES);
	ck_assert_int_eq(walk_n("\x89HDF\r\n\x1a\n", 8, 4096), MG_CAND_YES);
	v7_header(b, "storages");
	ck_assert_int_eq(walk_n(b, sizeof(b), 2048), MG_CAND_YES);
	ck_assert(mg_candidate_tar(b, sizeof(b)));
	b[0] = 'S';             /* the checksum no longer holds */
	ck_assert(!mg_candidate_tar(b, sizeof(b)));
	memset(b, 0, sizeof(b));
	memcpy(b + 257, "ustar", 5);
	ck_assert(mg_candidate_tar(b, sizeof(b)));
	/* Berkeley DB hash meta page (little-endian), GDBM */
	memset(b, 0, sizeof(b));
	memcpy(b + 12, "\x61\x15\x06\x00", 4);
	ck_assert_int_eq(walk_n(b, 64, 12288), MG_CAND_YES);
	memcpy(b + 12, "\x00\x06\x15\x61", 4);   /* big-endian writer */
	ck_assert(mg_candidate_dbm(b, 64));
	ck_assert_int_eq(walk_n("\xce\x9a\x57\x13\x00\x00", 6, 8192),
	                 MG_CAND_YES);
}
END_TEST

START_TEST(test_compression_magics_are_compressed)
{
	static const char *const m[] = {
		"\x1f\x8b\x08\x00", "BZh9", "\xfd" "7zXZ\0\x00",
		"\x28\xb5\x2f\xfd", "\x04\x22\x4d\x18", "\x78\x9c\x00\x00",
		NULL
	};
	static const size_t len[] = { 4, 4, 7, 4, 4, 4 };
	size_t i;

	for (i = 0; m[i] != NULL; i++)
		ck_assert_int_eq(walk_n(m[i], len[i], 1000),
		                 MG_CAND_COMPRESSED);
	/* lzma-alone: properties 0x5d, then a dictionary size */
	ck_assert_int_eq(walk_n("\x5d\x00\x00\x80\x00\xff\xff\xff\xff\xff"
	                        "\xff\xff\xff", 13, 1000), MG_CAND_COMPRESSED);
}
END_TEST

/* --- what is not a candidate ----------------------------------------------- */

START_TEST(test_text_data_and_images_are_not_candidates)
{
	ck_assert_int_eq(walk("a,b,c\n1,2,3\n"), MG_CAND_NO);
	ck_assert_int_eq(walk("{\"a\": [1, 2]}\n"), MG_CAND_NO);
	ck_assert_int_eq(walk("# modelgate\n\nStops malicious models.\n"),
	                 MG_CAND_NO);
	ck_assert_int_eq(walk_n("\x89PNG\r\n\x1a\n\x00\x00", 10, 10),
	                 MG_CAND_NO);
	ck_assert_int_eq(walk_n("\x7f" "ELF\x02\x01\x01", 7, 7), MG_CAND_NO);
}
END_TEST

START_TEST(test_text_starting_with_opcode_letters_is_not_a_candidate)
{
	/* FLOAT, INT, STRING lines no parser accepts fail in both loaders */
	ck_assert_int_eq(walk("Format: https://www.debian.org/doc/\n"
	                      "Upstream-Name: x\n"), MG_CAND_NO);
	ck_assert_int_eq(walk("Input files\nare read\n"), MG_CAND_NO);
	ck_assert_int_eq(walk("Some title\n"), MG_CAND_NO);
	/* BINFLOAT takes 8 bytes, then REDUCE/STOP on too small a stack */
	ck_assert_int_eq(walk("Git 2.28 Release Notes\n"), MG_CAND_NO);
	ck_assert_int_eq(walk(".. image:: x.png\n"), MG_CAND_NO);
	/* INST whose two lines are there resolves a global (pickle.py calls
	 * find_class first): why gate.c walks no text-data names */
	ck_assert_int_eq(walk("idname\n1,ab\n"), MG_CAND_YES);
	/* ... unless no import can find its module: a comma, a space, a
	 * quote, a CR in the part before the first dot */
	ck_assert_int_eq(walk("id,name\n1,ab\n"), MG_CAND_NO);
	ck_assert_int_eq(walk("comment_char %\nescape_char /\n"), MG_CAND_NO);
	ck_assert_int_eq(walk("include \"/usr/share/X11/locale\"\n"),
	                 MG_CAND_NO);
	ck_assert_int_eq(walk("cos\r\nsystem\r\n(S'x'\r\ntR."), MG_CAND_NO);
	/* the first part decides: "os" is imported before "path x" fails;
	 * ".os" looks up "os" (importlib's tail); '-' and digits are names
	 * importlib.import_module finds ("train-model.py") */
	ck_assert_int_eq(walk("cos.path x\nsystem\n"), MG_CAND_YES);
	ck_assert_int_eq(walk("c.os\nsystem\n"), MG_CAND_YES);
	ck_assert_int_eq(walk("ctrain-model\nmain\n"), MG_CAND_YES);
	ck_assert_int_eq(walk("c01_prep\nmain\n"), MG_CAND_YES);
	/* pickle.py imports the module of a GLOBAL whose name line is empty
	 * or missing ("chardet\n": module "hardet", name "") */
	ck_assert_int_eq(walk("ctest_build\n-----\n"), MG_CAND_YES);
	ck_assert_int_eq(walk("chardet\n"), MG_CAND_YES);
	ck_assert_int_eq(walk("chardet"), MG_CAND_YES);
	ck_assert_int_eq(walk("charde t"), MG_CAND_NO);
	/* but a number is a number: FLOAT 1.5, then STOP on it */
	ck_assert_int_eq(walk("F1.5\n."), MG_CAND_YES);
	ck_assert_int_eq(walk("I0x1f\n."), MG_CAND_YES);
}
END_TEST

/* Where the guard refuses a name no pickle.dumps writes before the import,
 * a text line's GLOBAL stops there; a real one does not. */
START_TEST(test_guarded_walk_stops_at_names_the_guard_refuses)
{
	ck_assert_int_eq(guarded("ctest_build\n-----\n"), MG_CAND_NO);
	ck_assert_int_eq(guarded("chardet\n"), MG_CAND_NO);
	ck_assert_int_eq(guarded("chardet"), MG_CAND_NO);
	ck_assert_int_eq(guarded("ctest_build\n\n"), MG_CAND_NO);
	ck_assert_int_eq(guarded("cx\nsome words\n"), MG_CAND_NO);
	ck_assert_int_eq(guarded("cx\n1st\n"), MG_CAND_NO);
	ck_assert_int_eq(guarded("cx\na..b\n"), MG_CAND_NO);
	/* what pickle.dumps writes: names, qualnames, non-ASCII ones */
	ck_assert_int_eq(guarded("cposix\nsystem\n(S'x'\ntR."), MG_CAND_YES);
	ck_assert_int_eq(guarded("ccollections\nOrderedDict\n)R."),
	                 MG_CAND_YES);
	ck_assert_int_eq(guarded("cm\nOuter.Inner_2\n."), MG_CAND_YES);
	ck_assert_int_eq(guarded("cm\n\xc3\xa9t\xc3\xa9\n."), MG_CAND_YES);
	ck_assert_int_eq(guarded("(iposix\nsystem\nS'x'\n."), MG_CAND_YES);
	/* and everything else is walked as before */
	ck_assert_int_eq(guarded("\x80\x02K\x01."), MG_CAND_YES);
	ck_assert_int_eq(guarded("Git 2.28 Release Notes\n"), MG_CAND_NO);
	ck_assert_int_eq(guarded("F1.5\n."), MG_CAND_YES);
}
END_TEST

/* --- the window ------------------------------------------------------------ */

START_TEST(test_binary_data_is_not_a_candidate)
{
	/* EXT1 code 74 (the program's registry, nothing the file chooses),
	 * then an invalid load key: the loader fails before any call */
	ck_assert_int_eq(walk("\x82\x4a\x9e\x01"), MG_CAND_NO);
	ck_assert_int_eq(walk("\x82\x00K\x01."), MG_CAND_NO);
	/* ... but an EXT object called with arguments is not ruled out */
	ck_assert_int_eq(walk("\x82\x01)R."), MG_CAND_YES);
	/* GLOBAL names are decoded (UTF-8; ASCII for INST) before
	 * find_class in both unpicklers */
	ck_assert_int_eq(walk("c\xff\xfe\nx\n"), MG_CAND_NO);
	ck_assert_int_eq(walk("(i\xc3\xa9\nx\n"), MG_CAND_NO);
	ck_assert_int_eq(walk("c\xc3\xa9\nx\n"), MG_CAND_YES);
	/* NEXT_BUFFER pushes the caller's buffer; then an invalid key */
	ck_assert_int_eq(walk("\x97\x9e"), MG_CAND_NO);
}
END_TEST

START_TEST(test_a_window_too_short_to_tell_is_a_candidate)
{
	uint8_t b[MG_CANDIDATE_WINDOW];

	/* BINUNICODE of 1000 bytes: past the window, inside a 2000-byte
	 * file: what follows cannot be seen, so ask the helper */
	memset(b, 'x', sizeof(b));
	memcpy(b, "X\xe8\x03\x00\x00", 5);
	ck_assert_int_eq(walk_n(b, sizeof(b), 2000), MG_CAND_UNSURE);
	/* the same length past the end of the file: the loader fails */
	ck_assert_int_eq(walk_n(b, sizeof(b), 600), MG_CAND_NO);
	/* a whole file that ends before STOP fails; a window of it does not */
	ck_assert_int_eq(walk_n("N", 1, 1), MG_CAND_NO);
	ck_assert_int_eq(walk_n("NN", 2, 2), MG_CAND_NO);
	ck_assert_int_eq(walk_n("NN", 2, 100), MG_CAND_UNSURE);
	/* a text line cut by the window: unknown, not a failure */
	ck_assert_int_eq(walk_n("cos\nsys", 7, 100), MG_CAND_UNSURE);
}
END_TEST

START_TEST(test_magic_mode_does_not_walk)
{
	const char *p0 = "cos\nsystem\n(S'x'\ntR.";

	ck_assert_int_eq(mg_candidate_classify((const uint8_t *)p0,
	                                       strlen(p0), strlen(p0),
	                                       MG_CAND_MAGIC), MG_CAND_NO);
	ck_assert_int_eq(mg_candidate_classify((const uint8_t *)"\x80\x04K",
	                                       3, 3, MG_CAND_MAGIC),
	                 MG_CAND_YES);
}
END_TEST

START_TEST(test_whole_file_walk_is_unchanged_by_the_window_api)
{
	const char *why = NULL;
	size_t at = 0;

	/* mg_pickle_inert is the window walk over the whole file */
	ck_assert(mg_pickle_inert((const uint8_t *)"NN", 2, &at, &why));
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(mg_pickle_inert_window((const uint8_t *)"NN", 2, 3,
	                                        &at, &why), -1);
	ck_assert(!mg_pickle_inert((const uint8_t *)"N.", 2, &at, &why));
	ck_assert(mg_pickle_inert((const uint8_t *)".", 1, &at, &why));
}
END_TEST

static Suite *
candidate_suite(void)
{
	Suite *s = suite_create("candidate");
	TCase *yes = tcase_create("candidates");
	TCase *no = tcase_create("not candidates");
	TCase *win = tcase_create("window");

	tcase_add_test(yes, test_pickles_of_every_protocol_are_candidates);
	tcase_add_test(yes, test_containers_and_databases_are_candidates);
	tcase_add_test(yes, test_compression_magics_are_compressed);
	suite_add_tcase(s, yes);
	tcase_add_test(no, test_text_data_and_images_are_not_candidates);
	tcase_add_test(no,
	               test_text_starting_with_opcode_letters_is_not_a_candidate);
	tcase_add_test(no, test_binary_data_is_not_a_candidate);
	tcase_add_test(no, test_guarded_walk_stops_at_names_the_guard_refuses);
	suite_add_tcase(s, no);
	tcase_add_test(win, test_a_window_too_short_to_tell_is_a_candidate);
	tcase_add_test(win, test_magic_mode_does_not_walk);
	tcase_add_test(win, test_whole_file_walk_is_unchanged_by_the_window_api);
	suite_add_tcase(s, win);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(candidate_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
