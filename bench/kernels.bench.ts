/**
 * Kernel throughput at the model's real layer shapes for a 768×512 image: the main encoder's 5×5/2
 * convolutions, the main decoder's transposed convolutions, and a 64-channel GDN; each beside the previous
 * release's kernel for the same op, built and timed in this run (bench/previous-release.ts), and beside the
 * simple reference. Prints a markdown table of GFLOP/s = 2·MACs / time with nominal MACs (the direct
 * algorithm's: every tap counted, borders included), so for a fast algorithm that does fewer multiplies it is
 * the *effective* rate. Time is this process's CPU time, not wall time, so other work on a busy machine skews it
 * less (the kernels are single-threaded and do not allocate, so that is their own time).
 * The simple kernels are ~10× slower, so they run on a strip (1/16 of the rows, same channels and width:
 * the first elements of the same buffers) to keep the whole run short. Run: node dist/bench/kernels.bench.js [previous-commit]
 */
import { Bench } from 'tinybench';
import * as kernels from '../kernels/index.js';
import {
  conv2dSimple,
  conv2dWinograd,
  conv2dWinogradScratchLength,
  packConv2dWinograd,
  gdn,
  gdnScratchLength,
  gdnSimple,
  packTransposedConv2dWinograd,
  transposedConv2dSimple,
  transposedConv2dWinograd,
  winogradScratchLength,
  type Conv2dDims,
  type TransposedConv2dDims,
} from '../kernels/index.js';
import { mulberry32, type Rng } from '../test/helpers/prng.js';
import { BASELINE_RELEASE, previousRelease } from './previous-release.js';

const commit = process.argv[2] ?? BASELINE_RELEASE;
const previous = previousRelease(commit);
const old = await previous.load<typeof kernels & {
  transposedConv2d(out: Float32Array, x: Float32Array, pw: Float64Array, b: Float32Array, d: TransposedConv2dDims): void;
  packTransposedConv2dWeights(w: Float32Array, d: TransposedConv2dDims): Float64Array;
}>('kernels/index.js');

const SIMPLE_STRIP = 16;

interface Case {
  kernel: string;
  shape: string;
  /** Timed runs of the fast kernel, after one warm-up; the simple one runs once, unwarmed (it optimizes on the spot). */
  iterations: number;
  fast: { macs: number; run: () => void };
  previous: () => void;
  simple: { macs: number; run: () => void };
}

const rng = mulberry32(768512);
const random = (r: Rng, length: number, scale: number) => Float32Array.from({ length }, () => (2 * r() - 1) * scale);

function conv5x5s2(inC: number, inH: number, inW: number, outC: number, iterations: number): Case {
  const dims = (h: number): Conv2dDims => ({ inC, inH: h, inW, outC, outH: Math.ceil(h / 2), outW: Math.ceil(inW / 2), k: 5, stride: 2, pad: 2 });
  const full = dims(inH), strip = dims(Math.ceil(inH / SIMPLE_STRIP));
  const x = random(rng, inC * inH * inW, 1);
  const w = random(rng, outC * inC * 25, 0.1);
  const b = random(rng, outC, 0.1);
  const pu = packConv2dWinograd(w, full), scratch = new Float64Array(conv2dWinogradScratchLength(inC));
  const oldPw = old.packConv2dWeights(w, full);
  const out = new Float32Array(outC * full.outH * full.outW);
  const macs = (d: Conv2dDims) => d.outC * d.outH * d.outW * d.inC * d.k * d.k;
  return {
    kernel: `conv 5×5/2 ${inC}→${outC}`,
    shape: `in ${inW}×${inH} → out ${full.outW}×${full.outH}`,
    iterations,
    fast: { macs: macs(full), run: () => conv2dWinograd(out, x, pu, b, full, scratch) },
    previous: () => old.conv2d(out, x, oldPw, b, full),
    simple: { macs: macs(strip), run: () => conv2dSimple(out.subarray(0, outC * strip.outH * strip.outW), x.subarray(0, inC * strip.inH * inW), w, b, strip) },
  };
}

