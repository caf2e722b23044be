/*
 * host_list.c - editing /etc/ld.so.preload for `modelgate host`.
 *
 * ld.so splits the file into words on blanks, tabs, newlines and ':', and
 * a word starting with '#' starts a comment that runs to the end of its
 * line.  One parser reads the list for install (add our entry), uninstall
 * (take every modelgate entry out) and status (is ours there, and which
 * stale ones are), so status reports exactly what install would change.
 * Every line without a modelgate word is kept byte for byte; the file is
 * replaced atomically (host_fs.c), never edited in place.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host.h"

/* Is the word @w (@n bytes) a modelgate library (".../libmodelgate.so")? */
static int
is_mg_word(const char *w, size_t n)
{
	size_t k = strlen(MG_HOST_LIB_NAME);

	return n >= k && memcmp(w + n - k, MG_HOST_LIB_NAME, k) == 0 &&
	       (n == k || w[n - k - 1] == '/');
}

/* How the list is rewritten. */
struct edit {
	const char *keep;   /* our entry: kept once, or NULL to drop all */
	const char *verb;   /* "dropped the stale entry", "removed"; NULL:
	                       say nothing, list them in @stale (status) */
	int kept;           /* @keep was seen (and kept) */
	int dropped;        /* entries dropped */
	char stale[1024];   /* with @verb NULL: the dropped ones */
};

/* Is the word @w (@n bytes) one @e drops?  Says so when it is. */
static int
drops(struct edit *e, const char *w, size_t n)
{
	int ours = e->keep != NULL && strlen(e->keep) == n &&
	           memcmp(w, e->keep, n) == 0;

	if (!is_mg_word(w, n))
		return 0;
	if (ours && !e->kept) {
		e->kept = 1;
		return 0;
	}
	if (e->verb != NULL)
		printf("  %s %.*s from %s\n", ours ?
		       "dropped a second copy of" : e->verb, (int)n, w,
		       MG_HOST_LIST);
	else
		snprintf(e->stale + strlen(e->stale), sizeof(e->stale) -
		         strlen(e->stale), "%s%.*s", e->stale[0] ? ", " : "",
		         (int)n, w);
	e->dropped++;
	return 1;
}

/*
 * Rewrite the line @l (@n bytes, no newline) into @out; 1 if something
 * was written, 0 if the line is dropped, -1 when out of memory.  ld.so
 * splits the file on blanks, tabs, newlines and ':'; a word starting
 * with '#' starts a comment.  A line with no modelgate word is kept byte
 * for byte; one with some is rebuilt from its other words (and its
 * comment), or dropped when nothing else was on it.
 */
static int
edit_line(struct edit *e, const char *l, size_t n, struct mg_host_buf *out)
{
	struct mg_host_buf rest = { NULL, 0, 0 };
	size_t i = 0, j;
	int touched = 0, rc = 0;

	while (i < n) {
		for (; i < n && strchr(" \t:", l[i]); i++)
			;
		if (i >= n || l[i] == '#')
			break;
		for (j = i; j < n && !strchr(" \t:", l[j]); j++)
			;
		if (drops(e, l + i, j - i))
			touched = 1;
		else if ((rest.n > 0 && mg_host_buf_str(&rest, " ") != 0) ||
		         mg_host_buf_add(&rest, l + i, j - i) != 0)
			rc = -1;
		i = j;
	}
	/* Here l[i..n) is the comment, if any. */
	if (!touched) {
		rc |= mg_host_buf_add(out, l, n);
		rc = rc ? -1 : 1;
	} else if (rest.n == 0 && i >= n) {
		rc = rc ? -1 : 0;
	} else {
		if (rest.n > 0 && mg_host_buf_add(out, rest.p, rest.n) != 0)
			rc = -1;
		if (i < n && ((rest.n > 0 && mg_host_buf_str(out, " ") != 0) ||
		              mg_host_buf_add(out, l + i, n - i) != 0))
			rc = -1;
		rc = rc ? -1 : 1;
	}
	mg_host_buf_free(&rest);
	return rc;
}

/* @old (the list's text, @n bytes) edited by @e into @out; our entry is
 * appended as a line of its own when @e->keep is set and was not there.
 * Every line keeps its newline, and only the last may lack one, as in
 * @old.  0, or -1 when out of memory. */
