/* keras.c - placeholder until the reader lands: never clean. */
#include "formats.h"

enum mg_err
mg_keras_config_scan(const struct mg_scan_opts *o, const char *member,
                     const uint8_t *json, size_t len, struct mg_report *rep)
{
	(void)o; (void)json; (void)len;
	return mg_report_add(rep, MG_VERDICT_ERROR, "format.unsupported", NULL,
	                     member, 0, "Keras configs cannot be read yet");
}
