/**
 * aara library API. Importing this module does nothing but define functions: weights are read on first
 * use (or passed in), and the worker pool starts on the first async call and stops with `close()`.
 *
 *   import { encode, decode, close, encodeSync, decodeSync } from 'aara';
 *   const file = encodeSync({ width, height, data }, { level: 5 });   // RGB or RGBA bytes, or PNG/JPEG bytes
 *   const { width, height, data } = decodeSync(file);                  // RGB bytes
 *   const same = await encode({ width, height, data }, { level: 5 }); // the same bytes, on worker threads
 *   const sweep = await encodeLevels(pngBytes, [0, 4, 7]);           // several levels, the main analysis shared
 *   await close();                                                     // stops the workers, frees reused buffers (optional)
 */
import { DEFAULT_LEVEL, decodeSync as decodeWith, defaultLevel, encodeSync as encodeWith } from './codec.js';
export { DEFAULT_LEVEL };
import type { Limits } from './container.js';
import { fail } from './errors.js';
import { decodeImage, toRgb, type RgbImage } from './image-io.js';
import { decodeParallel, encodeLevelsParallel, encodeParallel, loadWeightFile, weightFile, type LevelFile, type WeightFile } from './parallel.js';
export type { LevelFile } from './parallel.js';
import { WorkerPool } from './pool.js';
import type { Weights } from './weights.js';
import { releaseSpares } from './tensor.js';

export { AaraError, ERRORS, type ErrorCode } from './errors.js';
export { DEFAULT_LIMITS, type Limits } from './container.js';
export type { RgbImage } from './image-io.js';
export type { Weights } from './weights.js';

/** Raw pixels (RGB or RGBA, row-major, 8-bit) or the bytes of a PNG or JPEG file. */
export type ImageInput = { width: number; height: number; data: Uint8Array | Uint8ClampedArray } | Uint8Array;

export interface Options {
  /** quality level 0 (smallest) … levels−1 (best); default DEFAULT_LEVEL (5), or the best level of a model with fewer */
  level?: number;
  /** a loaded model, the bytes of a weight file, or its path; default: the packaged weights/aara.bin */
  weights?: Weights | Uint8Array | string;
  /** decoding limits against decompression bombs */
  limits?: Limits;
}

export interface AsyncOptions extends Options {
  /** worker threads, read when the shared pool starts (the first async call after import or close()); default: the cores */
  threads?: number;
}

/**
 * Every model this API hands out or reads, with its file: workers need the file, and a caller may pass
 * the model, the same bytes again or the path; each is read and put in shared memory once.
 */
const filesOfModels = new WeakMap<Weights, WeightFile>();
const filesOfBytes = new WeakMap<Uint8Array, WeightFile>();

function registered(file: WeightFile): WeightFile {
  filesOfModels.set(file.weights, file);
  return file;
}

function resolveWeightFile(weights: Options['weights']): WeightFile {
  if (weights === undefined || typeof weights === 'string') return registered(loadWeightFile(weights));
  if (weights instanceof Uint8Array) {
    let file = filesOfBytes.get(weights);
    if (!file) {
      file = registered(weightFile(weights));
      filesOfBytes.set(weights, file);
    }
    return file;
  }
  return filesOfModels.get(weights) ?? fail('INTERNAL', 'a model not read by readWeights/loadWeights of this module: pass the weight file bytes or path');
}

/** Parses a weight file (its tensors view a shared copy of `bytes`). */
export function readWeights(bytes: Uint8Array): Weights {
  return resolveWeightFile(bytes).weights;
}

/** A weight file by path (default: the packaged weights/aara.bin), read once per process. */
export function loadWeights(path?: string): Weights {
  return resolveWeightFile(path).weights;
}

export function resolveWeights(weights: Options['weights']): Weights {
  return typeof weights === 'object' && !(weights instanceof Uint8Array) ? weights : resolveWeightFile(weights).weights;
}

export function toImage(input: ImageInput): RgbImage & { grayscale: boolean } {
  if (input instanceof Uint8Array) {
    const img = decodeImage(input);
    return { width: img.width, height: img.height, data: img.data, grayscale: img.info.grayscale };
  }
  return { ...toRgb(input), grayscale: false };
}

export function encodeSync(input: ImageInput, opts: Options = {}): Uint8Array {
  const img = toImage(input);
  const w = resolveWeights(opts.weights);
  return encodeWith(img, w, { level: opts.level ?? defaultLevel(w), grayscale: img.grayscale });
}

export function decodeSync(bytes: Uint8Array, opts: Options = {}): RgbImage {
  return decodeWith(bytes, resolveWeights(opts.weights), { limits: opts.limits });
}

let pool: WorkerPool | undefined;

function sharedPool(threads?: number): WorkerPool {
  return (pool ??= new WorkerPool(threads));
}

/** encodeSync on worker threads: the same bytes. */
export async function encode(input: ImageInput, opts: AsyncOptions = {}): Promise<Uint8Array> {
  const img = toImage(input);
  const { weights, bytes } = resolveWeightFile(opts.weights);
  return encodeParallel(img, weights, bytes, { level: opts.level ?? defaultLevel(weights), grayscale: img.grayscale, pool: sharedPool(opts.threads) });
}

/**
 * One image at several levels on worker threads, the main analysis f_m(x) computed once (it comes before
 * the level's gains): each file is encode()'s at its level, in less time than separate calls.
 */
export async function encodeLevels(input: ImageInput, levels: number[], opts: Omit<AsyncOptions, 'level'> = {}): Promise<LevelFile[]> {
  const img = toImage(input);
  const { weights, bytes } = resolveWeightFile(opts.weights);
  return encodeLevelsParallel(img, weights, bytes, levels, { grayscale: img.grayscale, pool: sharedPool(opts.threads) });
}

/** decodeSync on worker threads: the same pixels (`data` views shared memory). */
export async function decode(bytes: Uint8Array, opts: AsyncOptions = {}): Promise<RgbImage> {
  const { weights, bytes: weightBytes } = resolveWeightFile(opts.weights);
  return decodeParallel(bytes, weights, weightBytes, { limits: opts.limits, pool: sharedPool(opts.threads) });
}

/**
 * Stops the shared worker pool (the next async call starts a new one) and drops the activation buffers
 * this thread keeps for reuse after the sync calls (tens of MB after a large image).
 */
export async function close(): Promise<void> {
  releaseSpares();
  const stopping = pool;
  pool = undefined;
  await stopping?.close();
}
