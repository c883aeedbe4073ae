/* coretool map: not built yet. */
#include "cli.h"

const char CMD_MAP_HELP[] = "Not implemented yet.\n";

int cmd_map(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_usage(cli, "map is not implemented yet");
}
