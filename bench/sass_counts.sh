#!/bin/sh
# Per-SASS-instruction execution counts of one benchmark row's kernel, by
# Nsight Compute, as CSV (the source page).  Run inside a tree built by
# bench/gpu_session.sh.
# usage: bench/sass_counts.sh SHAPE MODE KERNEL [TAG]   (output in $OUT)
set -u
out=${OUT:-$PWD/gpu-out}
mkdir -p "$out"
shape=$1 mode=$2 kernel=$3
tag=${4:-$(echo "$shape-$mode-$kernel" | tr -c 'A-Za-z0-9_\n-' '_')}
BENCH_NO_QUEUE=1 ncu --clock-control none --kernel-name "$kernel" --launch-skip 3 \
    --launch-count 1 --section SourceCounters --page source \
    --print-source sass --csv \
    ./bench/bench_quant 5 "$shape" "$mode" >"$out/sass-$tag.csv" 2>&1
echo "$tag: $(wc -l <"$out/sass-$tag.csv") lines"
