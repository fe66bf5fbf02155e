/**
 * Conv2d of one CHW image (PyTorch semantics) by Winograd F(4×4, 3×3), in two shapes: 5×5 stride 2 padding 2 (the
 * analysis transforms' layers), over the input's polyphase components, 2.78× fewer multiplies than conv2d.ts; and
 * 3×3 stride 1 padding 1 (the fusion φ's), the same with one component, 4× fewer.
 *
 * READ ME FIRST
 * - The op as a 3×3 convolution. 5×5/2: with ky = 2dy + py, kx = 2dx + px (dy, dx ∈ {0, 1, 2}; py, px ∈ {0, 1}),
 *   out[oc, oy, ox] = b + Σ_{ic, py, px} Σ_{dy, dx} x_{py,px}[ic, oy − 1 + dy, ox − 1 + dx] · w[oc, ic, ky, kx],
 *   where x_{py,px}[ic, i, j] = x[ic, 2i + py, 2j + px] and a kernel index of 5 is a zero: a stride-1 3×3
 *   correlation (padding 1) over 4·inC polyphase channels, read in place (no copy). Per output 4·inC·36/16 = 9·inC
 *   products instead of 25·inC. 3×3/1 is that correlation itself, over x's inC channels (the one component, x):
 *   inC·36/16 = 2.25·inC products instead of 9·inC.
 * - Tiles are 4×4 outputs aligned to the whole image: `origin` says where out's (0, 0) is in the whole output,
 *   and tiles start at its multiples of 4 (a tile may begin before out's first row or column; what falls outside
 *   out is not stored). An output has the whole image's bits when x holds its tile's whole patch
 *   (`winogradConvInput`); positions outside x read as zero, which is right only outside the whole input.
 * - Determinism contract: as kernels/winograd.ts (doubles, fixed order; U rounded to float32 at load time);
 *   polyphase channels are summed in the order ic, then py, then px. Not bit-equal to conv2d.ts: within rounding.
 * - The components with py = 1 have no tap at dy = 2 (nor at dx = 2 with px = 1), so their U is zero in the 6×6
 *   domain's last row (column): `phaseKept`. At such a ξ the product step sums only the other components, in the
 *   same order (2 of 4, or 1 at ξ = 35; 121 of 144 products, the same bits), and U holds only theirs.
 * - The lanes of a packed block are 4 consecutive output channels; a last partial block computes zero lanes
 *   and does not store them.
 */
import { fail } from '../src/core/errors.js';
import { checkAtLeast, checkLength } from './check.js';
import type { Conv2dDims } from './conv2d.js';
import {
  alignedStart, Dim, loadPatch, phaseKept, products, productsPaired, scratchLength, splitScratch, storeOutputRow, tapTable,
  transformInputTiles, transformOutput, transformPatch, transformTaps, vPlane, zeroTile,
} from './winograd.js';

/** A shape this kernel runs: its stride S, its S² components, and where their 3×3 kernels sit in the k×k one. */
interface Shape {
  stride: 1 | 2;
  /** S²: the polyphase components (py, px), component 2·py + px for S = 2 */
  components: number;
  /** kernel element (r, c) of component p is w[taps[9p + 3r + c]] of an output and input channel's k×k weights */
  taps: Int8Array;
  /** the components whose U is not zero, per ξ */
  keptAt: number[][];
  /** components a block sums over the 36 ξ, per input channel */
  kept: number;
}

function shape(stride: 1 | 2, taps: Int8Array): Shape {
  const components = stride * stride;
  // the polyphase components' U is zero in the domain's last row or column; the one component of 3×3/1 is whole
  const keptAt = Array.from({ length: Dim.XI }, (_, xi) =>
    Array.from({ length: components }, (_, p) => p).filter((p) => stride === 1 || phaseKept(xi, p, Dim.PATCH - 1)));
  return { stride, components, taps, keptAt, kept: keptAt.reduce((sum, kept) => sum + kept.length, 0) };
}

/** 5×5/2: component (py, px)'s element (dy, dx) is the 5×5 kernel's (2dy + py, 2dx + px) (a 5 is a zero). */
const POLYPHASE = shape(2, tapTable((parity, i) => 2 * i + parity));
/** 3×3/1: the kernel itself. */
const SINGLE = shape(1, Int8Array.from({ length: 9 }, (_, i) => i));

type ConvShape = Pick<Conv2dDims, 'k' | 'stride' | 'pad'>;
const shapeOf = (d: ConvShape): Shape | undefined =>
  d.k === 5 && d.stride === 2 && d.pad === 2 ? POLYPHASE : d.k === 3 && d.stride === 1 && d.pad === 1 ? SINGLE : undefined;

/** The shapes this kernel runs: 5×5 stride 2 padding 2, and 3×3 stride 1 padding 1. */
export const isWinogradConv = (d: ConvShape): boolean => shapeOf(d) !== undefined;

