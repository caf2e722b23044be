/* pickle.c - placeholder until the analyser lands: never clean. */
#include "pickle.h"

enum mg_err
mg_pickle_scan_one(const struct mg_scan_opts *o,
                   const struct mg_pickle_hooks *hooks, const uint8_t *buf,
                   size_t len, const char *member, uint64_t base,
                   struct mg_report *rep, size_t *end)
{
	(void)o; (void)hooks; (void)buf;
	*end = len;
	return mg_report_add(rep, MG_VERDICT_ERROR, "pickle.unsupported", NULL,
	                     member, base, "pickle analyser not built yet");
}

enum mg_err
mg_pickle_scan_all(const struct mg_scan_opts *o,
                   const struct mg_pickle_hooks *hooks, const uint8_t *buf,
                   size_t len, const char *member, uint64_t base,
                   struct mg_report *rep)
{
	size_t end;

	return mg_pickle_scan_one(o, hooks, buf, len, member, base, rep, &end);
}

int
mg_pickle_sniff(const uint8_t *buf, size_t len)
{
	return len >= 2 && buf[0] == 0x80 && buf[1] >= 2 && buf[1] <= 5;
}
