/*
 * logline.c - JSON records in a fixed buffer (logline.h): the audit log's
 * string convention, shared by the preload and the watch daemon.
 * Allocation-free: the preload builds records inside other programs.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "logline.h"

void
mg_logline_put(struct mg_logline *l, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (l->bad)
		return;
	va_start(ap, fmt);
	k = vsnprintf(l->buf + l->n, l->cap - l->n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= l->cap - l->n)
		l->bad = 1;
	else
		l->n += (size_t)k;
}

size_t
mg_logline_utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t u;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, u = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, u = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, u = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		u = u << 6 | (s[i] & 0x3f);
	}
	if (u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff) ||
	    (len == 3 && u < 0x800) || (len == 4 && u < 0x10000))
		return 0;
	return len;
}

void
mg_logline_str(struct mg_logline *l, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, k;

	if (s == NULL) {
		mg_logline_put(l, "null");
		return;
	}
	mg_logline_put(l, "\"");
	for (n = strlen(s); n > 0 && !l->bad; p += k, n -= k) {
		k = 1;
		if (*p == '\\')
			mg_logline_put(l, "\\\\\\\\");   /* decodes to two */
		else if (*p == '"')
			mg_logline_put(l, "\\\"");
		else if (*p < 0x20 || *p == 0x7f)
			mg_logline_put(l, "\\u%04x", *p);
		else if ((k = mg_logline_utf8_seq(p, n)) == 0) {
			mg_logline_put(l, "\\\\x%02x", *p);  /* decodes to \xNN */
			k = 1;
		} else
			mg_logline_put(l, "%.*s", (int)k, (const char *)p);
	}
	mg_logline_put(l, "\"");
}
