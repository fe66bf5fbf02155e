/**
 * Conv2d(5×5, stride 2, padding 2) of one CHW image (the analysis transforms' layers, PyTorch semantics) by
 * Winograd F(4×4, 3×3) over the input's polyphase components: 2.78× fewer multiplies than conv2d.ts.
 *
 * READ ME FIRST
 * - The op as a 3×3 convolution. With ky = 2dy + py, kx = 2dx + px (dy, dx ∈ {0, 1, 2}; py, px ∈ {0, 1}),
 *   out[oc, oy, ox] = b + Σ_{ic, py, px} Σ_{dy, dx} x_{py,px}[ic, oy − 1 + dy, ox − 1 + dx] · w[oc, ic, ky, kx],
 *   where x_{py,px}[ic, i, j] = x[ic, 2i + py, 2j + px] and a kernel index of 5 is a zero: a stride-1 3×3
 *   correlation (padding 1) over 4·inC polyphase channels, read in place (no copy). Per output 4·inC·36/16 = 9·inC
 *   products instead of 25·inC.
 * - Tiles are 4×4 outputs aligned to the whole image: `origin` says where out's (0, 0) is in the whole output,
 *   and tiles start at its multiples of 4 (a tile may begin before out's first row or column; what falls outside
 *   out is not stored). An output has the whole image's bits when x holds its tile's whole patch
 *   (`winogradConvInput`, src/model/tiling.ts); positions outside x read as zero.
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
  alignedStart, CHUNK, LANES, loadPatch, PATCH, phaseKept, products, productsPaired, scratchLength, splitScratch, storeOutputRow,
  tapTable, TILE, TILE_GROUP, transformOutput, transformPatch, transformTaps, XI, zeroTile,
} from './winograd.js';

/** The only shape this kernel runs: 5×5, stride 2, padding 2. */
export const isWinogradConv = (d: Pick<Conv2dDims, 'k' | 'stride' | 'pad'>): boolean => d.k === 5 && d.stride === 2 && d.pad === 2;

/**
 * Input rows (or columns) [start, end) that outputs `r` read, whole tiles included, when the output's (0, 0) is
 * the whole image's (or a multiple of 4 outputs from it); clip it to the input.
 */
export function winogradConvInput(r: { start: number; end: number }): { start: number; end: number } {
  const first = alignedStart(r.start), end = alignedStart(r.end - 1) + TILE;
  return { start: 2 * (first - 1), end: 2 * (end + 1) };
}

const blocksOf = (outC: number): number => Math.ceil(outC / LANES);

/** Polyphase component (py, px)'s 3×3 kernel: element (dy, dx) is the 5×5 kernel's (2dy + py, 2dx + px) (a 5 is a zero). */
const POLYPHASE_TAPS = tapTable((parity, i) => 2 * i + parity);

/** The polyphase components (2·py + px) whose U is not zero, per ξ: U is zero in the domain's last row or column. */
const KEPT_AT = Array.from({ length: XI }, (_, xi) => [0, 1, 2, 3].filter((phase) => phaseKept(xi, phase, PATCH - 1)));
/** Components a block sums over the 36 ξ, per input channel: 144 less the 23 zeros. */
const KEPT = KEPT_AT.reduce((sum, kept) => sum + kept.length, 0);

/** Length of `packConv2dWinograd`'s output: U for every (block, ξ, input channel, kept component, lane). */
export const conv2dWinogradWeightsLength = (inC: number, outC: number): number => blocksOf(outC) * KEPT * inC * LANES;

/** Scratch doubles `conv2dWinograd` needs. */
export const conv2dWinogradScratchLength = (inC: number): number => scratchLength(4 * inC);

/**
 * U = G·g·Gᵀ of every (oc, ic, py, px), from PyTorch's [outC, inC, 5, 5], in the product step's order: block by
 * block, ξ by ξ, [ic][kept component][lane]. Allocates: call once at load time.
 */
export function packConv2dWinograd(w: Float32Array, d: Conv2dDims): Float32Array {
  const { inC, outC } = d;
  if (!isWinogradConv(d)) fail('INTERNAL', 'packConv2dWinograd: only 5×5 stride-2 padding-2 convolutions');
  checkLength('packConv2dWinograd', 'w', w, outC * inC * 25);
  const blocks = blocksOf(outC), channels = 4 * inC;
  const packed = new Float32Array(conv2dWinogradWeightsLength(inC, outC));
  // one block's U, [ξ][channel][lane], then gathered in order (see packTransposedConv2dWinograd)
  const one = new Float32Array(XI * channels * LANES);
  let at = 0;
  for (let block = 0; block < blocks; block++) {
    one.fill(0); // the lanes past outC
    for (let oc = block * LANES; oc < Math.min(outC, (block + 1) * LANES); oc++) {
      for (let ic = 0; ic < inC; ic++) {
        transformTaps(one, ic * 4 * LANES + oc % LANES, LANES, channels * LANES, w, (oc * inC + ic) * 25, POLYPHASE_TAPS);
      }
    }
    for (let xi = 0; xi < XI; xi++) {
      const kept = KEPT_AT[xi], from = xi * channels * LANES;
      if (kept.length === 4) {
        packed.set(one.subarray(from, from + channels * LANES), at);
        at += channels * LANES;
        continue;
      }
      for (let ic = 0; ic < inC; ic++) {
        for (const phase of kept) {
          for (let lane = 0; lane < LANES; lane++) packed[at++] = one[from + (ic * 4 + phase) * LANES + lane];
        }
      }
    }
  }
  return packed;
}

