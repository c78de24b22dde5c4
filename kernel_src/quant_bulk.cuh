/*
 * 1x16-block quantization fed by bulk copies (sm_90 on): fp4rt_quant1d_bulk
 * and fp4rt_quant1d_bulk_4o6, for a static or device-computed S_enc (not
 * grouped) and an input whose rows start on 16 bytes.
 *
 * The run is cut into tiles of FP4RT_QB_TILE_BYTES of input: its blocks
 * in row-major order, or with swizzled scales 8 rows of a 128-row band by
 * a chunk of each (octet tiles, qb_tiles).  One producer warp per thread
 * block copies tiles into a ring of QB_STAGES shared-memory stages
 * with cp.async.bulk (one copy a tile for contiguous rows, else one a row
 * piece), each stage completing an mbarrier ("full") by its byte count;
 * the consumer warps quantize a stage from shared memory and release it
 * ("empty").  The data in flight sits in shared memory, not registers, so
 * a multiprocessor keeps far more of it in flight than the register
 * kernel can.  Thread blocks take tiles by tickets (qb_take_ticket), so
 * that each takes as many as it gets through.  Each block's
 * encode scale comes from a table of the 127 scale codes' (one S_dec a
 * launch), not a division.
 *
 * Octet tiles cover a band's padding rows; with row-major tiles, the
 * swizzled padding rows get their zero scales after the tiles.
 */
#ifndef FP4RT_QUANT_BULK_CUH
#define FP4RT_QUANT_BULK_CUH

#include "quantize.cuh"

#ifndef FP4RT_QB_TILE_BYTES
#define FP4RT_QB_TILE_BYTES FP4RT_QB_TILE_BYTES_FOR(FP4RT_CC)
#endif
/* The ring's stages in the plain (ADAPT false) and the 4over6 kernel. */
#define QB_STAGES(adapt) FP4RT_QB_STAGES_FOR(FP4RT_CC, adapt)
#if QB_STAGES(0) > FP4RT_QB_MAX_STAGES || QB_STAGES(1) > FP4RT_QB_MAX_STAGES
#error "more stages than the barriers and scale buffers have room for"
#endif
#define QB_CONSUMERS FP4RT_QB_CONSUMER_THREADS
#define QB_TILE_BLOCKS (FP4RT_QB_TILE_BYTES / (FP4RT_SF_VEC * FP4RT_ELEM_BYTES))
#define QB_BLOCK_BYTES (FP4RT_SF_VEC * FP4RT_ELEM_BYTES)

#if FP4RT_CC >= 90

FP4RT_DEV void mbar_init(fp4rt_u64 *bar, fp4rt_u32 count)
{
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;"
                 :: "r"(fp4rt_smem_addr(bar)), "r"(count) : "memory");
}

FP4RT_DEV void mbar_expect_tx(fp4rt_u64 *bar, fp4rt_u32 bytes)
{
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;"
                 :: "r"(fp4rt_smem_addr(bar)), "r"(bytes) : "memory");
}

/* The waits and arrivals take the barrier's 32-bit shared address, which
 * the consumers' loop computes once. */
FP4RT_DEV void mbar_wait_at(fp4rt_u32 bar, fp4rt_u32 parity)
{
    fp4rt_u32 done;
    do {
        asm volatile("{\n\t.reg .pred p;\n\t"
                     "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n\t"
                     "selp.u32 %0, 1, 0, p;\n\t}"
                     : "=r"(done)
                     : "r"(bar), "r"(parity)
                     : "memory");
    } while (!done);
}

FP4RT_DEV void mbar_wait(fp4rt_u64 *bar, fp4rt_u32 parity)
{
    mbar_wait_at(fp4rt_smem_addr(bar), parity);
}

FP4RT_DEV void mbar_arrive_at(fp4rt_u32 bar)
{
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" :: "r"(bar)
                 : "memory");
}

/* bytes (a multiple of 16) from global src to shared dst, both on 16
 * bytes, completing on bar. */
FP4RT_DEV void bulk_copy(void *dst, const void *src, fp4rt_u32 bytes,
                         fp4rt_u64 *bar)
{
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx"
                 "::bytes [%0], [%1], %2, [%3];"
                 :: "r"(fp4rt_smem_addr(dst)), "l"(src), "r"(bytes),
                    "r"(fp4rt_smem_addr(bar)) : "memory");
}

/* The tiling of a launch.  Flat: the run's rows x kb blocks in row-major
 * order, cut every QB_TILE_BLOCKS blocks (a tile may hold the end of one
 * row and the start of the next).  Octets (swizzled scales on 16 bytes,
 * rows of at least QB_OCT_COLS / 2 blocks): a tile holds the 8 rows of a
 * 128-row band whose scale words share the layout's 32-byte pieces (rows
 * 2o and 2o + 1 of each 32-row quarter), by a chunk of QB_OCT_COLS blocks
 * of each; so every piece is stored whole, once, by one thread.  In flat
 * tiles a piece's 8 words came from tiles ~100 rows apart, 4 bytes a
 * store, and the swizzled runs took 9% longer than linear ones. */
