/* coretool maps: not built yet. */
#include "cli.h"

const char CMD_MAPS_HELP[] = "Not implemented yet.\n";

int cmd_maps(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_usage(cli, "maps is not implemented yet");
}
