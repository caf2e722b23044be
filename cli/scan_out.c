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
#include <stdlib.h>
#include <string.h>

#include "../policy/logline.h"
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
		/* Why format.inert is shown: it is why an unreadable file
		 * was allowed, which a reviewer must see without -v. */
		if (f->verdict == MG_VERDICT_CLEAN && !verbose &&
		    strcmp(f->rule, "format.inert") != 0)
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

char *
mg_scanout_escape(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k, o = 0;
	char *out = malloc(4 * n + 1);

	/* Why 4 * n: a byte becomes at most the four characters \xNN. */
	if (out == NULL)
		return NULL;
	while (n > 0) {
		if (*p == '\\') {
			out[o++] = '\\', out[o++] = '\\', k = 1;
		} else if ((k = mg_logline_utf8_seq(p, n)) == 0) {
			snprintf(out + o, 5, "\\x%02x", *p);
			o += 4, k = 1;
		} else {
			memcpy(out + o, p, k), o += k;
		}
		p += k, n -= k;
	}
	out[o] = '\0';
	return out;
}

json_t *
mg_scanout_string(const char *s)
{
	char *e;
	json_t *j;

	if (s == NULL)
		return json_null();
	if ((e = mg_scanout_escape(s)) == NULL)
		return NULL;
	j = json_string(e);
	free(e);
	return j;
}

