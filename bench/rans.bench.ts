/**
 * rANS throughput: encodeChannels / decodeChannels on a 64-channel latent of 128×128 planes (1M symbols)
 * with discretised Laplace tables, as one stream. Run: node dist/bench/rans.bench.js
 */
import { Bench } from 'tinybench';
import { decodeChannels, encodeChannels } from '../src/entropy/symbol-coder.js';
import { laplacianSymbols, laplacianTables, mulberry32 } from '../test/helpers/prng.js';

const CHANNELS = 64;
const PLANE = 128 * 128;
const SYMBOLS = CHANNELS * PLANE;

const rng = mulberry32(2024);
// latent scales span from "almost always 0" to wide channels, log-uniformly in [0.05, 20]
const scales = Array.from({ length: CHANNELS }, () => 0.05 * 400 ** rng());
const tables = laplacianTables(scales);
const symbols = laplacianSymbols(rng, scales, PLANE);
const stream = encodeChannels(symbols, PLANE, 0, CHANNELS, tables);
const decoded = new Int32Array(SYMBOLS);

// a few iterations each: every one codes a million symbols
const bench = new Bench({ time: 1500, iterations: 5, warmupIterations: 2 });
bench
  .add('encode', () => encodeChannels(symbols, PLANE, 0, CHANNELS, tables))
  .add('decode', () => decodeChannels(stream, PLANE, 0, CHANNELS, tables, decoded));
await bench.run();

if (!decoded.every((v, i) => v === symbols[i])) throw new Error('decode does not match the symbols');
console.log(`${SYMBOLS} symbols, ${stream.length} bytes (${((stream.length * 8) / SYMBOLS).toFixed(3)} bits/symbol)`);
for (const task of bench.tasks) {
  const seconds = task.result!.mean / 1000;
  console.log(`${task.name.padEnd(7)} ${(SYMBOLS / seconds / 1e6).toFixed(1)} M symbols/s (${task.result!.mean.toFixed(1)} ms)`);
}
