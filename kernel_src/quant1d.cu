/*
 * 1x16-block quantization of plain input: fp4rt_quant1d and
 * fp4rt_quant1d_4o6 (static, device-computed or per-expert S_enc), one
 * lane per block, and fp4rt_amax, the per-tensor amax pass whose last
 * block writes S_enc and S_dec (one thread per 8 elements,
 * quant_half.cuh: a warp reads 256 contiguous elements per load).  Warps
 * walk their units of work without a division a step; the plain kernel
 * loads a unit into registers, the 4over6 one through a cp.async ring.
 * Per-tensor S_enc without the amax pass: fp4rt_quant1d_tensor_small (one
 * thread block) and fp4rt_quant1d_tensor_grid (one cooperative grid) hold
 * the run in registers.  The bulk-copy kernels are in quant_bulk.cuh.
 */
#include "quant_half.cuh"
#include "quantize.cuh"
#include "quant_bulk.cuh"

#define SEG_ELEMS FP4RT_Q_SEG_ELEMS
#define SEGS FP4RT_Q_SEGS
#define BLOCKS_PER_GROUP FP4RT_WARP

/* Groups of 32 blocks in a row. */
FP4RT_DEV fp4rt_i64 row_groups(const fp4rt_qparams &p)
{
    return (p.kb + BLOCKS_PER_GROUP - 1) / BLOCKS_PER_GROUP;
}

/* ------------------------------------------------------------------ */
/* Loads in registers                                                  */
/* ------------------------------------------------------------------ */

/*
 * One thread per 16-element block, consecutive lanes on consecutive
 * blocks, so that a warp's code stores (8 bytes a lane) and scale stores
 * are contiguous runs.  A warp takes a unit of p.bpi (1 or SEGS) groups
 * of 32 blocks of one row a step: lane l has blocks l, l + 32, ...  The
 * row is resolved and S_dec derived once per unit, and the unit's loads
 * are all issued before any arithmetic.
 */
template <bool ADAPT>
FP4RT_DEV void quant1d_spans(const fp4rt_qparams &p)
{
    extern __shared__ int smem[];
    int *off = smem, *pad = group_pad(smem, p);
    float *enc = group_enc(smem, p);
    int per_span = p.bpi, kb = (int)p.kb;
    fp4rt_i64 warps = warp_count();
    /* per_span is 1 or SEGS: no division by a run-time value. */
    fp4rt_i64 upr = per_span == 1 ? row_groups(p)
                                  : (row_groups(p) + SEGS - 1) / SEGS;
    unit_walk w = unit_start_in(upr, warp_id());
    fp4rt_grid_enter();
    if (p.num_experts)
        load_groups(p, off, pad, enc);
    fp4rt_i64 rows = fp4rt_run_rows(p);
    unit_step s = unit_steps(walk_rows(p, rows), upr, p.reverse, warps);
    int lane = threadIdx.x & (FP4RT_WARP - 1);
    float s_static = p.num_experts ? 1.0f : *(const float *)p.global_enc;
    fp4rt_u32 nonfinite = 0;
    for (; unit_live(w, s); unit_next(w, s)) {
        /* The loads first: a grouped row's expert (a search of the
         * offsets) is found while they fly.  Every row of the walk is in
         * the input, a row outside the experts too. */
        fp4rt_i64 r = unit_row(w, s);
        const char *in = fp4rt_input_row(p, r);
        int first = (int)unit_in_row(w, s) * per_span * BLOCKS_PER_GROUP +
                    lane;
        fp4rt_raw16 raw[SEGS];
#pragma unroll
        for (int k = 0; k < SEGS; k++) {
            int block = first + k * BLOCKS_PER_GROUP;
            if (k < per_span && block < kb)
                raw[k] = fp4rt_load16(in, block * FP4RT_SF_VEC);
        }
        lane_row lr = lane_row_place(p, r, rows, off, pad);
        if (lr.ref.m == ROW_SKIP)
            continue;
        lane_row_scale(p, lr, s_static, enc);
#pragma unroll
        for (int k = 0; k < SEGS; k++) {
            int block = first + k * BLOCKS_PER_GROUP;
            if (k < per_span && block < kb)
                quant_lane_block<ADAPT>(p, lr, block, raw[k], &nonfinite);
        }
    }
    fp4rt_zero_pads(p, rows, off, pad, thread_id(), thread_count());
    fp4rt_count_nonfinite(p, nonfinite);
}

