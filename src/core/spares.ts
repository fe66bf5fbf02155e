/** Buffers kept for reuse (tensor.ts's per thread, shared-memory.ts's for the pool): which one a request takes. */

/** Removes and returns the smallest of `spares` of at least `bytes` and at most `most` bytes; undefined when none fits. */
export function takeSpare<T extends ArrayBufferLike>(spares: T[], bytes: number, most = Infinity): T | undefined {
  let best = -1;
  for (let i = 0; i < spares.length; i++) {
    const size = spares[i].byteLength;
    if (size >= bytes && size <= most && (best < 0 || size < spares[best].byteLength)) best = i;
  }
  return best < 0 ? undefined : spares.splice(best, 1)[0];
}
