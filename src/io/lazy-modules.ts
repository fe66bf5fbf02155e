/**
 * Modules loaded on first use, not at import: a cold start (a serverless function's import and first decode) pays only
 * for what it runs. pngjs and jpeg-js took ≈ 25 ms of a ≈ 75 ms import, node:zlib and node:worker_threads ≈ 5 ms each
 * (Node compiles its own modules on first load), and a function that decodes .aara files to pixels on its calling
 * thread needs none of them. require is synchronous, as the sync API must be.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The module `id`, required on the first call. */
function onFirstUse<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}

export const pngjs = onFirstUse<typeof import('pngjs')>('pngjs');
export const jpegjs = onFirstUse<typeof import('jpeg-js')>('jpeg-js');
export const zlib = onFirstUse<typeof import('node:zlib')>('node:zlib');
export const workerThreads = onFirstUse<typeof import('node:worker_threads')>('node:worker_threads');
