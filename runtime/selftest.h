/*
 * The self-test engine: one quantization (or dequantization) case run on
 * the GPU and on the CPU reference from the same inputs, into output
 * buffers poisoned the same way on both sides, compared byte for byte
 * (so that a byte written where it should not be, or not written where it
 * should, shows).  fp4rt_selftest() and the GPU tests share it.
 */
#ifndef FP4RT_RUNTIME_SELFTEST_H
#define FP4RT_RUNTIME_SELFTEST_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/fp4rt.h"

#define FP4RT_ST_POISON 0xEE
#define FP4RT_ST_NONFINITE_START 5u   /* the counter is added to, not set */

typedef enum fp4rt_st_profile {
    FP4RT_ST_RANDOM = 0,      /* varied magnitudes per row and block */
    FP4RT_ST_ADVERSARIAL = 1, /* ties, zeros, subnormals, NaN, Inf, huge */
    FP4RT_ST_GRID = 2         /* small multiples of powers of two: ties */
} fp4rt_st_profile;

typedef struct fp4rt_st_case {
    fp4rt_quantizer_desc desc;
    int64_t rows;             /* M of the run (grouped: the bound) */
    int64_t stride_pad;       /* extra input elements per row */
    fp4rt_st_profile profile;
    unsigned long long seed;
    float static_enc;         /* STATIC: S_enc; 0: from the input's amax */
    int count_nonfinite;
    int use_rows_device;      /* pass M through device memory */
    int scale_offset;         /* scales this many bytes (< 256) past 256 */
} fp4rt_st_case;

/* Host buffers of one run, on either side. */
typedef struct fp4rt_st_host {
    size_t in_bytes, code_bytes, scale_bytes, scalar_count;
    void *input;
    uint8_t *codes, *scales;
    float *genc, *gdec;
    int32_t *offsets;
    float *expert_enc;
    uint64_t nonfinite;
} fp4rt_st_host;

typedef struct fp4rt_st_dev {
    fp4rt_devptr input, codes, scales, genc, gdec, offsets, expert_enc;
    fp4rt_devptr nonfinite, rows_dev;
} fp4rt_st_dev;

unsigned long long fp4rt_st_rand(unsigned long long *state);
/* A random valid case of at most max_elems input elements. */
fp4rt_st_case fp4rt_st_random_case(unsigned long long *state,
                                   int64_t max_elems);
/* A plain case: 1D, one mode, adversarial values, counter on. */
fp4rt_st_case fp4rt_st_fixed_case(fp4rt_dtype t, int64_t rows, int64_t cols,
                                  fp4rt_scale_layout layout,
                                  fp4rt_global_mode mode);
void fp4rt_st_describe(const fp4rt_st_case *c, char *buf, size_t len);

int fp4rt_st_host_alloc(const fp4rt_st_case *c, fp4rt_st_host *h);
void fp4rt_st_host_free(fp4rt_st_host *h);
void fp4rt_st_fill(const fp4rt_st_case *c, fp4rt_st_host *h);
void fp4rt_st_offsets(const fp4rt_st_case *c, int32_t *off, float *enc);
void fp4rt_st_poison(const fp4rt_st_case *c, fp4rt_st_host *h,
                     float static_enc);
int64_t fp4rt_st_stride(const fp4rt_st_case *c);

fp4rt_status fp4rt_st_dev_alloc(fp4rt_context *ctx, const fp4rt_st_case *c,
                                const fp4rt_st_host *h, fp4rt_st_dev *d);
void fp4rt_st_dev_free(fp4rt_context *ctx, fp4rt_st_dev *d);
fp4rt_status fp4rt_st_upload(fp4rt_context *ctx, const fp4rt_st_case *c,
                             const fp4rt_st_host *h, const fp4rt_st_dev *d);
fp4rt_status fp4rt_st_download(fp4rt_context *ctx, fp4rt_st_host *h,
                               const fp4rt_st_dev *d);
fp4rt_ref_quantize_args fp4rt_st_ref_args(const fp4rt_st_case *c,
                                          fp4rt_st_host *h, int64_t rows);
fp4rt_quantize_args fp4rt_st_dev_args(const fp4rt_st_case *c,
                                      const fp4rt_st_dev *d);
/* 1 when every output buffer is equal; else why names the first byte. */
int fp4rt_st_compare(const fp4rt_st_host *gpu, const fp4rt_st_host *ref,
                     char *why, size_t len);

/* One quantization case; 1 when the GPU equals the reference. */
int fp4rt_st_run_case(fp4rt_context *ctx, const fp4rt_st_case *c, char *why,
                      size_t len);
/* One dequantization case from random codes and every scale code. */
int fp4rt_st_dequant_case(fp4rt_context *ctx, fp4rt_dtype out, int64_t rows,
                          int64_t cols, fp4rt_scale_layout layout,
                          int per_row, int64_t pad, unsigned long long seed,
                          char *why, size_t len);
/* The E2M1 conversion kernel on every fp32 bit pattern. */
int fp4rt_st_e2m1_exhaustive(fp4rt_context *ctx, char *why, size_t len);
/* The fused kernels' branch-free SwiGLU against the exact one on every
 * fp32 gate; *slow gets how many gates the branch-free form leaves to the
 * exact one. */
int fp4rt_st_silu_exhaustive(fp4rt_context *ctx, uint64_t *slow, char *why,
                             size_t len);

#endif /* FP4RT_RUNTIME_SELFTEST_H */
