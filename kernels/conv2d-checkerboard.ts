/**
 * A stride-1 "same" convolution computed on one half of a checkerboard only, of an input that may be zero on a half:
 * the checkerboard kind's s_z (src/model/priors.ts), whose input holds ẑ's anchors and zeros and whose output is
 * read at the other elements (the spacechannel kind reads it at the anchors too), and the spacechannel kind's k_a,
 * k_o, whose output is read at one half only. `anchors` (0, 1 or 'dense'): the parity of row + column where x may
 * be non-zero ('dense': anywhere); `outputs` (0 or 1): the parity of the elements computed.
 *
 * READ ME FIRST
 * - Output (oy, ox) reads input (oy + ky − pad, ox + kx − pad), whose parity is that of oy + ox + ky + kx: from a
 *   sparse input only the taps with ky + kx ≡ anchors − outputs (mod 2) can meet a non-zero value. Other parity
 *   (the checkerboard's s_z), 5×5: 12 of the 25 taps (ky even: kx 1, 3; ky odd: kx 0, 2, 4); same parity: the other
 *   13; the rest multiply zeros and are skipped. 'dense' reads every tap: conv2d's own engine (correlatePacked)
 *   row by row at a column stride of 2, which sums in conv2d's order by construction.
 * - Determinism: each computed element is summed as conv2d sums it (one double, the bias first, then ic, ky, kx
 *   ascending, taps outside the image skipped), minus the products of zeros: adding a zero product to the sum
 *   leaves it unchanged (at most the sign of a zero sum differs, which no comparison or later sum sees), so the
 *   values, and the scale indexes made from them, are conv2d's (tests: against conv2dSimple, bit for bit).
 * - Elements of the other parity are not written: the caller must not read them.
 * - Weights: conv2d's packing (packConv2dWeights), so a layer keeps one packed copy.
 */
import { fail } from '../src/core/errors.js';
import { checkLength } from './check.js';
import { correlatePacked, Pack, packedWeightsLength, type Conv2dDims } from './conv2d.js';

/** Output channels × output pixels of the blocked micro-kernel: 16 accumulators stay in registers. */
const LANES = 4;
const PIXELS = 4;

/**
 * out [outC, H, W] at the elements with (oy + ox) % 2 = outputs, from x [inC, H, W] that is zero where (row + column)
 * % 2 ≠ anchors (unless 'dense'); pw = packConv2dWeights(w) of an odd k×k kernel, stride 1, pad k >> 1.
 */
export function conv2dCheckerboard(out: Float32Array, x: Float32Array, pw: Float64Array, b: Float32Array, d: Conv2dDims,
  anchors: 0 | 1 | 'dense', outputs: 0 | 1): void {
  const { inC, inH: h, inW: w, outC, k } = d;
  if (d.stride !== 1 || d.pad !== k >> 1 || k % 2 !== 1 || d.outH !== h || d.outW !== w) {
    fail('INTERNAL', `conv2dCheckerboard: a stride-1 "same" convolution of an odd kernel, got ${JSON.stringify(d)}`);
  }
  checkLength('conv2dCheckerboard', 'x', x, inC * h * w);
  checkLength('conv2dCheckerboard', 'out', out, outC * h * w);
  checkLength('conv2dCheckerboard', 'b', b, outC);
  checkLength('conv2dCheckerboard', 'pw', pw, packedWeightsLength(outC, inC, k, k));
  const pad = k >> 1;
  const plane = h * w;
  if (anchors === 'dense') {
    // every tap: row by row, conv2d's engine at a column stride of 2 from the row's first element of the parity
    // (its row stride is then unused: one output row a call, the row's offset in the padding)
    for (let oy = 0; oy < h; oy++) {
      const first = (oy + outputs) & 1;
      const cols = (w - first + 1) >> 1;
      if (cols > 0) correlatePacked(out, oy * w + first, plane, 0, 2, outC, 1, cols, x, inC, h, w, pw, 0, b, k, k, 2, pad - oy, pad - first);
    }
    return;
  }
  const kk = k * k;
  // a row's taps: kx = (ky + tapParity) & 1, then every other one
  const tapParity = anchors ^ outputs;
  for (let oc0 = 0; oc0 < outC; oc0 += Pack.OC_LANES) {
    const wBlock = oc0 * inC * kk;
    for (let lane0 = 0; lane0 < Math.min(Pack.OC_LANES, outC - oc0); lane0 += LANES) {
      const lanes = Math.min(LANES, outC - oc0 - lane0);
      // a row is a function a layer calls many times: V8 optimizes it early, where this driver would wait for an OSR compile
      for (let oy = 0; oy < h; oy++) {
        checkerboardRow(out, oc0 + lane0, lanes, oy, (oy + outputs) & 1, x, inC, plane, h, w, pw, wBlock + lane0, b, k, pad, tapParity);
      }
    }
  }
}

