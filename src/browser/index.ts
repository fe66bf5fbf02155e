/**
 * aara for browsers, and for any JavaScript runtime without Node's modules (Deno, Web Workers, QuickJS): decode
 * and encode from bytes, weights from a URL or bytes, RGBA pixels ready for a canvas. Nothing below this module
 * imports Node (test/layers.test.ts checks). The synchronous functions are the truth; AaraWorkers runs the very
 * same functions in Web Workers, one image per worker, so its results are byte-identical.
 *
 *   import { loadWeights, decode, encode, AaraWorkers } from 'aara/browser';
 *   const weights = await loadWeights('/weights/aara.bin');        // a URL, an ArrayBuffer or a Uint8Array
 *   const img = decode(await (await fetch('photo.aara')).arrayBuffer(), weights);
 *   canvas.getContext('2d').putImageData(new ImageData(img.data, img.width, img.height), 0, 0);
 *   const file = encode(ctx.getImageData(0, 0, w, h), weights, { level: 5 }); // RGBA or RGB in, .aara bytes out
 *   const workers = new AaraWorkers(weightBytes, { workers: 4 });  // the same results, off the main thread
 *   const same = await workers.decode(fileBytes);
 *   workers.close();
 */
import { decodeSync, encodeLevel, encodeSync } from '../codec/codec.js';
import { budgetOf } from '../core/budget.js';
import { AaraError, fail, type ErrorCode } from '../core/errors.js';
import { asBytes, describe, knownOptions } from '../core/options.js';
import { fileMetadata, type ImageMetadata, type Limits } from '../format/container.js';
import { isWeights, readWeights as readWeightFile, type Weights } from '../format/weights.js';
import { toRgb, toRgba, type RgbaImage } from '../io/pixels.js';

export { AaraError, ERRORS, type ErrorCode } from '../core/errors.js';
export { DEFAULT_LIMITS, type ImageMetadata, type Limits } from '../format/container.js';
export type { Weights } from '../format/weights.js';
export type { RgbaImage, RgbImage } from '../io/pixels.js';

export interface DecodeOptions {
  /** size limits of the image decoded, merged field by field over DEFAULT_LIMITS */
  limits?: Partial<Limits>;
  /** stops the work between tiles with the AaraError ABORTED (not in AaraWorkers: a signal cannot cross to a worker) */
  signal?: AbortSignal;
  /** stops the work between tiles with DEADLINE_EXCEEDED once Date.now() reaches it */
  deadline?: number;
}

export interface EncodeOptions extends DecodeOptions {
  /** quality level 0 (smallest) … levels−1 (best), or (hyper kind) sixteenths between two; default 5 */
  level?: number;
  /** quality 0 (smallest) … 100 (best), continuous between the levels; not with `level` */
  quality?: number;
}

