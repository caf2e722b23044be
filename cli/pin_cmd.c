/* pin_cmd.c - placeholder until the command lands. */
#include "cli.h"

int
mg_cmd_pin(int argc, char **argv)
{
	(void)argc; (void)argv;
	mg_cli_error("'pin' is not built yet");
	return MG_EXIT_USAGE;
}
