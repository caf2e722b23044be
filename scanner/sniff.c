/*
 * sniff.c - the public face of the content sniffer (formats.h is private).
 */
#include "formats.h"

const char *
mg_scan_sniff(const uint8_t *buf, size_t len)
{
	enum mg_fmt f = mg_sniff(buf, len);

	return f == MG_FMT_UNKNOWN ? NULL : mg_fmt_name(f);
}