/** Pixels to encode: RGBA (an ImageData) or RGB, 8-bit, row-major. */
export interface ImageInput {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

const DECODE_OPTIONS = ['limits', 'signal', 'deadline'];
const ENCODE_OPTIONS = ['level', 'quality', ...DECODE_OPTIONS];
/** what crosses to a worker: a signal cannot */
const WORKER_DECODE_OPTIONS = ['limits', 'deadline'];
const WORKER_ENCODE_OPTIONS = ['level', 'quality', ...WORKER_DECODE_OPTIONS];

/** Parses (and checks, SHA-256 included) the bytes of a weight file. */
export function readWeights(bytes: Uint8Array | ArrayBuffer): Weights {
  return readWeightFile(asBytes(bytes, 'a weight file'));
}

/** A weight file from a URL (fetched), or from bytes. */
export async function loadWeights(source: string | URL | Uint8Array | ArrayBuffer): Promise<Weights> {
  return readWeights(await weightBytes(source));
}

async function weightBytes(source: string | URL | Uint8Array | ArrayBuffer): Promise<Uint8Array> {
  if (typeof source !== 'string' && !(source instanceof URL)) return asBytes(source, 'a weight file');
  let response: Response;
  try {
    response = await fetch(source);
  } catch (err) {
    return fail('IO_ERROR', `fetching ${String(source)}: ${(err as Error).message}`);
  }
  if (!response.ok) fail(response.status === 404 ? 'FILE_NOT_FOUND' : 'IO_ERROR', `${String(source)}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

function checkedModel(weights: unknown): Weights {
  return isWeights(weights) ? weights : fail('BAD_ARGUMENT', `weights must come from readWeights/loadWeights, got ${describe(weights)}`);
}

/** An .aara file's pixels, RGBA (alpha 255), and the ICC profile and EXIF it kept (copies; absent when none). */
export function decode(file: Uint8Array | ArrayBuffer, weights: Weights, options?: DecodeOptions): RgbaImage & { metadata?: ImageMetadata } {
  const opts = knownOptions(options, DECODE_OPTIONS, 'decode');
  const bytes = asBytes(file, 'an .aara file');
  const img = toRgba(decodeSync(bytes, checkedModel(weights), { limits: opts.limits, ...budgetOf(opts) }));
  const metadata = fileMetadata(bytes);
  return metadata ? { ...img, metadata } : img;
}

/** The .aara file of an RGBA or RGB image. */
export function encode(image: ImageInput, weights: Weights, options?: EncodeOptions): Uint8Array {
  const opts = knownOptions(options, ENCODE_OPTIONS, 'encode');
  const w = checkedModel(weights);
  if (typeof image !== 'object' || image === null) fail('BAD_ARGUMENT', `an image must be { width, height, data }, got ${describe(image)}`);
  const level = encodeLevel(opts, w);
  return encodeSync(toRgb(image), w, { level, grayscale: false, limits: opts.limits, ...budgetOf(opts) });
}

// ---------------------------------------------------------------------------------------------------------------
// AaraWorkers: a thin wrapper that sends each call to a Web Worker (./worker.ts) running the functions above.

/** A call to a worker, and its answer: the result, or an AaraError's code and message. */
export type WorkerRequest =
  | { id: number; op: 'weights'; bytes: ArrayBuffer }
  | { id: number; op: 'decode'; file: ArrayBuffer; options: DecodeOptions }
  | { id: number; op: 'encode'; image: ImageInput; options: EncodeOptions };
export type WorkerReply = { id: number; result: RgbaImage | Uint8Array | null } | { id: number; error: { code: ErrorCode; message: string } };

export interface WorkersOptions {
  /** Web Workers to start (default: navigator.hardwareConcurrency, at most 4) */
  workers?: number;
  /** the worker module (default: ./worker.js beside this module); bundlers may need it spelled out */
  url?: string | URL;
}

interface Pending {
  resolve: (value: never) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: number;
}

export class AaraWorkers {
  private readonly slots: Slot[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  /** Starts the workers, each with its own copy of the weight file (checked there; a bad file rejects every call). */
  constructor(weights: Uint8Array | ArrayBuffer, options: WorkersOptions = {}) {
    const opts = knownOptions(options, ['workers', 'url'], 'AaraWorkers');
    const bytes = asBytes(weights, 'a weight file');
    const count = opts.workers ?? Math.min(4, Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 2));
    if (!(Number.isInteger(count) && count >= 1)) fail('BAD_ARGUMENT', `workers must be an integer ≥ 1, got ${String(count)}`);
    const url = opts.url ?? new URL('./worker.js', import.meta.url);
    this.slots = Array.from({ length: count }, () => {
      const slot: Slot = { worker: new Worker(url, { type: 'module' }), busy: 0 };
      slot.worker.onmessage = (event: MessageEvent<WorkerReply>) => this.settle(slot, event.data);
      slot.worker.onerror = (event: ErrorEvent) => this.failAll(new AaraError('INTERNAL', `worker: ${event.message}`));
      return slot;
    });
    // a refused weight file is the error of every later call (the worker keeps it), not an unhandled rejection here
    for (const slot of this.slots) this.call(slot, (id) => ({ id, op: 'weights', bytes: bytes.slice().buffer })).catch(() => undefined);
  }

  /** decode() in a worker: the same RGBA pixels. */
  decode(file: Uint8Array | ArrayBuffer, options?: Omit<DecodeOptions, 'signal'>): Promise<RgbaImage> {
    const opts = knownOptions(options, WORKER_DECODE_OPTIONS, 'AaraWorkers.decode');
    const copy = asBytes(file, 'an .aara file').slice().buffer; // transferred: the caller's bytes stay theirs
    return this.call(this.idlest(), (id) => ({ id, op: 'decode', file: copy, options: opts }), [copy]);
  }

  /** encode() in a worker: the same bytes. */
  encode(image: ImageInput, options?: Omit<EncodeOptions, 'signal'>): Promise<Uint8Array> {
    const opts = knownOptions(options, WORKER_ENCODE_OPTIONS, 'AaraWorkers.encode');
    if (typeof image !== 'object' || image === null) fail('BAD_ARGUMENT', `an image must be { width, height, data }, got ${describe(image)}`);
    const data = Uint8Array.from(image.data);
    return this.call(this.idlest(), (id) => ({ id, op: 'encode', image: { width: image.width, height: image.height, data }, options: opts }), [data.buffer]);
  }

  /** Ends the workers; calls still running reject with ABORTED. */
  close(): void {
    for (const slot of this.slots) slot.worker.terminate();
    this.failAll(new AaraError('ABORTED', 'AaraWorkers closed'));
  }

  private idlest(): Slot {
    return this.slots.reduce((best, slot) => (slot.busy < best.busy ? slot : best));
  }

  private call<T>(slot: Slot, request: (id: number) => WorkerRequest, transfer: Transferable[] = []): Promise<T> {
    const id = this.nextId++;
    slot.busy++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: never) => void, reject });
      slot.worker.postMessage(request(id), transfer);
    });
  }

  private settle(slot: Slot, reply: WorkerReply): void {
    const call = this.pending.get(reply.id);
    if (!call) return;
    this.pending.delete(reply.id);
    slot.busy--;
    if ('error' in reply) call.reject(Object.assign(new AaraError(reply.error.code), { message: reply.error.message }));
    else call.resolve(reply.result as never);
  }

  private failAll(err: Error): void {
    for (const call of this.pending.values()) call.reject(err);
    this.pending.clear();
    for (const slot of this.slots) slot.busy = 0;
  }
}
