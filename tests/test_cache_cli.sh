#!/bin/sh
# fp4rt cache: usage, exit codes, memory-only and refused directories,
# damaged and stale files.  (The commands on a directory prewarmed by
# real processes are exercised by test_cache_jit.)
fp4rt="$top_builddir/fp4rt"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fp4rt-cache-cli-XXXXXX")
trap 'chmod -R u+rwx "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
unset FP4RT_CACHE FP4RT_CACHE_READONLY_DIRS FP4RT_CACHE_MAX_BYTES
export FP4RT_CACHE_DIR="$tmp/cache"
n=0

# expect DESCRIPTION STATUS TEXT COMMAND...: COMMAND exits with STATUS and
# TEXT (a grep pattern, "" for any) is in its stdout or stderr.
expect() {
    n=$((n + 1)); what=$1; want=$2; text=$3; shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"; got=$?
    if [ "$got" -ne "$want" ]; then
        echo "not ok $n - $what (exit $got, want $want)"
    elif [ -n "$text" ] && ! grep -q -- "$text" "$tmp/out" "$tmp/err"; then
        echo "not ok $n - $what (no '$text' in the output)"
    else
        echo "ok $n - $what"; return
    fi
    sed 's/^/#   /' "$tmp/out" "$tmp/err"
}
# is DESCRIPTION TEST-ARGS...: a plain test(1) condition.
is() {
    n=$((n + 1)); what=$1; shift
    if test "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; fi
}

expect "cache --help" 0 "usage: fp4rt cache" "$fp4rt" cache --help
expect "no subcommand: usage error" 2 "usage:" "$fp4rt" cache
expect "unknown subcommand: usage error" 2 "unknown subcommand 'frob'" \
    "$fp4rt" cache frob
expect "unknown option: usage error" 2 "unknown argument '--bogus'" \
    "$fp4rt" cache stats --bogus
expect "--repair without verify: usage error" 2 "goes with verify" \
    "$fp4rt" cache list --repair

expect "stats on a new directory" 0 "entries    0" "$fp4rt" cache stats
is "the directory is created, mode 700" "$(stat -c %a "$tmp/cache")" = 700
expect "stats --json" 0 '"disk_cache": true' "$fp4rt" cache stats --json
expect "list --json of an empty cache" 0 '{"entries": \[\]}' \
    "$fp4rt" cache list --json
expect "verify of an empty cache" 0 "0 entries checked" "$fp4rt" cache verify
expect "clear of an empty cache" 0 "0 entries removed" "$fp4rt" cache clear
mkdir -p "$tmp/other"
expect "--cache-dir wins over FP4RT_CACHE_DIR" 0 \
    "\"cache_dir\": \"$tmp/other\"" \
    "$fp4rt" cache stats --json --cache-dir "$tmp/other"

# Files verify must judge without any compiler: a damaged entry, an old
# and a new temporary file, and files of names the cache never writes.
stem=$(printf '%064d-%064d' 0 0)
mkdir -p "$tmp/cache/00"
echo "not an entry" >"$tmp/cache/00/$stem.cubin"
old="$tmp/cache/00/$stem.1.0123456789abcdef.tmp"
new="$tmp/cache/00/$stem.2.0123456789abcdef.tmp"
: >"$old"
touch -d '2 hours ago' "$old"
: >"$new"
: >"$tmp/cache/00/notes.tmp"
: >"$tmp/cache/00/other.cubin"
touch -d '2 hours ago' "$tmp/cache/00/notes.tmp"
expect "verify finds the damaged entry: exit 1" 1 '"invalid": 1' \
    "$fp4rt" cache verify --json
grep -q '"checked": 1,.*"temp_files": 2' "$tmp/out"
is "and counts only the cache's own files" $? -eq 0
expect "verify --repair" 0 '"invalid_left": 0' \
    "$fp4rt" cache verify --repair --json
is "removed the damaged entry" ! -e "$tmp/cache/00/$stem.cubin"
is "and the stale temporary file" ! -e "$old"
is "but kept the fresh one (a publish may be in flight)" -e "$new"
is "and every file not named by the cache" \
    -e "$tmp/cache/00/notes.tmp" -a -e "$tmp/cache/00/other.cubin"
expect "clear" 0 "removed" "$fp4rt" cache clear
is "clear leaves foreign files too" \
    -e "$tmp/cache/00/notes.tmp" -a -e "$tmp/cache/00/other.cubin"

# No writable directory: stats say why, verify and clear fail.
expect "FP4RT_CACHE=off: stats" 0 "memory only" \
    env FP4RT_CACHE=off "$fp4rt" cache stats
grep -q "FP4RT_CACHE=off" "$tmp/out"
is "and the notice says why" $? -eq 0
expect "FP4RT_CACHE=off: verify fails" 1 "no writable cache directory" \
    env FP4RT_CACHE=off "$fp4rt" cache verify
expect "FP4RT_CACHE=off: clear fails" 1 "no writable cache directory" \
    env FP4RT_CACHE=off "$fp4rt" cache clear
mkdir -p "$tmp/open" && chmod 0777 "$tmp/open"
expect "a world-writable directory is refused" 0 "without the sticky bit" \
    "$fp4rt" cache stats --cache-dir "$tmp/open"
expect "verify on it fails" 1 "refusing cache directory" \
    "$fp4rt" cache verify --cache-dir "$tmp/open"
echo "1..$n"
