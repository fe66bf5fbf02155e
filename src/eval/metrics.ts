/**
 * Quality and rate metrics. msSsim is the trainer's ms_ssim (train/model.py) computed in float64, so numbers
 * reported by aara and by training are comparable; test/fixtures/metrics.json pins the agreement (1e-12 with the
 * trainer's maths, ~5e-7 with the trainer as it runs: it normalises its Gaussian window in float32).
 */
import { fail } from '../core/errors.js';
import type { RgbImage } from '../io/pixels.js';

const PEAK = 255;

/** PSNR in dB over all bytes of two equally long 8-bit buffers; Infinity when they are identical. */
export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length || a.length === 0) {
    fail('BAD_PIXELS', `PSNR needs two non-empty buffers of equal length, got ${a.length} and ${b.length} bytes`);
  }
  let squaredError = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    squaredError += d * d;
  }
  if (squaredError === 0) return Infinity;
  return 10 * Math.log10((PEAK * PEAK * a.length) / squaredError);
}

/** Bits per pixel of a file of `fileBytes` bytes holding a width×height image. */
export function bpp(fileBytes: number, width: number, height: number): number {
  if (!(width > 0 && height > 0)) fail('BAD_DIMENSIONS', `bpp needs a positive size, got ${width}×${height}`);
  return (8 * fileBytes) / (width * height);
}

const MS_SSIM_WEIGHTS = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];
const MAX_WINDOW = 11;
const SIGMA = 1.5;
const C1 = (0.01 * PEAK) ** 2;
const C2 = (0.03 * PEAK) ** 2;

/**
 * 5-scale MS-SSIM (Wang et al. 2003) as train/model.py computes it: per channel, a separable normalised Gaussian
 * window (11 taps, σ 1.5, shrunk to min(11, H, W) at small scales), valid filtering, contrast-structure means at
 * scales 1–4 and the SSIM mean at scale 5, each clamped at 0, combined as Π value^weight; averaged over R, G, B.
 * Between scales, 2×2 average pooling after replicating the last row/column of an odd dimension.
 */
export function msSsim(a: RgbImage, b: RgbImage): number {
  checkSameImageSize(a, b);
  let sum = 0;
  for (let channel = 0; channel < 3; channel++) {
    let x = channelOf(a, channel);
    let y = channelOf(b, channel);
    let product = 1;
    for (let scale = 0; scale < MS_SSIM_WEIGHTS.length; scale++) {
      const last = scale === MS_SSIM_WEIGHTS.length - 1;
      const { ssim, cs } = ssimMeans(x, y);
      product *= Math.max(0, last ? ssim : cs) ** MS_SSIM_WEIGHTS[scale];
      if (!last) {
        x = halve(x);
        y = halve(y);
      }
    }
    sum += product;
  }
  return sum / 3;
}

function checkSameImageSize(a: RgbImage, b: RgbImage): void {
  for (const img of [a, b]) {
    const sized = Number.isSafeInteger(img.width) && Number.isSafeInteger(img.height) && img.width >= 1 && img.height >= 1;
    if (!sized || img.data.length !== img.width * img.height * 3) {
      fail('BAD_PIXELS', `MS-SSIM needs RGB images with width·height·3 bytes, got ${img.width}×${img.height} and ${img.data.length} bytes`);
    }
  }
  if (a.width !== b.width || a.height !== b.height) {
    fail('BAD_DIMENSIONS', `MS-SSIM compares images of one size, got ${a.width}×${a.height} and ${b.width}×${b.height}`);
  }
}

/** One colour channel in Float64, row-major. */
interface Plane {
  width: number;
  height: number;
  values: Float64Array;
}

function channelOf(img: RgbImage, channel: number): Plane {
  const values = new Float64Array(img.width * img.height);
  for (let i = 0; i < values.length; i++) values[i] = img.data[i * 3 + channel];
  return { width: img.width, height: img.height, values };
}