#define QB_OCT_ROWS FP4RT_QB_OCT_ROWS
#define QB_OCT_COLS (QB_TILE_BLOCKS / QB_OCT_ROWS)
#define QB_OCT_BAND (FP4RT_SWZ_ROWS / QB_OCT_ROWS)     /* octets a band */

typedef struct qb_tiling {
    fp4rt_i64 rows;       /* rows of the run */
    fp4rt_i64 total;      /* blocks of the run */
    fp4rt_u32 tiles;
    int contiguous;       /* rows follow each other in memory */
    int octets;           /* octet tiles (else flat) */
    fp4rt_u32 chunks;     /* octet tiles: column chunks a row */
    fp4rt_u32 octs;       /* octet tiles: octets of the run */
} qb_tiling;

FP4RT_DEV qb_tiling qb_tiles(const fp4rt_qparams &p)
{
    qb_tiling t;
    t.rows = fp4rt_run_rows(p);
    t.total = t.rows * p.kb;
    t.contiguous = p.in_stride == p.cols;
    t.octets = p.scale_layout == FP4RT_QP_LAYOUT_SWIZZLED &&
               (p.scales & 15) == 0 && p.kb >= QB_OCT_COLS / 2;
    t.chunks = (fp4rt_u32)((p.kb + QB_OCT_COLS - 1) / QB_OCT_COLS);
    t.octs = (fp4rt_u32)((t.rows + FP4RT_SWZ_ROWS - 1) / FP4RT_SWZ_ROWS) *
             QB_OCT_BAND;
    if (t.octets)
        t.tiles = t.octs * t.chunks;
    else
        t.tiles = (fp4rt_u32)((t.total + QB_TILE_BLOCKS - 1) / QB_TILE_BLOCKS);
    return t;
}

FP4RT_DEV fp4rt_u32 qb_tile_blocks(const qb_tiling &t, fp4rt_u32 tile)
{
    fp4rt_i64 left = t.total - (fp4rt_i64)tile * QB_TILE_BLOCKS;
    return left < QB_TILE_BLOCKS ? (fp4rt_u32)left : QB_TILE_BLOCKS;
}

/* An octet tile: its slot s (0..7) holds row row0 + (s & 1) + 32 (s >> 1)
 * (a row at or past the run's end is absent), blocks cb0 .. cb0 + width
 * - 1 of it, at s * QB_OCT_COLS blocks into the stage and its scale
 * buffer.  Tile i is chunk i % chunks of octet i / chunks. */
typedef struct qb_octet {
    fp4rt_i64 row0, cb0;
    fp4rt_u32 width;
} qb_octet;

/* The octet tile i (w: octet i / chunks as row, chunk i % chunks as
 * unit); with p.reverse, mirrored: the tiles of an octet are its chunks,
 * so tile T - 1 - i is chunk chunks - 1 - q of octet octs - 1 - r. */
FP4RT_DEV qb_octet qb_octet_of(const fp4rt_qparams &p, const qb_tiling &t,
                               const walk32 &w)
{
    qb_octet o;
    fp4rt_u32 oct = p.reverse ? t.octs - 1 - w.r : w.r;
    fp4rt_u32 chunk = p.reverse ? t.chunks - 1 - w.q : w.q;
    o.row0 = (fp4rt_i64)(oct / QB_OCT_BAND) * FP4RT_SWZ_ROWS +
             2 * (oct % QB_OCT_BAND);
    o.cb0 = (fp4rt_i64)chunk * QB_OCT_COLS;
    fp4rt_i64 left = p.kb - o.cb0;
    o.width = left < QB_OCT_COLS ? (fp4rt_u32)left : QB_OCT_COLS;
    return o;
}

FP4RT_DEV fp4rt_i64 qb_slot_row(const qb_octet &o, int s)
{
    return o.row0 + (s & 1) + (FP4RT_SWZ_ROWS / 4) * (s >> 1);
}

/* The scale bytes of the tile in stage s, in shared memory: the
 * consumers write them there, the producer warp stores them. */
__shared__ __align__(16) fp4rt_u8
    qb_scale_buf[FP4RT_QB_MAX_STAGES][QB_TILE_BLOCKS];

/* Stores the scales of an octet tile: lane g takes blocks 4g .. 4g + 3 of
 * the chunk, the whole 32-byte piece of the layout that holds them for
 * the tile's 8 rows (row r of the band at (r & 31) * 16 + (r >> 5) * 4):
 * absent rows and the padding columns past kb as 0. */
