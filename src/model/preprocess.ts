/**
 * Paper step 1, input preprocessing: RGB bytes → planar float x = pixel/255, padded to a multiple of the
 * total stride (16) by edge replication. And its inverse for the output: clamp(round(255·x̂)), cropped.
 */
import { roundHalfEven, TOTAL_STRIDE, type Region, type Tensor } from '../core/types.js';
import { tensor } from './tensor.js';

export function paddedSize(n: number): number {
  return Math.ceil(n / TOTAL_STRIDE) * TOTAL_STRIDE;
}

/**
 * Interleaved RGB (width·height·3 bytes) → planes [3, rows, cols] of the padded image (sizes rounded up
 * to multiples of 16, edges replicated) over `region` (default: all of it).
 */
export function toPaddedPlanes(rgb: Uint8Array, width: number, height: number,
  region: Region = { rows: { start: 0, end: paddedSize(height) }, cols: { start: 0, end: paddedSize(width) } }): Tensor {
  const h = region.rows.end - region.rows.start;
  const w = region.cols.end - region.cols.start;
  const planes = tensor(3, h, w);
  const data = planes.data;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) {
      const srcRow = Math.min(region.rows.start + y, height - 1) * width;
      const dstRow = (c * h + y) * w;
      for (let x = 0; x < w; x++) {
        data[dstRow + x] = rgb[(srcRow + Math.min(region.cols.start + x, width - 1)) * 3 + c] / 255;
      }
    }
  }
  return planes;
}

/** Writes tile t (a [3, …] block of x̂ placed at `at` in the padded image) as clamp(round(255·x̂)) bytes. */
export function writeRgbTile(out: Uint8Array, width: number, height: number, t: Tensor, at: Region): void {
  const rows = Math.min(t.h, height - at.rows.start);
  const cols = Math.min(t.w, width - at.cols.start);
  // a row is a function called per row: optimized early in a cold process, where this loop waited for an OSR compile
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < rows; y++) writeRgbRow(out, ((at.rows.start + y) * width + at.cols.start) * 3 + c, t.data, (c * t.h + y) * t.w, cols);
  }
}

function writeRgbRow(out: Uint8Array, dst: number, x: Float32Array, src: number, cols: number): void {
  for (let i = 0; i < cols; i++) {
    // round half to even like torch.round; a Uint8Array store would truncate, so clamp explicitly
    const v = roundHalfEven(255 * x[src + i]);
    out[dst + i * 3] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}
