/**
 * The codec on a worker pool: the same steps as encodeSync / decodeSync (src/codec/codec.ts, the truth), with the
 * tiles and streams spread over workers, so the bytes are identical for any number of workers and any tile
 * size. The state the steps share lives in SharedArrayBuffers that the workers read and write in place:
 *
 *   encode: tiles of f_m (up to 768×512: its layers in bands of rows, src/parallel/bands.ts) → features ─ main thread:
 *           attention, (h_a, h_s,) quantise → ŷ (and ŵ) symbols (bands of ẑ's prior →) tiles of f_r(x − g_m(ŷ))
 *           (or g_m's layers, then f_r's, in bands) → features ─ main thread: attention, quantise →
 *           ẑ symbols step by step (checkerboard: the anchors', bands of the others' prior, the others')
 *           streams (fileChains: one a chain of coding groups) → writeContainer
 *   decode: checks as decodeSync → decodeStages (codec.ts: each stage's prepare here, its prior pass's bands in the
 *           workers, its coding groups in the workers when each has its own stream, else here in the chain's order)
 *           → symbols → g_m's and g_r's layers, one a round, in bands of rows (tiles of x̂ above 1 Mpixel)
 *           → φ in bands → output pixels
 *
 * Attention and ŷ's prior work on the whole latent, so they stay on the main thread between the tile passes; ẑ's
 * prior passes are cut in bands of rows that give the same values for any cut (src/model/priors.ts).
 */
import { sharedBytes, sharedTensor } from '../core/shared-memory.js';
import { RESIDUAL_STRIDE, TOTAL_STRIDE, type Latent, type Latents, type Symbols, type Tensor } from '../core/types.js';
import { checkBudget, type Budget } from '../core/budget.js';
import {
  atLevel,
  checkEncode,
  encodeTileOf,
  defaultDecodeTile,
  decodeTiles,
  fileChains,
  GroupReader,
  latentDecode,
  openFile,
  tileCounter,
  writeFile,
  type DecodeOptions,
  type EncodeOptions,
  type LevelFile,
  type SymbolKind,
} from '../codec/codec.js';
import type { Container } from '../format/container.js';
import type { Weights } from '../format/weights.js';
import type { RgbImage } from '../io/pixels.js';
import { encodeTile, encodeTileCount, latentTiles, paddedSizeOf, quantizeMain, residualCentersOf, residualQuantization } from '../model/encoder.js';
import { paddedSize } from '../model/preprocess.js';
import { squareTile, tileGrid, type TileShape } from '../model/tiling.js';
import type { WorkerPool } from './pool.js';
import type { DecodeStreamTask, DecodeTileTask, EncodeStreamTask, FusionBandTask, MainAnalysisTask, PriorBandTask, ResidualAnalysisTask } from './worker.js';
import { analysisPlan, bandRows, bandTaskCount, decodesInBands, encodesInBands, layerRounds, synthesisPlan } from './bands.js';
import { finishPass, MIN_BAND_ROWS, priorBandRows, residualPass, type PassLatents, type PriorPass } from '../model/priors.js';
import type { Centers } from '../model/bottleneck.js';

export interface ParallelEncodeOptions extends EncodeOptions {
  pool: WorkerPool;
}

export interface ParallelDecodeOptions extends DecodeOptions {
  pool: WorkerPool;
}

/**
 * About the pixels a decode tile recomputes beyond an inner side (counted: ≈ 19 at 768×512, bench/tile-work.ts): an
 * overestimate that keeps the pool from cutting tiles too fine.
 */
const DECODE_HALO = 32;
/** ... and an encode tile, whose analysis reads whole Winograd tiles at each of 4 scales (counted: 53–57). */
const ENCODE_HALO = 56;
/** The smallest tile side the pool picks by itself: below it, the halo costs more than the tile's own work. */
const MIN_POOL_TILE = 128;

