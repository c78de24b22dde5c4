/* Shared pieces of the fp4rt command. */
#ifndef FP4RT_TOOLS_CLI_H
#define FP4RT_TOOLS_CLI_H

#include <stdio.h>

#include "runtime/fp4rt.h"

/* Exit codes. */
#define CLI_OK 0
#define CLI_FAILED 1       /* an operation failed */
#define CLI_USAGE 2        /* bad command line */
#define CLI_NO_DEVICE 3    /* a GPU was needed and none is usable */

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
    void (*help)(FILE *out);
} cli_command;

extern const cli_command cli_info, cli_prewarm, cli_cache, cli_selftest;

/* Writes s as a JSON string literal. */
void cli_json_string(FILE *out, const char *s);
/* 1 if arg equals one of the flags (NULL-terminated list). */
int cli_is(const char *arg, const char *a, const char *b);
/* Parses an int in [min, max]; -1 on error. */
int cli_parse_int(const char *s, int min, int max);
/* Reports an fp4rt failure on stderr: "fp4rt CMD: what: status: detail". */
void cli_report(const char *cmd, const char *what, fp4rt_status st);
/* Seconds on a monotonic clock. */
double cli_now(void);
/* Compile threads unless told: one a CPU, at most 16. */
int cli_default_threads(void);
/* "-h"/"--help" anywhere in argv. */
int cli_wants_help(int argc, char **argv);

#endif
