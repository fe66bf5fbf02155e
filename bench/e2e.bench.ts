/**
 * End-to-end speed: encode and decode of a 768×512 image (Kodak kodim23 when ../shared/datasets is there,
 * else a synthetic one) with the shipped weights, on the main thread and on a pool of one worker per core.
 * Run: node dist/bench/e2e.bench.js
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Bench } from 'tinybench';
import { DEFAULT_LEVEL, decodeSync, encodeSync } from '../src/codec/codec.js';
import { decodeImage } from '../src/io/image-io.js';
import type { RgbImage } from '../src/io/pixels.js';
import { loadWeightFile } from '../src/io/weight-files.js';
import { decodeParallel, encodeParallel } from '../src/parallel/parallel.js';
import { WorkerPool } from '../src/parallel/pool.js';
import { repoPath } from '../test/helpers/fixtures.js';
import { syntheticImage } from '../test/helpers/images.js';

const KODAK = repoPath('../shared/datasets/kodak/kodim23.png');

function benchImage(): { img: RgbImage; name: string } {
  if (existsSync(KODAK)) return { img: decodeImage(readFileSync(KODAK)), name: 'kodim23' };
  return { img: syntheticImage(768, 512, 23), name: 'synthetic' };
}

const { img, name } = benchImage();
const { weights: w, bytes } = loadWeightFile();
const level = DEFAULT_LEVEL;
const threads = availableParallelism();
const pool = new WorkerPool(threads);
const file = encodeSync(img, w, { level });
// start the workers (and compile their code) before timing: a small image runs every kind of task
const primer = syntheticImage(64, 64, 1);
await decodeParallel(await encodeParallel(primer, w, bytes, { level, pool }), w, bytes, { pool });

// every iteration codes a whole image for seconds: a few of each are enough
const bench = new Bench({ time: 0, iterations: 3 });
bench
  .add('encode, 1 thread', () => { encodeSync(img, w, { level }); })
  .add(`encode, ${threads} workers`, async () => { await encodeParallel(img, w, bytes, { level, pool }); })
  .add('decode, 1 thread', () => { decodeSync(file, w); })
  .add(`decode, ${threads} workers`, async () => { await decodeParallel(file, w, bytes, { pool }); });
await bench.run();
await pool.close();

console.log(`${name} ${img.width}×${img.height}, level ${level}, ${file.length} bytes, ${threads} cores`);
const seconds = (task: string) => bench.tasks.find((t) => t.name === task)!.result!.mean / 1000;
for (const op of ['encode', 'decode']) {
  const sync = seconds(`${op}, 1 thread`);
  const parallel = seconds(`${op}, ${threads} workers`);
  console.log(`${op}: ${sync.toFixed(2)} s/op on 1 thread, ${parallel.toFixed(2)} s/op on ${threads} workers: ` +
    `${(sync / parallel).toFixed(2)}× faster`);
}
