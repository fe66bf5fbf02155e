/**
 * Winograd minimal filtering F(4×4, 3×3) (Lavin & Gray 2016), the parts the fast convolutions share: a 3×3
 * correlation over 4×4 output tiles computed as Y = Aᵀ·[Σ_c (G·g_c·Gᵀ) ⊙ (Bᵀ·d_c·B)]·A, with d_c a 6×6 input
 * patch of channel c, g_c its 3×3 kernel, and 36 products per tile and channel instead of 144.
 * transposed-conv2d-winograd.ts and conv2d-winograd.ts map their ops onto it and hold the READ ME FIRST.
 *
 * Determinism: only + − × (and, at load time, ÷ by 4, 6, 24) on doubles, in the order written here, so the
 * same bits on every conforming JS engine; U is rounded to float32 once at load time.
 * Integers (sizes, positions, a window's fields) are taken with | 0 where they enter: V8 passes −0 (Math.floor's) or
 * an object field that once held a double as a heap number, and an optimized kernel that meets one re-optimizes its
 * index arithmetic in doubles for good (measured: a worker's decodes 1.5–1.7× slower after it had run encode tasks).
 * Layouts: V[ξ][c][t] (ξ the 6×6 domain index, c the input channel, t a tile of the chunk), U[ξ][block][c][lane]
 * (4 lanes: whatever the op makes them), M[t][ξ][lane].
 */

/** Output positions a tile covers per side. */
export const TILE = 4;
/** Its input patch per side: tile + 3 − 1. */
export const PATCH = 6;
/** Size of the transformed domain, ξ = 0 … 35. */
export const XI = PATCH * PATCH;
/** Output lanes of a packed block: the product step's micro-kernel is written for exactly 4. */
export const LANES = 4;
/** Tiles the product step takes together: 4 lanes × 3 tiles = 12 accumulators, which fit the registers. */
export const TILE_GROUP = 3;
/** Tiles of a row transformed per pass, a multiple of TILE_GROUP: V (36 · channels · 12 doubles) stays in L2. */
export const CHUNK = 12;

/** Scratch doubles for one op: V for a chunk of `channels`, M of one block, a patch, Aᵀ·M. */
export const scratchLength = (channels: number): number => XI * channels * CHUNK + CHUNK * XI * LANES + XI + 4 * PATCH;

export interface Scratch { v: Float64Array; m: Float64Array; patch: Float64Array; rows: Float64Array }

export function splitScratch(scratch: Float64Array, channels: number): Scratch {
  let at = 0;
  const take = (n: number): Float64Array => scratch.subarray(at, (at += n));
  return { v: take(XI * channels * CHUNK), m: take(CHUNK * XI * LANES), patch: take(XI), rows: take(4 * PATCH) };
}

/** Tiles with outputs in [first, last] (whole-image positions), aligned to the whole image: the first tile's start. */
export const alignedStart = (first: number): number => (Math.floor(first / TILE) * TILE) | 0;

/**
 * U = G·g·Gᵀ of a 3×3 kernel g (row-major in g[0 … 8]) into packed[at + ξ·stride], ξ = 0 … 35, rounded to
 * float32 by the store. `gg` is 18 doubles of scratch.
 */
export function transformKernel(packed: Float32Array, at: number, stride: number, g: Float64Array, gg: Float64Array): void {
  // G·g (6×3), column by column
  for (let c = 0; c < 3; c++) timesG(gg, c, 3, g[c], g[3 + c], g[6 + c]);
  // (G·g)·Gᵀ, row by row
  for (let r = 0; r < PATCH; r++) timesG(packed, at + r * PATCH * stride, stride, gg[r * 3], gg[r * 3 + 1], gg[r * 3 + 2]);
}

/** G·(g0, g1, g2)ᵀ into out[at + i·step], i = 0 … 5 (a Float32Array rounds each on store). */
function timesG(out: Float32Array | Float64Array, at: number, step: number, g0: number, g1: number, g2: number): void {
  out[at] = g0 / 4;
  out[at + step] = -(g0 + g1 + g2) / 6;
  out[at + 2 * step] = -(g0 - g1 + g2) / 6;
  out[at + 3 * step] = g0 / 24 + g1 / 12 + g2 / 6;
  out[at + 4 * step] = g0 / 24 - g1 / 12 + g2 / 6;
  out[at + 5 * step] = g2;
}

