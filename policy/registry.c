/*
 * registry.c - rules on where a model came from: Hugging Face cache paths
 * (".../models--ORG--NAME/snapshots/REV/...") matched against the policy's
 * allow_repos / deny_repos globs, and look-alike repository names.
 *
 * Decisions: a denied repo is dangerous (registry.denied).  When
 * allow_repos is set, a repo matching none of it is unknown
 * (registry.unlisted) - not dangerous, because a new legitimate repo is
 * far more common than an attack, and unknown already means "sandbox" by
 * default - unless its name is a near miss of an allowed one, which is
 * dangerous (registry.lookalike): "bert-base-uncaseed" is typosquatting,
 * not a new model.  Files outside a Hugging Face cache get no registry
 * finding.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "pin.h"
#include "policy_int.h"

int
mg_registry_repo(const char *path, char *repo, size_t len)
{
	const char *p = path, *c, *end, *sep;

	for (;;) {
		c = strstr(p, "models--");
		if (c == NULL)
			return 0;
		if (c == path || c[-1] == '/')
			break;
		p = c + 1;
	}
	c += strlen("models--");
	end = strchr(c, '/');
	if (end == NULL)
		end = c + strlen(c);
	if (end == c || (size_t)(end - c) >= len)
		return 0;
	/* Hugging Face writes "ORG/NAME" as "ORG--NAME"; names cannot hold
	 * "--", so the first one is the separator. */
	sep = strstr(c, "--");
	if (sep != NULL && sep < end)
		snprintf(repo, len, "%.*s/%.*s", (int)(sep - c), c,
		         (int)(end - sep - 2), sep + 2);
	else
		snprintf(repo, len, "%.*s", (int)(end - c), c);
	return 1;
}

/*
 * Fold look-alike characters to one representative, into @out.  Cyrillic
 * letters that render as Latin ones are mapped from their UTF-8 bytes.
 */
static void
fold(const char *s, char *out, size_t len)
{
	static const struct { const char *from, *to; } map[] = {
		{ "\xd0\xb0", "a" }, { "\xd0\xb5", "e" }, { "\xd0\xbe", "o" },
		{ "\xd1\x80", "p" }, { "\xd1\x81", "c" }, { "\xd1\x85", "x" },
		{ "\xd1\x83", "y" }, { "\xd1\x96", "l" }, { "\xd0\x90", "a" },
		{ "\xd0\x95", "e" }, { "\xd0\x9e", "o" }, { "\xd0\xa0", "p" },
		{ "\xd0\xa1", "c" }, { "rn", "m" }, { "vv", "w" },
		{ "0", "o" }, { "1", "l" }, { "i", "l" }, { "I", "l" },
		{ "_", "-" }, { ".", "-" },
	};
	size_t n = 0, i, fl;
	int done;

	while (*s != '\0' && n + 1 < len) {
		done = 0;
		for (i = 0; i < sizeof(map) / sizeof(map[0]) && !done; i++) {
			fl = strlen(map[i].from);
			if (strncmp(s, map[i].from, fl) == 0) {
				out[n++] = map[i].to[0];
				s += fl;
				done = 1;
			}
		}
		if (!done) {
			out[n++] = (*s >= 'A' && *s <= 'Z') ? (char)(*s + 32) : *s;
			s++;
		}
	}
	out[n] = '\0';
}

/* Optimal-string-alignment distance, stopping early above 2. */
static size_t
osa(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, c, v;
	size_t d0[130] = { 0 }, d1[130], d2[130];
	size_t *pp = d0, *p = d1, *cur = d2, *t;

	if (la > 128 || lb > 128)
		return 99;
	if (la > lb + 2 || lb > la + 2)
		return 3;
	for (j = 0; j <= lb; j++)
		p[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			c = a[i - 1] != b[j - 1];
			v = p[j - 1] + c;
			if (p[j] + 1 < v)
				v = p[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			cur[j] = v;
		}
		t = pp; pp = p; p = cur; cur = t;
	}
	return p[lb];
}