/** Output row oy at the columns first, first + 2, …: blocks of PIXELS where all k columns lie inside the row, single pixels elsewhere. */
function checkerboardRow(out: Float32Array, oc: number, lanes: number, oy: number, first: number, x: Float32Array, inC: number,
  plane: number, h: number, w: number, pw: Float64Array, wIndex: number, b: Float32Array, k: number, pad: number, tapParity: number): void {
  const kyStart = Math.max(0, pad - oy);
  const kyEnd = Math.min(k, h + pad - oy);
  // pixels whose k columns all lie inside the row (pad ≤ ox ≤ w − 1 − pad) in blocks of PIXELS (ox, ox + 2, …),
  // the last block shifted left to end at the last of them (pixels computed twice get the same bits)
  const lastStart = w - 1 - pad - 2 * (PIXELS - 1); // the last block's start, if it has the row's parity
  for (let ox = first; ox < w; ) {
    const start = Math.min(ox, lastStart - ((lastStart - ox) & 1));
    if (ox >= pad && ox <= w - 1 - pad && start >= pad) {
      block(out, oc, lanes, oy, start, x, inC, plane, w, pw, wIndex, b, k, pad, kyStart, kyEnd, tapParity);
      ox = start + 2 * PIXELS;
    } else {
      pixel(out, oc, lanes, oy, ox, x, inC, plane, w, pw, wIndex, b, k, pad, kyStart, kyEnd, tapParity);
      ox += 2;
    }
  }
}

/** One output pixel, `lanes` channels from oc: every tap that can meet a non-zero input inside the image, in conv2d's order. */
function pixel(out: Float32Array, oc: number, lanes: number, oy: number, ox: number, x: Float32Array, inC: number, plane: number,
  w: number, pw: Float64Array, wIndex: number, b: Float32Array, k: number, pad: number, kyStart: number, kyEnd: number,
  tapParity: number): void {
  for (let lane = 0; lane < lanes; lane++) {
    let acc = b[oc + lane];
    for (let ic = 0; ic < inC; ic++) {
      for (let ky = kyStart; ky < kyEnd; ky++) {
        const row = ic * plane + (oy + ky - pad) * w;
        for (let kx = (ky + tapParity) & 1; kx < k; kx += 2) {
          const ix = ox + kx - pad;
          if (ix < 0 || ix >= w) continue;
          acc += x[row + ix] * pw[wIndex + ((ic * k + ky) * k + kx) * Pack.OC_LANES + lane];
        }
      }
    }
    out[(oc + lane) * plane + oy * w + ox] = acc;
  }
}

/** PIXELS output pixels ox, ox + 2, … (all their columns inside the row) × up to LANES channels from oc. */
function block(out: Float32Array, oc: number, lanes: number, oy: number, ox: number, x: Float32Array, inC: number, plane: number,
  w: number, pw: Float64Array, wIndex: number, b: Float32Array, k: number, pad: number, kyStart: number, kyEnd: number,
  tapParity: number): void {
  const last = oc + lanes - 1;
  let a00 = b[oc], a01 = a00, a02 = a00, a03 = a00;
  let a10 = b[Math.min(oc + 1, last)], a11 = a10, a12 = a10, a13 = a10;
  let a20 = b[Math.min(oc + 2, last)], a21 = a20, a22 = a20, a23 = a20;
  let a30 = b[Math.min(oc + 3, last)], a31 = a30, a32 = a30, a33 = a30;
  const wTap = k * Pack.OC_LANES;
  for (let ic = 0; ic < inC; ic++) {
    for (let ky = kyStart; ky < kyEnd; ky++) {
      const row = ic * plane + (oy + ky - pad) * w + ox - pad;
      const wRow = wIndex + (ic * k + ky) * wTap;
      for (let kx = (ky + tapParity) & 1; kx < k; kx += 2) {
        const xi = row + kx, wi = wRow + kx * Pack.OC_LANES;
        const x0 = x[xi], x1 = x[xi + 2], x2 = x[xi + 4], x3 = x[xi + 6];
        let g = pw[wi];
        a00 += x0 * g; a01 += x1 * g; a02 += x2 * g; a03 += x3 * g;
        g = pw[wi + 1];
        a10 += x0 * g; a11 += x1 * g; a12 += x2 * g; a13 += x3 * g;
        g = pw[wi + 2];
        a20 += x0 * g; a21 += x1 * g; a22 += x2 * g; a23 += x3 * g;
        g = pw[wi + 3];
        a30 += x0 * g; a31 += x1 * g; a32 += x2 * g; a33 += x3 * g;
      }
    }
  }
  let o = oc * plane + oy * w + ox;
  out[o] = a00; out[o + 2] = a01; out[o + 4] = a02; out[o + 6] = a03;
  if (lanes > 1) { o += plane; out[o] = a10; out[o + 2] = a11; out[o + 4] = a12; out[o + 6] = a13; }
  if (lanes > 2) { o += plane; out[o] = a20; out[o + 2] = a21; out[o + 4] = a22; out[o + 6] = a23; }
  if (lanes > 3) { o += plane; out[o] = a30; out[o + 2] = a31; out[o + 4] = a32; out[o + 6] = a33; }
}
