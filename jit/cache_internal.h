/*
 * Internals shared by the cache's files: the cache object, file identity,
 * locks, entry reading and writing, and the walk over fan-out directories.
 *
 * Every file operation is relative to a directory descriptor opened once
 * (openat and friends, O_NOFOLLOW on the last component), so a path that
 * is renamed or replaced by a symlink after the directory was checked
 * cannot redirect a read, a write or an unlink.
 */
#ifndef FP4RT_JIT_CACHE_INTERNAL_H
#define FP4RT_JIT_CACHE_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "jit/cache.h"
#include "jit/cache_key.h"

#define FP4RT_CACHE_PATH_MAX 4096
#define FP4RT_CACHE_NOTICE_MAX 4096
/* Largest payload written or read: real cubins are far smaller, and a
 * bound keeps a corrupt length from asking for gigabytes. */
#define FP4RT_CACHE_MAX_PAYLOAD (256u << 20)
/* Longest target, module or producer string kept in a header. */
#define FP4RT_CACHE_STR_MAX 1024
/* A temporary file older than this is left by a dead writer. */
#define FP4RT_CACHE_STALE_SECONDS 3600
/* A hit refreshes an entry's recency only when it is older than this, so
 * that hot entries cost no metadata write per process. */
#define FP4RT_CACHE_TOUCH_SECONDS 60

typedef struct fp4rt_cache_layer {
    int fd;                          /* the directory; -1 when none */
    char path[FP4RT_CACHE_PATH_MAX];
} fp4rt_cache_layer;

struct fp4rt_cache {
    fp4rt_cache_layer *layers;       /* read-only, in search order */
    size_t layer_count;
    fp4rt_cache_layer dir;           /* the writable directory */
    char notice[FP4RT_CACHE_NOTICE_MAX];
    uint64_t max_bytes;
    fp4rt_log_fn log_fn;
    void *log_user;
    atomic_ullong hits, misses, compiles, rejected, evictions;
    atomic_int write_failure_logged;
};

/* ---- messages (cache.c) ---- */

