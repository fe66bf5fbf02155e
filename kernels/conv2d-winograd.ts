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
 * - The lanes of a packed block are 4 consecutive output channels; a last partial block computes zero lanes
 *   and does not store them.
 */
import { fail } from '../src/core/errors.js';
import { checkAtLeast, checkLength } from './check.js';
import type { Conv2dDims } from './conv2d.js';
import { alignedStart, correlateTiles, LANES, loadPatch, PATCH, scratchLength, TILE, transformKernel, XI } from './winograd.js';

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

/** Length of `packConv2dWinograd`'s output: U for every (ξ, block, polyphase channel, lane). */
export const conv2dWinogradWeightsLength = (inC: number, outC: number): number => XI * blocksOf(outC) * 4 * inC * LANES;

/** Scratch doubles `conv2dWinograd` needs. */
export const conv2dWinogradScratchLength = (inC: number): number => scratchLength(4 * inC);

/** U = G·g·Gᵀ of every (oc, ic, py, px), from PyTorch's [outC, inC, 5, 5]. Allocates: call once at load time. */
export function packConv2dWinograd(w: Float32Array, d: Conv2dDims): Float32Array {
  const { inC, outC } = d;
  if (!isWinogradConv(d)) fail('INTERNAL', 'packConv2dWinograd: only 5×5 stride-2 padding-2 convolutions');
  checkLength('packConv2dWinograd', 'w', w, outC * inC * 25);
  const blocks = blocksOf(outC), channels = 4 * inC;
  const packed = new Float32Array(conv2dWinogradWeightsLength(inC, outC));
  const g = new Float64Array(9), gg = new Float64Array(PATCH * 3);
  // one block's U, [ξ][channel][lane], then copied to its 36 places (see packTransposedConv2dWinograd)
  const one = new Float32Array(XI * channels * LANES);
  for (let block = 0; block < blocks; block++) {
    one.fill(0); // the lanes past outC
    for (let oc = block * LANES; oc < Math.min(outC, (block + 1) * LANES); oc++) {
      for (let ic = 0; ic < inC; ic++) {
        for (let phase = 0; phase < 4; phase++) {
          const py = phase >> 1, px = phase & 1;
          for (let dy = 0; dy < 3; dy++) {
            const ky = 2 * dy + py;
            for (let dx = 0; dx < 3; dx++) {
              const kx = 2 * dx + px;
              g[dy * 3 + dx] = ky < 5 && kx < 5 ? w[((oc * inC + ic) * 5 + ky) * 5 + kx] : 0;
            }
          }
          transformKernel(one, (ic * 4 + phase) * LANES + oc % LANES, channels * LANES, g, gg);
        }
      }
    }
    for (let xi = 0; xi < XI; xi++) packed.set(one.subarray(xi * channels * LANES, (xi + 1) * channels * LANES), (xi * blocks + block) * channels * LANES);
  }
  return packed;
}

/**
 * The op; pu from `packConv2dWinograd`, scratch of `conv2dWinogradScratchLength(inC)` doubles; `origin`: the whole
 * output's row and column of out's (0, 0) (x then starts at twice that in the whole input).
 */
export function conv2dWinograd(out: Float32Array, x: Float32Array, pu: Float32Array, b: Float32Array, d: Conv2dDims,
  scratch: Float64Array, origin: { y: number; x: number } = { y: 0, x: 0 }): void {
  const { inC, inH, inW, outC, outH, outW } = d;
  if (!isWinogradConv(d)) fail('INTERNAL', 'conv2dWinograd: only 5×5 stride-2 padding-2 convolutions');
  checkLength('conv2dWinograd', 'x', x, inC * inH * inW);
  checkLength('conv2dWinograd', 'out', out, outC * outH * outW);
  checkLength('conv2dWinograd', 'b', b, outC);
  checkLength('conv2dWinograd', 'pu', pu, conv2dWinogradWeightsLength(inC, outC));
  checkAtLeast('conv2dWinograd', 'scratch', scratch, conv2dWinogradScratchLength(inC));
  // channel c = 4·ic + 2·py + px is x_{py,px}[ic]: its 3×3 grid row r is input row 2r + py
  correlateTiles(out, outC, outH, outW, pu, b, 4 * inC, scratch, origin, (patch, c, top, left) =>
    loadPatch(patch, x, (c >> 2) * inH * inW, inH, inW, 2 * top + ((c >> 1) & 1), 2 * left + (c & 1), 2));
}
