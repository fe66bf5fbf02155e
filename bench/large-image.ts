/**
 * A 6000×4000 photograph's worth of pixels (synthetic) encoded, then decoded, each in a process of its own
 * (as a serverless function runs one or the other), tiles on the worker pool: time and the process's peak
 * RSS (the target is ≤ 300 MB). maxRSS covers the whole process, workers included. Also printed: the
 * whole-image arrays the codec cannot do without (pixels; the latents: f32 features that become int32 symbols
 * in place when encoding, int16 symbols when decoding), so the rest is the tiles' working memory, the workers
 * and Node itself.
 * Run: node dist/bench/large-image.js [threads [width height]]
 *   threads: default one worker per core; 1 = the synchronous codec. A smaller size gives a quick estimate.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LEVEL, decodeSync, encodeSync } from '../src/codec/codec.js';
import { loadWeightFile } from '../src/io/weight-files.js';
import { decodeParallel, encodeParallel } from '../src/parallel/parallel.js';
import { WorkerPool } from '../src/parallel/pool.js';
import { paddedSize } from '../src/model/preprocess.js';
import { syntheticImage } from '../test/helpers/images.js';

const MB = 1024 * 1024;
const peakMegabytes = () => (process.resourceUsage().maxRSS / 1024).toFixed(0);
const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);

/** Child process: one phase, one line of results. */
async function runPhase(phase: string, threads: number, width: number, height: number, path: string): Promise<void> {
  const { weights: w, bytes } = loadWeightFile();
  const pool = threads === 1 ? undefined : new WorkerPool(threads);
  const started = performance.now();
  if (phase === 'encode') {
    // in shared memory from the start, so the pool does not copy the pixels
    const img = syntheticImage(width, height, 6000, new Uint8Array(new SharedArrayBuffer(width * height * 3)));
    const file = pool
      ? await encodeParallel(img, w, bytes, { level: DEFAULT_LEVEL, pool })
      : encodeSync(img, w, { level: DEFAULT_LEVEL });
    console.log(`encode: ${seconds(started)} s, ${file.length} bytes; peak RSS ${peakMegabytes()} MB`);
    writeFileSync(path, file);
  } else {
    const file = new Uint8Array(readFileSync(path));
    const decoded = pool ? await decodeParallel(file, w, bytes, { pool }) : decodeSync(file, w);
    console.log(`decode: ${seconds(started)} s, ${decoded.width}×${decoded.height}; peak RSS ${peakMegabytes()} MB`);
  }
  await pool?.close();
}

const [phase, ...rest] = process.argv.slice(2);
if (phase === 'encode' || phase === 'decode') {
  await runPhase(phase, Number(rest[0]), Number(rest[1]), Number(rest[2]), rest[3]);
} else {
  const threads = Number(process.argv[2] ?? availableParallelism());
  const width = Number(process.argv[3] ?? 6000);
  const height = Number(process.argv[4] ?? 4000);
  const { weights: w } = loadWeightFile();
  const area = paddedSize(width) * paddedSize(height);
  const pixels = (width * height * 3) / MB;
  const symbols = (w.config.M * area) / 256 + (w.config.Mr * area) / 64;
  console.log(`${width}×${height}, level ${DEFAULT_LEVEL}, ${threads === 1 ? 'synchronous' : `${threads} workers`}; ` +
    `whole-image arrays: pixels ${pixels.toFixed(0)} MB, latents ${(symbols * 4 / MB).toFixed(0)} MB encoding (f32/int32), ` +
    `${(symbols * 2 / MB).toFixed(0)} MB decoding (int16)`);
  const dir = mkdtempSync(join(tmpdir(), 'aara-large-'));
  try {
    for (const step of ['encode', 'decode']) {
      const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), step, String(threads), String(width), String(height), join(dir, 'large.aara')],
        { stdio: ['ignore', 'inherit', 'inherit'] });
      if (run.status !== 0) throw new Error(`${step} failed (exit ${run.status})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
