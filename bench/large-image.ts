/**
 * A 6000×4000 photograph's worth of pixels (synthetic) encoded and decoded in tiles on the worker pool:
 * time and peak resident memory (the target is ≤ 300 MB). maxRSS covers the whole process, workers
 * included; it only grows, so the value after encoding is the encoder's peak.
 * Run: node dist/bench/large-image.js [threads [width height]]
 *   threads: default one worker per core; 1 = the synchronous codec. A smaller size gives a quick estimate.
 */
import { availableParallelism } from 'node:os';
import { DEFAULT_LEVEL, decodeSync, encodeSync } from '../src/codec.js';
import { decodeParallel, encodeParallel, loadWeightFile } from '../src/parallel.js';
import { WorkerPool } from '../src/pool.js';
import { syntheticImage } from '../test/helpers/images.js';

const threads = Number(process.argv[2] ?? availableParallelism());
const WIDTH = Number(process.argv[3] ?? 6000);
const HEIGHT = Number(process.argv[4] ?? 4000);

const peakMegabytes = () => (process.resourceUsage().maxRSS / 1024).toFixed(0);
const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);

const { weights: w, bytes } = loadWeightFile();
// in shared memory from the start, so the pool does not copy the 72 MB of pixels
const img = syntheticImage(WIDTH, HEIGHT, 6000, new Uint8Array(new SharedArrayBuffer(WIDTH * HEIGHT * 3)));
console.log(`${WIDTH}×${HEIGHT}, level ${DEFAULT_LEVEL}, ${threads === 1 ? 'synchronous' : `${threads} workers`}; ` +
  `peak RSS with the image: ${peakMegabytes()} MB`);
const pool = new WorkerPool(threads);
const encodeStarted = performance.now();
const file = threads === 1
  ? encodeSync(img, w, { level: DEFAULT_LEVEL })
  : await encodeParallel(img, w, bytes, { level: DEFAULT_LEVEL, pool });
console.log(`encode: ${seconds(encodeStarted)} s, ${file.length} bytes; peak RSS ${peakMegabytes()} MB`);
const decodeStarted = performance.now();
const decoded = threads === 1 ? decodeSync(file, w) : await decodeParallel(file, w, bytes, { pool });
console.log(`decode: ${seconds(decodeStarted)} s, ${decoded.width}×${decoded.height}; peak RSS ${peakMegabytes()} MB`);
await pool.close();