/*
 * The same, a group of 32 blocks a unit, for runs that one wave covers
 * (fp4rt_quant1d_4o6_regs).  They have fewer than 2^31 units, so the walk
 * counts in 32 bits, and it goes forward over the bound's rows, whatever
 * p.reverse says: the first unit's input address is then known before
 * the wait for the grid before, and its load goes out right after it,
 * before the expert offsets are read (quant1d_glu_pairs does the same).
 */
template <bool ADAPT>
FP4RT_DEV void quant1d_groups(const fp4rt_qparams &p)
{
    extern __shared__ int smem[];
    int *off = smem, *pad = group_pad(smem, p);
    float *enc = group_enc(smem, p);
    int kb = (int)p.kb, lane = threadIdx.x & (FP4RT_WARP - 1);
    walk32 w = walk32_start((fp4rt_u32)row_groups(p), (fp4rt_u32)warp_id(),
                            (fp4rt_u32)warp_count());
    int block = (int)w.q * BLOCKS_PER_GROUP + lane;
    const char *in = fp4rt_input_row(p, w.r);
    fp4rt_grid_enter();
    float s_static = p.num_experts ? 1.0f : *(const float *)p.global_enc;
    fp4rt_i64 rows = fp4rt_run_rows(p);
    fp4rt_raw16 raw;
    int loaded = w.r < rows && block < kb;
    if (loaded)
        raw = fp4rt_load16(in, (fp4rt_i64)block * FP4RT_SF_VEC);
    if (p.num_experts)
        load_groups(p, off, pad, enc);
    fp4rt_u32 nonfinite = 0;
    for (; w.r < rows; walk32_next(w)) {
        block = (int)w.q * BLOCKS_PER_GROUP + lane;
        if (!loaded && block < kb)
            raw = fp4rt_load16(fp4rt_input_row(p, w.r),
                               (fp4rt_i64)block * FP4RT_SF_VEC);
        loaded = 0;
        lane_row lr = lane_row_place(p, w.r, rows, off, pad);
        if (lr.ref.m == ROW_SKIP)
            continue;
        lane_row_scale(p, lr, s_static, enc);
        if (block < kb)
            quant_lane_block<ADAPT>(p, lr, block, raw, &nonfinite);
    }
    fp4rt_zero_pads(p, rows, off, pad, thread_id(), thread_count());
    fp4rt_count_nonfinite(p, nonfinite);
}

/* ------------------------------------------------------------------ */
/* Loads through a shared-memory ring filled by cp.async               */
/* ------------------------------------------------------------------ */

#if FP4RT_HAS_CP_ASYNC
/*
 * A unit is PIPE_G groups of 32 blocks of one row.  Each thread copies
 * its own blocks of the unit PIPE_S - 1 units ahead into its own slots of
 * a ring in shared memory, so that the next units are in flight while it
 * works, and reads back only what it copied itself (no barrier).  This
 * pays for the 4over6 kernel, which works long on each block with few
 * warps resident; the plain kernel is faster with its loads in registers
 * (measured on H200).
 */
#ifndef FP4RT_Q1D_PIPE_GROUPS
#define FP4RT_Q1D_PIPE_GROUPS 1
#endif
#ifndef FP4RT_Q1D_PIPE_BYTES
#define FP4RT_Q1D_PIPE_BYTES 32768
#endif
#define PIPE_G FP4RT_Q1D_PIPE_GROUPS
#define PIPE_S (FP4RT_Q1D_PIPE_BYTES / \
                (PIPE_G * FP4RT_RAW_VECS * 16 * FP4RT_Q_THREADS))

