/**
 * PyTorch ConvTranspose2d(kernel 5, stride 2, padding 2, output_padding 1) of one CHW image: the
 * output is exactly 2·inH × 2·inW. Weights are PyTorch's [inC, outC, 5, 5], bias [outC].
 *
 * Gather (phase) form, which never multiplies the zeros a stride-2 upsampling would stuff in: output
 * pixel (oy, ox) = (2m + a, 2n + bb) is
 *   bias + Σ_ic Σ_{dy=−1,0,1} Σ_{dx=−1,0,1} x[ic, m+dy, n+dx] · w[ic, oc, a+2−2dy, bb+2−2dx],
 * where taps whose kernel index is 5 (a = 1, dy = −1) do not exist and input positions outside the
 * image are skipped. That sum, in one double in exactly that order (ic, dy, dx ascending) and
 * rounded to float32 when stored, is this op's determinism contract. The engine runs this direct form for the
 * layers whose outputs become scale indexes (h_s, g_m's first layer): it has kept these bits since the first
 * release, so files keep decoding; the other layers run transposed-conv2d-winograd.ts.
 */
import { checkLength } from './check.js';
import { correlatePacked, Pack, packedWeightsLength } from './conv2d.js';

export interface TransposedConv2dDims {
  inC: number;
  inH: number;
  inW: number;
  outC: number;
}

const K = 5;

/**
 * Which outputs to compute when x is a crop of the whole input: x holds the whole input's rows inTop…
 * and columns inLeft…; the outputs are rows outTop…outTop+outH−1 and columns outLeft…outLeft+outW−1 of
 * the whole 2·H × 2·W output, stored as outH×outW planes. Taps outside x count as zero padding, so x
 * must hold every tap inside the whole input that these outputs read (then each output has the bits
 * the whole-image pass gives it). The decoder uses windows to compute each layer only where later
 * layers read it, instead of upsampling a tile's halo at every scale.
 */
export interface TransposedConv2dWindow {
  inTop: number;
  inLeft: number;
  outTop: number;
  outLeft: number;
  outH: number;
  outW: number;
}

/** The whole output of an uncropped input. */
export const wholeOutput = (d: TransposedConv2dDims): TransposedConv2dWindow =>
  ({ inTop: 0, inLeft: 0, outTop: 0, outLeft: 0, outH: 2 * d.inH, outW: 2 * d.inW });

/** The shapes every form takes: x [inC, inH, inW], out [outC, win.outH, win.outW], b [outC]. */
function checkTransposedConv2d(kernel: string, out: Float32Array, x: Float32Array, b: Float32Array, d: TransposedConv2dDims,
  win: TransposedConv2dWindow): void {
  checkLength(kernel, 'x', x, d.inC * d.inH * d.inW);
  checkLength(kernel, 'out', out, d.outC * win.outH * win.outW);
  checkLength(kernel, 'b', b, d.outC);
}

/** The gather definition, directly. */
export function transposedConv2dSimple(out: Float32Array, x: Float32Array, w: Float32Array, b: Float32Array, d: TransposedConv2dDims,
  win: TransposedConv2dWindow = wholeOutput(d)): void {
  checkTransposedConv2d('transposedConv2dSimple', out, x, b, d, win);
  checkLength('transposedConv2dSimple', 'w', w, d.inC * d.outC * K * K);
  const { inC, inH, inW, outC } = d;
  const { inTop, inLeft, outTop, outLeft, outH, outW } = win;
  for (let oc = 0; oc < outC; oc++) {
    for (let oy = outTop; oy < outTop + outH; oy++) {
      const m = oy >> 1, a = oy & 1;
      for (let ox = outLeft; ox < outLeft + outW; ox++) {
        const n = ox >> 1, bb = ox & 1;
        let acc = b[oc];
        for (let ic = 0; ic < inC; ic++) {
          for (let dy = -1; dy <= 1; dy++) {
            const ky = a + 2 - 2 * dy, iy = m + dy - inTop;
            if (ky >= K || iy < 0 || iy >= inH) continue;
            for (let dx = -1; dx <= 1; dx++) {
              const kx = bb + 2 - 2 * dx, ix = n + dx - inLeft;
              if (kx >= K || ix < 0 || ix >= inW) continue;
              acc += x[(ic * inH + iy) * inW + ix] * w[((ic * outC + oc) * K + ky) * K + kx];
            }
          }
        }
        out[(oc * outH + oy - outTop) * outW + ox - outLeft] = acc;
      }
    }
  }
}

/**
 * The textbook scatter form, out[oc, 2iy − 2 + ky, 2ix − 2 + kx] += x[ic, iy, ix] · w[ic, oc, ky, kx],
 * cropped to 2H × 2W. Tests only: it proves the gather form means ConvTranspose2d. It sums in
 * another order (and in float32, in out), so it agrees only to rounding.
 */
export function transposedConv2dScatter(out: Float32Array, x: Float32Array, w: Float32Array, b: Float32Array, d: TransposedConv2dDims): void {
  checkTransposedConv2d('transposedConv2dScatter', out, x, b, d, wholeOutput(d));
  checkLength('transposedConv2dScatter', 'w', w, d.inC * d.outC * K * K);
  const { inC, inH, inW, outC } = d;
  const outH = 2 * inH, outW = 2 * inW, outPlane = outH * outW;
  for (let oc = 0; oc < outC; oc++) out.fill(b[oc], oc * outPlane, (oc + 1) * outPlane);
  for (let ic = 0; ic < inC; ic++) {
    for (let iy = 0; iy < inH; iy++) {
      for (let ix = 0; ix < inW; ix++) {
        const v = x[(ic * inH + iy) * inW + ix];
        for (let oc = 0; oc < outC; oc++) {
          for (let ky = 0; ky < K; ky++) {
            const oy = 2 * iy - 2 + ky;
            if (oy < 0 || oy >= outH) continue;
            for (let kx = 0; kx < K; kx++) {
              const ox = 2 * ix - 2 + kx;
              if (ox < 0 || ox >= outW) continue;
              out[oc * outPlane + oy * outW + ox] += v * w[((ic * outC + oc) * K + ky) * K + kx];
            }
          }
        }
      }
    }
  }
}

