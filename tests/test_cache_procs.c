/*
 * Many writers: 8 processes missing the same keys at once build each key
 * once; threads of one process likewise; a writer killed with SIGKILL
 * between fsync and rename leaves no entry and never blocks anyone, and
 * its temporary file is swept once stale.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "jit/cache_internal.h"
#include "tests/test_cache_util.h"

#define PROCS 8
#define KEYS 10
#define BUILD_MS 50

static char *root;

typedef struct race {
    const char *dir, *count_file;
} race;

/* A child: every key, starting at a different one in each process. */
static int racer(int index, void *user)
{
    race *r = user;
    tc_build b = { 0 };
    int bad = 0;
    fp4rt_cache *c = tc_open(r->dir, "", 0);
    b.sleep_ms = BUILD_MS;
    b.count_file = r->count_file;
    for (int n = 0; n < KEYS; n++) {
        int hit = 0, good = 0;
        int i = (index % 3 + n) % KEYS;
        if (tc_get(c, i, &b, &hit, &good) != FP4RT_SUCCESS || !good)
            bad++;
    }
    fp4rt_cache_close(c);
    return bad ? 1 : 0;
}

/* Lines "key pid" of the counter file: how many builds of each key. */
static void read_counts(const char *path, int counts[KEYS], int *lines)
{
    FILE *f = fopen(path, "r");
    int key;
    long pid;
    memset(counts, 0, KEYS * sizeof *counts);
    *lines = 0;
    while (f && fscanf(f, "%d %ld", &key, &pid) == 2) {
        (*lines)++;
        if (key >= 0 && key < KEYS)
            counts[key]++;
    }
    if (f)
        fclose(f);
}

static void test_processes(void)
{
    char dir[4200], count_file[4200];
    int counts[KEYS], lines;
    pid_t pids[PROCS];
    race r = { dir, count_file };
    snprintf(dir, sizeof dir, "%s/race", root);
    snprintf(count_file, sizeof count_file, "%s/builds.txt", root);
    tc_fork_together(pids, PROCS, racer, &r);
    is_int(tc_wait_all(pids, PROCS), PROCS,
           "%d processes at once: all succeed with the right payloads",
           PROCS);
    read_counts(count_file, counts, &lines);
    int once = 0;
    for (int i = 0; i < KEYS; i++)
        once += counts[i] == 1;
    ok(lines == KEYS && once == KEYS,
       "each of %d keys built exactly once in all (%d builds)", KEYS,
       lines);
    fp4rt_cache *c = tc_open(dir, "", 0);
    fp4rt_cache_verify_report v = tc_verify(c, 0);
    ok(v.checked == KEYS && v.valid == KEYS && v.invalid == 0,
       "verify: %d valid entries, none invalid", KEYS);
    is_int(v.temp_files, 0, "no temporary file left");
    is_int(tc_count_files(dir, ".tmp"), 0, "none on disk either");
    fp4rt_cache_close(c);
}

/* ------------------------------------------------------------------ */
/* Threads of one process                                              */
/* ------------------------------------------------------------------ */

#define THREADS 6

typedef struct thread_arg {
    fp4rt_cache *cache;
    atomic_int *builds;
    int good;
} thread_arg;

static fp4rt_status counted_build(void *user, void **data, size_t *size)
{
    thread_arg *a = user;
    tc_build b = { 0 };
    atomic_fetch_add(a->builds, 1);
    b.key = 3;
    b.sleep_ms = BUILD_MS;
    return tc_build_fn(&b, data, size);
}

static void *thread_main(void *p)
{
    thread_arg *a = p;
    tc_key k;
    void *data = NULL;
    size_t size = 0;
    int hit = 0;
    tc_key_make(3, "sm_90a", "compiler 1", &k);
    fp4rt_cache_meta meta = { k.module, k.target, "test" };
    fp4rt_cache_request req = { &k.base, &k.full, &meta, counted_build, a };
    a->good = fp4rt_cache_get_or_build(a->cache, &req, &data, &size, &hit) ==
                  FP4RT_SUCCESS &&
              tc_payload_is(3, data, size, TC_PAYLOAD_SIZE);
    free(data);
    return NULL;
}

