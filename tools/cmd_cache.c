/* fp4rt cache: inspect, verify, clear or list the kernel cache. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/cli.h"

static void help(FILE *out)
{
    fprintf(out,
            "usage: fp4rt cache stats|verify|clear|list [--json] "
            "[--cache-dir DIR]\n"
            "       fp4rt cache verify --repair\n\n"
            "  stats     the cache directory, its entries and bytes, and\n"
            "            those of the read-only layers\n"
            "  verify    read every entry of the writable directory and\n"
            "            check its checksums; --repair removes invalid\n"
            "            entries and stale temporary files\n"
            "  clear     remove every entry of the writable directory\n"
            "            (read-only layers are never touched)\n"
            "  list      every entry of every layer, read-only ones first\n\n"
            "  --json           print JSON on stdout\n"
            "  --cache-dir DIR  use DIR instead of FP4RT_CACHE_DIR,\n"
            "                   $XDG_CACHE_HOME/fp4rt or ~/.cache/fp4rt\n\n"
            "Environment: FP4RT_CACHE_DIR, FP4RT_CACHE_READONLY_DIRS\n"
            "(colon-separated), FP4RT_CACHE=off, FP4RT_CACHE_MAX_BYTES.\n\n"
            "exit status: 0 success (verify: no invalid entry left), 1 a\n"
            "failure (verify: invalid entries; verify or clear: no writable\n"
            "cache directory), 2 usage\n");
}

typedef struct cache_cli {
    const char *verb;
    int json, repair;
    const char *dir;
    fp4rt_context *ctx;
    int creating;              /* messages now come from context creation */
    char notice[2048];
} cache_cli;

static void on_log(void *user, fp4rt_log_level level, const char *msg)
{
    cache_cli *c = user;
    static const char prefix[] = "kernel cache: ";
    int ours = strncmp(msg, prefix, sizeof prefix - 1) == 0;
    if (level > FP4RT_LOG_WARNING)
        return;
    if (ours)
        msg += sizeof prefix - 1;
    /* What opening the cache had to say (the notice): shown by stats. */
    if (c->creating && ours) {
        size_t used = strlen(c->notice);
        snprintf(c->notice + used, sizeof c->notice - used, "%s%s",
                 used ? "; " : "", msg);
        return;
    }
    fprintf(stderr, "fp4rt cache: %s\n", msg);
}

/* Any offline target will do: the cache does not depend on it. */
static int open_context(cache_cli *c)
{
    fp4rt_context_options o = FP4RT_CONTEXT_OPTIONS_INIT;
    o.target = "sm_90a";
    o.cache_dir = c->dir;
    o.log_fn = on_log;
    o.log_user = c;
    c->creating = 1;
    fp4rt_status st = fp4rt_context_create(&o, &c->ctx);
    c->creating = 0;
    if (st != FP4RT_SUCCESS) {
        cli_report("cache", "opening the cache", st);
        return -1;
    }
    return 0;
}

static void cache_dir(const cache_cli *c, char *out, size_t len)
{
    fp4rt_context_info info = FP4RT_CONTEXT_INFO_INIT;
    fp4rt_context_get_info(c->ctx, &info);
    snprintf(out, len, "%s", info.disk_cache ? info.cache_dir : "");
}

/* ------------------------------------------------------------------ */
/* stats                                                               */
/* ------------------------------------------------------------------ */

typedef struct layer_totals {
    unsigned long long entries, bytes;
} layer_totals;

static void add_layer_entry(void *user, const fp4rt_cache_entry_info *e)
{
    layer_totals *t = user;
    if (!e->read_only)
        return;
    t->entries++;
    t->bytes += e->bytes;
}

