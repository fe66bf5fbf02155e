/**
 * aara library API. Importing this module does nothing but define functions: weights are read on first
 * use (or passed in), and the worker pool starts on the first async call and stops with `close()`.
 *
 *   import { encode, decode, close, encodeSync, decodeSync } from 'aara';
 *   const file = encodeSync({ width, height, data }, { level: 5 });   // RGB or RGBA bytes, or PNG/JPEG bytes
 *   const { width, height, data } = decodeSync(file);                  // RGB bytes
 *   const same = await encode({ width, height, data }, { level: 5 }); // the same bytes, on worker threads
 *   const sweep = await encodeLevels(pngBytes, [0, 4, 7]);           // several levels, the main analysis shared
 *   decodeSync(encodeSync(jpegBytes)).metadata                         // { icc?, exif? }: the source's ICC profile and EXIF
 *   await close();                                                     // stops the workers, frees reused buffers (optional)
 */
import { DECODE_TILE, DEFAULT_LEVEL, decodeSync as decodeWith, encodeLevel, encodeLevelsSync, encodeSync as encodeWith, type LevelFile } from './codec/codec.js';
import { ENCODE_TILE } from './model/encoder.js';
export { DEFAULT_LEVEL };
import { budgetOf, type Budget } from './core/budget.js';
import { fileMetadata, readHeader, resolveLimits, withMetadata, type ImageMetadata, type Limits } from './format/container.js';
import { DECODE_BYTES_PER_PIXEL, ENCODE_BYTES_PER_PIXEL, type MemoryGate } from './parallel/memory-gate.js';
import { fail } from './core/errors.js';
import { asBytes, describe, knownOptions } from './core/options.js';
import { decodeImage } from './io/image-io.js';
import { toRgb, type RgbImage } from './io/pixels.js';
import { fileOfModel, loadWeightFile, weightFile, type WeightFile } from './io/weight-files.js';
import { decodeParallel, encodeLevelsParallel, encodeParallel } from './parallel/parallel.js';
import { decodeBandBytes, encodeBandBytes } from './parallel/bands.js';
import { paddedSize } from './model/preprocess.js';
export type { LevelFile } from './codec/codec.js';
import { closeSharedPool, runsOnCallingThread, sharedPool } from './parallel/shared-pool.js';
import { isWeights, type Weights } from './format/weights.js';
import { releaseSpares } from './model/tensor.js';
import { releaseSharedSpares } from './core/shared-memory.js';

export { AaraError, ERRORS, type ErrorCode } from './core/errors.js';
export { DEFAULT_LIMITS, type ImageMetadata, type Limits } from './format/container.js';
export type { Budget } from './core/budget.js';
export type { RgbImage } from './io/pixels.js';
export type { Weights } from './format/weights.js';

/** Raw pixels (RGB or RGBA, row-major, 8-bit) or the bytes of a PNG or JPEG file. */
export type ImageInput = { width: number; height: number; data: Uint8Array | Uint8ClampedArray } | Uint8Array | ArrayBuffer;

export interface Options {
  /**
   * quality level 0 (smallest) … levels−1 (best), or (hyper kind) a position between two in sixteenths, e.g. 5.5;
   * default DEFAULT_LEVEL (5), or the best level of a model with fewer
   */
  level?: number;
  /** quality 0 (smallest) … 100 (best), continuous: positions between the levels interpolate their gains; not with `level` */
  quality?: number;
  /** a loaded model, the bytes of a weight file, or its path; default: the packaged weights/aara.bin */
  weights?: Weights | Uint8Array | ArrayBuffer | string;
  /**
   * size limits of the image read or decoded, against decompression bombs and runaway work: merged field by
   * field over DEFAULT_LIMITS (65535 × 65535, 24 Mpixel); each an integer ≥ 1
   */
  limits?: Partial<Limits>;
  /** stops the work (between tiles) with the AaraError ABORTED once aborted; AbortSignal.timeout(ms) gives DEADLINE_EXCEEDED */
  signal?: AbortSignal;
  /** stops the work (between tiles) with the AaraError DEADLINE_EXCEEDED once Date.now() reaches it */
  deadline?: number;
}

