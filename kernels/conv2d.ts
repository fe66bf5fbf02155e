/**
 * 2-D convolution (PyTorch Conv2d semantics: cross-correlation, zero padding) of one CHW image.
 *
 * Determinism contract: every output element is summed in one double, starting from its bias, then
 * ic ascending, ky ascending, kx ascending, skipping taps that fall outside the input, and is rounded
 * to float32 only when stored. `conv2d` reorders only the loops around that per-element order, so it
 * equals `conv2dSimple` bit for bit, and an element's value depends only on the input it reads, never
 * on where the image (or a tile of it) starts or ends.
 */

export interface Conv2dDims {
  inC: number;
  inH: number;
  inW: number;
  outC: number;
  outH: number;
  outW: number;
  /** Square kernel size. */
  k: number;
  stride: number;
  pad: number;
}

/** Output channels computed together by the fast kernels; packed weights interleave them. */
export const OC_BLOCK = 4;
/** Output pixels of one row computed together by the fast interior loop. */
const PIXEL_BLOCK = 4;

/** The naive definition. w is PyTorch's [outC, inC, k, k], b is [outC]. */
export function conv2dSimple(out: Float32Array, x: Float32Array, w: Float32Array, b: Float32Array, d: Conv2dDims): void {
  const { inC, inH, inW, outC, outH, outW, k, stride, pad } = d;
  for (let oc = 0; oc < outC; oc++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        let acc = b[oc]!;
        for (let ic = 0; ic < inC; ic++) {
          for (let ky = 0; ky < k; ky++) {
            const iy = oy * stride - pad + ky;
            if (iy < 0 || iy >= inH) continue;
            for (let kx = 0; kx < k; kx++) {
              const ix = ox * stride - pad + kx;
              if (ix < 0 || ix >= inW) continue;
              acc += x[(ic * inH + iy) * inW + ix]! * w[((oc * inC + ic) * k + ky) * k + kx]!;
            }
          }
        }
        out[(oc * outH + oy) * outW + ox] = acc;
      }
    }
  }
}

/** Length of the packed weight array of a kernel with kh×kw taps (padded to whole OC_BLOCKs). */
export function packedWeightsLength(outC: number, inC: number, kh: number, kw: number): number {
  return Math.ceil(outC / OC_BLOCK) * inC * kh * kw * OC_BLOCK;
}

/**
 * Repacks PyTorch [outC, inC, k, k] weights for `conv2d`: [outC/4][inC][k][k][4], so the 4 output
 * channels of a block read their weights for one tap from 4 adjacent floats. The lanes of a last,
 * partial block are zero; they are computed but never stored. Allocates: call once at load time.
 */
export function packConv2dWeights(w: Float32Array, d: Conv2dDims): Float32Array {
  const { inC, outC, k } = d;
  const packed = new Float32Array(packedWeightsLength(outC, inC, k, k));
  for (let oc = 0; oc < outC; oc++) {
    const lane = oc % OC_BLOCK;
    const blockBase = (oc - lane) * inC * k * k;
    for (let ic = 0; ic < inC; ic++) {
      for (let ky = 0; ky < k; ky++) {
        for (let kx = 0; kx < k; kx++) {
          packed[blockBase + ((ic * k + ky) * k + kx) * OC_BLOCK + lane] = w[((oc * inC + ic) * k + ky) * k + kx]!;
        }
      }
    }
  }
  return packed;
}

/** The fast convolution; pw comes from `packConv2dWeights`. Equals `conv2dSimple` bit for bit. */
export function conv2d(out: Float32Array, x: Float32Array, pw: Float32Array, b: Float32Array, d: Conv2dDims): void {
  const { inC, inH, inW, outC, outH, outW, k, stride, pad } = d;
  correlatePacked(out, 0, outH * outW, outW, 1, outC, outH, outW, x, inC, inH, inW, pw, 0, b, k, k, stride, pad, pad);
}

/**
 * The engine behind `conv2d` and the phases of `transposedConv2d`: correlates x with a packed kh×kw
 * kernel (layout [outC/4][inC][kh][kw][4] starting at pw[wOffset]) at the given stride and padding,
 * over an outH×outW grid whose element (oc, oy, ox) is stored at
 * out[outOffset + oc·outChannelStride + oy·outRowStride + ox·outPixelStride].
 * Per output row it clips the kernel rows to the image once; columns whose taps all lie inside the
 * image go through the blocked kernel, the others (borders, leftovers) one pixel at a time with
 * clipped columns. Each element still sums bias, ic, row, column ascending over its valid taps.
 */
