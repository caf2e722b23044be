/* run.c - placeholder until the command lands. */
#include "cli.h"

int
mg_cmd_run(int argc, char **argv)
{
	(void)argc; (void)argv;
	mg_cli_error("'run' is not built yet");
	return MG_EXIT_USAGE;
}
