/*
 * check_policy.c - the policy file (every error class, with its line),
 * layering and the lock (including a user file trying to weaken a locked
 * system policy), packs on and off, and the settings the preload reads.
 *
 * Files are written to a private temporary directory; the system policy
 * path points there too (mg_policy_set_system_path), never at /etc.
 * These tests run as root in CI; the ownership tests chown to 65534.
 */
#include <check.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../policy/policy.h"
#include "../../policy/policy_int.h"
#include "../../scanner/pickle.h"

static char dir[256];

/* Write @text to dir/@name (mode 0644, root-owned) and return its path. */
static const char *
put(const char *name, const char *text)
{
	static char path[4][512];
	static int slot;
	char *p = path[slot++ % 4];
	FILE *f;

	snprintf(p, 512, "%s/%s", dir, name);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	chmod(p, 0644);
	return p;
}

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_policy.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* No system policy unless a test writes one. */
	mg_policy_set_system_path(put("nosys.conf", ""));
	unlink(mg_policy_system_path());
}

static void
teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	mg_policy_set_system_path(NULL);
}

/* Load with user file @text; returns the error and fills @err. */
static enum mg_err
load_text(const char *text, struct mg_policy **p, char *err, size_t len)
{
	return mg_policy_load_effective(put("user.conf", text), 0, p, err,
	                                len);
}

/* Expect @text to fail with "user.conf:@line: " and @what in the message. */
static void
expect_error(const char *text, int line, const char *what)
{
	struct mg_policy *p = NULL;
	char err[1024], want[64];

	ck_assert_int_eq(load_text(text, &p, err, sizeof(err)), MG_ERR_PARSE);
	ck_assert_ptr_null(p);
	snprintf(want, sizeof(want), "user.conf:%d: ", line);
	ck_assert_msg(strstr(err, want) != NULL, "'%s' lacks '%s'", err, want);
	ck_assert_msg(strstr(err, what) != NULL, "'%s' lacks '%s'", err, what);
}

/* --- parsing ------------------------------------------------------------ */

START_TEST(test_policy_rejects_unknown_key_with_line)
{
	expect_error("[globals]\n# c\n\nalow = a:b\n", 4,
	             "unknown key 'alow' in [globals]");
}
END_TEST

START_TEST(test_policy_rejects_unknown_section_even_empty)
{
	expect_error("[actions]\nclean = allow\n[acitons]\n", 3,
	             "unknown section [acitons]");
}
END_TEST

START_TEST(test_policy_rejects_bad_values)
{
	expect_error("[actions]\nunknown = maybe\n", 2, "bad value 'maybe'");
	expect_error("[policy]\nsniff = perhaps\n", 2, "bad value 'perhaps'");
	expect_error("[policy]\nextensions = pt\n", 2, "bad extension 'pt'");
	expect_error("[policy]\nlog_file = rel/log\n", 2, "absolute path");
	expect_error("[policy]\nprocesses = /usr/bin/python3\n", 2,
	             "not a path");
	expect_error("[sandbox]\nreadonly_paths = /usr, etc\n", 2,
	             "not an absolute path");
}
END_TEST

START_TEST(test_policy_rejects_duplicate_key_naming_first)
{
	expect_error("[actions]\nclean = allow\n\n[actions]\nclean = deny\n",
	             5, "duplicate key 'clean' in [actions] (first set on "
	             "line 2)");
}
END_TEST

START_TEST(test_policy_rejects_syntax_and_stray_keys)
{
	expect_error("[actions]\nclean allow\n", 2, "syntax error");
	expect_error("clean = allow\n", 1, "outside a section");
	expect_error("[actions\nclean = allow\n", 1, "syntax error");
}
END_TEST

START_TEST(test_policy_rejects_bad_globals)
{
	expect_error("[globals]\nallow = torch.nn.Linear\n", 2, "bad global");
	expect_error("[globals]\nallow = a:b:c\n", 2, "bad global");
	expect_error("[globals]\nallow = 1mod:X\n", 2, "bad global");
	expect_error("[globals]\nallow = mymod:__reduce__\n", 2, "dunder");
	expect_error("[globals]\nallow = mymod.__init__:X\n", 2, "dunder");
	expect_error("[globals]\ndeny = os\n", 2, "bad global");
}
END_TEST

START_TEST(test_policy_cannot_allow_an_embedded_denied_global)
{
	expect_error("[globals]\nallow = builtins:eval\n", 2,
	             "embedded deny-list");
}
END_TEST

START_TEST(test_policy_rejects_unknown_pack_and_wrong_version)
{
	expect_error("[globals]\npacks = torch, tensorflow\n", 2,
	             "unknown pack 'tensorflow'");
	expect_error("[globals]\npacks = sklearn@0.1\n", 2, "version");
}
END_TEST

START_TEST(test_policy_rejects_overlong_line)
{
	char text[600];

	snprintf(text, sizeof(text), "[globals]\nallow = %0400d\n", 0);
	expect_error(text, 2, "longer than");
}
END_TEST

