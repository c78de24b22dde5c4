/*
 * Choosing the cache directories and deciding whether they are safe.
 *
 * The writable directory must belong to this user and not be writable by
 * anyone else (unless sticky), since whoever can write it chooses the
 * code we load.  Anything short of that gives a memory-only cache and a
 * notice saying why; the caller logs the notice once.
 */
#include "jit/cache_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Marks the last sweep of stale temporary files, so that opening a cache
 * costs one stat rather than a walk of 256 directories. */
#define SWEEP_STAMP ".swept"

static int says_off(const char *v)
{
    return v && (strcmp(v, "0") == 0 || strcasecmp(v, "off") == 0 ||
                 strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0);
}

static void add_notice(fp4rt_cache *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void add_notice(fp4rt_cache *c, const char *fmt, ...)
{
    size_t used = strlen(c->notice);
    va_list ap;
    if (used && used + 3 < sizeof c->notice) {
        memcpy(c->notice + used, "; ", 3);
        used += 2;
    }
    va_start(ap, fmt);
    vsnprintf(c->notice + used, sizeof c->notice - used, fmt, ap);
    va_end(ap);
}

/* Bytes, with an optional K, M, G or T (powers of 1024; "KiB", "KB"). */
static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    int shift = 0;
    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    switch (toupper((unsigned char)*end)) {
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    case 'T': shift = 40; break;
    default: break;
    }
    end += shift != 0;
    if (shift && (*end == 'i' || *end == 'I'))
        end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end || (shift && v > (UINT64_MAX >> shift)))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static void choose_max_bytes(fp4rt_cache *c, const fp4rt_cache_config *cfg)
{
    const char *env = secure_getenv("FP4RT_CACHE_MAX_BYTES");
    uint64_t v = 0;
    c->max_bytes = cfg->max_bytes ? cfg->max_bytes
                                  : FP4RT_CACHE_DEFAULT_MAX_BYTES;
    if (cfg->max_bytes || !env || !*env)
        return;
    if (parse_size(env, &v) == 0 && v > 0)
        c->max_bytes = v;
    else
        fp4rt_cache_log(c, FP4RT_LOG_WARNING,
                        "kernel cache: FP4RT_CACHE_MAX_BYTES='%s' is not a "
                        "size (like 500M or 2G); using %llu bytes",
                        env, (unsigned long long)c->max_bytes);
}