FP4RT_DEV void qb_store_octet(const fp4rt_qparams &p, const qb_tiling &t,
                              const qb_octet &o, fp4rt_u32 s)
{
    int lane = threadIdx.x & (FP4RT_WARP - 1);
    const fp4rt_u32 *buf = (const fp4rt_u32 *)qb_scale_buf[s];
    /* Slot 0's row is in the band's first quarter and cb0 a multiple of
     * 4: its scale is the first byte of the chunk's first piece. */
    fp4rt_u8 *piece = (fp4rt_u8 *)p.scales + fp4rt_swz(o.row0, o.cb0, p.kb);
    for (fp4rt_u32 g = lane; 4 * g < o.width; g += FP4RT_WARP) {
        fp4rt_u32 cols = o.width - 4 * g;
        fp4rt_u32 keep = cols >= 4 ? 0xFFFFFFFFu : (1u << (8 * cols)) - 1u;
        fp4rt_u32 w[QB_OCT_ROWS];
#pragma unroll
        for (int r = 0; r < QB_OCT_ROWS; r++)
            w[r] = qb_slot_row(o, r) < t.rows
                       ? buf[r * (QB_OCT_COLS / 4) + g] & keep
                       : 0u;
        uint4 *at = (uint4 *)(piece + g * FP4RT_SWZ_TILE_BYTES);
        at[0] = make_uint4(w[0], w[2], w[4], w[6]);
        at[1] = make_uint4(w[1], w[3], w[5], w[7]);
    }
}

/* Stores the scales of a flat tile the consumers have finished: linear
 * ones a word a lane (they follow the blocks' order); swizzled ones by
 * groups of four blocks of a row (one word) when K / 16 is a multiple of
 * 4, else a byte at a time with the row's padding bytes, rows and columns
 * from a walk without a division a step. */
FP4RT_DEV void qb_store_scales(const fp4rt_qparams &p, const qb_tiling &t,
                               fp4rt_u32 tile, fp4rt_u32 s)
{
    int lane = threadIdx.x & (FP4RT_WARP - 1);
    fp4rt_u32 n = qb_tile_blocks(t, tile);
    fp4rt_i64 g0 = (fp4rt_i64)tile * QB_TILE_BLOCKS, kb = p.kb;
    const fp4rt_u8 *buf = qb_scale_buf[s];
    fp4rt_u8 *out = (fp4rt_u8 *)p.scales;
    if (p.scale_layout != FP4RT_QP_LAYOUT_SWIZZLED) {
        /* g0 is a multiple of the tile, the scales 4-byte aligned. */
        for (fp4rt_u32 w = lane; w < n / 4; w += FP4RT_WARP)
            ((fp4rt_u32 *)(out + g0))[w] = ((const fp4rt_u32 *)buf)[w];
        for (fp4rt_u32 i = (n & ~3u) + lane; i < n; i += FP4RT_WARP)
            out[g0 + i] = buf[i];
        return;
    }
    fp4rt_i64 band = fp4rt_round_up(kb, FP4RT_SWZ_COLS) * FP4RT_SWZ_ROWS;
    fp4rt_u32 group = (kb & 3) == 0 ? 4u : 1u;
    fp4rt_i64 g = g0 + group * lane, step = group * FP4RT_WARP;
    fp4rt_i64 row = g / kb, cb = g - row * kb;
    fp4rt_i64 drow = step / kb, dcb = step - drow * kb;
    for (fp4rt_u32 i = group * lane; i < n; i += step) {
        fp4rt_u32 mi = (fp4rt_u32)row, ci = (fp4rt_u32)cb;
        fp4rt_u8 *at = out + (row >> 7) * band + (mi & 31u) * 16u +
                       ((mi >> 5) & 3u) * 4u +
                       (ci >> 2) * FP4RT_SWZ_TILE_BYTES + (ci & 3u);
        if (group == 4) {
            *(fp4rt_u32 *)at = *(const fp4rt_u32 *)(buf + i);
        } else {
            at[0] = buf[i];
            if (ci == (fp4rt_u32)kb - 1)
                for (fp4rt_u32 b = (ci & 3u) + 1; b < 4; b++)
                    at[b - (ci & 3u)] = 0;
        }
        row += drow;
        cb += dcb;
        if (cb >= kb) {
            cb -= kb;
            row++;
        }
    }
}

/* Copies the present rows of an octet tile into stage, a row piece by
 * each of lanes 0..7. */
