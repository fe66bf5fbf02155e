/** Memory that worker threads can share: the pool's tasks read and write these arrays in place, never copies. */
import type { Tensor } from './types.js';
import { takeSpare } from './spares.js';

/** A typed array in memory that worker threads can share when the host allows it (Node; isolated pages). */
export function shareable<T>(make: (buffer: ArrayBufferLike) => T, bytes: number): T {
  return make(typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
}

/** A zeroed c × h × w tensor in shared memory (Node's pool: SharedArrayBuffer is always there). */
export function sharedTensor(c: number, h: number, w: number): Tensor {
  return { c, h, w, data: new Float32Array(new SharedArrayBuffer(c * h * w * Float32Array.BYTES_PER_ELEMENT)) };
}

/**
 * Shared buffers the pool's layer rounds are done with, kept for later rounds and calls: a fresh SharedArrayBuffer's pages
 * fault in when first written, ≈ 10 µs a page on a VM (a pooled 768×512 encode faulted 17–28 k pages a call; with these
 * spares, 2–5 k).
 */
const spareShared: SharedArrayBuffer[] = [];
/** Bytes kept at most: the largest layer output of a 768×512 image is 25 MB (64 × 384 × 256 floats); more would only hold memory. */
const MAX_SPARE_SHARED_BYTES = 64 << 20;

/**
 * A c × h × w tensor in shared memory for a writer that sets every element (its contents are a spare's, not zeros): the
 * smallest spare that fits and is at most twice its size (a layer's 25 MB buffer would otherwise go to the next, 4×
 * smaller layer, and the layer after that one's size to a new buffer), else a new buffer.
 */
export function reusedSharedTensor(c: number, h: number, w: number): Tensor {
  const bytes = c * h * w * Float32Array.BYTES_PER_ELEMENT;
  const buffer = takeSpare(spareShared, bytes, 2 * bytes) ?? new SharedArrayBuffer(bytes);
  return { c, h, w, data: new Float32Array(buffer, 0, c * h * w) };
}

/** Gives t's shared buffer to later `reusedSharedTensor`s: no thread may use t afterwards. Keeps the largest spares. */
export function releaseSharedTensor(t: Tensor): void {
  const buffer = t.data.buffer;
  if (!(buffer instanceof SharedArrayBuffer) || spareShared.includes(buffer)) return;
  spareShared.push(buffer);
  spareShared.sort((a, b) => b.byteLength - a.byteLength);
  let kept = 0;
  const fits = spareShared.findIndex((b) => (kept += b.byteLength) > MAX_SPARE_SHARED_BYTES);
  if (fits >= 0) spareShared.length = fits;
}

/** Drops the spare shared buffers (to the GC). */
export function releaseSharedSpares(): void {
  spareShared.length = 0;
}

/** `bytes` in shared memory: the array itself when it already is, else a copy. */
export function sharedBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.buffer instanceof SharedArrayBuffer) return bytes;
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
  shared.set(bytes);
  return shared;
}
