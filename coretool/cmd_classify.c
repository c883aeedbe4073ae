/* coretool classify: not built yet. */
#include "cli.h"

const char CMD_CLASSIFY_HELP[] = "Not implemented yet.\n";

int cmd_classify(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_usage(cli, "classify is not implemented yet");
}
