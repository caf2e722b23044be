/*
 * scan.c - `modelgate scan [--format text|json|sarif] [--policy FILE] PATH...`
 *
 * For each path (directories recurse) the policy's pre-scan checks run
 * (SHA-256, pins, registry rules), then the scanner, then the policy maps
 * the verdict to an action.  Output goes to stdout in one of three forms;
 * the exit status is the contract in DESIGN.md: 0 every file allowed (or
 * audited), 1 some file would be sandboxed or denied, 2 usage error or a
 * path that could not be read.
 *
 * Why directories only pick model files: a model directory holds READMEs,
 * tokenizer JSON and licences; scanning those as models would report them
 * as unreadable models.  A file named on the command line is always
 * scanned; a file met while recursing is scanned when its extension is a
 * model extension of the policy or its content sniffs as a model format.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "../policy/pin.h"
#include "../policy/policy.h"
#include "../scanner/scanner.h"
#include "cli.h"

enum out_format { OUT_TEXT, OUT_JSON, OUT_SARIF };

struct scan_run {
	const struct mg_policy *policy;
	struct mg_scan_opts opts;
	enum out_format format;
	json_t *files;          /* array of file objects (json and sarif) */
	size_t nverdict[MG_VERDICT_COUNT]; /* per contract verdict
	                                     (mg_verdict_public) */
	size_t naction[4];      /* per enum mg_action */
	int unreadable;         /* some path could not be read */
	int oom;                /* out of memory somewhere: exit 2 */
};

static struct scan_run *the_run; /* nftw has no user pointer */

static const char usage_text[] =
	"usage: modelgate scan [--format text|json|sarif] [--policy FILE] PATH...\n"
	"\n"
	"Scan model files for code that would run when Python loads them.\n"
	"Directories are searched recursively for model files (by extension\n"
	"or by content); files named on the command line are always scanned.\n"
	"\n"
	"  -f, --format FMT   text (default), json (DESIGN.md contract), sarif\n"
	"  -p, --policy FILE  layer FILE over the system and default policies\n"
	"                     (default: $MODELGATE_POLICY, if set)\n"
	"  -h, --help         this text\n"
	"\n"
	"exit status: 0 every file allowed or audited, 1 some file would be\n"
	"sandboxed or denied, 2 usage error or a path that could not be read\n";

/* --- one file ------------------------------------------------------------ */

static json_t *
finding_json(const struct mg_finding *f)
{
	return json_pack("{s:s, s:s, s:s?, s:s?, s:I, s:s}",
	                 "severity", mg_severity_name(f->verdict),
	                 "rule", f->rule,
	                 "global", f->global,
	                 "member", f->member,
	                 "offset", (json_int_t)f->offset,
	                 "message", f->message);
}

static json_t *
report_json(const char *path, const struct mg_report *r, enum mg_action a,
            const char *sha)
{
	json_t *o, *fs, *gs;
	size_t i;

	fs = json_array();
	gs = json_array();
	for (i = 0; fs != NULL && i < r->nfindings; i++)
		json_array_append_new(fs, finding_json(&r->findings[i]));
	for (i = 0; gs != NULL && i < r->nglobals; i++)
		json_array_append_new(gs, json_pack("{s:s, s:s, s:s}",
		    "module", r->globals[i].module, "name", r->globals[i].name,
		    "verdict", mg_verdict_name(r->globals[i].verdict)));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:o, s:o, s:I, s:i}",
	              "path", path, "format", r->format,
	              "verdict", mg_verdict_name(r->verdict),
	              "action", mg_action_name(a), "sha256", sha,
	              "findings", fs, "globals", gs,
	              "findings_dropped", (json_int_t)r->dropped,
	              "pickles", (int)r->npickles);
	return o;
}

static void
print_text(const char *path, const struct mg_report *r, enum mg_action a)
{
	const struct mg_finding *f;
	size_t i;

	printf("%s: %s (%s) [%s]\n", path, mg_verdict_name(r->verdict),
	       mg_action_name(a), r->format);
	for (i = 0; i < r->nfindings; i++) {
		f = &r->findings[i];
		if (f->verdict == MG_VERDICT_CLEAN)
			continue;
		printf("  %-8s %s at %s%s%llu: %s\n",
		       mg_severity_name(f->verdict), f->rule,
		       f->member ? f->member : "", f->member ? "+" : "offset ",
		       (unsigned long long)f->offset, f->message);
	}
	if (r->dropped)
		printf("  ... and %zu more findings\n", r->dropped);
}

static void
record(struct scan_run *run, const char *path, const struct mg_report *r,
       const char *sha)
{
	enum mg_action a = mg_policy_report_action(run->policy, r);
	json_t *o;

	run->nverdict[mg_verdict_public(r->verdict)]++;
	run->naction[a]++;
	if (run->format == OUT_TEXT) {
		print_text(path, r, a);
		return;
	}
	o = report_json(path, r, a, sha);
	if (o == NULL || json_array_append_new(run->files, o) != 0)
		run->oom = 1;
}

