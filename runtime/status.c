/* Status strings, versions, thread-local errors, logging. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/internal.h"

static _Thread_local char thread_error[FP4RT_ERR_MSG];

const char *fp4rt_status_string(fp4rt_status status)
{
    switch (status) {
#define FP4RT_STATUS_CASE_(name, value, text)                                 \
    case name:                                                               \
        return text;
        FP4RT_STATUS_LIST(FP4RT_STATUS_CASE_)
#undef FP4RT_STATUS_CASE_
    }
    return "unknown status";
}

const char *fp4rt_last_error(void)
{
    return thread_error;
}

int fp4rt_version_number(void)
{
    return FP4RT_VERSION_NUMBER;
}

#define FP4RT_STR2_(x) #x
#define FP4RT_STR_(x) FP4RT_STR2_(x)

const char *fp4rt_version_string(void)
{
    return FP4RT_STR_(FP4RT_VERSION_MAJOR) "." FP4RT_STR_(
        FP4RT_VERSION_MINOR) "." FP4RT_STR_(FP4RT_VERSION_PATCH);
}

fp4rt_status fp4rt_fail(const fp4rt_context *ctx, fp4rt_status st,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(thread_error, sizeof thread_error, fmt, ap);
    va_end(ap);
    if (ctx && ctx->err) {
        pthread_mutex_lock(&ctx->err->lock);
        memcpy(ctx->err->message, thread_error, sizeof thread_error);
        pthread_mutex_unlock(&ctx->err->lock);
    }
    if (ctx)
        fp4rt_log(ctx, FP4RT_LOG_DEBUG, "%s: %s", fp4rt_status_string(st),
                  thread_error);
    return st;
}

void fp4rt_log(const fp4rt_context *ctx, fp4rt_log_level level,
               const char *fmt, ...)
{
    char msg[FP4RT_ERR_MSG];
    va_list ap;
    if (!ctx || !ctx->log_fn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ctx->log_fn(ctx->log_user, level, msg);
}

int fp4rt_struct_in(void *dst, size_t dst_size, const void *src)
{
    size_t given;
    memset(dst, 0, dst_size);
    if (!src)
        return -1;
    memcpy(&given, src, sizeof given);
    if (given < sizeof(size_t) || given > dst_size)
        return -1;
    memcpy(dst, src, given);
    return 0;
}

size_t fp4rt_struct_out_size(const void *dst, size_t ours)
{
    size_t given;
    if (!dst)
        return 0;
    memcpy(&given, dst, sizeof given);
    if (given < sizeof(size_t))
        return 0;
    return given < ours ? given : ours;
}
