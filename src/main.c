/*
 * bankfeed: argv, configuration, and the commands of the one binary.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/config.h"
#include "core/log.h"

struct command {
	const char	*name;
	int		(*run)(int, char **);
	const char	*help;
};

static int cmd_help(int, char **);

static const struct command commands[] = {
	{ "help", cmd_help, "this text" },
};

static int
cmd_help(int argc, char **argv)
{
	size_t	i;

	(void)argc;
	(void)argv;
	printf("usage: bankfeed COMMAND [options]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-10s %s\n", commands[i].name, commands[i].help);
	printf("\nserver options (flag, environment variable):\n");
	config_usage(stdout);
	return 0;
}

int
main(int argc, char **argv)
{
	size_t	i;

	if (sodium_init() < 0) {
		fprintf(stderr, "bankfeed: libsodium failed to initialize\n");
		return 1;
	}
	if (argc < 2)
		return cmd_help(argc, argv);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, argv[1]) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "bankfeed: unknown command \"%s\"; try bankfeed help\n",
	    argv[1]);
	return 2;
}
