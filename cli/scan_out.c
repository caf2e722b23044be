/*
 * scan_out.c - the text and JSON forms of `modelgate scan` output.
 *
 * JSON is the DESIGN.md contract: keys are only ever added.  Beyond the
 * contract a file object carries "globals", "findings_dropped" and
 * "pickles"; a path that names a file already scanned carries "same_as";
 * the summary carries "unique" (files actually scanned) and "unreadable"
 * (paths that could not be read: counted under their verdict, error, but
 * under no action, because nothing was decided about them).
 */
#include <stdio.h>
#include <string.h>

#include "scan.h"

/* --- text ------------------------------------------------------------------ */

/* What a global's verdict means in the globals list (scanner.h). */
static const char *
global_class(enum mg_verdict v)
{
	if (v == MG_VERDICT_CLEAN)
		return "allowed";
	if (v == MG_VERDICT_DANGEROUS)
		return "denied";
	return mg_verdict_name(v);
}

static void
text_findings(const struct mg_report *r, int verbose)
{
	const struct mg_finding *f;
	size_t i;

	for (i = 0; i < r->nfindings; i++) {
		f = &r->findings[i];
		if (f->verdict == MG_VERDICT_CLEAN && !verbose)
			continue;
		printf("  %-8s %s at %s%s%llu: %s\n",
		       mg_severity_name(f->verdict), f->rule,
		       f->member ? f->member : "", f->member ? "+" : "offset ",
		       (unsigned long long)f->offset, f->message);
	}
	if (r->dropped)
		printf("  ... and %zu more findings\n", r->dropped);
	for (i = 0; verbose && i < r->nglobals; i++)
		printf("  global   %s %s: %s\n", r->globals[i].module,
		       r->globals[i].name, global_class(r->globals[i].verdict));
}

void
mg_scanout_text_entry(const struct mg_scan_run *run,
                      const struct mg_scan_entry *e, const struct mg_report *r)
{
	/* Why -q still shows unreadable paths: "nothing printed" must mean
	 * "everything read was allowed", never "we could not look". */
	if (run->verbosity < 0 && e->action == MG_ACTION_ALLOW &&
	    e->state == MG_ENTRY_SCANNED)
		return;
	if (e->same_as >= 0) {
		printf("%s: same file as %s: %s (%s)\n", e->path,
		       run->v[e->same_as].path, mg_verdict_name(e->verdict),
		       mg_action_name(e->action));
		return;
	}
	printf("%s: %s (%s) [%s]\n", e->path, mg_verdict_name(e->verdict),
	       mg_action_name(e->action), r != NULL ? r->format : "unknown");
	if (r != NULL)
		text_findings(r, run->verbosity > 0);
}

void
mg_scanout_text_summary(const struct mg_scan_run *run)
{
	if (run->verbosity < 0)
		return;
	printf("%zu file%s", run->n, run->n == 1 ? "" : "s");
	if (run->nunique != run->n - run->nunreadable)
		printf(" (%zu unique)", run->nunique);
	printf(": %zu clean, %zu unknown, %zu dangerous, %zu error",
	       run->nverdict[MG_VERDICT_CLEAN], run->nverdict[MG_VERDICT_UNKNOWN],
	       run->nverdict[MG_VERDICT_DANGEROUS],
	       run->nverdict[MG_VERDICT_ERROR]);
	if (run->nunreadable)
		printf(" (%zu unreadable)", run->nunreadable);
	putchar('\n');
}

/* --- JSON ------------------------------------------------------------------- */

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

json_t *
mg_scanout_file_json(const char *path, const struct mg_report *r,
                     enum mg_action a, const char *sha)
{
	json_t *fs, *gs;
	size_t i;