FP4RT_DEV void qb_copy_octet(const fp4rt_qparams &p, const qb_tiling &t,
                             const qb_octet &o, char *stage, fp4rt_u64 *full)
{
    int lane = threadIdx.x & (FP4RT_WARP - 1);
    fp4rt_i64 row = qb_slot_row(o, lane & (QB_OCT_ROWS - 1));
    int live = lane < QB_OCT_ROWS && row < t.rows;
    fp4rt_u32 rows = __popc(__ballot_sync(FP4RT_FULL_MASK, live));
    fp4rt_u32 bytes = o.width * QB_BLOCK_BYTES;
    __syncwarp();
    if (lane == 0)
        mbar_expect_tx(full, rows * bytes);
    __syncwarp();
    if (live)
        bulk_copy(stage + lane * (QB_OCT_COLS * QB_BLOCK_BYTES),
                  (const char *)p.input +
                      (row * p.in_stride + o.cb0 * FP4RT_SF_VEC) *
                          FP4RT_ELEM_BYTES,
                  bytes, full);
}

/*
 * Tiles are dealt out by tickets: the producer warp of each thread block
 * takes the launch's next ticket (p.tile_counter) for each stage it
 * fills and leaves it in the stage's slot for the consumers; ticket i is
 * tile i (from the end with p.reverse), an octet tile's octet and chunk
 * i / chunks and i % chunks.  A ticket past the tiles ends the thread
 * block: its slot holds QB_DONE and its stage is completed without
 * bytes.  Each thread block takes exactly one such ticket, so the one
 * that takes the last of them (tiles + gridDim.x - 1) puts the counter
 * back to 0 for the next run of the plan (runs of a plan are ordered on
 * one stream, and the next one reads the counter after this grid ends).
 *
 * Why: with every gridDim.x-th tile a thread block, the two thread blocks
 * of a multiprocessor did not keep pace (the schedulers favour the older
 * one's warps): H200, 16384 x 7168, the first ones were done after 48-60
 * us of a 75 us run, and the rest ended it alone, with half the copies
 * in flight.
 */
#define QB_DONE 0xFFFFFFFFu
__shared__ fp4rt_u32 qb_stage_ticket[FP4RT_QB_MAX_STAGES];

/* The launch's next ticket, for the producer warp (lane 0 takes it). */
FP4RT_DEV fp4rt_u32 qb_take_ticket(const fp4rt_qparams &p)
{
    fp4rt_u32 v = 0u;
    if ((threadIdx.x & (FP4RT_WARP - 1)) == 0)
        v = atomicAdd((unsigned *)p.tile_counter, 1u);
    return __shfl_sync(FP4RT_FULL_MASK, v, 0);
}

FP4RT_DEV fp4rt_u32 qb_ticket_tile(const fp4rt_qparams &p,
                                   const qb_tiling &t, fp4rt_u32 ticket)
{
    return p.reverse ? t.tiles - 1 - ticket : ticket;
}

FP4RT_DEV qb_octet qb_ticket_octet(const fp4rt_qparams &p,
                                   const qb_tiling &t, fp4rt_u32 ticket)
{
    return qb_octet_of(p, t, walk32_start(t.chunks, ticket, 1));
}

/* Stores the scales of the tile of a ticket, in stage s. */
template <bool OCT>
FP4RT_DEV void qb_store(const fp4rt_qparams &p, const qb_tiling &t,
                        fp4rt_u32 ticket, fp4rt_u32 s)
{
    if (OCT)
        qb_store_octet(p, t, qb_ticket_octet(p, t, ticket), s);
    else
        qb_store_scales(p, t, qb_ticket_tile(p, t, ticket), s);
}

/* The producer warp: waits for a stage to be free, stores the scales of
 * the tile it held, then takes a ticket and copies its tile into it: one
 * copy when the rows are contiguous, else a row piece a lane.  At the
 * end it stores the scales of the tiles still in the ring. */
