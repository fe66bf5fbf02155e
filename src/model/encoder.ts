/**
 * Paper step 2, the dual-branch encoder:
 *   main:     ŷ-symbols = Q(A_m(f_m(x)) ⊙ g_q),  x̂_m = g_m(ŷ)        (x̂_m exactly as the decoder will see it)
 *   residual: r = x − x̂_m,  ẑ-symbols = Q(A_r(f_r(r)) ⊙ h_q)
 * (Q subtracts the prior's centre μ; the hyper kind's μ comes from its priors, src/model/priors.ts, which also
 * give ŵ.) The convolutional parts run tile by tile (src/model/tiling.ts); attention and the priors work on the
 * whole latent, between the two tile passes.
 */
import { RESIDUAL_STRIDE, TOTAL_STRIDE, type Latent, type Latents, type Range, type Region, type Tensor } from '../core/types.js';
import { attention } from './attention.js';
import { levelRow, quantize, type Centers } from './bottleneck.js';
import type { RgbImage } from '../io/pixels.js';
import { paddedSize, toPaddedPlanes } from './preprocess.js';
import { convBand, gdnLayer, recycle, tensor } from './tensor.js';
import { mainReconstruction } from './decoder.js';
import { finishPass, hyperAnalysis, mainCenters, mainSteps, priorBand, residualCenters, residualSteps, runPass, startPass, withCenters, type PassLatents, type PriorPass } from './priors.js';
import { analyzeRegion, clip, pasteTensor, squareTile, tileGrid, type TileShape } from './tiling.js';
import { winogradConvInput } from '../../kernels/index.js';
import type { Transform, Weights } from '../format/weights.js';

/** Encoder tiles: 512 px keeps the halo recomputation (≈ 56 px an inner side) near 15 % of the work; a tile's activations peak near 40 MB. */
export const ENCODE_TILE = 512;
/**
 * Up to this many padded pixels (Kodak's 768 × 512), an image is one tile: its two 512-px tiles did 14 % more work
 * (counted: bench/tile-work.ts), for 15–19 MB more peak memory (182 vs 163 MB encoding kodim23 with the shipped weights).
 */
