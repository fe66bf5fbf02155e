/**
 * Seeded random data for tests and benches: the mulberry32 PRNG and the random CDF tables and latent
 * symbols built from it, so every run sees the same inputs.
 */
import type { CdfTables } from '../../src/core/types.js';
import { PROB_SCALE } from '../../src/entropy/rans.js';

export type Rng = () => number;

/** mulberry32 (Tommy Ettinger): a 32-bit state PRNG, uniform in [0, 1). */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Uniform integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

export function randomBytes(rng: Rng, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => randomInt(rng, 256));
}

/** Laplace(0, scale) sample rounded to an integer: what a quantised latent minus its median looks like. */
export function laplacian(rng: Rng, scale: number): number {
  const u = rng() - 0.5;
  return Math.round(-scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u)));
}

/** Probabilities → integer frequencies summing to 2^16, each ≥ 1 (as train/export.py's quantized_cdf). */
export function quantizeFrequencies(probabilities: number[]): number[] {
  const total = probabilities.reduce((a, b) => a + b, 0);
  const spare = PROB_SCALE - probabilities.length;
  const freqs = probabilities.map((p) => 1 + Math.floor((p / total) * spare));
  const largest = probabilities.indexOf(Math.max(...probabilities));
  freqs[largest] += PROB_SCALE - freqs.reduce((a, b) => a + b, 0);
  return freqs;
}

/** One channel per row: its frequencies (regular symbols, then the escape) and the index of value 0. */
export function tablesFromFrequencies(rows: { freqs: number[]; offset: number }[]): CdfTables {
  const stride = Math.max(...rows.map((r) => r.freqs.length)) + 1;
  const cdf = new Int32Array(rows.length * stride).fill(PROB_SCALE);
  rows.forEach((r, c) => {
    let sum = 0;
    cdf[c * stride] = 0;
    r.freqs.forEach((f, i) => (cdf[c * stride + i + 1] = sum += f));
  });
  return {
    channels: rows.length,
    stride,
    cdf,
    length: Int32Array.from(rows, (r) => r.freqs.length - 1),
    offset: Int32Array.from(rows, (r) => r.offset),
  };
}

/** Discretised Laplace(0, scale) tables, one channel per scale, covering ±4 scales (the rest escapes). */
export function laplacianTables(scales: number[]): CdfTables {
  return tablesFromFrequencies(
    scales.map((scale) => {
      const half = Math.ceil(4 * scale);
      const mass = (v: number) => Math.exp(-Math.abs(v) / scale);
      const probabilities = Array.from({ length: 2 * half + 1 }, (_, i) => mass(i - half));
      const inside = probabilities.reduce((a, b) => a + b, 0);
      const all = (1 + Math.exp(-1 / scale)) / (1 - Math.exp(-1 / scale)); // Σ over every integer
      return { freqs: quantizeFrequencies([...probabilities, all - inside]), offset: half };
    }),
  );
}

/** [channels, planeSize] symbols, channel c drawn from Laplace(0, scales[c]). */
export function laplacianSymbols(rng: Rng, scales: number[], planeSize: number): Int32Array {
  const symbols = new Int32Array(scales.length * planeSize);
  for (let i = 0; i < symbols.length; i++) symbols[i] = laplacian(rng, scales[Math.floor(i / planeSize)]);
  return symbols;
}
