/*
 * The software E2M1 rounding the kernels use on targets without the
 * instruction (kernel_src/nvfp4_numerics.cuh, compiled here as C) against
 * the CPU reference's literal rule, on all 2^32 fp32 bit patterns.
 */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "tests/tap.h"
#include "kernel_src/nvfp4_numerics.cuh"
#include "runtime/fp4rt.h"

#define MAX_THREADS 64

typedef struct range {
    uint64_t begin, end;
    uint64_t mismatches, step_mismatches;
    uint32_t first_bad, first_step_bad;
} range;

static const float e2m1_values[8] = { 0, 0.5f, 1, 1.5f, 2, 3, 4, 6 };

/* The FP32 steps: the code, and the value 2 (sA + sB + sC). */
static int steps_agree(float x, uint8_t want)
{
    float sa, sb, sc;
    if (x != x)
        return 1;               /* NaN is handled before the steps */
    fp4rt_e2m1_steps(fabsf(x), &sa, &sb, &sc);
    float w = sa + sb;
    w = w + sc;
    return fp4rt_e2m1_by_steps(x) == want &&
           w + w == e2m1_values[want & 7];
}

static void *check_range(void *arg)
{
    range *r = arg;
    for (uint64_t i = r->begin; i < r->end; i++) {
        float x = fp4rt_u2f((uint32_t)i);
        uint8_t want = fp4rt_ref_e2m1_encode(x);
        if (fp4rt_e2m1_soft(x) != want) {
            if (!r->mismatches)
                r->first_bad = (uint32_t)i;
            r->mismatches++;
        }
        if (!steps_agree(x, want)) {
            if (!r->step_mismatches)
                r->first_step_bad = (uint32_t)i;
            r->step_mismatches++;
        }
    }
    return NULL;
}

int main(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (int)cpus;
    pthread_t t[MAX_THREADS];
    range r[MAX_THREADS];
    const uint64_t total = 1ull << 32;
    struct timespec t0, t1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        r[i].begin = total * (uint64_t)i / (uint64_t)n;
        r[i].end = total * (uint64_t)(i + 1) / (uint64_t)n;
        r[i].mismatches = r[i].step_mismatches = 0;
        pthread_create(&t[i], NULL, check_range, &r[i]);
    }
    uint64_t bad = 0, step_bad = 0;
    uint32_t first = 0, step_first = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        if (r[i].mismatches && !bad)
            first = r[i].first_bad;
        if (r[i].step_mismatches && !step_bad)
            step_first = r[i].first_step_bad;
        bad += r[i].mismatches;
        step_bad += r[i].step_mismatches;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    diag("2^32 inputs on %d threads in %.1f s", n, secs);
    if (!ok(bad == 0, "software E2M1 equals the rule on all 2^32 inputs"))
        diag("%llu mismatches; first 0x%08x (%g): soft %u, rule %u",
             (unsigned long long)bad, first, fp4rt_u2f(first),
             fp4rt_e2m1_soft(fp4rt_u2f(first)),
             fp4rt_ref_e2m1_encode(fp4rt_u2f(first)));

    if (!ok(step_bad == 0, "the FP32 steps give the rule's code and value on "
            "every non-NaN input"))
        diag("%llu mismatches; first 0x%08x (%g)",
             (unsigned long long)step_bad, step_first, fp4rt_u2f(step_first));

    /* The value table the 4over6 path decodes with. */
    static const float values[8] = { 0, 0.5f, 1, 1.5f, 2, 3, 4, 6 };
    int table_ok = 1;
    for (uint32_t c = 0; c < 16; c++) {
        float want = (c & 8) ? -values[c & 7] : values[c & 7];
        float got = fp4rt_e2m1_value(c);
        table_ok &= got == want && signbit(got) == signbit(want);
    }
    ok(table_ok, "every code decodes to its value, -0 included");
    return done_testing();
}
