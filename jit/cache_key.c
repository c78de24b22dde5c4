/* Cache keys: what a cubin depends on, hashed; names derived from keys. */
#include "jit/cache_key.h"

#include <stdio.h>
#include <string.h>

#include "jit/sha256.h"

/* Domain tags keep these hashes apart from any other SHA-256 use. */
#define BASE_DOMAIN "fp4rt cubin cache base key"
#define FULL_DOMAIN "fp4rt cubin cache full key"

static void hash_u64(fp4rt_sha256 *s, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    fp4rt_sha256_update(s, b, sizeof b);
}

/* Every variable-length field is preceded by its length, so that no two
 * different input lists hash the same bytes. */
static void hash_bytes(fp4rt_sha256 *s, const void *p, size_t n)
{
    hash_u64(s, n);
    if (n)
        fp4rt_sha256_update(s, p, n);
}

static void hash_text(fp4rt_sha256 *s, const char *t)
{
    hash_bytes(s, t ? t : "", t ? strlen(t) : 0);
}

/* The options in strcmp order, without allocating: each round finds the
 * smallest option above the previous one and hashes all its copies.  The
 * lists are short (tens), so the quadratic cost is nothing. */
static void hash_sorted(fp4rt_sha256 *s, size_t n, const char *const *opt)
{
    const char *prev = NULL;
    hash_u64(s, n);
    for (;;) {
        const char *next = NULL;
        size_t copies = 0;
        for (size_t i = 0; i < n; i++) {
            const char *o = opt[i] ? opt[i] : "";
            if (prev && strcmp(o, prev) <= 0)
                continue;
            int c = next ? strcmp(o, next) : -1;
            if (c < 0) {
                next = o;
                copies = 1;
            } else if (c == 0) {
                copies++;
            }
        }
        if (!next)
            return;
        while (copies--)
            hash_text(s, next);
        prev = next;
    }
}

static void hash_base(fp4rt_sha256 *s, const fp4rt_cache_key_inputs *in)
{
    hash_u64(s, in->source_count);
    for (size_t i = 0; i < in->source_count; i++) {
        hash_text(s, in->source_names[i]);
        hash_bytes(s, in->source_data[i], in->source_sizes[i]);
    }
    hash_u64(s, in->entry_count);
    for (size_t i = 0; i < in->entry_count; i++)
        hash_text(s, in->entries[i]);
    hash_sorted(s, in->option_count, in->options);
    hash_text(s, in->target);
}

void fp4rt_cache_key_compute_as(const fp4rt_cache_key_inputs *in,
                                uint32_t schema, uint32_t pointer_size,
                                fp4rt_cache_key *base, fp4rt_cache_key *full)
{
    fp4rt_sha256 s;
    fp4rt_sha256_init(&s);
    hash_text(&s, BASE_DOMAIN);
    hash_u64(&s, schema);
    hash_u64(&s, pointer_size);
    hash_text(&s, in->module);
    hash_base(&s, in);
    fp4rt_sha256_final(&s, base->bytes);

    fp4rt_sha256_init(&s);
    hash_text(&s, FULL_DOMAIN);
    hash_bytes(&s, base->bytes, sizeof base->bytes);
    hash_text(&s, in->compiler_id);
    hash_text(&s, in->producer);
    fp4rt_sha256_final(&s, full->bytes);
}

void fp4rt_cache_key_compute(const fp4rt_cache_key_inputs *in,
                             fp4rt_cache_key *base, fp4rt_cache_key *full)
{
    fp4rt_cache_key_compute_as(in, FP4RT_CACHE_SCHEMA_VERSION,
                               (uint32_t)sizeof(void *), base, full);
}

void fp4rt_cache_key_hex(const fp4rt_cache_key *key, char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < FP4RT_CACHE_KEY_BYTES; i++) {
        out[2 * i] = digits[key->bytes[i] >> 4];
        out[2 * i + 1] = digits[key->bytes[i] & 15];
    }
    out[2 * FP4RT_CACHE_KEY_BYTES] = 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int fp4rt_cache_key_parse(const char *hex, fp4rt_cache_key *key)
{
    for (int i = 0; i < FP4RT_CACHE_KEY_BYTES; i++) {
        int hi = hex_value(hex[2 * i]);
        int lo = hi < 0 ? -1 : hex_value(hex[2 * i + 1]);
        if (lo < 0)
            return -1;
        key->bytes[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static int is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static int is_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return n > 0;
}

/* ".PID.RANDOM.tmp", the tail of a temporary file's name. */
static int is_temp_tail(const char *s)
{
    size_t len = strlen(s);
    const char *dot = s[0] == '.' ? strchr(s + 1, '.') : NULL;
    if (!dot || len < 4 || strcmp(s + len - 4, ".tmp") != 0)
        return 0;
    size_t pid_len = (size_t)(dot - s) - 1;
    size_t random_len = (size_t)(s + len - 4 - (dot + 1));
    return is_digits(s + 1, pid_len) && random_len == 16 &&
           is_lower_hex(dot + 1, 16);
}

fp4rt_cache_name_kind fp4rt_cache_name_classify(const char *name,
                                                fp4rt_cache_key *base,
                                                fp4rt_cache_key *full)
{
    static const char probe[] = ".probe";
    if (strncmp(name, probe, sizeof probe - 1) == 0)
        return is_temp_tail(name + sizeof probe - 1) ? FP4RT_NAME_TEMP
                                                     : FP4RT_NAME_OTHER;
    if (strlen(name) <= FP4RT_CACHE_STEM_LEN ||
        name[FP4RT_CACHE_HEX] != '-' ||
        !is_lower_hex(name, FP4RT_CACHE_HEX) ||
        !is_lower_hex(name + FP4RT_CACHE_HEX + 1, FP4RT_CACHE_HEX))
        return FP4RT_NAME_OTHER;
    const char *tail = name + FP4RT_CACHE_STEM_LEN;
    if (strcmp(tail, ".lock") == 0)
        return FP4RT_NAME_LOCK;
    if (is_temp_tail(tail))
        return FP4RT_NAME_TEMP;
    if (strcmp(tail, ".cubin") != 0)
        return FP4RT_NAME_OTHER;
    fp4rt_cache_key_parse(name, base);
    fp4rt_cache_key_parse(name + FP4RT_CACHE_HEX + 1, full);
    return FP4RT_NAME_ENTRY;
}

void fp4rt_cache_key_name(const fp4rt_cache_key *base,
                          const fp4rt_cache_key *full, const char *suffix,
                          char *out)
{
    char b[65], f[65];
    fp4rt_cache_key_hex(base, b);
    fp4rt_cache_key_hex(full, f);
    snprintf(out, FP4RT_CACHE_NAME_MAX, "%s-%s%s", b, f, suffix);
}

void fp4rt_cache_key_fanout(const fp4rt_cache_key *base, char out[3])
{
    char b[65];
    fp4rt_cache_key_hex(base, b);
    out[0] = b[0];
    out[1] = b[1];
    out[2] = 0;
}

int fp4rt_cache_lock_name(const char *entry_name, char *out)
{
    fp4rt_cache_key base, full;
    if (fp4rt_cache_name_classify(entry_name, &base, &full) !=
        FP4RT_NAME_ENTRY)
        return -1;
    fp4rt_cache_key_name(&base, &full, ".lock", out);
    return 0;
}
