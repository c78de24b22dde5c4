"""Call libfp4rt.so from PyTorch through ctypes, with zero copies.

The tensors' device pointers go straight to fp4rt, and the kernels run on
torch's current stream (fp4rt uses the device's primary context, as the
CUDA runtime does).  The result is checked against a small torch
re-implementation of the NVFP4 numerics contract, computed on the CPU in
fp32, code for code and scale for scale.

usage: FP4RT_LIB=/path/to/libfp4rt.so python3 fp4rt_torch.py
"""

import ctypes
import os
import sys

import torch

# ---------------------------------------------------------------------------
# The C API (runtime/fp4rt.h), the parts this example uses
# ---------------------------------------------------------------------------

u64 = ctypes.c_uint64
i64 = ctypes.c_int64
c_int = ctypes.c_int
size_t = ctypes.c_size_t


class ContextOptions(ctypes.Structure):
    _fields_ = [("struct_size", size_t), ("device", c_int),
                ("target", ctypes.c_char_p), ("flags", ctypes.c_uint),
                ("cache_dir", ctypes.c_char_p),
                ("cache_readonly_dirs", ctypes.c_char_p),
                ("cache_max_bytes", u64), ("log_fn", ctypes.c_void_p),
                ("log_user", ctypes.c_void_p)]


class QuantizerDesc(ctypes.Structure):
    _fields_ = [("struct_size", size_t), ("input_dtype", c_int),
                ("max_rows", i64), ("cols", i64), ("block", c_int),
                ("scale_layout", c_int), ("global_mode", c_int),
                ("e4m3_max", c_int), ("adaptive", c_int), ("fusion", c_int),
                ("swiglu_granularity", i64), ("num_experts", c_int)]


class QuantizeArgs(ctypes.Structure):
    _fields_ = [("struct_size", size_t), ("rows", i64), ("rows_device", u64),
                ("input", u64), ("input_stride", i64), ("codes", u64),
                ("scales", u64), ("global_enc", u64), ("global_dec", u64),
                ("expert_offsets", u64), ("expert_global_enc", u64),
                ("nonfinite_count", u64)]


DTYPE_BF16 = 2
SCALE_LINEAR, SCALE_SWIZZLED = 0, 1
GLOBAL_PER_TENSOR = 1


def load_library():
    path = os.environ.get("FP4RT_LIB")
    if not path:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "..", "..", ".libs", "libfp4rt.so")
    lib = ctypes.CDLL(path)
    lib.fp4rt_status_string.restype = ctypes.c_char_p
    lib.fp4rt_last_error.restype = ctypes.c_char_p
    lib.fp4rt_quantizer_scales_bytes.restype = size_t
    return lib


def check(lib, status, what):
    if status != 0:
        raise RuntimeError("%s: %s: %s" % (
            what, lib.fp4rt_status_string(status).decode(),
            lib.fp4rt_last_error().decode()))


# ---------------------------------------------------------------------------
# The numerics contract in torch (fp32 on the CPU, IEEE everywhere)
# ---------------------------------------------------------------------------

E4M3_MAX = 448.0
FLT_MAX = torch.finfo(torch.float32).max


def e2m1_codes(v):
    """Round to E2M1 in one step, ties to the even code; sign kept."""
    a = v.abs()
    mag = torch.zeros_like(a, dtype=torch.uint8)
    # Each threshold passed adds one to the code; '<=' and '<' follow the
    # contract so that every tie goes to the even code.
    for t, inclusive in ((0.25, False), (0.75, True), (1.25, False),
                         (1.75, True), (2.5, False), (3.5, True), (5.0, False)):
        mag += (a >= t if inclusive else a > t).to(torch.uint8)
    mag = torch.where(torch.isnan(v), torch.full_like(mag, 7), mag)
    sign = (torch.signbit(v) & ~torch.isnan(v)).to(torch.uint8) * 8
    return mag | sign