/* A path that could not be opened or read: reported, and exit status 2. */
static void
record_unreadable(struct scan_run *run, const char *path, int err)
{
	struct mg_report *r = mg_report_new();

	run->unreadable = 1;
	mg_cli_error("cannot read %s: %s", path, strerror(err));
	if (r == NULL) {
		run->oom = 1;
		return;
	}
	r->format = "unreadable";
	(void)mg_report_add(r, MG_VERDICT_ERROR, "io.unreadable", NULL, NULL,
	                    0, "cannot read the file: %s", strerror(err));
	record(run, path, r, NULL);
	mg_report_free(r);
}

static void
scan_path(struct scan_run *run, const char *path)
{
	struct mg_report *r = NULL;
	char sha[65];
	int fd, skip = 0, saved;
	enum mg_err err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		record_unreadable(run, path, errno);
		return;
	}
	r = mg_report_new();
	if (r == NULL) {
		run->oom = 1;
		goto out;
	}
	err = mg_policy_prescan(run->policy, fd, path, r, sha, &skip);
	if (err == MG_OK && !skip)
		err = mg_scan_fd(&run->opts, fd, path, r);
	if (err == MG_ERR_IO) {
		saved = errno;
		record_unreadable(run, path, saved ? saved : EIO);
		goto out;
	}
	if (err != MG_OK) {
		/* Could not decide is kept apart from decided: still never
		 * clean, and the run exits 2. */
		run->oom = 1;
		(void)mg_report_add(r, MG_VERDICT_ERROR, "scan.failed", NULL,
		                    NULL, 0, "scan failed: %s", mg_strerror(err));
	}
	record(run, path, r, sha);
out:
	mg_report_free(r);
	close(fd);
}

/* --- directories ---------------------------------------------------------- */

/* 1 if the first bytes of @path are a format modelgate reads. */
static int
content_is_model(const char *path)
{
	unsigned char head[1024];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	n = pread(fd, head, sizeof(head), 0);
	close(fd);
	return n > 0 && mg_scan_sniff(head, (size_t)n) != NULL;
}

static int
walk_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct stat target;

	(void)st;
	(void)ftw;
	if (type == FTW_DNR) {
		record_unreadable(the_run, path, EACCES);
		return 0;
	}
	/* Symlinked files are followed (the Hugging Face cache is made of
	 * them); symlinked directories are not (FTW_PHYS), so no loops. */
	if (type == FTW_SL) {
		if (stat(path, &target) != 0 || !S_ISREG(target.st_mode))
			return 0;
	} else if (type != FTW_F || !S_ISREG(st->st_mode)) {
		return 0;
	}
	if (mg_policy_model_ext(the_run->policy, path) ||
	    (type == FTW_F && content_is_model(path)))
		scan_path(the_run, path);
	return 0;
}

static void
scan_arg(struct scan_run *run, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		record_unreadable(run, path, errno);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		scan_path(run, path);
		return;
	}
	the_run = run;
	if (nftw(path, walk_cb, 32, FTW_PHYS) != 0)
		record_unreadable(run, path, errno);
}

/* --- output --------------------------------------------------------------- */

static json_t *
summary_json(const struct scan_run *run)
{
	json_t *s = json_object();
	int v, a;

	if (s == NULL)
		return NULL;
	json_object_set_new(s, "files", json_integer((json_int_t)json_array_size(run->files)));
	for (v = MG_VERDICT_CLEAN; v <= MG_VERDICT_DANGEROUS; v++)
		if (v == (int)mg_verdict_public((enum mg_verdict)v))
			json_object_set_new(s, mg_verdict_name(v),
		                    json_integer((json_int_t)run->nverdict[v]));
	for (a = MG_ACTION_ALLOW; a <= MG_ACTION_DENY; a++)
		json_object_set_new(s, mg_action_name(a),
		                    json_integer((json_int_t)run->naction[a]));
	return s;
}

static const char *
sarif_level(const char *severity)
{
	if (strcmp(severity, "critical") == 0 || strcmp(severity, "high") == 0)
		return "error";
	if (strcmp(severity, "medium") == 0)
		return "warning";
	return "note";
}

