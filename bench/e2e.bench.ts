/**
 * End-to-end speed, side by side with a previous release: encode and decode of a 768×512 image (Kodak kodim23
 * when ../shared/datasets is there, else a synthetic one) through each build's public API, synchronously and
 * through its worker pool (one worker per core, and one), both builds in this one process, their runs
 * interleaved so a busy machine slows both alike. Both run the model the previous release can read (its own
 * weights file, the factorized kind: "the same model"); this build also runs the shipped default weights.
 * Ratios are what counts; seconds depend on the machine and what else it runs. Further weight files (e.g.
 * weights/aara-ycontext.bin) each add a column of this build with them: one kind's decoder work against another's.
 *   node dist/bench/e2e.bench.js [previous-commit] [rounds] [weights.bin ...]
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { basename } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Bench } from 'tinybench';
import { repoPath } from '../test/helpers/fixtures.js';
import { syntheticImage } from '../test/helpers/images.js';
import { BASELINE_RELEASE, previousRelease } from './previous-release.js';

interface Api {
  encodeSync(input: unknown, opts: object): Uint8Array;
  decodeSync(bytes: Uint8Array, opts: object): unknown;
  encode(input: unknown, opts: object): Promise<Uint8Array>;
  decode(bytes: Uint8Array, opts: object): Promise<unknown>;
  loadWeights(path?: string): unknown;
  close(): Promise<void>;
}

const commit = process.argv[2] ?? BASELINE_RELEASE;
const rounds = Number(process.argv[3] ?? 3);
const otherWeights = process.argv.slice(4);
const previous = previousRelease(commit);
const builds: Record<string, Api> = {
  previous: await previous.load<Api>('src/index.js'),
  this: (await import('../src/index.js')) as unknown as Api,
};
const sameModel = `${previous.root}/weights/aara.bin`;
const KODAK = repoPath('../shared/datasets/kodak/kodim23.png');
const source = existsSync(KODAK) ? new Uint8Array(readFileSync(KODAK)) : null;
const image = source ?? syntheticImage(768, 512, 23);
const level = 5;
const cores = availableParallelism();
const here = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: repoPath('.'), encoding: 'utf8' }).trim();

interface Runner { name: string; build: string; weights: string; threads: number }
const runners: Runner[] = [
  { name: 'previous', build: 'previous', weights: sameModel, threads: cores },
  { name: 'this', build: 'this', weights: sameModel, threads: cores },
  { name: 'this, shipped weights', build: 'this', weights: repoPath('weights/aara.bin'), threads: cores },
  ...otherWeights.map((path) => ({ name: `this, ${basename(path)}`, build: 'this', weights: path, threads: cores })),
];

const files = new Map<string, Uint8Array>();
const bench = new Bench({ time: 0, iterations: 1, warmupIterations: 0 });
for (const r of runners) {
  const api = builds[r.build];
  const weights = api.loadWeights(r.weights);
  const file = api.encodeSync(image, { weights, level });
  files.set(r.name, file);
  // start the pool (workers, compiled code, weights in each) before timing: an image above one encode tile (512×512),
  // which this build's async calls would otherwise run on the calling thread
  await api.decode(await api.encode(syntheticImage(528, 528, 1), { weights, level, threads: r.threads }), { weights, threads: r.threads });
  bench
    .add(`${r.name}: encode, sync`, () => { api.encodeSync(image, { weights, level }); })
    .add(`${r.name}: encode, ${r.threads} workers`, async () => { await api.encode(image, { weights, level, threads: r.threads }); })
    .add(`${r.name}: decode, sync`, () => { api.decodeSync(file, { weights }); })
    .add(`${r.name}: decode, ${r.threads} workers`, async () => { await api.decode(file, { weights, threads: r.threads }); });
}
// interleaved rounds: every task once per round, after one untimed round (the workers' compiled code settles over
// their first whole decodes: a fresh pool's first 768×512 decode took 1.5× its later ones)
await bench.run();
const times = new Map<string, number[]>();
for (let round = 0; round < rounds; round++) {
  await bench.run();
  for (const task of bench.tasks) times.set(task.name, [...(times.get(task.name) ?? []), task.result!.mean / 1000]);
}
for (const api of Object.values(builds)) await api.close();

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
const s = (name: string) => median(times.get(name)!);
console.log(`${source ? 'kodim23' : 'synthetic'} 768×512, level ${level}; ${cores} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}`);
console.log(`this build ${here} vs ${commit} (${previous.commit.slice(0, 12)}); "same model": ${commit}'s weights/aara.bin; median of ${rounds} interleaved rounds after an untimed one\n`);
console.log(`| operation | ${runners.map((r) => r.name).join(' | ')} | previous / this (same model) |`);
console.log(`|---|${runners.map(() => '---:').join('|')}|---:|`);
for (const op of ['encode', 'decode']) {
  for (const mode of ['sync', `${cores} workers`]) {
    const cells = runners.map((r) => `${s(`${r.name}: ${op}, ${mode}`).toFixed(2)} s`);
    const ratio = s(`previous: ${op}, ${mode}`) / s(`this: ${op}, ${mode}`);
    console.log(`| ${op}, ${mode} | ${cells.join(' | ')} | ${ratio.toFixed(2)}× |`);
  }
}
console.log(`\nfile sizes: ${runners.map((r) => `${r.name} ${files.get(r.name)!.length} B`).join(', ')}`);
