#!/bin/sh
# Only fp4rt_* symbols leave the shared library.
lib="$top_builddir/.libs/libfp4rt.so"
if [ ! -f "$lib" ] || ! command -v nm >/dev/null 2>&1; then
    echo "1..0 # SKIP no shared library or no nm"
    exit 0
fi
bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' |
      grep -v '^fp4rt_' | grep -v '^_init$' | grep -v '^_fini$' |
      grep -v '^_edata$' | grep -v '^_end$' | grep -v '^__bss_start$')
count=$(nm -D --defined-only "$lib" | awk '$2 == "T" {print $3}' | grep -c '^fp4rt_')
echo "1..3"
if [ -z "$bad" ]; then echo "ok 1 - only fp4rt_ symbols are exported"
else echo "not ok 1 - foreign symbols exported: $bad"; fi
if [ "$count" -gt 20 ]; then echo "ok 2 - $count public functions exported"
else echo "not ok 2 - only $count public functions exported"; fi
internal=$(nm -D --defined-only "$lib" | awk '{print $3}' |
           grep -E '^fp4rt_(jit|cache_open|loader|compile|sources|fail)' )
if [ -z "$internal" ]; then echo "ok 3 - internal functions stay hidden"
else echo "not ok 3 - internal functions exported: $internal"; fi
