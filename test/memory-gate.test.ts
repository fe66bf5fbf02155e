/**
 * The memory-aware cap on concurrent async calls (issue 14): calls hold their whole-image memory estimate, wait in
 * arrival order while it does not fit beside those running, and one larger than the budget runs alone.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { encodeSync as encodeWith } from '../src/codec/codec.js';
import { AaraError } from '../src/core/errors.js';
import { close, decode, decodeSync, readWeights } from '../src/index.js';
import { MemoryGate } from '../src/parallel/memory-gate.js';
import { repoPath } from './helpers/fixtures.js';
import { syntheticImage } from './helpers/synthetic-images.js';

/** Lets every pending promise callback run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A call waiting at the gate: whether it was admitted, its release, its error. */
function track(gate: MemoryGate, bytes: number, signal?: AbortSignal) {
  let releaseOf: (() => void) | undefined;
  let failure: unknown;
  gate.acquire(bytes, { signal }).then((release) => (releaseOf = release), (error) => (failure = error));
  return { admitted: () => releaseOf !== undefined, release: () => releaseOf!(), error: () => failure as AaraError };
}

test('calls wait in arrival order while their memory does not fit beside those running', async () => {
  const gate = new MemoryGate(100);
  const a = track(gate, 60);
  const b = track(gate, 60);
  const c = track(gate, 30); // would fit beside a, but waits behind b
  await settle();
  assert.ok(a.admitted() && !b.admitted() && !c.admitted());
  assert.is(gate.held, 60);
  a.release();
  await settle();
  assert.ok(b.admitted() && c.admitted());
  assert.is(gate.held, 90);
  b.release();
  b.release(); // a second release changes nothing
  c.release();
  assert.is(gate.held, 0);
});

test('a call larger than the budget runs alone', async () => {
  const gate = new MemoryGate(100);
  const big = track(gate, 500);
  const small = track(gate, 1);
  await settle();
  assert.ok(big.admitted() && !small.admitted());
  big.release();
  await settle();
  assert.ok(small.admitted());
  const next = track(gate, 500); // waits for the small one
  await settle();
  assert.ok(!next.admitted());
  small.release();
  await settle();
  assert.ok(next.admitted());
  next.release();
});

test('a waiting call whose signal aborts leaves the queue with ABORTED; the next one moves up', async () => {
  const gate = new MemoryGate(100);
  const a = track(gate, 80);
  const controller = new AbortController();
  const b = track(gate, 80, controller.signal);
  const c = track(gate, 10);
  await settle();
  assert.ok(a.admitted() && !b.admitted() && !c.admitted());
  controller.abort();
  await settle();
  assert.instance(b.error(), AaraError);
  assert.is(b.error().code, 'ABORTED');
  assert.ok(c.admitted(), 'c fits beside a once b is gone');
  assert.is(gate.held, 90);
  a.release();
  c.release();
  const aborted = track(gate, 1, AbortSignal.abort());
  await settle();
  assert.is(aborted.error().code, 'ABORTED');
  assert.is(gate.held, 0);
});

test('a bad budget is BAD_ARGUMENT', () => {
  for (const capacity of [0, -1, 1.5, NaN]) assert.throws(() => new MemoryGate(capacity), (e: unknown) => e instanceof AaraError && e.code === 'BAD_ARGUMENT');
});

test('the async API under a tiny memory budget: concurrent decodes (each then runs alone) all succeed; a bad budget is BAD_ARGUMENT', async () => {
  const weights = new Uint8Array(readFileSync(repoPath('weights/test-tiny.bin')));
  const model = readWeights(weights);
  const files = [1, 2, 3].map((seed) => encodeWith(syntheticImage(40, 24, seed), model, { level: 1 }));
  const decoded = await Promise.all(files.map((file) => decode(file, { weights, threads: 1, memory: 1 })));
  decoded.forEach((img, i) => assert.ok(Buffer.from(img.data).equals(decodeSync(files[i], { weights: model }).data)));
  try {
    await decode(files[0], { weights, memory: 0.5 });
    assert.unreachable('memory 0.5');
  } catch (e) {
    assert.is((e as AaraError).code, 'BAD_ARGUMENT');
  }
  await close();
});

test.run();
