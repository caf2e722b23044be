/*
 * pickle_text.c - private to scanner/: the pure byte-level helpers of the
 * pickle analyser - the loader's string decoders, the dunder test, and the
 * format sniffer.  No state, no allocation: pickle.c owns the walk.
 */
#include <stdint.h>
#include <string.h>

#include "bytes.h"
#include "pickle.h"
#include "pickle_text.h"

int
mg_pickle_is_opcode(uint8_t c)
{
	static const char ops[] = "(.012FIJKLMNPQRSTUVXabcdeghijlopqrstu}])G"
	                          "BC";

	return (c >= 0x80 && c <= 0x98) || (c != 0 && strchr(ops, c) != NULL);
}

/* ---- decoding --------------------------------------------------------- */

/*
 * PyBytes_DecodeEscape as the STRING opcode uses it.  @out may be NULL
 * (validate and count only).  Returns the decoded length, or -1 with the
 * offending offset in *@bad.
 */
long long
mg_pickle_unescape_string(const uint8_t *in, size_t n, uint8_t *out,
                          size_t *bad)
{
	size_t i = 0, o = 0;
	int c, d1, d2, k;

	while (i < n) {
		if (in[i] != '\\') {
			c = in[i++];
			goto put;
		}
		if (++i == n) {
			*bad = i - 1; /* Why: "Trailing \ in string" */
			return -1;
		}
		switch ((c = in[i++])) {
		case '\n': continue;
		case '\\': case '\'': case '"': break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 't': c = '\t'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 'v': c = '\v'; break;
		case 'a': c = '\a'; break;
		case '0': case '1': case '2': case '3':
		case '4': case '5': case '6': case '7':
			c -= '0';
			for (k = 0; k < 2 && i < n && in[i] >= '0' &&
			     in[i] <= '7'; k++)
				c = (c << 3) + in[i++] - '0';
			c &= 0xff; /* the loader truncates \400-\777 too */
			break;
		case 'x':
			/* Why both digits are required: the loader raises
			   "invalid \x escape" otherwise (errors=strict). */
			d1 = i < n ? mg_hexval(in[i]) : -1;
			d2 = i + 1 < n ? mg_hexval(in[i + 1]) : -1;
			if (d1 < 0 || d2 < 0) {
				*bad = i - 2;
				return -1;
			}
			c = (d1 << 4) | d2;
			i += 2;
			break;
		default:
			/* Unknown escapes stay as backslash + char. */
			if (out != NULL)
				out[o] = '\\';
			o++;
			i--;
			continue;
		}
put:
		if (out != NULL)
			out[o] = (uint8_t)c;
		o++;
	}
	return (long long)o;
}

