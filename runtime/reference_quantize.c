/*
 * CPU reference quantizer: every mode of runtime/quant_desc.h, one block
 * at a time, in the words of the numerics contract.  Written to be checked
 * against the contract line by line; the GPU kernels must equal it bit for
 * bit.
 *
 * A block is `height` x 16 values: height 1 for 1D blocks, 16 for 2D
 * tiles (row-major, which is also the 4over6 error order).  The rows of a
 * block are first made fp32 (the input converted exactly, or the SwiGLU
 * outputs rounded to the input dtype), then quantize_block applies the
 * rule, and the scale is written on each of the block's rows.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"
#include "runtime/quant_desc.h"

/* Every fp32 operation below must round on its own (and the file is
 * compiled with -ffp-contract=off, so that none is fused). */
#if FLT_EVAL_METHOD != 0
#error "the CPU reference needs fp32 arithmetic evaluated in fp32"
#endif

#define TILE_ROWS 16                          /* rows of a 2D block */
#define MAX_BLOCK (TILE_ROWS * FP4RT_SF_VEC)  /* values in a block */

/* A global scale as the block rule uses it. */
typedef struct gscale {
    float enc_sixth;  /* S_enc * (1.0f/6.0f), computed once */
    float dec;        /* S_dec = 1.0f / S_enc */
} gscale;

static gscale gscale_of(float s_enc)
{
    gscale g = { s_enc * (1.0f / 6.0f), 1.0f / s_enc };
    return g;
}

/* One run: the validated descriptor and arguments, and the fp32 values of
 * the `height` rows being quantized. */
typedef struct qrun {
    const fp4rt_qdesc *q;
    const fp4rt_ref_quantize_args *a;
    int64_t stride;   /* input elements between rows */
    int height;       /* rows of a block: 1 or 16 */
    float *vals;      /* [height][K] */
} qrun;

/* ------------------------------------------------------------------ */
/* The block rule                                                      */
/* ------------------------------------------------------------------ */

/* The larger of m and a, NaN ignored: the contract's fmaxf, which the
 * device's fmaxf is for every NaN.  The C library's fmaxf is not used:
 * it returns NaN for a signalling NaN (IEEE 754-2008 maxNum), and inputs
 * can hold any bit pattern. */
static float max_ignoring_nan(float m, float a)
{
    return a > m ? a : m;             /* false for a NaN */
}

/* vmax = max |x_i| from 0: all-NaN gives 0, a zero block. */
static float amax_of(const float *x, int64_t n)
{
    float vmax = 0.0f;
    for (int64_t i = 0; i < n; i++)
        vmax = max_ignoring_nan(vmax, fabsf(x[i]));
    return vmax;
}

/* The encode scale of scale code sf: fminf(1 / (float(sf) * S_dec),
 * FLT_MAX), 0 for code 0. */
static float enc_of(uint8_t sf, float s_dec)
{
    if (sf == 0)
        return 0.0f;
    return fminf(1.0f / (fp4rt_ref_e4m3_decode(sf) * s_dec), FLT_MAX);
}

/* The codes of a block under scale code sf: all 0 when sf is 0, else
 * q_i = e2m1(x_i * enc), enc = fminf(1 / (float(sf) * S_dec), FLT_MAX). */
static void encode_block(const float *x, int n, uint8_t sf, float s_dec,
                         uint8_t *codes)
{
    if (sf == 0) {
        memset(codes, 0, (size_t)n);
        return;
    }
    float enc = enc_of(sf, s_dec);
    for (int i = 0; i < n; i++)
        codes[i] = fp4rt_ref_e2m1_encode(x[i] * enc);
}

/* 4over6: the sum in element order of |d_i| (MAE) or d_i * d_i (MSE),
 * d_i = deq_i - x_i, deq_i = e2m1 value * (float(sf) * S_dec), all fp32. */
static float block_error(const float *x, int n, const uint8_t *codes,
                         uint8_t sf, float s_dec, int mse)
{
    float scale = fp4rt_ref_e4m3_decode(sf) * s_dec;
    float err = 0.0f;
    for (int i = 0; i < n; i++) {
        float d = fp4rt_ref_e2m1_decode(codes[i]) * scale - x[i];
        err = err + (mse ? d * d : fabsf(d));
    }
    return err;
}