static int cmd_stats(cache_cli *c)
{
    fp4rt_cache_counters k = FP4RT_CACHE_COUNTERS_INIT;
    layer_totals ro = { 0, 0 };
    char dir[4096];
    fp4rt_status st = fp4rt_cache_stats(c->ctx, &k);
    if (st == FP4RT_SUCCESS)
        st = fp4rt_cache_list(c->ctx, add_layer_entry, &ro);
    if (st != FP4RT_SUCCESS) {
        cli_report("cache", "stats", st);
        return CLI_FAILED;
    }
    cache_dir(c, dir, sizeof dir);
    if (c->json) {
        printf("{\"cache_dir\": ");
        cli_json_string(stdout, dir);
        printf(", \"disk_cache\": %s, \"notice\": ", dir[0] ? "true"
                                                            : "false");
        cli_json_string(stdout, c->notice);
        printf(", \"entries\": %llu, \"bytes\": %llu, "
               "\"readonly_entries\": %llu, \"readonly_bytes\": %llu}\n",
               (unsigned long long)k.entries, (unsigned long long)k.bytes,
               ro.entries, ro.bytes);
        return CLI_OK;
    }
    printf("cache      %s\n", dir[0] ? dir : "memory only");
    if (c->notice[0])
        printf("notice     %s\n", c->notice);
    printf("entries    %llu\n", (unsigned long long)k.entries);
    printf("bytes      %llu (%.1f MiB)\n", (unsigned long long)k.bytes,
           (double)k.bytes / (1024.0 * 1024.0));
    printf("read-only  %llu entries, %llu bytes\n", ro.entries, ro.bytes);
    return CLI_OK;
}

/* ------------------------------------------------------------------ */
/* verify and clear                                                    */
/* ------------------------------------------------------------------ */

static int cmd_verify(cache_cli *c)
{
    fp4rt_cache_verify_report r = FP4RT_CACHE_VERIFY_REPORT_INIT;
    fp4rt_cache_verify_report after = FP4RT_CACHE_VERIFY_REPORT_INIT;
    char dir[4096];
    fp4rt_status st = fp4rt_cache_verify(c->ctx, c->repair, &r);
    /* After a repair, what counts is what is left. */
    if (st == FP4RT_SUCCESS && c->repair)
        st = fp4rt_cache_verify(c->ctx, 0, &after);
    if (st != FP4RT_SUCCESS) {
        cli_report("cache", "verify", st);
        return CLI_FAILED;
    }
    uint64_t left = c->repair ? after.invalid : r.invalid;
    cache_dir(c, dir, sizeof dir);
    if (c->json) {
        printf("{\"cache_dir\": ");
        cli_json_string(stdout, dir);
        printf(", \"checked\": %llu, \"valid\": %llu, \"invalid\": %llu, "
               "\"removed\": %llu, \"temp_files\": %llu, "
               "\"invalid_left\": %llu}\n",
               (unsigned long long)r.checked, (unsigned long long)r.valid,
               (unsigned long long)r.invalid, (unsigned long long)r.removed,
               (unsigned long long)r.temp_files, (unsigned long long)left);
    } else {
        printf("%s: %llu entries checked, %llu valid, %llu invalid, "
               "%llu temporary files, %llu files removed\n",
               dir, (unsigned long long)r.checked,
               (unsigned long long)r.valid, (unsigned long long)r.invalid,
               (unsigned long long)r.temp_files,
               (unsigned long long)r.removed);
        if (left)
            printf("%llu invalid entries left%s\n", (unsigned long long)left,
                   c->repair ? "" : " (fp4rt cache verify --repair "
                                    "removes them)");
    }
    return left ? CLI_FAILED : CLI_OK;
}

static int cmd_clear(cache_cli *c)
{
    fp4rt_cache_counters before = FP4RT_CACHE_COUNTERS_INIT;
    fp4rt_cache_counters after = FP4RT_CACHE_COUNTERS_INIT;
    char dir[4096];
    fp4rt_status st = fp4rt_cache_stats(c->ctx, &before);
    if (st == FP4RT_SUCCESS)
        st = fp4rt_cache_clear(c->ctx);
    if (st == FP4RT_SUCCESS)
        st = fp4rt_cache_stats(c->ctx, &after);
    if (st != FP4RT_SUCCESS) {
        cli_report("cache", "clear", st);
        return CLI_FAILED;
    }
    unsigned long long removed = before.entries - after.entries;
    cache_dir(c, dir, sizeof dir);
    if (c->json) {
        printf("{\"cache_dir\": ");
        cli_json_string(stdout, dir);
        printf(", \"removed\": %llu, \"entries\": %llu}\n", removed,
               (unsigned long long)after.entries);
    } else {
        printf("%s: %llu entries removed\n", dir, removed);
    }
    return CLI_OK;
}