function gaussianWindow(size: number): Float64Array {
  const window = new Float64Array(size);
  let total = 0;
  for (let i = 0; i < size; i++) {
    window[i] = Math.exp(-((i - (size - 1) / 2) ** 2) / (2 * SIGMA * SIGMA));
    total += window[i];
  }
  return window.map((v) => v / total);
}

/**
 * Means of the SSIM and contrast-structure maps over the valid window positions. The five local moments
 * (μx, μy, E[x²], E[y²], E[xy]) are filtered row by row through a ring of the last `size` horizontally filtered
 * rows, so memory stays O(size·width) whatever the image height.
 */
function ssimMeans(x: Plane, y: Plane): { ssim: number; cs: number } {
  const { width, height } = x;
  const size = Math.min(MAX_WINDOW, width, height);
  const window = gaussianWindow(size);
  const outWidth = width - size + 1;
  const outHeight = height - size + 1;
  const MOMENTS = 5;
  const ring = new Float64Array(size * MOMENTS * outWidth); // [ring row][moment][column]
  const filterRowInto = (row: number) => {
    const base = (row % size) * MOMENTS * outWidth;
    const xs = x.values;
    const ys = y.values;
    for (let col = 0; col < outWidth; col++) {
      let mx = 0;
      let my = 0;
      let mxx = 0;
      let myy = 0;
      let mxy = 0;
      for (let t = 0; t < size; t++) {
        const i = row * width + col + t;
        const w = window[t];
        const xv = xs[i];
        const yv = ys[i];
        mx += w * xv;
        my += w * yv;
        mxx += w * xv * xv;
        myy += w * yv * yv;
        mxy += w * xv * yv;
      }
      ring[base + col] = mx;
      ring[base + outWidth + col] = my;
      ring[base + 2 * outWidth + col] = mxx;
      ring[base + 3 * outWidth + col] = myy;
      ring[base + 4 * outWidth + col] = mxy;
    }
  };
  for (let row = 0; row < size - 1; row++) filterRowInto(row);
  let ssimSum = 0;
  let csSum = 0;
  for (let outRow = 0; outRow < outHeight; outRow++) {
    filterRowInto(outRow + size - 1);
    for (let col = 0; col < outWidth; col++) {
      let muX = 0;
      let muY = 0;
      let exx = 0;
      let eyy = 0;
      let exy = 0;
      for (let t = 0; t < size; t++) {
        const base = ((outRow + t) % size) * MOMENTS * outWidth + col;
        const w = window[t];
        muX += w * ring[base];
        muY += w * ring[base + outWidth];
        exx += w * ring[base + 2 * outWidth];
        eyy += w * ring[base + 3 * outWidth];
        exy += w * ring[base + 4 * outWidth];
      }
      // Same formulas as the trainer (variance as E[x²] − μ², not a two-pass sum) so the roundings agree.
      const varX = exx - muX * muX;
      const varY = eyy - muY * muY;
      const cov = exy - muX * muY;
      const cs = (2 * cov + C2) / (varX + varY + C2);
      csSum += cs;
      ssimSum += ((2 * muX * muY + C1) / (muX * muX + muY * muY + C1)) * cs;
    }
  }
  const count = outWidth * outHeight;
  return { ssim: ssimSum / count, cs: csSum / count };
}

/** 2×2 average pooling; an odd last row/column is paired with a copy of itself (replicate padding). */
function halve(plane: Plane): Plane {
  const { width, height, values } = plane;
  const outWidth = Math.ceil(width / 2);
  const outHeight = Math.ceil(height / 2);
  const out = new Float64Array(outWidth * outHeight);
  for (let r = 0; r < outHeight; r++) {
    const top = 2 * r * width;
    const bottom = Math.min(2 * r + 1, height - 1) * width;
    for (let c = 0; c < outWidth; c++) {
      const left = 2 * c;
      const right = Math.min(2 * c + 1, width - 1);
      out[r * outWidth + c] = (values[top + left] + values[top + right] + values[bottom + left] + values[bottom + right]) / 4;
    }
  }
  return { width: outWidth, height: outHeight, values: out };
}
