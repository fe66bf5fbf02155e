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
 * Layouts: V[ξ][c][t] (ξ the 6×6 domain index, c the input channel, t a tile of the chunk; ξ planes `vPlane` apart); U in the order the op's
 * product step reads it, 4 lanes (whatever the op makes them) per channel; M[t][ξ][lane of RECORD].
 */

/**
 * The sizes, as a const enum so that tsc writes the numbers themselves into the loops: V8 reads a module's `const`
 * from its context, with a check that it is initialized, every time a loop uses it (measured: the product step
 * 1.05–1.15× faster with numbers, the transforms and stores 1.03–1.07× more).
 */
export const enum Dim {
  /** Output positions a tile covers per side. */
  TILE = 4,
  /** Its input patch per side: tile + 3 − 1. */
  PATCH = 6,
  /** Size of the transformed domain, ξ = 0 … 35. */
  XI = PATCH * PATCH,
  /** Output lanes of a packed block: the product step's micro-kernel is written for exactly 4. */
  LANES = 4,
  /** Tiles the product step takes together: 4 lanes × 3 tiles = 12 accumulators (V8 keeps about half in registers). */
  TILE_GROUP = 3,
  /** Tiles of a row transformed per pass, a multiple of TILE_GROUP: V (36 · channels · 12 doubles) stays in L2. */
  CHUNK = 12,
  /**
   * Doubles of M per (tile, ξ): room for 4 output channels × 4 lanes, what a transposed convolution's block of 4
   * channels' phases needs (a convolution uses the first 4).
   */
  RECORD = 16,
}

/**
 * Doubles between V's ξ planes: a chunk's `channels` × CHUNK, and one cache line more. Without it a plane was 6, 12
 * or 24 KB (64, 128 or 4 · 64 channels), a multiple of 2 or 4 KB, so a tile's 36 values of V fell in 1–2 of the
 * 64 sets of a 32 KB L1 and evicted each other before the next tiles filled the rest of their lines.
 */
export const vPlane = (channels: number): number => (channels * Dim.CHUNK + 8) | 0;

/** Scratch doubles for one op: V for a chunk of `channels`, M of a chunk, a patch, Aᵀ·M. */
export const scratchLength = (channels: number): number => Dim.XI * vPlane(channels) + Dim.CHUNK * Dim.XI * Dim.RECORD + Dim.XI + 4 * Dim.PATCH;

export interface Scratch { v: Float64Array; m: Float64Array; patch: Float64Array; rows: Float64Array }

export function splitScratch(scratch: Float64Array, channels: number): Scratch {
  let at = 0;
  const take = (n: number): Float64Array => scratch.subarray(at, (at += n));
  return { v: take(Dim.XI * vPlane(channels)), m: take(Dim.CHUNK * Dim.XI * Dim.RECORD), patch: take(Dim.XI), rows: take(4 * Dim.PATCH) };
}

/**
 * Where U is zero. A 5×5 kernel's stride-2 phases are 3×3 kernels with a tap of 5 (a zero row or column) when
 * their phase bit is 1: at g's first row (a transposed convolution's) or last (a convolution's polyphase
 * components). G's first row is (1/4, 0, 0) and its last (0, 0, 1), so U = G·g·Gᵀ is then ±0 in the whole first
 * or last row of the 6×6 domain (columns alike), exactly: 23 of the 4 phases' 144 values. The product step skips
 * them, which changes no bit: a sum that starts at +0 never holds −0, and adding ±0 to anything else leaves it.
 * `zeroAt`: the domain row (and column) where a phase with that bit has zeros, 0 or PATCH − 1.
 */
export function phaseKept(xi: number, phase: number, zeroAt: number): boolean {
  const row = (xi / Dim.PATCH) | 0, col = xi % Dim.PATCH;
  return !((phase & 2) && row === zeroAt) && !((phase & 1) && col === zeroAt);
}

/** Tiles with outputs in [first, last] (whole-image positions), aligned to the whole image: the first tile's start. */
export const alignedStart = (first: number): number => (Math.floor(first / Dim.TILE) * Dim.TILE) | 0;

/**
 * U = G·g·Gᵀ of a 3×3 kernel g (row-major in g[0 … 8]) into packed[at + ξ·stride], ξ = 0 … 35, rounded to
 * float32 by the store. `gg` is 18 doubles of scratch. The simple form, which defines U: the tests' plain Winograd
 * runs it; the packs run `transformTaps`, the same operations in locals.
 */
