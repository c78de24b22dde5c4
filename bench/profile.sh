#!/bin/sh
# Profiles one benchmark row with Nsight Compute and disassembles the
# module behind it.  Run inside a tree built by bench/gpu_session.sh.
# usage: bench/profile.sh SHAPE MODE MODULE KERNEL   (e.g. 16384x7168
#        "static lin" quant1d_bf16 fp4rt_quant1d); output in $OUT.
set -u
out=${OUT:-$PWD/gpu-out}
mkdir -p "$out"
shape=$1 mode=$2 module=$3 kernel=$4
tag=$(echo "$module-$kernel" | tr -c 'A-Za-z0-9_\n-' '_')
BENCH_NO_QUEUE=1 ncu --clock-control none --kernel-name "$kernel" --launch-skip 3 \
    --launch-count 1 --section SpeedOfLight --section Occupancy \
    --section LaunchStats --section ComputeWorkloadAnalysis \
    --section InstructionStats --section MemoryWorkloadAnalysis \
    --section WarpStateStats \
    ./bench/bench_quant 5 "$shape" "$mode" >"$out/ncu-$tag.txt" 2>&1
./bench/bench_jit --dump "$module" sm_90a "/tmp/$module.cubin" &&
    cuobjdump -sass "/tmp/$module.cubin" >"$out/sass-$module.txt" 2>&1
cuobjdump -res-usage "/tmp/$module.cubin" >>"$out/sass-$module.txt" 2>&1
grep -E "Function|REG|Compute \(SM\)|Memory Throughput|DRAM Throughput|Achieved Occupancy|Registers Per|Issue Slots Busy|Executed Ipc A|Theoretical Occ|Block Limit" \
    "$out/ncu-$tag.txt" | head -n 30
