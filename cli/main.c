/*
 * main.c - the modelgate command: a table of subcommands, nothing more.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../scanner/scanner.h"
#include "cli.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "scan", mg_cmd_scan, "scan model files and directories for code" },
	{ "run", mg_cmd_run, "run a command with the preload protecting it" },
	{ "pin", mg_cmd_pin, "print or check SHA-256 lockfile lines" },
	{ "policy", mg_cmd_policy, "show or check a policy file" },
	{ "kernel", mg_cmd_kernel, "install, remove or list Jupyter kernels run under the preload" },
	{ "host", mg_cmd_host, "install, remove or check the preload host-wide" },
	{ "watch", mg_cmd_watch, "(root) deny model files system-wide with fanotify" },
	{ "helper", mg_cmd_helper, "(internal) the scanning helper the preload starts" },
};

void
mg_cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("modelgate: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: modelgate COMMAND [ARGS...]\n"
	           "       modelgate --help | --version\n\n"
	           "Stop malicious model files from running code when Python "
	           "loads them.\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'modelgate COMMAND --help' describes one command, "
	           "'man modelgate' all of them,\n"
	           "'man modelgate.policy' the policy file.\n"
	           "exit status: 2 on a usage error; otherwise each command's "
	           "own (scan: 0 all\nallowed, 1 something would be sandboxed "
	           "or denied)\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return MG_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return MG_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("modelgate %s\n", MG_VERSION);
		return MG_EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	mg_cli_error("unknown command '%s' (try 'modelgate --help')", argv[1]);
	return MG_EXIT_USAGE;
}
