/* NVRTC + nvJitLink pipeline. */
#include "jit/compile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Options every module shares: exact IEEE arithmetic, no contraction of a
 * product into an addition unless the source writes fmaf. */
static const char *const common_options[] = {
    "-std=c++17",
    "-fmad=false",
    "-ftz=false",
    "-prec-div=true",
    "-prec-sqrt=true",
};

/* nvJitLink re-optimises LTO-IR and does not keep NVRTC's -fmad=false:
 * without -fma=0 here it fuses a*b+c again.  Its options take 0/1. */
static const char *const link_options[] = {
    "-lto",
    "-ftz=0",
    "-prec-div=1",
    "-prec-sqrt=1",
    "-fma=0",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int nvrtc_major(const fp4rt_cuda_api *api)
{
    int major = 0, minor = 0;
    if (api->nvrtc.status != FP4RT_SUCCESS ||
        api->nvrtcVersion(&major, &minor) != FP4RT_NVRTC_SUCCESS)
        return 0;
    return major;
}

int fp4rt_compile_uses_nvjitlink(const fp4rt_cuda_api *api)
{
    unsigned major = 0, minor = 0;
    if (api->nvjitlink.status != FP4RT_SUCCESS || !api->nvrtcGetLTOIR ||
        !api->nvrtcGetLTOIRSize)
        return 0;
    if (api->nvJitLinkVersion(&major, &minor) != FP4RT_NVJITLINK_SUCCESS)
        return 0;
    /* LTO-IR is readable only by a linker of the same major version. */
    return (int)major == nvrtc_major(api);
}

const char *fp4rt_compile_producer(const fp4rt_cuda_api *api)
{
    return fp4rt_compile_uses_nvjitlink(api) ? "nvjitlink" : "nvrtc";
}

void fp4rt_compile_options_build(const fp4rt_compile_job *job,
                                 fp4rt_compile_options *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->arch_opt, sizeof o->arch_opt, "-arch=%s", job->arch->target);
    snprintf(o->cc_opt, sizeof o->cc_opt, "-DFP4RT_CC=%d", job->arch->cc);
    o->argv[o->count++] = o->arch_opt;
    o->argv[o->count++] = o->cc_opt;
    for (size_t i = 0; i < COUNT(common_options); i++)
        o->argv[o->count++] = common_options[i];
    o->count += fp4rt_arch_feature_defines(job->features, o->argv + o->count,
                                           FP4RT_MAX_OPTIONS - o->count - 8);
    for (const char *const *d = job->module->defines;
         *d && o->count < FP4RT_MAX_OPTIONS - 1; d++)
        o->argv[o->count++] = *d;
    if (job->emit != FP4RT_EMIT_PTX &&
        fp4rt_compile_uses_nvjitlink(job->api))
        o->argv[o->count++] = "-dlto";
}

fp4rt_status fp4rt_compile_check_target(const fp4rt_cuda_api *api,
                                        const fp4rt_arch *arch, char *err,
                                        size_t err_len)
{
    int major = 0, minor = 0, n = 0;
    if (api->nvrtc.status != FP4RT_SUCCESS) {
        snprintf(err, err_len, "%s", api->nvrtc.message);
        return FP4RT_ERR_NO_COMPILER;
    }
    api->nvrtcVersion(&major, &minor);
    if (api->nvrtcGetNumSupportedArchs(&n) != FP4RT_NVRTC_SUCCESS || n <= 0 ||
        n > 4096) {
        snprintf(err, err_len, "NVRTC %d.%d did not list its targets", major,
                 minor);
        return FP4RT_ERR_NO_COMPILER;
    }
    int *archs = calloc((size_t)n, sizeof *archs);
    if (!archs) {
        snprintf(err, err_len, "out of memory");
        return FP4RT_ERR_OUT_OF_MEMORY;
    }
    int found = 0;
    if (api->nvrtcGetSupportedArchs(archs) == FP4RT_NVRTC_SUCCESS)
        for (int i = 0; i < n; i++)
            found |= archs[i] == arch->cc;
    free(archs);
    if (!found) {
        snprintf(err, err_len,
                 "NVRTC %d.%d (%s) cannot compile for %s; install a CUDA "
                 "toolkit that supports it or point FP4RT_CUDA_LIBDIR at one",
                 major, minor, api->nvrtc.path, arch->target);
        return FP4RT_ERR_UNSUPPORTED_TARGET;
    }
    return FP4RT_SUCCESS;
}

