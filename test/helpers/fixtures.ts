/** Loads test/fixtures/parity.{json,bin} written by train/export.py, and the weights they belong to. */
import { readdirSync, readFileSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import type { Symbols } from '../../src/core/types.js';
import { readWeights, type Weights } from '../../src/format/weights.js';

export const repoPath = (p: string): string => fileURLToPath(new URL(`../../../${p}`, import.meta.url));

interface Entry {
  name: string;
  dtype: 'f32' | 'i32';
  shape: number[];
  offset: number;
}

export interface Fixture {
  shape: number[];
  data: Float32Array | Int32Array;
}

export class ParityFixtures {
  readonly weightsId: string;
  readonly layerLevel: number;
  private readonly entries = new Map<string, Entry>();
  private readonly bin: Uint8Array;

  constructor(dir = repoPath('test/fixtures')) {
    const meta = JSON.parse(readFileSync(`${dir}/parity.json`, 'utf8')) as { weights_id: string; layer_level: number; entries: Entry[] };
    this.weightsId = meta.weights_id;
    this.layerLevel = meta.layer_level;
    for (const e of meta.entries) this.entries.set(e.name, e);
    this.bin = new Uint8Array(readFileSync(`${dir}/parity.bin`));
  }

  get(name: string): Fixture {
    const e = this.entries.get(name);
    if (!e) throw new Error(`fixture ${name} missing`);
    const count = e.shape.reduce((a, b) => a * b, 1);
    const bytes = this.bin.slice(e.offset, e.offset + count * 4);
    const data = e.dtype === 'f32' ? new Float32Array(bytes.buffer) : new Int32Array(bytes.buffer);
    return { shape: e.shape, data };
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }
}

export function loadTestWeights(file: string): Weights {
  return readWeights(new Uint8Array(readFileSync(repoPath(`weights/${file}`))));
}

/** The weight file of weights/ that fixtures were written for (found by its ID: files may be renamed). */
export function weightsOfFixtures(fx: ParityFixtures): Weights {
  for (const file of readdirSync(repoPath('weights')).filter((f) => f.endsWith('.bin'))) {
    const weights = loadTestWeights(file);
    if (weights.idHex === fx.weightsId) return weights;
  }
  throw new Error(`no weight file in weights/ has the fixtures' ID ${fx.weightsId}`);
}

/** Every value within `absolute`, or else 1e-4·(1 + max|ref|), of the fixture's (the parity tolerance). */
export function assertCloseValues(actual: ArrayLike<number>, ref: Fixture, what: string, absolute?: number): void {
  assert.is(actual.length, ref.data.length, `${what}: size`);
  let maxRef = 0;
  let maxDiff = 0;
  for (let i = 0; i < ref.data.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(ref.data[i]));
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - ref.data[i]));
  }
  const tol = absolute ?? 1e-4 * (1 + maxRef);
  assert.ok(maxDiff <= tol, `${what}: max |diff| ${maxDiff} > ${tol}`);
}

/**
 * Symbols that differ from PyTorch's: each must be a rounding tie (PyTorch's unrounded value within float noise of
 * k + ½); returns how many, which the caller asserts.
 */
export function assertSymbols(actual: Symbols, ref: Fixture, unrounded: Fixture, what: string): number {
  let ties = 0;
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] === ref.data[i]) continue;
    const v = unrounded.data[i];
    assert.ok(Math.abs(Math.abs(v - Math.floor(v)) - 0.5) < 1e-3, `${what}[${i}]: ${actual[i]} ≠ ${ref.data[i]} (unrounded ${v}, not a tie)`);
    ties++;
  }
  return ties;
}