template <bool ADAPT, bool OCT>
FP4RT_DEV void qb_produce(const fp4rt_qparams &p, const qb_tiling &t,
                          char *stages, fp4rt_u64 *full, fp4rt_u64 *empty)
{
    const fp4rt_u32 nstages = QB_STAGES(ADAPT);
    int lane = threadIdx.x & (FP4RT_WARP - 1);
    const char *in = (const char *)p.input;
    fp4rt_u32 k = 0;
    for (;; k++) {
        fp4rt_u32 s = k % nstages, round = k / nstages;
        if (round > 0) {
            mbar_wait(&empty[s], (round - 1) & 1u);
            qb_store<OCT>(p, t, qb_stage_ticket[s], s);
        }
        fp4rt_u32 ticket = qb_take_ticket(p);
        __syncwarp();
        if (ticket >= t.tiles) {
            if (lane == 0) {
                qb_stage_ticket[s] = QB_DONE;
                mbar_arrive_at(fp4rt_smem_addr(&full[s]));
                if (ticket - t.tiles == gridDim.x - 1)
                    *(volatile unsigned *)p.tile_counter = 0u;
            }
            break;
        }
        if (lane == 0)
            qb_stage_ticket[s] = ticket;
        char *stage = stages + (size_t)s * FP4RT_QB_TILE_BYTES;
        if (OCT) {
            qb_copy_octet(p, t, qb_ticket_octet(p, t, ticket), stage,
                          &full[s]);
            continue;
        }
        fp4rt_u32 tile = qb_ticket_tile(p, t, ticket);
        fp4rt_u32 n = qb_tile_blocks(t, tile);
        fp4rt_i64 g0 = (fp4rt_i64)tile * QB_TILE_BLOCKS;
        __syncwarp();
        if (lane == 0)
            mbar_expect_tx(&full[s], n * QB_BLOCK_BYTES);
        __syncwarp();
        if (t.contiguous) {
            if (lane == 0)
                bulk_copy(stage, in + g0 * QB_BLOCK_BYTES,
                          n * QB_BLOCK_BYTES, &full[s]);
            continue;
        }
        fp4rt_i64 row = g0 / p.kb + lane;
        for (;; row += FP4RT_WARP) {
            fp4rt_i64 a = row * p.kb, b = a + p.kb;
            a = a > g0 ? a : g0;
            b = b < g0 + n ? b : g0 + n;
            if (a >= b)
                break;
            const char *src = in + (row * p.in_stride +
                                    (a - row * p.kb) * FP4RT_SF_VEC) *
                                       FP4RT_ELEM_BYTES;
            bulk_copy(stage + (a - g0) * QB_BLOCK_BYTES, src,
                      (fp4rt_u32)(b - a) * QB_BLOCK_BYTES, &full[s]);
        }
    }
    /* Stage k % nstages holds QB_DONE; those of tiles k - nstages + 1 ..
     * k - 1 still hold scales (tile k - nstages's were stored above). */
    __syncwarp();
    for (fp4rt_u32 j = k >= nstages ? k - nstages + 1 : 0; j < k; j++) {
        fp4rt_u32 s = j % nstages;
        mbar_wait(&empty[s], (j / nstages) & 1u);
        qb_store<OCT>(p, t, qb_stage_ticket[s], s);
    }
}

/* One block from shared memory (a 32-bit shared address, so that the
 * loop keeps no generic pointer into the window). */
FP4RT_DEV fp4rt_raw16 qb_load(fp4rt_u32 at)
{
    fp4rt_raw16 r;
#pragma unroll
    for (int v = 0; v < FP4RT_RAW_VECS; v++)
        asm volatile("ld.shared.v4.u32 {%0, %1, %2, %3}, [%4];"
                     : "=r"(r.v[v].x), "=r"(r.v[v].y), "=r"(r.v[v].z),
                       "=r"(r.v[v].w)
                     : "r"(at + 16 * v));
    return r;
}

/* The encode scale of each scale code under the launch's S_dec (plain
 * kernel). */
__shared__ float qb_enc_table[128];

/* The encode scales from the table (at shared address addr). */
struct qb_enc_lookup {
    fp4rt_u32 addr;
    __device__ explicit qb_enc_lookup(fp4rt_u32 a) : addr(a) {}
    __device__ float operator()(fp4rt_u32 sf) const
    {
        float enc;
        asm("ld.shared.f32 %0, [%1];"
            : "=f"(enc) : "r"(addr + 4 * (sf & 0x7Fu)));
        return enc;
    }
};

/* Quantizes one block into its 8 code bytes (global) and its scale byte
 * (shared, scale_at). */
template <bool ADAPT>
FP4RT_DEV void qb_block(const fp4rt_qparams &p, const fp4rt_raw16 &raw,
                        fp4rt_u8 *code_at, fp4rt_u32 scale_at,
                        float s_enc6, float s_dec, fp4rt_u32 table, int count,
                        fp4rt_u32 *nonfinite)
{
    fp4rt_u32 sf = quant_raw_block<ADAPT>(p, raw, code_at, 0, s_enc6, s_dec,
                                          qb_enc_lookup(table), count,
                                          nonfinite);
    asm volatile("st.shared.u8 [%0], %1;" :: "r"(scale_at), "r"(sf)
                 : "memory");
}

/*
 * In octet tiles (swizzled scales) the plain kernel's pairs round blocks
 * whose |x * enc| stay below 7 (every block with a normal scale code
 * below 448) with fp4rt_magnitudes8_below7, the others with
 * fp4rt_magnitudes8.  16384 x 7168, the same machine alternated: H200
 * swizzled 83.4-83.7 -> 81.3-81.8 us idle, 79.6 -> 77.2-77.3 back to
 * back, per-tensor swizzled 135.0-135.7 -> 130.7-131.8; H100 swizzled
 * 109.9-110.4 -> 109.4.  In flat tiles (linear scales) it ran 0.5-1.3%
 * slower back to back (the ALU pipe's count is unchanged), so they keep
 * the least count.  0 turns it off.
 */
#ifndef FP4RT_QB_BELOW7
#define FP4RT_QB_BELOW7 1
#endif

/* A finite block's scale code and codes without 4over6, as
 * fp4rt_block_quantize_enc gives them, in a straight line: scale code 0
 * (codes 0) is a mask, not a branch. */
