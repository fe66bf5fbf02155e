/**
 * Tiles: the image is processed region by region, each region with a halo as wide as the receptive field
 * of the layers that produce it, so a tile's output is byte-identical to the same pixels of a
 * whole-image pass (every kernel forms each output element in a fixed order from the inputs it reads,
 * and zero padding happens only at the padded image's true borders). Memory stays bounded by the tile
 * size, and tiles are independent work items for the worker pool.
 *
 * Coordinates are in the padded image (multiples of 16); ranges are half-open.
 */
import type { Latent, Range, Region, Tensor } from '../core/types.js';
import { winogradConvInput, winogradTconvInput } from '../../kernels/index.js';
import { analysis, recycle, tensor } from './tensor.js';
import type { Transform } from '../format/weights.js';

export const clip = (r: Range, size: number): Range => ({ start: Math.max(0, r.start), end: Math.min(size, r.end) });
const alignOut = (r: Range, step: number): Range => ({
  start: Math.floor(r.start / step) * step,
  end: Math.ceil(r.end / step) * step,
});
export const mapRegion = (g: Region, f: (r: Range) => Range): Region => ({ rows: f(g.rows), cols: f(g.cols) });

/**
 * Inputs that tconv 5×5/2 reads to produce outputs r: x[m−1 … m+1] gives outputs 2m, 2m+1, and the Winograd
 * kernel computes whole tiles of 4 m aligned to the image, each from its whole 6-row patch (see its READ ME FIRST).
 */
export const tconvInput = (r: Range): Range => winogradTconvInput(r);
/**
 * Pixels φ reads for outputs r: two 3×3 convs by Winograd, tiles aligned to the image, conv2's tiles reading conv1's
 * outputs, whose tiles read their patches (a halo of 5 to 8 pixels).
 */
export const fusionInput = (r: Range): Range => winogradConvInput(winogradConvInput(r, 1), 1);

export function cropTensor(t: Tensor, rows: Range, cols: Range): Tensor {
  const out = tensor(t.c, rows.end - rows.start, cols.end - cols.start);
  for (let c = 0; c < t.c; c++) {
    for (let y = rows.start; y < rows.end; y++) {
      const src = (c * t.h + y) * t.w;
      out.data.set(t.data.subarray(src + cols.start, src + cols.end), (c * out.h + y - rows.start) * out.w);
    }
  }
  return out;
}

/** The symbols (and means, where the latent has them), or the settled values, of a window of a latent; its decoder needs no indexes. */
export function cropLatent(l: Latent, rows: Range, cols: Range): Latent {
  const h = rows.end - rows.start;
  const w = cols.end - cols.start;
  const crop = <T extends Int16Array | Int32Array | Float32Array>(whole: T): T => {
    const part = new (whole.constructor as new (length: number) => T)(l.c * h * w);
    for (let c = 0; c < l.c; c++) {
      for (let y = rows.start; y < rows.end; y++) {
        const src = (c * l.h + y) * l.w;
        part.set(whole.subarray(src + cols.start, src + cols.end), (c * h + y - rows.start) * w);
      }
    }
    return part;
  };
  return { c: l.c, h, w, ...(l.symbols && { symbols: crop(l.symbols) }), ...(l.means && { means: crop(l.means) }), ...(l.values && { values: crop(l.values) }) };
}

/** Copies tile t (placed at `at` in the destination) into a whole [c, h, w] buffer. */
export function pasteTensor(dst: Float32Array, h: number, w: number, t: Tensor, at: Region): void {
  for (let c = 0; c < t.c; c++) {
    for (let y = 0; y < t.h; y++) {
      dst.set(t.data.subarray((c * t.h + y) * t.w, (c * t.h + y + 1) * t.w), (c * h + at.rows.start + y) * w + at.cols.start);
    }
  }
}

/**
 * The pixels an analysis transform of `layers` stride-2 convolutions reads for a latent region: every layer's whole
 * Winograd tiles with their patches, rounded out to the latent grid and clipped to the padded image.
 */
export function analysisPixels(layers: number, latentRegion: Region, size: { h: number; w: number }): Region {
  const scale = 2 ** layers;
  let needed = latentRegion;
  for (let i = 0; i < layers; i++) needed = mapRegion(needed, winogradConvInput);
  return { rows: clip(alignOut(needed.rows, scale), size.h), cols: clip(alignOut(needed.cols, scale), size.w) };
}

/**
 * An analysis transform's output over a latent region. `input(region)` supplies the transform's input
 * pixels over a pixel region (clipped to the padded image), a tensor this function then owns (and recycles).
 * The region holds every layer's whole Winograd tiles with their patches, which the layers place on the whole
 * image's tile grid (kernels/conv2d-winograd.ts): every kept output has the whole-image pass's bits.
 */
export function analyzeRegion(t: Transform, latentRegion: Region, size: { h: number; w: number },
  input: (r: Region) => Tensor): Tensor {
  const scale = 2 ** t.convs.length;
  const pixels = analysisPixels(t.convs.length, latentRegion, size);
  const x = input(pixels);
  const out = analysis(x, t, undefined, { y: pixels.rows.start, x: pixels.cols.start });
  recycle(x);
  const cropped = cropTensor(out,
    { start: latentRegion.rows.start - pixels.rows.start / scale, end: latentRegion.rows.end - pixels.rows.start / scale },
    { start: latentRegion.cols.start - pixels.cols.start / scale, end: latentRegion.cols.end - pixels.cols.start / scale });
  recycle(out);
  return cropped;
}

/** A tile's size in pixels of the padded image: rows × columns, multiples of 16 (any size gives the same bytes). */
export interface TileShape {
  rows: number;
  cols: number;
}

export const squareTile = (side: number): TileShape => ({ rows: side, cols: side });

/** Split [0, h) × [0, w) into tiles of at most `tile` rows × `tileCols` columns, row by row. */
export function tileGrid(h: number, w: number, tile: number, tileCols = tile): Region[] {
  const tiles: Region[] = [];
  for (let y = 0; y < h; y += tile) {
    for (let x = 0; x < w; x += tileCols) {
      tiles.push({ rows: { start: y, end: Math.min(h, y + tile) }, cols: { start: x, end: Math.min(w, x + tileCols) } });
    }
  }
  return tiles;
}
