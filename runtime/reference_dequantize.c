/*
 * CPU reference dequantizer: x = float(e2m1) * (float(sf) * S_dec), the
 * product in fp32, then rounded to the output dtype (to nearest even).
 *
 * Scale bytes are decoded as E4M3 in full (fp4rt_ref_e4m3_decode): the
 * quantizer never writes the sign bit or 0x7F, but a scale buffer from
 * elsewhere may hold them, and then the sign applies and 0x7F/0xFF are NaN.
 * A NaN result is written as the output type's positive canonical quiet
 * NaN: machines differ in which NaN their arithmetic produces (x86 keeps
 * the operand's sign and payload, GPUs return their own), the bits written
 * must not.
 */
#include <float.h>
#include <string.h>

#include "runtime/internal.h"
#include "runtime/quant_desc.h"

#if FLT_EVAL_METHOD != 0
#error "the CPU reference needs fp32 arithmetic evaluated in fp32"
#endif

static const char dequantize_name[] = "fp4rt_ref_dequantize";

/* Stores v as element i of an output row (no alignment assumed). */
static void output_at(unsigned char *row, fp4rt_dtype t, int64_t i, float v)
{
    uint16_t h;
    if (t == FP4RT_DTYPE_F32) {
        uint32_t bits;
        memcpy(&bits, &v, sizeof bits);
        if (v != v)
            bits = FP4RT_F32_QNAN_BITS;
        memcpy(row + 4 * i, &bits, sizeof bits);
        return;
    }
    if (v != v)
        h = t == FP4RT_DTYPE_F16 ? FP4RT_F16_QNAN_BITS : FP4RT_BF16_QNAN_BITS;
    else
        h = t == FP4RT_DTYPE_F16 ? fp4rt_ref_f32_to_f16(v)
                                 : fp4rt_ref_f32_to_bf16(v);
    memcpy(row + 2 * i, &h, sizeof h);
}

static size_t scale_at(const fp4rt_ddesc *q, int64_t m, int64_t kb)
{
    if (q->d.scale_layout == FP4RT_SCALE_LINEAR)
        return (size_t)(m * q->kb + kb);
    return (size_t)fp4rt_swizzle_offset((uint64_t)m, (uint64_t)kb,
                                        (uint64_t)q->kb);
}

/* Row m: element 2j in bits 3..0 of code byte j, 2j + 1 in bits 7..4. */
static void dequantize_row(const fp4rt_ddesc *q,
                           const fp4rt_ref_dequantize_args *a, int64_t m,
                           unsigned char *out)
{
    const int64_t k = q->d.cols;
    const uint8_t *codes = a->codes + (size_t)(m * (k / 2));
    const float s_dec = q->d.per_row ? a->global_dec[m] : a->global_dec[0];
    for (int64_t kb = 0; kb < q->kb; kb++) {
        float scale = fp4rt_ref_e4m3_decode(a->scales[scale_at(q, m, kb)]) *
                      s_dec;
        for (int64_t i = kb * FP4RT_SF_VEC; i < (kb + 1) * FP4RT_SF_VEC; i++) {
            uint8_t code = (uint8_t)(codes[i / 2] >> (i % 2 * 4)) & 0xFu;
            output_at(out, q->d.output_dtype, i,
                      fp4rt_ref_e2m1_decode(code) * scale);
        }
    }
}

fp4rt_status fp4rt_ref_dequantize(const fp4rt_dequantizer_desc *desc,
                                  const fp4rt_ref_dequantize_args *args)
{
    fp4rt_ddesc q;
    fp4rt_ref_dequantize_args a;
    char err[256];
    int64_t stride;
    fp4rt_status st = fp4rt_ddesc_init(&q, desc, err, sizeof err);
    if (st != FP4RT_SUCCESS)
        return fp4rt_fail(NULL, st, "%s: %s", dequantize_name, err);
    if (fp4rt_struct_in(&a, sizeof a, args) != 0)
        return fp4rt_fail(NULL, FP4RT_ERR_INVALID_ARGUMENT,
                          "%s: args %s", dequantize_name,
                          args ? "struct_size is not valid" : "is NULL");
    st = fp4rt_drun_check(&q, a.rows, (uint64_t)(uintptr_t)a.codes,
                          (uint64_t)(uintptr_t)a.scales,
                          (uint64_t)(uintptr_t)a.global_dec,
                          (uint64_t)(uintptr_t)a.output, a.output_stride,
                          &stride, err, sizeof err);
    if (st != FP4RT_SUCCESS)
        return fp4rt_fail(NULL, st, "%s: %s", dequantize_name, err);
    for (int64_t m = 0; m < a.rows; m++)
        dequantize_row(&q, &a, m,
                       (unsigned char *)a.output +
                           (size_t)(m * stride) * q.elem_size);
    return FP4RT_SUCCESS;
}