template <bool BELOW7>
FP4RT_DEV fp4rt_u32 qb_finite_block(const float x[FP4RT_SF_VEC], float vmax,
                                    float s_enc6, const qb_enc_lookup &enc,
                                    fp4rt_u32 c[2])
{
    fp4rt_u32 sf = fp4rt_e4m3(vmax * s_enc6);
    float e = enc(sf);
    fp4rt_u32 keep = sf ? 0xFFFFFFFFu : 0u;
#if !FP4RT_HAS_E2M1_CVT
    if (BELOW7 && vmax * e < FP4RT_E2M1_ROUND_BELOW) {
        c[0] = fp4rt_magnitudes8_below7(x, e) | fp4rt_sign_nibbles8(x);
        c[1] = fp4rt_magnitudes8_below7(x + 8, e) |
               fp4rt_sign_nibbles8(x + 8);
    } else
#endif
        fp4rt_block_codes_scaled(x, e, 1, c);
    c[0] &= keep;
    c[1] &= keep;
    return sf;
}

/*
 * Blocks j and j + GAP of a stage (at and at + GAP blocks), without
 * 4over6.  When both are finite (nearly always) they go through one
 * straight line of code, so that a warp has two independent chains of
 * work to issue from; otherwise each goes through qb_block.
 * One block at a time, the 16 consumer warps of a multiprocessor left
 * its issue slots idle a third of the time (Nsight Compute, H200,
 * 16384 x 7168: 5.6 cycles a warp between instructions); in pairs the
 * GPU time of a linear 16384 x 7168 run went from 80.7-81.3 to 79.5-79.7
 * us, of 8192 x 4096 from 29.5 to 28.8-29.2 us.
 */
template <fp4rt_u32 GAP>
FP4RT_DEV void qb_pair(const fp4rt_qparams &p, fp4rt_u32 at,
                       fp4rt_u8 *code_at, fp4rt_u32 scale_at, float s_enc6,
                       float s_dec, fp4rt_u32 table, int count,
                       fp4rt_u32 *nonfinite)
{
    const fp4rt_u32 next = GAP * QB_BLOCK_BYTES;
    fp4rt_u8 *code_next = code_at + GAP * (FP4RT_SF_VEC / 2);
    fp4rt_raw16 r0 = qb_load(at), r1 = qb_load(at + next);
    float x0[FP4RT_SF_VEC], x1[FP4RT_SF_VEC];
    int f0, f1;
    fp4rt_unpack16(r0, x0);
    fp4rt_unpack16(r1, x1);
    float m0 = fp4rt_raw_vmax(r0, x0, &f0);
    float m1 = fp4rt_raw_vmax(r1, x1, &f1);
    if (f0 & f1) {
        qb_enc_lookup enc(table);
        fp4rt_u32 c0[2], c1[2];
        /* octet tiles (swizzled scales): see FP4RT_QB_BELOW7 */
        const bool below7 = FP4RT_QB_BELOW7 && GAP == FP4RT_WARP;
        fp4rt_u32 sf0 = qb_finite_block<below7>(x0, m0, s_enc6, enc, c0);
        fp4rt_u32 sf1 = qb_finite_block<below7>(x1, m1, s_enc6, enc, c1);
        *(uint2 *)code_at = make_uint2(c0[0], c0[1]);
        *(uint2 *)code_next = make_uint2(c1[0], c1[1]);
        asm volatile("st.shared.u8 [%0], %1;" :: "r"(scale_at), "r"(sf0)
                     : "memory");
        asm volatile("st.shared.u8 [%0], %1;"
                     :: "r"(scale_at + GAP), "r"(sf1) : "memory");
        return;
    }
    qb_block<false>(p, r0, code_at, scale_at, s_enc6, s_dec, table, count,
                    nonfinite);
    qb_block<false>(p, r1, code_next, scale_at + GAP, s_enc6, s_dec, table,
                    count, nonfinite);
}

#ifndef FP4RT_QB_PAIRS
#define FP4RT_QB_PAIRS 1
#endif

#if QB_CONSUMERS != QB_OCT_ROWS * FP4RT_WARP
#error "an octet tile gives each consumer warp one row"
#endif

/* Blocks j, j + GAP, ... below n of a run of blocks of a stage whose block
 * 0 is at shared address at, its codes at code_at, its scale bytes at
 * shared address scale_at (two at a time without 4over6). */