/* ------------------------------------------------------------------ */
/* 4over6's fast error path                                           */
/* ------------------------------------------------------------------ */

/*
 * FP4RT_ADAPTIVE_4OVER6_MAE_FAST and _MSE_FAST decide a 1x16 block from
 * errors computed in fp16, in the E4M3-scaled product domain (e2m1 value
 * times float(sf) against x * S_enc), scaled by a power of two so that
 * the sums neither overflow nor lose their small terms.  f16() rounds an
 * fp32 value to fp16 (nearest even, overflow to Inf).  With sigma_c =
 * float(sf_c), enc_c the exact path's encode scales, and E the exponent
 * of sigma_6 (sigma_6 = 2^E * [1, 2)):
 *
 *   g_c = sigma_c * 2^-E                        exact
 *   k_c = f16(enc_c * (S_dec * 2^E))            about 1 / g_c
 *   w   = (S_enc * (1.0f/6.0f)) * (6 * 2^-E)    fp32
 *   for i = 0 .. 15:
 *     u   = f16(|x_i| * w)                      x_i in the domain
 *     h_c = f16(u * k_c)                        x_i * enc_c, about
 *     r_c = the E2M1 value of h_c               (the contract's rounding)
 *     d_c = f16(r_c * g_c - u)                  r_c * g_c is exact
 *     t_c = |d_c| (MAE) or f16(d_c * d_c) (MSE)
 *     s_c[i % 2] = f16(s_c[i % 2] + t_c)        even and odd i apart
 *   e_c = f16(s_c[0] + s_c[1]); map-to-4 wins if e_4 < e_6 (ties to 6).
 *
 * Each fp16 operation is computed here in fp32 and rounded to fp16, which
 * equals the fp16 operation for +, - and * of fp16 values (24 >= 2 * 11 +
 * 2 bits, so the double rounding is harmless).  The path applies to
 * blocks with no NaN or Inf, sf6 a normal E4M3 code below 448 (0x08 to
 * 0x7D), w finite and positive and k_4, k_6 finite and positive (so that
 * no NaN arises); other blocks, and 2D tiles, take the exact errors.
 * The codes are always those of the exact rounding under the scale kept.
 * (Where sf6 is 448, sf4 is 448 too: the candidates are the same, their
 * errors tie and map-to-6 is kept, on either path; the GPU keeps such
 * blocks on its fast path for that reason, with the same result.)
 *
 * Within those bounds h_c stays below 7 (h_6 is about 6 s6 / sigma_6 <=
 * 6 / (1 - 2^-4), the E4M3 rounding of a normal scale being within 2^-4
 * of it, times three fp16 roundings; h_4 likewise about 4.3, or below 6
 * where sigma_4 saturates), so the GPU's rounding of h needs no clamp at
 * 6: from 6 to 7 the nearest E2M1 step is 6 anyway.
 */
#define FAST_SF_MIN 0x08     /* 2^-6, the least normal E4M3 */
#define FAST_SF_MAX 0x7D     /* 416, the largest below 448 */

static float f16(float v)
{
    return fp4rt_ref_f16_to_f32(fp4rt_ref_f32_to_f16(v));
}