/* Sets the calling thread's fp4rt_cache_last_error(). */
void fp4rt_cache_set_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
void fp4rt_cache_log(const fp4rt_cache *cache, fp4rt_log_level level,
                     const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- files (cache_fs.c) ---- */

/* What "unchanged since it was read" compares. */
typedef struct fp4rt_cache_ident {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    mode_t mode;
} fp4rt_cache_ident;

void fp4rt_cache_ident_of(const struct stat *st, fp4rt_cache_ident *id);
/* Removes name from dir if it is still the file id describes (a directory
 * only if empty).  1 removed, 0 changed or gone, -1 failed (errno). */
int fp4rt_cache_remove_if_same(int dir, const char *name,
                               const fp4rt_cache_ident *id);

/* pread/write of exactly n bytes, retrying on EINTR and short transfers.
 * 0, or -1 with errno (0 at an early end of file). */
int fp4rt_cache_read_at(int fd, void *buf, size_t n, off_t offset);
int fp4rt_cache_write_all(int fd, const void *buf, size_t n);

/* 1 if st may hold cache files: a directory owned by this user (or, for
 * a read-only layer, by root) and not writable by group or others unless
 * sticky.  Otherwise 0 and a phrase in why. */
int fp4rt_cache_dir_is_safe(const struct stat *st, int read_only,
                            char *why, size_t why_len);
/* Opens the fan-out directory of root, creating it (0700) if asked.
 * -1 with errno; EPERM when it fails the safety check. */
int fp4rt_cache_fanout_open(int root, const char *fanout, int create,
                            int read_only);

/* The per-entry lock: an OFD write lock on "<base>-<full>.lock".  With
 * wait 0, -1 and EAGAIN when another holds it.  Returns the descriptor,
 * whose close releases the lock. */
int fp4rt_cache_lock_take(int dir, const char *lock_name, int wait);
/* Takes the lock of an entry name without waiting, checks the entry is
 * still id and removes it (and its lock file).  1 removed, 0 left (busy,
 * changed or gone), -1 failed (errno). */
int fp4rt_cache_remove_locked(int dir, const char *entry_name,
                              const fp4rt_cache_ident *id);

/* 16 random hex digits for unique temporary names. */
void fp4rt_cache_random_hex(char out[17]);
/* 1 if a file's mtime is older than FP4RT_CACHE_STALE_SECONDS. */
int fp4rt_cache_is_stale(const struct stat *st, time_t now);

/* ---- entries (cache_entry.c) ---- */

typedef enum fp4rt_cache_entry_state {
    FP4RT_ENTRY_ABSENT = 0,     /* no file of that name */
    FP4RT_ENTRY_VALID,
    FP4RT_ENTRY_INVALID,        /* corrupt, truncated, wrong keys, ... */
    FP4RT_ENTRY_UNREADABLE,     /* could not be opened or read: kept */
    FP4RT_ENTRY_NO_MEMORY
} fp4rt_cache_entry_state;

/* What a read must find. */
typedef struct fp4rt_cache_expect {
    const fp4rt_cache_key *base;   /* the keys in the header */
    const fp4rt_cache_key *full;
    const char *fanout;            /* NULL: not checked */
    const char *target;            /* NULL: any */
    int want_payload;              /* 0: checksum it, keep nothing */
    int touch;                     /* refresh recency when valid */
} fp4rt_cache_expect;

typedef struct fp4rt_cache_entry {
    fp4rt_cache_ident ident;       /* of what was read (when found) */
    int have_header;               /* target, module, producer parsed */
    char target[FP4RT_CACHE_STR_MAX + 1];
    char module[FP4RT_CACHE_STR_MAX + 1];
    char producer[FP4RT_CACHE_STR_MAX + 1];
    void *payload;                 /* malloc; want_payload and valid */
    size_t payload_size;
    char why[256];                 /* invalid or unreadable: the reason */
} fp4rt_cache_entry;

fp4rt_cache_entry_state fp4rt_cache_entry_read(int dir, const char *name,
                                               const fp4rt_cache_expect *x,
                                               fp4rt_cache_entry *e);

/* Writes an entry into the fan-out directory sub: temporary file, fsync,
 * rename, fsync of the directory.  0, or an errno with why filled; no
 * temporary file is left behind on failure. */
int fp4rt_cache_publish(int sub, const fp4rt_cache_key *base,
                        const fp4rt_cache_key *full,
                        const fp4rt_cache_meta *meta, const void *payload,
                        size_t size, char *why, size_t why_len);

/* ---- walking a directory (cache_scan.c) ---- */

typedef struct fp4rt_cache_file {
    int dir;                       /* the directory holding it */
    const char *fanout;            /* "ab", or "" for the top directory */
    const char *name;
    struct stat st;                /* lstat */
    fp4rt_cache_name_kind kind;
    fp4rt_cache_key base, full;    /* FP4RT_NAME_ENTRY only */
} fp4rt_cache_file;

/* Nonzero stops the walk and is returned by fp4rt_cache_scan. */
typedef int (*fp4rt_cache_visit_fn)(void *user, const fp4rt_cache_file *f);

/* Calls fn for every file of root's fan-out directories (and for the
 * temporary files of root itself).  0, the first nonzero of fn, or -1 with
 * errno when root cannot be read. */
int fp4rt_cache_scan(int root, int read_only, fp4rt_cache_visit_fn fn,
                     void *user);
/* Entry files found by a walk, oldest first. */
typedef struct fp4rt_cache_found {
    char fanout[3];
    char name[FP4RT_CACHE_STEM_LEN + sizeof ".cubin"];
    fp4rt_cache_key full;
    fp4rt_cache_ident ident;
} fp4rt_cache_found;

typedef struct fp4rt_cache_found_list {
    const fp4rt_cache_key *base;   /* only entries of this base; NULL: all */
    fp4rt_cache_found *items;      /* malloc; the caller frees */
    size_t count, cap;
    uint64_t bytes;
} fp4rt_cache_found_list;

/* The regular entry files of one directory (tree 0) or of a whole cache
 * (tree 1), sorted least recently used first.  0, or -1 when out of
 * memory (or when a tree's top directory cannot be read). */
int fp4rt_cache_collect(int dir, int tree, fp4rt_cache_found_list *list);

/* Removes the stale temporary files of one directory, or of root and all
 * its fan-out directories; returns how many. */
unsigned fp4rt_cache_sweep_dir(int dir);
unsigned fp4rt_cache_sweep_all(int root);
/* Entry bytes and count of a directory. */
void fp4rt_cache_usage(int root, uint64_t *bytes, uint64_t *entries);
/* Evicts least recently used entries of the writable directory until it
 * fits the cap, never the entry named keep. */
void fp4rt_cache_evict(fp4rt_cache *cache, const char *keep);

/* ---- opening (cache_dir.c) ---- */

/* Chooses and checks the directories and fills cache; FP4RT_SUCCESS or
 * FP4RT_ERR_OUT_OF_MEMORY. */
fp4rt_status fp4rt_cache_setup(fp4rt_cache *cache,
                               const fp4rt_cache_config *cfg);

#endif /* FP4RT_JIT_CACHE_INTERNAL_H */