/** V[ξ][c][t] = Bᵀ·d·B for the 6×6 patch d (row-major; overwritten): Bᵀ down the columns, then B along the rows. */
export function transformPatch(v: Float64Array, d: Float64Array, channels: number, c: number, t: number): void {
  for (let col = 0; col < PATCH; col++) {
    const d0 = d[col], d1 = d[6 + col], d2 = d[12 + col], d3 = d[18 + col], d4 = d[24 + col], d5 = d[30 + col];
    d[col] = 4 * d0 - 5 * d2 + d4;
    d[6 + col] = -4 * d1 - 4 * d2 + d3 + d4;
    d[12 + col] = 4 * d1 - 4 * d2 - d3 + d4;
    d[18 + col] = -2 * d1 - d2 + 2 * d3 + d4;
    d[24 + col] = 2 * d1 - d2 - 2 * d3 + d4;
    d[30 + col] = 4 * d1 - 5 * d3 + d5;
  }
  const s = channels * CHUNK, base = c * CHUNK + t;
  for (let r = 0; r < PATCH; r++) {
    const o = r * PATCH;
    const d0 = d[o], d1 = d[o + 1], d2 = d[o + 2], d3 = d[o + 3], d4 = d[o + 4], d5 = d[o + 5];
    const at = o * s + base;
    v[at] = 4 * d0 - 5 * d2 + d4;
    v[at + s] = -4 * d1 - 4 * d2 + d3 + d4;
    v[at + 2 * s] = 4 * d1 - 4 * d2 - d3 + d4;
    v[at + 3 * s] = -2 * d1 - d2 + 2 * d3 + d4;
    v[at + 4 * s] = 2 * d1 - d2 - 2 * d3 + d4;
    v[at + 5 * s] = 4 * d1 - 5 * d3 + d5;
  }
}

/** Zeros V of tile t for every channel: the chunk's unused tiles, up to a multiple of TILE_GROUP. */
export function zeroTile(v: Float64Array, channels: number, t: number): void {
  for (let c = 0; c < channels; c++) for (let xi = 0; xi < XI; xi++) v[(xi * channels + c) * CHUNK + t] = 0;
}

/**
 * M[t][ξ][lane] = Σ_c V[ξ][c][t] · U[ξ][block][c][lane], c ascending from 0, for tiles 0 … count − 1 (rounded up
 * to TILE_GROUP): each weight load feeds 3 products, each input load 4.
 */
export function multiply(m: Float64Array, v: Float64Array, pu: Float32Array, channels: number, blocks: number, block: number,
  count: number): void {
  channels |= 0; blocks |= 0; block |= 0; count |= 0; // integers: see the header
  const groups = (Math.ceil(count / TILE_GROUP) * TILE_GROUP) | 0;
  for (let xi = 0; xi < XI; xi++) {
    const vBase = xi * channels * CHUNK;
    const uBase = (xi * blocks + block) * channels * LANES;
    for (let t = 0; t < groups; t += TILE_GROUP) {
      let a00 = 0, a01 = 0, a02 = 0, a10 = 0, a11 = 0, a12 = 0, a20 = 0, a21 = 0, a22 = 0, a30 = 0, a31 = 0, a32 = 0;
      let vi = vBase + t, ui = uBase;
      for (let c = 0; c < channels; c++, vi += CHUNK, ui += LANES) {
        const v0 = v[vi], v1 = v[vi + 1], v2 = v[vi + 2];
        let u = pu[ui];
        a00 += v0 * u; a01 += v1 * u; a02 += v2 * u;
        u = pu[ui + 1];
        a10 += v0 * u; a11 += v1 * u; a12 += v2 * u;
        u = pu[ui + 2];
        a20 += v0 * u; a21 += v1 * u; a22 += v2 * u;
        u = pu[ui + 3];
        a30 += v0 * u; a31 += v1 * u; a32 += v2 * u;
      }
      let o = (t * XI + xi) * LANES;
      m[o] = a00; m[o + 1] = a10; m[o + 2] = a20; m[o + 3] = a30;
      o += XI * LANES;
      m[o] = a01; m[o + 1] = a11; m[o + 2] = a21; m[o + 3] = a31;
      o += XI * LANES;
      m[o] = a02; m[o + 1] = a12; m[o + 2] = a22; m[o + 3] = a32;
    }
  }
}

/** rows[i][c] = (Aᵀ·M)[i][c] for tile t, lane `lane` (4×6): Aᵀ down the columns. Row i of Y is then `outputRow`. */
export function transformOutput(rows: Float64Array, m: Float64Array, t: number, lane: number): void {
  const base = t * XI * LANES + lane, s = PATCH * LANES;
  for (let c = 0; c < PATCH; c++) {
    const at = base + c * LANES;
    const m0 = m[at], m1 = m[at + s], m2 = m[at + 2 * s], m3 = m[at + 3 * s], m4 = m[at + 4 * s], m5 = m[at + 5 * s];
    rows[c] = m0 + m1 + m2 + m3 + m4;
    rows[6 + c] = m1 - m2 + 2 * (m3 - m4);
    rows[12 + c] = m1 + m2 + 4 * (m3 + m4);
    rows[18 + c] = m1 - m2 + 8 * (m3 - m4) + m5;
  }
}