typedef uint4 pipe_slot[PIPE_G][FP4RT_RAW_VECS][FP4RT_Q_THREADS];

FP4RT_DEV void cp_async16(uint4 *dst, const void *src)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;"
                 :: "r"(fp4rt_smem_addr(dst)), "l"(src) : "memory");
}

FP4RT_DEV void cp_async_commit()
{
    asm volatile("cp.async.commit_group;" ::: "memory");
}

FP4RT_DEV void cp_async_wait_all()
{
    asm volatile("cp.async.wait_all;" ::: "memory");
}

/* Every group but the newest PIPE_S - 1 has landed. */
FP4RT_DEV void cp_async_wait_oldest()
{
    asm volatile("cp.async.wait_group %0;" :: "n"(PIPE_S - 1) : "memory");
}

/* Starts the copies of this thread's blocks of unit w into slot (a group
 * is committed even when there is nothing to copy).  The input row is the
 * launch row whether or not an expert holds it (resolve_row), so the
 * copies need not wait for the expert offsets. */
FP4RT_DEV void pipe_issue(const fp4rt_qparams &p, const unit_walk &w,
                          const unit_step &s, pipe_slot &slot)
{
    if (unit_live(w, s)) {
        int first = (int)unit_in_row(w, s) * PIPE_G * BLOCKS_PER_GROUP +
                    (int)(threadIdx.x & (FP4RT_WARP - 1));
        const char *row = fp4rt_input_row(p, unit_row(w, s));
#pragma unroll
        for (int j = 0; j < PIPE_G; j++) {
            int block = first + j * BLOCKS_PER_GROUP;
            const uint4 *src = (const uint4 *)(row + block * FP4RT_SF_VEC *
                                                         FP4RT_ELEM_BYTES);
            if (block < p.kb) {
#pragma unroll
                for (int v = 0; v < FP4RT_RAW_VECS; v++)
                    cp_async16(&slot[j][v][threadIdx.x], src + v);
            }
        }
    }
    cp_async_commit();
}

template <bool ADAPT>
FP4RT_DEV void quant1d_pipe(const fp4rt_qparams &p)
{
    extern __shared__ int smem[];
    __shared__ pipe_slot ring[PIPE_S];
    int *off = smem, *pad = group_pad(smem, p);
    float *enc = group_enc(smem, p);
    fp4rt_i64 warps = warp_count();
    fp4rt_i64 upr = (row_groups(p) + PIPE_G - 1) / PIPE_G;
    unit_walk in = unit_start_in(upr, warp_id()), out = in;
    fp4rt_grid_enter();
    fp4rt_i64 rows = fp4rt_run_rows(p);
    unit_step s = unit_steps(walk_rows(p, rows), upr, p.reverse, warps);
    int lane = threadIdx.x & (FP4RT_WARP - 1);

#pragma unroll
    for (int k = 0; k < PIPE_S - 1; k++) {
        pipe_issue(p, in, s, ring[k]);
        if (unit_live(in, s))
            unit_next(in, s);
    }
    /* The expert offsets are read while the first units' copies fly. */
    if (p.num_experts)
        load_groups(p, off, pad, enc);
    float s_static = p.num_experts ? 1.0f : *(const float *)p.global_enc;
    fp4rt_u32 nonfinite = 0;
    int slot = 0, islot = PIPE_S - 1;
    for (; unit_live(out, s); unit_next(out, s)) {
        pipe_issue(p, in, s, ring[islot]);
        if (unit_live(in, s))
            unit_next(in, s);
        islot = islot + 1 == PIPE_S ? 0 : islot + 1;
        cp_async_wait_oldest();
        int cur = slot;
        slot = slot + 1 == PIPE_S ? 0 : slot + 1;
        lane_row lr = lane_row_place(p, unit_row(out, s), rows, off, pad);
        if (lr.ref.m == ROW_SKIP)
            continue;
        lane_row_scale(p, lr, s_static, enc);
        int first = (int)unit_in_row(out, s) * PIPE_G * BLOCKS_PER_GROUP +
                    lane;
#pragma unroll
        for (int j = 0; j < PIPE_G; j++) {
            int block = first + j * BLOCKS_PER_GROUP;
            if (block >= p.kb)
                continue;
            fp4rt_raw16 raw;
#pragma unroll
            for (int v = 0; v < FP4RT_RAW_VECS; v++)
                raw.v[v] = ring[cur][j][v][threadIdx.x];
            quant_lane_block<ADAPT>(p, lr, block, raw, &nonfinite);
        }
    }
    cp_async_wait_all();
    fp4rt_zero_pads(p, rows, off, pad, thread_id(), thread_count());
    fp4rt_count_nonfinite(p, nonfinite);
}
#define QUANT1D_4O6(a) quant1d_pipe<a>
#else
#define QUANT1D_4O6(a) quant1d_spans<a>
#endif