function shapeOrFail(d: ConvShape, kernel: string): Shape {
  return shapeOf(d) ?? fail('INTERNAL', `${kernel}: only 5×5 stride-2 padding-2 and 3×3 stride-1 padding-1 convolutions`);
}

/**
 * Input rows (or columns) [start, end) that outputs `r` read at `stride` (2: 5×5/2, 1: 3×3/1), whole tiles included,
 * when the output's (0, 0) is the whole image's (or a multiple of 4 outputs from it); clip it to the input.
 */
export function winogradConvInput(r: { start: number; end: number }, stride: 1 | 2 = 2): { start: number; end: number } {
  const first = alignedStart(r.start), end = alignedStart(r.end - 1) + Dim.TILE;
  return { start: stride * (first - 1), end: stride * (end + 1) };
}

const blocksOf = (outC: number): number => Math.ceil(outC / Dim.LANES);

/** Length of `packConv2dWinograd`'s output: U for every (block, ξ, input channel, kept component, lane). */
export const conv2dWinogradWeightsLength = (d: Pick<Conv2dDims, 'inC' | 'outC' | 'k' | 'stride' | 'pad'>): number =>
  blocksOf(d.outC) * shapeOrFail(d, 'conv2dWinogradWeightsLength').kept * d.inC * Dim.LANES;

/** Scratch doubles `conv2dWinograd` needs (either shape). */
export const conv2dWinogradScratchLength = (inC: number): number => scratchLength(4 * inC);

/**
 * U = G·g·Gᵀ of every (oc, ic, component), from PyTorch's [outC, inC, k, k], in the product step's order: block by
 * block, ξ by ξ, [ic][kept component][lane]. Allocates: call once at load time.
 */
export function packConv2dWinograd(w: Float32Array, d: Conv2dDims): Float32Array {
  const { inC, outC, k } = d;
  const { components, taps, keptAt } = shapeOrFail(d, 'packConv2dWinograd');
  checkLength('packConv2dWinograd', 'w', w, outC * inC * k * k);
  const blocks = blocksOf(outC), channels = components * inC;
  const packed = new Float32Array(conv2dWinogradWeightsLength(d));
  // one block's U, [ξ][channel][lane], then gathered in order (see packTransposedConv2dWinograd)
  const one = new Float32Array(Dim.XI * channels * Dim.LANES);
  let at = 0;
  for (let block = 0; block < blocks; block++) {
    one.fill(0); // the lanes past outC
    for (let oc = block * Dim.LANES; oc < Math.min(outC, (block + 1) * Dim.LANES); oc++) {
      for (let ic = 0; ic < inC; ic++) {
        transformTaps(one, ic * components * Dim.LANES + oc % Dim.LANES, Dim.LANES, channels * Dim.LANES, w, (oc * inC + ic) * k * k, taps);
      }
    }
    for (let xi = 0; xi < Dim.XI; xi++) {
      const kept = keptAt[xi], from = xi * channels * Dim.LANES;
      if (kept.length === components) {
        packed.set(one.subarray(from, from + channels * Dim.LANES), at);
        at += channels * Dim.LANES;
        continue;
      }
      for (let ic = 0; ic < inC; ic++) {
        for (const phase of kept) {
          for (let lane = 0; lane < Dim.LANES; lane++) packed[at++] = one[from + (ic * components + phase) * Dim.LANES + lane];
        }
      }
    }
  }
  return packed;
}

/**
 * The op; pu from `packConv2dWinograd`, scratch of `conv2dWinogradScratchLength(inC)` doubles; `origin`: the whole
 * output's row and column of out's (0, 0); `inOrigin`: the whole input's of x's (0, 0), by default stride × `origin`
 * (x and out then cover the same part of the image; a band of outputs from a larger x gives its own). Tiles start at
 * the whole output's multiples of 4, the first at or before out's (0, 0).
 */