	fs = json_array();
	gs = json_array();
	for (i = 0; fs != NULL && i < r->nfindings; i++)
		if (json_array_append_new(fs, finding_json(&r->findings[i])))
			goto fail;
	for (i = 0; gs != NULL && i < r->nglobals; i++)
		if (json_array_append_new(gs, json_pack("{s:s, s:s, s:s}",
		    "module", r->globals[i].module, "name", r->globals[i].name,
		    "verdict", mg_verdict_name(r->globals[i].verdict))))
			goto fail;
	if (fs == NULL || gs == NULL)
		goto fail;
	/* "o" steals fs and gs, also when json_pack fails. */
	return json_pack("{s:s, s:s, s:s, s:s, s:s?, s:o, s:o, s:I, s:i}",
	                 "path", path, "format", r->format,
	                 "verdict", mg_verdict_name(r->verdict),
	                 "action", mg_action_name(a),
	                 "sha256", sha != NULL && sha[0] ? sha : NULL,
	                 "findings", fs, "globals", gs,
	                 "findings_dropped", (json_int_t)r->dropped,
	                 "pickles", (int)r->npickles);
fail:
	json_decref(fs);
	json_decref(gs);
	return NULL;
}

static json_t *
summary_json(const struct mg_scan_run *run)
{
	json_t *s = json_object();
	int v, a, bad = 0;

	if (s == NULL)
		return NULL;
	bad |= json_object_set_new(s, "files", json_integer((json_int_t)run->n));
	for (v = MG_VERDICT_CLEAN; v <= MG_VERDICT_DANGEROUS; v++)
		if (v == (int)mg_verdict_public((enum mg_verdict)v))
			bad |= json_object_set_new(s, mg_verdict_name(v),
			    json_integer((json_int_t)run->nverdict[v]));
	for (a = MG_ACTION_ALLOW; a <= MG_ACTION_DENY; a++)
		bad |= json_object_set_new(s, mg_action_name(a),
		    json_integer((json_int_t)run->naction[a]));
	bad |= json_object_set_new(s, "unique",
	                           json_integer((json_int_t)run->nunique));
	bad |= json_object_set_new(s, "unreadable",
	                           json_integer((json_int_t)run->nunreadable));
	if (bad) {
		json_decref(s);
		return NULL;
	}
	return s;
}

/* Output gathered for one fwrite: jansson hands its callback a few bytes
 * at a time (a key, a colon, an indent), and an fwrite each cost more
 * than building the document. */
struct dump_buf {
	FILE *out;
	size_t n;
	char b[65536];
};

static int
dump_flush(struct dump_buf *d)
{
	if (d->n > 0 && fwrite(d->b, 1, d->n, d->out) != d->n)
		return -1;
	d->n = 0;
	return 0;
}

static int
dump_cb(const char *s, size_t len, void *data)
{
	struct dump_buf *d = data;

	if (len > sizeof(d->b) - d->n && dump_flush(d) != 0)
		return -1;
	if (len > sizeof(d->b))
		return fwrite(s, 1, len, d->out) == len ? 0 : -1;
	memcpy(d->b + d->n, s, len);
	d->n += len;
	return 0;
}

int
mg_scanout_dump(const json_t *doc, FILE *out)
{
	static struct dump_buf d;

	d.out = out, d.n = 0;
	if (json_dump_callback(doc, dump_cb, &d, JSON_INDENT(2)) != 0) {
		d.n = 0;
		return -1;
	}
	if (d.n < sizeof(d.b))
		d.b[d.n++] = '\n';
	else if (dump_flush(&d) != 0 || putc('\n', out) == EOF)
		return -1;
	return dump_flush(&d);
}

int
mg_scanout_json(const struct mg_scan_run *run)
{
	json_t *files = json_array(), *doc;
	size_t i;
	int rc = -1;

	if (files == NULL)
		return -1;
	for (i = 0; i < run->n; i++)
		if (run->v[i].obj == NULL ||
		    json_array_append(files, run->v[i].obj) != 0)
			goto out;
	doc = json_pack("{s:s, s:O, s:o}", "modelgate", MG_VERSION,
	                "files", files, "summary", summary_json(run));
	if (doc != NULL && mg_scanout_dump(doc, stdout) == 0)
		rc = 0;
	json_decref(doc);
out:
	json_decref(files);
	return rc;
}
