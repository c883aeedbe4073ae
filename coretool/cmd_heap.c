/* coretool heap: not built yet. */
#include "cli.h"

const char CMD_HEAP_HELP[] = "Not implemented yet.\n";

int cmd_heap(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_usage(cli, "heap is not implemented yet");
}
