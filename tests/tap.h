/*
 * A minimal TAP producer for the Automake harness.  Each test program
 * includes this once.  The plan is printed at the end (done_testing), or
 * "1..0 # SKIP reason" when a whole program cannot run here.
 */
#ifndef FP4RT_TESTS_TAP_H
#define FP4RT_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count;
static int tap_failures;

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static inline int tap_result(int pass, const char *file, int line, const char *fmt,
                      ...)
{
    va_list ap;
    printf("%sok %d - ", pass ? "" : "not ", ++tap_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!pass) {
        tap_failures++;
        printf("#   failed at %s:%d\n", file, line);
    }
    fflush(stdout);
    return pass;
}

#define ok(cond, ...) tap_result((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)

/* Integer equality with both values in the diagnostics. */
#define is_int(got, want, ...)                                               \
    do {                                                                     \
        long long got_ = (long long)(got), want_ = (long long)(want);        \
        if (!ok(got_ == want_, __VA_ARGS__))                                 \
            printf("#   got %lld, want %lld\n", got_, want_);              \
    } while (0)

/* String containment with the string in the diagnostics. */
#define has_text(hay, needle, ...)                                           \
    do {                                                                     \
        const char *hay_ = (hay);                                            \
        if (!ok(hay_ && strstr(hay_, (needle)) != NULL, __VA_ARGS__))        \
            printf("#   '%s' does not contain '%s'\n", hay_ ? hay_ : "(null)", \
                   (needle));                                                \
    } while (0)

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static inline void diag(const char *fmt, ...)
{
    va_list ap;
    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

static inline void skip_all(const char *why)
{
    printf("1..0 # SKIP %s\n", why);
    exit(0);
}

#define skip(why, ...)                                                       \
    do {                                                                     \
        printf("ok %d - # SKIP %s\n", ++tap_count, (why));                   \
    } while (0)

static inline int done_testing(void)
{
    printf("1..%d\n", tap_count);
    return tap_failures ? 1 : 0;
}

#endif /* FP4RT_TESTS_TAP_H */
