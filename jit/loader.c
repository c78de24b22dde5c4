/* Run-time loading of the CUDA driver, NVRTC and nvJitLink. */
#include "jit/loader.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEARCH_DIRS 16

typedef struct sym_spec {
    const char *symbol;
    int required;
    size_t offset;     /* of the function pointer in fp4rt_cuda_api */
} sym_spec;

#define FP4RT_DRIVER_SYM(name, sym, req, ret, params)                        \
    { sym, req, offsetof(fp4rt_cuda_api, name) },
static const sym_spec driver_syms[] = {
#include "jit/cuda_syms.def"
};
#undef FP4RT_DRIVER_SYM

#define FP4RT_NVRTC_SYM(name, sym, req, ret, params)                         \
    { sym, req, offsetof(fp4rt_cuda_api, name) },
static const sym_spec nvrtc_syms[] = {
#include "jit/cuda_syms.def"
};
#undef FP4RT_NVRTC_SYM

#define FP4RT_NVJITLINK_SYM(name, sym, req, ret, params)                     \
    { sym, req, offsetof(fp4rt_cuda_api, name) },
static const sym_spec nvjitlink_syms[] = {
#include "jit/cuda_syms.def"
};
#undef FP4RT_NVJITLINK_SYM

typedef struct lib_spec {
    const char *what;             /* for messages */
    const char *const *sonames;   /* preferred first */
    const sym_spec *syms;
    size_t sym_count;
    fp4rt_status missing;         /* status when it cannot be loaded */
    size_t lib_offset;            /* of the fp4rt_lib in fp4rt_cuda_api */
} lib_spec;

/* Never the bare libcuda.so: that is the development symlink. */
static const char *const driver_names[] = { "libcuda.so.1", NULL };
static const char *const nvrtc_names[] = { "libnvrtc.so.13", "libnvrtc.so.12",
                                           NULL };
static const char *const nvjitlink_names[] = { "libnvJitLink.so.13",
                                               "libnvJitLink.so.12", NULL };

static const lib_spec lib_specs[] = {
    { "CUDA driver", driver_names, driver_syms,
      sizeof driver_syms / sizeof driver_syms[0], FP4RT_ERR_NO_DRIVER,
      offsetof(fp4rt_cuda_api, driver) },
    { "NVRTC", nvrtc_names, nvrtc_syms,
      sizeof nvrtc_syms / sizeof nvrtc_syms[0], FP4RT_ERR_NO_COMPILER,
      offsetof(fp4rt_cuda_api, nvrtc) },
    { "nvJitLink", nvjitlink_names, nvjitlink_syms,
      sizeof nvjitlink_syms / sizeof nvjitlink_syms[0], FP4RT_ERR_NO_COMPILER,
      offsetof(fp4rt_cuda_api, nvjitlink) },
};

static fp4rt_lib *lib_of(fp4rt_cuda_api *api, int kind)
{
    return (fp4rt_lib *)((char *)api + lib_specs[kind].lib_offset);
}

static void append(char *buf, size_t len, const char *fmt, const char *a,
                   const char *b)
{
    size_t used = strlen(buf);
    if (used + 1 >= len)
        return;
    snprintf(buf + used, len - used, fmt, a, b);
}

/* Tries one file; on success the handle, else NULL with the reason
 * appended to msg. */
static void *try_open(const char *dir, const char *soname, char *path,
                      size_t path_len, char *msg, size_t msg_len)
{
    if (dir)
        snprintf(path, path_len, "%s/%s", dir, soname);
    else
        snprintf(path, path_len, "%s", soname);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        append(msg, msg_len, "%s%s", msg[0] ? "; " : "", e ? e : path);
    }
    return h;
}

/* Resolves every symbol; returns 0, or -1 naming the first missing
 * required one in msg. */
static int resolve(fp4rt_cuda_api *api, const lib_spec *spec, void *h,
                   const char *path, char *msg, size_t msg_len)
{
    for (size_t i = 0; i < spec->sym_count; i++) {
        const sym_spec *s = &spec->syms[i];
        dlerror();
        void *fn = dlsym(h, s->symbol);
        if (!fn && s->required) {
            const char *e = dlerror();
            snprintf(msg, msg_len, "%s: missing symbol %s in %s: %s",
                     spec->what, s->symbol, path, e ? e : "not found");
            return -1;
        }
        memcpy((char *)api + s->offset, &fn, sizeof fn);
    }
    return 0;
}

static void clear_syms(fp4rt_cuda_api *api, const lib_spec *spec)
{
    void *null = NULL;
    for (size_t i = 0; i < spec->sym_count; i++)
        memcpy((char *)api + spec->syms[i].offset, &null, sizeof null);
}

/* The real file behind a handle, for identity checks and messages. */
static void loaded_path(void *h, const char *symbol, char *out, size_t len)
{
    Dl_info info;
    void *fn = dlsym(h, symbol);
    if (fn && dladdr(fn, &info) && info.dli_fname)
        snprintf(out, len, "%s", info.dli_fname);
}

