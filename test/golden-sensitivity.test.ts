/**
 * The golden files can fail: moving one arithmetic primitive by one float32 ulp — √ in the decoder's IGDN — must
 * change the decoded pixels of the set made with the shipped weights (test/golden/shipped). A golden set that
 * survived this would also hide a JavaScript engine whose arithmetic drifts by that much.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeSync } from '../src/codec/codec.js';
import { readWeights } from '../src/format/weights.js';
import { repoPath } from './helpers/fixtures.js';
import { GOLDEN_SETS, SHIPPED_GOLDEN_DIR, readGoldenManifest } from './golden/sources.js';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** The float32 after fround(v): one ulp up. */
function nextFloat32(v: number): number {
  const f = new Float32Array([v]);
  const bits = new Uint32Array(f.buffer);
  bits[0] += v >= 0 ? 1 : -1;
  return f[0];
}

/** Runs f with Math.sqrt one float32 ulp high; returns f's result and how often √ was called. */
function withSqrtOneUlpHigh<T>(f: () => T): { result: T; calls: number } {
  const sqrt = Math.sqrt;
  let calls = 0;
  Math.sqrt = (x: number) => {
    calls++;
    return nextFloat32(sqrt(x));
  };
  try {
    return { result: f(), calls };
  } finally {
    Math.sqrt = sqrt;
  }
}

test('nextFloat32 moves a float32 by exactly one ulp', () => {
  assert.is(nextFloat32(1), 1 + 2 ** -23);
  assert.is(nextFloat32(0.75), 0.75 + 2 ** -24);
  assert.is(nextFloat32(2 ** 20), 2 ** 20 + 2 ** -3);
});

for (const set of GOLDEN_SETS) {
  const weights = readWeights(new Uint8Array(readFileSync(repoPath(set.weights))));
  const files = readGoldenManifest(set).files;
  const decodeAll = () => files.map((entry) => sha256(decodeSync(new Uint8Array(readFileSync(repoPath(`${set.dir}/${entry.file}`))), weights).data));

  if (set.dir === SHIPPED_GOLDEN_DIR) {
    test(`${set.dir}: √ one ulp high changes the decoded pixels of a golden file`, () => {
      const { result: hashes, calls } = withSqrtOneUlpHigh(decodeAll);
      assert.ok(calls > 0, 'the decoder never called Math.sqrt: the perturbation did not reach it');
      const changed = files.filter((entry, i) => hashes[i] !== entry.sha256).map((entry) => entry.file);
      console.log(`${set.dir}: ${changed.length} of ${files.length} golden files changed (${changed.join(', ')})`);
      assert.ok(changed.length > 0, 'no golden hash changed: the set cannot catch a one-ulp drift');
      assert.equal(decodeAll(), files.map((entry) => entry.sha256), 'the unperturbed decode must match again');
    });
  } else {
    // informative: the tiny untrained weights' pixels are coarse; the shipped set is the one that must catch it
    test(`${set.dir}: √ one ulp high (informative count)`, () => {
      const { result: hashes } = withSqrtOneUlpHigh(decodeAll);
      const changed = files.filter((entry, i) => hashes[i] !== entry.sha256).length;
      console.log(`${set.dir}: ${changed} of ${files.length} golden files changed`);
      assert.equal(decodeAll(), files.map((entry) => entry.sha256));
    });
  }
}

test.run();