START_TEST(test_policy_continuation_lines_extend_lists_only)
{
	struct mg_policy *p = NULL;
	char err[512];

	ck_assert_int_eq(load_text("[globals]\nallow = a.b:C,\n    d.e:F\n"
	                           "\tg:H\n", &p, err, sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_classify(p, "d.e", "F", NULL),
	                 MG_GLOBAL_ALLOWED);
	ck_assert_int_eq(mg_policy_classify(p, "g", "H", NULL),
	                 MG_GLOBAL_ALLOWED);
	mg_policy_free(p);
	expect_error("[actions]\nclean = allow\n  deny\n", 3,
	             "takes one value");
	/* an indented first key of a section is a key, not a continuation */
	ck_assert_int_eq(load_text("[actions]\n  clean = audit\n", &p, err,
	                           sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_action(p, MG_VERDICT_CLEAN), MG_ACTION_AUDIT);
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_default_writes_a_file_that_reads_back_equal)
{
	struct mg_policy *d = mg_policy_new_default(), *p = NULL;
	char *a = NULL, *b = NULL, err[512];
	size_t al = 0, bl = 0;
	FILE *f;

	f = open_memstream(&a, &al);
	mg_policy_write(d, f);
	fclose(f);
	ck_assert_int_eq(load_text(a, &p, err, sizeof(err)), MG_OK);
	f = open_memstream(&b, &bl);
	mg_policy_write(p, f);
	fclose(f);
	ck_assert_str_eq(a, b);
	ck_assert_ptr_nonnull(strstr(a, "unknown = sandbox"));
	free(a);
	free(b);
	mg_policy_free(d);
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_missing_user_file_is_io_error)
{
	struct mg_policy *p = NULL;
	char err[512];

	ck_assert_int_eq(mg_policy_load_effective("/nonexistent/x.conf", 0, &p,
	                                          err, sizeof(err)), MG_ERR_IO);
	ck_assert_ptr_null(p);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.conf"));
}
END_TEST

/* --- layering and lock ---------------------------------------------------- */

/* Write a root-owned system policy with mode @mode. */
static void
put_system(const char *text, mode_t mode)
{
	const char *p = put("system.conf", text);

	chmod(p, mode);
	mg_policy_set_system_path(p);
}

START_TEST(test_policy_user_overrides_unlocked_system)
{
	struct mg_policy *p = NULL;
	char err[512];

	put_system("[actions]\nunknown = deny\n", 0644);
	ck_assert_int_eq(load_text("[actions]\nunknown = audit\n", &p, err,
	                           sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_action(p, MG_VERDICT_UNKNOWN),
	                 MG_ACTION_AUDIT);
	ck_assert_int_eq(mg_policy_locked(p), 0);
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_locked_system_ignores_weakening_user_file)
{
	struct mg_policy *p = NULL;
	char err[512];

	put_system("[policy]\nlocked = yes\n[globals]\ndeny = evil.mod:*\n",
	           0644);
	ck_assert_int_eq(load_text("[actions]\ndangerous = allow\n"
	                           "unknown = allow\nerror = audit\n"
	                           "[globals]\nallow = team.models:Net\n"
	                           "[sandbox]\ndry_run = yes\n", &p, err,
	                           sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_locked(p), 1);
	ck_assert_int_eq(mg_policy_action(p, MG_VERDICT_DANGEROUS),
	                 MG_ACTION_DENY);
	ck_assert_int_eq(mg_policy_action(p, MG_VERDICT_UNKNOWN),
	                 MG_ACTION_SANDBOX);
	ck_assert_int_eq(mg_policy_action(p, MG_VERDICT_ERROR), MG_ACTION_DENY);
	ck_assert_int_eq(mg_policy_classify(p, "team.models", "Net", NULL),
	                 MG_GLOBAL_UNKNOWN);
	ck_assert_int_eq(mg_policy_sandbox(p)->dry_run, 0);
	ck_assert_int_eq(mg_policy_classify(p, "evil.mod.sub", "f", NULL),
	                 MG_GLOBAL_DENIED);
	mg_policy_free(p);
}
END_TEST

/* [guard] find_class: deny by default, a user may turn it to audit or
 * off unlocked; locked, it only moves toward deny; bad values name the
 * line; `policy show` writes it back. */
START_TEST(test_policy_guard_defaults_to_deny_and_user_may_lower_unlocked)
{
	struct mg_policy *p = mg_policy_new_default();
	char err[512];

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(mg_policy_guard(p), MG_GUARD_DENY);
	mg_policy_free(p);
	p = NULL;
	ck_assert_int_eq(load_text("[guard]\nfind_class = off\n", &p, err,
	                           sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_guard(p), MG_GUARD_OFF);
	mg_policy_free(p);
	p = NULL;
	ck_assert_int_eq(load_text("[guard]\nfind_class = audit\n", &p, err,
	                           sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_guard(p), MG_GUARD_AUDIT);
	mg_policy_free(p);
	expect_error("[guard]\nfind_class = maybe\n", 2,
	             "bad value 'maybe' for 'find_class' (deny, audit or off)");
	expect_error("[guard]\nfind_klass = off\n", 2,
	             "unknown key 'find_klass' in [guard]");
}
END_TEST

START_TEST(test_policy_locked_system_keeps_guard_from_lowering)
{
	struct mg_policy *p = NULL;
	char err[512];

	put_system("[policy]\nlocked = yes\n", 0644);
	ck_assert_int_eq(load_text("[guard]\nfind_class = off\n", &p, err,
	                           sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_locked(p), 1);
	ck_assert_int_eq(mg_policy_guard(p), MG_GUARD_DENY);
	mg_policy_free(p);
	p = NULL;
	/* An administrator's audit may be raised by a user, not lowered. */
	put_system("[policy]\nlocked = yes\n[guard]\nfind_class = audit\n",
	           0644);
	ck_assert_int_eq(load_text("[guard]\nfind_class = off\n", &p, err,
	                           sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_guard(p), MG_GUARD_AUDIT);
	mg_policy_free(p);
	p = NULL;
	ck_assert_int_eq(load_text("[guard]\nfind_class = deny\n", &p, err,
	                           sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_guard(p), MG_GUARD_DENY);
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_show_writes_guard_back)
{
	struct mg_policy *p = NULL, *q = NULL;
	char err[512], *buf = NULL;
	size_t len = 0;
	FILE *f;

	ck_assert_int_eq(load_text("[guard]\nfind_class = audit\n", &p, err,
	                           sizeof(err)), MG_OK);
	f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	mg_policy_write(p, f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "[guard]\nfind_class = audit\n"));
	ck_assert_int_eq(mg_policy_parse_text("shown", buf, len, &q, err,
	                                      sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_guard(q), MG_GUARD_AUDIT);
	free(buf);
	mg_policy_free(p);
	mg_policy_free(q);
}
END_TEST

START_TEST(test_policy_locked_system_accepts_stricter_user_file)
{
	struct mg_policy *p = NULL;
	char err[512];

	put_system("[policy]\nlocked = yes\n[globals]\npacks = torch, numpy, "
	           "sklearn\n", 0644);
	ck_assert_int_eq(load_text("[actions]\nunknown = deny\nclean = audit\n"
	                           "[globals]\ndeny = mine:*\npacks = numpy, "
	                           "sklearn\n[sandbox]\ndeny_exec = yes\n"
	                           "[policy]\nprocesses = jupyter*\n", &p, err,
	                           sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_action(p, MG_VERDICT_UNKNOWN),
	                 MG_ACTION_DENY);
	ck_assert_int_eq(mg_policy_action(p, MG_VERDICT_CLEAN),
	                 MG_ACTION_AUDIT);
	ck_assert_int_eq(mg_policy_classify(p, "mine", "x", NULL),
	                 MG_GLOBAL_DENIED);
	ck_assert_int_eq(mg_policy_sandbox(p)->deny_exec, 1);
	/* processes only grow under the lock: python stays covered */
	ck_assert_int_eq(mg_policy_acts_in(p, "/usr/bin/python3"), 1);
	ck_assert_int_eq(mg_policy_acts_in(p, "/usr/bin/jupyter-lab"), 1);
	/* packs only shrink: torch's extras are gone, sklearn's stay */
	ck_assert_int_eq(mg_policy_classify(p, "argparse", "Namespace", NULL),
	                 MG_GLOBAL_UNKNOWN);
	ck_assert_int_eq(mg_policy_classify(p, "sklearn.linear_model._logistic",
	                                    "LogisticRegression", NULL),
	                 MG_GLOBAL_ALLOWED);
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_refuses_unsafe_system_file_and_locks_default)
{
	struct mg_policy *p = NULL;
	char err[512];

	put_system("[actions]\ndangerous = allow\n", 0664);
	ck_assert_int_eq(load_text("[actions]\nerror = allow\n", &p, err,
	                           sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_action(p, MG_VERDICT_DANGEROUS),
	                 MG_ACTION_DENY);
	ck_assert_int_eq(mg_policy_action(p, MG_VERDICT_ERROR), MG_ACTION_DENY);
	ck_assert_int_eq(mg_policy_locked(p), 1);
	mg_policy_free(p);

	put_system("[actions]\ndangerous = allow\n", 0644);
	ck_assert_int_eq(chown(mg_policy_system_path(), 65534, 65534), 0);
	ck_assert_int_eq(mg_policy_load_effective(NULL, 0, &p, err,
	                                          sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_action(p, MG_VERDICT_DANGEROUS),
	                 MG_ACTION_DENY);
	ck_assert_ptr_nonnull(strstr(err, "root-owned"));
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_broken_system_file_locks_default)
{
	struct mg_policy *p = NULL;
	char err[512];

	put_system("[actions]\nclean = alow\n", 0644);
	ck_assert_int_eq(load_text("[actions]\ndangerous = allow\n", &p, err,
	                           sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_action(p, MG_VERDICT_DANGEROUS),
	                 MG_ACTION_DENY);
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_secure_ignores_user_path)
{
	struct mg_policy *p = NULL;
	char err[512];
	const char *u = put("u.conf", "[actions]\ndangerous = allow\n");

	ck_assert_int_eq(mg_policy_load_effective(u, 1, &p, err, sizeof(err)),
	                 MG_OK);
	ck_assert_int_eq(mg_policy_action(p, MG_VERDICT_DANGEROUS),
	                 MG_ACTION_DENY);
	mg_policy_free(p);
	ck_assert_int_eq(mg_policy_load_effective(u, 0, &p, err, sizeof(err)),
	                 MG_OK);
	ck_assert_int_eq(mg_policy_action(p, MG_VERDICT_DANGEROUS),
	                 MG_ACTION_ALLOW);
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_lock_attempt_is_logged)
{
	struct mg_policy *p = NULL;
	char err[512], path[512], buf[1024] = "";
	FILE *f;

	snprintf(path, sizeof(path), "[policy]\nlocked = yes\nlog_file = "
	         "%s/audit.log\n", dir);
	put_system(path, 0644);
	ck_assert_int_eq(load_text("[actions]\n\ndangerous = allow\n", &p, err,
	                           sizeof(err)), MG_OK);
	mg_policy_free(p);
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "\"event\":\"policy.locked\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"key\":\"dangerous\",\"line\":3"));
}
END_TEST

/* --- packs and classification ---------------------------------------------- */

START_TEST(test_policy_sklearn_pack_on_by_default_off_by_name)
{
	struct mg_policy *p = NULL;
	char err[512];

	/* On by default since the packs were checked against scikit-learn
	 * 1.2 and 1.9 output (policy/packs/README.md); a policy that names
	 * its packs without it leaves estimators unknown. */
	ck_assert_int_eq(mg_policy_load_effective(NULL, 0, &p, err,
	                                          sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_classify(p, "sklearn.linear_model._logistic",
	                                    "LogisticRegression", NULL),
	                 MG_GLOBAL_ALLOWED);
	mg_policy_free(p);
	ck_assert_int_eq(load_text("[globals]\npacks = torch, numpy\n", &p, err,
	                           sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_classify(p, "sklearn.linear_model._logistic",
	                                    "LogisticRegression", NULL),
	                 MG_GLOBAL_UNKNOWN);
	mg_policy_free(p);
	ck_assert_int_eq(load_text("[globals]\npacks = torch, numpy, "
	                           "sklearn@1.2.1+1.9.1\n", &p, err, sizeof(err)),
	                 MG_OK);
	ck_assert_int_eq(mg_policy_classify(p, "sklearn.linear_model._logistic",
	                                    "LogisticRegression", NULL),
	                 MG_GLOBAL_ALLOWED);
	ck_assert_int_eq(mg_policy_classify(p, "sklearn.ensemble._forest",
	                                    "RandomForestClassifier", NULL),
	                 MG_GLOBAL_ALLOWED);
	ck_assert_int_eq(mg_policy_classify(p, "sklearn.linear_model._logistic",
	                                    "LogisticRegressio", NULL),
	                 MG_GLOBAL_UNKNOWN);
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_rebuild_only_pack_entries_are_their_own_class)
{
	struct mg_policy *p = mg_policy_new_default();
	char err[512];

	/* The transformers pack lists them with ' rebuild'. */
	ck_assert_int_eq(mg_policy_classify(p, "transformers.training_args",
	                                    "TrainingArguments", NULL),
	                 MG_GLOBAL_REBUILD);
	ck_assert_int_eq(mg_policy_classify(p, "accelerate.state",
	                                    "PartialState", NULL),
	                 MG_GLOBAL_REBUILD);
	/* Exact pairs only: another name of the module is not covered. */
	ck_assert_int_eq(mg_policy_classify(p, "accelerate.state",
	                                    "AcceleratorState", NULL),
	                 MG_GLOBAL_UNKNOWN);
	ck_assert_int_eq(mg_policy_classify(p, "transformers.training_args",
	                                    "TrainingArguments.__init__",
	                                    NULL), MG_GLOBAL_DENIED);
	mg_policy_free(p);
	/* Pack off: unknown; the policy's own allow line beats
	 * rebuild-only; its deny beats both. */
	ck_assert_int_eq(load_text("[globals]\npacks = torch, numpy\n", &p, err,
	                           sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_classify(p, "transformers.training_args",
	                                    "TrainingArguments", NULL),
	                 MG_GLOBAL_UNKNOWN);
	mg_policy_free(p);
	ck_assert_int_eq(load_text("[globals]\nallow = transformers.training_args:"
	                           "TrainingArguments\n", &p, err, sizeof(err)),
	                 MG_OK);
	ck_assert_int_eq(mg_policy_classify(p, "transformers.training_args",
	                                    "TrainingArguments", NULL),
	                 MG_GLOBAL_ALLOWED);
	mg_policy_free(p);
	ck_assert_int_eq(load_text("[globals]\ndeny = accelerate.state:*\n", &p,
	                           err, sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_classify(p, "accelerate.state",
	                                    "PartialState", NULL),
	                 MG_GLOBAL_DENIED);
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_enum_members_are_exact_dotted_pack_entries)
{
	struct mg_policy *p = mg_policy_new_default();
	const char *cat = NULL;

	/* Packs list enum members as Class.MEMBER and the classifier
	 * takes such an exact dotted pair (the built-in allow table does
	 * not: a dotted name is another object than its last part). */
	ck_assert_int_eq(mg_policy_classify(p, "transformers.trainer_utils",
	                                    "HubStrategy.ALL_CHECKPOINTS",
	                                    NULL), MG_GLOBAL_ALLOWED);
	ck_assert_int_eq(mg_policy_classify(p,
	    "torch.distributed.checkpoint.metadata",
	    "_MEM_FORMAT_ENCODING.TORCH_CONTIGUOUS_FORMAT", NULL),
	    MG_GLOBAL_ALLOWED);
	ck_assert_int_eq(mg_policy_classify(p, "transformers.trainer_utils",
	                                    "HubStrategy.NOT_A_MEMBER", NULL),
	                 MG_GLOBAL_UNKNOWN);
	ck_assert_int_eq(mg_policy_classify(p, "transformers.trainer_utils",
	                                    "HubStrategy.ALL_CHECKPOINTS.x",
	                                    NULL), MG_GLOBAL_UNKNOWN);
	/* getattr itself stays denied. */
	ck_assert_int_eq(mg_policy_classify(p, "builtins", "getattr", &cat),
	                 MG_GLOBAL_DENIED);
	mg_policy_free(p);
}
END_TEST

/* Scan @len bytes at @b with the default policy; the caller frees. */
static struct mg_report *
scan_default(const struct mg_policy *p, const char *b, size_t len)
{
	struct mg_scan_opts o;
	struct mg_report *r = mg_report_new();

	ck_assert_ptr_nonnull(r);
	mg_scan_opts_default(&o);
	o.classifier = mg_policy_classifier(p);
	ck_assert_int_eq(mg_pickle_scan_all(&o, NULL, (const uint8_t *)b, len,
	                                    NULL, 0, r), MG_OK);
	return r;
}

#define TA "\x80\x02" "ctransformers.training_args\nTrainingArguments\n"

START_TEST(test_policy_rebuild_only_entry_rebuilt_is_clean_called_is_not)
{
	/* What torch.save(TrainingArguments) writes: NEWOBJ(), BUILD. */
	static const char rebuilt[] = TA ")\x81}X\x0a\x00\x00\x00"
	                              "output_dirX\x01\x00\x00\x00xsb.";
	static const char called[] = TA "}X\x0a\x00\x00\x00output_dir"
	                             "X\x01\x00\x00\x00xs\x85R.";
	struct mg_policy *p = mg_policy_new_default();
	struct mg_report *r;

	r = scan_default(p, rebuilt, sizeof(rebuilt) - 1);
	ck_assert_msg(r->verdict == MG_VERDICT_CLEAN, "%s",
	              r->nfindings ? r->findings[0].message : "");
	ck_assert_int_eq(mg_policy_report_action(p, r), MG_ACTION_ALLOW);
	mg_report_free(r);
	r = scan_default(p, called, sizeof(called) - 1);
	ck_assert_int_eq(r->verdict, MG_VERDICT_UNKNOWN_CALL);
	ck_assert_str_eq(r->findings[0].rule, "pickle.call.unknown");
	ck_assert_ptr_nonnull(strstr(r->findings[0].message,
	                             "may be rebuilt but not called"));
	ck_assert_int_eq(mg_policy_report_action(p, r), MG_ACTION_DENY);
	mg_report_free(r);
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_packs_off_leaves_torch_extras_unknown)
{
	struct mg_policy *p = NULL;
	char err[512];

	ck_assert_int_eq(load_text("[globals]\npacks =\n", &p, err,
	                           sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_classify(p, "argparse", "Namespace", NULL),
	                 MG_GLOBAL_UNKNOWN);
	mg_policy_free(p);
	p = mg_policy_new_default();
	ck_assert_int_eq(mg_policy_classify(p, "argparse", "Namespace", NULL),
	                 MG_GLOBAL_ALLOWED);
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_deny_beats_allow_and_packs)
{
	struct mg_policy *p = NULL;
	const char *cat = NULL;
	char err[512];

	ck_assert_int_eq(load_text("[globals]\nallow = team.m:Net\n"
	                           "deny = team.m:Net, argparse:*\n", &p, err,
	                           sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_classify(p, "team.m", "Net", &cat),
	                 MG_GLOBAL_DENIED);
	ck_assert_str_eq(cat, "denied by policy");
	ck_assert_int_eq(mg_policy_classify(p, "argparse", "Namespace", NULL),
	                 MG_GLOBAL_DENIED);
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_wildcard_allow_is_exact_module_never_dunder)
{
	struct mg_policy *p = NULL;
	char err[512];

	ck_assert_int_eq(load_text("[globals]\nallow = team.models:*\n", &p,
	                           err, sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_classify(p, "team.models", "Net", NULL),
	                 MG_GLOBAL_ALLOWED);
	/* never allowed (the embedded tables may even deny them) */
	ck_assert_int_ne(mg_policy_classify(p, "team.models", "__reduce__",
	                                    NULL), MG_GLOBAL_ALLOWED);
	ck_assert_int_ne(mg_policy_classify(p, "team.models", "A.__init__",
	                                    NULL), MG_GLOBAL_ALLOWED);
	ck_assert_int_eq(mg_policy_classify(p, "team.models.sub", "Net", NULL),
	                 MG_GLOBAL_UNKNOWN);
	ck_assert_int_eq(mg_policy_classify(p, "team.modelsx", "Net", NULL),
	                 MG_GLOBAL_UNKNOWN);
	/* a hostile module name holding ':' never matches an entry */
	ck_assert_int_eq(mg_policy_classify(p, "team.models:Net", "x", NULL),
	                 MG_GLOBAL_UNKNOWN);
	mg_policy_free(p);
}
END_TEST

/* --- settings --------------------------------------------------------------- */

START_TEST(test_policy_default_acts_in_python_only)
{
	struct mg_policy *p = mg_policy_new_default();

	ck_assert_int_eq(mg_policy_acts_in(p, "/usr/bin/python3.11"), 1);
	ck_assert_int_eq(mg_policy_acts_in(p, "/usr/bin/bash"), 0);
	ck_assert_int_eq(mg_policy_model_ext(p, "/m/x.PT"), 1);
	ck_assert_int_eq(mg_policy_model_ext(p, "/m/x.py"), 0);
	ck_assert_int_eq(mg_policy_sniff(p), 1);
	ck_assert_ptr_null(mg_policy_log_file(p));
	ck_assert_ptr_null(mg_policy_sandbox(p)->readonly_paths);
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_file_sets_every_preload_setting)
{
	struct mg_policy *p = NULL;
	char err[512];

	ck_assert_int_eq(load_text("[policy]\nprocesses = *\nextensions = .onnx"
	                           "\nsniff = no\nlog_file = /var/log/mg.log\n"
	                           "syslog = yes\n[sandbox]\ndeny_exec = yes\n"
	                           "dry_run = yes\nreadonly_paths = /usr, /etc"
	                           "\n", &p, err, sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_acts_in(p, "/bin/bash"), 1);
	ck_assert_int_eq(mg_policy_model_ext(p, "a.onnx"), 1);
	ck_assert_int_eq(mg_policy_model_ext(p, "a.pt"), 0);
	ck_assert_int_eq(mg_policy_sniff(p), 0);
	ck_assert_str_eq(mg_policy_log_file(p), "/var/log/mg.log");
	ck_assert_int_eq(mg_policy_log_syslog(p), 1);
	ck_assert_int_eq(mg_policy_sandbox(p)->deny_exec, 1);
	ck_assert_int_eq(mg_policy_sandbox(p)->dry_run, 1);
	ck_assert_str_eq(mg_policy_sandbox(p)->readonly_paths[1], "/etc");
	ck_assert_ptr_null(mg_policy_sandbox(p)->readonly_paths[2]);
	mg_policy_free(p);
}
END_TEST

/* --- unknown calls: their own action ---------------------------------------- */

START_TEST(test_policy_unknown_call_is_denied_by_default_and_settable)
{
	struct mg_policy *d = mg_policy_new_default(), *p = NULL;
	char *a = NULL, err[512];
	size_t al = 0;
	FILE *f;

	ck_assert_int_eq(mg_policy_action(d, MG_VERDICT_UNKNOWN_CALL),
	                 MG_ACTION_DENY);
	ck_assert_int_eq(mg_policy_action(d, MG_VERDICT_UNKNOWN),
	                 MG_ACTION_SANDBOX);
	f = open_memstream(&a, &al);
	mg_policy_write(d, f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(a, "\nunknown_call = deny\n"));
	free(a);
	ck_assert_int_eq(load_text("[actions]\nunknown_call = sandbox\n", &p,
	                           err, sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_action(p, MG_VERDICT_UNKNOWN_CALL),
	                 MG_ACTION_SANDBOX);
	ck_assert_int_eq(mg_policy_action(p, MG_VERDICT_ERROR), MG_ACTION_DENY);
	mg_policy_free(p);
	mg_policy_free(d);
	expect_error("[actions]\nunknown_call = maybe\n", 2,
	             "bad value 'maybe' for 'unknown_call'");
	expect_error("[actions]\nunknown_call = deny\nunknown_call = deny\n", 3,
	             "duplicate key 'unknown_call'");
}
END_TEST

START_TEST(test_policy_locked_system_keeps_unknown_call_from_weakening)
{
	struct mg_policy *p = NULL;
	char err[512];

	put_system("[policy]\nlocked = yes\n[actions]\nunknown_call = "
	           "sandbox\n", 0644);
	ck_assert_int_eq(load_text("[actions]\nunknown_call = audit\n", &p,
	                           err, sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_action(p, MG_VERDICT_UNKNOWN_CALL),
	                 MG_ACTION_SANDBOX);
	mg_policy_free(p);
	ck_assert_int_eq(load_text("[actions]\nunknown_call = deny\n", &p,
	                           err, sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_action(p, MG_VERDICT_UNKNOWN_CALL),
	                 MG_ACTION_DENY);
	mg_policy_free(p);
	/* the embedded default's deny cannot be lowered under a lock */
	put_system("[policy]\nlocked = yes\n", 0644);
	ck_assert_int_eq(load_text("[actions]\nunknown_call = allow\n", &p,
	                           err, sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_action(p, MG_VERDICT_UNKNOWN_CALL),
	                 MG_ACTION_DENY);
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_report_action_counts_every_class_of_finding)
{
	struct mg_policy *p = NULL;
	struct mg_report *r = mg_report_new();
	char err[512];

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(load_text("[actions]\nerror = sandbox\n", &p, err,
	                           sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_report_add(r, MG_VERDICT_UNKNOWN,
	                               "pickle.global.unknown", "a b", NULL, 0,
	                               "x"), MG_OK);
	ck_assert_int_eq(mg_policy_report_action(p, r), MG_ACTION_SANDBOX);
	ck_assert_int_eq(mg_report_add(r, MG_VERDICT_UNKNOWN_CALL,
	                               "pickle.call.unknown", "a b", NULL, 0,
	                               "x"), MG_OK);
	ck_assert_int_eq(mg_policy_report_action(p, r), MG_ACTION_DENY);
	/* bytes the analyser cannot parse after the call: verdict error
	 * (sandbox here), but the call's deny still counts */
	ck_assert_int_eq(mg_report_add(r, MG_VERDICT_ERROR, "pickle.malformed",
	                               NULL, NULL, 0, "x"), MG_OK);
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	ck_assert_int_eq(mg_policy_action(p, r->verdict), MG_ACTION_SANDBOX);
	ck_assert_int_eq(mg_policy_report_action(p, r), MG_ACTION_DENY);
	ck_assert_int_eq(mg_policy_report_action(NULL, r), MG_ACTION_DENY);
	mg_report_free(r);
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_every_class_survives_the_findings_cap)
{
	struct mg_report *r = mg_report_new();
	size_t i, calls = 0;

	ck_assert_ptr_nonnull(r);
	for (i = 0; i < MG_REPORT_MAX_FINDINGS + 10; i++)
		ck_assert_int_eq(mg_report_add(r, MG_VERDICT_UNKNOWN, "u", NULL,
		                               NULL, 0, "x"), MG_OK);
	ck_assert_int_eq(mg_report_add(r, MG_VERDICT_UNKNOWN_CALL, "c", NULL,
	                               NULL, 0, "x"), MG_OK);
	ck_assert_int_eq(mg_report_add(r, MG_VERDICT_UNKNOWN_CALL, "c", NULL,
	                               NULL, 0, "x"), MG_OK);
	for (i = 0; i < r->nfindings; i++)
		calls += r->findings[i].verdict == MG_VERDICT_UNKNOWN_CALL;
	/* one stored (a merge into another report copies it), one counted */
	ck_assert_uint_eq(calls, 1);
	ck_assert_uint_eq(r->dropped, 11);
	mg_report_free(r);
}
END_TEST

/* --- notes: a sink, or stderr -------------------------------------------- */

/* What a test sink saw. */
struct seen {
	int n;
	enum mg_note_kind kind[8];
	char text[8][1024], file[8][512], key[8][32], log[8][512];
	int line[8];
};

static void
keep(void *ctx, const struct mg_note *n)
{
	struct seen *s = ctx;
	int i = s->n++;

	if (i >= 8)
		return;
	s->kind[i] = n->kind;
	s->line[i] = n->line;
	snprintf(s->text[i], sizeof(s->text[i]), "%s", n->text);
	snprintf(s->file[i], sizeof(s->file[i]), "%s", n->file);
	snprintf(s->key[i], sizeof(s->key[i]), "%s", n->key ? n->key : "");
	snprintf(s->log[i], sizeof(s->log[i]), "%s",
	         n->log_file ? n->log_file : "");
}

/* Point stderr at dir/stderr.txt; returns the saved descriptor. */
static int
catch_stderr(void)
{
	char path[512];
	int saved = dup(2), fd;

	snprintf(path, sizeof(path), "%s/stderr.txt", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	dup2(fd, 2);
	close(fd);
	return saved;
}

/* Restore stderr and return what was written to it (static buffer). */
static const char *
caught_stderr(int saved)
{
	static char buf[4096];
	char path[512];
	FILE *f;
	size_t n;

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	snprintf(path, sizeof(path), "%s/stderr.txt", dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

START_TEST(test_policy_sink_gets_each_ignored_setting_and_stderr_nothing)
{
	struct mg_policy *p = NULL;
	struct seen s = { 0 };
	char err[512], sys[600], logp[512];
	const char *u;
	int saved;

	snprintf(logp, sizeof(logp), "%s/audit.log", dir);
	snprintf(sys, sizeof(sys), "[policy]\nlocked = yes\nlog_file = %s\n",
	         logp);
	put_system(sys, 0644);
	u = put("user.conf", "[actions]\ndangerous = allow\n\n[pins]\n"
	        "lockfile = /x.lock\n");
	mg_policy_set_note_sink(keep, &s);
	saved = catch_stderr();
	ck_assert_int_eq(mg_policy_load_effective(u, 0, &p, err, sizeof(err)),
	                 MG_OK);
	ck_assert_str_eq(caught_stderr(saved), "");
	mg_policy_set_note_sink(NULL, NULL);
	ck_assert_int_eq(s.n, 2);
	ck_assert_int_eq(s.kind[0], MG_NOTE_IGNORED);
	ck_assert_str_eq(s.key[0], "dangerous");
	ck_assert_int_eq(s.line[0], 2);
	ck_assert_str_eq(s.file[0], u);
	ck_assert_str_eq(s.log[0], logp);
	ck_assert_ptr_nonnull(strstr(s.text[0], "modelgate: locked system "
	                                        "policy: ignored 'dangerous'"));
	ck_assert_str_eq(s.key[1], "lockfile");
	ck_assert_int_eq(s.line[1], 5);
	/* the sink decides where notes go: nothing was logged here */
	ck_assert_int_ne(access(logp, F_OK), 0);
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_refusal_is_one_note_naming_the_file)
{
	struct mg_policy *p = NULL;
	struct seen s = { 0 };
	char err[512];

	put_system("garbage\n", 0644);
	mg_policy_set_note_sink(keep, &s);
	ck_assert_int_eq(mg_policy_load_effective(NULL, 0, &p, err,
	                                          sizeof(err)), MG_OK);
	mg_policy_set_note_sink(NULL, NULL);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(s.kind[0], MG_NOTE_REFUSED);
	ck_assert_str_eq(s.file[0], mg_policy_system_path());
	ck_assert_msg(strncmp(s.text[0], "modelgate: refusing the system "
	                      "policy: ", 39) == 0, "%s", s.text[0]);
	ck_assert_ptr_nonnull(strstr(s.text[0], mg_policy_system_path()));
	ck_assert_int_eq(mg_policy_locked(p), 1);
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_parse_warning_is_a_note_with_its_line)
{
	struct mg_policy *p = NULL;
	struct seen s = { 0 };
	char err[512];

	mg_policy_set_note_sink(keep, &s);
	ck_assert_int_eq(load_text("[globals]\n\nallow = team.models:*\n", &p,
	                           err, sizeof(err)), MG_OK);
	mg_policy_set_note_sink(NULL, NULL);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(s.kind[0], MG_NOTE_WARNING);
	ck_assert_int_eq(s.line[0], 3);
	ck_assert_ptr_nonnull(strstr(s.text[0], "user.conf:3: warning: "
	                                        "'team.models:*'"));
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_default_sink_prints_notes_on_stderr)
{
	struct mg_policy *p = NULL;
	const char *out;
	char err[512];
	int saved;

	put_system("[policy]\nlocked = yes\n", 0644);
	saved = catch_stderr();
	ck_assert_int_eq(load_text("[actions]\ndangerous = allow\n", &p, err,
	                           sizeof(err)), MG_OK);
	out = caught_stderr(saved);
	ck_assert_ptr_nonnull(strstr(out, "modelgate: locked system policy: "
	                                  "ignored 'dangerous' from "));
	ck_assert_ptr_nonnull(strstr(out, "user.conf:2 (it would weaken"));
	mg_policy_free(p);
	put_system("garbage\n", 0644);
	saved = catch_stderr();
	ck_assert_int_eq(mg_policy_load_effective(NULL, 0, &p, err,
	                                          sizeof(err)), MG_OK);
	out = caught_stderr(saved);
	ck_assert_ptr_nonnull(strstr(out, "modelgate: refusing the system "
	                                  "policy: "));
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_note_json_is_one_line_with_event_key_line_file)
{
	struct mg_note n = { MG_NOTE_IGNORED, "modelgate: said \"so\"",
	                     "/u/p.conf", 7, "allow", NULL };
	char buf[1024];
	size_t len = mg_policy_note_json(&n, buf, sizeof(buf));

	ck_assert_uint_gt(len, 0);
	ck_assert_uint_eq(len, strlen(buf));
	ck_assert_int_eq(buf[len - 1], '\n');
	ck_assert_ptr_null(memchr(buf, '\n', len - 1));
	ck_assert_ptr_nonnull(strstr(buf, "\"event\":\"policy.locked\","
	                                  "\"key\":\"allow\",\"line\":7,"
	                                  "\"file\":\"/u/p.conf\","
	                                  "\"message\":\"said \\\"so\\\"\"}"));
	n.kind = MG_NOTE_REFUSED;
	n.key = NULL;
	ck_assert_uint_gt(mg_policy_note_json(&n, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"event\":\"policy.refused\","
	                                  "\"key\":null"));
	ck_assert_uint_eq(mg_policy_note_json(&n, buf, 40), 0);
}
END_TEST

START_TEST(test_policy_parse_text_keeps_the_lock_and_names_the_file)
{
	struct mg_policy *p = NULL;
	char err[512];
	const char text[] = "[policy]\nlocked = yes\n[actions]\n"
	                    "unknown = deny\n";

	ck_assert_int_eq(mg_policy_parse_text("host.conf", text,
	                                      sizeof(text) - 1, &p, err,
	                                      sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_locked(p), 1);
	ck_assert_int_eq(mg_policy_action(p, MG_VERDICT_UNKNOWN),
	                 MG_ACTION_DENY);
	mg_policy_free(p);
	ck_assert_int_eq(mg_policy_parse_text("host.conf", "", 0, &p, err,
	                                      sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_locked(p), 0);
	mg_policy_free(p);
	ck_assert_int_eq(mg_policy_parse_text("host.conf", "[policy]\nlockd = "
	                                      "yes\n", 20, &p, err,
	                                      sizeof(err)), MG_ERR_PARSE);
	ck_assert_ptr_null(p);
	ck_assert_ptr_nonnull(strstr(err, "host.conf:2: unknown key 'lockd'"));
}
END_TEST

/* The reference mg_policy_model_ext_n must agree with: a case-blind
 * suffix compare against every entry, with no filter. */
static int
naive_model_ext(const char *const *exts, size_t nexts, const char *path)
{
	size_t n = strlen(path), e, i;

	for (i = 0; i < nexts; i++) {
		e = strlen(exts[i]);
		if (n > e && strcasecmp(path + n - e, exts[i]) == 0)
			return 1;
	}
	return 0;
}

START_TEST(test_policy_model_ext_keys_agree_with_a_plain_suffix_compare)
{
	static const char *const names[] = {
		"a.pt", "A.PT", "x/y.Pt", "model.safetensors",
		"m.SafeTensors", "m.safetensor", "x.pkl.gz", "x.PKL.GZ", "x.gz",
		"notes.txt", "t.TXT", "weights", "mymodel", "model", "dir.pt/x",
		"x.", "a.x.", ".pt", "a.verylongextension",
		"a.verylongextensioN", "b.verylongextensiox", "p.pkl",
		"q.pickle", "q.pickles", "r.7z", "d/x.tar.gz", "abc", "x.bin",
		"x.binx", NULL
	};
	/* The default; entries that are long, multi-dot, upper-case or have
	 * no extension of their own (".x." ends in an empty one); and more
	 * entries than the key table holds (the unfiltered path). */
	static const char *const texts[] = {
		"",
		"[policy]\nextensions = .pt, .txt, .pkl.gz, .VeryLongExtension, "
		".x., .7Z, .safetensors\n",
		"[policy]\nextensions = .pt, .txt, .pkl.gz, .VeryLongExtension, "
		".x., .7Z, .e1, .e2, .e3, .e4, .e5, .e6, .e7, .e8, .e9, .e10,\n"
		"  .e11, .e12, .e13, .e14, .e15, .e16, .e17, .e18, .e19, .e20, "
		".e21, .e22, .e23, .e24, .e25, .e26, .e27, .e28, .e29, .e30\n",
	};
	struct mg_policy *p;
	char err[256];
	size_t i, k;

	for (k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
		ck_assert_msg(mg_policy_parse_text("exts.conf", texts[k],
		                                   strlen(texts[k]), &p, err,
		                                   sizeof(err)) == MG_OK, "%s", err);
		ck_assert_uint_gt(p->exts.n, 2);
		ck_assert_int_eq(k == 2, p->ext_nkeys != p->exts.n);
		for (i = 0; names[i] != NULL; i++)
			ck_assert_msg(mg_policy_model_ext(p, names[i]) ==
			              naive_model_ext((const char *const *)
			                              p->exts.v, p->exts.n,
			                              names[i]),
			              "policy %zu, %s", k, names[i]);
		/* A length, not the NUL, ends the name. */
		ck_assert(mg_policy_model_ext_n(p, "x.ptGARBAGE", 4));
		ck_assert(!mg_policy_model_ext_n(p, "x.ptGARBAGE", 5));
		mg_policy_free(p);
	}
}
END_TEST

static enum mg_name_class
name_class(const struct mg_policy *p, const char *path)
{
	unsigned flags;

	return mg_policy_name_class(p, path, strlen(path), &flags);
}

/* Every extension of candidate.c's lists, as the name class sees it
 * (the lists are indexed in a hash table: each key must be found, in
 * either case, and nothing else with them). */
START_TEST(test_policy_name_class_every_listed_extension)
{
	struct mg_policy *p = mg_policy_new_default();
	static const char *const code[] = {
		"py", "pyc", "pyo", "pyi", "pyx", "pxd", "pxi", "so", "whl",
		"egg", NULL
	};
	static const char *const data[] = {
		"txt", "md", "rst", "csv", "tsv", "json", "jsonl", "ndjson",
		"yaml", "yml", "toml", "ini", "cfg", "conf", "xml", "html",
		"htm", "css", "js", "svg", "log", "pem", "crt", "png", "jpg",
		"jpeg", "gif", "typed", "lock", "mo", "c", "h", "a", "o", NULL
	};
	static const char *const db[] = { "db", "gdbm", "dbm", "ndbm", NULL };
	static const char *const other[] = {
		"f32", "f64", "bin2", "pyz", "jsonx", "tx", "t", "dbx", "gzip",
		NULL
	};
	char name[64];
	unsigned flags;
	size_t i, k;

	ck_assert_ptr_nonnull(p);
	for (k = 0; k < 2; k++) {
		for (i = 0; code[i] != NULL; i++) {
			snprintf(name, sizeof(name), "/d/x.%s", code[i]);
			if (k)
				for (char *c = name; *c; c++)
					*c = (char)toupper((unsigned char)*c);
			ck_assert_msg(name_class(p, name) == MG_NAME_SKIP, "%s",
			              name);
		}
		for (i = 0; data[i] != NULL; i++) {
			snprintf(name, sizeof(name), "/d/x.%s", data[i]);
			if (k)
				for (char *c = name; *c; c++)
					*c = (char)toupper((unsigned char)*c);
			ck_assert_msg(mg_policy_name_class(p, name, strlen(name),
			                                   &flags) ==
			              MG_NAME_DATA && flags == MG_CONTENT_MAGIC,
			              "%s", name);
		}
	}
	for (i = 0; db[i] != NULL; i++) {
		snprintf(name, sizeof(name), "/d/x.%s", db[i]);
		ck_assert_msg(mg_policy_name_class(p, name, strlen(name),
		                                   &flags) == MG_NAME_OTHER &&
		              flags == MG_CONTENT_AT_OPEN, "%s", name);
	}
	/* Wrappers: a model name inside makes a model, anything else the
	 * content's. */
	static const char *const wrap[] = {
		"gz", "bz2", "xz", "zst", "lz4", "z", "lzma", "tar", NULL
	};
	for (i = 0; wrap[i] != NULL; i++) {
		snprintf(name, sizeof(name), "/d/x.pkl.%s", wrap[i]);
		ck_assert_msg(name_class(p, name) == MG_NAME_MODEL, "%s", name);
		snprintf(name, sizeof(name), "/d/x.csv.%s", wrap[i]);
		ck_assert_msg(mg_policy_name_class(p, name, strlen(name),
		                                   &flags) == MG_NAME_OTHER &&
		              flags == 0, "%s", name);
	}
	for (i = 0; other[i] != NULL; i++) {
		snprintf(name, sizeof(name), "/d/x.%s", other[i]);
		ck_assert_msg(mg_policy_name_class(p, name, strlen(name),
		                                   &flags) == MG_NAME_OTHER &&
		              flags == 0, "%s", name);
	}
	mg_policy_free(p);
}
END_TEST

/*
 * mg_policy_name_late against the class it stands in for: every name it
 * lets wait must get from its last MG_TAIL_LEN bytes (what the preload
 * keeps) the class and flags mg_policy_name_class_lazy gives the whole
 * name, and none may be a model name or one judged at the open.  Names:
 * every listed extension and its neighbours, in both cases, after
 * prefixes short and long (an extension cut by the tail's start), under
 * the default and under policies with odd extensions (data names such as
 * .txt and .c, one ending in a dot, long ones, thirty of them).
 */
/* xorshift: the same names on every run. */
static unsigned
rnd(void)
{
	static unsigned x = 2463534242u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

START_TEST(test_policy_late_names_classify_from_their_tail)
{
	static const char *const exts[] = {
		"py", "pyc", "so", "whl", "txt", "json", "md", "c", "h", "png",
		"db", "gdbm", "dbm", "ndbm", "gz", "bz2", "xz", "zst", "lz4",
		"z", "lzma", "tar", "zip", "dir", "pth", "pt", "pkl", "pickle",
		"bin", "ckpt", "npy", "npz", "joblib", "h5", "keras",
		"safetensors", "f32", "csv", "tx", "t", "dbx", "gzip", "7z",
		"x", "e1", "e30", "e3", "verylongextension", "model", "", NULL
	};
	static const char *const pre[] = {
		"", "x.", "/d/x.", "README", "/d/model", "x.pkl.", "x.csv.",
		"/a/very/long/directory/name/", "/d/0123456789abcdef.",
		"/d/x.0123456789abcd.", "dir.pt/x.", "a.", NULL
	};
	static const char *const texts[] = {
		"",
		"[policy]\nextensions = .pt, .txt, .pkl.gz, .VeryLongExtension, "
		".x., .7Z, .safetensors, .h, .c\n",
		"[policy]\nextensions = .pt, .txt, .pkl.gz, .e1, .e2, .e3, .e4, "
		".e5, .e6, .e7, .e8, .e9, .e10,\n"
		"  .e11, .e12, .e13, .e14, .e15, .e16, .e17, .e18, .e19, .e20, "
		".e21, .e22, .e23, .e24, .e25, .e26, .e27, .e28, .e29, .e30\n",
	};
	struct mg_policy *p;
	char err[256], name[128];
	unsigned flags, tflags;
	enum mg_name_class cls, tcls;
	size_t i, j, k, c, n, late = 0, judged = 0;

	for (k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
		ck_assert_msg(mg_policy_parse_text("late.conf", texts[k],
		                                   strlen(texts[k]), &p, err,
		                                   sizeof(err)) == MG_OK, "%s", err);
		for (i = 0; pre[i] != NULL; i++)
			for (j = 0; exts[j] != NULL; j++)
				for (c = 0; c < 2; c++) {
			snprintf(name, sizeof(name), "%s%s", pre[i], exts[j]);
			if (c)
				for (char *q = name; *q; q++)
					*q = (char)toupper((unsigned char)*q);
			n = strlen(name);
			if (n == 0)
				continue;
			cls = mg_policy_name_class_lazy(p, name, n, &flags);
			if (!mg_policy_name_late(p, name, n)) {
				judged++;
				continue;
			}
			late++;
			ck_assert_msg(cls != MG_NAME_MODEL &&
			              !(flags & MG_CONTENT_AT_OPEN),
			              "policy %zu: %s is late but %d/%u", k, name,
			              (int)cls, flags);
			tcls = mg_policy_tail_class(name + n - (n < MG_TAIL_LEN ?
			                                        n : MG_TAIL_LEN),
			                            n < MG_TAIL_LEN ? n :
			                            MG_TAIL_LEN, &tflags);
			ck_assert_msg(tcls == cls && tflags == flags,
			              "policy %zu: %s: tail %d/%u, name %d/%u", k,
			              name, (int)tcls, tflags, (int)cls, flags);
		}
		/* And names made at random of the pieces that matter. */
		for (i = 0; i < 20000; i++) {
			static const char *const bits[] = {
				".", "/", "a", "Z", "py", "TXT", "gz", "pkl", "db",
				"zip", "dir", "pth", "tar", "x", "0123456789",
				"safetensors", "e3", "pt", "c", "z", "Gz", "pY"
			};
			name[0] = '\0';
			for (j = 0; j < 1 + rnd() % 9; j++)
				strcat(name, bits[rnd() % (sizeof(bits) /
				                            sizeof(bits[0]))]);
			n = strlen(name);
			cls = mg_policy_name_class_lazy(p, name, n, &flags);
			if (!mg_policy_name_late(p, name, n))
				continue;
			late++;
			tcls = mg_policy_tail_class(name + n - (n < MG_TAIL_LEN ?
			                                        n : MG_TAIL_LEN),
			                            n < MG_TAIL_LEN ? n :
			                            MG_TAIL_LEN, &tflags);
			ck_assert_msg(cls != MG_NAME_MODEL &&
			              !(flags & MG_CONTENT_AT_OPEN) &&
			              tcls == cls && tflags == flags,
			              "policy %zu: %s: tail %d/%u, name %d/%u", k,
			              name, (int)tcls, tflags, (int)cls, flags);
		}
		/* What must be judged at the open, and what may wait. */
		ck_assert(!mg_policy_name_late(p, "/d/x.pt", 7));
		ck_assert(!mg_policy_name_late(p, "/d/x.PKL.GZ", 11));
		ck_assert(!mg_policy_name_late(p, "x.csv.Z", 7));
		ck_assert(!mg_policy_name_late(p, "s/bdb.db", 8));
		ck_assert(!mg_policy_name_late(p, "/d/x.dir", 8));
		ck_assert(!mg_policy_name_late(p, "/d/x.zip", 8));
		ck_assert(!mg_policy_name_late(p, "/d/x.pth", 8));
		ck_assert(mg_policy_name_late(p, "/d/x.py", 7));
		ck_assert(mg_policy_name_late(p, "/d/README", 9));
		ck_assert(mg_policy_name_late(p, "/d/vectors.f32", 14));
		ck_assert_int_eq(mg_policy_name_late(p, "/d/notes.txt", 12),
		                 k == 0);
		mg_policy_free(p);
	}
	/* Both answers were given, many times. */
	ck_assert_uint_gt(late, 500);
	ck_assert_uint_gt(judged, 500);
	/* A policy that does not sniff judges no name by its content. */
	ck_assert(mg_policy_parse_text("nosniff.conf", "[policy]\nsniff = no\n",
	                               19, &p, err, sizeof(err)) == MG_OK);
	ck_assert(!mg_policy_name_late(p, "/d/README", 9));
	ck_assert(!mg_policy_name_late(NULL, "/d/README", 9));
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_name_class_code_metadata_data_model_other)
{
	struct mg_policy *p = mg_policy_new_default(), *q;
	const char text[] = "[policy]\nextensions = .txt\n";
	char err[256];
	unsigned flags;
	static const char *const code[] = {
		"/usr/lib/python3/x.py", "x.PYC", "a/b.so",
		"/s/site-packages/torch-2.1.dist-info/RECORD",
		"/s/x.egg-info/PKG-INFO", "/r/.git/HEAD", ".git/config",
		"/h/hub/models--o--m/refs/main", NULL
	};
	static const char *const data[] = {
		"notes.txt", "d.JSON", "p.png", "x/y.Csv", NULL
	};
	static const char *const model[] = {
		"x.pt", "x.pkl.gz", "x.pkl.zip", "any.zip", "m.SafeTensors",
		"/s/torch-2.1.dist-info.pt", "/h/hub/models--o--m/refs/main.pt",
		NULL
	};
	static const char *const other[] = {
		"README", "vectors.f32", "/r/.github/HEAD", "/r/x.git/HEAD",
		"/h/refs/main", "data.p", "weights", "x.csv.gz", "s/bdb.db", NULL
	};
	const struct {
		const char *const *names;
		enum mg_name_class want;
	} sets[] = {
		{ code, MG_NAME_SKIP }, { data, MG_NAME_DATA },
		{ model, MG_NAME_MODEL }, { other, MG_NAME_OTHER },
	};
	size_t i, k;

	ck_assert_ptr_nonnull(p);
	for (k = 0; k < sizeof(sets) / sizeof(sets[0]); k++)
		for (i = 0; sets[k].names[i] != NULL; i++)
			ck_assert_msg(name_class(p, sets[k].names[i]) ==
			              sets[k].want, "%s", sets[k].names[i]);
	/* The flags the content test gets: magic only for data names,
	 * the whole test for x.csv.gz (its compressed content is a
	 * candidate), at the open for a Berkeley DB. */
	(void)mg_policy_name_class(p, "notes.txt", 9, &flags);
	ck_assert_uint_eq(flags, MG_CONTENT_MAGIC);
	(void)mg_policy_name_class(p, "x.csv.gz", 8, &flags);
	ck_assert_uint_eq(flags, 0);
	(void)mg_policy_name_class(p, "s/bdb.db", 8, &flags);
	ck_assert_uint_eq(flags, MG_CONTENT_AT_OPEN);
	(void)mg_policy_name_class(p, "README", 6, &flags);
	ck_assert_uint_eq(flags, 0);
	/* A policy whose model extensions are .txt alone. */
	ck_assert_int_eq(mg_policy_parse_text("t.conf", text, sizeof(text) - 1,
	                                      &q, err, sizeof(err)), MG_OK);
	ck_assert(name_class(q, "NOTES.TXT") == MG_NAME_MODEL);
	ck_assert(name_class(q, "notes.json") == MG_NAME_DATA);
	ck_assert(name_class(q, "x.pt") == MG_NAME_OTHER);
	mg_policy_free(q);
	mg_policy_free(p);
}
END_TEST

START_TEST(test_policy_log_reachable_needs_a_file_others_can_append_to)
{
	struct mg_policy *p = NULL;
	char err[512], text[600], why[1024], logp[512];

	snprintf(logp, sizeof(logp), "%s/audit.log", dir);
	snprintf(text, sizeof(text), "[policy]\nlog_file = %s\n", logp);
	ck_assert_int_eq(load_text(text, &p, err, sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_log_reachable(p, why, sizeof(why)), 0);
	ck_assert_ptr_nonnull(strstr(why, "does not exist"));
	put("audit.log", "");
	chmod(logp, 0600);
	ck_assert_int_eq(mg_policy_log_reachable(p, why, sizeof(why)), 0);
	ck_assert_ptr_nonnull(strstr(why, "other users cannot append"));
	chmod(logp, 0622);
	/* mkdtemp made the directory 0700: nobody else gets in */
	ck_assert_int_eq(mg_policy_log_reachable(p, why, sizeof(why)), 0);
	ck_assert_ptr_nonnull(strstr(why, "is not searchable"));
	ck_assert_ptr_nonnull(strstr(why, dir));
	chmod(dir, 0755);
	ck_assert_int_eq(mg_policy_log_reachable(p, why, sizeof(why)), 1);
	mg_policy_free(p);
	ck_assert_int_eq(load_text("[actions]\n", &p, err, sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_log_reachable(p, why, sizeof(why)), 0);
	ck_assert_str_eq(why, "");
	mg_policy_free(p);
}
END_TEST

/* A dbm.dumb index (text no content test sends) is a candidate by name
 * when its .dat is beside it, by an absolute name or a relative one; not
 * alone, and not under another case (dumb.py's names are exact). */
START_TEST(test_candidate_dumb_index_with_dat_beside_it)
{
	char d[] = "/tmp/check_policy_dumb.XXXXXX", p[128], q[128], cwd[512];
	static const char idx[] = "'k', (0, 5)\n";
	struct stat st;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(d));
	snprintf(p, sizeof(p), "%s/db.dir", d);
	snprintf(q, sizeof(q), "%s/db.dat", d);
	ck_assert_int_ge(fd = open(p, O_CREAT | O_RDWR, 0600), 0);
	ck_assert_int_eq(write(fd, idx, sizeof(idx) - 1), sizeof(idx) - 1);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(mg_policy_candidate(NULL, 1, fd, p, &st), 0);
	close(open(q, O_CREAT | O_WRONLY, 0600));
	ck_assert_int_eq(mg_policy_candidate(NULL, 1, fd, p, &st), 1);
	ck_assert_int_eq(mg_policy_candidate(NULL, 0, fd, p, &st), 1);
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_int_eq(mg_policy_candidate(NULL, 1, fd, "db.dir", &st), 1);
	ck_assert_int_eq(chdir(cwd), 0);
	snprintf(p, sizeof(p), "%s/db.DIR", d);
	ck_assert_int_eq(mg_policy_candidate(NULL, 1, fd, p, &st), 0);
	close(fd);
	unlink(q);
	snprintf(p, sizeof(p), "%s/db.dir", d);
	unlink(p);
	rmdir(d);
}
END_TEST

/* An HDF5 superblock after a user block is found where libhdf5 looks for
 * it (every power of two from 512 that fits), under any name, data names
 * included; the signature anywhere else is not. */
START_TEST(test_candidate_hdf5_after_user_block)
{
	static const char *const names[] = { "store", "x.csv", "notes.txt" };
	static const struct { off_t at; int yes; } cases[] = {
		{ 512, 1 }, { 4096, 1 }, { 65536, 1 }, { 65536 + 8, 0 },
		{ 3000, 0 }, { 1 << 20, 1 }, { -1, 0 },
	};
	char p[] = "/tmp/check_policy_h5.XXXXXX";
	struct stat st;
	size_t i, j;
	int fd;

	ck_assert_int_ge(fd = mkstemp(p), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(ftruncate(fd, 0), 0);
		ck_assert_int_eq(ftruncate(fd, (1 << 20) + 4096), 0);
		if (cases[i].at >= 0)
			ck_assert_int_eq(pwrite(fd, MG_HDF5_SIG, 8, cases[i].at),
			                 8);
		ck_assert_int_eq(fstat(fd, &st), 0);
		for (j = 0; j < sizeof(names) / sizeof(names[0]); j++)
			ck_assert_msg(mg_policy_candidate(NULL, 1, fd, names[j],
			                                  &st) == cases[i].yes,
			              "signature at %lld, name %s",
			              (long long)cases[i].at, names[j]);
	}
	/* The signature must fit: at 1 MiB in a file 4 bytes past it, no. */
	ck_assert_int_eq(ftruncate(fd, (1 << 20) + 4), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(mg_policy_candidate(NULL, 1, fd, "store", &st), 0);
	close(fd);
	unlink(p);
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_policy_rejects_unknown_key_with_line);
	tcase_add_test(tc, test_policy_rejects_unknown_section_even_empty);
	tcase_add_test(tc, test_policy_rejects_bad_values);
	tcase_add_test(tc, test_policy_rejects_duplicate_key_naming_first);
	tcase_add_test(tc, test_policy_rejects_syntax_and_stray_keys);
	tcase_add_test(tc, test_policy_rejects_bad_globals);
	tcase_add_test(tc, test_policy_cannot_allow_an_embedded_denied_global);
	tcase_add_test(tc, test_policy_rejects_unknown_pack_and_wrong_version);
	tcase_add_test(tc, test_policy_rejects_overlong_line);
	tcase_add_test(tc, test_policy_continuation_lines_extend_lists_only);
	tcase_add_test(tc, test_policy_default_writes_a_file_that_reads_back_equal);
	tcase_add_test(tc, test_policy_missing_user_file_is_io_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("layering");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_policy_user_overrides_unlocked_system);
	tcase_add_test(tc, test_policy_locked_system_ignores_weakening_user_file);
	tcase_add_test(tc, test_policy_guard_defaults_to_deny_and_user_may_lower_unlocked);
	tcase_add_test(tc, test_policy_locked_system_keeps_guard_from_lowering);
	tcase_add_test(tc, test_policy_show_writes_guard_back);
	tcase_add_test(tc, test_policy_locked_system_accepts_stricter_user_file);
	tcase_add_test(tc, test_policy_refuses_unsafe_system_file_and_locks_default);
	tcase_add_test(tc, test_policy_broken_system_file_locks_default);
	tcase_add_test(tc, test_policy_secure_ignores_user_path);
	tcase_add_test(tc, test_policy_lock_attempt_is_logged);
	suite_add_tcase(s, tc);

	tc = tcase_create("unknown_call");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_policy_unknown_call_is_denied_by_default_and_settable);
	tcase_add_test(tc, test_policy_locked_system_keeps_unknown_call_from_weakening);
	tcase_add_test(tc, test_policy_report_action_counts_every_class_of_finding);
	tcase_add_test(tc, test_policy_every_class_survives_the_findings_cap);
	suite_add_tcase(s, tc);

	tc = tcase_create("packs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_policy_sklearn_pack_on_by_default_off_by_name);
	tcase_add_test(tc, test_policy_packs_off_leaves_torch_extras_unknown);
	tcase_add_test(tc, test_policy_rebuild_only_pack_entries_are_their_own_class);
	tcase_add_test(tc, test_policy_enum_members_are_exact_dotted_pack_entries);
	tcase_add_test(tc, test_policy_rebuild_only_entry_rebuilt_is_clean_called_is_not);
	tcase_add_test(tc, test_policy_deny_beats_allow_and_packs);
	tcase_add_test(tc, test_policy_wildcard_allow_is_exact_module_never_dunder);
	suite_add_tcase(s, tc);

	tc = tcase_create("notes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_policy_sink_gets_each_ignored_setting_and_stderr_nothing);
	tcase_add_test(tc, test_policy_refusal_is_one_note_naming_the_file);
	tcase_add_test(tc, test_policy_parse_warning_is_a_note_with_its_line);
	tcase_add_test(tc, test_policy_default_sink_prints_notes_on_stderr);
	tcase_add_test(tc, test_policy_note_json_is_one_line_with_event_key_line_file);
	tcase_add_test(tc, test_policy_parse_text_keeps_the_lock_and_names_the_file);
	tcase_add_test(tc, test_policy_log_reachable_needs_a_file_others_can_append_to);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, test_policy_model_ext_keys_agree_with_a_plain_suffix_compare);
	tcase_add_test(tc, test_policy_name_class_code_metadata_data_model_other);
	tcase_add_test(tc, test_policy_name_class_every_listed_extension);
	tcase_add_test(tc, test_policy_late_names_classify_from_their_tail);
	suite_add_tcase(s, tc);

	tc = tcase_create("settings");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_policy_default_acts_in_python_only);
	tcase_add_test(tc, test_policy_file_sets_every_preload_setting);
	suite_add_tcase(s, tc);

	tc = tcase_create("candidate");
	tcase_add_test(tc, test_candidate_dumb_index_with_dat_beside_it);
	tcase_add_test(tc, test_candidate_hdf5_after_user_block);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(policy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
