/*
 * The entry format, and reading an entry back with every field checked.
 *
 * Layout (integers little-endian):
 *     0  magic "FP4RTCUB"           8
 *     8  schema version            u32
 *    12  header length             u32   (all of the header, checksum too)
 *    16  base key                   32
 *    48  full key                   32
 *    80  target, module, producer  3 x u16 lengths
 *    86  flags                     u16   (0)
 *    88  payload length            u64
 *    96  payload SHA-256            32
 *   128  the three strings, no terminators
 *        header SHA-256             32   (of every header byte before it)
 *        payload
 * Nothing read is trusted before it is checked against the file size and
 * the header checksum.
 */
#include "jit/cache_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jit/sha256.h"

static const char magic[8] = { 'F', 'P', '4', 'R', 'T', 'C', 'U', 'B' };

enum {
    OFF_VERSION = 8,
    OFF_HEADER_LEN = 12,
    OFF_BASE = 16,
    OFF_FULL = 48,
    OFF_LENS = 80,
    OFF_FLAGS = 86,
    OFF_PAYLOAD_LEN = 88,
    OFF_PAYLOAD_SUM = 96,
    FIXED_LEN = 128,
    SUM_LEN = FP4RT_SHA256_BYTES,
    HEADER_MAX = FIXED_LEN + 3 * FP4RT_CACHE_STR_MAX + SUM_LEN
};

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static size_t clamp_len(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n < FP4RT_CACHE_STR_MAX ? n : FP4RT_CACHE_STR_MAX;
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

/* Fills out (HEADER_MAX bytes) and returns the header length. */
static size_t header_encode(const fp4rt_cache_key *base,
                            const fp4rt_cache_key *full,
                            const fp4rt_cache_meta *meta,
                            const void *payload, size_t size,
                            unsigned char *out)
{
    const char *strs[3] = { meta->target, meta->module, meta->producer };
    size_t at = FIXED_LEN;
    memset(out, 0, FIXED_LEN);
    memcpy(out, magic, sizeof magic);
    put_le(out + OFF_VERSION, FP4RT_CACHE_SCHEMA_VERSION, 4);
    memcpy(out + OFF_BASE, base->bytes, FP4RT_CACHE_KEY_BYTES);
    memcpy(out + OFF_FULL, full->bytes, FP4RT_CACHE_KEY_BYTES);
    for (int i = 0; i < 3; i++) {
        size_t n = clamp_len(strs[i]);
        put_le(out + OFF_LENS + 2 * i, n, 2);
        if (n)
            memcpy(out + at, strs[i], n);
        at += n;
    }
    put_le(out + OFF_PAYLOAD_LEN, size, 8);
    fp4rt_sha256_buffer(payload, size, out + OFF_PAYLOAD_SUM);
    put_le(out + OFF_HEADER_LEN, at + SUM_LEN, 4);
    fp4rt_sha256_buffer(out, at, out + at);
    return at + SUM_LEN;
}

static void pause_for_test(void)
{
    /* Lets a test kill a writer between fsync and rename. */
    const char *flag = secure_getenv("FP4RT_CACHE_TEST_PAUSE_BEFORE_RENAME");
    if (!flag || !*flag)
        return;
    int fd = open(flag, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0)
        close(fd);
    struct timespec step = { 0, 100 * 1000 * 1000 };
    for (int i = 0; i < 600; i++)
        nanosleep(&step, NULL);
}

/* Header and payload into fd, then fsync and close.  0 or an errno. */
static int write_file(int fd, const unsigned char *header, size_t hlen,
                      const void *payload, size_t size)
{
    int err = 0;
    if (fp4rt_cache_write_all(fd, header, hlen) != 0 ||
        fp4rt_cache_write_all(fd, payload, size) != 0 || fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && !err && errno != EINTR)
        err = errno;
    return err;
}

static int publish_failed(int err, char *why, size_t why_len,
                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
    size_t used = strlen(why);
    snprintf(why + used, why_len - used, ": %s", strerror(err));
    return err;
}

int fp4rt_cache_publish(int sub, const fp4rt_cache_key *base,
                        const fp4rt_cache_key *full,
                        const fp4rt_cache_meta *meta, const void *payload,
                        size_t size, char *why, size_t why_len)
{
    unsigned char header[HEADER_MAX];
    char final[FP4RT_CACHE_NAME_MAX], tmp[FP4RT_CACHE_NAME_MAX], rnd[17];

    if (size == 0 || size > FP4RT_CACHE_MAX_PAYLOAD)
        return publish_failed(EFBIG, why, why_len,
                              "a payload of %zu bytes is not cached", size);
    if (!meta->target || strlen(meta->target) > FP4RT_CACHE_STR_MAX)
        return publish_failed(EINVAL, why, why_len, "bad target name");
    size_t hlen = header_encode(base, full, meta, payload, size, header);
    fp4rt_cache_key_name(base, full, ".cubin", final);
    fp4rt_cache_random_hex(rnd);
    snprintf(tmp, sizeof tmp, "%.*s.%ld.%s.tmp", FP4RT_CACHE_STEM_LEN, final,
             (long)getpid(), rnd);
    int fd = openat(sub, tmp,
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0600);
    if (fd < 0)
        return publish_failed(errno, why, why_len, "creating %s", tmp);
    int err = write_file(fd, header, hlen, payload, size);
    if (err) {
        unlinkat(sub, tmp, 0);
        return publish_failed(err, why, why_len, "writing %s", tmp);
    }
    pause_for_test();
    if (renameat(sub, tmp, sub, final) != 0) {
        err = errno;
        unlinkat(sub, tmp, 0);
        return publish_failed(err, why, why_len, "renaming %s", tmp);
    }
    if (fsync(sub) != 0)
        return publish_failed(errno, why, why_len, "syncing the directory "
                                                   "of %s", final);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

static fp4rt_cache_entry_state fail(fp4rt_cache_entry *e,
                                    fp4rt_cache_entry_state state,
                                    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static fp4rt_cache_entry_state fail(fp4rt_cache_entry *e,
                                    fp4rt_cache_entry_state state,
                                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->why, sizeof e->why, fmt, ap);
    va_end(ap);
    return state;
}

static fp4rt_cache_entry_state short_read(fp4rt_cache_entry *e,
                                          const char *what)
{
    return fail(e, FP4RT_ENTRY_INVALID, "reading the %s: %s", what,
                errno ? strerror(errno) : "file too short");
}

/* The fixed part: lengths consistent with each other and the file. */
static fp4rt_cache_entry_state check_fixed(const unsigned char *h,
                                           uint64_t file_size,
                                           fp4rt_cache_entry *e)
{
    uint64_t strings = get_le(h + OFF_LENS, 2) + get_le(h + OFF_LENS + 2, 2) +
                       get_le(h + OFF_LENS + 4, 2);
    uint64_t hlen = get_le(h + OFF_HEADER_LEN, 4);
    uint64_t plen = get_le(h + OFF_PAYLOAD_LEN, 8);
    if (memcmp(h, magic, sizeof magic) != 0)
        return fail(e, FP4RT_ENTRY_INVALID, "not a cache entry (bad magic)");
    if (get_le(h + OFF_VERSION, 4) != FP4RT_CACHE_SCHEMA_VERSION)
        return fail(e, FP4RT_ENTRY_INVALID, "schema version %u, not %u",
                    (unsigned)get_le(h + OFF_VERSION, 4),
                    FP4RT_CACHE_SCHEMA_VERSION);
    if (get_le(h + OFF_FLAGS, 2) != 0)
        return fail(e, FP4RT_ENTRY_INVALID, "unknown flags");
    for (int i = 0; i < 3; i++)
        if (get_le(h + OFF_LENS + 2 * i, 2) > FP4RT_CACHE_STR_MAX)
            return fail(e, FP4RT_ENTRY_INVALID, "string too long");
    if (hlen != FIXED_LEN + strings + SUM_LEN || hlen > file_size)
        return fail(e, FP4RT_ENTRY_INVALID, "bad header length %llu",
                    (unsigned long long)hlen);
    if (plen != file_size - hlen || plen == 0 ||
        plen > FP4RT_CACHE_MAX_PAYLOAD)
        return fail(e, FP4RT_ENTRY_INVALID,
                    "payload length %llu does not match the file size %llu",
                    (unsigned long long)plen,
                    (unsigned long long)file_size);
    return FP4RT_ENTRY_VALID;
}

static void copy_string(char *dst, const unsigned char *src, size_t n)
{
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* The header's own checksum, then its strings and keys. */
static fp4rt_cache_entry_state check_header(const unsigned char *h,
                                            const fp4rt_cache_expect *x,
                                            fp4rt_cache_entry *e)
{
    size_t hlen = (size_t)get_le(h + OFF_HEADER_LEN, 4);
    unsigned char sum[SUM_LEN];
    fp4rt_sha256_buffer(h, hlen - SUM_LEN, sum);
    if (memcmp(sum, h + hlen - SUM_LEN, SUM_LEN) != 0)
        return fail(e, FP4RT_ENTRY_INVALID, "header checksum mismatch");
    char *dst[3] = { e->target, e->module, e->producer };
    size_t at = FIXED_LEN;
    for (int i = 0; i < 3; i++) {
        size_t n = (size_t)get_le(h + OFF_LENS + 2 * i, 2);
        copy_string(dst[i], h + at, n);
        at += n;
    }
    e->have_header = 1;
    if (x->base && memcmp(h + OFF_BASE, x->base->bytes, SUM_LEN) != 0)
        return fail(e, FP4RT_ENTRY_INVALID, "base key does not match");
    if (x->full && memcmp(h + OFF_FULL, x->full->bytes, SUM_LEN) != 0)
        return fail(e, FP4RT_ENTRY_INVALID, "full key does not match");
    if (x->fanout) {
        fp4rt_cache_key b;
        char fan[3];
        memcpy(b.bytes, h + OFF_BASE, SUM_LEN);
        fp4rt_cache_key_fanout(&b, fan);
        if (strcmp(fan, x->fanout) != 0)
            return fail(e, FP4RT_ENTRY_INVALID, "in the wrong directory");
    }
    if (x->target && strcmp(x->target, e->target) != 0)
        return fail(e, FP4RT_ENTRY_INVALID, "built for %s, not %s",
                    e->target, x->target);
    return FP4RT_ENTRY_VALID;
}

/* Reads the payload (kept or only hashed) and checks its checksum. */
static fp4rt_cache_entry_state check_payload(int fd, const unsigned char *h,
                                             int keep, fp4rt_cache_entry *e)
{
    size_t hlen = (size_t)get_le(h + OFF_HEADER_LEN, 4);
    size_t n = (size_t)get_le(h + OFF_PAYLOAD_LEN, 8);
    unsigned char chunk[16384], sum[SUM_LEN];
    unsigned char *data = keep ? malloc(n) : NULL;
    fp4rt_sha256 s;
    if (keep && !data)
        return fail(e, FP4RT_ENTRY_NO_MEMORY, "out of memory");
    fp4rt_sha256_init(&s);
    for (size_t done = 0; done < n;) {
        size_t take = keep ? n : (n - done < sizeof chunk ? n - done
                                                          : sizeof chunk);
        unsigned char *p = keep ? data : chunk;
        if (fp4rt_cache_read_at(fd, p, take, (off_t)(hlen + done)) != 0) {
            free(data);
            return short_read(e, "payload");
        }
        fp4rt_sha256_update(&s, p, take);
        done += take;
    }
    fp4rt_sha256_final(&s, sum);
    if (memcmp(sum, h + OFF_PAYLOAD_SUM, SUM_LEN) != 0) {
        free(data);
        return fail(e, FP4RT_ENTRY_INVALID, "payload checksum mismatch");
    }
    e->payload = data;
    e->payload_size = n;
    return FP4RT_ENTRY_VALID;
}

static fp4rt_cache_entry_state read_open(int fd, const struct stat *st,
                                         const fp4rt_cache_expect *x,
                                         fp4rt_cache_entry *e)
{
    unsigned char h[HEADER_MAX];
    uint64_t size = (uint64_t)st->st_size;
    if (!S_ISREG(st->st_mode))
        return fail(e, FP4RT_ENTRY_INVALID, "not a regular file");
    if (size < FIXED_LEN + SUM_LEN)
        return fail(e, FP4RT_ENTRY_INVALID, "truncated (%llu bytes)",
                    (unsigned long long)size);
    if (size > HEADER_MAX + (uint64_t)FP4RT_CACHE_MAX_PAYLOAD)
        return fail(e, FP4RT_ENTRY_INVALID, "too large (%llu bytes)",
                    (unsigned long long)size);
    if (fp4rt_cache_read_at(fd, h, FIXED_LEN, 0) != 0)
        return short_read(e, "header");
    fp4rt_cache_entry_state s = check_fixed(h, size, e);
    if (s != FP4RT_ENTRY_VALID)
        return s;
    size_t rest = (size_t)get_le(h + OFF_HEADER_LEN, 4) - FIXED_LEN;
    if (fp4rt_cache_read_at(fd, h + FIXED_LEN, rest, FIXED_LEN) != 0)
        return short_read(e, "header");
    s = check_header(h, x, e);
    if (s != FP4RT_ENTRY_VALID)
        return s;
    return check_payload(fd, h, x->want_payload, e);
}

/* Recency for the size cap: an explicit mtime, since atime is often off. */
static void touch(int fd, const struct stat *st)
{
    struct timespec now, times[2] = { { 0, UTIME_OMIT }, { 0, UTIME_NOW } };
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec - st->st_mtime >= FP4RT_CACHE_TOUCH_SECONDS)
        futimens(fd, times); /* best effort: a failure only ages it */
}

static fp4rt_cache_entry_state open_failed(int dir, const char *name,
                                           fp4rt_cache_entry *e)
{
    int err = errno;
    struct stat st;
    if (err == ENOENT)
        return FP4RT_ENTRY_ABSENT;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? FP4RT_ENTRY_ABSENT
                               : fail(e, FP4RT_ENTRY_UNREADABLE, "%s",
                                      strerror(err));
    fp4rt_cache_ident_of(&st, &e->ident);
    if (err == ELOOP || S_ISLNK(st.st_mode))
        return fail(e, FP4RT_ENTRY_INVALID, "a symbolic link");
    if (!S_ISREG(st.st_mode))
        return fail(e, FP4RT_ENTRY_INVALID, "not a regular file");
    return fail(e, FP4RT_ENTRY_UNREADABLE, "%s", strerror(err));
}

fp4rt_cache_entry_state fp4rt_cache_entry_read(int dir, const char *name,
                                               const fp4rt_cache_expect *x,
                                               fp4rt_cache_entry *e)
{
    struct stat st;
    int fd;
    memset(e, 0, sizeof *e);
    /* O_NONBLOCK: a FIFO planted under an entry name must not hang us. */
    do
        fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
                                   O_NONBLOCK | O_NOCTTY);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return open_failed(dir, name, e);
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return fail(e, FP4RT_ENTRY_UNREADABLE, "%s", strerror(err));
    }
    fp4rt_cache_ident_of(&st, &e->ident);
    fp4rt_cache_entry_state s = read_open(fd, &st, x, e);
    if (s == FP4RT_ENTRY_VALID && x->touch)
        touch(fd, &st);
    close(fd);
    return s;
}