static json_t *
finding_json(const struct mg_finding *f)
{
	/* "o" steals, and fails on NULL (out of memory). */
	return json_pack("{s:s, s:s, s:o, s:o, s:I, s:o}",
	                 "severity", mg_severity_name(f->verdict),
	                 "rule", f->rule,
	                 "global", mg_scanout_string(f->global),
	                 "member", mg_scanout_string(f->member),
	                 "offset", (json_int_t)f->offset,
	                 "message", mg_scanout_string(f->message));
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
		if (json_array_append_new(gs, json_pack("{s:o, s:o, s:s}",
		    "module", mg_scanout_string(r->globals[i].module),
		    "name", mg_scanout_string(r->globals[i].name),
		    "verdict", mg_verdict_name(r->globals[i].verdict))))
			goto fail;
	if (fs == NULL || gs == NULL)
		goto fail;
	/* "o" steals fs and gs, also when json_pack fails. */
	return json_pack("{s:o, s:s, s:s, s:s, s:s?, s:o, s:o, s:I, s:i}",
	                 "path", mg_scanout_string(path), "format", r->format,
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

/* --- JSON text for the json format ---------------------------------------------- */

/*
 * Why by hand: on a directory of small models, building each file's
 * jansson object and dumping the document cost about as much as scanning
 * the files.  The text is byte for byte what json_dumpf(JSON_INDENT(2))
 * made of those objects: members in insertion order, two spaces per level,
 * ": " after a key, "[]" for an empty array, integers as json_int_t,
 * strings escaped as jansson escapes them ('"', '\\', \b \f \n \r \t, other
 * control characters as \u00XX, everything else as is) after
 * mg_scanout_escape() made them UTF-8.  SARIF is still built
 * from jansson objects (sarif.c reads them back).
 */
struct jtext {
	char *b;
	size_t n, cap;
	int bad;                /* out of memory */
};

static void
jt_raw(struct jtext *t, const char *s, size_t len)
{
	size_t cap;
	char *b;

	if (t->bad || len == 0)
		return;
	if (len > t->cap - t->n) {
		cap = t->cap ? t->cap : 2048;
		while (len > cap - t->n)
			cap *= 2;
		if ((b = realloc(t->b, cap)) == NULL) {
			t->bad = 1;
			return;
		}
		t->b = b, t->cap = cap;
	}
	memcpy(t->b + t->n, s, len);
	t->n += len;
}

/* @s as a JSON string (of mg_scanout_escape(@s)), or null when @s is
 * NULL. */
static void
jt_str(struct jtext *t, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run;
	size_t n, k;
	char esc[8];

	if (s == NULL) {
		jt_raw(t, "null", 4);
		return;
	}
	n = strlen(s);
	jt_raw(t, "\"", 1);
	while (n > 0 && !t->bad) {
		for (run = p; n > 0 && *p >= 0x20 && *p != '"' && *p != '\\' &&
		     (k = *p < 0x80 ? 1 : mg_logline_utf8_seq(p, n)) > 0; p += k, n -= k)
			;
		jt_raw(t, (const char *)run, (size_t)(p - run));
		if (n == 0)
			break;
		switch (*p) {
		case '"': jt_raw(t, "\\\"", 2); break;
		/* Doubled (mg_scanout_escape), then escaped: four. */
		case '\\': jt_raw(t, "\\\\\\\\", 4); break;
		case '\b': jt_raw(t, "\\b", 2); break;
		case '\f': jt_raw(t, "\\f", 2); break;
		case '\n': jt_raw(t, "\\n", 2); break;
		case '\r': jt_raw(t, "\\r", 2); break;
		case '\t': jt_raw(t, "\\t", 2); break;
		default:
			if (*p < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04X", *p);
				jt_raw(t, esc, 6);
			} else {        /* not UTF-8: \xNN, its \ escaped */
				snprintf(esc, sizeof(esc), "\\\\x%02x", *p);
				jt_raw(t, esc, 5);
			}
		}
		p++, n--;
	}
	jt_raw(t, "\"", 1);
}

static void
jt_int(struct jtext *t, json_int_t v)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%" JSON_INTEGER_FORMAT, v);

	jt_raw(t, b, (size_t)n);
}

/* A newline and the indentation of level @depth. */
static void
jt_indent(struct jtext *t, int depth)
{
	static const char sp[] = "\n                                ";

	jt_raw(t, sp, 1 + (size_t)depth * 2);
}

/* The separator before member @key of an object at level @depth; @key
 * is one of ours, plain ASCII needing no escape. */
static void
jt_key(struct jtext *t, int depth, const char *key, int first)
{
	static const char sp[] = ",\n                                ";

	jt_raw(t, sp + (first != 0), 2 - (first != 0) + (size_t)(depth + 1) * 2);
	jt_raw(t, "\"", 1);
	jt_raw(t, key, strlen(key));
	jt_raw(t, "\": ", 3);
}

/* A finding: an object at level 4 (the file object's "findings"). */
static void
jt_finding(struct jtext *t, const struct mg_finding *f)
{
	jt_raw(t, "{", 1);
	jt_key(t, 4, "severity", 1);
	jt_str(t, mg_severity_name(f->verdict));
	jt_key(t, 4, "rule", 0);
	jt_str(t, f->rule);
	jt_key(t, 4, "global", 0);
	jt_str(t, f->global);
	jt_key(t, 4, "member", 0);
	jt_str(t, f->member);
	jt_key(t, 4, "offset", 0);
	jt_int(t, (json_int_t)f->offset);
	jt_key(t, 4, "message", 0);
	jt_str(t, f->message);
	jt_indent(t, 4);
	jt_raw(t, "}", 1);
}

static void
jt_global(struct jtext *t, const struct mg_global *g)
{
	jt_raw(t, "{", 1);
	jt_key(t, 4, "module", 1);
	jt_str(t, g->module);
	jt_key(t, 4, "name", 0);
	jt_str(t, g->name);
	jt_key(t, 4, "verdict", 0);
	jt_str(t, mg_verdict_name(g->verdict));
	jt_indent(t, 4);
	jt_raw(t, "}", 1);
}

/* Store @t in @e (its text, and where the members after "path" are). */
static int
jt_store(struct jtext *t, struct mg_scan_entry *e, size_t body, size_t end)
{
	if (t->bad) {
		free(t->b);
		return -1;
	}
	e->json = t->b, e->json_len = t->n;
	e->json_body = body, e->json_end = end;
	return 0;
}

int
mg_scanout_file_text(struct mg_scan_entry *e, const struct mg_report *r,
                     const char *sha)
{
	struct jtext t = { NULL, 0, 0, 0 };
	size_t i, body, end;

	jt_raw(&t, "{", 1);
	jt_key(&t, 2, "path", 1);
	jt_str(&t, e->path);
	body = t.n;
	jt_key(&t, 2, "format", 0);
	jt_str(&t, r->format);
	jt_key(&t, 2, "verdict", 0);
	jt_str(&t, mg_verdict_name(r->verdict));
	jt_key(&t, 2, "action", 0);
	jt_str(&t, mg_action_name(e->action));
	jt_key(&t, 2, "sha256", 0);
	jt_str(&t, sha != NULL && sha[0] ? sha : NULL);
	jt_key(&t, 2, "findings", 0);
	jt_raw(&t, "[", 1);
	for (i = 0; i < r->nfindings; i++) {
		jt_raw(&t, ",", i > 0);
		jt_indent(&t, 4);
		jt_finding(&t, &r->findings[i]);
	}
	if (r->nfindings > 0)
		jt_indent(&t, 3);
	jt_raw(&t, "]", 1);
	jt_key(&t, 2, "globals", 0);
	jt_raw(&t, "[", 1);
	for (i = 0; i < r->nglobals; i++) {
		jt_raw(&t, ",", i > 0);
		jt_indent(&t, 4);
		jt_global(&t, &r->globals[i]);
	}
	if (r->nglobals > 0)
		jt_indent(&t, 3);
	jt_raw(&t, "]", 1);
	jt_key(&t, 2, "findings_dropped", 0);
	jt_int(&t, (json_int_t)r->dropped);
	jt_key(&t, 2, "pickles", 0);
	jt_int(&t, (json_int_t)(int)r->npickles);
	end = t.n;
	jt_indent(&t, 2);
	jt_raw(&t, "}", 1);
	return jt_store(&t, e, body, end);
}

int
mg_scanout_repeat_text(struct mg_scan_entry *e, const struct mg_scan_entry *f)
{
	struct jtext t = { NULL, 0, 0, 0 };
	size_t body, end;

	jt_raw(&t, "{", 1);
	jt_key(&t, 2, "path", 1);
	jt_str(&t, e->path);
	body = t.n;
	jt_raw(&t, f->json + f->json_body, f->json_end - f->json_body);
	jt_key(&t, 2, "same_as", 0);
	jt_str(&t, f->path);
	end = t.n;
	jt_indent(&t, 2);
	jt_raw(&t, "}", 1);
	return jt_store(&t, e, body, end);
}

/* The "summary" object, at level 1. */
static void
jt_summary(struct jtext *t, const struct mg_scan_run *run)
{
	int v, a;

	jt_raw(t, "{", 1);
	jt_key(t, 1, "files", 1);
	jt_int(t, (json_int_t)run->n);
	for (v = MG_VERDICT_CLEAN; v <= MG_VERDICT_DANGEROUS; v++) {
		if (v != (int)mg_verdict_public((enum mg_verdict)v))
			continue;
		jt_key(t, 1, mg_verdict_name(v), 0);
		jt_int(t, (json_int_t)run->nverdict[v]);
	}
	for (a = MG_ACTION_ALLOW; a <= MG_ACTION_DENY; a++) {
		jt_key(t, 1, mg_action_name(a), 0);
		jt_int(t, (json_int_t)run->naction[a]);
	}
	jt_key(t, 1, "unique", 0);
	jt_int(t, (json_int_t)run->nunique);
	jt_key(t, 1, "unreadable", 0);
	jt_int(t, (json_int_t)run->nunreadable);
	jt_indent(t, 1);
	jt_raw(t, "}", 1);
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
	struct jtext t = { NULL, 0, 0, 0 };
	size_t i;
	int rc = -1;

	for (i = 0; i < run->n; i++)
		if (run->v[i].json == NULL)
			return -1;
	jt_raw(&t, "{", 1);
	jt_key(&t, 0, "modelgate", 1);
	jt_str(&t, MG_VERSION);
	jt_key(&t, 0, "files", 0);
	jt_raw(&t, "[", 1);
	/* Each file's text is written where it is, not copied into t. */
	if (t.bad || fwrite(t.b, 1, t.n, stdout) != t.n)
		goto out;
	for (i = 0; i < run->n; i++) {
		t.n = 0;
		jt_raw(&t, ",", i > 0);
		jt_indent(&t, 2);
		if (t.bad || fwrite(t.b, 1, t.n, stdout) != t.n ||
		    fwrite(run->v[i].json, 1, run->v[i].json_len, stdout) !=
		    run->v[i].json_len)
			goto out;
	}
	t.n = 0;
	if (run->n > 0)
		jt_indent(&t, 1);
	jt_raw(&t, "]", 1);
	jt_key(&t, 0, "summary", 0);
	jt_summary(&t, run);
	jt_raw(&t, "\n}\n", 3);
	if (!t.bad && fwrite(t.b, 1, t.n, stdout) == t.n)
		rc = 0;
out:
	free(t.b);
	return rc;
}