/**
 * Row i of Y = (Aᵀ·M)·A, plus the bias, stored at out[at + j·step] for the j = 0 … 3 with 0 ≤ from + j·step < size
 * (`from` the first one's position in its row).
 */
export function storeOutputRow(out: Float32Array, rows: Float64Array, i: number, bias: number, at: number, step: number,
  from: number, size: number): void {
  const o = i * PATCH;
  const r0 = rows[o], r1 = rows[o + 1], r2 = rows[o + 2], r3 = rows[o + 3], r4 = rows[o + 4], r5 = rows[o + 5];
  const y0 = r0 + r1 + r2 + r3 + r4 + bias;
  const y1 = r1 - r2 + 2 * (r3 - r4) + bias;
  const y2 = r1 + r2 + 4 * (r3 + r4) + bias;
  const y3 = r1 - r2 + 8 * (r3 - r4) + r5 + bias;
  if (from >= 0 && from + 3 * step < size) {
    out[at] = y0; out[at + step] = y1; out[at + 2 * step] = y2; out[at + 3 * step] = y3;
    return;
  }
  if (from >= 0 && from < size) out[at] = y0;
  if (from + step >= 0 && from + step < size) out[at + step] = y1;
  if (from + 2 * step >= 0 && from + 2 * step < size) out[at + 2 * step] = y2;
  if (from + 3 * step >= 0 && from + 3 * step < size) out[at + 3 * step] = y3;
}

/**
 * The 6×6 patch d[r][c] = x[plane + (top + r·step)·inW + left + c·step] (step 1, or 2 for a polyphase component);
 * positions outside x read as zero.
 */
export function loadPatch(d: Float64Array, x: Float32Array, plane: number, inH: number, inW: number, top: number, left: number,
  step: number): void {
  const span = step * (PATCH - 1);
  if (top >= 0 && top + span < inH && left >= 0 && left + span < inW) {
    for (let r = 0; r < PATCH; r++) {
      const row = plane + (top + step * r) * inW + left;
      for (let c = 0; c < PATCH; c++) d[r * PATCH + c] = x[row + step * c];
    }
    return;
  }
  for (let r = 0; r < PATCH; r++) {
    const iy = top + step * r;
    for (let c = 0; c < PATCH; c++) {
      const ix = left + step * c;
      d[r * PATCH + c] = iy >= 0 && iy < inH && ix >= 0 && ix < inW ? x[plane + iy * inW + ix] : 0;
    }
  }
}

/**
 * A 3×3 correlation over `channels` inputs into out [outC, outH, outW], tiles on the whole image's grid (`origin`:
 * the whole output's row and column of out's (0, 0)); lanes are 4 consecutive output channels (U laid out
 * [ξ][block][channel][lane]). `load(patch, c, top, left)` fills channel c's 6×6 patch whose first position is the
 * 3×3 grid's (top, left) in out's coordinates (zeros outside the input).
 */
export function correlateTiles(out: Float32Array, outC: number, outH: number, outW: number, pu: Float32Array, b: Float32Array,
  channels: number, scratch: Float64Array, origin: { y: number; x: number },
  load: (patch: Float64Array, c: number, top: number, left: number) => void): void {
  const blocks = Math.ceil(outC / LANES) | 0;
  const { v, m, patch, rows } = splitScratch(scratch, channels);
  // the first tiles start at or before out's (0, 0), at the whole image's multiples of 4 (| 0: see the header)
  const originY = origin.y | 0, originX = origin.x | 0;
  const top = alignedStart(originY) - originY, left = alignedStart(originX) - originX;
  const tilesAcross = Math.ceil((outW - left) / TILE) | 0;
  const plane = outH * outW;
  for (let oy0 = top; oy0 < outH; oy0 += TILE) {
    for (let t0 = 0; t0 < tilesAcross; t0 += CHUNK) {
      const count = Math.min(CHUNK, tilesAcross - t0);
      const ox0 = left + t0 * TILE;
      for (let t = count; t < Math.ceil(count / TILE_GROUP) * TILE_GROUP; t++) zeroTile(v, channels, t);
      for (let c = 0; c < channels; c++) {
        for (let t = 0; t < count; t++) {
          load(patch, c, oy0 - 1, ox0 + t * TILE - 1);
          transformPatch(v, patch, channels, c, t);
        }
      }
      for (let block = 0; block < blocks; block++) {
        multiply(m, v, pu, channels, blocks, block, count);
        for (let lane = 0; lane < LANES && block * LANES + lane < outC; lane++) {
          const oc = block * LANES + lane;
          for (let t = 0; t < count; t++) {
            transformOutput(rows, m, t, lane);
            const ox = ox0 + t * TILE;
            for (let i = 0; i < TILE && oy0 + i < outH; i++) {
              if (oy0 + i >= 0) storeOutputRow(out, rows, i, b[oc], oc * plane + (oy0 + i) * outW + ox, 1, ox, outW);
            }
          }
        }
      }
    }
  }
}
