/**
 * PyTorch ConvTranspose2d(kernel 5, stride 2, padding 2, output_padding 1) of one CHW image: the
 * output is exactly 2·inH × 2·inW. Weights are PyTorch's [inC, outC, 5, 5], bias [outC].
 *
 * Gather (phase) form, which never multiplies the zeros a stride-2 upsampling would stuff in: output
 * pixel (oy, ox) = (2m + a, 2n + bb) is
 *   bias + Σ_ic Σ_{dy=−1,0,1} Σ_{dx=−1,0,1} x[ic, m+dy, n+dx] · w[ic, oc, a+2−2dy, bb+2−2dx],
 * where taps whose kernel index is 5 (a = 1, dy = −1) do not exist and input positions outside the
 * image are skipped. This file holds the definition (gather and scatter forms, for the tests); the engine
 * runs the Winograd form, transposed-conv2d-winograd.ts.
 */
import { checkLength } from './check.js';

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