static void file_identity(const char *path, char *buf, size_t len)
{
    struct stat st;
    if (path[0] && stat(path, &st) == 0)
        snprintf(buf, len, "%lld:%lld.%09ld", (long long)st.st_size,
                 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    else
        snprintf(buf, len, "unknown");
}

void fp4rt_compile_identity(const fp4rt_cuda_api *api, char *buf, size_t len)
{
    int rmaj = 0, rmin = 0;
    unsigned lmaj = 0, lmin = 0;
    char rid[96], lid[96] = "none";
    if (api->nvrtc.status != FP4RT_SUCCESS) {
        snprintf(buf, len, "%s", "");
        return;
    }
    api->nvrtcVersion(&rmaj, &rmin);
    file_identity(api->nvrtc.path, rid, sizeof rid);
    if (fp4rt_compile_uses_nvjitlink(api)) {
        api->nvJitLinkVersion(&lmaj, &lmin);
        file_identity(api->nvjitlink.path, lid, sizeof lid);
    }
    snprintf(buf, len, "nvrtc %d.%d %s; nvjitlink %u.%u %s", rmaj, rmin, rid,
             lmaj, lmin, lid);
}

static char *nvrtc_log(const fp4rt_cuda_api *api, fp4rt_nvrtc_program prog)
{
    size_t n = 0;
    if (api->nvrtcGetProgramLogSize(prog, &n) != FP4RT_NVRTC_SUCCESS || !n)
        return NULL;
    char *log = malloc(n + 1);
    if (log && api->nvrtcGetProgramLog(prog, log) == FP4RT_NVRTC_SUCCESS) {
        log[n] = 0;
        return log;
    }
    free(log);
    return NULL;
}

static char *text_dup(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

/* Copies one output of the program (getter pair) into a malloc buffer. */
typedef fp4rt_nvrtc_result (*size_fn)(fp4rt_nvrtc_program, size_t *);
typedef fp4rt_nvrtc_result (*data_fn)(fp4rt_nvrtc_program, char *);

static fp4rt_status take_output(fp4rt_nvrtc_program prog, size_fn get_size,
                                data_fn get_data, void **out, size_t *size)
{
    size_t n = 0;
    if (get_size(prog, &n) != FP4RT_NVRTC_SUCCESS || n == 0)
        return FP4RT_ERR_COMPILE;
    char *buf = malloc(n + 1);
    if (!buf)
        return FP4RT_ERR_OUT_OF_MEMORY;
    if (get_data(prog, buf) != FP4RT_NVRTC_SUCCESS) {
        free(buf);
        return FP4RT_ERR_COMPILE;
    }
    buf[n] = 0;
    *out = buf;
    *size = n;
    return FP4RT_SUCCESS;
}

static char *link_log(const fp4rt_cuda_api *api, fp4rt_nvjitlink_handle h,
                      fp4rt_nvjitlink_result r)
{
    size_t n = 0;
    char head[64];
    snprintf(head, sizeof head, "nvJitLink error %d: ", r);
    if (!h || api->nvJitLinkGetErrorLogSize(h, &n) != FP4RT_NVJITLINK_SUCCESS)
        n = 0;
    char *log = malloc(strlen(head) + n + 1);
    if (!log)
        return NULL;
    strcpy(log, head);
    if (n && api->nvJitLinkGetErrorLog(h, log + strlen(head)) !=
                 FP4RT_NVJITLINK_SUCCESS)
        log[strlen(head)] = 0;
    log[strlen(head) + n] = 0;
    return log;
}

static fp4rt_status link_ltoir(const fp4rt_compile_job *job,
                               const void *ltoir, size_t ltoir_size,
                               void **out, size_t *size, char **log)
{
    const fp4rt_cuda_api *api = job->api;
    const char *opts[COUNT(link_options) + 2];
    char arch_opt[32];
    fp4rt_nvjitlink_handle h = NULL;
    int ptx = job->emit == FP4RT_EMIT_LINKED_PTX;
    uint32_t nopts = 0;

    if (ptx && (!api->nvJitLinkGetLinkedPtxSize || !api->nvJitLinkGetLinkedPtx))
        return FP4RT_ERR_LINK;
    snprintf(arch_opt, sizeof arch_opt, "-arch=%s", job->arch->target);
    opts[nopts++] = arch_opt;
    for (size_t i = 0; i < COUNT(link_options); i++)
        opts[nopts++] = link_options[i];
    if (ptx)
        opts[nopts++] = "-ptx";
    fp4rt_nvjitlink_result r = api->nvJitLinkCreate(&h, nopts, opts);
    if (r == FP4RT_NVJITLINK_SUCCESS)
        r = api->nvJitLinkAddData(h, FP4RT_NVJITLINK_INPUT_LTOIR, ltoir,
                                  ltoir_size, job->module->name);
    if (r == FP4RT_NVJITLINK_SUCCESS)
        r = api->nvJitLinkComplete(h);
    size_t n = 0;
    if (r == FP4RT_NVJITLINK_SUCCESS)
        r = ptx ? api->nvJitLinkGetLinkedPtxSize(h, &n)
                : api->nvJitLinkGetLinkedCubinSize(h, &n);
    char *buf = NULL;
    if (r == FP4RT_NVJITLINK_SUCCESS) {
        buf = malloc(n + 1);
        if (!buf) {
            api->nvJitLinkDestroy(&h);
            return FP4RT_ERR_OUT_OF_MEMORY;
        }
        buf[n] = 0;
        r = ptx ? api->nvJitLinkGetLinkedPtx(h, buf)
                : api->nvJitLinkGetLinkedCubin(h, buf);
    }
    if (r != FP4RT_NVJITLINK_SUCCESS || n == 0) {
        free(buf);
        *log = link_log(api, h, r);
        if (h)
            api->nvJitLinkDestroy(&h);
        return FP4RT_ERR_LINK;
    }
    api->nvJitLinkDestroy(&h);
    *out = buf;
    *size = n;
    return FP4RT_SUCCESS;
}

/* The headers NVRTC may include: every .cuh of the set. */
static size_t collect_headers(const fp4rt_source_set *src,
                              const char **names, const char **data)
{
    size_t n = 0;
    for (size_t i = 0; i < src->count; i++) {
        if (!fp4rt_sources_is_header(src->names[i]))
            continue;
        names[n] = src->names[i];
        data[n] = (const char *)src->data[i];
        n++;
    }
    return n;
}

fp4rt_status fp4rt_compile(const fp4rt_compile_job *job, void **out,
                           size_t *size, char **log)
{
    const fp4rt_cuda_api *api = job->api;
    const fp4rt_source_set *src = job->sources;
    fp4rt_compile_options opts;
    fp4rt_nvrtc_program prog = NULL;
    fp4rt_status st;

    *out = NULL;
    *size = 0;
    *log = NULL;
    if (api->nvrtc.status != FP4RT_SUCCESS) {
        *log = text_dup(api->nvrtc.message);
        return FP4RT_ERR_NO_COMPILER;
    }
    int main_index = fp4rt_sources_find(src, job->module->source);
    if (main_index < 0) {
        *log = text_dup("kernel source missing from the source set");
        return FP4RT_ERR_INTERNAL;
    }
    const char **hnames = calloc(src->count + 1, sizeof *hnames);
    const char **hdata = calloc(src->count + 1, sizeof *hdata);
    if (!hnames || !hdata) {
        free(hnames);
        free(hdata);
        return FP4RT_ERR_OUT_OF_MEMORY;
    }
    size_t nh = collect_headers(src, hnames, hdata);
    fp4rt_compile_options_build(job, &opts);
    fp4rt_nvrtc_result r = api->nvrtcCreateProgram(
        &prog, (const char *)src->data[main_index], job->module->source,
        (int)nh, hdata, hnames);
    free(hnames);
    free(hdata);
    if (r != FP4RT_NVRTC_SUCCESS) {
        *log = text_dup(api->nvrtcGetErrorString(r));
        return FP4RT_ERR_COMPILE;
    }
    r = api->nvrtcCompileProgram(prog, (int)opts.count, opts.argv);
    if (r != FP4RT_NVRTC_SUCCESS) {
        *log = nvrtc_log(api, prog);
        if (!*log)
            *log = text_dup(api->nvrtcGetErrorString(r));
        api->nvrtcDestroyProgram(&prog);
        return FP4RT_ERR_COMPILE;
    }
    if (job->emit == FP4RT_EMIT_PTX) {
        st = take_output(prog, api->nvrtcGetPTXSize, api->nvrtcGetPTX, out,
                         size);
    } else if (fp4rt_compile_uses_nvjitlink(api)) {
        /* Cubin, or the PTX the linker generates from the LTO-IR. */
        void *ir = NULL;
        size_t ir_size = 0;
        st = take_output(prog, api->nvrtcGetLTOIRSize, api->nvrtcGetLTOIR,
                         &ir, &ir_size);
        if (st == FP4RT_SUCCESS)
            st = link_ltoir(job, ir, ir_size, out, size, log);
        free(ir);
    } else {
        st = take_output(prog, api->nvrtcGetCUBINSize, api->nvrtcGetCUBIN,
                         out, size);
    }
    if (st == FP4RT_ERR_COMPILE && !*log)
        *log = text_dup("NVRTC produced no output");
    api->nvrtcDestroyProgram(&prog);
    return st;
}

/* ELF64 header fields of a cubin (EM_CUDA images, ABI version 8 and
 * later keep the SM number in bits 8..15 of e_flags). */
#define ELF_MACHINE_OFFSET 18
#define ELF_FLAGS_OFFSET 48
#define ELF_HEADER_SIZE 64
#define ELF_ABI_VERSION_INDEX 8
#define EM_CUDA 190

int fp4rt_cubin_cc(const void *data, size_t size)
{
    const unsigned char *b = data;
    uint16_t machine;
    uint32_t flags;
    if (!b || size < ELF_HEADER_SIZE || memcmp(b, "\177ELF", 4) != 0 ||
        b[4] != 2 /* 64-bit */)
        return -1;
    memcpy(&machine, b + ELF_MACHINE_OFFSET, sizeof machine);
    memcpy(&flags, b + ELF_FLAGS_OFFSET, sizeof flags);
    if (machine != EM_CUDA)
        return -1;
    if (b[ELF_ABI_VERSION_INDEX] >= 8)
        return (int)((flags >> 8) & 0xFFu);
    return (int)(flags & 0xFFu);
}
