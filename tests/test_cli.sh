#!/bin/sh
# The fp4rt command: help, version, exit codes, info, prewarm.
fp4rt="$top_builddir/fp4rt"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fp4rt-cli-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
check() { # description, then a command that must succeed
    n=$((n + 1)); d=$1; shift
    if "$@" >"$tmp/out" 2>"$tmp/err"; then echo "ok $n - $d"
    else echo "not ok $n - $d"; sed 's/^/#   /' "$tmp/out" "$tmp/err"; fi
}
status_is() { # description, wanted exit status, command
    n=$((n + 1)); d=$1; want=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"; got=$?
    if [ "$got" -eq "$want" ]; then echo "ok $n - $d"
    else echo "not ok $n - $d (exit $got, want $want)"; sed 's/^/#   /' "$tmp/err"; fi
}
output_has() { # description, file, text
    n=$((n + 1))
    if grep -q -- "$3" "$2"; then echo "ok $n - $1"
    else echo "not ok $n - $1"; sed 's/^/#   /' "$2"; fi
}

check "fp4rt --help" "$fp4rt" --help
output_has "help lists the commands" "$tmp/out" "prewarm"
check "fp4rt --version" "$fp4rt" --version
output_has "version printed" "$tmp/out" "fp4rt [0-9]"
status_is "no command: usage error" 2 "$fp4rt"
status_is "unknown command: usage error" 2 "$fp4rt" frobnicate
for c in info prewarm cache selftest; do
    check "fp4rt $c --help" "$fp4rt" $c --help
    output_has "$c help shows usage" "$tmp/out" "usage: fp4rt $c"
done
export FP4RT_CACHE_DIR="$tmp/cache"
check "fp4rt info works with or without a GPU" "$fp4rt" info
output_has "info names a target" "$tmp/out" "target"
check "fp4rt info --json" "$fp4rt" info --json
output_has "info JSON has the cache" "$tmp/out" '"cache_dir"'
status_is "prewarm: unknown target is a usage error" 2 "$fp4rt" prewarm --arch sm_99
output_has "and names it" "$tmp/err" "sm_99"
status_is "prewarm: bad -j is a usage error" 2 "$fp4rt" prewarm -j 0

if "$fp4rt" info | grep -q "^nvrtc *[0-9]"; then
    check "prewarm sm_90a,sm_121a" "$fp4rt" prewarm --arch sm_90a,sm_121a -j 2
    output_has "prewarm reports each target" "$tmp/out" "sm_121a"
    output_has "prewarm summary line" "$tmp/out" "prewarm done"
    check "prewarm --json" "$fp4rt" prewarm --arch sm_100a --json
    output_has "JSON lists targets" "$tmp/out" '"targets": \[{"target": "sm_100a"'
else
    for i in 1 2 3 4 5; do n=$((n + 1)); echo "ok $n - # SKIP NVRTC not installed"; done
fi
# As if no toolkit were installed: a miss names the module and target.
FP4RT_CUDA_LIBDIR="$tmp/none" FP4RT_CUDA_LIBDIR_ONLY=1 FP4RT_CACHE=off \
    status_is "prewarm without NVRTC fails" 1 "$fp4rt" prewarm --arch sm_89
output_has "the error names the module and target" "$tmp/err" "sm_89 quant1d_bf16: "
output_has "and says it is not in the cache" "$tmp/err" "not in the cache"
output_has "and says NVRTC is missing" "$tmp/err" "NVRTC"
echo "1..$n"
