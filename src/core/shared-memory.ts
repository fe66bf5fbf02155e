/** Memory that worker threads can share: the pool's tasks read and write these arrays in place, never copies. */
import type { Tensor } from './types.js';

/** A typed array in memory that worker threads can share when the host allows it (Node; isolated pages). */
export function shareable<T>(make: (buffer: ArrayBufferLike) => T, bytes: number): T {
  return make(typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
}

/** A zeroed c × h × w tensor in shared memory (Node's pool: SharedArrayBuffer is always there). */
export function sharedTensor(c: number, h: number, w: number): Tensor {
  return { c, h, w, data: new Float32Array(new SharedArrayBuffer(c * h * w * Float32Array.BYTES_PER_ELEMENT)) };
}

/** `bytes` in shared memory: the array itself when it already is, else a copy. */
export function sharedBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.buffer instanceof SharedArrayBuffer) return bytes;
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
  shared.set(bytes);
  return shared;
}
