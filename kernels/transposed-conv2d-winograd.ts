/**
 * ConvTranspose2d(5, stride 2, padding 2, output_padding 1) by Winograd minimal filtering F(4×4, 3×3)
 * (Lavin & Gray 2016): the same op as transposed-conv2d.ts, with 2.78× fewer multiplies.
 *
 * READ ME FIRST
 * - The op as a 3×3 convolution. Output (2m + a, 2n + b) reads x[m + dy, n + dx], dy, dx ∈ {−1, 0, 1}, with
 *   kernel tap (a + 2 − 2dy, b + 2 − 2dx) (transposed-conv2d.ts); a tap index of 5 does not exist and is a
 *   zero here. So the four phases (a, b) are four "output channels" of one stride-1 3×3 correlation over x:
 *   per input position it does 4 · 9 = 36 products in F(4×4, 3×3)'s 6×6 domain for 16 positions' 4 phases,
 *   2.25 per output instead of the direct form's 25/4 = 6.25.
 * - The phases with a = 1 have no tap at dy = −1 (nor at dx = −1 with b = 1), so their U is zero in the 6×6
 *   domain's first row (column): `phaseKept`. The product step skips those 23 of 144 (2.25 → 1.89 per output, the
 *   same bits): at such a ξ a block's 4 lanes hold the kept phases of 2 (or 4) output channels instead of the 4
 *   phases of one. So channels go in groups of 4 ("quads"); M keeps a quad's 16 (channel, phase) lanes per ξ, and
 *   the skipped ones stay the +0 they start at.
 * - Tiles are aligned to the whole image: a tile covers phase-grid rows and columns 4t … 4t + 3 of the
 *   whole input, whatever window is asked for. Winograd's rounding makes an output depend on every input
 *   of its tile's 6×6 patch (in exact arithmetic it would not), so an output has the same bits in every
 *   window only because its tile, and the patch the tile reads, never move. The caller's x must hold the
 *   whole patch of every tile it touches, clipped to the whole input (`winogradTconvInput`); positions
 *   outside x read as zero, which is right only outside the whole input.
 * - Determinism contract: every product, transform and sum is in doubles, in the order written below
 *   (input transform Bᵀ·d·B down columns then along rows; products summed ic ascending from 0; output
 *   transform Aᵀ·M·A down columns then along rows; then + bias), rounded to float32 once, when stored. Only
 *   + − × on doubles: the same bits on every conforming JS engine. The weights' transform G·g·Gᵀ (divisions
 *   by 4, 6, 24) runs once at load time in doubles and is rounded to float32 (half the memory of doubles,
 *   ≈ 15 MB for the model, measured no slower), also exactly specified.
 * - Not bit-equal to the direct kernels (another summation, U rounded): within ≈ 1e-6 of them (tests: 1e-5
 *   relative to the output's magnitude).
 * - Integers (the dims, the window's fields) are taken with | 0, as kernels/winograd.ts says why: a window built
 *   by other arithmetic (an encode task's) once made this kernel re-optimize its indexes in doubles.
 *
 * The transforms and the product step are kernels/winograd.ts's; the lanes of a packed block are the phases.
 */
import { checkAtLeast, checkLength } from './check.js';
import type { TransposedConv2dDims, TransposedConv2dWindow } from './transposed-conv2d.js';
import { wholeOutput } from './transposed-conv2d.js';
import {
  alignedStart, Dim, phaseKept, products, scratchLength, splitScratch, storeOutputRow, tapTable, transformInputTiles,
  transformOutput, transformTaps, vPlane, zeroTile,
} from './winograd.js';

/**
 * Input rows (or columns) [start, end) of the whole input that outputs `r` of the whole 2H output read,
 * whole tiles included; clip it to [0, H). The decoder's regions use it for every transposed convolution.
 */
export function winogradTconvInput(r: { start: number; end: number }): { start: number; end: number } {
  const first = alignedStart(Math.floor(r.start / 2));
  const last = alignedStart(Math.floor((r.end - 1) / 2));
  return { start: first - 1, end: last + Dim.TILE + 1 };
}

/** Phase (a, b)'s 3×3 kernel: row r is dy = r − 1, kernel row a + 4 − 2r (a 5 is a zero); columns alike. */
const PHASE_TAPS = tapTable((parity, i) => parity + 4 - 2 * i);

/** Output channels per group: a block's 4 lanes at a ξ where only 1 phase is kept are 4 channels'. */
const QUAD = 4;

/**
 * The product step's blocks for a quad of `channels` (1 … 4) output channels: [ξ, d0, d1, d2, d3] per block, in the
 * order the step runs them and U is packed. d = 4·j + phase is lane's (channel j of the quad, phase) in M's record;
 * at ξ, a block holds the kept phases of 4 / kept channels (a j ≥ channels is a zero lane, never read).
 */
