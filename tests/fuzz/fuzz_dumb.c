/*
 * fuzz_dumb.c - libFuzzer target over the dbm.dumb index parser
 * (scanner/dumb.c, mg_dumb_parse_line).
 *
 * The input is a .dir file: it is split into lines as dumb.py's text mode
 * splits them (\n, \r, \r\n), each parsed as the scanner does.
 * Properties beyond "no crash, no sanitizer report": a parsed key lies in
 * the scratch and is no longer than its line; a refused line always says
 * why.  Does the parser read lines as literal_eval does?  That is
 * test_preload_shelve's differential, against the real dbm.dumb.  Seeds:
 * tests/fuzz/seeds-dumb.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../scanner/formats.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_dumb_entry e;
	const char *why;
	uint8_t *scratch = malloc(size + 1);
	size_t at = 0, end;

	if (scratch == NULL)
		return 0;
	while (at < size) {
		for (end = at; end < size && data[end] != '\n' &&
		     data[end] != '\r'; end++)
			;
		why = NULL;
		if (mg_dumb_parse_line(data + at, end - at, scratch, &e,
		                       &why) == 0) {
			if (e.klen > end - at || e.key < scratch ||
			    e.key + e.klen > scratch + size + 1)
				__builtin_trap();
		} else if (why == NULL) {
			__builtin_trap();
		}
		if (end + 1 < size && data[end] == '\r' && data[end + 1] == '\n')
			end++;
		at = end + 1;
	}
	free(scratch);
	return 0;
}
