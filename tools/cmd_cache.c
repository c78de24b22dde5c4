/* fp4rt cache: placeholder until the disk cache lands. */
#include "tools/cli.h"

static void help(FILE *out)
{
    fprintf(out, "usage: fp4rt cache stats|verify|clear|list [--json]\n");
}

static int run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "fp4rt cache: not available yet\n");
    return CLI_FAILED;
}

const cli_command cli_cache = { "cache", "inspect, verify or clear the "
                                         "kernel cache", run, help };
