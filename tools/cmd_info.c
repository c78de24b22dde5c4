/* fp4rt info: the GPU, its target, the compilers and the cache. */
#include <string.h>

#include "tools/cli.h"

static void help(FILE *out)
{
    fprintf(out,
            "usage: fp4rt info [--json] [--device N]\n\n"
            "Shows the GPU and its exact compile target, the CUDA driver,\n"
            "NVRTC and nvJitLink versions, the kernel cache and whether JIT\n"
            "is allowed.  Without a GPU it shows what it can (compilers,\n"
            "cache) for the default target.\n");
}

typedef struct info_view {
    fp4rt_context_info info;
    fp4rt_status device_status;
    char device_error[1024];
} info_view;

static void features_text(unsigned f, char *buf, size_t len)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        { FP4RT_FEATURE_E2M1_CVT, "e2m1-cvt" },
        { FP4RT_FEATURE_E4M3_CVT, "e4m3-cvt" },
        { FP4RT_FEATURE_BLOCK_MMA, "block-mma" },
        { FP4RT_FEATURE_WGMMA, "wgmma" },
        { FP4RT_FEATURE_CP_ASYNC, "cp.async" },
        { FP4RT_FEATURE_TCGEN05, "tcgen05" },
    };
    buf[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(f & names[i].bit))
            continue;
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", used ? " " : "",
                 names[i].name);
    }
}

static void print_text(const info_view *v)
{
    const fp4rt_context_info *i = &v->info;
    char feats[256];
    features_text(i->features, feats, sizeof feats);
    printf("fp4rt      %s\n", fp4rt_version_string());
    if (v->device_status == FP4RT_SUCCESS)
        printf("device     %d: %s, %d SMs\n", i->device, i->device_name,
               i->sm_count);
    else
        printf("device     none (%s: %s)\n",
               fp4rt_status_string(v->device_status), v->device_error);
    printf("target     %s (compute capability %d.%d)%s\n", i->target,
           i->cc_major, i->cc_minor,
           i->offline ? ", offline: default target" : "");
    printf("features   %s\n", feats[0] ? feats : "none");
    if (i->driver_version)
        printf("driver     CUDA %d.%d\n", i->driver_version / 1000,
               (i->driver_version % 1000) / 10);
    else
        printf("driver     not loaded\n");
    if (i->nvrtc_major)
        printf("nvrtc      %d.%d\n", i->nvrtc_major, i->nvrtc_minor);
    else
        printf("nvrtc      not available (cached kernels only)\n");
    if (i->nvjitlink_major)
        printf("nvjitlink  %d.%d\n", i->nvjitlink_major, i->nvjitlink_minor);
    else
        printf("nvjitlink  not used (NVRTC cubins)\n");
    printf("jit        %s\n", i->jit_enabled ? "enabled" : "disabled");
    printf("cache      %s\n", i->disk_cache ? i->cache_dir
                                            : "memory only");
}

static void print_json(const info_view *v)
{
    const fp4rt_context_info *i = &v->info;
    printf("{\"version\": ");
    cli_json_string(stdout, fp4rt_version_string());
    printf(", \"device\": ");
    if (v->device_status == FP4RT_SUCCESS) {
        printf("{\"ordinal\": %d, \"name\": ", i->device);
        cli_json_string(stdout, i->device_name);
        printf(", \"sm_count\": %d}", i->sm_count);
    } else {
        printf("null, \"device_error\": ");
        cli_json_string(stdout, v->device_error);
    }
    printf(", \"target\": ");
    cli_json_string(stdout, i->target);
    printf(", \"offline\": %s, \"features\": %u, \"driver_version\": %d",
           i->offline ? "true" : "false", i->features, i->driver_version);
    printf(", \"nvrtc\": \"%d.%d\", \"nvjitlink\": \"%d.%d\"",
           i->nvrtc_major, i->nvrtc_minor, i->nvjitlink_major,
           i->nvjitlink_minor);
    printf(", \"jit_enabled\": %s, \"disk_cache\": %s, \"cache_dir\": ",
           i->jit_enabled ? "true" : "false",
           i->disk_cache ? "true" : "false");
    cli_json_string(stdout, i->cache_dir);
    printf("}\n");
}

static int run(int argc, char **argv)
{
    int json = 0, device = 0;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[a], "--device") == 0 && a + 1 < argc) {
            device = cli_parse_int(argv[++a], 0, 1024);
            if (device < 0) {
                fprintf(stderr, "fp4rt info: bad --device '%s'\n", argv[a]);
                return CLI_USAGE;
            }
        } else {
            fprintf(stderr, "fp4rt info: unknown argument '%s'\n", argv[a]);
            help(stderr);
            return CLI_USAGE;
        }
    }
    info_view v;
    fp4rt_context *ctx = NULL;
    fp4rt_context_options o = FP4RT_CONTEXT_OPTIONS_INIT;
    memset(&v, 0, sizeof v);
    v.info.struct_size = sizeof v.info;
    o.device = device;
    v.device_status = fp4rt_context_create(&o, &ctx);
    if (v.device_status != FP4RT_SUCCESS) {
        snprintf(v.device_error, sizeof v.device_error, "%s",
                 fp4rt_last_error());
        o.target = "sm_90a";
        fp4rt_status st = fp4rt_context_create(&o, &ctx);
        if (st != FP4RT_SUCCESS) {
            cli_report("info", "creating an offline context", st);
            return CLI_FAILED;
        }
    }
    fp4rt_context_get_info(ctx, &v.info);
    if (json)
        print_json(&v);
    else
        print_text(&v);
    fp4rt_context_destroy(ctx);
    return CLI_OK;
}

const cli_command cli_info = { "info", "show the GPU, target, compilers "
                                       "and cache", run, help };
