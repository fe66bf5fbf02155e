/**
 * End-to-end speed, side by side with a previous release: encode and decode of a 768×512 image (Kodak kodim23
 * when ../shared/datasets is there, else a synthetic one) through each build's public API (its package entry: this build's bundle), synchronously and
 * through its worker pool (one worker per core). Both run the model the previous release can read (its own weights
 * file, the factorized kind: "the same model"); this build also runs the shipped default weights, and any further
 * weight files given (e.g. weights/aara-ycontext.bin), each a column.
 *
 * Pairs, not rounds: the two calls a ratio compares run back to back, their order flipped every round, and the
 * ratio is the median of the per-pair ratios. These 2-vCPU machines swing by ±30 % within minutes; a slow spell
 * then hits both calls of a pair alike, where the medians of whole rounds (seconds apart) moved 10–20 % between
 * runs of the same code. Each build and weights file runs in its own process (this file, forked with --serve), its
 * pool started before timing: two builds in one process were not equal (8 pairs of decodes each: the second build
 * loaded timed 1.10× and 1.06× the first, whichever build that was, and the same code loaded twice 1.05×); each
 * heap and JIT state is now its own. The time is taken in the process that runs
 * the call, so the messages between processes are not in it.
 *
 *
 * Several processes per column (`--processes N`, default 3): two processes running the same build, weights and calls
 * differed by 15–43 % in every operation, round after round (a process keeps its speed: its JIT code, or where its
 * buffers fell), so a ratio between two processes carries their offset. Round r pairs the previous build's process
 * r mod N with this build's process (r + ⌊r / N⌋) mod N, so N² rounds meet every pair of them once, and the ratio's
 * median is over all the pairs; each process's own medians are printed too, to show the offsets.
 *
 * `--busy` instead times this build's pool against its own sync calls while a spinning process holds one core
 * (issue 16: "async never slower than sync, also with one core busy", as on a shared or 1-vCPU serverless host).
 *   node dist/bench/e2e.bench.js [--busy] [--processes N] [previous-commit] [rounds] [weights.bin ...]
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { basename } from 'node:path';
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { repoPath } from '../test/helpers/fixtures.js';
import { syntheticImage } from '../test/helpers/images.js';
import { BASELINE_RELEASE, packageEntry, previousRelease } from './previous-release.js';

interface Api {
  encodeSync(input: unknown, opts: object): Uint8Array;
  decodeSync(bytes: Uint8Array, opts: object): unknown;
  encode(input: unknown, opts: object): Promise<Uint8Array>;
  decode(bytes: Uint8Array, opts: object): Promise<unknown>;
  loadWeights(path?: string): unknown;
  close(): Promise<void>;
}

const KODAK = repoPath('../shared/datasets/kodak/kodim23.png');
const source = existsSync(KODAK) ? new Uint8Array(readFileSync(KODAK)) : null;
const level = 5;
const cores = availableParallelism();
const pooled = `${cores} workers`;
const ops = ['encode', 'decode'];
const modes = ['sync', pooled];

/** A call's name: `${op}, ${mode}`. */
type Call = string;
type Request = { call: Call } | { close: true };
type Reply = { ready: true; fileBytes: number } | { ms: number };

/** The process one runner lives in: its build's API, its weights, the file it decodes; it times the calls it is sent. */
async function serve(entry: string, weightsPath: string): Promise<void> {
  const api = (await import(entry)) as Api;
  const image = source ?? syntheticImage(768, 512, 23);
  const weights = api.loadWeights(weightsPath);
  const file = api.encodeSync(image, { weights, level });
  // start the pool (workers, compiled code, weights in each) before timing: an image above one encode tile (512×512),
  // which this build's async calls would otherwise run on the calling thread
  await api.decode(await api.encode(syntheticImage(528, 528, 1), { weights, level, threads: cores }), { weights, threads: cores });
  const calls: Record<Call, () => unknown> = {
    'encode, sync': () => api.encodeSync(image, { weights, level }),
    [`encode, ${pooled}`]: () => api.encode(image, { weights, level, threads: cores }),
    'decode, sync': () => api.decodeSync(file, { weights }),
    [`decode, ${pooled}`]: () => api.decode(file, { weights, threads: cores }),
  };
  process.on('message', async (request: Request) => {
    if ('close' in request) {
      await api.close();
      process.disconnect();
      return;
    }
    const started = performance.now();
    await calls[request.call]();
    process.send!({ ms: performance.now() - started } satisfies Reply);
  });
  process.send!({ ready: true, fileBytes: file.length } satisfies Reply);
}