/* Resident blocks the register budget is set for (3: 80 registers, 24
 * warps a multiprocessor; the best of 2, 3 and 4 on H200 for bf16).  fp32
 * input holds twice the bytes a block in registers: 2, so as not to
 * spill. */
#ifndef FP4RT_Q1D_MIN_BLOCKS
#if FP4RT_IN_DTYPE == FP4RT_DT_F32
#define FP4RT_Q1D_MIN_BLOCKS 2
#else
#define FP4RT_Q1D_MIN_BLOCKS 3
#endif
#endif
#ifndef FP4RT_Q1D_4O6_MIN_BLOCKS
#define FP4RT_Q1D_4O6_MIN_BLOCKS 3
#endif

extern "C" __global__ void
__launch_bounds__(FP4RT_Q_THREADS, FP4RT_Q1D_MIN_BLOCKS)
fp4rt_quant1d(const fp4rt_qparams p)
{
    quant1d_spans<false>(p);
}

extern "C" __global__ void
__launch_bounds__(FP4RT_Q_THREADS, FP4RT_Q1D_4O6_MIN_BLOCKS)
fp4rt_quant1d_4o6(const fp4rt_qparams p)
{
    QUANT1D_4O6(true)(p);
}

/* 4over6 with the loads in registers, for runs whose warps take one unit
 * or few: the ring's copies then hide nothing, and its shared memory
 * (sized for FP4RT_Q_THREADS) would limit the thread blocks of
 * NARROW_THREADS that a multiprocessor holds. */
extern "C" __global__ void
__launch_bounds__(FP4RT_Q_THREADS, FP4RT_Q1D_4O6_MIN_BLOCKS)
fp4rt_quant1d_4o6_regs(const fp4rt_qparams p)
{
    quant1d_groups<true>(p);
}

/* ------------------------------------------------------------------ */
/* Per-tensor S_enc in one thread block, for tiny inputs               */
/* ------------------------------------------------------------------ */

/*
 * Per-tensor S_enc for runs that the threads of a launch hold in
 * registers: thread i of n has blocks i, i + n, ... (at most HELD), loads
 * them, takes their maximum, and amax (below) makes that the run's amax;
 * S_enc then follows and the held blocks are quantized.  pad_words: the
 * unit (1 or 4 words) of the swizzled padding's zero stores, 0 where
 * other threads write the padding.
 */
