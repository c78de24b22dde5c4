#!/bin/sh
# Compares two builds of fp4rt on one GPU machine, alternating their runs
# so that both see the same machine and clocks (between machines of the
# same kind the large-shape figures move by 1-3%).  Each build comes from
# a `make dist` tarball (no libtool needed there); both share one kernel
# cache directory, whose keys hold the kernel sources.  Output in $OUT.
#
# usage: bench/ab_session.sh OLD.tar.gz NEW.tar.gz [SHAPE:MODE ...]
#   SHAPE and MODE are bench_quant's filters, e.g. 16384x7168:swz
#   8192x4096:static (default 16384x7168:static); REPS rounds (default 2)
set -u
out=${OUT:-$PWD/gpu-out}
mkdir -p "$out"
old=$(readlink -f "$1")
new=$(readlink -f "$2")
shift 2
specs=${*:-16384x7168:static}
top=/tmp/fp4rt-ab
jobs=$(nproc 2>/dev/null || echo 4)
export FP4RT_CACHE_DIR=$top/cache
rm -rf "$top/old" "$top/new"
build() {   # NAME TARBALL
    mkdir -p "$top/$1" &&
        tar xzf "$2" -C "$top/$1" --strip-components=1 &&
        (cd "$top/$1" && ./configure -q >/dev/null &&
            make -j"$jobs" >"$out/build-$1.log" 2>&1) ||
        echo "$1: build FAILED (build-$1.log)"
}
build old "$old" &
build new "$new" &
wait
for t in old new; do
    [ -x "$top/$t/bench/bench_quant" ] || { echo "$t: no bench_quant"; exit 1; }
    # The first use compiles the kernels; keep it out of the timings.
    (cd "$top/$t" && ./bench/bench_quant 3 128x7168 >/dev/null 2>&1)
done
round=1
while [ "$round" -le "${REPS:-2}" ]; do
    for spec in $specs; do
        for t in old new; do
            echo "== $t round $round: $spec"
            (cd "$top/$t" &&
                ./bench/bench_quant 50 "${spec%%:*}" "${spec#*:}" |
                grep -v '^#')
        done
    done
    round=$((round + 1))
done | tee "$out/ab.txt"