static int all_finite(const float *x, int n)
{
    for (int i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

static int is_fast(fp4rt_adaptive a)
{
    return a == FP4RT_ADAPTIVE_4OVER6_MAE_FAST ||
           a == FP4RT_ADAPTIVE_4OVER6_MSE_FAST;
}

/* 1: map-to-4 wins, 0: map-to-6 wins, -1: the fast path does not apply. */
static int fast_choice(const float *x, int n, gscale g, uint8_t sf6,
                       uint8_t sf4, int mse)
{
    const uint8_t sf[2] = { sf6, sf4 };
    if (sf6 < FAST_SF_MIN || sf6 > FAST_SF_MAX || !all_finite(x, n))
        return -1;
    int e = ilogbf(fp4rt_ref_e4m3_decode(sf6));
    float w = g.enc_sixth * (6.0f * ldexpf(1.0f, -e));
    float dec_e = g.dec * ldexpf(1.0f, e);
    if (!(w > 0.0f && w <= FLT_MAX))
        return -1;
    float sum[2];
    for (int c = 0; c < 2; c++) {
        float gc = ldexpf(fp4rt_ref_e4m3_decode(sf[c]), -e);
        float k = f16(enc_of(sf[c], g.dec) * dec_e);
        if (!(k > 0.0f && k <= 65504.0f))
            return -1;
        float s[2] = { 0.0f, 0.0f };
        for (int i = 0; i < n; i++) {
            float u = f16(fabsf(x[i]) * w);
            float h = f16(u * k);
            float r = fp4rt_ref_e2m1_decode(fp4rt_ref_e2m1_encode(h));
            float d = f16(r * gc - u);
            s[i % 2] = f16(s[i % 2] + (mse ? f16(d * d) : fabsf(d)));
        }
        sum[c] = f16(s[0] + s[1]);
    }
    return sum[1] < sum[0];
}

/* Quantizes n values (one block) into codes; returns the scale code. */
static uint8_t quantize_block(const float *x, int n, gscale g,
                              fp4rt_adaptive adaptive, uint8_t *codes)
{
    float s6 = amax_of(x, n) * g.enc_sixth;
    uint8_t sf6 = fp4rt_ref_e4m3_encode(s6);
    encode_block(x, n, sf6, g.dec, codes);
    if (adaptive == FP4RT_ADAPTIVE_OFF)
        return sf6;
    /* The second candidate maps the block maximum to 4 instead of 6. */
    uint8_t codes4[MAX_BLOCK];
    uint8_t sf4 = fp4rt_ref_e4m3_encode(s6 * 1.5f);
    encode_block(x, n, sf4, g.dec, codes4);
    int mse = adaptive == FP4RT_ADAPTIVE_4OVER6_MSE ||
              adaptive == FP4RT_ADAPTIVE_4OVER6_MSE_FAST;
    int four = is_fast(adaptive) && n == FP4RT_SF_VEC
                   ? fast_choice(x, n, g, sf6, sf4, mse)
                   : -1;
    if (four < 0) {
        float err6 = block_error(x, n, codes, sf6, g.dec, mse);
        float err4 = block_error(x, n, codes4, sf4, g.dec, mse);
        four = err4 < err6;       /* ties (and NaN errors) keep map-to-6 */
    }
    if (!four)
        return sf6;
    memcpy(codes, codes4, (size_t)n);
    return sf4;
}

/* ------------------------------------------------------------------ */
/* Rows in, codes and scales out                                       */
/* ------------------------------------------------------------------ */

/* Element i of an input row, exactly in fp32 (no alignment assumed). */
static float input_at(const unsigned char *row, fp4rt_dtype t, int64_t i)
{
    uint16_t h;
    float f;
    if (t == FP4RT_DTYPE_F32) {
        memcpy(&f, row + 4 * i, sizeof f);
        return f;
    }
    memcpy(&h, row + 2 * i, sizeof h);
    return t == FP4RT_DTYPE_F16 ? fp4rt_ref_f16_to_f32(h)
                                : fp4rt_ref_bf16_to_f32(h);
}

/* What an unfused SwiGLU would have stored: v rounded to the dtype. */
static float round_to_dtype(float v, fp4rt_dtype t)
{
    if (t == FP4RT_DTYPE_F16)
        return fp4rt_ref_f16_to_f32(fp4rt_ref_f32_to_f16(v));
    if (t == FP4RT_DTYPE_BF16)
        return fp4rt_ref_bf16_to_f32(fp4rt_ref_f32_to_bf16(v));
    return v;
}

/* The K fp32 values to quantize from input row m; returns the number of
 * NaN/Inf input elements read. */
static uint64_t load_row(const qrun *r, int64_t m, float *out)
{
    const fp4rt_qdesc *q = r->q;
    const fp4rt_dtype t = q->d.input_dtype;
    const unsigned char *row = (const unsigned char *)r->a->input +
                               (size_t)(m * r->stride) * q->elem_size;
    const int64_t k = q->d.cols;
    uint64_t nonfinite = 0;
    if (q->d.fusion == FP4RT_FUSION_NONE) {
        for (int64_t j = 0; j < k; j++) {
            out[j] = input_at(row, t, j);
            nonfinite += !isfinite(out[j]);
        }
        return nonfinite;
    }
    /* Runs of G gate then G up values; HALVES is the case G = K, which
     * is what q->granularity holds for it. */
    const int64_t g = q->granularity;
    for (int64_t j = 0; j < k; j++) {
        int64_t gate_at = (j / g) * 2 * g + j % g;
        float gate = input_at(row, t, gate_at);
        float up = input_at(row, t, gate_at + g);
        nonfinite += (uint64_t)!isfinite(gate) + (uint64_t)!isfinite(up);
        out[j] = round_to_dtype(fp4rt_ref_swiglu(gate, up), t);
    }
    return nonfinite;
}

/* Byte offset of scale (srow, kb) in the descriptor's layout. */
static size_t scale_offset(const fp4rt_qdesc *q, int64_t srow, int64_t kb)
{
    if (q->d.scale_layout == FP4RT_SCALE_LINEAR)
        return (size_t)(srow * q->kb + kb);
    return (size_t)fp4rt_swizzle_offset((uint64_t)srow, (uint64_t)kb,
                                        (uint64_t)q->kb);
}

/* Swizzled layout: zeroes the 128-row tiles that hold scale rows
 * [srow, srow + n), srow a multiple of 128, so that padding rows and
 * columns read 0.  Those tiles are one run of bytes. */
static void zero_swizzled_rows(const qrun *r, int64_t srow, int64_t n)
{
    const fp4rt_qdesc *q = r->q;
    if (q->d.scale_layout != FP4RT_SCALE_SWIZZLED || n == 0)
        return;
    int64_t kb_padded = (q->kb + FP4RT_SWZ_COLS - 1) / FP4RT_SWZ_COLS *
                        FP4RT_SWZ_COLS;
    int64_t rows_padded = (n + FP4RT_SWZ_ROWS - 1) / FP4RT_SWZ_ROWS *
                          FP4RT_SWZ_ROWS;
    memset(r->a->scales + (size_t)(srow * kb_padded), 0,
           (size_t)(rows_padded * kb_padded));
}

/* Element 2j in bits 3..0 of byte j, element 2j + 1 in bits 7..4. */
static void pack_codes(const uint8_t *codes, int n, uint8_t *out)
{
    for (int j = 0; j < n / 2; j++)
        out[j] = (uint8_t)(codes[2 * j] | (codes[2 * j + 1] << 4));
}

/* Quantizes the height rows in r->vals, which are input rows m.., with
 * scale rows srow.. (srow differs from m only for grouped swizzled). */
static void quantize_rows(const qrun *r, int64_t m, int64_t srow, gscale g)
{
    const fp4rt_qdesc *q = r->q;
    const int64_t k = q->d.cols;
    const int n = r->height * FP4RT_SF_VEC;
    float x[MAX_BLOCK];
    uint8_t codes[MAX_BLOCK];
    for (int64_t kb = 0; kb < q->kb; kb++) {
        for (int i = 0; i < r->height; i++)
            memcpy(x + i * FP4RT_SF_VEC, r->vals + i * k + kb * FP4RT_SF_VEC,
                   FP4RT_SF_VEC * sizeof(float));
        uint8_t sf = quantize_block(x, n, g, q->d.adaptive, codes);
        for (int i = 0; i < r->height; i++) {
            uint8_t *out = r->a->codes + (size_t)((m + i) * (k / 2)) +
                           (size_t)(kb * FP4RT_SF_VEC / 2);
            pack_codes(codes + i * FP4RT_SF_VEC, FP4RT_SF_VEC, out);
            r->a->scales[scale_offset(q, srow + i, kb)] = sf;
        }
    }
}

/* ------------------------------------------------------------------ */
/* The global-scale modes and grouping                                 */
/* ------------------------------------------------------------------ */

/* S_enc of the whole tensor (PER_TENSOR), written out with S_dec. */
static float per_tensor_enc(const qrun *r)
{
    const fp4rt_qdesc *q = r->q;
    float amax = 0.0f;
    for (int64_t m = 0; m < r->a->rows; m++) {
        load_row(r, m, r->vals);
        amax = max_ignoring_nan(amax, amax_of(r->vals, q->d.cols));
    }
    float s_enc = fp4rt_ref_global_enc(amax, (int)q->e4m3_max);
    r->a->global_enc[0] = s_enc;
    r->a->global_dec[0] = 1.0f / s_enc;
    return s_enc;
}

static uint64_t quantize_plain(const qrun *r)
{
    const fp4rt_qdesc *q = r->q;
    const fp4rt_ref_quantize_args *a = r->a;
    const int64_t k = q->d.cols;
    uint64_t nonfinite = 0;
    float s_enc = 0.0f;               /* PER_ROW: set for each row */
    if (q->d.global_mode == FP4RT_GLOBAL_STATIC)
        s_enc = a->global_enc[0];
    else if (q->d.global_mode == FP4RT_GLOBAL_PER_TENSOR)
        s_enc = per_tensor_enc(r);
    zero_swizzled_rows(r, 0, a->rows);
    for (int64_t m = 0; m < a->rows; m += r->height) {
        for (int i = 0; i < r->height; i++)
            nonfinite += load_row(r, m + i, r->vals + i * k);
        if (q->d.global_mode == FP4RT_GLOBAL_PER_ROW) {
            s_enc = fp4rt_ref_global_enc(amax_of(r->vals, k),
                                         (int)q->e4m3_max);
            a->global_dec[m] = 1.0f / s_enc;
            if (a->global_enc)
                a->global_enc[m] = s_enc;
        }
        quantize_rows(r, m, m, gscale_of(s_enc));
    }
    return nonfinite;
}

/* Expert e: rows [offsets[e], offsets[e+1]) with expert_global_enc[e].
 * Swizzled scales start at P_e, the padded row count of the experts
 * before it, so that each expert begins a fresh 128-row tile. */
static uint64_t quantize_grouped(const qrun *r)
{
    const fp4rt_ref_quantize_args *a = r->a;
    const int swizzled = r->q->d.scale_layout == FP4RT_SCALE_SWIZZLED;
    uint64_t nonfinite = 0;
    int64_t padded = 0;               /* P_e */
    for (int e = 0; e < r->q->d.num_experts; e++) {
        int64_t begin = a->expert_offsets[e], end = a->expert_offsets[e + 1];
        if (begin == end)
            continue;
        gscale g = gscale_of(a->expert_global_enc[e]);
        zero_swizzled_rows(r, padded, end - begin);
        for (int64_t m = begin; m < end; m++) {
            nonfinite += load_row(r, m, r->vals);
            quantize_rows(r, m, swizzled ? padded + (m - begin) : m, g);
        }
        padded += (end - begin + FP4RT_SWZ_ROWS - 1) / FP4RT_SWZ_ROWS *
                  FP4RT_SWZ_ROWS;
    }
    return nonfinite;
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */
/* ------------------------------------------------------------------ */

static const char quantize_name[] = "fp4rt_ref_quantize";

/* Every S_enc the global-scale rule produces is a positive normal float
 * (6 * 256 / FLT_MAX at the smallest), and only those keep
 * vmax * S_enc * (1/6) a number: 0 or Inf would make it NaN. */
static int usable_enc(float s_enc)
{
    return isnormal(s_enc) && s_enc > 0.0f;
}

/* What only the host can check: values behind the pointers. */
static fp4rt_status check_values(const fp4rt_qdesc *q,
                                 const fp4rt_ref_quantize_args *a)
{
    if (!q->grouped) {
        if (q->d.global_mode == FP4RT_GLOBAL_STATIC &&
            !usable_enc(a->global_enc[0]))
            return fp4rt_fail(NULL, FP4RT_ERR_INVALID_ARGUMENT,
                              "%s: global_enc (S_enc) = %g is not a positive "
                              "normal float", quantize_name,
                              (double)a->global_enc[0]);
        return FP4RT_SUCCESS;
    }
    const int32_t *off = a->expert_offsets;
    const int experts = q->d.num_experts;
    if (off[0] < 0)
        return fp4rt_fail(NULL, FP4RT_ERR_INVALID_ARGUMENT,
                          "%s: expert_offsets[0] = %d is negative",
                          quantize_name, (int)off[0]);
    for (int e = 0; e < experts; e++)
        if (off[e + 1] < off[e])
            return fp4rt_fail(NULL, FP4RT_ERR_INVALID_ARGUMENT,
                              "%s: expert_offsets[%d] = %d is below "
                              "expert_offsets[%d] = %d (offsets must not "
                              "decrease)", quantize_name, e + 1,
                              (int)off[e + 1], e, (int)off[e]);
    if (off[experts] > a->rows)
        return fp4rt_fail(NULL, FP4RT_ERR_INVALID_ARGUMENT,
                          "%s: expert_offsets[%d] = %d is past rows = %lld",
                          quantize_name, experts, (int)off[experts],
                          (long long)a->rows);
    for (int e = 0; e < experts; e++)
        if (off[e] < off[e + 1] && !usable_enc(a->expert_global_enc[e]))
            return fp4rt_fail(NULL, FP4RT_ERR_INVALID_ARGUMENT,
                              "%s: expert_global_enc[%d] = %g is not a "
                              "positive normal float", quantize_name, e,
                              (double)a->expert_global_enc[e]);
    return FP4RT_SUCCESS;
}

static uint64_t ptr_bits(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

size_t fp4rt_ref_scales_bytes(const fp4rt_quantizer_desc *desc)
{
    fp4rt_qdesc q;
    char err[256];
    if (fp4rt_qdesc_init(&q, desc, err, sizeof err) != FP4RT_SUCCESS)
        return 0;
    return fp4rt_qdesc_scales_bytes(&q);
}

fp4rt_status fp4rt_ref_quantize(const fp4rt_quantizer_desc *desc,
                                const fp4rt_ref_quantize_args *args)
{
    fp4rt_qdesc q;
    fp4rt_ref_quantize_args a;
    char err[256];
    int64_t stride;
    fp4rt_status st = fp4rt_qdesc_init(&q, desc, err, sizeof err);
    if (st != FP4RT_SUCCESS)
        return fp4rt_fail(NULL, st, "%s: %s", quantize_name, err);
    if (fp4rt_struct_in(&a, sizeof a, args) != 0)
        return fp4rt_fail(NULL, FP4RT_ERR_INVALID_ARGUMENT,
                          "%s: args %s", quantize_name,
                          args ? "struct_size is not valid" : "is NULL");
    fp4rt_qrun_ptrs p = { a.rows, a.input_stride, ptr_bits(a.input),
                          ptr_bits(a.codes), ptr_bits(a.scales),
                          ptr_bits(a.global_enc), ptr_bits(a.global_dec),
                          ptr_bits(a.expert_offsets),
                          ptr_bits(a.expert_global_enc), 0 };
    st = fp4rt_qrun_check(&q, &p, &stride, err, sizeof err);
    if (st != FP4RT_SUCCESS)
        return fp4rt_fail(NULL, st, "%s: %s", quantize_name, err);
    /* Nothing to read or write (and fp4rt_qrun_check required no
     * pointer) unless the run is grouped or writes a per-tensor scale. */
    if (a.rows == 0 && !q.grouped &&
        q.d.global_mode != FP4RT_GLOBAL_PER_TENSOR)
        return FP4RT_SUCCESS;
    st = check_values(&q, &a);
    if (st != FP4RT_SUCCESS)
        return st;

    qrun r = { &q, &a, stride, q.d.block == FP4RT_BLOCK_2D ? TILE_ROWS : 1,
               NULL };
    r.vals = malloc((size_t)(r.height * q.d.cols) * sizeof(float));
    if (!r.vals)
        return fp4rt_fail(NULL, FP4RT_ERR_OUT_OF_MEMORY,
                          "%s: %lld row values", quantize_name,
                          (long long)(r.height * q.d.cols));
    uint64_t nonfinite = q.grouped ? quantize_grouped(&r)
                                   : quantize_plain(&r);
    if (a.nonfinite_count)
        *a.nonfinite_count += nonfinite;
    free(r.vals);
    return FP4RT_SUCCESS;
}