template <bool ADAPT, int HELD, class Amax>
FP4RT_DEV void quant1d_held(const fp4rt_qparams &p, int i, int n,
                            Amax amax, int pad_words)
{
    /* The wait comes first here: the threads past the run's end skip
     * their divisions below, which takes the run's size (measured faster
     * for the one-block kernel, where every instruction of its threads
     * falls on one multiprocessor). */
    fp4rt_grid_enter();
    amax.begin();
    fp4rt_i64 rows = fp4rt_run_rows(p);
    /* Such a run has fewer than 2^31 blocks (what a grid holds). */
    int total = (int)(rows * p.kb), kb = (int)p.kb;
    fp4rt_raw16 raw[HELD];
    int row[HELD], col[HELD];
    float v = 0.0f;
#pragma unroll
    for (int k = 0; k < HELD; k++) {
        int b = i + k * n;
        row[k] = b < total ? b / kb : -1;
        col[k] = b - row[k] * kb;
        if (row[k] >= 0)
            raw[k] = fp4rt_load16(fp4rt_input_row(p, row[k]),
                                  (fp4rt_i64)col[k] * FP4RT_SF_VEC);
    }
#pragma unroll
    for (int k = 0; k < HELD; k++)
        if (row[k] >= 0)
            v = fmaxf(v, fp4rt_raw_amax(raw[k]));
    float s_enc = fp4rt_global_enc(amax(v), p.e4m3_max);
    if (i == 0) {
        *(float *)p.global_enc = s_enc;
        *(float *)p.global_dec = 1.0f / s_enc;
    }
    fp4rt_u32 nonfinite = 0;
#pragma unroll
    for (int k = 0; k < HELD; k++)
        if (row[k] >= 0)
            quant_lane_block<ADAPT>(p, lane_row_at(p, row[k], rows, s_enc),
                                    col[k], raw[k], &nonfinite);
    if (pad_words)
        fp4rt_zero_pad_units(p, rows, i, n, pad_words);
    fp4rt_count_nonfinite(p, nonfinite);
}

/*
 * One launch instead of the amax pass and the quantizer: a thread block
 * of FP4RT_Q_SMALL_THREADS holds every block of the run in registers,
 * reduces their maximum, writes S_enc and S_dec, and quantizes.  The
 * launcher takes it for runs of at most FP4RT_Q_SMALL_BLOCKS blocks (a
 * decode step of one or a few tokens).  The swizzled padding rows, where
 * the run has any, are zeroed by the thread blocks after the first (the
 * launcher adds them), which need no amax (H200, 1 x 7168 under graph
 * replay: 2.7 us, against 3.6 where the one block wrote them too).
 */
#define SMALL_PER_THREAD (FP4RT_Q_SMALL_BLOCKS / FP4RT_Q_SMALL_THREADS)

struct small_amax {
    float *scratch;
    __device__ explicit small_amax(float *s) : scratch(s) {}
    __device__ void begin() {}
    __device__ float operator()(float v) const
    {
        return fp4rt_block_max(v, scratch);
    }
};

template <bool ADAPT>
FP4RT_DEV void quant1d_small(const fp4rt_qparams &p)
{
    __shared__ float scratch[32];
    if (blockIdx.x > 0) {
        /* The swizzled padding rows, by the blocks after the first. */
        fp4rt_grid_enter();
        fp4rt_zero_pad_units(p, fp4rt_run_rows(p),
                             (blockIdx.x - 1) * (fp4rt_i64)blockDim.x +
                                 threadIdx.x,
                             (gridDim.x - 1) * (fp4rt_i64)blockDim.x,
                             pad_unit_words(p));
        return;
    }
    quant1d_held<ADAPT, SMALL_PER_THREAD>(p, (int)threadIdx.x,
                                          FP4RT_Q_SMALL_THREADS,
                                          small_amax(scratch),
                                          gridDim.x > 1 ? 0 : 1);
}

/* The entries of the per-tensor kernels that hold the run: plain and
 * 4over6 of body fn, thread blocks of the given size. */
#define HELD_ENTRY(name, fn, threads, adapt)                                \
    extern "C" __global__ void __launch_bounds__(threads)                   \
    name(const fp4rt_qparams p)                                             \
    {                                                                       \
        fn<adapt>(p);                                                       \
    }

HELD_ENTRY(fp4rt_quant1d_tensor_small, quant1d_small, FP4RT_Q_SMALL_THREADS,
           false)
HELD_ENTRY(fp4rt_quant1d_tensor_small_4o6, quant1d_small,
           FP4RT_Q_SMALL_THREADS, true)

/* ------------------------------------------------------------------ */
/* Per-tensor S_enc in one cooperative launch, for mid-size inputs     */
/* ------------------------------------------------------------------ */