export function transformKernel(packed: Float32Array, at: number, stride: number, g: Float64Array, gg: Float64Array): void {
  // G·g (6×3), column by column
  for (let c = 0; c < 3; c++) timesG(gg, c, 3, g[c], g[3 + c], g[6 + c]);
  // (G·g)·Gᵀ, row by row
  for (let r = 0; r < Dim.PATCH; r++) timesG(packed, at + r * Dim.PATCH * stride, stride, gg[r * 3], gg[r * 3 + 1], gg[r * 3 + 2]);
}

/**
 * `transformKernel` of several 3×3 kernels cut from one 5×5 kernel w[wAt … wAt + 24], with the same operations in
 * the same order (the same bits), in locals: the load-time packing of a whole model (≈ 10⁵ kernels) ran 5–10× slower
 * through the generic form, most of a cold start's first decode. Kernel p's element (r, c) is w[wAt + taps[9p + 3r + c]],
 * a +0 where that is −1; its U goes to packed[at + p·kernelStep + ξ·stride].
 */
export function transformTaps(packed: Float32Array, at: number, kernelStep: number, stride: number, w: Float32Array,
  wAt: number, taps: Int8Array): void {
  for (let p = 0, t = 0; t < taps.length; p++, t += 9) {
    const g0 = tap(w, wAt, taps[t]), g1 = tap(w, wAt, taps[t + 1]), g2 = tap(w, wAt, taps[t + 2]);
    const g3 = tap(w, wAt, taps[t + 3]), g4 = tap(w, wAt, taps[t + 4]), g5 = tap(w, wAt, taps[t + 5]);
    const g6 = tap(w, wAt, taps[t + 6]), g7 = tap(w, wAt, taps[t + 7]), g8 = tap(w, wAt, taps[t + 8]);
    // G·g: column c is (g_c, g_{3+c}, g_{6+c}); entry (r, c) is row r of timesG's six
    const a0 = g0 / 4, a1 = -(g0 + g3 + g6) / 6, a2 = -(g0 - g3 + g6) / 6;
    const a3 = g0 / 24 + g3 / 12 + g6 / 6, a4 = g0 / 24 - g3 / 12 + g6 / 6, a5 = g6;
    const b0 = g1 / 4, b1 = -(g1 + g4 + g7) / 6, b2 = -(g1 - g4 + g7) / 6;
    const b3 = g1 / 24 + g4 / 12 + g7 / 6, b4 = g1 / 24 - g4 / 12 + g7 / 6, b5 = g7;
    const c0 = g2 / 4, c1 = -(g2 + g5 + g8) / 6, c2 = -(g2 - g5 + g8) / 6;
    const c3 = g2 / 24 + g5 / 12 + g8 / 6, c4 = g2 / 24 - g5 / 12 + g8 / 6, c5 = g8;
    // (G·g)·Gᵀ, row by row
    const to = at + p * kernelStep, row = Dim.PATCH * stride;
    timesG(packed, to, stride, a0, b0, c0);
    timesG(packed, to + row, stride, a1, b1, c1);
    timesG(packed, to + 2 * row, stride, a2, b2, c2);
    timesG(packed, to + 3 * row, stride, a3, b3, c3);
    timesG(packed, to + 4 * row, stride, a4, b4, c4);
    timesG(packed, to + 5 * row, stride, a5, b5, c5);
  }
}

const tap = (w: Float32Array, wAt: number, i: number): number => (i < 0 ? 0 : w[wAt + i]);

/**
 * `transformTaps`' table for 3×3 kernels (one per phase, phase = 2·py + px) whose element (r, c) is the 5×5 kernel's
 * (ky, kx) = tapOf(py, r), tapOf(px, c); −1 where that is outside 0 … 4.
 */
export function tapTable(tapOf: (parity: number, i: number) => number): Int8Array {
  const taps = new Int8Array(36);
  for (let phase = 0; phase < 4; phase++) {
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        const ky = tapOf(phase >> 1, r), kx = tapOf(phase & 1, c);
        taps[phase * 9 + r * 3 + c] = ky >= 0 && ky < 5 && kx >= 0 && kx < 5 ? ky * 5 + kx : -1;
      }
    }
  }
  return taps;
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
  for (let col = 0; col < Dim.PATCH; col++) {
    const d0 = d[col], d1 = d[6 + col], d2 = d[12 + col], d3 = d[18 + col], d4 = d[24 + col], d5 = d[30 + col];
    d[col] = 4 * d0 - 5 * d2 + d4;
    d[6 + col] = -4 * d1 - 4 * d2 + d3 + d4;
    d[12 + col] = 4 * d1 - 4 * d2 - d3 + d4;
    d[18 + col] = -2 * d1 - d2 + 2 * d3 + d4;
    d[24 + col] = 2 * d1 - d2 - 2 * d3 + d4;
    d[30 + col] = 4 * d1 - 5 * d3 + d5;
  }
  rowsTimesB(v, d, channels, c, t);
}

