#!/bin/sh
# Compares kernel-source variants on a GPU machine without rebuilding the
# library: each variant is a copy of kernel_src/ with a few defines put
# in front of one file, loaded through FP4RT_KERNEL_DIR.  Every variant is
# checked against the CPU reference (fp4rt selftest) before it is timed.
# Run in a built tree; output in $OUT.
#
# usage: bench/variants.sh FILE NAME='DEFINES' ...   (\n between lines)
#   e.g. bench/variants.sh fp4rt_portable.cuh base='' \
#            steps='#define FP4RT_E2M1_BY_MIN 0' \
#            regs64='#define FP4RT_Q1D_MIN_BLOCKS 4'
set -u
out=${OUT:-$PWD/gpu-out}
mkdir -p "$out"
file=$1
shift
jobs=$(nproc 2>/dev/null || echo 4)
export FP4RT_CACHE_DIR=${FP4RT_CACHE_DIR:-/tmp/fp4rt-variants-cache}
for spec in "$@"; do
    name=${spec%%=*}
    defines=${spec#*=}
    dir=/tmp/fp4rt-variants/$name
    rm -rf "$dir"
    mkdir -p "$dir"
    cp kernel_src/* "$dir/"
    { printf '%b\n' "$defines"; cat "kernel_src/$file"; } >"$dir/$file"
    FP4RT_KERNEL_DIR=$dir ./fp4rt prewarm --arch "${ARCH:-sm_90a}" \
        -j "$jobs" >"$out/prewarm-$name.txt" 2>&1 ||
        echo "$name: prewarm FAILED"
done
for spec in "$@"; do
    name=${spec%%=*}
    dir=/tmp/fp4rt-variants/$name
    FP4RT_KERNEL_DIR=$dir timeout 120 ./fp4rt selftest --cases 80 \
        >"$out/selftest-$name.txt" 2>&1
    echo "$name: selftest exit $? :: $(tail -n 1 "$out/selftest-$name.txt")"
    FP4RT_KERNEL_DIR=$dir timeout 120 ./bench/bench_quant "${REPS:-20}" \
        >"$out/bench-$name.txt" 2>&1
    grep -E "static lin|4o6-mae|tensor|grouped|dequant" "$out/bench-$name.txt" |
        grep -E "^(16384|8192)" | sed "s/^/$name  /"
done
# Rank the variants that passed by the summed time of the rows above on
# the largest shape; the last line names the fastest.
best= best_t=
for spec in "$@"; do
    name=${spec%%=*}
    tail -n 1 "$out/selftest-$name.txt" | grep -q " 0 failed" || continue
    t=$(grep -E "^16384x7168 .*(static lin|4o6-mae|tensor|grouped|dequant)" \
            "$out/bench-$name.txt" | awk '{s += $(NF - 3)} END {print s + 0}')
    echo "$name: $t us in all"
    if [ -z "$best" ] || awk "BEGIN {exit !($t < $best_t)}"; then
        best=$name best_t=$t
    fi
done
echo "best: ${best:-none}"