def reference(x, s_enc):
    """Codes and linear scales of a [M, K] tensor under S_enc."""
    xf = x.float().cpu().reshape(x.shape[0], -1, 16)
    s_enc = torch.tensor(s_enc, dtype=torch.float32)
    s_dec = torch.tensor(1.0, dtype=torch.float32) / s_enc
    one_sixth = torch.tensor(1.0 / 6.0, dtype=torch.float32)
    vmax = torch.nan_to_num(xf.abs(), nan=0.0).amax(dim=-1)
    s = (vmax * (s_enc * one_sixth)).clamp(max=E4M3_MAX)
    sf = s.to(torch.float8_e4m3fn)                 # round to nearest even
    sf_f = sf.float()
    enc = torch.clamp(1.0 / (sf_f * s_dec), max=FLT_MAX)
    codes = e2m1_codes(xf * enc.unsqueeze(-1))
    codes = torch.where(sf_f.unsqueeze(-1) == 0, torch.zeros_like(codes),
                        codes)
    packed = codes[..., 0::2] | (codes[..., 1::2] << 4)
    return packed.reshape(x.shape[0], -1), sf.view(torch.uint8)


def main():
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to run")
        return 0
    lib = load_library()
    torch.manual_seed(0)
    m, k = 333, 7168
    x = (torch.randn(m, k, device="cuda") * 3).to(torch.bfloat16)
    x[5, :16] = 0                                   # a zero block
    x[7, 3] = float("nan")                          # a NaN among values

    ctx = ctypes.c_void_p()
    opts = ContextOptions(ctypes.sizeof(ContextOptions),
                          torch.cuda.current_device())
    check(lib, lib.fp4rt_context_create(ctypes.byref(opts),
                                        ctypes.byref(ctx)), "context")
    desc = QuantizerDesc(ctypes.sizeof(QuantizerDesc), DTYPE_BF16, m, k, 0,
                         SCALE_LINEAR, GLOBAL_PER_TENSOR, 0, 0, 0, 0, 0)
    plan = ctypes.c_void_p()
    check(lib, lib.fp4rt_quantizer_create(ctx, ctypes.byref(desc),
                                          ctypes.byref(plan)), "plan")

    codes = torch.full((m, k // 2), 0xEE, dtype=torch.uint8, device="cuda")
    scales = torch.full((lib.fp4rt_quantizer_scales_bytes(plan),), 0xEE,
                        dtype=torch.uint8, device="cuda")
    s_enc = torch.empty(1, dtype=torch.float32, device="cuda")
    s_dec = torch.empty(1, dtype=torch.float32, device="cuda")
    args = QuantizeArgs(ctypes.sizeof(QuantizeArgs), m, 0, x.data_ptr(), 0,
                        codes.data_ptr(), scales.data_ptr(), s_enc.data_ptr(),
                        s_dec.data_ptr(), 0, 0, 0)
    stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
    check(lib, lib.fp4rt_quantizer_run(plan, ctypes.byref(args), stream),
          "run")
    torch.cuda.current_stream().synchronize()

    amax = torch.nan_to_num(x.float().abs(), nan=0.0).max().cpu()
    want_enc = torch.clamp(torch.tensor(6 * E4M3_MAX) / amax, max=FLT_MAX)
    want_codes, want_scales = reference(x, want_enc.item())
    same_enc = bool(s_enc.cpu()[0] == want_enc)
    same_codes = torch.equal(codes.cpu(), want_codes)
    same_scales = torch.equal(scales.cpu().reshape(m, k // 16), want_scales)
    print("S_enc %.6g (torch %.6g): %s" % (s_enc.item(), want_enc.item(),
                                           "equal" if same_enc else "DIFFER"))
    print("codes:  %s" % ("equal" if same_codes else "DIFFER"))
    print("scales: %s" % ("equal" if same_scales else "DIFFER"))
    lib.fp4rt_quantizer_destroy(plan)
    lib.fp4rt_context_destroy(ctx)
    return 0 if same_enc and same_codes and same_scales else 1


if __name__ == "__main__":
    sys.exit(main())