/*
 * The grid is launched cooperatively (every thread block resident at
 * once), and each thread holds at most FP4RT_Q_GRID_HELD blocks of the run
 * in registers.  Thread blocks meet at a grid barrier that carries their
 * maxima, then all derive S_enc from the amax and quantize what they
 * hold.
 *
 * The barrier is one hop: each block stores its maximum into a 64-bit
 * slot of its own, tagged with the run's epoch in the high word, and
 * every block's first warp reads all the slots until each carries the
 * epoch (their maximum is then the amax; no atomic, no fence, and no
 * relay through one block, which cost a second hop: H200, per-tensor 128
 * x 7168 under graph replay, 4.5 us with the relay, 3.8 us now).
 * Workspace words from FP4RT_QG_WS (quant_params.cuh): the epoch of the
 * last run, then from the next line the slots.  A run's epoch is the
 * last one plus 1 (0 is skipped: the slots start zeroed); block 0 stores
 * it once it has seen every slot, when every block has read the old one.
 * Nothing is zeroed: a slot could only pass for arrived with a value
 * 2^32 - 1 runs old.
 */
#define QG_LINE_WORDS FP4RT_QG_LINE_WORDS

FP4RT_DEV fp4rt_u32 fp4rt_load_relaxed(const fp4rt_u32 *a)
{
    fp4rt_u32 v;
    asm volatile("ld.relaxed.gpu.u32 %0, [%1];" : "=r"(v) : "l"(a) : "memory");
    return v;
}

FP4RT_DEV fp4rt_u64 fp4rt_load_relaxed64(const fp4rt_u64 *a)
{
    fp4rt_u64 v;
    asm volatile("ld.relaxed.gpu.u64 %0, [%1];" : "=l"(v) : "l"(a) : "memory");
    return v;
}

FP4RT_DEV void fp4rt_store_relaxed(fp4rt_u32 *a, fp4rt_u32 v)
{
    asm volatile("st.relaxed.gpu.u32 [%0], %1;" :: "l"(a), "r"(v) : "memory");
}

FP4RT_DEV void fp4rt_store_relaxed64(fp4rt_u64 *a, fp4rt_u64 v)
{
    asm volatile("st.relaxed.gpu.u64 [%0], %1;" :: "l"(a), "l"(v) : "memory");
}

/* A first warp: waits until the n slots carry epoch, and returns the
 * maximum of their values (n <= FP4RT_QG_MAX_BLOCKS, 32 a lane).  Lane
 * l reads slots l, l + 32, ..., four at a time, and reads again only
 * those that had not arrived: once most blocks are in, the reads go to
 * the few lines still awaited, not to every slot of every block (reading
 * every slot each round was slower than the relay). */
#define QG_READS 4
/* Between rounds of reads, a pause: fewer reads queue at the awaited
 * lines (H200, per-tensor 128 x 7168 under graph replay: 3.8 us, 4.1
 * without, 3.9 with 16 or 32 ns). */
#ifndef QG_NAP_NS
#define QG_NAP_NS 64
#endif

FP4RT_DEV void fp4rt_nap(unsigned ns)
{
#if FP4RT_CC >= 70
    __nanosleep(ns);
#else
    (void)ns;
#endif
}

FP4RT_DEV fp4rt_u32 grid_gather(const fp4rt_u64 *slots, unsigned n,
                                fp4rt_u32 epoch)
{
    int lane = threadIdx.x & (FP4RT_WARP - 1);
    int mine = lane < (int)n ? ((int)n - 1 - lane) / FP4RT_WARP + 1 : 0;
    fp4rt_u32 pending = mine >= 32 ? ~0u : (1u << mine) - 1u, m = 0u;
    while (__any_sync(FP4RT_FULL_MASK, pending != 0u)) {
        fp4rt_nap(QG_NAP_NS);
        for (int k0 = 0; k0 < mine; k0 += QG_READS) {
            fp4rt_u64 v[QG_READS];
#pragma unroll
            for (int k = 0; k < QG_READS; k++)
                if (pending >> (k0 + k) & 1u)
                    v[k] = fp4rt_load_relaxed64(slots + lane +
                                                (k0 + k) * FP4RT_WARP);
#pragma unroll
            for (int k = 0; k < QG_READS; k++)
                if ((pending >> (k0 + k) & 1u) &&
                    (fp4rt_u32)(v[k] >> 32) == epoch) {
                    m = max(m, (fp4rt_u32)v[k]);
                    pending &= ~(1u << (k0 + k));
                }
        }
    }
#pragma unroll
    for (int o = FP4RT_WARP / 2; o > 0; o >>= 1)
        m = max(m, __shfl_xor_sync(FP4RT_FULL_MASK, m, o));
    return m;
}