/**
 * `loadPatch` then `transformPatch` for tiles 0 … count − 1 of one input channel along a row (patches at columns left,
 * left + 4, …; step 1), with the same bits. A patch inside x goes down its columns straight from x (the same six sums as
 * transformPatch's, written out again: a helper taking the doubles would box them), and its first two columns are the
 * previous tile's last two, already transformed in d: a tile transforms 4 columns, not 6, and copies no patch
 * (tconv 64→3 1.05–1.10× faster from x alone).
 */
export function transformInputTiles(v: Float64Array, d: Float64Array, x: Float32Array, plane: number, inH: number, inW: number,
  top: number, left: number, count: number, channels: number, c: number): void {
  const rowsInside = top >= 0 && top + Dim.PATCH - 1 < inH;
  for (let t = 0; t < count; t++) {
    const l = left + t * Dim.TILE;
    if (!(rowsInside && l >= 0 && l + Dim.PATCH - 1 < inW)) {
      loadPatch(d, x, plane, inH, inW, top, l, 1);
      transformPatch(v, d, channels, c, t);
      continue;
    }
    let first = 0;
    if (t > 0) {
      // d holds tile t − 1's transformed columns (either path): its columns 4, 5 are this tile's 0, 1
      for (let o = 0; o < Dim.XI; o += Dim.PATCH) {
        d[o] = d[o + 4];
        d[o + 1] = d[o + 5];
      }
      first = 2;
    }
    for (let col = first, at = plane + top * inW + l + first; col < Dim.PATCH; col++, at++) {
      const d0 = x[at], d1 = x[at + inW], d2 = x[at + 2 * inW], d3 = x[at + 3 * inW], d4 = x[at + 4 * inW], d5 = x[at + 5 * inW];
      d[col] = 4 * d0 - 5 * d2 + d4;
      d[6 + col] = -4 * d1 - 4 * d2 + d3 + d4;
      d[12 + col] = 4 * d1 - 4 * d2 - d3 + d4;
      d[18 + col] = -2 * d1 - d2 + 2 * d3 + d4;
      d[24 + col] = 2 * d1 - d2 - 2 * d3 + d4;
      d[30 + col] = 4 * d1 - 5 * d3 + d5;
    }
    rowsTimesB(v, d, channels, c, t);
  }
}

