/*
 * policy_cmd.c - `modelgate policy`: show the embedded or effective policy
 * as a file, check a policy file, list the compiled-in packs.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../policy/pin.h"
#include "../policy/policy.h"
#include "cli.h"

static const char usage_text[] =
"usage: modelgate policy show [--default] [--policy FILE]\n"
"       modelgate policy check FILE|-\n"
"\n"
"show     print the effective policy (embedded default < system policy\n"
"         /etc/modelgate/policy.conf < --policy FILE, else $MODELGATE_POLICY)\n"
"         as a policy file;\n"
"         --default prints the embedded default alone\n"
"check    validate FILE ('-' reads standard input) with its lockfiles and\n"
"         print the effective policy it gives after layering; errors name\n"
"         the file and line; warns when a locked policy (the system's, or\n"
"         FILE read as one) names a log_file users cannot append to\n"
"\n"
"exit status: 0 valid, 2 usage error or invalid policy\n";

static void
discard_note(void *ctx, const struct mg_note *n)
{
	(void)ctx;
	(void)n;
}

/* Warn when @p is locked and names a log_file users cannot append to;
 * @whose names the file that set it.  1 if it warned. */
static int
warn_log(const struct mg_policy *p, const char *whose)
{
	char why[1024];

	if (!mg_policy_locked(p) || mg_policy_log_file(p) == NULL ||
	    mg_policy_log_reachable(p, why, sizeof(why)))
		return 0;
	fprintf(stderr, "modelgate: warning: %s: a locked policy's log_file "
	        "must take users' lines, but %s; their decisions go to syslog "
	        "only\n", whose, why);
	return 1;
}

/*
 * Why both: the effective policy's log_file, when locked, is the system
 * policy's; and an administrator checks a would-be system policy with
 * `policy check new.conf`, where new.conf is read as a user file and its
 * own `locked` does not count - so read it again as a system policy.
 */
static void
check_log(const struct mg_policy *eff, const char *file)
{
	struct mg_policy *own = NULL;
	static char text[1 << 20];
	size_t len = 0;
	FILE *f;

	if (warn_log(eff, mg_policy_system_path()) ||
	    strcmp(file, "/dev/stdin") == 0 || (f = fopen(file, "re")) == NULL)
		return;
	len = fread(text, 1, sizeof(text), f);
	fclose(f);
	mg_policy_set_note_sink(discard_note, NULL);
	if (mg_policy_parse_text(file, text, len, &own, NULL, 0) == MG_OK)
		warn_log(own, file);
	mg_policy_set_note_sink(NULL, NULL);
	mg_policy_free(own);
}

/* Load and print; @user may be NULL.  Returns the exit status. */
static int
show(const char *user, int check)
{
	struct mg_policy *p = NULL;
	char err[1024];
	enum mg_err e;

	e = mg_policy_load_effective(user, 0, &p, err, sizeof(err));
	if (e != MG_OK) {
		mg_cli_error("%s", err[0] ? err : mg_strerror(e));
		return MG_EXIT_USAGE;
	}
	if (check && mg_policy_check_pins(p, err, sizeof(err)) != MG_OK) {
		mg_cli_error("%s", err);
		mg_policy_free(p);
		return MG_EXIT_USAGE;
	}
	if (check)
		check_log(p, user);
	printf("# modelgate %s effective policy: embedded default < %s%s%s\n",
	       MG_VERSION, mg_policy_system_path(), user ? " < " : "",
	       user ? user : "");
	mg_policy_write(p, stdout);
	mg_policy_free(p);
	return MG_EXIT_OK;
}

static int
show_default(void)
{
	struct mg_policy *p = mg_policy_new_default();

	if (p == NULL) {
		mg_cli_error("out of memory");
		return MG_EXIT_USAGE;
	}
	printf("# modelgate %s embedded default policy\n", MG_VERSION);
	mg_policy_write(p, stdout);
	mg_policy_free(p);
	return MG_EXIT_OK;
}

int
mg_cmd_policy(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "default", no_argument, NULL, 'd' },
		{ "policy", required_argument, NULL, 'p' },
		/* Hidden, for tests: a system policy other than /etc's.  It
		 * must still be root-owned; the preload has no such switch. */
		{ "system-policy", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *user = NULL, *cmd;
	int c, def = 0;

	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		fputs(usage_text, stdout);
		return MG_EXIT_OK;
	}
	if (argc < 2) {
		fputs(usage_text, stderr);
		return MG_EXIT_USAGE;
	}
	cmd = argv[1];
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "+dp:s:h", longopts,
	                        NULL)) != -1) {
		switch (c) {
		case 'd': def = 1; break;
		case 'p': user = optarg; break;
		case 's': mg_policy_set_system_path(optarg); break;
		case 'h': fputs(usage_text, stdout); return MG_EXIT_OK;
		default: fputs(usage_text, stderr); return MG_EXIT_USAGE;
		}
	}
	if (strcmp(cmd, "show") == 0 && optind == argc - 1) {
		if (user == NULL)
			user = getenv("MODELGATE_POLICY");
		return def ? show_default() : show(user, 0);
	}
	if (strcmp(cmd, "check") == 0 && optind == argc - 2 && !def && !user)
		return show(strcmp(argv[optind + 1], "-") == 0 ? "/dev/stdin" :
		            argv[optind + 1], 1);
	fputs(usage_text, stderr);
	return MG_EXIT_USAGE;
}