/* 1 if @a and @b differ only where both hold digits: "llama-2" and
 * "llama-3" are versions of one family, not a typo of each other. */
static int
digits_only(const char *a, const char *b)
{
	if (strlen(a) != strlen(b))
		return 0;
	for (; *a; a++, b++)
		if (*a != *b && !(*a >= '0' && *a <= '9' && *b >= '0' &&
		                  *b <= '9'))
			return 0;
	return 1;
}

/* -1: @got is @want itself; 1: a near miss; 0: unrelated. */
static int
near(const char *got, const char *want)
{
	char fg[256], fw[256];
	size_t lw, d;

	if (strcmp(got, want) == 0)
		return -1;
	fold(got, fg, sizeof(fg));
	fold(want, fw, sizeof(fw));
	if (strcmp(fg, fw) == 0)
		return 1;
	/* Why the length steps: in short names one edit is a different
	 * name ("bert" / "bart"), so they count only when they fold equal. */
	if (digits_only(got, want))
		return 0;
	lw = strlen(fw);
	d = osa(fg, fw);
	return (lw >= 8 && d <= 2) || (lw >= 5 && d <= 1);
}

static int
has_glob(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '[')
			return 1;
	return 0;
}

/* Compare one component: glob parts must match, literal ones may be near.
 * Returns -1 equal/matching, 1 near, 0 unrelated. */
static int
component(const char *got, const char *pat)
{
	if (has_glob(pat, strlen(pat)))
		return fnmatch(pat, got, 0) == 0 ? -1 : 0;
	return near(got, pat);
}

int
mg_registry_lookalike(const char *repo, const char *pattern)
{
	char ro[256], po[256];
	const char *rn, *pn;
	int a, b;

	rn = strchr(repo, '/');
	pn = strchr(pattern, '/');
	if ((rn == NULL) != (pn == NULL))
		return 0;
	if (rn == NULL)
		return component(repo, pattern) == 1;
	snprintf(ro, sizeof(ro), "%.*s", (int)(rn - repo), repo);
	snprintf(po, sizeof(po), "%.*s", (int)(pn - pattern), pattern);
	a = component(ro, po);
	b = component(rn + 1, pn + 1);
	return a != 0 && b != 0 && (a == 1 || b == 1);
}

/* The registry rules of @p for the file at @path (and its target @rpath). */
enum mg_err
mg_registry_check(const struct mg_policy *p, const char *path,
                  const char *rpath, struct mg_report *rep)
{
	char repo[512];
	size_t i;

	if (p->allow_repos.n == 0 && p->deny_repos.n == 0)
		return MG_OK;
	if (!(path && mg_registry_repo(path, repo, sizeof(repo))) &&
	    !(rpath && mg_registry_repo(rpath, repo, sizeof(repo))))
		return MG_OK;
	for (i = 0; i < p->deny_repos.n; i++)
		if (fnmatch(p->deny_repos.v[i], repo, 0) == 0)
			return mg_report_add(rep, MG_VERDICT_DANGEROUS,
			    "registry.denied", NULL, NULL, 0, "repository %s is "
			    "denied by the policy (deny_repos = %s)", repo,
			    p->deny_repos.v[i]);
	if (p->allow_repos.n == 0)
		return MG_OK;
	for (i = 0; i < p->allow_repos.n; i++)
		if (fnmatch(p->allow_repos.v[i], repo, 0) == 0)
			return MG_OK;
	for (i = 0; i < p->allow_repos.n; i++)
		if (mg_registry_lookalike(repo, p->allow_repos.v[i]))
			return mg_report_add(rep, MG_VERDICT_DANGEROUS,
			    "registry.lookalike", NULL, NULL, 0, "repository %s "
			    "looks like the allowed %s but is not it "
			    "(typosquatting?)", repo, p->allow_repos.v[i]);
	return mg_report_add(rep, MG_VERDICT_UNKNOWN, "registry.unlisted", NULL,
	                     NULL, 0, "repository %s is not in allow_repos",
	                     repo);
}
