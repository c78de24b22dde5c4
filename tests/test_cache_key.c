/*
 * Cache keys: SHA-256 against the FIPS 180 test vectors, and every key
 * input, changed alone, changing the key (the option order excepted).
 */
#include "jit/sha256.h"
#include "tests/test_cache_util.h"

static void hex(const unsigned char *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void sha_is(const void *data, size_t n, const char *want,
                   const char *what)
{
    unsigned char d[FP4RT_SHA256_BYTES];
    char got[65];
    fp4rt_sha256_buffer(data, n, d);
    hex(d, sizeof d, got);
    if (!ok(strcmp(got, want) == 0, "SHA-256 of %s", what))
        diag("got %s, want %s", got, want);
}

static void test_sha256(void)
{
    static const char two_blocks[] =
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
        "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    sha_is("", 0,
           "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
           "\"\"");
    sha_is("abc", 3,
           "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
           "\"abc\"");
    sha_is("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
           "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
           "the 448-bit message");
    sha_is(two_blocks, sizeof two_blocks - 1,
           "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
           "the 896-bit message");

    char *million = malloc(1000000);
    if (!million)
        abort();
    memset(million, 'a', 1000000);
    sha_is(million, 1000000,
           "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
           "a million 'a'");
    /* The same message fed in uneven pieces crosses every block edge. */
    fp4rt_sha256 s;
    unsigned char d[FP4RT_SHA256_BYTES];
    char got[65];
    fp4rt_sha256_init(&s);
    for (size_t at = 0, step = 1; at < 1000000; step = step % 131 + 1) {
        size_t take = 1000000 - at < step ? 1000000 - at : step;
        fp4rt_sha256_update(&s, million + at, take);
        at += take;
    }
    fp4rt_sha256_final(&s, d);
    hex(d, sizeof d, got);
    ok(strcmp(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39"
                   "ccc7112cd0") == 0,
       "SHA-256 fed in pieces of 1 to 131 bytes agrees");
    free(million);
}

/* ------------------------------------------------------------------ */

typedef struct inputs {
    const char *names[3];
    unsigned char src0[32], src1[32], src2[32];
    const unsigned char *data[3];
    size_t sizes[3];
    const char *entries[2];
    const char *options[4];
    fp4rt_cache_key_inputs in;
} inputs;

static void inputs_init(inputs *x)
{
    memset(x, 0, sizeof *x);
    x->names[0] = "quantize.cu";
    x->names[1] = "common.cuh";
    x->names[2] = "extra.cuh";
    memcpy(x->src0, "__global__ void q() {}", 22);
    memcpy(x->src1, "#define ONE 1", 13);
    memcpy(x->src2, "#define TWO 2", 13);
    x->data[0] = x->src0;
    x->data[1] = x->src1;
    x->data[2] = x->src2;
    x->sizes[0] = 22;
    x->sizes[1] = 13;
    x->sizes[2] = 13;
    x->entries[0] = "fp4rt_quant1d";
    x->entries[1] = "fp4rt_amax";
    x->options[0] = "-arch=sm_90a";
    x->options[1] = "-std=c++17";
    x->options[2] = "-DFP4RT_IN_DTYPE=2";
    x->options[3] = "-fmad=false";
    fp4rt_cache_key_inputs in = { "quantize_bf16", 2, x->names, x->data,
                                  x->sizes, 2, x->entries, 4, x->options,
                                  "sm_90a", "nvrtc 13.0; nvjitlink 13.0",
                                  "nvjitlink" };
    x->in = in;
}

static fp4rt_cache_key ref_base, ref_full;

/* Computes the keys of x and compares them with the reference. */
static void keys_differ(inputs *x, int base_changes, const char *what)
{
    fp4rt_cache_key b, f;
    fp4rt_cache_key_compute(&x->in, &b, &f);
    int base_same = memcmp(&b, &ref_base, sizeof b) == 0;
    int full_same = memcmp(&f, &ref_full, sizeof f) == 0;
    if (base_changes)
        ok(!base_same && !full_same, "%s: new base and full key", what);
    else
        ok(base_same && !full_same, "%s: same base key, new full key",
           what);
}

