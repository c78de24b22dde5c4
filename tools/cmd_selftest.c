/* fp4rt selftest: placeholder until the quantization kernels land. */
#include "tools/cli.h"

static void help(FILE *out)
{
    fprintf(out, "usage: fp4rt selftest [--device N]\n");
}

static int run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "fp4rt selftest: not available yet\n");
    return CLI_FAILED;
}

const cli_command cli_selftest = { "selftest", "run every kernel on this "
                                               "GPU against the CPU "
                                               "reference", run, help };
