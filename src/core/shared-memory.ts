/** Memory that worker threads can share: the pool's tasks read and write these arrays in place, never copies. */

/** A typed array in memory that worker threads can share when the host allows it (Node; isolated pages). */
export function shareable<T>(make: (buffer: ArrayBufferLike) => T, bytes: number): T {
  return make(typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
}

/** `bytes` in shared memory: the array itself when it already is, else a copy. */
export function sharedBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.buffer instanceof SharedArrayBuffer) return bytes;
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
  shared.set(bytes);
  return shared;
}