const ONE_TILE_PIXELS = 768 * 512;
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
export function encodeTile(size: PaddedSize): TileShape {
  if (size.h * size.w <= ONE_TILE_PIXELS) return { rows: size.h, cols: size.w };
  return squareTile(size.h * size.w > LARGE_IMAGE_PIXELS ? ENCODE_TILE / 2 : ENCODE_TILE);
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

/**
 * Rows `rows` of layer `layer`'s whole output of an analysis transform (f_m, or f_r with `xMain`), every column: how the
 * pool encodes an image of up to one tile, a layer at a time (src/parallel/bands.ts). `x` is the layer's whole input;
 * for layer 0, undefined: the pixels it reads (less x̂_m's, for f_r) are taken here. Each element has the bits of the
 * tiles' pass (the kernels place their tiles on the whole image: tiling.ts).
 */
export function analysisBand(img: RgbImage, xMain: Tensor | undefined, t: Transform, layer: number, x: Tensor | undefined,
  rows: Range): Tensor {
  let input = x, top = 0;
  if (!input) {
    const size = paddedSizeOf(img);
    const pixels = clip(winogradConvInput(rows), size.h);
    input = toPaddedPlanes(img.data, img.width, img.height, { rows: pixels, cols: { start: 0, end: size.w } });
    top = pixels.start;
    if (xMain) {
      const at = top * size.w, plane = size.h * size.w, part = input.h * size.w;
      for (let c = 0; c < 3; c++) for (let i = 0; i < part; i++) input.data[c * part + i] -= xMain.data[c * plane + at + i];
    }
  }
  const band = convBand(input, t.convs[layer], top, rows);
  if (!x) recycle(input);
  return layer < t.gdns.length ? gdnLayer(band, t.gdns[layer], false, band) : band;
}

/** Copies a tile's (or band's) output into the whole tensor's, and recycles the tile. */
export function pasteTile(features: Tensor, t: Tensor, region: Region): void {
  pasteTensor(features.data, features.h, features.w, t, region);
  recycle(t);
}

/** Latent tiles of an image: the tile grid at 1/scale of the padded size. */
export function latentTiles(size: PaddedSize, scale: number, tile: TileShape): Region[] {
  return tileGrid(size.h / scale, size.w / scale, tile.rows / scale, tile.cols / scale);
}

/** Symbols in the features' own buffer (each element is read before its slot is written): no second whole-latent array. */
const inPlace = (features: Tensor) => new Int32Array(features.data.buffer, features.data.byteOffset, features.data.length);

/**
 * ŷ (and the hyper kind's ŵ) from f_m(x): attention, then quantisation in place: the features are consumed
 * and their buffer becomes ŷ's symbols, step by step (mainSteps): the ycontext kind quantises ŷ's anchors first, then
 * its other elements with the centres its anchors give them (the others' slots hold their float32 features meanwhile);
 * the ychannel kind each in channel halves.
 */
export function quantizeMain(features: Tensor, w: Weights, level: number): Pick<Latents, 'y' | 'hyper'> {
  const { M, Nh } = w.config;
  const a = attention(features, w.mainAttention, features);
  const gains = levelRow(w.gainY, level, M);
  if (!w.hyper) return { y: quantize(a, gains, { medians: levelRow(w.entropyY!.median, level, M) }, inPlace(a)) };
  const hyperFeatures = hyperAnalysis(a, w, level);
  const hyper = quantize(hyperFeatures, levelRow(w.hyper.gainW, level, Nh), { medians: levelRow(w.hyper.entropyW.median, level, Nh) });
  recycle(hyperFeatures);
  const centers = mainCenters(hyper, w, level, a);
  const [first, ...later] = mainSteps(w);
  const y = quantize(a, gains, centers, inPlace(a), first.part, first.channels);
  withCenters(y, centers);
  for (const step of later) {
    runPass(startPass(step.pass!, { y, hyper }, w, undefined, 'y'), { y, hyper }, w, level);
    quantize(a, gains, centers, y.symbols as Int32Array, step.part, step.channels);
  }
  return { y, hyper };
}

/**
 * The centres ẑ will be quantised with: the factorized medians, or the hyper kind's prior from ŷ. Computed before
 * the residual pass, which then reuses g_m's first layer (ŷ's `head`) that the prior computes anyway.
 */
export function residualCentersOf(y: Latent, w: Weights, level: number): Centers {
  return w.hyper ? residualCenters(y, w, level) : { medians: levelRow(w.entropyZ!.median, level, w.config.Mr) };
}

/**
 * ẑ from f_r(x − x̂_m), likewise in place, step by step (residualSteps): the first step's elements with `centers`,
 * each later one once its prior pass has given its elements theirs (a pass reads only what earlier steps quantised;
 * the other slots still hold their float32 features meanwhile). Yields each later pass for the caller to run (its
 * bands here or on the pool), then finishes it; returns ẑ.
 */
export function* residualQuantization(features: Tensor, centers: Centers, y: Latent, w: Weights, level: number,
  bandRows?: number): Generator<{ pass: PriorPass; latents: PassLatents }, Latent, void> {
  const a = attention(features, w.resAttention, features);
  const gains = levelRow(w.gainZ, level, w.config.Mr);
  const [first, ...later] = residualSteps(w);
  const z = quantize(a, gains, centers, inPlace(a), first.part, first.channels);
  withCenters(z, centers);
  for (const step of later) {
    const latents = { y, z };
    const pass = startPass(step.pass!, latents, w, bandRows);
    yield { pass, latents };
    finishPass(pass, latents);
    quantize(a, gains, centers, z.symbols as Int32Array, step.part, step.channels);
  }
  return z;
}

/** residualQuantization with its passes on this thread. */
export function quantizeResidual(features: Tensor, centers: Centers, y: Latent, w: Weights, level: number): Latent {
  const quantization = residualQuantization(features, centers, y, w, level);
  let step = quantization.next();
  while (!step.done) {
    const { pass, latents } = step.value;
    for (const rows of pass.bands) priorBand(pass, latents, w, level, rows);
    step = quantization.next();
  }
  return step.value;
}

/** f_m(x) before attention and gains, tile by tile: what every level of one image shares. The hooks as below. */
export function mainAnalysis(img: RgbImage, w: Weights, tile?: TileShape, beforeTile: () => void = () => {}, afterTile: () => void = () => {}): Tensor {
  const size = paddedSizeOf(img);
  tile ??= encodeTile(size);
  const features = tensor(w.config.M, size.h / TOTAL_STRIDE, size.w / TOTAL_STRIDE);
  for (const region of latentTiles(size, TOTAL_STRIDE, tile)) {
    beforeTile();
    pasteTile(features, mainAnalysisTile(img, w, region), region);
    afterTile();
  }
  return features;
}

/** The latents of one level from f_m(x) (consumed: ŷ takes over its buffer). */
export function latentsFromFeatures(img: RgbImage, features: Tensor, w: Weights, level: number, tile?: TileShape,
  beforeTile: () => void = () => {}, afterTile: () => void = () => {}): Latents {
  const size = paddedSizeOf(img);
  tile ??= encodeTile(size);
  const { y, hyper } = quantizeMain(features, w, level);
  const centers = residualCentersOf(y, w, level);
  const resFeatures = tensor(w.config.Mr, size.h / RESIDUAL_STRIDE, size.w / RESIDUAL_STRIDE);
  for (const region of latentTiles(size, RESIDUAL_STRIDE, tile)) {
    beforeTile();
    pasteTile(resFeatures, residualAnalysisTile(img, y, w, level, region), region);
    afterTile();
  }
  return { y, z: quantizeResidual(resFeatures, centers, y, w, level), ...(hyper && { hyper }) };
}

/**
 * `beforeTile` runs before each tile (the caller's budget check: it may throw to stop the encode), `afterTile`
 * after it (progress): encodeTileCount(img, tile) tiles in all.
 */
export function encodeLatents(img: RgbImage, w: Weights, level: number, tile?: TileShape, beforeTile: () => void = () => {},
  afterTile: () => void = () => {}): Latents {
  return latentsFromFeatures(img, mainAnalysis(img, w, tile, beforeTile, afterTile), w, level, tile, beforeTile, afterTile);
}

/** The tiles of one encode: f_m's, then f_r's. */
export function encodeTileCount(img: RgbImage, tile?: TileShape): number {
  const size = paddedSizeOf(img);
  tile ??= encodeTile(size);
  return latentTiles(size, TOTAL_STRIDE, tile).length + latentTiles(size, RESIDUAL_STRIDE, tile).length;
}
