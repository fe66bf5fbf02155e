/**
 * Paper step 1, input preprocessing: RGB bytes → planar float x = pixel/255, padded to a multiple of the
 * total stride (16) by edge replication. And its inverse for the output: clamp(round(255·x̂)), cropped.
 */
import type { Tensor } from './tensor.js';

export const TOTAL_STRIDE = 16;

export function paddedSize(n: number): number {
  return Math.ceil(n / TOTAL_STRIDE) * TOTAL_STRIDE;
}

/** Interleaved RGB (w·h·3 bytes) → [3, H', W'] with H', W' multiples of 16, edges replicated. */
export function toPaddedPlanes(rgb: Uint8Array, width: number, height: number): Tensor {
  const h = paddedSize(height);
  const w = paddedSize(width);
  const data = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) {
    const plane = c * h * w;
    for (let y = 0; y < h; y++) {
      const srcRow = Math.min(y, height - 1) * width;
      const dstRow = plane + y * w;
      for (let x = 0; x < w; x++) {
        data[dstRow + x] = rgb[(srcRow + Math.min(x, width - 1)) * 3 + c] / 255;
      }
    }
  }
  return { c: 3, h, w, data };
}

/** [3, H', W'] floats → interleaved RGB bytes of the top-left width × height: clamp(round(255·x)). */
export function toRgbBytes(t: Tensor, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  const plane = t.h * t.w;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      const src = c * plane + y * t.w;
      const dst = y * width * 3 + c;
      for (let x = 0; x < width; x++) {
        // round half to even like torch.round; Uint8Array would truncate, so clamp explicitly
        const v = roundHalfEven(255 * t.data[src + x]);
        out[dst + x * 3] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return out;
}

/** torch.round semantics (ties to even), so the engine's symbols match the trainer's. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