export function conv2dWinograd(out: Float32Array, x: Float32Array, pu: Float32Array, b: Float32Array, d: Conv2dDims,
  scratch: Float64Array, origin: { y: number; x: number } = { y: 0, x: 0 },
  inOrigin = { y: d.stride * origin.y, x: d.stride * origin.x }): void {
  const { stride, components, keptAt } = shapeOrFail(d, 'conv2dWinograd');
  const inC = d.inC | 0, inH = d.inH | 0, inW = d.inW | 0, outC = d.outC | 0, outH = d.outH | 0, outW = d.outW | 0;
  checkLength('conv2dWinograd', 'x', x, inC * inH * inW);
  checkLength('conv2dWinograd', 'out', out, outC * outH * outW);
  checkLength('conv2dWinograd', 'b', b, outC);
  checkLength('conv2dWinograd', 'pu', pu, conv2dWinogradWeightsLength(d));
  checkAtLeast('conv2dWinograd', 'scratch', scratch, conv2dWinogradScratchLength(inC));
  const channels = components * inC, blocks = blocksOf(outC) | 0;
  const { v, m, patch, rows } = splitScratch(scratch, channels);
  // | 0: see kernels/winograd.ts's header
  const originY = origin.y | 0, originX = origin.x | 0;
  const top = alignedStart(originY) - originY, left = alignedStart(originX) - originX;
  // x's rows and columns ahead of where stride × out's (0, 0) falls
  const shiftY = (stride * originY - inOrigin.y) | 0, shiftX = (stride * originX - inOrigin.x) | 0;
  const tilesAcross = Math.ceil((outW - left) / Dim.TILE) | 0;
  // the loops' bodies are functions (transformInputs, blockProducts, storeBlock), optimized early in a cold process:
  // see transposedConv2dWinograd
  for (let oy0 = top; oy0 < outH; oy0 += Dim.TILE) {
    for (let t0 = 0; t0 < tilesAcross; t0 += Dim.CHUNK) {
      const count = Math.min(Dim.CHUNK, tilesAcross - t0) | 0;
      const groups = (Math.ceil(count / Dim.TILE_GROUP) * Dim.TILE_GROUP) | 0;
      const ox0 = left + t0 * Dim.TILE;
      transformInputs(v, patch, x, inC, inH, inW, stride, stride * (oy0 - 1) + shiftY, stride * (ox0 - 1) + shiftX, count, groups);
      let uAt = 0;
      for (let block = 0; block < blocks; block++) {
        uAt = blockProducts(m, v, pu, uAt, keptAt, components, inC, groups);
        storeBlock(out, rows, m, b, block, outC, count, oy0, ox0, outH, outW);
      }
    }
  }
}

/**
 * V of a chunk's `count` tiles, whose patches start at input row `top`, column `left` (component (0, 0)'s), and
 * zeros up to `groups`. Channel c = S²·ic + S·py + px is x_{py,px}[ic]: its 3×3 grid row r is input row S·r + py.
 */
function transformInputs(v: Float64Array, patch: Float64Array, x: Float32Array, inC: number, inH: number, inW: number,
  stride: number, top: number, left: number, count: number, groups: number): void {
  const components = stride * stride, channels = components * inC;
  for (let t = count; t < groups; t++) zeroTile(v, channels, t);
  if (stride === 1) {
    // x itself: a row of tiles shares columns (the transposed convolution's transformInputTiles, the same bits)
    for (let c = 0; c < channels; c++) transformInputTiles(v, patch, x, c * inH * inW, inH, inW, top, left, count, channels, c);
    return;
  }
  for (let c = 0; c < channels; c++) {
    const component = c % components, py = (component / stride) | 0, px = component % stride;
    for (let t = 0; t < count; t++) {
      loadPatch(patch, x, ((c / components) | 0) * inH * inW, inH, inW, top + py, left + stride * t * Dim.TILE + px, stride);
      transformPatch(v, patch, channels, c, t);
    }
  }
}

/** M of one block of 4 output channels over the chunk, from U at pu[uAt …]; returns the next block's uAt. */
function blockProducts(m: Float64Array, v: Float64Array, pu: Float32Array, uAt: number, keptAt: number[][], components: number,
  inC: number, groups: number): number {
  const channels = components * inC;
  for (let xi = 0; xi < Dim.XI; xi++) {
    // every component: every channel in turn; 1 (component 0): every 4th; 2: component 0 and kept[1] of each
    const kept = keptAt[xi], vAt = xi * vPlane(channels);
    if (kept.length === components) uAt = products(m, xi, 0, 1, 2, 3, v, vAt, Dim.CHUNK, pu, uAt, channels, groups);
    else if (kept.length === 1) uAt = products(m, xi, 0, 1, 2, 3, v, vAt, components * Dim.CHUNK, pu, uAt, inC, groups);
    else uAt = productsPaired(m, xi, 0, 1, 2, 3, v, vAt, kept[1] * Dim.CHUNK, components * Dim.CHUNK, pu, uAt, inC, groups);
  }
  return uAt;
}

/** Aᵀ·M·A of a block's real channels over the chunk's tiles, + bias, into out: tile t's (i, j) is output (oy0 + i, ox0 + 4t + j). */
function storeBlock(out: Float32Array, rows: Float64Array, m: Float64Array, b: Float32Array, block: number, outC: number,
  count: number, oy0: number, ox0: number, outH: number, outW: number): void {
  const plane = outH * outW;
  for (let lane = 0; lane < Dim.LANES && block * Dim.LANES + lane < outC; lane++) {
    const oc = block * Dim.LANES + lane;
    for (let t = 0; t < count; t++) {
      transformOutput(rows, m, t, lane);
      const ox = ox0 + t * Dim.TILE;
      for (let i = 0; i < Dim.TILE && oy0 + i < outH; i++) {
        if (oy0 + i >= 0) storeOutputRow(out, rows, i, b[oc], oc * plane + (oy0 + i) * outW + ox, 1, ox, outW);
      }
    }
  }
}