/**
 * The pool's tile over a padded h × w image: the rows × columns, multiples of 16 up to `max` (squares if `square`),
 * whose tiles (each with `halo` recomputed pixels beyond its inner sides, handed to the first free worker) should
 * finish first. A large image keeps `max`; a small one is cut so that every worker gets an even share. Any tile gives
 * the same bytes: this only balances the work.
 */
function poolTile(h: number, w: number, max: TileShape, workers: number, halo: number, square: boolean): TileShape {
  const sides = (most: number) => {
    const v: number[] = [];
    for (let side = most; side >= Math.min(most, MIN_POOL_TILE); side -= TOTAL_STRIDE) v.push(side);
    return v;
  };
  const withHalo = (r: { start: number; end: number }, size: number) => r.end - r.start + (r.start > 0 ? halo : 0) + (r.end < size ? halo : 0);
  let best = { tile: max, finish: Infinity };
  for (const rows of sides(square ? Math.min(max.rows, max.cols) : max.rows)) {
    for (const cols of square ? [rows] : sides(max.cols)) {
      const tiles = tileGrid(h, w, rows, cols);
      // many tiles balance anyway, and smaller ones only add halo: not worth pricing
      if (tiles.length > 8 * workers && best.finish < Infinity) continue;
      const loads = new Array<number>(workers).fill(0);
      for (const t of tiles) loads[loads.indexOf(Math.min(...loads))] += withHalo(t.rows, h) * withHalo(t.cols, w);
      const finish = Math.max(...loads);
      if (finish < best.finish) best = { tile: { rows, cols }, finish };
    }
  }
  return best.tile;
}

/** A decode's tile on `workers` over a padded h × w image: squares, up to the sync decoder's. */
export const poolDecodeTile = (h: number, w: number, workers: number): number =>
  poolTile(h, w, squareTile(defaultDecodeTile(h, w)), workers, DECODE_HALO, true).rows;

/** An encode's (see poolInput): rectangles, up to the sync encoder's tile. */
export const poolEncodeTile = (h: number, w: number, workers: number): TileShape =>
  poolTile(h, w, encodeTile({ h, w }), workers, ENCODE_HALO, false);

/** Height of the prior passes' bands on a pool, in rows of ẑ's grid: one band a worker, within priors.ts's bounds. */
function poolBandRows(width: number, height: number, w: Weights, pool: WorkerPool): number {
  const zRows = paddedSize(height) / RESIDUAL_STRIDE;
  return Math.min(priorBandRows(w, paddedSize(width) / RESIDUAL_STRIDE), Math.max(MIN_BAND_ROWS, Math.ceil(zRows / pool.size)));
}

/** residualCentersOf on the pool: the hyper kinds' first prior pass over ẑ one band a worker. `level`: the position. */
async function residualCentersPooled(y: Latent, w: Weights, level: number, weightBytes: Uint8Array, pool: WorkerPool,
  budget: Budget): Promise<Centers> {
  const at = atLevel(w, level);
  if (!w.hyper) return residualCentersOf(y, at.w, at.level);
  const pass = residualPass(y, at.w, poolBandRows(y.w * TOTAL_STRIDE, y.h * TOTAL_STRIDE, w, pool));
  await priorBands(pass, { y }, level, weightBytes, pool, budget);
  finishPass(pass, { y });
  return pass.centers!;
}

/** A prior pass's bands, one a task. `level`: the position. */
async function priorBands(pass: PriorPass, latents: PassLatents, level: number, weightBytes: Uint8Array, pool: WorkerPool, budget: Budget): Promise<void> {
  await pool.runAll(pass.bands.map((rows): PriorBandTask => ({ kind: 'priorBand', pass, latents, level, rows })), weightBytes, budget);
}

/** How the pool runs an encode's transforms: in tiles of this shape, or by layer bands (src/parallel/bands.ts). */
type EncodeWork = TileShape | 'bands';

/** The progress total of an encode: its analysis tiles, or its analysis bands (f_m's, then f_r's). */
function encodeTaskCount(image: RgbImage, w: Weights, work: EncodeWork, workers: number): number {
  if (work !== 'bands') return encodeTileCount(image, work);
  const size = paddedSizeOf(image);
  return bandTaskCount([analysisPlan(w.mainEncoder, image, size), analysisPlan(w.resEncoder, image, size)], workers);
}