/* ------------------------------------------------------------------ */
/* list                                                                */
/* ------------------------------------------------------------------ */

typedef struct list_state {
    int json;
    unsigned long long count;
} list_state;

static void print_entry_json(const fp4rt_cache_entry_info *e)
{
    printf("{\"key\": ");
    cli_json_string(stdout, e->key);
    printf(", \"module\": ");
    cli_json_string(stdout, e->module);
    printf(", \"target\": ");
    cli_json_string(stdout, e->target);
    printf(", \"producer\": ");
    cli_json_string(stdout, e->producer);
    printf(", \"bytes\": %llu, \"last_used\": %lld, \"read_only\": %s, "
           "\"valid\": %s}",
           (unsigned long long)e->bytes, (long long)e->last_used,
           e->read_only ? "true" : "false", e->valid ? "true" : "false");
}

static void print_entry(void *user, const fp4rt_cache_entry_info *e)
{
    list_state *s = user;
    if (s->json) {
        printf("%s", s->count ? ",\n  " : "\n  ");
        print_entry_json(e);
    } else {
        char when[32] = "?";
        time_t t = (time_t)e->last_used;
        struct tm tm;
        if (localtime_r(&t, &tm))
            strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
        printf("%.16s  %-20s %-8s %10llu  %s%s%s\n",
               e->key[0] ? e->key : "(bad name)", e->module, e->target,
               (unsigned long long)e->bytes, when,
               e->read_only ? "  read-only" : "",
               e->valid ? "" : "  INVALID");
    }
    s->count++;
}

static int cmd_list(cache_cli *c)
{
    list_state s = { c->json, 0 };
    if (c->json)
        printf("{\"entries\": [");
    fp4rt_status st = fp4rt_cache_list(c->ctx, print_entry, &s);
    if (c->json)
        printf("%s]}\n", s.count ? "\n" : "");
    if (st != FP4RT_SUCCESS) {
        cli_report("cache", "list", st);
        return CLI_FAILED;
    }
    return CLI_OK;
}

/* ------------------------------------------------------------------ */

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "fp4rt cache: %s '%s'\n", what, arg);
    help(stderr);
    return CLI_USAGE;
}

static int parse(cache_cli *c, int argc, char **argv)
{
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--json") == 0)
            c->json = 1;
        else if (strcmp(argv[a], "--repair") == 0)
            c->repair = 1;
        else if (strcmp(argv[a], "--cache-dir") == 0 && a + 1 < argc)
            c->dir = argv[++a];
        else if (!c->verb && argv[a][0] != '-')
            c->verb = argv[a];
        else
            return usage_error("unknown argument", argv[a]);
    }
    if (!c->verb) {
        help(stderr);
        return CLI_USAGE;
    }
    if (c->repair && strcmp(c->verb, "verify") != 0)
        return usage_error("--repair goes with verify, not", c->verb);
    return CLI_OK;
}

static int run(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(cache_cli *);
    } verbs[] = { { "stats", cmd_stats }, { "verify", cmd_verify },
                  { "clear", cmd_clear }, { "list", cmd_list } };
    cache_cli c;
    memset(&c, 0, sizeof c);
    int rc = parse(&c, argc, argv);
    if (rc != CLI_OK)
        return rc;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        if (strcmp(c.verb, verbs[i].name) != 0)
            continue;
        if (open_context(&c) != 0)
            return CLI_FAILED;
        rc = verbs[i].fn(&c);
        fp4rt_context_destroy(c.ctx);
        return rc;
    }
    return usage_error("unknown subcommand", c.verb);
}

const cli_command cli_cache = { "cache", "inspect, verify, clear or list "
                                         "the kernel cache", run, help };