/* The barrier's epoch word; its slots start QG_LINE_WORDS after it. */
FP4RT_DEV fp4rt_u32 *grid_epoch_word(const fp4rt_qparams &p)
{
    return (fp4rt_u32 *)p.workspace + FP4RT_QG_WS;
}

/* The grid's amax of the threads' values v; epoch: this run's, known to
 * the first warp (grid_amax_of::begin). */
FP4RT_DEV float grid_amax(const fp4rt_qparams &p, float v, float *scratch,
                          fp4rt_u32 epoch)
{
    __shared__ float amax;
    fp4rt_u32 *epoch_word = grid_epoch_word(p);
    fp4rt_u64 *slots = (fp4rt_u64 *)(epoch_word + QG_LINE_WORDS);
    v = fp4rt_block_max(v, scratch);
    if (threadIdx.x < FP4RT_WARP) {
        if (threadIdx.x == 0)
            fp4rt_store_relaxed64(slots + blockIdx.x,
                                  (fp4rt_u64)epoch << 32 | fp4rt_f2u(v));
        fp4rt_u32 m = grid_gather(slots, gridDim.x, epoch);
        if (threadIdx.x == 0) {
            amax = fp4rt_u2f(m);
            if (blockIdx.x == 0)
                fp4rt_store_relaxed(epoch_word, epoch);
        }
    }
    __syncthreads();
    return amax;
}

/* The amax of quant1d_held through the grid barrier.  begin() reads the
 * last epoch as soon as the grid may (its load then overlaps the input's),
 * in the first warp. */
struct grid_amax_of {
    float *scratch;
    const fp4rt_qparams &p;
    fp4rt_u32 epoch;
    __device__ grid_amax_of(const fp4rt_qparams &q, float *s)
        : scratch(s), p(q), epoch(0u) {}
    __device__ void begin()
    {
        if (threadIdx.x < FP4RT_WARP) {
            epoch = fp4rt_load_relaxed(grid_epoch_word(p)) + 1u;
            epoch += epoch == 0u;
        }
    }
    __device__ float operator()(float v) const
    {
        return grid_amax(p, v, scratch, epoch);
    }
};

template <bool ADAPT>
FP4RT_DEV void quant1d_tensor_grid(const fp4rt_qparams &p)
{
    __shared__ float scratch[32];
    quant1d_held<ADAPT, FP4RT_Q_GRID_HELD>(p, (int)thread_id(),
                                           (int)thread_count(),
                                           grid_amax_of(p, scratch),
                                           pad_unit_words(p));
}

HELD_ENTRY(fp4rt_quant1d_tensor_grid, quant1d_tensor_grid,
           FP4RT_Q_GRID_THREADS, false)
HELD_ENTRY(fp4rt_quant1d_tensor_grid_4o6, quant1d_tensor_grid,
           FP4RT_Q_GRID_THREADS, true)

/* ------------------------------------------------------------------ */
/* Per-tensor amax                                                     */
/* ------------------------------------------------------------------ */