/** f_m(x), tile by tile (or by bands) in the workers. Attention and the level's gains come after it, so every level shares it. */
async function mainFeatures(image: RgbImage, w: Weights, weightBytes: Uint8Array, pool: WorkerPool, work: EncodeWork, budget: Budget,
  afterTile?: () => void): Promise<Tensor> {
  const size = paddedSizeOf(image);
  if (work === 'bands') return (await layerRounds([analysisPlan(w.mainEncoder, image, size)], [undefined], pool, weightBytes, budget, afterTile))[0];
  const tile = work;
  const features = sharedTensor(w.config.M, size.h / TOTAL_STRIDE, size.w / TOTAL_STRIDE);
  await pool.runAll(latentTiles(size, TOTAL_STRIDE, tile).map((region): MainAnalysisTask =>
    ({ kind: 'mainAnalysis', image, region, features })), weightBytes, budget, afterTile);
  return features;
}

/** f_r(x − g_m(ŷ)): by bands, x̂_m's layers and then f_r's; else tile by tile, each tile's g_m over its pixels. */
async function residualFeatures(image: RgbImage, y: Latent, w: Weights, weightBytes: Uint8Array, opts: ParallelEncodeOptions,
  work: EncodeWork, afterTile?: () => void): Promise<Tensor> {
  const size = paddedSizeOf(image), { pool } = opts;
  if (work === 'bands') {
    // tasks carry the level position: a worker finds the same model with atLevel
    const [xMain] = await layerRounds([synthesisPlan('main', w.mainDecoder, y, opts.level)], [y.head], pool, weightBytes, opts);
    return (await layerRounds([analysisPlan(w.resEncoder, image, size, xMain)], [undefined], pool, weightBytes, opts, afterTile))[0];
  }
  const features = sharedTensor(w.config.Mr, size.h / RESIDUAL_STRIDE, size.w / RESIDUAL_STRIDE);
  await pool.runAll(latentTiles(size, RESIDUAL_STRIDE, work).map((region): ResidualAnalysisTask =>
    ({ kind: 'residualAnalysis', image, y, level: opts.level, region, features })), weightBytes, opts, afterTile);
  return features;
}

/** ẑ: f_r(x − g_m(ŷ)) in the workers, then attention and quantisation here, in place likewise. */
async function residualLatent(image: RgbImage, y: Latent, w: Weights, weightBytes: Uint8Array, opts: ParallelEncodeOptions,
  work: EncodeWork, afterTile?: () => void): Promise<Latent> {
  const at = atLevel(w, opts.level);
  const centers = await residualCentersPooled(y, w, opts.level, weightBytes, opts.pool, opts);
  const features = await residualFeatures(image, y, w, weightBytes, opts, work, afterTile);
  const quantization = residualQuantization(features, centers, y, at.w, at.level, poolBandRows(image.width, image.height, w, opts.pool));
  let step = quantization.next();
  while (!step.done) {
    await priorBands(step.value.pass, step.value.latents, opts.level, weightBytes, opts.pool, opts);
    step = quantization.next();
  }
  return step.value;
}

/** The rest of an encode once f_m(x) is there: attention and quantisation here (in place: ŷ takes over the features' buffer), ẑ, streams. */
async function encodeFromFeatures(img: RgbImage, image: RgbImage, features: Tensor, w: Weights, weightBytes: Uint8Array,
  opts: ParallelEncodeOptions, work: EncodeWork, afterTile?: () => void): Promise<Uint8Array> {
  checkBudget(opts);
  const at = atLevel(w, opts.level);
  const { y, hyper } = quantizeMain(features, at.w, at.level);
  const latents: Latents = { y, z: await residualLatent(image, y, w, weightBytes, opts, work, afterTile), ...(hyper && { hyper }) };
  const streams = await opts.pool.runAll(fileChains(w).map((chain): EncodeStreamTask =>
    ({ kind: 'encodeStream', latents, level: opts.level, chain })), weightBytes, opts);
  return writeFile(img, w, opts, streams);
}