function quadPlan(channels: number): Int32Array {
  const plan: number[] = [];
  for (let xi = 0; xi < Dim.XI; xi++) {
    const kept = [0, 1, 2, 3].filter((phase) => phaseKept(xi, phase, 0));
    const perBlock = Dim.LANES / kept.length;
    for (let j0 = 0; j0 < channels; j0 += perBlock) {
      plan.push(xi);
      for (let lane = 0; lane < Dim.LANES; lane++) plan.push(4 * (j0 + Math.floor(lane / kept.length)) + kept[lane % kept.length]);
    }
  }
  return Int32Array.from(plan);
}
/** quadPlan(1 … 4), made once. */
const QUAD_PLANS = [1, 2, 3, 4].map(quadPlan);
const planOf = (channels: number): Int32Array => QUAD_PLANS[Math.min(QUAD, channels) - 1];

/** Length of `packTransposedConv2dWinograd`'s output: U for every block of every quad's plan, inC channels × 4 lanes. */
export function winogradWeightsLength(inC: number, outC: number): number {
  let blocks = 0;
  for (let oc = 0; oc < outC; oc += QUAD) blocks += planOf(outC - oc).length / 5;
  return blocks * inC * Dim.LANES;
}

/** Scratch doubles `transposedConv2dWinograd` needs. */
export const winogradScratchLength = (inC: number): number => scratchLength(inC);

/**
 * U = G·g·Gᵀ of every (ic, oc, phase) from PyTorch's [inC, outC, 5, 5], in the product step's order: quad by quad,
 * the blocks of its plan, each [ic][lane]. Allocates: call once at load time.
 */
export function packTransposedConv2dWinograd(w: Float32Array, d: TransposedConv2dDims): Float32Array {
  const { inC, outC } = d;
  checkLength('packTransposedConv2dWinograd', 'w', w, inC * outC * 25);
  const packed = new Float32Array(winogradWeightsLength(inC, outC));
  // a quad's U, [channel][ξ][ic][phase], then gathered into its blocks: writing far-apart places per kernel
  // (36 stores 16–64 KB apart) took 60–100 ms for the model, most of a cold start's setup
  const quad = new Float32Array(QUAD * Dim.XI * inC * Dim.LANES);
  let at = 0;
  for (let oc0 = 0; oc0 < outC; oc0 += QUAD) {
    const channels = Math.min(QUAD, outC - oc0);
    quad.fill(0);
    for (let j = 0; j < channels; j++) transformChannel(quad, j, w, inC, outC, oc0 + j);
    at = gatherQuad(packed, at, quad, planOf(channels), inC);
  }
  return packed;
}

/** A quad's U gathered into its plan's blocks at packed[at …]; returns the next `at`. */
function gatherQuad(packed: Float32Array, at: number, quad: Float32Array, plan: Int32Array, inC: number): number {
  for (let e = 0; e < plan.length; e += 5) {
    const xi = plan[e];
    at = gatherLanes(packed, at, quad, quadIndex(plan[e + 1], xi, inC), quadIndex(plan[e + 2], xi, inC),
      quadIndex(plan[e + 3], xi, inC), quadIndex(plan[e + 4], xi, inC), inC);
  }
  return at;
}

/** U of output channel oc (the quad's j-th) for every input channel, into the quad's [j][ξ][ic][phase]. */
function transformChannel(quad: Float32Array, j: number, w: Float32Array, inC: number, outC: number, oc: number): void {
  for (let ic = 0; ic < inC; ic++) transformTaps(quad, (j * Dim.XI * inC + ic) * Dim.LANES, 1, inC * Dim.LANES, w, (ic * outC + oc) * 25, PHASE_TAPS);
}

/** Where the quad holds ic = 0 of (channel, phase) d = 4·j + phase at ξ. */
const quadIndex = (d: number, xi: number, inC: number): number => (((d >> 2) * Dim.XI + xi) * inC) * Dim.LANES + (d & 3);

/** packed[at + 4·ic + l] = quad[from_l + 4·ic], ic < inC, l < 4; returns the next `at`. */
function gatherLanes(packed: Float32Array, at: number, quad: Float32Array, from0: number, from1: number, from2: number,
  from3: number, inC: number): number {
  for (let ic = 0, q = 0; ic < inC; ic++, q += Dim.LANES, at += Dim.LANES) {
    packed[at] = quad[from0 + q];
    packed[at + 1] = quad[from1 + q];
    packed[at + 2] = quad[from2 + q];
    packed[at + 3] = quad[from3 + q];
  }
  return at;
}

/**
 * The op over `win` (see TransposedConv2dWindow; x must hold what `winogradTconvInput` says). pu comes from
 * `packTransposedConv2dWinograd`, scratch has `winogradScratchLength(inC)` doubles.
 */