export function correlatePacked(
  out: Float32Array,
  outOffset: number,
  outChannelStride: number,
  outRowStride: number,
  outPixelStride: number,
  outC: number,
  outH: number,
  outW: number,
  x: Float32Array,
  inC: number,
  inH: number,
  inW: number,
  pw: Float32Array,
  wOffset: number,
  b: Float32Array,
  kh: number,
  kw: number,
  stride: number,
  padY: number,
  padX: number,
): void {
  const inPlane = inH * inW;
  const wRowStride = kw * OC_BLOCK;
  const wIcStride = kh * wRowStride;
  // Output columns whose kw taps all lie inside the input row: ox·stride − padX ≥ 0 and ox·stride − padX + kw ≤ inW.
  const interiorStart = Math.min(outW, Math.ceil(padX / stride));
  const interiorEnd = Math.max(interiorStart, Math.min(outW, Math.floor((inW + padX - kw) / stride) + 1));
  for (let oc0 = 0; oc0 < outC; oc0 += OC_BLOCK) {
    const ocCount = Math.min(OC_BLOCK, outC - oc0);
    const wBlock = wOffset + (oc0 / OC_BLOCK) * inC * wIcStride;
    const outBlock = outOffset + oc0 * outChannelStride;
    for (let oy = 0; oy < outH; oy++) {
      const iyTop = oy * stride - padY;
      const rowStart = Math.max(0, -iyTop);
      const rows = Math.min(kh, inH - iyTop) - rowStart;
      if (rows <= 0) {
        for (let ox = 0; ox < outW; ox++) storeBias(out, outBlock + oy * outRowStride + ox * outPixelStride, outChannelStride, ocCount, b, oc0);
        continue;
      }
      const xRow = (iyTop + rowStart) * inW;
      const wRow = wBlock + rowStart * wRowStride;
      const outRow = outBlock + oy * outRowStride;
      for (let ox = 0; ox < outW; ) {
        const ixLeft = ox * stride - padX;
        const outIndex = outRow + ox * outPixelStride;
        if (ox >= interiorStart && ox + PIXEL_BLOCK <= interiorEnd) {
          correlateBlock(out, outIndex, outChannelStride, outPixelStride, ocCount, b, oc0, x, xRow + ixLeft, stride, inPlane, inW, inC, pw, wRow, wIcStride, wRowStride, rows, kw);
          ox += PIXEL_BLOCK;
          continue;
        }
        const colStart = Math.max(0, -ixLeft);
        const cols = Math.min(kw, inW - ixLeft) - colStart;
        if (cols <= 0) storeBias(out, outIndex, outChannelStride, ocCount, b, oc0);
        else correlatePixel(out, outIndex, outChannelStride, ocCount, b, oc0, x, xRow + ixLeft + colStart, inPlane, inW, inC, pw, wRow + colStart * OC_BLOCK, wIcStride, wRowStride, rows, cols);
        ox++;
      }
    }
  }
}

/** Output elements with no valid tap are just their bias. */
function storeBias(out: Float32Array, outIndex: number, outChannelStride: number, ocCount: number, b: Float32Array, oc0: number): void {
  for (let lane = 0; lane < ocCount; lane++) out[outIndex + lane * outChannelStride] = b[oc0 + lane]!;
}

/** Bias of a lane; lanes past the last channel are computed but never stored. */
function laneBias(b: Float32Array, oc0: number, lane: number, ocCount: number): number {
  return lane < ocCount ? b[oc0 + lane]! : 0;
}

/** Stores the lanes that are real channels. */
function storeLanes(out: Float32Array, outIndex: number, outChannelStride: number, ocCount: number, a0: number, a1: number, a2: number, a3: number): void {
  out[outIndex] = a0;
  if (ocCount > 1) out[outIndex + outChannelStride] = a1;
  if (ocCount > 2) out[outIndex + 2 * outChannelStride] = a2;
  if (ocCount > 3) out[outIndex + 3 * outChannelStride] = a3;
}

/**
 * 4 output channels × 1 output pixel over a rows×cols window of taps. xIndex and wIndex address the
 * window's first tap for ic = 0.
 */