/* max |x| of this lane's 8 elements, NaN ignored. */
FP4RT_DEV float lane_amax(const fp4rt_raw8 &raw)
{
    float x[FP4RT_HB];
#if FP4RT_IN_DTYPE != FP4RT_DT_F32 && FP4RT_CC >= 80
    /* The packed maximum's NaN rule is fmaxf's. */
    fp4rt_u32 w[4] = { raw.v[0].x, raw.v[0].y, raw.v[0].z, raw.v[0].w };
    fp4rt_u32 m = 0;
#pragma unroll
    for (int i = 0; i < 4; i++) {
#if FP4RT_IN_DTYPE == FP4RT_DT_BF16
        asm("max.bf16x2 %0, %0, %1;" : "+r"(m) : "r"(w[i] & 0x7FFF7FFFu));
#else
        asm("max.f16x2 %0, %0, %1;" : "+r"(m) : "r"(w[i] & 0x7FFF7FFFu));
#endif
    }
    (void)x;
#if FP4RT_IN_DTYPE == FP4RT_DT_BF16
    return fmaxf(fp4rt_u2f(m << 16), fp4rt_u2f(m & 0xFFFF0000u));
#else
    return fmaxf(fp4rt_half_to_f32(m & 0xFFFFu), fp4rt_half_to_f32(m >> 16));
#endif
#else
    fp4rt_unpack8(raw, x);
    return fp4rt_vmax8(x);
#endif
}

/*
 * The amax pass's loads.  The quantizer after it walks the input from the
 * end, so the pass reads the rows before p.hot_row with an L2 evict-first
 * policy: they then make room before the last rows (read normally), which
 * the quantizer finds in L2.
 */
FP4RT_DEV fp4rt_u64 evict_first_policy()
{
    fp4rt_u64 pol = 0;
#if FP4RT_CC >= 80
    asm("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;" : "=l"(pol));
#endif
    return pol;
}

/* The elements from col on, through pol where first (sm_80 on). */
FP4RT_DEV fp4rt_raw8 amax_load8(const char *row, fp4rt_i64 col, int first,
                                fp4rt_u64 pol)
{
#if FP4RT_CC >= 80
    if (first) {
        const uint4 *src = (const uint4 *)(row + col * FP4RT_ELEM_BYTES);
        fp4rt_raw8 r;
#pragma unroll
        for (int k = 0; k < FP4RT_HB_VECS; k++)
            asm volatile("ld.global.nc.L2::cache_hint.v4.u32 "
                         "{%0, %1, %2, %3}, [%4], %5;"
                         : "=r"(r.v[k].x), "=r"(r.v[k].y), "=r"(r.v[k].z),
                           "=r"(r.v[k].w)
                         : "l"(src + k), "l"(pol));
        return r;
    }
#else
    (void)first;
    (void)pol;
#endif
    return fp4rt_load8(row, col);
}

/* The amax of the input, by segments (see amax_finish). */
extern "C" __global__ void __launch_bounds__(FP4RT_Q_THREADS)
fp4rt_amax(const fp4rt_qparams p)
{
    fp4rt_i64 nseg = (p.cols + SEG_ELEMS - 1) / SEG_ELEMS;
    fp4rt_i64 spans_per_row = (nseg + SEGS - 1) / SEGS;
    fp4rt_i64 lane_col = (threadIdx.x & (FP4RT_WARP - 1)) * FP4RT_HB;
    fp4rt_i64 warps = warp_count();
    unit_walk w = unit_start_in(spans_per_row, warp_id());
    fp4rt_grid_enter();
    unit_step s = unit_steps(fp4rt_run_rows(p), spans_per_row, 0, warps);
    float v = 0.0f;
    fp4rt_u64 pol = evict_first_policy();
    for (; unit_live(w, s); unit_next(w, s)) {
        fp4rt_i64 r = unit_row(w, s);
        const char *row = fp4rt_input_row(p, r);
        fp4rt_i64 col0 = unit_in_row(w, s) * SEGS * SEG_ELEMS + lane_col;
        int first = r < p.hot_row;
        fp4rt_raw8 raw[SEGS];
#pragma unroll
        for (int k = 0; k < SEGS; k++) {
            fp4rt_i64 col = col0 + k * SEG_ELEMS;
            if (col < p.cols)
                raw[k] = amax_load8(row, col, first, pol);
        }
#pragma unroll
        for (int k = 0; k < SEGS; k++)
            if (col0 + k * SEG_ELEMS < p.cols)
                v = fmaxf(v, lane_amax(raw[k]));
    }
    amax_finish(p, v);
}