/**
 * The pixels in shared memory, and how the pool runs the transforms: by layer bands up to BAND_ENCODE_PIXELS (the size
 * the sync encoder takes in one tile: no halo computed twice), unless a tile is asked for; else in the synchronous
 * encoder's tile cut into an even share a worker. Halos cost an encode more than a decode (the analysis reads ≈ 56 px
 * beyond an inner side), so rectangles rather than squares (bench/tile-work.ts prices both).
 */
function poolInput(img: RgbImage, opts: ParallelEncodeOptions | Omit<ParallelEncodeOptions, 'level'>): { image: RgbImage; work: EncodeWork } {
  const size = paddedSizeOf(img), tile = encodeTileOf(opts);
  return {
    image: { width: img.width, height: img.height, data: sharedBytes(img.data) },
    work: encodesInBands(size.h, size.w, tile) ? 'bands' : tile ?? poolEncodeTile(size.h, size.w, opts.pool.size),
  };
}

/** encodeSync on the pool: the same bytes. `w` must be the model of `weightBytes`. */
export async function encodeParallel(img: RgbImage, w: Weights, weightBytes: Uint8Array, opts: ParallelEncodeOptions): Promise<Uint8Array> {
  checkEncode(img, w, opts);
  const { image, work } = poolInput(img, opts);
  const afterTile = tileCounter(encodeTaskCount(image, w, work, opts.pool.size), opts.onTile);
  const features = await mainFeatures(image, w, weightBytes, opts.pool, work, opts, afterTile);
  return encodeFromFeatures(img, image, features, w, weightBytes, opts, work, afterTile);
}

/**
 * One image at several levels, f_m(x) computed once: what `eval` does to sweep the levels. Each file
 * equals encodeParallel's at its level.
 */
export async function encodeLevelsParallel(img: RgbImage, w: Weights, weightBytes: Uint8Array, levels: number[],
  opts: Omit<ParallelEncodeOptions, 'level'>): Promise<LevelFile[]> {
  levels.forEach((level) => checkEncode(img, w, { ...opts, level }));
  const encodeAt = levelEncoderParallel(img, w, weightBytes, opts);
  const files: LevelFile[] = [];
  for (const level of levels) files.push(await encodeAt(level));
  return files;
}

/**
 * levelEncoder (codec.ts) on the pool: f_m(x) computed once, at the first call; each call gives encodeParallel's
 * bytes at its level, and the seconds it took, the shared analysis counted in every level.
 */
export function levelEncoderParallel(img: RgbImage, w: Weights, weightBytes: Uint8Array,
  opts: Omit<ParallelEncodeOptions, 'level'>): (level: number) => Promise<LevelFile> {
  const { image, work } = poolInput(img, opts);
  let shared: Promise<{ features: Tensor; seconds: number }> | undefined;
  return async (level) => {
    checkEncode(img, w, { ...opts, level });
    shared ??= (async () => {
      const started = performance.now();
      const features = await mainFeatures(image, w, weightBytes, opts.pool, work, opts);
      return { features, seconds: (performance.now() - started) / 1000 };
    })();
    const { features, seconds } = await shared;
    const started = performance.now();
    const copy = sharedTensor(features.c, features.h, features.w); // quantisation consumes its features
    copy.data.set(features.data);
    const bytes = await encodeFromFeatures(img, image, copy, w, weightBytes, { ...opts, level }, work);
    return { level, bytes, seconds: seconds + (performance.now() - started) / 1000 };
  };
}

function sharedSymbols(kind: SymbolKind, length: number): Symbols {
  const buffer = new SharedArrayBuffer(length * kind.BYTES_PER_ELEMENT);
  return kind === Int16Array ? new Int16Array(buffer) : new Int32Array(buffer);
}

