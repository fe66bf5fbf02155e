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
  alignedStart, CHUNK, LANES, loadPatch, multiply, PATCH, scratchLength, splitScratch, storeOutputRow, TILE, TILE_GROUP,
  transformKernel, transformOutput, transformPatch, XI, zeroTile,
} from './winograd.js';

/**
 * Input rows (or columns) [start, end) of the whole input that outputs `r` of the whole 2H output read,
 * whole tiles included; clip it to [0, H). The decoder's regions use it for every transposed convolution.
 */
export function winogradTconvInput(r: { start: number; end: number }): { start: number; end: number } {
  const first = alignedStart(Math.floor(r.start / 2));
  const last = alignedStart(Math.floor((r.end - 1) / 2));
  return { start: first - 1, end: last + TILE + 1 };
}

/** Length of `packTransposedConv2dWinograd`'s output: U for every (ξ, oc, ic, phase). */
export const winogradWeightsLength = (inC: number, outC: number): number => XI * outC * inC * LANES;

/** Scratch doubles `transposedConv2dWinograd` needs. */
export const winogradScratchLength = (inC: number): number => scratchLength(inC);

/**
 * U = G·g·Gᵀ of every (ic, oc, phase), from PyTorch's [inC, outC, 5, 5]: layout [ξ][oc][ic][phase], so the
 * product step reads one (ξ, oc)'s weights as inC runs of 4 lanes. Allocates: call once at load time.
 */
export function packTransposedConv2dWinograd(w: Float32Array, d: TransposedConv2dDims): Float32Array {
  const { inC, outC } = d;
  checkLength('packTransposedConv2dWinograd', 'w', w, inC * outC * 25);
  const packed = new Float32Array(winogradWeightsLength(inC, outC));
  const g = new Float64Array(9), gg = new Float64Array(PATCH * 3);
  // one output channel's U, [ξ][ic][phase], then copied to its 36 places: writing the packed layout directly
  // (36 stores 16–64 KB apart per kernel) took 60–100 ms for the model, most of a cold start's setup
  const one = new Float32Array(XI * inC * LANES);
  for (let oc = 0; oc < outC; oc++) {
    for (let ic = 0; ic < inC; ic++) {
      for (let phase = 0; phase < LANES; phase++) {
        const a = phase >> 1, b = phase & 1;
        for (let r = 0; r < 3; r++) {
          const ky = a + 4 - 2 * r; // dy = r − 1
          for (let c = 0; c < 3; c++) {
            const kx = b + 4 - 2 * c;
            g[r * 3 + c] = ky < 5 && kx < 5 ? w[((ic * outC + oc) * 5 + ky) * 5 + kx] : 0;
          }
        }
        transformKernel(one, ic * LANES + phase, inC * LANES, g, gg);
      }
    }
    for (let xi = 0; xi < XI; xi++) packed.set(one.subarray(xi * inC * LANES, (xi + 1) * inC * LANES), (xi * outC + oc) * inC * LANES);
  }
  return packed;
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
  // whole-image phase-grid rows and columns of the window, and the aligned tiles that cover them
  const mFirst = Math.floor(outTop / 2) | 0, mLast = Math.floor((outTop + outH - 1) / 2) | 0;
  const nFirst = Math.floor(outLeft / 2) | 0, nLast = Math.floor((outLeft + outW - 1) / 2) | 0;
  const tileLeft = alignedStart(nFirst);
  const tilesAcross = (Math.floor((nLast - tileLeft) / TILE) + 1) | 0;
  const plane = outH * outW;
  for (let m0 = alignedStart(mFirst); m0 <= mLast; m0 += TILE) {
    for (let t0 = 0; t0 < tilesAcross; t0 += CHUNK) {
      const count = Math.min(CHUNK, tilesAcross - t0);
      const n0 = tileLeft + t0 * TILE;
      const top = m0 - 1 - inTop, left = n0 - 1 - inLeft;
      for (let t = count; t < Math.ceil(count / TILE_GROUP) * TILE_GROUP; t++) zeroTile(v, inC, t);
      for (let ic = 0; ic < inC; ic++) {
        for (let t = 0; t < count; t++) {
          loadPatch(patch, x, ic * inH * inW, inH, inW, top, left + t * TILE, 1);
          transformPatch(v, patch, inC, ic, t);
        }
      }
      for (let oc = 0; oc < outC; oc++) {
        multiply(m, v, pu, inC, outC, oc, count);
        // tile position (i, j) of phase (a, bb) is output (2(m0 + i) + a, 2(n0 + 4t + j) + bb)
        for (let t = 0; t < count; t++) {
          for (let phase = 0; phase < LANES; phase++) {
            const a = phase >> 1, bb = phase & 1;
            transformOutput(rows, m, t, phase);
            const ox = 2 * (n0 + t * TILE) + bb - outLeft;
            for (let i = 0; i < TILE; i++) {
              const oy = 2 * (m0 + i) + a - outTop;
              if (oy >= 0 && oy < outH) storeOutputRow(out, rows, i, b[oc], oc * plane + oy * outW + ox, 2, ox, outW);
            }
          }
        }
      }
    }
  }
}
