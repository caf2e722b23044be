/* scan.c - placeholder until the command lands. */
#include "cli.h"

int
mg_cmd_scan(int argc, char **argv)
{
	(void)argc; (void)argv;
	mg_cli_error("'scan' is not built yet");
	return MG_EXIT_USAGE;
}