/**
 * decodeSync's latents (latentDecode): one band of a prior pass a task, one coding group a task when each has its own
 * stream (a chain's are read here, in order: a rANS decoder's state cannot be split), in shared memory.
 */
async function decodeLatents(streams: Uint8Array[], file: Pick<Container, 'width' | 'height' | 'level' | 'version'>, w: Weights,
  weightBytes: Uint8Array, pool: WorkerPool, budget: Budget): Promise<Latents> {
  const { level } = file; // the position, for the tasks; this thread codes with the model at it
  const at = atLevel(w, level);
  const decode = latentDecode({ ...file, level: at.level }, at.w, sharedSymbols, poolBandRows(file.width, file.height, w, pool));
  const reader = GroupReader.independent(w, file.version) ? undefined : new GroupReader(streams, at.w, at.level, file.version);
  let step = decode.next();
  while (!step.done) {
    const { latents, groups: indexes, pass } = step.value;
    if (pass) {
      await priorBands(pass, latents, level, weightBytes, pool, budget);
      step = decode.next(true); // latentDecode finishes the pass
      continue;
    }
    if (reader) {
      checkBudget(budget);
      step = decode.next(indexes.every((index) => reader.read(index, latents)));
      continue;
    }
    const overflow = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    await pool.runAll(indexes.map((index): DecodeStreamTask =>
      ({ kind: 'decodeStream', stream: streams[index], latents, level, index, overflow })), weightBytes, budget);
    step = decode.next(Atomics.load(overflow, 0) === 0);
  }
  return step.value;
}

/** x̂ on the pool by layer bands (src/parallel/bands.ts): g_m's and g_r's layers round by round, then φ and the pixels in bands. */
async function synthesizeInBands(out: RgbImage, latents: Latents, w: Weights, level: number, weightBytes: Uint8Array,
  opts: ParallelDecodeOptions): Promise<void> {
  const { pool } = opts;
  const plans = [synthesisPlan('main', w.mainDecoder, latents.y, level), synthesisPlan('residual', w.resDecoder, latents.z, level)];
  const fusionRows = bandRows(latents.y.h * TOTAL_STRIDE, pool.size);
  const afterBand = tileCounter(bandTaskCount(plans, pool.size) + fusionRows.length, opts.onTile);
  const [xMain, rHat] = await layerRounds(plans, [latents.y.head, undefined], pool, weightBytes, opts, afterBand);
  await pool.runAll(fusionRows.map((rows): FusionBandTask => ({ kind: 'fusionBand', out, xMain, rHat, rows })), weightBytes, opts, afterBand);
}

/**
 * decodeSync on the pool: the same pixels (in shared memory). `w` must be the model of `weightBytes`. By layer bands up
 * to BAND_DECODE_PIXELS (unless `tile` is given), else in tiles.
 */
export async function decodeParallel(bytes: Uint8Array, w: Weights, weightBytes: Uint8Array, opts: ParallelDecodeOptions): Promise<RgbImage> {
  const file = openFile(bytes, w, opts);
  const { width, height, level } = file;
  // the streams view `bytes`: workers get the same ranges of one shared copy
  const shared = sharedBytes(bytes);
  const streams = file.streams.map((s) => shared.subarray(s.byteOffset - bytes.byteOffset, s.byteOffset - bytes.byteOffset + s.length));
  const latents = await decodeLatents(streams, file, w, weightBytes, opts.pool, opts);
  const out = { width, height, data: new Uint8Array(new SharedArrayBuffer(width * height * 3)) };
  if (decodesInBands(paddedSize(height), paddedSize(width), opts.tile)) {
    await synthesizeInBands(out, latents, w, level, weightBytes, opts);
    return out;
  }
  const tiles = decodeTiles(latents.y, opts.tile ?? poolDecodeTile(paddedSize(height), paddedSize(width), opts.pool.size));
  await opts.pool.runAll(tiles.map((region): DecodeTileTask =>
    ({ kind: 'decodeTile', out, latents, level, region })), weightBytes, opts, tileCounter(tiles.length, opts.onTile));
  return out;
}