export interface EncodeOptions extends Options {
  /**
   * what the file keeps beside the pixels: by default the ICC profile and EXIF of PNG/JPEG input (none for raw
   * pixels); 'none' keeps nothing; an object stores exactly its `icc` and `exif` bytes
   */
  metadata?: 'none' | ImageMetadata;
}

/** A decoded image, and the ICC profile and EXIF its file kept (absent when it kept none). */
export type DecodedImage = RgbImage & { metadata?: ImageMetadata };

export interface AsyncOptions extends EncodeOptions {
  /** worker threads, read when the shared pool starts (the first async call after import or close()); default: the cores */
  threads?: number;
  /**
   * bytes of whole-image memory the async calls may hold at once (≈ 12 B/pixel to decode, 16 to encode): a call
   * that does not fit beside those running waits its turn; one larger than this runs alone. Read when the shared
   * pool starts, like `threads`; default a quarter of the machine's memory.
   */
  memory?: number;
}

/**
 * The file of the weights option: workers need the file, and a caller may pass the model, the same bytes again
 * or the path; each is read and put in shared memory once (src/io/weight-files.ts).
 */
function resolveWeightFile(weights: Options['weights']): WeightFile {
  if (weights === undefined || typeof weights === 'string') return loadWeightFile(weights);
  if (weights instanceof Uint8Array || weights instanceof ArrayBuffer) return weightFile(weights);
  if (!isWeights(weights)) return badWeights(weights);
  return fileOfModel(weights) ?? fail('BAD_ARGUMENT', 'a model not read by readWeights/loadWeights of this module: pass the weight file bytes or path');
}

/** Parses a weight file (its tensors view a shared copy of `bytes`). */
export function readWeights(bytes: Uint8Array | ArrayBuffer): Weights {
  if (!(bytes instanceof ArrayBuffer)) asBytes(bytes, 'a weight file');
  return resolveWeightFile(bytes).weights;
}

/** A weight file by path (default: the packaged weights/aara.bin), read once per process. */
export function loadWeights(path?: string): Weights {
  return resolveWeightFile(path).weights;
}

export function resolveWeights(weights: Options['weights']): Weights {
  if (isWeights(weights)) return weights;
  return resolveWeightFile(weights).weights;
}

function badWeights(weights: unknown): never {
  return fail('BAD_ARGUMENT', `weights must be a model from readWeights/loadWeights, the bytes of a weight file or its path, got ${describe(weights)}`);
}

/** The options each call takes: anything else is BAD_ARGUMENT (knownOptions). */
const DECODE_OPTIONS = ['weights', 'limits', 'signal', 'deadline'] as const;
const ENCODE_OPTIONS = ['level', 'quality', 'metadata', ...DECODE_OPTIONS] as const;
const POOL_OPTIONS = ['threads', 'memory'] as const;

/** The caller's options, checked: an object or nothing, only fields `call` takes, each of the right type (BAD_ARGUMENT otherwise). */
function checkedOptions<T extends AsyncOptions>(options: T | undefined, allowed: readonly string[], call: string): T {
  const opts = knownOptions(options, allowed, call);
  if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads >= 1)) {
    fail('BAD_ARGUMENT', `threads must be an integer ≥ 1, got ${String(opts.threads)}`);
  }
  if (opts.memory !== undefined && !(Number.isSafeInteger(opts.memory) && opts.memory >= 1)) {
    fail('BAD_ARGUMENT', `memory must be an integer ≥ 1 (bytes), got ${String(opts.memory)}`);
  }
  const { weights } = opts;
  if (weights !== undefined && typeof weights !== 'string' && !(weights instanceof Uint8Array) && !(weights instanceof ArrayBuffer) &&
    !isWeights(weights)) badWeights(weights);
  resolveLimits(opts.limits);
  budgetOf(opts);
  const m = opts.metadata;
  if (m !== undefined && m !== 'none' && !(typeof m === 'object' && m !== null && !Array.isArray(m) &&
    Object.entries(m).every(([key, v]) => (key === 'icc' || key === 'exif') && (v === undefined || v instanceof Uint8Array)))) {
    fail('BAD_ARGUMENT', `metadata must be 'none' or { icc?: Uint8Array, exif?: Uint8Array }, got ${describe(m)}`);
  }
  return opts;
}

