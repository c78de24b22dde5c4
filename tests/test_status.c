/* Status strings, versions and the thread-local last error. */
#include <pthread.h>

#include "tests/tap.h"
#include "runtime/fp4rt.h"

static const char *other_thread_error;

static void *read_error(void *arg)
{
    (void)arg;
    other_thread_error = fp4rt_last_error();
    return NULL;
}

int main(void)
{
    static const struct {
        fp4rt_status st;
        int value;
    } fixed[] = {
        { FP4RT_SUCCESS, 0 },           { FP4RT_ERR_INVALID_ARGUMENT, 1 },
        { FP4RT_ERR_INVALID_SHAPE, 2 }, { FP4RT_ERR_MISALIGNED, 3 },
        { FP4RT_ERR_NO_DRIVER, 6 },     { FP4RT_ERR_NO_DEVICE, 7 },
        { FP4RT_ERR_NO_COMPILER, 8 },   { FP4RT_ERR_JIT_DISABLED, 14 },
        { FP4RT_ERR_INTERNAL, 18 },
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        is_int(fixed[i].st, fixed[i].value, "status %d keeps its number",
               fixed[i].value);

    /* Every listed status has its own, non-empty text. */
#define TEXT_(name, value, text) { value, text },
    static const struct {
        int value;
        const char *text;
    } all[] = { FP4RT_STATUS_LIST(TEXT_) };
#undef TEXT_
    size_t n = sizeof all / sizeof all[0];
    int distinct = 1, matches = 1;
    for (size_t i = 0; i < n; i++) {
        const char *s = fp4rt_status_string((fp4rt_status)all[i].value);
        matches &= s && strcmp(s, all[i].text) == 0 && s[0];
        for (size_t j = 0; j < i; j++)
            distinct &= strcmp(all[i].text, all[j].text) != 0;
    }
    ok(matches, "fp4rt_status_string gives each status its text");
    ok(distinct, "the %zu status texts are distinct", n);
    ok(strcmp(fp4rt_status_string((fp4rt_status)9999), "unknown status") == 0,
       "an unknown value gives 'unknown status'");
    ok(strcmp(fp4rt_status_string((fp4rt_status)-1), "unknown status") == 0,
       "a negative value gives 'unknown status'");

    is_int(fp4rt_version_number(), FP4RT_VERSION_NUMBER,
           "run-time version equals the header's");
    char v[32];
    snprintf(v, sizeof v, "%d.%d.%d", FP4RT_VERSION_MAJOR,
             FP4RT_VERSION_MINOR, FP4RT_VERSION_PATCH);
    ok(strcmp(fp4rt_version_string(), v) == 0, "version string is %s", v);

    ok(strcmp(fp4rt_last_error(), "") == 0, "no error before any failure");
    fp4rt_context *ctx = (fp4rt_context *)1;
    fp4rt_context_options bad = FP4RT_CONTEXT_OPTIONS_INIT;
    bad.struct_size = 1;
    is_int(fp4rt_context_create(&bad, &ctx), FP4RT_ERR_INVALID_ARGUMENT,
           "a struct_size smaller than size_t is rejected");
    ok(ctx == NULL, "out is NULL after a failure");
    has_text(fp4rt_last_error(), "struct_size",
             "the thread's last error names the problem");
    pthread_t t;
    pthread_create(&t, NULL, read_error, NULL);
    pthread_join(t, NULL);
    ok(other_thread_error && other_thread_error[0] == 0,
       "another thread's last error is its own (empty)");
    is_int(fp4rt_context_create(NULL, NULL), FP4RT_ERR_INVALID_ARGUMENT,
           "NULL out is rejected");
    fp4rt_context_destroy(NULL);
    ok(1, "destroying NULL is a no-op");
    return done_testing();
}
