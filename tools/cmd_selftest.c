/* fp4rt selftest: every kernel on this GPU against the CPU reference. */
#include <string.h>

#include "tools/cli.h"

static void help(FILE *out)
{
    fprintf(out,
            "usage: fp4rt selftest [--device N] [--cases N] [--exhaustive]\n"
            "                      [-j N] [--verbose] [--json]\n\n"
            "Runs every kernel family on this GPU (every mode, random and\n"
            "adversarial inputs, and the software conversions too where the\n"
            "GPU has hardware ones) and compares the results with the CPU\n"
            "reference bit for bit.  This is how a target that fp4rt has\n"
            "only compiled for is confirmed on real hardware.\n\n"
            "  --device N     CUDA device ordinal (default 0)\n"
            "  --cases N      random quantization cases (default 40)\n"
            "  --exhaustive   also the E2M1 conversion on all 2^32 inputs\n"
            "  -j N           compile the kernels the cache lacks with N\n"
            "                 threads first (default: one a CPU, at most 16)\n"
            "  --verbose      print every check, not only failures\n"
            "  --json         one JSON object on stdout\n\n"
            "exit status: 0 all checks equal, 1 a check differed or failed,\n"
            "2 usage, 3 no usable GPU\n");
}

typedef struct report {
    int verbose, json, first;
} report;

static void on_check(void *user, const char *check, int passed,
                     const char *detail)
{
    report *r = user;
    if (r->json) {
        printf("%s{\"check\": ", r->first ? "" : ", ");
        cli_json_string(stdout, check);
        printf(", \"passed\": %s, \"detail\": ", passed ? "true" : "false");
        cli_json_string(stdout, detail);
        printf("}");
        r->first = 0;
    } else if (!passed || r->verbose) {
        printf("%s  %s%s%s\n", passed ? "PASS" : "FAIL", check,
               passed ? "" : ": ", passed ? "" : detail);
    }
    fflush(stdout);
}

static int parse(int argc, char **argv, fp4rt_context_options *o,
                 fp4rt_selftest_options *so, report *r)
{
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--device") == 0 && a + 1 < argc)
            o->device = cli_parse_int(argv[++a], 0, 1024);
        else if (strcmp(argv[a], "--cases") == 0 && a + 1 < argc)
            so->random_cases = cli_parse_int(argv[++a], 1, 100000);
        else if (strcmp(argv[a], "--exhaustive") == 0)
            so->exhaustive = 1;
        else if (strcmp(argv[a], "-j") == 0 && a + 1 < argc)
            so->compile_threads = cli_parse_int(argv[++a], 1, 256);
        else if (strcmp(argv[a], "--verbose") == 0)
            r->verbose = 1;
        else if (strcmp(argv[a], "--json") == 0)
            r->json = 1;
        else {
            fprintf(stderr, "fp4rt selftest: unknown argument '%s'\n",
                    argv[a]);
            return -1;
        }
        if (o->device < 0 || so->random_cases < 0 ||
            so->compile_threads < 0) {
            fprintf(stderr, "fp4rt selftest: bad value for %s\n",
                    argv[a - 1]);
            return -1;
        }
    }
    return 0;
}

static int run(int argc, char **argv)
{
    fp4rt_context_options o = FP4RT_CONTEXT_OPTIONS_INIT;
    fp4rt_selftest_options so = FP4RT_SELFTEST_OPTIONS_INIT;
    fp4rt_context_info info = FP4RT_CONTEXT_INFO_INIT;
    report r = { 0, 0, 1 };
    fp4rt_context *ctx = NULL;
    unsigned passed = 0, failed = 0;

    so.compile_threads = cli_default_threads();
    if (parse(argc, argv, &o, &so, &r) != 0) {
        help(stderr);
        return CLI_USAGE;
    }
    fp4rt_status st = fp4rt_context_create(&o, &ctx);
    if (st != FP4RT_SUCCESS) {
        cli_report("selftest", "no usable GPU", st);
        return st == FP4RT_ERR_NO_DRIVER || st == FP4RT_ERR_NO_DEVICE
                   ? CLI_NO_DEVICE
                   : CLI_FAILED;
    }
    fp4rt_context_get_info(ctx, &info);
    so.report = on_check;
    so.user = &r;
    if (r.json)
        printf("{\"device\": \"%s\", \"target\": \"%s\", \"checks\": [",
               info.device_name, info.target);
    else
        printf("selftest on %s (%s)\n", info.device_name, info.target);
    st = fp4rt_selftest(ctx, &so, &passed, &failed);
    if (r.json)
        printf("], \"passed\": %u, \"failed\": %u}\n", passed, failed);
    else
        printf("selftest on %s (%s): %u passed, %u failed\n",
               info.device_name, info.target, passed, failed);
    if (st != FP4RT_SUCCESS && st != FP4RT_ERR_MISMATCH)
        cli_report("selftest", "running", st);
    fp4rt_context_destroy(ctx);
    return st == FP4RT_SUCCESS ? CLI_OK : CLI_FAILED;
}

const cli_command cli_selftest = { "selftest", "run every kernel on this "
                                               "GPU against the CPU "
                                               "reference", run, help };
