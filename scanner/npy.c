/* npy.c - placeholder until the reader lands: never clean. */
#include "formats.h"

enum mg_err
mg_npy_scan(const struct mg_scan_opts *o, const char *name,
            const char *member, const uint8_t *buf, size_t len,
            unsigned depth, struct mg_report *rep)
{
	(void)o; (void)name; (void)buf; (void)len; (void)depth;
	return mg_report_add(rep, MG_VERDICT_ERROR, "format.unsupported", NULL,
	                     member, 0, "npy content cannot be read yet");
}