function tconv5x5s2(inC: number, inH: number, inW: number, outC: number, iterations: number): Case {
  const full: TransposedConv2dDims = { inC, inH, inW, outC };
  const strip: TransposedConv2dDims = { ...full, inH: Math.ceil(inH / SIMPLE_STRIP) };
  const x = random(rng, inC * inH * inW, 1);
  const w = random(rng, inC * outC * 25, 0.1);
  const b = random(rng, outC, 0.1);
  const pu = packTransposedConv2dWinograd(w, full), scratch = new Float64Array(winogradScratchLength(inC));
  const oldPw = old.packTransposedConv2dWeights(w, full);
  const out = new Float32Array(outC * 4 * inH * inW);
  // each input pixel meets all 25 taps once per (ic, oc) pair
  const macs = (d: TransposedConv2dDims) => d.inC * d.outC * 25 * d.inH * d.inW;
  return {
    kernel: `tconv 5×5/2 ${inC}→${outC}`,
    shape: `in ${inW}×${inH} → out ${2 * inW}×${2 * inH}`,
    iterations,
    fast: { macs: macs(full), run: () => transposedConv2dWinograd(out, x, pu, b, full, scratch) },
    previous: () => old.transposedConv2d(out, x, oldPw, b, full),
    simple: { macs: macs(strip), run: () => transposedConv2dSimple(out.subarray(0, outC * 4 * strip.inH * inW), x.subarray(0, inC * strip.inH * inW), w, b, strip) },
  };
}

function gdnCase(channels: number, height: number, width: number, iterations: number): Case {
  const planeSize = height * width;
  const x = random(rng, channels * planeSize, 1);
  const beta = Float32Array.from({ length: channels }, () => 0.5 + rng());
  const gamma = random(rng, channels * channels, 0.05).map(Math.abs);
  const out = new Float32Array(channels * planeSize);
  const scratch = new Float64Array(gdnScratchLength(channels));
  const full = { channels, planeSize, inverse: false };
  const strip = { ...full, planeSize: Math.ceil(planeSize / SIMPLE_STRIP) };
  return {
    kernel: `GDN ${channels} ch`,
    shape: `${width}×${height}`,
    iterations,
    fast: { macs: channels * channels * planeSize, run: () => gdn(out, x, beta, gamma, full, scratch) },
    previous: () => old.gdn(out, x, beta, gamma, full, scratch),
    simple: { macs: channels * channels * strip.planeSize, run: () => gdnSimple(out.subarray(0, channels * strip.planeSize), x.subarray(0, channels * strip.planeSize), beta, gamma, strip) },
  };
}

const cases: Case[] = [
  conv5x5s2(3, 512, 768, 64, 2),
  conv5x5s2(64, 256, 384, 64, 1),
  conv5x5s2(64, 64, 96, 128, 3),
  tconv5x5s2(128, 32, 48, 64, 3),
  tconv5x5s2(64, 64, 96, 64, 2),
  tconv5x5s2(64, 128, 192, 64, 1),
  tconv5x5s2(64, 256, 384, 3, 2),
  gdnCase(64, 128, 192, 5),
];

/** Process CPU time in ms. */
function cpuNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Best CPU time (ms) of `iterations` runs after `warmups` untimed ones. */
async function bestMs(name: string, run: () => void, iterations: number, warmups: number): Promise<number> {
  const bench = new Bench({ time: 0, iterations, warmupTime: 0, warmupIterations: warmups, now: cpuNow });
  bench.add(name, run);
  await bench.warmup();
  await bench.run();
  return bench.tasks[0]!.result!.min;
}

const gflops = (macs: number, ms: number) => (2 * macs) / (ms * 1e6);

const rows: string[] = [];
for (const c of cases) {
  // previous and this build alternate, so a busy machine slows both alike
  let fastMs = Infinity, previousMs = Infinity;
  for (let round = 0; round < 2; round++) {
    previousMs = Math.min(previousMs, await bestMs(`${c.kernel} previous`, c.previous, c.iterations, 1));
    fastMs = Math.min(fastMs, await bestMs(`${c.kernel} fast`, c.fast.run, c.iterations, 1));
  }
  const simpleMs = await bestMs(`${c.kernel} simple`, c.simple.run, 1, 0);
  const fast = gflops(c.fast.macs, fastMs), simple = gflops(c.simple.macs, simpleMs), prev = gflops(c.fast.macs, previousMs);
  rows.push(`| ${c.kernel} | ${c.shape} | ${(c.fast.macs / 1e6).toFixed(0)} | ${simple.toFixed(2)} | ${prev.toFixed(2)} | ${fast.toFixed(2)} | ${fastMs.toFixed(1)} | ${(previousMs / fastMs).toFixed(2)}× |`);
}

console.log(`Kernels at a 768×512 image, one core, best CPU time (node ${process.version}, ${process.arch}); previous = ${commit} (${previous.commit.slice(0, 12)})\n`);
console.log('| kernel | shape (W×H) | MMAC | simple GFLOP/s | previous GFLOP/s | this GFLOP/s | this CPU ms | this vs previous |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
for (const row of rows) console.log(row);
console.log(`\nsimple kernels timed on 1/${SIMPLE_STRIP} of the output rows; GFLOP/s = 2·MACs / time with the direct algorithm's MACs ` +
  "(for this build's Winograd convolutions: effective GFLOP/s)");
