/* File-level helpers of the cache: identity, I/O, safety, locks. */
#include "jit/cache_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

void fp4rt_cache_ident_of(const struct stat *st, fp4rt_cache_ident *id)
{
    memset(id, 0, sizeof *id);
    id->dev = st->st_dev;
    id->ino = st->st_ino;
    id->size = st->st_size;
    id->mtime = st->st_mtim;
    id->mode = st->st_mode & S_IFMT;
}

static int ident_same(const fp4rt_cache_ident *a, const fp4rt_cache_ident *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec && a->mode == b->mode;
}

int fp4rt_cache_remove_if_same(int dir, const char *name,
                               const fp4rt_cache_ident *id)
{
    struct stat st;
    fp4rt_cache_ident now;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -1;
    fp4rt_cache_ident_of(&st, &now);
    if (!ident_same(&now, id))
        return 0;
    if (unlinkat(dir, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0)
        return errno == ENOENT ? 0 : -1;
    return 1;
}

int fp4rt_cache_read_at(int fd, void *buf, size_t n, off_t offset)
{
    unsigned char *p = buf;
    while (n) {
        ssize_t r = pread(fd, p, n, offset);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = 0;
            return -1;
        }
        p += r;
        n -= (size_t)r;
        offset += r;
    }
    return 0;
}

int fp4rt_cache_write_all(int fd, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    while (n) {
        ssize_t r = write(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = ENOSPC;
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int fp4rt_cache_dir_is_safe(const struct stat *st, int read_only,
                            char *why, size_t why_len)
{
    uid_t me = geteuid();
    mode_t open_bits = st->st_mode & (S_IWGRP | S_IWOTH);
    if (!S_ISDIR(st->st_mode)) {
        snprintf(why, why_len, "it is not a directory");
        return 0;
    }
    /* Root owns shipped layers (/opt/app/kernels) and can replace any
     * file anyway; nobody else may own what we load code from. */
    if (st->st_uid != me && !(read_only && st->st_uid == 0)) {
        snprintf(why, why_len,
                 "it is owned by uid %lu, not by this user (uid %lu)",
                 (unsigned long)st->st_uid, (unsigned long)me);
        return 0;
    }
    if (open_bits && !(st->st_mode & S_ISVTX)) {
        snprintf(why, why_len,
                 "it is writable by %s (mode %04o) without the sticky bit",
                 open_bits == S_IWGRP   ? "its group"
                 : open_bits == S_IWOTH ? "others"
                                        : "group and others",
                 (unsigned)(st->st_mode & 07777));
        return 0;
    }
    return 1;
}

static int open_dir_at(int root, const char *name)
{
    int fd;
    do
        fd = openat(root, name,
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    return fd;
}

int fp4rt_cache_fanout_open(int root, const char *fanout, int create,
                            int read_only)
{
    int fd = open_dir_at(root, fanout);
    if (fd < 0 && errno == ENOENT && create) {
        if (mkdirat(root, fanout, 0700) == 0)
            fsync(root); /* the new directory survives a crash */
        else if (errno != EEXIST)
            return -1;
        fd = open_dir_at(root, fanout);
    }
    if (fd < 0)
        return -1;
    struct stat st;
    char why[160];
    if (fstat(fd, &st) != 0 ||
        !fp4rt_cache_dir_is_safe(&st, read_only, why, sizeof why)) {
        close(fd);
        errno = EPERM;
        return -1;
    }
    return fd;
}

static int same_file(int fd, int dir, const char *name)
{
    struct stat held, now;
    return fstat(fd, &held) == 0 &&
           fstatat(dir, name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
           held.st_dev == now.st_dev && held.st_ino == now.st_ino;
}

int fp4rt_cache_lock_take(int dir, const char *lock_name, int wait)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    /* A remover unlinks a lock file while holding it: a waiter that then
     * gets the old file starts over on the new one.  Bounded, in case
     * something keeps replacing the file. */
    for (int attempt = 0; attempt < 64; attempt++) {
        int fd = openat(dir, lock_name,
                        O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EINTR)
            continue;
        if (fd < 0)
            return -1;
        int r;
        do
            r = fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
        while (r != 0 && errno == EINTR);
        if (r != 0) {
            int e = errno == EACCES ? EAGAIN : errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (same_file(fd, dir, lock_name))
            return fd;
        close(fd);
    }
    errno = EAGAIN;
    return -1;
}

int fp4rt_cache_remove_locked(int dir, const char *entry_name,
                              const fp4rt_cache_ident *id)
{
    char lock[FP4RT_CACHE_NAME_MAX];
    if (fp4rt_cache_lock_name(entry_name, lock) != 0)
        return fp4rt_cache_remove_if_same(dir, entry_name, id);
    int fd = fp4rt_cache_lock_take(dir, lock, 0);
    if (fd < 0)
        return errno == EAGAIN ? 0 : -1;
    int r = fp4rt_cache_remove_if_same(dir, entry_name, id);
    int saved = errno;
    if (r == 1)
        unlinkat(dir, lock, 0); /* waiters notice and start over */
    close(fd);
    errno = saved;
    return r;
}

void fp4rt_cache_random_hex(char out[17])
{
    static atomic_uint counter;
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v) {
        /* No entropy yet (early boot): unique is all a name needs. */
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        v = (uint64_t)t.tv_nsec ^ (uint64_t)t.tv_sec << 30 ^
            (uint64_t)getpid() << 40 ^ atomic_fetch_add(&counter, 1);
    }
    snprintf(out, 17, "%016llx", (unsigned long long)v);
}

int fp4rt_cache_is_stale(const struct stat *st, time_t now)
{
    return st->st_mtime < now - FP4RT_CACHE_STALE_SECONDS;
}