static void test_key_inputs(void)
{
    inputs x;
    inputs_init(&x);
    fp4rt_cache_key_compute(&x.in, &ref_base, &ref_full);

    x.src0[3] ^= 1;
    keys_differ(&x, 1, "one source byte");
    inputs_init(&x);
    x.names[0] = "quantise.cu";
    keys_differ(&x, 1, "a source name");
    inputs_init(&x);
    x.in.source_count = 3;
    keys_differ(&x, 1, "a header added");
    inputs_init(&x);
    x.sizes[1] = 12;
    keys_differ(&x, 1, "a header shortened");
    inputs_init(&x);
    x.entries[1] = "fp4rt_amax2";
    keys_differ(&x, 1, "an entry point");
    inputs_init(&x);
    x.in.entry_count = 1;
    keys_differ(&x, 1, "an entry point dropped");
    inputs_init(&x);
    x.options[2] = "-DFP4RT_IN_DTYPE=1";
    keys_differ(&x, 1, "one option");
    inputs_init(&x);
    x.in.option_count = 3;
    keys_differ(&x, 1, "an option dropped");
    inputs_init(&x);
    x.in.target = "sm_100a";
    keys_differ(&x, 1, "the target");
    inputs_init(&x);
    x.in.module = "quantize_f16";
    keys_differ(&x, 1, "the module name");
    inputs_init(&x);
    x.in.compiler_id = "nvrtc 13.1; nvjitlink 13.0";
    keys_differ(&x, 0, "the compiler identity");
    inputs_init(&x);
    x.in.producer = "nvrtc";
    keys_differ(&x, 0, "the producer");

    /* Option order does not matter. */
    fp4rt_cache_key b, f;
    inputs_init(&x);
    const char *shuffled[4] = { x.options[3], x.options[1], x.options[0],
                                x.options[2] };
    x.in.options = shuffled;
    fp4rt_cache_key_compute(&x.in, &b, &f);
    ok(memcmp(&b, &ref_base, sizeof b) == 0 &&
           memcmp(&f, &ref_full, sizeof f) == 0,
       "options in another order: the same keys");
    ok(strcmp(shuffled[0], "-fmad=false") == 0,
       "and the caller's option array is left as it was");
}

static void test_framing(void)
{
    /* Lists that concatenate to the same bytes must not collide. */
    inputs x, y;
    fp4rt_cache_key bx, fx, by, fy;
    inputs_init(&x);
    inputs_init(&y);
    const char *ex[2] = { "ab", "c" }, *ey[2] = { "a", "bc" };
    x.in.entries = ex;
    y.in.entries = ey;
    fp4rt_cache_key_compute(&x.in, &bx, &fx);
    fp4rt_cache_key_compute(&y.in, &by, &fy);
    ok(memcmp(&bx, &by, sizeof bx) != 0,
       "entry lists [ab, c] and [a, bc] give different keys");

    inputs_init(&x);
    inputs_init(&y);
    y.names[0] = "quantize.cu__glo";
    y.data[0] = x.src0 + 5;
    y.sizes[0] = 17;
    fp4rt_cache_key_compute(&x.in, &bx, &fx);
    fp4rt_cache_key_compute(&y.in, &by, &fy);
    ok(memcmp(&bx, &by, sizeof bx) != 0,
       "bytes moved from a source into its name give a different key");

    inputs_init(&x);
    const char *dup[2] = { "-DX", "-DX" };
    x.in.options = dup;
    x.in.option_count = 2;
    fp4rt_cache_key_compute(&x.in, &bx, &fx);
    x.in.option_count = 1;
    fp4rt_cache_key_compute(&x.in, &by, &fy);
    ok(memcmp(&bx, &by, sizeof bx) != 0,
       "an option given twice is not the same as once");
}

