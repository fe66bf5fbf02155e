/**
 * Cold start of a serverless function: a fresh process imports aara, loads the weights and decodes a first
 * 256×256 file, synchronously (decodeSync) and through the worker pool (decode), side by side with a previous
 * release built beside this one (bench/previous-release.ts) on the model it can read (its own weights file: "the
 * same model"), and with this build's shipped weights through both public entries (`aara`: weights by path;
 * `aara/browser`: weights as bytes the caller read, no Node import inside). Each build is imported by its package
 * entry, what `import 'aara'` gives its users: this build's is the bundle dist/bundle/index.js (a row imports tsc's
 * files beside it, dist/src/index.js). Each run is a new process (the only
 * honest way to measure cold start); the configurations take turns, run after run, and the median is reported.
 * The file is encoded beforehand by the same build (not timed), so the decode is really the first.
 *   node dist/bench/cold-start.js [runs] [previous-commit]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASELINE_RELEASE, packageEntry, previousRelease } from './previous-release.js';

const runs = Number(process.argv[2] ?? 7);
const commit = process.argv[3] ?? BASELINE_RELEASE;
const previous = previousRelease(commit);
const root = fileURLToPath(new URL('../../', import.meta.url));
const sameModel = join(previous.root, 'weights/aara.bin');
const shipped = join(root, 'weights/aara.bin');

const previousEntry = packageEntry(previous.root, '.'), entry = packageEntry(root, '.');

interface Config { label: string; entry: string; weights: string; mode: 'sync' | 'async' | 'browser' }
const configs: Config[] = [
  { label: `${commit}, sync`, entry: previousEntry, weights: sameModel, mode: 'sync' },
  { label: 'this, sync', entry, weights: sameModel, mode: 'sync' },
  { label: `${commit}, async`, entry: previousEntry, weights: sameModel, mode: 'async' },
  { label: 'this, async', entry, weights: sameModel, mode: 'async' },
  { label: 'this, sync, tsc\'s files (dist/src/index.js, not the bundle)', entry: join(root, 'dist/src/index.js'), weights: sameModel, mode: 'sync' },
  { label: 'this, shipped weights, sync', entry, weights: shipped, mode: 'sync' },
  { label: 'this, shipped weights, async', entry, weights: shipped, mode: 'async' },
  { label: 'this, shipped weights, `aara/browser`', entry: packageEntry(root, './browser'), weights: shipped, mode: 'browser' },
];

// one 256×256 file per configuration, written by the build that decodes it
const dir = mkdtempSync(join(tmpdir(), 'aara-cold-'));
const data = new Uint8Array(256 * 256 * 3).map((_, i) => (i * 37) % 251);
const files = await Promise.all(configs.map(async (c, i) => {
  const nodeEntry = c.mode === 'browser' ? entry : c.entry;
  const api = await import(nodeEntry) as { encodeSync(img: object, opts: object): Uint8Array };
  const path = join(dir, `${i}.aara`);
  writeFileSync(path, api.encodeSync({ width: 256, height: 256, data }, { weights: c.weights, level: 3 }));
  return path;
}));

/** The script a fresh process runs: read the file (untimed), then import, weights, first decode. */
const child = (c: Config, file: string) => `
const { readFileSync } = await import('node:fs');
const file = new Uint8Array(readFileSync(${JSON.stringify(file)}));
const t0 = performance.now();
const aara = await import(${JSON.stringify(c.entry)});
const t1 = performance.now();
${c.mode === 'browser'
    ? `const weights = aara.readWeights(readFileSync(${JSON.stringify(c.weights)}));`
    : `const weights = aara.loadWeights(${JSON.stringify(c.weights)});`}
const t2 = performance.now();
${c.mode === 'sync' ? 'aara.decodeSync(file, { weights });' : c.mode === 'async' ? 'await aara.decode(file, { weights });' : 'aara.decode(file, weights);'}
const t3 = performance.now();
${c.mode === 'async' ? 'await aara.close();' : ''}
const { user, system } = process.cpuUsage();
console.log(JSON.stringify({ importMs: t1 - t0, weightsMs: t2 - t1, firstDecodeMs: t3 - t2, cpuMs: (user + system) / 1000,
  rssMB: process.memoryUsage().rss / 2 ** 20 }));
`;

const results: Record<string, number>[][] = configs.map(() => []);
for (let run = 0; run < runs; run++) {
  configs.forEach((c, i) => {
    const started = performance.now();
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', child(c, files[i])], { encoding: 'utf8' });
    results[i].push({ ...JSON.parse(out), processMs: performance.now() - started });
  });
}
rmSync(dir, { recursive: true, force: true });

const median = (r: Record<string, number>[], key: string) => {
  const v = r.map((x) => x[key]).sort((a, b) => a - b);
  return v[v.length >> 1];
};
const total = (r: Record<string, number>[]) => median(r, 'importMs') + median(r, 'weightsMs') + median(r, 'firstDecodeMs');
console.log(`cold start, median of ${runs} fresh processes each (configurations interleaved); previous = ${commit} ` +
  `(${previous.commit.slice(0, 12)}); "same model" = its weights/aara.bin; entries: ${previousEntry}, ${entry}; node ${process.version}\n`);
console.log('| configuration | import ms | weights ms | first 256×256 decode ms | import + weights + decode ms | process CPU ms | RSS MB |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
configs.forEach((c, i) => {
  const r = results[i];
  console.log(`| ${c.label} | ${median(r, 'importMs').toFixed(1)} | ${median(r, 'weightsMs').toFixed(1)} | ${median(r, 'firstDecodeMs').toFixed(1)} | ` +
    `${total(r).toFixed(1)} | ${median(r, 'cpuMs').toFixed(0)} | ${median(r, 'rssMB').toFixed(1)} |`);
});
for (const mode of ['sync', 'async']) {
  const a = results[configs.findIndex((c) => c.label === `${commit}, ${mode}`)], b = results[configs.findIndex((c) => c.label === `this, ${mode}`)];
  console.log(`\n${mode}: this build's import + weights + first decode is ${(total(a) / total(b)).toFixed(2)}× faster than ${commit}'s (same model)`);
}
