/* A test-only `bankfeed import`: the real command is wired into main.c. */
#include "formats/formats.h"

int
main(int argc, char **argv)
{
	return formats_cmd_import(argc, argv);
}