function correlatePixel(
  out: Float32Array,
  outIndex: number,
  outChannelStride: number,
  ocCount: number,
  b: Float32Array,
  oc0: number,
  x: Float32Array,
  xIndex: number,
  inPlane: number,
  inW: number,
  inC: number,
  pw: Float32Array,
  wIndex: number,
  wIcStride: number,
  wRowStride: number,
  rows: number,
  cols: number,
): void {
  let a0 = laneBias(b, oc0, 0, ocCount);
  let a1 = laneBias(b, oc0, 1, ocCount);
  let a2 = laneBias(b, oc0, 2, ocCount);
  let a3 = laneBias(b, oc0, 3, ocCount);
  for (let ic = 0; ic < inC; ic++) {
    for (let r = 0; r < rows; r++) {
      let xi = xIndex + ic * inPlane + r * inW;
      let wi = wIndex + ic * wIcStride + r * wRowStride;
      for (let c = 0; c < cols; c++, xi++, wi += OC_BLOCK) {
        const v = x[xi]!;
        a0 += v * pw[wi]!;
        a1 += v * pw[wi + 1]!;
        a2 += v * pw[wi + 2]!;
        a3 += v * pw[wi + 3]!;
      }
    }
  }
  storeLanes(out, outIndex, outChannelStride, ocCount, a0, a1, a2, a3);
}

/**
 * 4 output channels × PIXEL_BLOCK (4) adjacent output pixels whose rows×cols taps all lie inside the
 * image; input pixel p of a tap sits xPixelStride·p after pixel 0's. 16 accumulators, each summed in
 * the contract's order.
 */
function correlateBlock(
  out: Float32Array,
  outIndex: number,
  outChannelStride: number,
  outPixelStride: number,
  ocCount: number,
  b: Float32Array,
  oc0: number,
  x: Float32Array,
  xIndex: number,
  xPixelStride: number,
  inPlane: number,
  inW: number,
  inC: number,
  pw: Float32Array,
  wIndex: number,
  wIcStride: number,
  wRowStride: number,
  rows: number,
  cols: number,
): void {
  const b0 = laneBias(b, oc0, 0, ocCount);
  const b1 = laneBias(b, oc0, 1, ocCount);
  const b2 = laneBias(b, oc0, 2, ocCount);
  const b3 = laneBias(b, oc0, 3, ocCount);
  let a00 = b0, a01 = b0, a02 = b0, a03 = b0;
  let a10 = b1, a11 = b1, a12 = b1, a13 = b1;
  let a20 = b2, a21 = b2, a22 = b2, a23 = b2;
  let a30 = b3, a31 = b3, a32 = b3, a33 = b3;
  const s1 = xPixelStride, s2 = 2 * xPixelStride, s3 = 3 * xPixelStride;
  for (let ic = 0; ic < inC; ic++) {
    for (let r = 0; r < rows; r++) {
      let xi = xIndex + ic * inPlane + r * inW;
      let wi = wIndex + ic * wIcStride + r * wRowStride;
      for (let c = 0; c < cols; c++, xi++, wi += OC_BLOCK) {
        const w0 = pw[wi]!, w1 = pw[wi + 1]!, w2 = pw[wi + 2]!, w3 = pw[wi + 3]!;
        const v0 = x[xi]!, v1 = x[xi + s1]!, v2 = x[xi + s2]!, v3 = x[xi + s3]!;
        a00 += v0 * w0; a01 += v1 * w0; a02 += v2 * w0; a03 += v3 * w0;
        a10 += v0 * w1; a11 += v1 * w1; a12 += v2 * w1; a13 += v3 * w1;
        a20 += v0 * w2; a21 += v1 * w2; a22 += v2 * w2; a23 += v3 * w2;
        a30 += v0 * w3; a31 += v1 * w3; a32 += v2 * w3; a33 += v3 * w3;
      }
    }
  }
  storeLanes(out, outIndex, outChannelStride, ocCount, a00, a10, a20, a30);
  storeLanes(out, outIndex + outPixelStride, outChannelStride, ocCount, a01, a11, a21, a31);
  storeLanes(out, outIndex + 2 * outPixelStride, outChannelStride, ocCount, a02, a12, a22, a32);
  storeLanes(out, outIndex + 3 * outPixelStride, outChannelStride, ocCount, a03, a13, a23, a33);
}
