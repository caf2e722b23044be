/*
 * logline.h - one JSON record built in a caller's fixed buffer: the
 * preload's audit log (preload/audit.c) and the watch daemon's
 * (cli/watch.c) write the same fields the same way.
 */
#ifndef MG_LOGLINE_H
#define MG_LOGLINE_H

#include <stddef.h>

#include "../scanner/scanner.h"   /* MG_PRINTF */

/* A record being built in @buf[0..@cap); an overflow marks it bad (it is
 * then dropped whole, never split or cut). */
struct mg_logline {
	char *buf;
	size_t cap, n;
	int bad;
};

/* Append printf-style text (no escaping). */
void mg_logline_put(struct mg_logline *l, const char *fmt, ...)
	MG_PRINTF(2, 3);

/*
 * Append @s as a JSON string, quotes included (NULL: null), in the
 * convention `modelgate scan --format json` uses for names from files: a
 * backslash is doubled and a byte that is not part of valid UTF-8 becomes
 * the four characters \xNN, so the record is valid UTF-8 and the bytes
 * can be recovered (README, "Names that are not UTF-8").
 */
void mg_logline_str(struct mg_logline *l, const char *s);

/* Length of the UTF-8 sequence at @s (@n bytes left) strict JSON readers
 * accept: no overlong form, no surrogate, nothing past U+10FFFF; 0 if
 * it is not one. */
size_t mg_logline_utf8_seq(const unsigned char *s, size_t n);

#endif