template <bool ADAPT, fp4rt_u32 GAP>
FP4RT_DEV void qb_run(const fp4rt_qparams &p, fp4rt_u32 at, fp4rt_u8 *code_at,
                      fp4rt_u32 scale_at, fp4rt_u32 j, fp4rt_u32 n,
                      float s_enc6, float s_dec, fp4rt_u32 table, int count,
                      fp4rt_u32 *nonfinite)
{
    code_at += j * (FP4RT_SF_VEC / 2);
    if (!ADAPT && FP4RT_QB_PAIRS) {
        for (; j + GAP < n; j += 2 * GAP) {
            qb_pair<GAP>(p, at + j * QB_BLOCK_BYTES, code_at, scale_at + j,
                         s_enc6, s_dec, table, count, nonfinite);
            code_at += 2 * GAP * (FP4RT_SF_VEC / 2);
        }
    }
    for (; j < n; j += GAP) {
        qb_block<ADAPT>(p, qb_load(at + j * QB_BLOCK_BYTES), code_at,
                        scale_at + j, s_enc6, s_dec, table, count, nonfinite);
        code_at += GAP * (FP4RT_SF_VEC / 2);
    }
}

/* The consumer warps.  Flat tiles: thread c takes blocks c, c +
 * QB_CONSUMERS, ... of each (the codes follow the blocks' row-major
 * order).  Octet tiles: warp w takes slot w's row, lane l its blocks l, l
 * + 32, ...
 *
 * Before tickets (every gridDim.x-th tile a thread block), H200, 16384 x
 * 7168: with the quantization taken out (each block's bytes stored as its
 * codes and scale) the same ring ran at 92-93% of the copy ceiling idle,
 * 94-95% queued, against 85-87% and 88-90%; Nsight Compute counted 229
 * instructions a block (linear; 214 swizzled, 7 an element) and 68% of
 * the issue slots busy, against 12%.  The arithmetic made the younger
 * thread block of each multiprocessor fall behind (see the tickets);
 * freeing each stage before its blocks are quantized (a thread's blocks
 * of a stage loaded into registers first, scale bytes stored straight to
 * the layout) did not help: linear 1% slower, swizzled 3-6%. */
template <bool ADAPT, bool OCT>
FP4RT_DEV void qb_consume(const fp4rt_qparams &p, const qb_tiling &t,
                          const char *stages, fp4rt_u64 *full,
                          fp4rt_u64 *empty, float s_enc)
{
    fp4rt_u32 c = threadIdx.x;
    float s_enc6 = s_enc * FP4RT_ONE_SIXTH, s_dec = 1.0f / s_enc;
    int count = p.nonfinite != 0;
    fp4rt_u8 *codes = (fp4rt_u8 *)p.codes;
    fp4rt_u32 ring = fp4rt_smem_addr(stages);
    fp4rt_u32 table = fp4rt_smem_addr(qb_enc_table);
    fp4rt_u32 sbuf = fp4rt_smem_addr(qb_scale_buf);
    fp4rt_u32 full_at = fp4rt_smem_addr(full);
    fp4rt_u32 empty_at = fp4rt_smem_addr(empty);
    fp4rt_u32 nonfinite = 0;
    const fp4rt_u32 nstages = QB_STAGES(ADAPT);
    for (fp4rt_u32 k = 0;; k++) {
        fp4rt_u32 s = k % nstages;
        fp4rt_u32 stage = ring + s * FP4RT_QB_TILE_BYTES;
        fp4rt_u32 scale_at = sbuf + s * QB_TILE_BLOCKS;
        mbar_wait_at(full_at + sizeof(fp4rt_u64) * s, (k / nstages) & 1u);
        fp4rt_u32 ticket = *(volatile fp4rt_u32 *)&qb_stage_ticket[s];
        if (ticket == QB_DONE)
            break;
        if (OCT) {
            qb_octet o = qb_ticket_octet(p, t, ticket);
            fp4rt_u32 w = c / FP4RT_WARP;
            fp4rt_i64 row = qb_slot_row(o, (int)w);
            fp4rt_u32 n = row < t.rows ? o.width : 0;
            qb_run<ADAPT, FP4RT_WARP>(
                p, stage + w * (QB_OCT_COLS * QB_BLOCK_BYTES),
                codes + (row * p.kb + o.cb0) * (FP4RT_SF_VEC / 2),
                scale_at + w * QB_OCT_COLS, c & (FP4RT_WARP - 1), n, s_enc6,
                s_dec, table, count, &nonfinite);
        } else {
            fp4rt_u32 tile = qb_ticket_tile(p, t, ticket);
            fp4rt_u32 n = qb_tile_blocks(t, tile);
            qb_run<ADAPT, QB_CONSUMERS>(
                p, stage,
                codes + (fp4rt_i64)tile * QB_TILE_BLOCKS * (FP4RT_SF_VEC / 2),
                scale_at, c, n, s_enc6, s_dec, table, count, &nonfinite);
        }
        /* Every consumer arrives itself: its scale bytes are then ordered
         * before the producer's reads by the barrier alone. */
        mbar_arrive_at(empty_at + sizeof(fp4rt_u64) * s);
    }
    fp4rt_count_nonfinite(p, nonfinite);
}