/* One SARIF result per finding of every file. */
static void
sarif_results(json_t *results, json_t *files)
{
	size_t i, j;
	json_t *file, *f, *loc;

	json_array_foreach(files, i, file) {
		json_array_foreach(json_object_get(file, "findings"), j, f) {
			loc = json_pack("{s:{s:{s:s}, s:{s:I}}}",
			    "physicalLocation", "artifactLocation", "uri",
			    json_string_value(json_object_get(file, "path")),
			    "region", "byteOffset",
			    json_integer_value(json_object_get(f, "offset")));
			json_array_append_new(results, json_pack(
			    "{s:s, s:s, s:{s:s}, s:[o], s:{s:s?, s:s?, s:s}}",
			    "ruleId", json_string_value(json_object_get(f, "rule")),
			    "level", sarif_level(json_string_value(json_object_get(f, "severity"))),
			    "message", "text", json_string_value(json_object_get(f, "message")),
			    "locations", loc,
			    "properties",
			    "member", json_string_value(json_object_get(f, "member")),
			    "global", json_string_value(json_object_get(f, "global")),
			    "verdict", json_string_value(json_object_get(file, "verdict"))));
		}
	}
}

static json_t *
sarif_doc(const struct scan_run *run)
{
	json_t *results = json_array();

	if (results == NULL)
		return NULL;
	sarif_results(results, run->files);
	return json_pack("{s:s, s:[{s:{s:{s:s, s:s}}, s:o}]}",
	    "version", "2.1.0",
	    "runs", "tool", "driver", "name", "modelgate",
	    "version", MG_VERSION,
	    "results", results);
}

static int
emit(struct scan_run *run)
{
	json_t *doc = NULL;
	size_t nfiles = 0;
	int v;

	for (v = 0; v < MG_VERDICT_COUNT; v++)
		nfiles += run->nverdict[v];
	if (run->format == OUT_TEXT) {
		printf("%zu file%s: %zu clean, %zu unknown, %zu dangerous, "
		       "%zu error\n", nfiles, nfiles == 1 ? "" : "s",
		       run->nverdict[MG_VERDICT_CLEAN],
		       run->nverdict[MG_VERDICT_UNKNOWN],
		       run->nverdict[MG_VERDICT_DANGEROUS],
		       run->nverdict[MG_VERDICT_ERROR]);
		return 0;
	}
	if (run->format == OUT_JSON)
		doc = json_pack("{s:s, s:O, s:o}", "modelgate", MG_VERSION,
		                "files", run->files, "summary", summary_json(run));
	else
		doc = sarif_doc(run);
	if (doc == NULL || json_dumpf(doc, stdout, JSON_INDENT(2)) != 0) {
		json_decref(doc);
		return -1;
	}
	putchar('\n');
	json_decref(doc);
	return 0;
}

/* --- the command ---------------------------------------------------------- */

static int
parse_format(const char *s, enum out_format *out)
{
	static const struct { const char *name; enum out_format f; } t[] = {
		{ "text", OUT_TEXT }, { "json", OUT_JSON }, { "sarif", OUT_SARIF },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(s, t[i].name) == 0) {
			*out = t[i].f;
			return 0;
		}
	}
	return -1;
}

static int
exit_status(const struct scan_run *run)
{
	if (run->unreadable || run->oom)
		return MG_EXIT_USAGE;
	if (run->naction[MG_ACTION_SANDBOX] || run->naction[MG_ACTION_DENY])
		return MG_EXIT_BLOCKED;
	return MG_EXIT_OK;
}

int
mg_cmd_scan(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "policy", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct scan_run run;
	struct mg_policy *policy = NULL;
	const char *policy_path = NULL;
	char err[512];
	int c, i, status = MG_EXIT_USAGE;

	memset(&run, 0, sizeof(run));
	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (parse_format(optarg, &run.format) != 0) {
				mg_cli_error("unknown format '%s' (text, json, sarif)", optarg);
				return MG_EXIT_USAGE;
			}
			break;
		case 'p':
			policy_path = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return MG_EXIT_OK;
		default:
			fputs(usage_text, stderr);
			return MG_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return MG_EXIT_USAGE;
	}
	/* The same layering as the preload: --policy, else MODELGATE_POLICY,
	 * over the system policy (which may lock), over the default. */
	if (policy_path == NULL)
		policy_path = getenv("MODELGATE_POLICY");
	if (policy_path != NULL && policy_path[0] == '\0')
		policy_path = NULL;
	if (mg_policy_load_effective(policy_path, 0, &policy, err,
	                             sizeof(err)) != MG_OK) {
		mg_cli_error("%s", err[0] ? err : "cannot load the policy");
		return MG_EXIT_USAGE;
	}
	run.policy = policy;
	mg_scan_opts_default(&run.opts);
	run.opts.classifier = mg_policy_classifier(policy);
	run.files = json_array();
	if (run.files == NULL)
		goto out;
	for (i = optind; i < argc; i++)
		scan_arg(&run, argv[i]);
	if (emit(&run) != 0)
		run.oom = 1;
	fflush(stdout);
	status = exit_status(&run);
out:
	json_decref(run.files);
	mg_policy_free(policy);
	return status;
}
