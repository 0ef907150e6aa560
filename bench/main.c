/*
 * bfbench: the benchmark harness's tools, one command each (see bench.h);
 * bench/run calls them.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

struct command {
	const char	*name;
	int		(*run)(int, char **);
	const char	*help;
};

static const struct command commands[] = {
	{ "fill", cmd_fill, "DATA_DIR CLIENT_ID NACCOUNTS NTXNS IDS_FILE" },
	{ "bare", cmd_bare, "SOURCE_DB WORK_DIR" },
	{ "statements", cmd_statements, "DIR MEGABYTES" },
	{ "start", cmd_start, "PORT RUNS -- COMMAND..." },
	{ "slow", cmd_slow,
	    "BASE_URL TOKEN N TIMEOUT_S SERVER_PID [INSTITUTION USERNAME "
	    "[prepare|dispatch FILE]]" },
};

int
main(int argc, char **argv)
{
	size_t	i;

	if (sodium_init() < 0) {
		fprintf(stderr, "bfbench: libsodium failed to initialize\n");
		return 1;
	}
	for (i = 0; argc >= 2 && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, argv[1]) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "usage: bfbench COMMAND ARGS\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "  %-11s %s\n", commands[i].name,
		    commands[i].help);
	return 2;
}
