#!/bin/sh
# Builds fp4rt from a `make dist` tarball on a GPU machine (autotools'
# generated files are in the tarball, so no libtool is needed there) and
# runs the chosen steps; logs and a summary go to $OUT (default ./gpu-out).
#
# usage: bench/gpu_session.sh TARBALL [build] [check] [selftest] [bench]
#                                     [sanitize] [examples]
# (no step named: all of them)
set -u
tarball=$(readlink -f "$1")
shift
steps=${*:-"build check selftest bench sanitize examples"}
out=${OUT:-$PWD/gpu-out}
mkdir -p "$out"
top=/tmp/fp4rt-gpu
jobs=$(nproc 2>/dev/null || echo 4)
export FP4RT_CACHE_DIR=$top/cache
summary=$out/summary.txt

note() { echo "$*" | tee -a "$summary"; }
has() { case " $steps " in *" $1 "*) return 0 ;; esac; return 1; }

if has build || [ ! -d "$top/src" ]; then
    rm -rf "$top"
    mkdir -p "$top/src"
    tar xzf "$tarball" -C "$top/src" --strip-components=1 || exit 1
    cd "$top/src" || exit 1
    nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu \
        --format=csv >"$out/gpu.txt" 2>&1
    note "gpu: $(tail -n 1 "$out/gpu.txt")"
    t0=$(date +%s)
    if ! { ./configure -q && make -j"$jobs"; } >"$out/build.log" 2>&1; then
        tail -n 40 "$out/build.log"
        note "build FAILED"
        exit 1
    fi
    note "build: ok in $(( $(date +%s) - t0 )) s"
fi
cd "$top/src" || exit 1

if has check; then
    t0=$(date +%s)
    FP4RT_TEST_TIMEOUT=360 timeout 420 make -j"$jobs" check >"$out/check.log" 2>&1
    cat tests/*.log >"$out/tests-all.log" 2>/dev/null
    grep -E '^(FAIL|ERROR|XPASS):' "$out/check.log" | head -n 40 | tee -a "$summary"
    grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR):' "$out/check.log" | tee -a "$summary"
    grep -E '^(SKIP):' "$out/check.log" | tee -a "$summary"
    note "check: $(( $(date +%s) - t0 )) s"
fi

if has selftest; then
    ./fp4rt info | tee "$out/info.txt"
    timeout 240 ./fp4rt selftest --exhaustive --cases 60 >"$out/selftest.log" 2>&1
    note "selftest: exit $? :: $(tail -n 1 "$out/selftest.log")"
    grep FAIL "$out/selftest.log" | head -n 20 | tee -a "$summary"
    # The kernels of GPUs before sm_90: no bulk copies, no cooperative
    # per-tensor launch.
    FP4RT_Q1D_BULK=0 FP4RT_Q1D_GRID=0 timeout 120 ./fp4rt selftest --cases 40 \
        >"$out/selftest-register.log" 2>&1
    note "selftest, register kernels only: exit $? :: $(tail -n 1 "$out/selftest-register.log")"
fi

if has bench; then
    timeout 120 ./bench/bench_jit "$jobs" >"$out/bench_jit.txt" 2>&1
    timeout 240 ./bench/bench_quant 50 >"$out/bench_quant.txt" 2>&1
    cat "$out/bench_jit.txt" "$out/bench_quant.txt" >>"$summary"
    cat "$out/bench_quant.txt"
fi

if has sanitize && command -v compute-sanitizer >/dev/null 2>&1; then
    for tool in memcheck racecheck synccheck; do
        LD_LIBRARY_PATH=.libs timeout 150 compute-sanitizer --tool "$tool" --error-exitcode 9 \
            .libs/fp4rt selftest --cases 3 >"$out/sanitize-$tool.log" 2>&1
        note "compute-sanitizer $tool: exit $? :: $(grep -E 'SUMMARY' "$out/sanitize-$tool.log" | tail -n 1)"
        # 1024 x 7168 takes the bulk-copy kernels on sm_90 and later.
        LD_LIBRARY_PATH=.libs timeout 150 compute-sanitizer --tool "$tool" --error-exitcode 9 \
            examples/.libs/quantize 1024 7168 >"$out/sanitize-bulk-$tool.log" 2>&1
        note "compute-sanitizer $tool, example 1024x7168: exit $? :: $(grep -E 'SUMMARY' "$out/sanitize-bulk-$tool.log" | tail -n 1)"
    done
fi

if has examples; then
    ./examples/quantize 1024 7168 >"$out/example-quantize.txt" 2>&1
    note "example quantize: exit $?"
    cat "$out/example-quantize.txt" | tee -a "$summary"
    FP4RT_LIB=$PWD/.libs/libfp4rt.so python3 examples/python/fp4rt_torch.py \
        >"$out/example-torch.txt" 2>&1
    note "example torch: exit $?"
    cat "$out/example-torch.txt" | tee -a "$summary"
fi