/**
 * The op; pu from `packConv2dWinograd`, scratch of `conv2dWinogradScratchLength(inC)` doubles; `origin`: the whole
 * output's row and column of out's (0, 0); `inOrigin`: the whole input's of x's (0, 0), by default twice `origin` (x
 * and out then cover the same part of the image; a band of outputs from a larger x gives its own). Tiles start at the
 * whole output's multiples of 4, the first at or before out's (0, 0).
 */
export function conv2dWinograd(out: Float32Array, x: Float32Array, pu: Float32Array, b: Float32Array, d: Conv2dDims,
  scratch: Float64Array, origin: { y: number; x: number } = { y: 0, x: 0 }, inOrigin = { y: 2 * origin.y, x: 2 * origin.x }): void {
  if (!isWinogradConv(d)) fail('INTERNAL', 'conv2dWinograd: only 5×5 stride-2 padding-2 convolutions');
  const inC = d.inC | 0, inH = d.inH | 0, inW = d.inW | 0, outC = d.outC | 0, outH = d.outH | 0, outW = d.outW | 0;
  checkLength('conv2dWinograd', 'x', x, inC * inH * inW);
  checkLength('conv2dWinograd', 'out', out, outC * outH * outW);
  checkLength('conv2dWinograd', 'b', b, outC);
  checkLength('conv2dWinograd', 'pu', pu, conv2dWinogradWeightsLength(inC, outC));
  checkAtLeast('conv2dWinograd', 'scratch', scratch, conv2dWinogradScratchLength(inC));
  const channels = 4 * inC, blocks = blocksOf(outC) | 0;
  const { v, m, patch, rows } = splitScratch(scratch, channels);
  // | 0: see kernels/winograd.ts's header
  const originY = origin.y | 0, originX = origin.x | 0;
  const top = alignedStart(originY) - originY, left = alignedStart(originX) - originX;
  // x's rows and columns ahead of where twice out's (0, 0) falls
  const shiftY = (2 * originY - inOrigin.y) | 0, shiftX = (2 * originX - inOrigin.x) | 0;
  const tilesAcross = Math.ceil((outW - left) / TILE) | 0;
  const plane = outH * outW;
  for (let oy0 = top; oy0 < outH; oy0 += TILE) {
    for (let t0 = 0; t0 < tilesAcross; t0 += CHUNK) {
      const count = Math.min(CHUNK, tilesAcross - t0);
      const groups = (Math.ceil(count / TILE_GROUP) * TILE_GROUP) | 0;
      const ox0 = left + t0 * TILE;
      for (let t = count; t < groups; t++) zeroTile(v, channels, t);
      // channel c = 4·ic + 2·py + px is x_{py,px}[ic]: its 3×3 grid row r is input row 2r + py
      for (let c = 0; c < channels; c++) {
        for (let t = 0; t < count; t++) {
          loadPatch(patch, x, (c >> 2) * inH * inW, inH, inW, 2 * (oy0 - 1) + ((c >> 1) & 1) + shiftY, 2 * (ox0 + t * TILE - 1) + (c & 1) + shiftX, 2);
          transformPatch(v, patch, channels, c, t);
        }
      }
      let uAt = 0;
      for (let block = 0; block < blocks; block++) {
        for (let xi = 0; xi < XI; xi++) {
          // all 4 components: every channel in turn; 1 (component 0): every 4th; 2: component 0 and kept[1] of each
          const kept = KEPT_AT[xi], vAt = xi * channels * CHUNK;
          if (kept.length === 4) uAt = products(m, xi, 0, 1, 2, 3, v, vAt, CHUNK, pu, uAt, channels, groups);
          else if (kept.length === 1) uAt = products(m, xi, 0, 1, 2, 3, v, vAt, 4 * CHUNK, pu, uAt, inC, groups);
          else uAt = productsPaired(m, xi, 0, 1, 2, 3, v, vAt, kept[1] * CHUNK, 4 * CHUNK, pu, uAt, inC, groups);
        }
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