/** A runner: a build with a weights file, in its own process; `run` times one call there. */
interface Runner { name: string; child: ChildProcess; fileBytes: number; run(call: Call): Promise<number> }

async function start(name: string, entry: string, weights: string): Promise<Runner> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', entry, weights], { stdio: 'inherit' });
  const replies: ((reply: Reply) => void)[] = [];
  child.on('message', (reply: Reply) => replies.shift()!(reply));
  const next = () => new Promise<Reply>((resolve) => replies.push(resolve));
  const { fileBytes } = (await next()) as { fileBytes: number };
  return {
    name, child, fileBytes,
    run: async (call) => {
      const reply = next();
      child.send({ call } satisfies Request);
      return ((await reply) as { ms: number }).ms / 1000;
    },
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const busy = args.includes('--busy');
  const flagAt = args.indexOf('--processes');
  const processes = flagAt < 0 ? 3 : Number(args[flagAt + 1]);
  if (!(Number.isInteger(processes) && processes >= 1)) throw new Error(`--processes takes a whole number ≥ 1, got ${args[flagAt + 1]}`);
  const positional = args.filter((a, i) => a !== '--busy' && i !== flagAt && (flagAt < 0 || i !== flagAt + 1));
  const [commit = BASELINE_RELEASE, roundsArg = String(processes * processes), ...otherWeights] = positional;
  const rounds = Number(roundsArg);
  const previous = previousRelease(commit);
  const sameModel = `${previous.root}/weights/aara.bin`;
  const thisEntry = packageEntry(repoPath('.'));
  const here = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: repoPath('.'), encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repoPath('.'), encoding: 'utf8' }).trim() !== '';

  const specs = [
    ...(busy ? [] : [{ name: 'previous', entry: packageEntry(previous.root), weights: sameModel }]),
    { name: 'this', entry: thisEntry, weights: sameModel },
    { name: 'this, shipped weights', entry: thisEntry, weights: repoPath('weights/aara.bin') },
    ...otherWeights.map((path) => ({ name: `this, ${basename(path)}`, entry: thisEntry, weights: path })),
  ];
  // one at a time: their set-ups time nothing
  const runners: Runner[] = [];
  const copies = new Map<string, Runner[]>();
  for (const s of specs) {
    const started: Runner[] = [];
    for (let k = 0; k < processes; k++) started.push(await start(s.name, s.entry, s.weights));
    copies.set(s.name, started);
    runners.push(started[0]);
  }
  /** The process of column `name` that round r uses: the first two columns meet in every pairing over N² rounds. */
  const runner = (name: string, round: number) => {
    const k = name === runners[1].name ? round + Math.floor(round / processes) : round;
    return copies.get(name)![k % processes];
  };

  /** The comparisons, [runner, call] twice, run back to back; the ratio is the first's time over the second's. */
  type Timed = [string, Call];
  const pairs: [Timed, Timed][] = busy
    ? runners.flatMap((r) => ops.map((op): [Timed, Timed] => [[r.name, `${op}, sync`], [r.name, `${op}, ${pooled}`]]))
    : ops.flatMap((op) => modes.map((mode): [Timed, Timed] => [['previous', `${op}, ${mode}`], ['this', `${op}, ${mode}`]]));
  const key = ([name, call]: Timed) => `${name}: ${call}`;
  const paired = new Set(pairs.flat().map(key));
  const singles = runners.flatMap((r) => ops.flatMap((op) => modes.map((mode): Timed => [r.name, `${op}, ${mode}`]))).filter((t) => !paired.has(key(t)));

  const spinner = busy ? spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }) : undefined;
  // every process runs each call once untimed first: the workers' compiled code settles over their first whole calls
  // (a fresh pool's first 768×512 decode took 1.5× its later ones)
  for (const started of copies.values()) for (const r of started) for (const op of ops) for (const mode of modes) await r.run(`${op}, ${mode}`);
  const times = new Map<string, number[]>();
  /** per process: `${key} #k` */
  const processTimes = new Map<string, number[]>();
  const ratios = pairs.map((): number[] => []);
  for (let round = 0; round < rounds; round++) {
    const seconds = new Map<string, number>();
    const time = async (t: Timed) => {
      const r = runner(t[0], round);
      const s = await r.run(t[1]);
      seconds.set(key(t), s);
      const k = `${key(t)} #${copies.get(t[0])!.indexOf(r)}`;
      processTimes.set(k, [...(processTimes.get(k) ?? []), s]);
    };
    for (const pair of pairs) for (const t of round % 2 ? [...pair].reverse() : pair) await time(t);
    for (const t of singles) await time(t);
    for (const [name, s] of seconds) times.set(name, [...(times.get(name) ?? []), s]);
    pairs.forEach(([a, b], i) => ratios[i].push(seconds.get(key(a))! / seconds.get(key(b))!));
  }
  spinner?.kill();
  for (const started of copies.values()) for (const r of started) r.child.send({ close: true } satisfies Request);

  const median = (v: number[]) => {
    const sorted = [...v].sort((a, b) => a - b), mid = v.length >> 1;
    return v.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  const s = (name: string, call: Call) => `${median(times.get(key([name, call]))!).toFixed(2)} s`;
  const ratio = (i: number) => `${median(ratios[i]).toFixed(2)}× (${Math.min(...ratios[i]).toFixed(2)}–${Math.max(...ratios[i]).toFixed(2)})`;
  console.log(`${source ? 'kodim23' : 'synthetic'} 768×512, level ${level}; ${cores} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}`);
  console.log(`this build ${here}${dirty ? ' (with uncommitted changes)' : ''}${busy ? '' : ` vs ${commit} (${previous.commit.slice(0, 12)})`}; ` +
    `"same model": ${commit}'s weights/aara.bin; each column ${processes} processes; ${rounds} rounds after an untimed call of each, median seconds; ` +
    `ratios: median (range) of the ${rounds} per-pair ratios${busy ? '; a spinning process holds one core throughout' : ''}\n`);
  if (busy) {
    console.log(`| operation | ${runners.map((r) => `${r.name}: sync | ${r.name}: ${pooled} | sync / pool`).join(' | ')} |`);
    console.log(`|---|${runners.map(() => '---:|---:|---:').join('|')}|`);
    for (const op of ops) {
      const cells = runners.map((r) => {
        const i = pairs.findIndex(([[name, call]]) => name === r.name && call === `${op}, sync`);
        return `${s(r.name, `${op}, sync`)} | ${s(r.name, `${op}, ${pooled}`)} | ${ratio(i)}`;
      });
      console.log(`| ${op} | ${cells.join(' | ')} |`);
    }
  } else {
    console.log(`| operation | ${runners.map((r) => r.name).join(' | ')} | previous / this (same model) |`);
    console.log(`|---|${runners.map(() => '---:').join('|')}|---:|`);
    for (const op of ops) {
      for (const mode of modes) {
        const call = `${op}, ${mode}`;
        const i = pairs.findIndex(([[name, c]]) => name === 'previous' && c === call);
        console.log(`| ${call} | ${runners.map((r) => s(r.name, call)).join(' | ')} | ${ratio(i)} |`);
      }
    }
  }
  console.log(`\nfile sizes: ${runners.map((r) => `${r.name} ${r.fileBytes} B`).join(', ')}`);
  console.log('\neach process\'s median seconds (its offset):');
  for (const r of runners) {
    for (const op of ops) {
      for (const mode of modes) {
        const call = `${op}, ${mode}`;
        const per = copies.get(r.name)!.map((_, k) => processTimes.get(`${key([r.name, call])} #${k}`));
        console.log(`  ${r.name}: ${call}: ${per.map((v) => (v ? median(v).toFixed(2) : '–')).join(' / ')}`);
      }
    }
  }
}

if (process.argv[2] === '--serve') await serve(process.argv[3], process.argv[4]);
else await main();