static int
edit_list(struct edit *e, const char *old, size_t n, struct mg_host_buf *out)
{
	size_t i = 0, j;
	int w;

	if (mg_host_buf_add(out, "", 0) != 0)
		return -1;
	while (i < n) {
		for (j = i; j < n && old[j] != '\n'; j++)
			;
		w = edit_line(e, old + i, j - i, out);
		if (w < 0 ||
		    (w > 0 && j < n && mg_host_buf_str(out, "\n") != 0))
			return -1;
		i = j + 1;
	}
	if (e->keep == NULL || e->kept)
		return 0;
	if (out->n > 0 && out->p[out->n - 1] != '\n' &&
	    mg_host_buf_str(out, "\n") != 0)
		return -1;
	return mg_host_buf_str(out, e->keep) != 0 ||
	       mg_host_buf_str(out, "\n") != 0 ? -1 : 0;
}

/* 1 if @s (@n bytes) holds nothing but blanks. */
static int
blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strchr(" \t\r\n:", s[i]))
			return 0;
	return 1;
}

/*
 * Read the list into @old.  0 (a missing file reads as empty), or -1.
 * With @strict (install), a list that is not root's alone is refused:
 * whoever else can write it already decides what every process loads.
 */
static int
read_list(const struct mg_host *h, struct mg_host_buf *old, int strict)
{
	char why[PATH_MAX + 200];
	int st = mg_host_file_state(MG_HOST_LIST, why, sizeof(why));

	if (st < 0 && strict) {
		mg_host_fail(h, "%s; fix that first", why);
		return -1;
	}
	if (st < 0)
		printf("  warning: %s\n", why);
	if (mg_host_read_text(MG_HOST_LIST, old) != 0) {
		if (errno == ENOENT)
			return mg_host_buf_add(old, "", 0);
		mg_host_fail(h, "cannot read %s: %s", MG_HOST_LIST,
		             strerror(errno));
		return -1;
	}
	return 0;
}

/* Add @h->lib to the list (dropping stale modelgate entries). */
int
mg_host_list_add(const struct mg_host *h)
{
	struct edit e = { h->lib, "dropped the stale entry", 0, 0, "" };
	struct mg_host_buf old = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	int rc = -1;

	if (read_list(h, &old, 1) != 0)
		goto done;
	if (edit_list(&e, old.p, old.n, &out) != 0) {
		mg_host_fail(h, "out of memory");
		goto done;
	}
	if (out.n == old.n && memcmp(out.p, old.p, old.n) == 0) {
		printf("  %s already lists %s\n", MG_HOST_LIST, h->lib);
		rc = 0;
		goto done;
	}
	if (mg_host_write_atomic(h, MG_HOST_LIST, out.p, out.n, 0644) != 0)
		goto done;
	if (!e.kept)
		printf("  added %s to %s\n", h->lib, MG_HOST_LIST);
	rc = 0;
done:
	mg_host_buf_free(&old);
	mg_host_buf_free(&out);
	return rc;
}

/* Take every modelgate entry out of the list; a list left blank is
 * removed.  *@did is set when something changed. */
int
mg_host_list_remove(const struct mg_host *h, int *did)
{
	struct edit e = { NULL, "removed", 0, 0, "" };
	struct mg_host_buf old = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	int rc = -1;

	if (read_list(h, &old, 0) != 0)
		goto done;
	if (edit_list(&e, old.p, old.n, &out) != 0) {
		mg_host_fail(h, "out of memory");
		goto done;
	}
	rc = 0;
	if (e.dropped == 0)
		goto done;
	*did = 1;
	if (blank(out.p, out.n)) {
		if (unlink(MG_HOST_LIST) != 0 && errno != ENOENT) {
			mg_host_fail(h, "cannot remove %s: %s", MG_HOST_LIST,
			             strerror(errno));
			rc = -1;
			goto done;
		}
		mg_host_fsync_dir(MG_HOST_LIST);
		printf("  removed %s (nothing else was listed)\n",
		       MG_HOST_LIST);
	} else {
		rc = mg_host_write_atomic(h, MG_HOST_LIST, out.p, out.n, 0644);
	}
done:
	mg_host_buf_free(&old);
	mg_host_buf_free(&out);
	return rc;
}

int
mg_host_list_lookup(const char *lib, int *listed, char *stale, size_t len)
{
	struct edit e = { lib, NULL, 0, 0, "" };
	struct mg_host_buf b = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	int rc = -1;

	if (mg_host_read_text(MG_HOST_LIST, &b) != 0)
		goto done;
	if (edit_list(&e, b.p, b.n, &out) != 0) {
		errno = ENOMEM;
		goto done;
	}
	*listed = e.kept;
	snprintf(stale, len, "%s", e.stale);
	rc = 0;
done:
	mg_host_buf_free(&b);
	mg_host_buf_free(&out);
	return rc;
}