fp4rt_status fp4rt_loader_load(fp4rt_cuda_api *api, fp4rt_lib_kind kind,
                               const fp4rt_loader_search *search)
{
    const lib_spec *spec = &lib_specs[kind];
    fp4rt_lib *lib = lib_of(api, kind);
    char tried[FP4RT_LOADER_MSG] = "";
    char path[512];
    /* Search locations in order; at each, the newest major version. */
    size_t locations = search->dir_count + (search->default_path ? 1 : 0);

    memset(lib, 0, sizeof *lib);
    for (size_t loc = 0; loc < locations; loc++) {
        const char *dir = NULL;
        if (loc < search->dir_count)
            dir = search->dirs[loc];
        for (const char *const *n = spec->sonames; *n; n++) {
            void *h = try_open(dir, *n, path, sizeof path, tried,
                               sizeof tried);
            if (!h)
                continue;
            if (resolve(api, spec, h, path, lib->message,
                        sizeof lib->message) != 0) {
                clear_syms(api, spec);
                dlclose(h);
                lib->status = spec->missing;
                return lib->status;
            }
            lib->handle = h;
            snprintf(lib->path, sizeof lib->path, "%s", path);
            loaded_path(h, spec->syms[0].symbol, lib->path,
                        sizeof lib->path);
            lib->status = FP4RT_SUCCESS;
            return FP4RT_SUCCESS;
        }
    }
    snprintf(lib->message, sizeof lib->message, "%s not found (%s)",
             spec->what, tried[0] ? tried : "no location searched");
    lib->status = spec->missing;
    return lib->status;
}

void fp4rt_loader_unload(fp4rt_cuda_api *api)
{
    for (size_t k = 0; k < sizeof lib_specs / sizeof lib_specs[0]; k++) {
        fp4rt_lib *lib = lib_of(api, (int)k);
        if (lib->handle)
            dlclose(lib->handle);
        clear_syms(api, &lib_specs[k]);
        memset(lib, 0, sizeof *lib);
    }
}

/* ------------------------------------------------------------------ */
/* The process-wide table                                              */
/* ------------------------------------------------------------------ */

static fp4rt_cuda_api g_api;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static char g_libdir_env[4096];
static char g_home_dirs[2][1024];

/* Splits FP4RT_CUDA_LIBDIR (colon-separated) into dirs. */
static size_t override_dirs(const char **dirs, size_t max)
{
    size_t n = 0;
    const char *env = secure_getenv("FP4RT_CUDA_LIBDIR");
    if (!env || !*env)
        return 0;
    snprintf(g_libdir_env, sizeof g_libdir_env, "%s", env);
    for (char *save = NULL, *d = strtok_r(g_libdir_env, ":", &save);
         d && n < max; d = strtok_r(NULL, ":", &save))
        dirs[n++] = d;
    return n;
}

/* $CUDA_HOME/lib64, $CUDA_PATH/lib64, then the usual install places. */
static size_t toolkit_dirs(const char **dirs, size_t max)
{
    static const char *const usual[] = {
        "/usr/local/cuda/lib64",
        "/usr/local/cuda/lib",
        "/usr/local/cuda/targets/x86_64-linux/lib",
        "/usr/local/cuda/targets/sbsa-linux/lib",
        "/opt/cuda/lib64",
    };
    static const char *const homes[] = { "CUDA_HOME", "CUDA_PATH" };
    size_t n = 0;
    for (size_t i = 0; i < 2 && n < max; i++) {
        const char *h = secure_getenv(homes[i]);
        if (!h || !*h)
            continue;
        snprintf(g_home_dirs[i], sizeof g_home_dirs[i], "%s/lib64", h);
        dirs[n++] = g_home_dirs[i];
    }
    for (size_t i = 0; i < sizeof usual / sizeof usual[0] && n < max; i++)
        dirs[n++] = usual[i];
    return n;
}

/* The override directories and the default search path first; if that
 * fails, the toolkit directories; the first failure's message is kept,
 * it names what the user asked for.  FP4RT_CUDA_LIBDIR_ONLY=1 searches the
 * override directories alone (to pin one toolkit, or to run as if none
 * were installed). */
static void load_all(void)
{
    const char *first[MAX_SEARCH_DIRS], *later[MAX_SEARCH_DIRS];
    const char *only = secure_getenv("FP4RT_CUDA_LIBDIR_ONLY");
    int strict = only && strcmp(only, "1") == 0;
    fp4rt_loader_search preferred = {
        first, override_dirs(first, MAX_SEARCH_DIRS), !strict
    };
    fp4rt_loader_search fallback = {
        later, strict ? 0 : toolkit_dirs(later, MAX_SEARCH_DIRS), 0
    };

    for (int kind = FP4RT_LIB_DRIVER; kind <= FP4RT_LIB_NVJITLINK; kind++) {
        if (fp4rt_loader_load(&g_api, (fp4rt_lib_kind)kind, &preferred) ==
            FP4RT_SUCCESS)
            continue;
        char first_msg[FP4RT_LOADER_MSG];
        snprintf(first_msg, sizeof first_msg, "%s",
                 lib_of(&g_api, kind)->message);
        if (fp4rt_loader_load(&g_api, (fp4rt_lib_kind)kind, &fallback) !=
            FP4RT_SUCCESS)
            snprintf(lib_of(&g_api, kind)->message, FP4RT_LOADER_MSG, "%s",
                     first_msg);
    }
    if (g_api.driver.status == FP4RT_SUCCESS) {
        g_api.init_result = g_api.cuInit(0);
        g_api.driver_initialized = g_api.init_result == FP4RT_CUDA_SUCCESS;
    }
}

const fp4rt_cuda_api *fp4rt_cuda(void)
{
    pthread_once(&g_once, load_all);
    return &g_api;
}

void fp4rt_cu_describe(const fp4rt_cuda_api *api, fp4rt_cu_result r,
                       char *buf, size_t len)
{
    const char *name = NULL, *text = NULL;
    if (api->cuGetErrorName)
        api->cuGetErrorName(r, &name);
    if (api->cuGetErrorString)
        api->cuGetErrorString(r, &text);
    snprintf(buf, len, "%s (%s)", name ? name : "CUDA error",
             text ? text : "no description");
    if (!name) {
        size_t used = strlen(buf);
        if (used + 1 < len)
            snprintf(buf + used, len - used, " code %d", r);
    }
}