static void test_schema_and_pointer_size(void)
{
    inputs x;
    fp4rt_cache_key b, f, b2, f2;
    inputs_init(&x);
    fp4rt_cache_key_compute_as(&x.in, FP4RT_CACHE_SCHEMA_VERSION,
                               (uint32_t)sizeof(void *), &b, &f);
    ok(memcmp(&b, &ref_base, sizeof b) == 0 &&
           memcmp(&f, &ref_full, sizeof f) == 0,
       "the key uses this schema version and pointer size");
    fp4rt_cache_key_compute_as(&x.in, FP4RT_CACHE_SCHEMA_VERSION + 1,
                               (uint32_t)sizeof(void *), &b2, &f2);
    ok(memcmp(&b, &b2, sizeof b) != 0 && memcmp(&f, &f2, sizeof f) != 0,
       "another schema version gives new keys");
    fp4rt_cache_key_compute_as(&x.in, FP4RT_CACHE_SCHEMA_VERSION,
                               sizeof(void *) == 8 ? 4 : 8, &b2, &f2);
    ok(memcmp(&b, &b2, sizeof b) != 0 && memcmp(&f, &f2, sizeof f) != 0,
       "another pointer size gives new keys");
}

static void test_names(void)
{
    tc_key k;
    char hexb[65], name[FP4RT_CACHE_NAME_MAX], fan[3];
    fp4rt_cache_key pb, pf;
    tc_key_make(3, "sm_90a", "c", &k);
    fp4rt_cache_key_hex(&k.base, hexb);
    ok(strlen(hexb) == 64 && strspn(hexb, "0123456789abcdef") == 64,
       "hex: 64 lowercase digits");
    ok(fp4rt_cache_key_parse(hexb, &pb) == 0 &&
           memcmp(&pb, &k.base, sizeof pb) == 0,
       "hex parses back to the key");
    fp4rt_cache_key_fanout(&k.base, fan);
    ok(fan[0] == hexb[0] && fan[1] == hexb[1] && !fan[2],
       "the fan-out directory is the first two hex digits");
    fp4rt_cache_key_name(&k.base, &k.full, ".cubin", name);
    is_int(fp4rt_cache_name_classify(name, &pb, &pf), FP4RT_NAME_ENTRY,
           "an entry name is recognised");
    ok(memcmp(&pb, &k.base, sizeof pb) == 0 &&
           memcmp(&pf, &k.full, sizeof pf) == 0,
       "and both keys are read back from it");
    char other[FP4RT_CACHE_NAME_MAX];
    fp4rt_cache_key_name(&k.base, &k.full, ".lock", other);
    is_int(fp4rt_cache_name_classify(other, &pb, &pf), FP4RT_NAME_LOCK,
           "its lock file is recognised");
    fp4rt_cache_key_name(&k.base, &k.full, ".123.0123456789abcdef.tmp",
                         other);
    is_int(fp4rt_cache_name_classify(other, &pb, &pf), FP4RT_NAME_TEMP,
           "so is a temporary file of it");
    is_int(fp4rt_cache_name_classify(".probe.7.0123456789abcdef.tmp", &pb,
                                     &pf),
           FP4RT_NAME_TEMP, "and a write probe");
    /* Only the names the cache writes are its own. */
    static const char *const foreign[] = {
        "short.cubin", "notes.tmp", "x.1.0123456789abcdef.tmp", "a.lock",
        ".probe.x.0123456789abcdef.tmp", ".probe.1.0123.tmp", "README"
    };
    for (size_t i = 0; i < sizeof foreign / sizeof *foreign; i++)
        is_int(fp4rt_cache_name_classify(foreign[i], &pb, &pf),
               FP4RT_NAME_OTHER, "'%s' is not ours", foreign[i]);
    name[10] = 'G';
    is_int(fp4rt_cache_name_classify(name, &pb, &pf), FP4RT_NAME_OTHER,
           "nor an entry name with a non-hex digit");
    name[10] = 'A';
    is_int(fp4rt_cache_name_classify(name, &pb, &pf), FP4RT_NAME_OTHER,
           "or an uppercase one");
}

int main(void)
{
    test_sha256();
    test_key_inputs();
    test_framing();
    test_schema_and_pointer_size();
    test_names();
    return done_testing();
}