/*
 * Phase (a, bb) — output rows of parity a, columns of parity bb — is a stride-1 correlation of x
 * with a (3 − a)×(3 − bb) kernel whose row r is dy = r − (1 − a), i.e. ky = 4 − a − 2r (likewise
 * columns): the 25 taps split 3·3 + 3·2 + 2·3 + 2·2 with none wasted, rows/columns ascending in dy/dx.
 */
const phaseTaps = (parity: number): number => 3 - parity;
const phasePad = (parity: number): number => 1 - parity;
const phaseKernelIndex = (parity: number, tap: number): number => 4 - parity - 2 * tap;

/**
 * Repacks PyTorch [inC, outC, 5, 5] weights for `transposedConv2d`: the four phases' kernels one
 * after another, (a, bb) = (0,0), (0,1), (1,0), (1,1), each in `correlatePacked`'s
 * [outC/8][inC][rows][cols][8] layout. Allocates: call once at load time.
 */
export function packTransposedConv2dWeights(w: Float32Array, d: TransposedConv2dDims): Float64Array {
  const { inC, outC } = d;
  checkLength('packTransposedConv2dWeights', 'w', w, inC * outC * K * K);
  // the four phases' kernels hold the 25 taps between them: 3·3 + 3·2 + 2·3 + 2·2
  const packed = new Float64Array(packedWeightsLength(outC, inC, K, K));
  let wOffset = 0;
  for (let a = 0; a < 2; a++) {
    for (let bb = 0; bb < 2; bb++) {
      const kh = phaseTaps(a), kw = phaseTaps(bb);
      for (let oc = 0; oc < outC; oc++) {
        const lane = oc % Pack.OC_LANES;
        const blockBase = wOffset + (oc - lane) * inC * kh * kw + lane;
        for (let ic = 0; ic < inC; ic++) phaseKernel(packed, blockBase + ic * kh * kw * Pack.OC_LANES, w, (ic * outC + oc) * K * K, a, bb);
      }
      wOffset += packedWeightsLength(outC, inC, kh, kw);
    }
  }
  return packed;
}

/**
 * Phase (a, bb)'s kernel of one (ic, oc), from its 5×5 taps at w[from …], into every 8th slot from packed[at]: a small
 * function the pack calls per kernel, which V8 optimizes after a few calls (a cold process otherwise ran the pack's
 * loops unoptimized, every widened weight a heap number).
 */
function phaseKernel(packed: Float64Array, at: number, w: Float32Array, from: number, a: number, bb: number): void {
  const kh = phaseTaps(a), kw = phaseTaps(bb);
  for (let r = 0; r < kh; r++) {
    const row = from + phaseKernelIndex(a, r) * K;
    for (let c = 0; c < kw; c++) packed[at + (r * kw + c) * Pack.OC_LANES] = w[row + phaseKernelIndex(bb, c)];
  }
}

/** Output positions start…start+size−1 of parity p: the first one's index in the window, their count, and its m = ⌊o/2⌋. */
function phaseRange(start: number, size: number, parity: number): { first: number; count: number; m: number } {
  const first = (parity - start) & 1;
  const count = first < size ? ((size - 1 - first) >> 1) + 1 : 0;
  return { first, count, m: (start + first - parity) / 2 };
}

/**
 * The fast form: each phase runs `correlatePacked` over its grid of (m, n), writing every other output
 * row and column of the window. pw comes from `packTransposedConv2dWeights`. Equals
 * `transposedConv2dSimple` bit for bit, for any window.
 */
export function transposedConv2d(out: Float32Array, x: Float32Array, pw: Float64Array, b: Float32Array, d: TransposedConv2dDims,
  win: TransposedConv2dWindow = wholeOutput(d)): void {
  checkTransposedConv2d('transposedConv2d', out, x, b, d, win);
  checkLength('transposedConv2d', 'pw', pw, packedWeightsLength(d.outC, d.inC, K, K));
  const { inC, inH, inW, outC } = d;
  const outPlane = win.outH * win.outW;
  let wOffset = 0;
  for (let a = 0; a < 2; a++) {
    const rows = phaseRange(win.outTop, win.outH, a);
    for (let bb = 0; bb < 2; bb++) {
      const cols = phaseRange(win.outLeft, win.outW, bb);
      const kh = phaseTaps(a), kw = phaseTaps(bb);
      if (rows.count > 0 && cols.count > 0) {
        // grid point (j, i) is m = rows.m + j, whose first tap is input row m − phasePad(a), i.e. row j − padY of x
        const padY = phasePad(a) + win.inTop - rows.m, padX = phasePad(bb) + win.inLeft - cols.m;
        correlatePacked(out, rows.first * win.outW + cols.first, outPlane, 2 * win.outW, 2, outC, rows.count, cols.count,
          x, inC, inH, inW, pw, wOffset, b, kh, kw, 1, padY, padX);
      }
      wOffset += packedWeightsLength(outC, inC, kh, kw);
    }
  }
}
