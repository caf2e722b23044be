/*
 * pickle_text.h - private to scanner/: byte-level helpers of the pickle
 * analyser (pickle_text.c).  Pure functions; nothing here allocates.
 */
#ifndef MG_PICKLE_TEXT_H
#define MG_PICKLE_TEXT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode the body of a protocol-0 STRING (between its quotes) as the
 * loader's PyBytes_DecodeEscape does.  @out may be NULL to validate and
 * count only; otherwise it must hold the count returned by a NULL pass.
 * Returns the decoded length, or -1 with *@bad set to the offset (in @in)
 * of the bad escape (trailing backslash, \x without two hex digits).
 */
long long mg_pickle_unescape_string(const uint8_t *in, size_t n,
                                    uint8_t *out, size_t *bad);

/*
 * Decode a protocol-0 UNICODE line as raw-unicode-escape, into UTF-8.
 * Same calling convention as mg_pickle_unescape_string(); -1 for a
 * truncated \u/\U escape or a code point above U+10FFFF.
 */
long long mg_pickle_unescape_unicode(const uint8_t *in, size_t n,
                                     uint8_t *out, size_t *bad);

/* 0 if @b[0..@n) is UTF-8 as "surrogatepass" accepts it, else -1. */
int mg_pickle_utf8_valid(const uint8_t *b, size_t n);

/* 1 if any dot-separated component of the C string @s is __x__-shaped. */
int mg_pickle_has_dunder(const char *s);

/*
 * 1 if no import can find the module @m[0..@n) names: the part before
 * its first dot holds a space, a control byte or ASCII punctuation other
 * than '_' and '-' (see pickle_text.c).  0 for anything an import might
 * find, the empty first part of ".x" included.
 */
int mg_pickle_unimportable(const uint8_t *m, size_t n);

/*
 * 1 if @s[0..@n) can name a global's attribute as pickle.dumps writes
 * one: dot-separated parts, each a letter, '_' or a non-ASCII byte, then
 * those and digits.  A name no class, function or qualname has ("----",
 * "", "a b") is 0: the guard refuses it at find_class.
 */
int mg_pickle_attr_name(const uint8_t *s, size_t n);

/* 1 if @c is an opcode of protocols 0-5: a key of _pickle.c's load()
 * dispatch (any other byte is an "invalid load key"). */
int mg_pickle_is_opcode(uint8_t c);

#endif /* MG_PICKLE_TEXT_H */