/* Valgrind 3.19 runs F_OFD_SETLKW without letting other threads run:
 * threads waiting on each other's locks would hang under it. */
static int under_valgrind(void)
{
    const char *pre = getenv("LD_PRELOAD");
    return pre && strstr(pre, "vgpreload");
}

static void test_threads(void)
{
    char dir[4200];
    if (under_valgrind()) {
        for (int i = 0; i < 3; i++)
            skip("valgrind blocks every thread in F_OFD_SETLKW");
        return;
    }
    pthread_t t[THREADS];
    thread_arg args[THREADS];
    atomic_int builds;
    atomic_init(&builds, 0);
    snprintf(dir, sizeof dir, "%s/threads", root);
    fp4rt_cache *c = tc_open(dir, "", 0);
    for (int i = 0; i < THREADS; i++) {
        args[i] = (thread_arg){ c, &builds, 0 };
        pthread_create(&t[i], NULL, thread_main, &args[i]);
    }
    int good = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        good += args[i].good;
    }
    is_int(good, THREADS, "%d threads sharing one cache: all served",
           THREADS);
    is_int(atomic_load(&builds), 1, "one build among them");
    fp4rt_cache_counters k = tc_counters(c);
    ok(k.compiles == 1 && k.misses == 1 && k.hits == THREADS - 1,
       "counters: 1 compile, 1 miss, %d hits", THREADS - 1);
    fp4rt_cache_close(c);
}

/* ------------------------------------------------------------------ */
/* A lock file replaced under a waiter                                 */
/* ------------------------------------------------------------------ */

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    int n = 0, ch;
    while (f && (ch = fgetc(f)) != EOF)
        n += ch == '\n';
    if (f)
        fclose(f);
    return n;
}

/* Eviction and clear unlink a lock file while holding it: a process that
 * was waiting on the old file must start over on a new one. */
static void test_lock_replaced(void)
{
    char dir[4200], fan[3], fan_dir[4300], name[FP4RT_CACHE_NAME_MAX];
    char count_file[4200];
    tc_key k;
    snprintf(dir, sizeof dir, "%s/relock", root);
    snprintf(count_file, sizeof count_file, "%s/relock.txt", root);
    tc_key_make(4, "sm_90a", "compiler 1", &k);
    fp4rt_cache_key_fanout(&k.base, fan);
    fp4rt_cache_key_name(&k.base, &k.full, ".lock", name);
    fp4rt_cache_close(tc_open(dir, "", 0));
    snprintf(fan_dir, sizeof fan_dir, "%s/%s", dir, fan);
    mkdir(fan_dir, 0700);
    int sub = open(fan_dir, O_RDONLY | O_DIRECTORY);
    int held = fp4rt_cache_lock_take(sub, name, 1);
    ok(held >= 0, "this process holds key 4's lock");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        tc_build b = { 0 };
        int hit = 0, good = 0;
        /* An inherited descriptor would share the lock: drop it. */
        close(held);
        close(sub);
        b.count_file = count_file;
        fp4rt_cache *c = tc_open(dir, "", 0);
        tc_get(c, 4, &b, &hit, &good);
        fp4rt_cache_close(c);
        _exit(good && b.calls == 1 ? 0 : 1);
    }
    tc_sleep_ms(300);
    is_int(count_lines(count_file), 0,
           "another process missing key 4 waits instead of building");
    /* As a remover does: unlink the file while holding it.  Then lock the
     * new file before letting the old one go. */
    unlinkat(sub, name, 0);
    int held2 = fp4rt_cache_lock_take(sub, name, 1);
    close(held);
    tc_sleep_ms(300);
    is_int(count_lines(count_file), 0,
           "the waiter, granted the removed lock file, starts over and "
           "waits on the new one");
    close(held2);
    int status = 0;
    waitpid(pid, &status, 0);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "once that is let go too, it builds and is served");
    is_int(count_lines(count_file), 1, "built once");
    close(sub);
}

/* ------------------------------------------------------------------ */
/* A writer killed before its rename                                   */
/* ------------------------------------------------------------------ */

