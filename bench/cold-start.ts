/**
 * Cold start of a serverless function: a fresh process imports aara, loads the packaged weights and decodes a
 * first 256×256 image, through each public entry: the Node one (`aara`: weights by path) and the browser one
 * (`aara/browser`: weights as bytes the caller read, no Node import inside). Each run is a new process (the only
 * honest way to measure cold start); the median of the runs is reported.   node dist/bench/cold-start.js [runs]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 7);
const entries = {
  node: fileURLToPath(new URL('../src/index.js', import.meta.url)),
  browser: fileURLToPath(new URL('../src/browser/index.js', import.meta.url)),
};
const weightsPath = fileURLToPath(new URL('../../weights/aara.bin', import.meta.url));

/** The script a fresh process runs: the same image and level through either entry. */
const child = (entry: keyof typeof entries) => `
const data = new Uint8Array(256 * 256 * 3).map((_, i) => (i * 37) % 251);
const t0 = performance.now();
const aara = await import(${JSON.stringify(entries[entry])});
const t1 = performance.now();
${entry === 'node'
    ? 'const weights = aara.loadWeights();'
    : `const { readFileSync } = await import('node:fs');
const weights = aara.readWeights(readFileSync(${JSON.stringify(weightsPath)}));`}
const t2 = performance.now();
const file = ${entry === 'node' ? 'aara.encodeSync({ width: 256, height: 256, data }, { weights, level: 3 })' : 'aara.encode({ width: 256, height: 256, data }, weights, { level: 3 })'};
const t3 = performance.now();
${entry === 'node' ? 'aara.decodeSync(file, { weights });' : 'aara.decode(file, weights);'}
const t4 = performance.now();
console.log(JSON.stringify({ importMs: t1 - t0, weightsMs: t2 - t1, firstDecodeMs: t4 - t3, rssMB: process.memoryUsage().rss / 2 ** 20 }));
`;

const median = (results: Record<string, number>[], key: string) => {
  const v = results.map((r) => r[key]).sort((a, b) => a - b);
  return v[v.length >> 1];
};
const measured = Object.fromEntries((Object.keys(entries) as (keyof typeof entries)[]).map((entry) => {
  const results: Record<string, number>[] = [];
  // interleaved would be fairer on a noisy machine; runs of one entry back to back keep the file cache warm alike
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', child(entry)], { encoding: 'utf8' });
    results.push({ ...JSON.parse(out), processMs: performance.now() - started });
  }
  return [entry, results];
}));
const row = (label: string, value: (r: Record<string, number>[]) => number) =>
  console.log(`| ${label} | ${value(measured.node).toFixed(1)} | ${value(measured.browser).toFixed(1)} |`);
console.log(`| cold start (median of ${runs} fresh processes), ms | \`aara\` | \`aara/browser\` |`);
console.log('|---|---:|---:|');
row('import', (r) => median(r, 'importMs'));
row('weights/aara.bin (read, checked)', (r) => median(r, 'weightsMs'));
row('first 256×256 decode', (r) => median(r, 'firstDecodeMs'));
row('import + weights + first decode', (r) => median(r, 'importMs') + median(r, 'weightsMs') + median(r, 'firstDecodeMs'));
row('whole process (node start included)', (r) => median(r, 'processMs'));
row('RSS after (MB)', (r) => median(r, 'rssMB'));
