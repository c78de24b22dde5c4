/* The fp4rt command: info, prewarm, cache, selftest. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/cli.h"

static const cli_command *const commands[] = {
    &cli_info, &cli_prewarm, &cli_cache, &cli_selftest, NULL
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fp4rt [--version] [--help] COMMAND [ARGS]\n\n"
            "NVFP4 kernels compiled at run time for the exact GPU target.\n\n"
            "commands:\n");
    for (const cli_command *const *c = commands; *c; c++)
        fprintf(out, "  %-10s %s\n", (*c)->name, (*c)->summary);
    fprintf(out,
            "\n'fp4rt COMMAND --help' describes a command.\n"
            "exit status: 0 success, 1 failure, 2 usage error, "
            "3 no usable GPU\n");
}

void cli_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

int cli_is(const char *arg, const char *a, const char *b)
{
    return (a && strcmp(arg, a) == 0) || (b && strcmp(arg, b) == 0);
}

int cli_parse_int(const char *s, int min, int max)
{
    char *end;
    long v;
    if (!s || !*s)
        return -1;
    v = strtol(s, &end, 10);
    if (*end || v < min || v > max)
        return -1;
    return (int)v;
}

void cli_report(const char *cmd, const char *what, fp4rt_status st)
{
    fprintf(stderr, "fp4rt %s: %s: %s", cmd, what, fp4rt_status_string(st));
    if (fp4rt_last_error()[0])
        fprintf(stderr, ": %s", fp4rt_last_error());
    fputc('\n', stderr);
}

double cli_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int cli_default_threads(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus < 1 ? 1 : cpus > 16 ? 16 : (int)cpus;
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (cli_is(argv[i], "-h", "--help"))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (cli_is(argv[1], "-h", "--help") || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (cli_is(argv[1], "-V", "--version")) {
        printf("fp4rt %s\n", fp4rt_version_string());
        return CLI_OK;
    }
    for (const cli_command *const *c = commands; *c; c++) {
        if (strcmp(argv[1], (*c)->name) != 0)
            continue;
        if (cli_wants_help(argc - 1, argv + 1)) {
            (*c)->help(stdout);
            return CLI_OK;
        }
        return (*c)->run(argc - 1, argv + 1);
    }
    fprintf(stderr, "fp4rt: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
