/**
 * Paper step 2, the dual-branch encoder:
 *   main:     ŷ-symbols = Q(A_m(f_m(x)) ⊙ g_q),  x̂_m = g_m(ŷ)        (x̂_m exactly as the decoder will see it)
 *   residual: r = x − x̂_m,  ẑ-symbols = Q(A_r(f_r(r)) ⊙ h_q)
 * The convolutional parts run tile by tile (src/tiling.ts); attention needs global pools, so it runs on
 * the whole latent between the two tile passes.
 */
import { attention } from './attention.js';
import { levelRow, quantize, type Latent } from './bottleneck.js';
import type { RgbImage } from './image-io.js';
import { paddedSize, toPaddedPlanes } from './preprocess.js';
import { recycle, tensor, type Tensor } from './tensor.js';
import { mainReconstruction } from './decoder.js';
import { analyzeRegion, pasteTensor, tileGrid, type Region } from './tiling.js';
import type { AttentionWeights, Weights } from './weights.js';

/** Encoder tiles: 512 px keeps the halo recomputation (≈30 px a side) near 15 % of the work; a tile's activations peak near 40 MB. */
export const ENCODE_TILE = 512;
/** Above this many (padded) pixels, tiles of half the size: ≈ 15 % more work, a quarter of the activations per worker. */
const LARGE_IMAGE_PIXELS = 4 * 1024 * 1024;

export interface PaddedSize {
  h: number;
  w: number;
}

export function paddedSizeOf(img: RgbImage): PaddedSize {
  return { h: paddedSize(img.height), w: paddedSize(img.width) };
}

/** The default encoder tile of an image (any tile gives the same bytes). */
export function encodeTile(size: PaddedSize): number {
  return size.h * size.w > LARGE_IMAGE_PIXELS ? ENCODE_TILE / 2 : ENCODE_TILE;
}

/** f_m(x) over a region of the 1/16 latent grid. */
export function mainAnalysisTile(img: RgbImage, w: Weights, region: Region): Tensor {
  return analyzeRegion(w.mainEncoder, region, paddedSizeOf(img), (r) => toPaddedPlanes(img.data, img.width, img.height, r));
}

/** f_r(x − x̂_m) over a region of the 1/8 latent grid. */
export function residualAnalysisTile(img: RgbImage, y: Latent, w: Weights, level: number, region: Region): Tensor {
  return analyzeRegion(w.resEncoder, region, paddedSizeOf(img), (r) => {
    const x = toPaddedPlanes(img.data, img.width, img.height, r);
    const xMain = mainReconstruction(y, w, level, r);
    for (let i = 0; i < x.data.length; i++) x.data[i] -= xMain.data[i];
    recycle(xMain);
    return x;
  });
}

/** Copies a tile's features into the whole latent's, and recycles the tile. */
export function pasteTile(features: Tensor, t: Tensor, region: Region): void {
  pasteTensor(features.data, features.h, features.w, t, region);
  recycle(t);
}

/** Latent tiles of an image: the tile grid at 1/scale of the padded size. */
export function latentTiles(size: PaddedSize, scale: number, tile: number): Region[] {
  return tileGrid(size.h / scale, size.w / scale, tile / scale);
}

/**
 * Attention and quantisation in place: the features' buffer becomes the symbols' (the features are consumed),
 * so a latent never needs a second whole-latent array; symbols of shared features are shared.
 */
function quantizeInPlace(features: Tensor, a: AttentionWeights, gains: Float32Array, medians: Float32Array): Latent {
  const { buffer, byteOffset, length } = features.data;
  return quantize(attention(features, a, features), gains, medians, new Int32Array(buffer, byteOffset, length));
}

export function quantizeMain(features: Tensor, w: Weights, level: number): Latent {
  const { M } = w.config;
  return quantizeInPlace(features, w.mainAttention, levelRow(w.gainY, level, M), levelRow(w.entropyY.median, level, M));
}

export function quantizeResidual(features: Tensor, w: Weights, level: number): Latent {
  const { Mr } = w.config;
  return quantizeInPlace(features, w.resAttention, levelRow(w.gainZ, level, Mr), levelRow(w.entropyZ.median, level, Mr));
}

export function encodeLatents(img: RgbImage, w: Weights, level: number, tile?: number): { y: Latent; z: Latent } {
  const size = paddedSizeOf(img);
  tile ??= encodeTile(size);
  const features = tensor(w.config.M, size.h / 16, size.w / 16);
  for (const region of latentTiles(size, 16, tile)) pasteTile(features, mainAnalysisTile(img, w, region), region);
  const y = quantizeMain(features, w, level);
  const resFeatures = tensor(w.config.Mr, size.h / 8, size.w / 8);
  for (const region of latentTiles(size, 8, tile)) pasteTile(resFeatures, residualAnalysisTile(img, y, w, level, region), region);
  return { y, z: quantizeResidual(resFeatures, w, level) };
}