/** The metadata a file of `img` keeps under the `metadata` option (the codec codes pixels; the container carries the rest). */
function keptMetadata(img: { metadata?: ImageMetadata }, option: EncodeOptions['metadata']): ImageMetadata | undefined {
  return option === 'none' ? undefined : option ?? img.metadata;
}

/** The decoded pixels and what their file kept beside them. */
function decoded(img: RgbImage, file: Uint8Array): DecodedImage {
  const metadata = fileMetadata(file);
  return metadata ? { ...img, metadata } : img;
}

export function toImage(input: ImageInput, limits?: Partial<Limits>): RgbImage & { grayscale: boolean; metadata?: ImageMetadata } {
  if (input instanceof Uint8Array || input instanceof ArrayBuffer) {
    const img = decodeImage(asBytes(input, 'image bytes'), limits);
    return { width: img.width, height: img.height, data: img.data, grayscale: img.info.grayscale, ...(img.metadata && { metadata: img.metadata }) };
  }
  if (typeof input !== 'object' || input === null) {
    return fail('BAD_ARGUMENT', `an image must be PNG/JPEG bytes or { width, height, data }, got ${describe(input)}`);
  }
  return { ...toRgb(input), grayscale: false };
}

const checkedBytes = (bytes: unknown): Uint8Array => asBytes(bytes, 'an .aara file');

export function encodeSync(input: ImageInput, options?: EncodeOptions): Uint8Array {
  const opts = checkedOptions(options, ENCODE_OPTIONS, 'encodeSync');
  const img = toImage(input, opts.limits);
  const w = resolveWeights(opts.weights);
  const file = encodeWith(img, w, { level: encodeLevel(opts, w), grayscale: img.grayscale, limits: opts.limits, ...budgetOf(opts) });
  return withMetadata(file, keptMetadata(img, opts.metadata));
}

export function decodeSync(bytes: Uint8Array | ArrayBuffer, options?: Omit<Options, 'level' | 'quality'>): DecodedImage {
  const opts = checkedOptions<Options>(options, DECODE_OPTIONS, 'decodeSync');
  const file = checkedBytes(bytes);
  return decoded(decodeWith(file, resolveWeights(opts.weights), { limits: opts.limits, ...budgetOf(opts) }), file);
}

/** Runs one call on the shared pool once its whole-image memory fits the pool's gate. */
async function gated<T>(gate: MemoryGate, bytes: number, budget: Budget, run: () => Promise<T>): Promise<T> {
  const release = await gate.acquire(bytes, budget);
  try {
    return await run();
  } finally {
    release();
  }
}

/** encodeSync on worker threads (or on this thread: runsOnCallingThread): the same bytes. */
export async function encode(input: ImageInput, options?: AsyncOptions): Promise<Uint8Array> {
  const opts = checkedOptions(options, [...ENCODE_OPTIONS, ...POOL_OPTIONS], 'encode');
  const img = toImage(input, opts.limits);
  const { weights, bytes } = resolveWeightFile(opts.weights);
  const budget = budgetOf(opts);
  const { pool, gate } = sharedPool(opts);
  const codec = { level: encodeLevel(opts, weights), grayscale: img.grayscale, limits: opts.limits, ...budget };
  const pixels = img.width * img.height;
  const bytesHeld = pixels * ENCODE_BYTES_PER_PIXEL + encodeBandBytes(paddedSize(img.height), paddedSize(img.width), weights);
  const file = await gated(gate, bytesHeld, budget, async () =>
    runsOnCallingThread(pixels, ENCODE_TILE, pool.size) ? encodeWith(img, weights, codec) : encodeParallel(img, weights, bytes, { ...codec, pool }));
  return withMetadata(file, keptMetadata(img, opts.metadata));
}

