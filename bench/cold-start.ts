/**
 * Cold start of a serverless function: a fresh Node process imports aara, loads the packaged weights and
 * decodes a first 256×256 image. Each run is a new process (the only honest way to measure cold start);
 * the median of the runs is reported.   node dist/bench/cold-start.js [runs]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 7);
const index = fileURLToPath(new URL('../src/index.js', import.meta.url));

const child = `
const t0 = performance.now();
const aara = await import(${JSON.stringify(index)});
const t1 = performance.now();
const weights = aara.loadWeights();
const t2 = performance.now();
const data = new Uint8Array(256 * 256 * 3).map((_, i) => (i * 37) % 251);
const file = aara.encodeSync({ width: 256, height: 256, data }, { weights, level: 3 });
const t3 = performance.now();
aara.decodeSync(file, { weights });
const t4 = performance.now();
console.log(JSON.stringify({ importMs: t1 - t0, weightsMs: t2 - t1, firstDecodeMs: t4 - t3, rssMB: process.memoryUsage().rss / 2 ** 20 }));
`;

const results: Record<string, number>[] = [];
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8' });
  results.push({ ...JSON.parse(out), processMs: performance.now() - started });
}
const median = (key: string) => {
  const v = results.map((r) => r[key]).sort((a, b) => a - b);
  return v[v.length >> 1];
};
console.log(`| cold start (median of ${runs} fresh processes) | ms |`);
console.log('|---|---|');
console.log(`| import aara | ${median('importMs').toFixed(1)} |`);
console.log(`| load weights/aara.bin | ${median('weightsMs').toFixed(1)} |`);
console.log(`| first 256×256 decode | ${median('firstDecodeMs').toFixed(1)} |`);
console.log(`| import + weights + first decode | ${(median('importMs') + median('weightsMs') + median('firstDecodeMs')).toFixed(1)} |`);
console.log(`| RSS after (MB) | ${median('rssMB').toFixed(1)} |`);