static int home_dir(char *out, size_t len)
{
    const char *home = secure_getenv("HOME");
    char buf[4096];
    struct passwd pw, *found = NULL;
    if ((!home || !*home) &&
        getpwuid_r(geteuid(), &pw, buf, sizeof buf, &found) == 0 && found)
        home = found->pw_dir;
    if (!home || !*home)
        return -1;
    int n = snprintf(out, len, "%s/.cache/fp4rt", home);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

/* config->dir, FP4RT_CACHE_DIR, $XDG_CACHE_HOME/fp4rt, ~/.cache/fp4rt. */
static int choose_path(const fp4rt_cache_config *cfg, char *out, size_t len)
{
    const char *env = secure_getenv("FP4RT_CACHE_DIR");
    const char *xdg = secure_getenv("XDG_CACHE_HOME");
    int n;
    if (cfg->dir && *cfg->dir)
        n = snprintf(out, len, "%s", cfg->dir);
    else if (env && *env)
        n = snprintf(out, len, "%s", env);
    else if (xdg && xdg[0] == '/') /* the XDG spec ignores relative ones */
        n = snprintf(out, len, "%s/fp4rt", xdg);
    else
        return home_dir(out, len);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

/* mkdir -p, each missing directory 0700. */
static void make_dirs(const char *path)
{
    char buf[FP4RT_CACHE_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        mkdir(buf, 0700); /* EEXIST is fine; the final open says the rest */
        *p = '/';
    }
    mkdir(buf, 0700);
}

/* Opens a directory and applies the ownership and permission policy.  The
 * path itself may go through symlinks (the user chose it); the checks
 * apply to the directory it reaches, which every later call uses by
 * descriptor. */
static int open_checked(const char *path, int read_only, int create,
                        char *why, size_t why_len)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        make_dirs(path);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(why, why_len, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!fp4rt_cache_dir_is_safe(&st, read_only, why, why_len)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Asks, then tries: access() misses read-only mounts' subtleties and
 * some security modules, a real file creation does not. */
static int probe_writable(int fd, char *why, size_t why_len)
{
    char name[64], rnd[17];
    if (faccessat(fd, ".", W_OK | X_OK, AT_EACCESS) != 0) {
        snprintf(why, why_len, "%s", strerror(errno));
        return 0;
    }
    fp4rt_cache_random_hex(rnd);
    snprintf(name, sizeof name, ".probe.%ld.%s.tmp", (long)getpid(), rnd);
    int p = openat(fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                 O_CLOEXEC, 0600);
    if (p < 0) {
        snprintf(why, why_len, "%s", strerror(errno));
        /* A full disk is still a writable directory: publishing copes. */
        return errno != EACCES && errno != EPERM && errno != EROFS;
    }
    close(p);
    unlinkat(fd, name, 0);
    return 1;
}

static void sweep_if_due(int root)
{
    struct stat st;
    time_t now = time(NULL);
    if (fstatat(root, SWEEP_STAMP, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(st.st_mode) && !fp4rt_cache_is_stale(&st, now) &&
        st.st_mtime <= now + FP4RT_CACHE_TOUCH_SECONDS)
        return;
    fp4rt_cache_sweep_all(root);
    int fd = openat(root, SWEEP_STAMP,
                    O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
        futimens(fd, NULL);
        close(fd);
    }
}

static fp4rt_status add_layer(fp4rt_cache *c, int fd, const char *path)
{
    fp4rt_cache_layer *l = realloc(c->layers,
                                   (c->layer_count + 1) * sizeof *l);
    if (!l) {
        close(fd);
        fp4rt_cache_set_error("out of memory opening the kernel cache");
        return FP4RT_ERR_OUT_OF_MEMORY;
    }
    c->layers = l;
    l[c->layer_count].fd = fd;
    snprintf(l[c->layer_count].path, sizeof l->path, "%s", path);
    c->layer_count++;
    return FP4RT_SUCCESS;
}

static fp4rt_status open_layers(fp4rt_cache *c, const fp4rt_cache_config *cfg)
{
    const char *list = cfg->readonly_dirs
                           ? cfg->readonly_dirs
                           : secure_getenv("FP4RT_CACHE_READONLY_DIRS");
    fp4rt_status st = FP4RT_SUCCESS;
    char why[256], *save = NULL, *copy;
    if (!list || !*list)
        return FP4RT_SUCCESS;
    copy = strdup(list);
    if (!copy) {
        fp4rt_cache_set_error("out of memory opening the kernel cache");
        return FP4RT_ERR_OUT_OF_MEMORY;
    }
    for (char *p = strtok_r(copy, ":", &save); p && st == FP4RT_SUCCESS;
         p = strtok_r(NULL, ":", &save)) {
        int fd = open_checked(p, 1, 0, why, sizeof why);
        if (fd < 0)
            add_notice(c, "skipping read-only cache layer %s: %s", p, why);
        else
            st = add_layer(c, fd, p);
    }
    free(copy);
    return st;
}

/* What running without a writable directory means, for the notice. */
static const char *unsaved(const fp4rt_cache *c)
{
    return c->layer_count ? "compiled kernels are not saved (read-only "
                            "layers are still used)"
                          : "compiled kernels are not saved";
}

static fp4rt_status open_writable(fp4rt_cache *c,
                                  const fp4rt_cache_config *cfg)
{
    char path[FP4RT_CACHE_PATH_MAX], why[512];
    if (cfg->disabled || says_off(secure_getenv("FP4RT_CACHE"))) {
        add_notice(c, "disk cache disabled (%s): %s",
                   cfg->disabled ? "by the context options"
                                 : "FP4RT_CACHE=off",
                   unsaved(c));
        return FP4RT_SUCCESS;
    }
    if (choose_path(cfg, path, sizeof path) != 0) {
        add_notice(c, "no cache directory (FP4RT_CACHE_DIR, XDG_CACHE_HOME "
                      "and HOME unset, or too long): %s", unsaved(c));
        return FP4RT_SUCCESS;
    }
    int fd = open_checked(path, 0, 1, why, sizeof why);
    if (fd < 0) {
        add_notice(c, "refusing cache directory %s: %s; %s", path, why,
                   unsaved(c));
        return FP4RT_SUCCESS;
    }
    if (!probe_writable(fd, why, sizeof why)) {
        add_notice(c, "cache directory %s is read-only (%s): its kernels "
                      "are used, new ones are not saved", path, why);
        return add_layer(c, fd, path);
    }
    c->dir.fd = fd;
    snprintf(c->dir.path, sizeof c->dir.path, "%s", path);
    sweep_if_due(fd);
    return FP4RT_SUCCESS;
}

fp4rt_status fp4rt_cache_setup(fp4rt_cache *c, const fp4rt_cache_config *cfg)
{
    c->log_fn = cfg->log_fn;
    c->log_user = cfg->log_user;
    choose_max_bytes(c, cfg);
    fp4rt_status st = open_layers(c, cfg);
    return st == FP4RT_SUCCESS ? open_writable(c, cfg) : st;
}