export function transposedConv2dWinograd(out: Float32Array, x: Float32Array, pu: Float32Array, b: Float32Array,
  d: TransposedConv2dDims, scratch: Float64Array, win: TransposedConv2dWindow = wholeOutput(d)): void {
  const inC = d.inC | 0, inH = d.inH | 0, inW = d.inW | 0, outC = d.outC | 0;
  checkLength('transposedConv2dWinograd', 'x', x, inC * inH * inW);
  checkLength('transposedConv2dWinograd', 'out', out, outC * win.outH * win.outW);
  checkLength('transposedConv2dWinograd', 'b', b, outC);
  checkLength('transposedConv2dWinograd', 'pu', pu, winogradWeightsLength(inC, outC));
  checkAtLeast('transposedConv2dWinograd', 'scratch', scratch, winogradScratchLength(inC));
  const inTop = win.inTop | 0, inLeft = win.inLeft | 0, outTop = win.outTop | 0, outLeft = win.outLeft | 0;
  const outH = win.outH | 0, outW = win.outW | 0;
  if (outH <= 0 || outW <= 0) return;
  const { v, m, patch, rows } = splitScratch(scratch, inC);
  m.fill(0); // the skipped (channel, phase) lanes: +0, as their sums were
  // whole-image phase-grid rows and columns of the window, and the aligned tiles that cover them
  const mFirst = Math.floor(outTop / 2) | 0, mLast = Math.floor((outTop + outH - 1) / 2) | 0;
  const nFirst = Math.floor(outLeft / 2) | 0, nLast = Math.floor((outLeft + outW - 1) / 2) | 0;
  const tileLeft = alignedStart(nFirst);
  const tilesAcross = (Math.floor((nLast - tileLeft) / Dim.TILE) + 1) | 0;
  // the loops' bodies are functions a layer calls many times: V8 optimizes those on its first layer, while a driver
  // this size, OSR-compiled and compiled again with them inlined, took ≈ 120 ms of the compiler in a cold process
  for (let m0 = alignedStart(mFirst); m0 <= mLast; m0 += Dim.TILE) {
    for (let t0 = 0; t0 < tilesAcross; t0 += Dim.CHUNK) {
      const count = Math.min(Dim.CHUNK, tilesAcross - t0) | 0;
      const n0 = tileLeft + t0 * Dim.TILE;
      const groups = (Math.ceil(count / Dim.TILE_GROUP) * Dim.TILE_GROUP) | 0;
      transformInputs(v, patch, x, inC, inH, inW, m0 - 1 - inTop, n0 - 1 - inLeft, count, groups);
      let uAt = 0;
      for (let oc0 = 0; oc0 < outC; oc0 += QUAD) {
        const channels = Math.min(QUAD, outC - oc0);
        uAt = quadProducts(m, v, pu, uAt, planOf(channels), inC, groups);
        storeQuad(out, rows, m, b, oc0, channels, count, m0, n0, outTop, outLeft, outH, outW);
      }
    }
  }
}

/** M of a quad's blocks over the chunk, from U at pu[uAt …]; returns the next quad's uAt. */
function quadProducts(m: Float64Array, v: Float64Array, pu: Float32Array, uAt: number, plan: Int32Array, inC: number, groups: number): number {
  for (let e = 0; e < plan.length; e += 5) {
    uAt = products(m, plan[e], plan[e + 1], plan[e + 2], plan[e + 3], plan[e + 4], v, plan[e] * vPlane(inC), Dim.CHUNK, pu, uAt, inC, groups);
  }
  return uAt;
}

/** V of a chunk's `count` tiles (whose patches start at input row `top`, column `left`), and zeros up to `groups`. */
function transformInputs(v: Float64Array, patch: Float64Array, x: Float32Array, inC: number, inH: number, inW: number,
  top: number, left: number, count: number, groups: number): void {
  for (let t = count; t < groups; t++) zeroTile(v, inC, t);
  for (let ic = 0; ic < inC; ic++) transformInputTiles(v, patch, x, ic * inH * inW, inH, inW, top, left, count, inC, ic);
}

/**
 * Aᵀ·M·A of a quad's channels over a chunk's tiles, + bias, into the window: tile position (i, j) of phase (a, bb) is
 * output (2(m0 + i) + a, 2(n0 + 4t + j) + bb).
 */
function storeQuad(out: Float32Array, rows: Float64Array, m: Float64Array, b: Float32Array, oc0: number, channels: number,
  count: number, m0: number, n0: number, outTop: number, outLeft: number, outH: number, outW: number): void {
  const plane = outH * outW;
  for (let j = 0; j < channels; j++) {
    const oc = oc0 + j;
    for (let t = 0; t < count; t++) {
      for (let phase = 0; phase < Dim.LANES; phase++) {
        const a = phase >> 1, bb = phase & 1;
        transformOutput(rows, m, t, 4 * j + phase);
        const ox = 2 * (n0 + t * Dim.TILE) + bb - outLeft;
        for (let i = 0; i < Dim.TILE; i++) {
          const oy = 2 * (m0 + i) + a - outTop;
          if (oy >= 0 && oy < outH) storeOutputRow(out, rows, i, b[oc], oc * plane + oy * outW + ox, 2, ox, outW);
        }
      }
    }
  }
}