/** V[ξ][c][t] = (Bᵀ·d)·B: B along the rows of the column-transformed patch d. */
function rowsTimesB(v: Float64Array, d: Float64Array, channels: number, c: number, t: number): void {
  const s = vPlane(channels), base = c * Dim.CHUNK + t;
  for (let r = 0; r < Dim.PATCH; r++) {
    const o = r * Dim.PATCH;
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
  const s = vPlane(channels);
  for (let c = 0; c < channels; c++) for (let xi = 0; xi < Dim.XI; xi++) v[xi * s + c * Dim.CHUNK + t] = 0;
}

/**
 * The product step for one ξ and 4 lanes: M[t][ξ][d_lane] = Σ V[ξ][c][t] · u[c][lane] over `n` channels, those at
 * V offsets vAt, vAt + vStep, … (tile 0's), their weights u consecutive from uAt; summed in that order from +0, for
 * tiles 0 … tiles − 1 (a multiple of TILE_GROUP). Each weight load feeds 3 products, each input load 4: 12
 * accumulators (V8 spills some of them; 4 lanes × 2 tiles measured 5–8 % slower). Returns the weights' end.
 */
export function products(m: Float64Array, xi: number, d0: number, d1: number, d2: number, d3: number, v: Float64Array,
  vAt: number, vStep: number, pu: Float32Array, uAt: number, n: number, tiles: number): number {
  xi |= 0; d0 |= 0; d1 |= 0; d2 |= 0; d3 |= 0; vAt |= 0; vStep |= 0; uAt |= 0; n |= 0; tiles |= 0; // see the header
  for (let t = 0; t < tiles; t += Dim.TILE_GROUP) {
    let a00 = 0, a01 = 0, a02 = 0, a10 = 0, a11 = 0, a12 = 0, a20 = 0, a21 = 0, a22 = 0, a30 = 0, a31 = 0, a32 = 0;
    let vi = vAt + t, ui = uAt;
    for (let c = 0; c < n; c++, vi += vStep, ui += Dim.LANES) {
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
    let o = (t * Dim.XI + xi) * Dim.RECORD;
    m[o + d0] = a00; m[o + d1] = a10; m[o + d2] = a20; m[o + d3] = a30;
    o += Dim.XI * Dim.RECORD;
    m[o + d0] = a01; m[o + d1] = a11; m[o + d2] = a21; m[o + d3] = a31;
    o += Dim.XI * Dim.RECORD;
    m[o + d0] = a02; m[o + d1] = a12; m[o + d2] = a22; m[o + d3] = a32;
  }
  return uAt + n * Dim.LANES;
}

/**
 * `products` over `n` pairs of channels, at V offsets vAt and vAt + vPair, then each + vStep, …: the two polyphase
 * components of an input channel whose U is not zero at this ξ, summed in channel order.
 */
export function productsPaired(m: Float64Array, xi: number, d0: number, d1: number, d2: number, d3: number, v: Float64Array,
  vAt: number, vPair: number, vStep: number, pu: Float32Array, uAt: number, n: number, tiles: number): number {
  xi |= 0; d0 |= 0; d1 |= 0; d2 |= 0; d3 |= 0; vAt |= 0; vPair |= 0; vStep |= 0; uAt |= 0; n |= 0; tiles |= 0;
  for (let t = 0; t < tiles; t += Dim.TILE_GROUP) {
    let a00 = 0, a01 = 0, a02 = 0, a10 = 0, a11 = 0, a12 = 0, a20 = 0, a21 = 0, a22 = 0, a30 = 0, a31 = 0, a32 = 0;
    let vi = vAt + t, ui = uAt;
    for (let c = 0; c < n; c++, vi += vStep, ui += 2 * Dim.LANES) {
      let v0 = v[vi], v1 = v[vi + 1], v2 = v[vi + 2];
      let u = pu[ui];
      a00 += v0 * u; a01 += v1 * u; a02 += v2 * u;
      u = pu[ui + 1];
      a10 += v0 * u; a11 += v1 * u; a12 += v2 * u;
      u = pu[ui + 2];
      a20 += v0 * u; a21 += v1 * u; a22 += v2 * u;
      u = pu[ui + 3];
      a30 += v0 * u; a31 += v1 * u; a32 += v2 * u;
      const vj = vi + vPair;
      v0 = v[vj]; v1 = v[vj + 1]; v2 = v[vj + 2];
      u = pu[ui + 4];
      a00 += v0 * u; a01 += v1 * u; a02 += v2 * u;
      u = pu[ui + 5];
      a10 += v0 * u; a11 += v1 * u; a12 += v2 * u;
      u = pu[ui + 6];
      a20 += v0 * u; a21 += v1 * u; a22 += v2 * u;
      u = pu[ui + 7];
      a30 += v0 * u; a31 += v1 * u; a32 += v2 * u;
    }
    let o = (t * Dim.XI + xi) * Dim.RECORD;
    m[o + d0] = a00; m[o + d1] = a10; m[o + d2] = a20; m[o + d3] = a30;
    o += Dim.XI * Dim.RECORD;
    m[o + d0] = a01; m[o + d1] = a11; m[o + d2] = a21; m[o + d3] = a31;
    o += Dim.XI * Dim.RECORD;
    m[o + d0] = a02; m[o + d1] = a12; m[o + d2] = a22; m[o + d3] = a32;
  }
  return uAt + 2 * n * Dim.LANES;
}

/** rows[i][c] = (Aᵀ·M)[i][c] for tile t, M's lane `lane` (4×6): Aᵀ down the columns. Row i of Y is then `outputRow`. */
export function transformOutput(rows: Float64Array, m: Float64Array, t: number, lane: number): void {
  const base = t * Dim.XI * Dim.RECORD + lane, s = Dim.PATCH * Dim.RECORD;
  for (let c = 0; c < Dim.PATCH; c++) {
    const at = base + c * Dim.RECORD;
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
  const o = i * Dim.PATCH;
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
  const span = step * (Dim.PATCH - 1);
  if (top >= 0 && top + span < inH && left >= 0 && left + span < inW) {
    for (let r = 0; r < Dim.PATCH; r++) {
      const row = plane + (top + step * r) * inW + left;
      for (let c = 0; c < Dim.PATCH; c++) d[r * Dim.PATCH + c] = x[row + step * c];
    }
    return;
  }
  for (let r = 0; r < Dim.PATCH; r++) {
    const iy = top + step * r;
    for (let c = 0; c < Dim.PATCH; c++) {
      const ix = left + step * c;
      d[r * Dim.PATCH + c] = iy >= 0 && iy < inH && ix >= 0 && ix < inW ? x[plane + iy * inW + ix] : 0;
    }
  }
}
