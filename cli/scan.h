/*
 * scan.h - private to the `modelgate scan` command: what scan.c (options,
 * finding paths, scanning, progress, exit status) hands to scan_out.c
 * (text and JSON) and sarif.c (SARIF 2.1.0).
 *
 * A run is a list of entries, one per path, in output order: command-line
 * arguments in the order given, the files found in one directory argument
 * in bytewise order of their full paths.  Each file (st_dev, st_ino) is
 * scanned once; a later entry naming it is a copy of the first entry's
 * result that says so (same_as).
 */
#ifndef MG_CLI_SCAN_H
#define MG_CLI_SCAN_H

#include <stdint.h>

#include <jansson.h>

#include "../policy/policy.h"
#include "../scanner/scanner.h"

enum mg_scan_format { MG_OUT_TEXT, MG_OUT_JSON, MG_OUT_SARIF };

/* What became of one path. */
enum mg_entry_state {
	MG_ENTRY_SCANNED = 0,    /* read and decided */
	MG_ENTRY_FAILED = 1,     /* read, but the scan could not finish
	                            (out of memory): never clean, exit 2 */
	MG_ENTRY_UNREADABLE = 2, /* could not be opened or read: exit 2, and
	                            not counted as any action */
};

struct mg_scan_entry {
	char *path;              /* as given or found; "-" is standard input */
	int err;                 /* errno found while collecting (stat or a
	                            directory that cannot be read), else 0 */
	int is_stdin;
	enum mg_entry_state state;
	long same_as;            /* index of the first entry of this file, or
	                            -1 (this entry was scanned itself) */
	enum mg_verdict verdict;
	enum mg_action action;
	int blocked;             /* decided: would be sandboxed or denied */
	uint64_t size;           /* bytes read (st_size), 0 if unknown */
	json_t *obj;             /* the JSON file object (sarif) */
	char *json;              /* its text, as the json format prints it */
	size_t json_len;
	size_t json_body, json_end; /* json[body, end): the members after
	                            "path", as a repeat of this file copies
	                            them */
	char *prescan;           /* first entry of a file: what the pre-scan
	                            (pins, registry: path rules) said */
};

struct mg_scan_run {
	const struct mg_policy *policy;
	struct mg_scan_opts opts;
	enum mg_scan_format format;
	int verbosity;           /* -1 -q, 0, 1 -v */
	struct mg_scan_entry *v; /* the entries, in output order */
	size_t n, cap;
	void *inodes;            /* tsearch(3) tree of files scanned */
	size_t nunique;          /* files actually scanned */
	size_t nunreadable;      /* entries MG_ENTRY_UNREADABLE */
	size_t nverdict[MG_VERDICT_COUNT]; /* per contract verdict, every entry */
	size_t naction[4];       /* per enum mg_action, entries read */
	int failed;              /* a scan failed or memory ran out: exit 2
	                            unless something is blocked */
};

/*
 * Print one entry in the text format on stdout: "PATH: VERDICT (ACTION)
 * [FORMAT]" and its findings (all of them with -v, else all but info),
 * the globals with -v; a repeat (e->same_as >= 0) is "PATH: same file as
 * FIRST: VERDICT (ACTION)".  @r is the entry's report, NULL for a repeat.
 * With -q nothing is printed for an entry whose action is allow.
 */
void mg_scanout_text_entry(const struct mg_scan_run *run,
                           const struct mg_scan_entry *e,
                           const struct mg_report *r);

/* The text format's closing line ("N files: ..."); nothing with -q. */
void mg_scanout_text_summary(const struct mg_scan_run *run);

/*
 * @s as JSON and SARIF carry a string that comes from a file (a path, a
 * member, a global, a message naming them): each backslash doubled, each
 * byte not part of a valid UTF-8 sequence as the four characters \xNN
 * (lower-case hex), everything else as is; so it is UTF-8 and the bytes
 * come back by reading \\ as \ and \xNN as byte NN.  Malloc'd; NULL when
 * out of memory.
 */
char *mg_scanout_escape(const char *s);

/* json_string(mg_scanout_escape(@s)), json_null() when @s is NULL, NULL
 * when out of memory. */
json_t *mg_scanout_string(const char *s);

/*
 * The JSON file object of @r for @path (the DESIGN.md contract: path,
 * format, verdict, action, sha256 (null when @sha is NULL or empty),
 * findings, plus globals, findings_dropped, pickles).  New reference, or
 * NULL when out of memory.
 */
json_t *mg_scanout_file_json(const char *path, const struct mg_report *r,
                             enum mg_action a, const char *sha);

/*
 * Write @doc to @out as JSON_INDENT(2) text and a newline, in large
 * writes.  0, or -1 when a write failed (part of the text may be out).
 */
int mg_scanout_dump(const json_t *doc, FILE *out);

/*
 * Entry @e's file object as the json format prints it (the members of
 * mg_scanout_file_json, written as jansson writes them) into e->json.
 * 0, or -1 when out of memory.
 */
int mg_scanout_file_text(struct mg_scan_entry *e, const struct mg_report *r,
                         const char *sha);

/* Entry @e names the file entry @f scanned: @f's text with @e's path and
 * "same_as" into e->json.  0 or -1, as mg_scanout_file_text(). */
int mg_scanout_repeat_text(struct mg_scan_entry *e,
                           const struct mg_scan_entry *f);

/* Print the JSON document of @run on stdout.  0, or -1 when it could not
 * be built or written. */
int mg_scanout_json(const struct mg_scan_run *run);

/*
 * Print the SARIF 2.1.0 log of @run on stdout; @status is the exit status
 * the run will have (invocations[0]).  0, or -1 when it could not be built
 * or written.
 */
int mg_sarif_print(const struct mg_scan_run *run, int status);

#endif /* MG_CLI_SCAN_H */