/* Starts a writer of key i that pauses before renaming, and kills it
 * there.  Returns 1 if it was seen paused and killed. */
static int kill_writer(const char *dir, int i)
{
    char flag[4200];
    snprintf(flag, sizeof flag, "%s/paused-%d", root, i);
    unlink(flag);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        tc_build b = { 0 };
        int hit, good;
        setenv("FP4RT_CACHE_TEST_PAUSE_BEFORE_RENAME", flag, 1);
        fp4rt_cache *c = tc_open(dir, "", 0);
        tc_get(c, i, &b, &hit, &good);
        _exit(3); /* not reached: killed while paused */
    }
    for (int t = 0; t < 1000 && !tc_exists(flag); t++)
        tc_sleep_ms(10);
    int paused = tc_exists(flag);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    return paused && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

/* The temporary file left in dir (one expected), into out. */
static int find_temp(const char *dir, char *out, size_t len)
{
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "find '%s' -name '*.tmp'", dir);
    FILE *p = popen(cmd, "r");
    int found = p && fgets(out, (int)len, p) != NULL;
    if (p)
        pclose(p);
    if (found)
        out[strcspn(out, "\n")] = 0;
    return found;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void test_killed_writer(void)
{
    char dir[4200], entry[4400], temp[4400], stamp[4400];
    tc_build b = { 0 };
    int hit = -1, good = 0;
    snprintf(dir, sizeof dir, "%s/killed", root);
    ok(kill_writer(dir, 1), "a writer paused after fsync, before rename, "
                            "is killed with SIGKILL");
    tc_entry_path_of(dir, 1, entry, sizeof entry);
    ok(!tc_exists(entry), "no entry is visible");
    ok(find_temp(dir, temp, sizeof temp), "its temporary file is left");

    fp4rt_cache *c = tc_open(dir, "", 0);
    double t0 = now_s();
    fp4rt_status st = tc_get(c, 1, &b, &hit, &good);
    double took = now_s() - t0;
    ok(st == FP4RT_SUCCESS && good && hit == 0 && b.calls == 1,
       "the next lookup misses and rebuilds");
    ok(took < 5.0, "without waiting for the dead writer's lock (%.3f s)",
       took);
    ok(tc_exists(entry) && tc_exists(temp),
       "the entry is published; the fresh temporary file is kept");
    fp4rt_cache_verify_report r = tc_verify(c, 1);
    ok(r.temp_files == 1 && r.removed == 0,
       "verify --repair keeps a temporary file younger than an hour");
    tc_age(temp, -2 * 3600);
    r = tc_verify(c, 1);
    ok(r.temp_files == 1 && r.removed == 1 && !tc_exists(temp),
       "and removes it once it is two hours old");
    fp4rt_cache_close(c);

    /* Swept on open (at most hourly: the stamp says when). */
    ok(kill_writer(dir, 2) && find_temp(dir, temp, sizeof temp),
       "another killed writer leaves a temporary file");
    tc_age(temp, -2 * 3600);
    snprintf(stamp, sizeof stamp, "%s/.swept", dir);
    tc_age(stamp, -2 * 3600);
    c = tc_open(dir, "", 0);
    ok(!tc_exists(temp), "opening the cache sweeps it when stale");
    fp4rt_cache_close(c);

    /* Swept by the next publish into the same directory. */
    ok(kill_writer(dir, 3) && find_temp(dir, temp, sizeof temp),
       "a third killed writer leaves a temporary file");
    tc_age(temp, -2 * 3600);
    c = tc_open(dir, "", 0);
    ok(tc_exists(temp), "the stamp is fresh: opening does not walk the "
                        "directories");
    b.calls = 0;
    tc_get(c, 3, &b, &hit, &good);
    ok(good && b.calls == 1 && !tc_exists(temp),
       "rebuilding the key sweeps the stale file from its directory");
    fp4rt_cache_close(c);
}

int main(void)
{
    root = tu_mkdtemp("cache-procs");
    test_processes();
    test_threads();
    test_lock_replaced();
    test_killed_writer();
    tu_rmtree(root);
    free(root);
    return done_testing();
}