static size_t
put_utf8(uint8_t *out, uint32_t cp)
{
	uint8_t tmp[4], *b = out != NULL ? out : tmp;

	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (uint8_t)(0xf0 | cp >> 18);
	b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	b[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * raw-unicode-escape to UTF-8, as the UNICODE opcode decodes: \uXXXX and
 * \UXXXXXXXX are escapes only after an odd run of backslashes; every other
 * byte is a Latin-1 code point.  @out NULL counts.  -1 and *@bad on error.
 */
long long
mg_pickle_unescape_unicode(const uint8_t *in, size_t n, uint8_t *out,
                           size_t *bad)
{
	size_t i = 0, o = 0, j, run, ndig, k;
	uint32_t cp;
	int d;

	while (i < n) {
		if (in[i] != '\\') {
			o += put_utf8(out != NULL ? out + o : NULL, in[i++]);
			continue;
		}
		for (j = i; j < n && in[j] == '\\'; j++)
			;
		run = j - i;
		if (j == n || (in[j] != 'u' && in[j] != 'U') || run % 2 == 0) {
			for (k = 0; k < run; k++)
				o += put_utf8(out != NULL ? out + o : NULL, '\\');
			i = j;
			continue;
		}
		for (k = 0; k + 1 < run; k++)
			o += put_utf8(out != NULL ? out + o : NULL, '\\');
		ndig = in[j] == 'u' ? 4 : 8;
		cp = 0;
		for (k = 0; k < ndig; k++) {
			if (j + 1 + k >= n || (d = mg_hexval(in[j + 1 + k])) < 0) {
				*bad = j - 1; /* "truncated \uXXXX escape" */
				return -1;
			}
			cp = (cp << 4) | (uint32_t)d;
		}
		if (cp > 0x10ffff) {
			*bad = j - 1;
			return -1;
		}
		o += put_utf8(out != NULL ? out + o : NULL, cp);
		i = j + 1 + ndig;
	}
	return (long long)o;
}

/* UTF-8 with "surrogatepass" (what BINUNICODE decodes with).  0 or -1. */
int
mg_pickle_utf8_valid(const uint8_t *b, size_t n)
{
	size_t i = 0, k, need;
	uint32_t cp, min;

	while (i < n) {
		if (b[i] < 0x80) {
			i++;
			continue;
		}
		if ((b[i] & 0xe0) == 0xc0) {
			need = 1; cp = b[i] & 0x1f; min = 0x80;
		} else if ((b[i] & 0xf0) == 0xe0) {
			need = 2; cp = b[i] & 0x0f; min = 0x800;
		} else if ((b[i] & 0xf8) == 0xf0) {
			need = 3; cp = b[i] & 0x07; min = 0x10000;
		} else {
			return -1;
		}
		if (need > n - i - 1)
			return -1;
		for (k = 1; k <= need; k++) {
			if ((b[i + k] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (b[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff)
			return -1;
		i += need + 1;
	}
	return 0;
}

static int
is_dunder(const char *c, size_t n)
{
	return n >= 4 && c[0] == '_' && c[1] == '_' && c[n - 2] == '_' &&
	       c[n - 1] == '_';
}

/* Does any dot-separated component of @s look like __x__? */
int
mg_pickle_has_dunder(const char *str)
{
	const char *c = str, *dot;

	for (;;) {
		dot = strchr(c, '.');
		if (is_dunder(c, dot != NULL ? (size_t)(dot - c) : strlen(c)))
			return 1;
		if (dot == NULL)
			return 0;
		c = dot + 1;
	}
}

/*
 * Why the first part: importlib imports "a.b.c" as "a", then "a.b", then
 * "a.b.c", so the first lookup is the part before the first dot (".x"
 * has none: its lookup is "x").  A lookup finds a builtin or frozen
 * module, a sys.modules key, or a directory entry of a sys.path folder;
 * none of them holds a space, a control byte or punctuation in any
 * package either stack installs, and no import statement can name one.
 * Why '-' is left out: "train-model.py" beside a script is found by
 * importlib.import_module("train-model"); digits likewise ("01_prep").
 * What this trusts: that no such file is on sys.path.  The guard
 * (preload/guard.c) refuses these names at find_class, so a program it
 * guards cannot load one even so.  Why it matters: text lines begin with
 * opcode letters ("comment_char %", "include \"/usr/...\"", CRLF lines).
 */
int
mg_pickle_unimportable(const uint8_t *m, size_t n)
{
	size_t i;

	for (i = 0; i < n && m[i] != '.'; i++) {
		uint8_t c = m[i];

		/* c > 0x20 here, so strchr never matches the NUL. */
		if (c <= 0x20 || c == 0x7f ||
		    (c < 0x80 && strchr("!\"#$%&'()*+,/:;<=>?@[\\]^`{|}~",
		                        c) != NULL))
			return 1;
	}
	return 0;
}

int
mg_pickle_attr_name(const uint8_t *s, size_t n)
{
	size_t i, part = 0;

	for (i = 0; i < n; i++, part++) {
		uint8_t c = s[i];

		if (c == '.') {
			if (part == 0)
				return 0;
			part = (size_t)-1;
		} else if (!(c == '_' || c >= 0x80 ||
		             (unsigned)((c | 0x20) - 'a') < 26u ||
		             (part > 0 && (unsigned)(c - '0') < 10u))) {
			return 0;
		}
	}
	return part > 0;
}

/* ---- the sniffer ------------------------------------------------------ */

/*
 * A name line of GLOBAL/INST up to '\n'.  Loose on purpose: the loader
 * takes any UTF-8 (and Python 2 pickles end lines in CRLF), so we only
 * refuse what no importable name has: spaces and control characters.
 */
static int
name_byte(uint8_t c)
{
	return c > 0x20 && c != 0x7f;
}

static int
sniff_name(const uint8_t *b, size_t n, size_t *i)
{
	size_t start = *i;

	while (*i < n && (name_byte(b[*i]) ||
	                  (b[*i] == '\r' && *i + 1 < n && b[*i + 1] == '\n')))
		(*i)++;
	if (*i == n)
		return *i > start; /* window ended inside a plausible name */
	if (b[*i] != '\n' || *i == start)
		return 0;
	(*i)++;
	return 1;
}

/* Digits (optionally signed) up to '\n' or the end of the window. */
static int
sniff_digits(const uint8_t *b, size_t n, size_t *i)
{
	size_t start;

	if (*i < n && b[*i] == '-')
		(*i)++;
	start = *i;
	while (*i < n && b[*i] >= '0' && b[*i] <= '9')
		(*i)++;
	if (*i < n && b[*i] == 'L')
		(*i)++;
	if (*i == n)
		return 1;
	if (b[*i] != '\n' || *i == start)
		return 0;
	(*i)++;
	return 1;
}

/*
 * Trade-off: protocol 2+ streams announce themselves (PROTO 2-5).  Protocol
 * 0/1 streams start with ordinary ASCII letters and punctuation, so we walk
 * the first opcodes of the window with a stack-depth count: a text file
 * soon pops what it never pushed, names a module with a space in it, or
 * hits a byte that is no opcode.  Anything that survives the window is
 * called a pickle: a false positive costs an error verdict on an odd text
 * file, a false negative would let a pickle pass as "not a model".
 */
int
mg_pickle_sniff(const uint8_t *buf, size_t len)
{
	size_t n = len < 16 ? len : 16, i = 0, depth = 0, marks = 0, ops = 0;
	uint8_t c;

	if (n >= 2 && buf[0] == 0x80)
		return buf[1] >= 2 && buf[1] <= 5 &&
		       (n == 2 || mg_pickle_is_opcode(buf[2]));
	while (i < n) {
		c = buf[i++];
		ops++;
		switch (c) {
		case '(': marks++; break;
		case ')': case ']': case '}': case 'N': depth++; break;
		case 'c': case 'i':
			if (c == 'i' && marks == 0)
				return 0;
			if (!sniff_name(buf, n, &i) ||
			    (i < n && !sniff_name(buf, n, &i)))
				return 0;
			if (c == 'i')
				marks--;
			depth++;
			break;
		case 'I': case 'L': case 'p': case 'g':
			/* Why: a stream that starts with GET fails on the empty
			 * memo before anything runs ("hi" in a zip's readme). */
			if (c == 'g' && ops == 1)
				return 0;
			if (!sniff_digits(buf, n, &i))
				return 0;
			if (c == 'p' && depth == 0)
				return 0;
			if (c != 'p')
				depth++;
			break;
		case 'S':
			if (i < n && buf[i] != '\'' && buf[i] != '"')
				return 0;
			return 1;
		case 'V': case 'F':
			return depth > 0 || marks > 0 || i < n;
		case 'K': i += 1; depth++; break;
		case 'M': i += 2; depth++; break;
		case 'J': i += 4; depth++; break;
		case 'q': i += 1; if (depth == 0) return 0; break;
		case 'r': i += 4; if (depth == 0) return 0; break;
		case 'h': case 'j':
			if (ops == 1)
				return 0; /* GET first: see 'g' above */
			i += c == 'h' ? 1 : 4;
			depth++;
			break;
		case 'G': i += 8; depth++; break;
		case 'a': case 'R': case 'b':
			if (depth < 2)
				return 0;
			depth--;
			break;
		case 's':
			if (depth < 3)
				return 0;
			depth -= 2;
			break;
		case 'e': case 'u':
			if (marks == 0 || depth == 0)
				return 0;
			marks--;
			break;
		case '0':
			if (depth > 0)
				depth--;
			else if (marks > 0)
				marks--;
			else
				return 0;
			break;
		case 'U': case 'C': case 'X': case 'T': case 'B':
			return depth > 0 || marks > 0 || ops == 1;
		case 'd': case 'l': case 't':
			if (marks == 0)
				return 0;
			marks--;
			depth++;
			break;
		case '.': return depth > 0;
		/* Protocol 2+ opcodes without a PROTO: both unpicklers run
		 * every opcode whatever the protocol announced, and
		 * pickletools-written or hand-made streams mix them into a
		 * protocol 0 start ("cbuiltins\nlen\n]\x85R."). */
		case 0x85: /* TUPLE1 */
		case 0x94: /* MEMOIZE */
		case 0x98: /* READONLY_BUFFER */
			if (depth == 0)
				return 0;
			break;
		case 0x86: /* TUPLE2 */
		case 0x81: /* NEWOBJ */
		case 0x93: /* STACK_GLOBAL */
			if (depth < 2)
				return 0;
			depth--;
			break;
		case 0x87: /* TUPLE3 */
		case 0x92: /* NEWOBJ_EX */
			if (depth < 3)
				return 0;
			depth -= 2;
			break;
		case 0x88: case 0x89: case 0x8f: case 0x97:
			depth++; /* NEWTRUE, NEWFALSE, EMPTY_SET, NEXT_BUFFER */
			break;
		case 0x82: i += 1; depth++; break;      /* EXT1 */
		case 0x83: i += 2; depth++; break;      /* EXT2 */
		case 0x84: i += 4; depth++; break;      /* EXT4 */
		case 0x8a: /* LONG1: a length byte, then the digits */
			if (i < n)
				i += 1 + (size_t)buf[i];
			depth++;
			break;
		case 0x95: i += 8; break;               /* FRAME */
		case 0x90: /* ADDITEMS */
			if (marks == 0 || depth == 0)
				return 0;
			marks--;
			break;
		case 0x91: /* FROZENSET */
			if (marks == 0)
				return 0;
			marks--;
			depth++;
			break;
		case 0x8b: case 0x8c: case 0x8d: case 0x8e: case 0x96:
			/* LONG4, SHORT_BINUNICODE, BINUNICODE8, BINBYTES8,
			 * BYTEARRAY8: data follows, as for 'U' above. */
			return depth > 0 || marks > 0 || ops == 1;
		default:
			return 0;
		}
	}
	return ops >= 1 && (depth > 0 || marks > 0);
}
