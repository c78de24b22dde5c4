/* The run-time loader: missing libraries, missing symbols, the real ones. */
#include <sys/stat.h>

#include "tests/tap.h"
#include "tests/testutil.h"
#include "jit/loader.h"

static fp4rt_cuda_api api;

static fp4rt_status load_from(fp4rt_lib_kind kind, const char *dir)
{
    const char *dirs[1] = { dir };
    fp4rt_loader_search s = { dirs, 1, 0 };
    return fp4rt_loader_load(&api, kind, &s);
}

int main(void)
{
    char *empty = tu_mkdtemp("loader-empty");
    memset(&api, 0, sizeof api);

    is_int(load_from(FP4RT_LIB_DRIVER, empty), FP4RT_ERR_NO_DRIVER,
           "no driver in an empty directory: FP4RT_ERR_NO_DRIVER");
    has_text(api.driver.message, "libcuda.so.1",
             "the message names libcuda.so.1");
    has_text(api.driver.message, "No such file",
             "the message carries dlerror()");
    ok(api.cuInit == NULL, "no driver symbol is set");

    is_int(load_from(FP4RT_LIB_NVRTC, empty), FP4RT_ERR_NO_COMPILER,
           "no NVRTC in an empty directory: FP4RT_ERR_NO_COMPILER");
    has_text(api.nvrtc.message, "libnvrtc.so.13", "names libnvrtc.so.13");
    has_text(api.nvrtc.message, "libnvrtc.so.12",
             "and the older major version it also tried");
    is_int(load_from(FP4RT_LIB_NVJITLINK, empty), FP4RT_ERR_NO_COMPILER,
           "no nvJitLink in an empty directory");
    has_text(api.nvjitlink.message, "libnvJitLink.so.13",
             "names libnvJitLink.so.13");

    /* A library of the right name that lacks the symbols. */
    const char *top = getenv("top_builddir");
    char dummy[4096], link[4096];
    snprintf(dummy, sizeof dummy, "%s/tests/.libs/libfp4rt_dummy.so",
             top ? top : ".");
    snprintf(link, sizeof link, "%s/libnvrtc.so.13", empty);
    struct stat st;
    if (stat(dummy, &st) == 0 && symlink(dummy, link) == 0) {
        is_int(load_from(FP4RT_LIB_NVRTC, empty), FP4RT_ERR_NO_COMPILER,
               "a library without the symbols is refused");
        has_text(api.nvrtc.message, "missing symbol nvrtcVersion",
                 "the message names the missing symbol");
        has_text(api.nvrtc.message, "libnvrtc.so.13",
                 "and the library it looked in");
        has_text(api.nvrtc.message, "undefined symbol",
                 "and dlerror()'s text");
        ok(api.nvrtcVersion == NULL && api.nvrtc.handle == NULL,
           "nothing stays loaded");
    } else {
        for (int i = 0; i < 5; i++)
            skip("dummy library not built");
    }

    /* The real libraries from the default search path, where installed. */
    fp4rt_loader_search def = { NULL, 0, 1 };
    if (fp4rt_loader_load(&api, FP4RT_LIB_NVRTC, &def) == FP4RT_SUCCESS) {
        int major = 0, minor = 0;
        ok(api.nvrtcVersion(&major, &minor) == 0 && major >= 12,
           "NVRTC %d.%d loaded from %s", major, minor, api.nvrtc.path);
        ok(api.nvrtcGetLTOIR != NULL, "optional symbols resolve too");
    } else {
        skip("NVRTC not installed");
        skip("NVRTC not installed");
    }
    fp4rt_loader_unload(&api);
    ok(api.nvrtcVersion == NULL && api.nvrtc.handle == NULL,
       "unload clears the table");

    /* The process-wide table never crashes, whatever is installed. */
    const fp4rt_cuda_api *g = fp4rt_cuda();
    ok(g != NULL && g == fp4rt_cuda(), "fp4rt_cuda() loads once");
    ok(g->driver.status == FP4RT_SUCCESS || g->driver.message[0],
       "driver: loaded, or a message says why (%s)",
       g->driver.status == FP4RT_SUCCESS ? g->driver.path
                                         : g->driver.message);
    tu_rmtree(empty);
    free(empty);
    return done_testing();
}