/**
 * One image at several levels on worker threads (or on this thread: runsOnCallingThread), the main analysis f_m(x)
 * computed once (it comes before the level's gains): each file is encode()'s at its level, in less time than separate calls.
 */
export async function encodeLevels(input: ImageInput, levels: number[], options?: Omit<AsyncOptions, 'level' | 'quality'>): Promise<LevelFile[]> {
  const opts = checkedOptions<AsyncOptions>(options, ['metadata', ...DECODE_OPTIONS, ...POOL_OPTIONS], 'encodeLevels');
  if (!Array.isArray(levels) || levels.length === 0) fail('BAD_ARGUMENT', `levels must be a non-empty array, got ${describe(levels)}`);
  const img = toImage(input, opts.limits);
  const { weights, bytes } = resolveWeightFile(opts.weights);
  const budget = budgetOf(opts);
  const { pool, gate } = sharedPool(opts);
  const bytesHeld = img.width * img.height * ENCODE_BYTES_PER_PIXEL + encodeBandBytes(paddedSize(img.height), paddedSize(img.width), weights);
  const codec = { grayscale: img.grayscale, limits: opts.limits, ...budget };
  const files = await gated(gate, bytesHeld, budget, async () => runsOnCallingThread(img.width * img.height, ENCODE_TILE, pool.size)
    ? encodeLevelsSync(img, weights, levels, codec) : encodeLevelsParallel(img, weights, bytes, levels, { ...codec, pool }));
  const metadata = keptMetadata(img, opts.metadata);
  return files.map((f) => ({ ...f, bytes: withMetadata(f.bytes, metadata) }));
}

/** decodeSync on worker threads (or on this thread: runsOnCallingThread): the same pixels. */
export async function decode(bytes: Uint8Array | ArrayBuffer, options?: Omit<AsyncOptions, 'level' | 'quality' | 'metadata'>): Promise<DecodedImage> {
  const opts = checkedOptions<AsyncOptions>(options, [...DECODE_OPTIONS, ...POOL_OPTIONS], 'decode');
  const { weights, bytes: weightBytes } = resolveWeightFile(opts.weights);
  const file = checkedBytes(bytes);
  const { width, height } = readHeader(file, opts.limits); // the size, checked, before the call waits for memory
  const budget = budgetOf(opts);
  const { pool, gate } = sharedPool(opts);
  const bytesHeld = width * height * DECODE_BYTES_PER_PIXEL + decodeBandBytes(paddedSize(height), paddedSize(width), weights);
  const img = await gated(gate, bytesHeld, budget, async () =>
    runsOnCallingThread(width * height, DECODE_TILE, pool.size) ? decodeWith(file, weights, { limits: opts.limits, ...budget })
      : decodeParallel(file, weights, weightBytes, { limits: opts.limits, ...budget, pool }));
  // the workers wrote into shared memory: hand back a plain Uint8Array, as decodeSync does
  return decoded({ width: img.width, height: img.height, data: img.data.buffer instanceof SharedArrayBuffer ? img.data.slice() : img.data }, file);
}

/**
 * Stops the shared worker pool (the next async call starts a new one) and drops the activation buffers
 * this thread keeps for reuse after the sync calls (tens of MB after a large image) and the pool's (at most 64 MB).
 */
export async function close(): Promise<void> {
  releaseSpares();
  releaseSharedSpares();
  await closeSharedPool();
}