/* The ring's barriers, set up by quant1d_bulk. */
template <bool ADAPT, bool OCT>
FP4RT_DEV void quant1d_bulk_tiles(const fp4rt_qparams &p, const qb_tiling &t,
                                  char *smem, fp4rt_u64 *full,
                                  fp4rt_u64 *empty)
{
    if (threadIdx.x >= QB_CONSUMERS) {
        qb_produce<ADAPT, OCT>(p, t, smem, full, empty);
        return;
    }
    /* The consumers fill the table while the first copies fly. */
    float s_enc = *(const float *)p.global_enc;
    if (threadIdx.x < 128) {
        fp4rt_u32 sf = threadIdx.x;
        qb_enc_table[sf] = sf ? fp4rt_block_enc(sf, 1.0f / s_enc) : 0.0f;
    }
    asm volatile("bar.sync 1, %0;" :: "n"(QB_CONSUMERS) : "memory");
    qb_consume<ADAPT, OCT>(p, t, smem, full, empty, s_enc);
    if (!OCT)               /* octet tiles hold the padding rows */
        fp4rt_zero_pad_rows(p, t.rows, (fp4rt_i64)blockIdx.x * QB_CONSUMERS +
                                        threadIdx.x,
                            (fp4rt_i64)gridDim.x * QB_CONSUMERS);
}

/* The flat and the octet tiles are two instances: one code for both ran
 * linear runs 1.5% slower (16384 x 7168) and 4over6 MSE 1.7%. */
template <bool ADAPT>
FP4RT_DEV void quant1d_bulk(const fp4rt_qparams &p)
{
    extern __shared__ __align__(128) char qb_smem[];
    __shared__ __align__(8) fp4rt_u64 full[QB_STAGES(ADAPT)];
    __shared__ __align__(8) fp4rt_u64 empty[QB_STAGES(ADAPT)];
    if (threadIdx.x < QB_STAGES(ADAPT)) {
        mbar_init(&full[threadIdx.x], 1);
        mbar_init(&empty[threadIdx.x], QB_CONSUMERS);
    }
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
    __syncthreads();
    /* Right behind this run's amax pass (p.after_amax), whose thread
     * blocks let this grid launch only once past their own wait, the
     * grid before the pass has finished: the input, the row count and
     * the ticket counter (left at 0 by the run before) are then final,
     * and only S_enc, which the consumers read, is still being written.
     * So the producer warp takes its tickets and copies its first tiles
     * while the amax pass ends; the consumers wait for it as usual. */
    if (!p.after_amax || threadIdx.x < QB_CONSUMERS)
        fp4rt_grid_enter();
    qb_tiling t = qb_tiles(p);
    if (t.octets)
        quant1d_bulk_tiles<ADAPT, true>(p, t, qb_smem, full, empty);
    else
        quant1d_bulk_tiles<ADAPT, false>(p, t, qb_smem, full, empty);
}

#define QB_ENTRY(name, adapt, min_blocks)                                   \
    extern "C" __global__ void                                              \
    __launch_bounds__(QB_CONSUMERS + FP4RT_WARP, min_blocks)                \
    name(const fp4rt_qparams p)                                             \
    {                                                                       \
        quant1d_bulk<adapt>(p);                                             \
    }
#else
/* Before sm_90 the entries exist (every module has every entry) but are
 * never launched. */
#define QB_ENTRY(name, adapt, min_blocks)                                   \
    extern "C" __global__ void name(const fp4rt_qparams p) { (void)p; }
#endif

/*
 * Thread blocks a multiprocessor (FP4RT_QB_STAGES_FOR gives the ring):
 * the plain kernel two, with 3 stages of 32 KiB, 64 KiB of copies in
 * flight a thread block, as memory bandwidth holds it; the 4over6 kernel
 * three, 27 warps, with 2 stages and at most 72 registers a thread (no
 * spills on any target).  With two thread blocks 4over6 issued from too
 * few warps: H200, 16384 x 7168 swizzled, MAE 142.6 -> 135.2 us and MSE
 * 147.8 -> 139.5 us with three.  Three for the plain kernel too left the
 * H200's times as they were, and the H100's swizzled run (memory-bound
 * there) 1-2% slower.
 */
#ifndef FP4RT_QB_MIN_BLOCKS
#define FP4RT_QB_MIN_BLOCKS 2
#endif
#ifndef FP4RT_QB_4O6_MIN_BLOCKS
#define FP4RT_QB_4O6_MIN_BLOCKS 3
#endif

QB_ENTRY(fp4rt_quant1d_bulk, false, FP4RT_QB_MIN_BLOCKS)
QB_ENTRY(fp4rt_quant1d_bulk_4o6, true, FP4RT_QB_4O6_MIN_BLOCKS)

#endif /* FP4RT_QUANT_BULK_CUH */
