/**
 * Issue 14, the library API as a server would call it with strangers' data: misuse is always a typed AaraError,
 * `limits` are merged field by field and validated, and a budget (`signal`, `deadline`) stops an encode or a
 * decode between tiles (sync) or before the next task (pool) with ABORTED / DEADLINE_EXCEEDED.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { decodeSync as decodeWith, decodeTiles, encodeSync as encodeWith } from '../src/codec/codec.js';
import { DEFAULT_LIMITS, readHeader } from '../src/format/container.js';
import { AaraError, type ErrorCode } from '../src/core/errors.js';
import { encodePng } from '../src/io/image-io.js';
import { close, decode, decodeSync, encode, encodeLevels, encodeSync, readWeights } from '../src/index.js';
import { weightFile } from '../src/io/weight-files.js';
import { decodeParallel, encodeParallel } from '../src/parallel/parallel.js';
import { WorkerPool } from '../src/parallel/pool.js';
import type { Task, TaskResult } from '../src/parallel/worker.js';
import { fixCrc, HEADER } from './helpers/bitstream-fuzz.js';
import { repoPath } from './helpers/fixtures.js';
import { syntheticImage } from './helpers/synthetic-images.js';

const tinyBytes = new Uint8Array(readFileSync(repoPath('weights/test-tiny.bin')));
const tiny = weightFile(tinyBytes);
const model = readWeights(tinyBytes);
const IMAGE = syntheticImage(48, 32, 3);
const file = encodeWith(IMAGE, tiny.weights, { level: 1 });
/** 16-px tiles: 6 of them over the 48 × 32 image */
const TILE = 16;

function codeOf(run: () => unknown): ErrorCode | string {
  try {
    run();
  } catch (err) {
    return err instanceof AaraError ? err.code : `foreign ${(err as Error)?.name}: ${(err as Error)?.message}`;
  }
  return 'no error';
}

async function asyncCodeOf(run: () => Promise<unknown>): Promise<ErrorCode | string> {
  try {
    await run();
  } catch (err) {
    return err instanceof AaraError ? err.code : `foreign ${(err as Error)?.name}: ${(err as Error)?.message}`;
  }
  return 'no error';
}

/** `file` declaring width × height, CRC fixed. */
function declaring(width: number, height: number): Uint8Array {
  const bytes = Uint8Array.from(file);
  const view = new DataView(bytes.buffer);
  view.setUint32(HEADER.width, width, true);
  view.setUint32(HEADER.height, height, true);
  return fixCrc(bytes);
}

// ---------------------------------------------------------------------------------------------------------------
// misuse

const any = (v: unknown) => v as never;

test('API misuse is an AaraError with a typed code, sync and async', async () => {
  const cases: Array<[string, ErrorCode, () => unknown]> = [
    ['decodeSync(null)', 'BAD_ARGUMENT', () => decodeSync(any(null))],
    ['decodeSync(undefined)', 'BAD_ARGUMENT', () => decodeSync(any(undefined))],
    ['decodeSync("file.aara")', 'BAD_ARGUMENT', () => decodeSync(any('file.aara'))],
    ['decodeSync(DataView)', 'BAD_ARGUMENT', () => decodeSync(any(new DataView(file.buffer)))],
    ['decodeSync(file, 5)', 'BAD_ARGUMENT', () => decodeSync(file, any(5))],
    ['decodeSync(file, null)', 'BAD_ARGUMENT', () => decodeSync(file, any(null))],
    ['weights: 42', 'BAD_ARGUMENT', () => decodeSync(file, { weights: any(42) })],
    ['weights: {}', 'BAD_ARGUMENT', () => decodeSync(file, { weights: any({}) })],
    ['weights: null', 'BAD_ARGUMENT', () => decodeSync(file, { weights: any(null) })],
    ['limits: "big"', 'BAD_ARGUMENT', () => decodeSync(file, { weights: model, limits: any('big') })],
    ['signal: "stop"', 'BAD_ARGUMENT', () => decodeSync(file, { weights: model, signal: any('stop') })],
    ['deadline: "soon"', 'BAD_ARGUMENT', () => decodeSync(file, { weights: model, deadline: any('soon') })],
    ['deadline: NaN', 'BAD_ARGUMENT', () => decodeSync(file, { weights: model, deadline: NaN })],
    ['encodeSync(null)', 'BAD_ARGUMENT', () => encodeSync(any(null), { weights: model })],
    ['encodeSync(42)', 'BAD_ARGUMENT', () => encodeSync(any(42), { weights: model })],
    ['encodeSync({})', 'BAD_DIMENSIONS', () => encodeSync(any({}), { weights: model })],
    ['data: number[]', 'BAD_PIXELS', () => encodeSync(any({ width: 1, height: 1, data: [1, 2, 3] }), { weights: model })],
    ['level: "5"', 'BAD_LEVEL', () => encodeSync(IMAGE, { weights: model, level: any('5') })],
    ['level: 1.5', 'BAD_LEVEL', () => encodeSync(IMAGE, { weights: model, level: 1.5 })],
  ];
  for (const [label, code, run] of cases) assert.is(codeOf(run), code, label);

  const asyncCases: Array<[string, ErrorCode, () => Promise<unknown>]> = [
    ['decode(null)', 'BAD_ARGUMENT', () => decode(any(null), { weights: tinyBytes })],
    ['decode(file, "opts")', 'BAD_ARGUMENT', () => decode(file, any('opts'))],
    ['threads: 0', 'BAD_ARGUMENT', () => decode(file, { weights: tinyBytes, threads: 0 })],
    ['threads: 1.5', 'BAD_ARGUMENT', () => encode(IMAGE, { weights: tinyBytes, threads: 1.5 })],
    ['encode(undefined)', 'BAD_ARGUMENT', () => encode(any(undefined), { weights: tinyBytes })],
    ['encodeLevels(img, 3)', 'BAD_ARGUMENT', () => encodeLevels(IMAGE, any(3), { weights: tinyBytes })],
    ['encodeLevels(img, [0.5])', 'BAD_LEVEL', () => encodeLevels(IMAGE, [0.5], { weights: tinyBytes })],
  ];
  for (const [label, code, run] of asyncCases) assert.is(await asyncCodeOf(run), code, label);
});

// ---------------------------------------------------------------------------------------------------------------
// limits

test('limits: a partial object keeps the other defaults (maxWidth and maxHeight do not switch off maxPixels)', () => {
  const big = declaring(6000, 5000); // 30 Mpixel: past the default maxPixels, within 65535 a side
  assert.ok(6000 * 5000 > DEFAULT_LIMITS.maxPixels);
  assert.is(codeOf(() => decodeSync(big, { weights: model, limits: { maxWidth: 10000, maxHeight: 10000 } })), 'TOO_LARGE');
  assert.is(codeOf(() => readHeader(big, { maxWidth: 10000 })), 'TOO_LARGE');
  // raised by the caller, the size passes the limits and the streams are what fails
  assert.is(codeOf(() => decodeSync(big, { weights: model, limits: { maxPixels: 6000 * 5000 } })), 'CORRUPT');
  // lowered: one field is enough, for decoding and encoding alike
  assert.is(codeOf(() => decodeSync(file, { weights: model, limits: { maxPixels: 48 * 32 - 1 } })), 'TOO_LARGE');
  assert.is(codeOf(() => decodeSync(file, { weights: model, limits: { maxHeight: 31 } })), 'TOO_LARGE');
  assert.is(codeOf(() => encodeSync(IMAGE, { weights: model, level: 1, limits: { maxPixels: 48 * 32 - 1 } })), 'TOO_LARGE');
  assert.is(decodeSync(file, { weights: model, limits: { maxPixels: 48 * 32 } }).width, 48);
});

test('limits: NaN, negative, non-integer, non-number and unknown fields are BAD_ARGUMENT', () => {
  const bad: unknown[] = [
    { maxPixels: NaN }, { maxWidth: NaN, maxHeight: NaN, maxPixels: NaN }, { maxPixels: -1 }, { maxPixels: 0 },
    { maxWidth: 1.5 }, { maxHeight: Infinity }, { maxPixels: '100' }, { maxPixels: null }, { maxPixel: 100 }, [], null,
  ];
  for (const limits of bad) {
    const label = JSON.stringify(limits);
    assert.is(codeOf(() => decodeSync(file, { weights: model, limits: any(limits) })), 'BAD_ARGUMENT', `decodeSync ${label}`);
    assert.is(codeOf(() => encodeSync(IMAGE, { weights: model, level: 1, limits: any(limits) })), 'BAD_ARGUMENT', `encodeSync ${label}`);
    assert.is(codeOf(() => readHeader(file, any(limits))), 'BAD_ARGUMENT', `readHeader ${label}`);
  }
});

test('limits reach the image readers through encodeSync', () => {
  const png = encodePng(IMAGE);
  assert.is(codeOf(() => encodeSync(png, { weights: model, level: 1, limits: { maxPixels: 48 * 32 - 1 } })), 'TOO_LARGE');
  assert.is(codeOf(() => encodeSync(png, { weights: model, level: 1, limits: { maxWidth: 47 } })), 'TOO_LARGE');
  assert.ok(Buffer.from(encodeSync(png, { weights: model, level: 1, limits: { maxPixels: 48 * 32 } })).equals(file));
});

// ---------------------------------------------------------------------------------------------------------------
// budgets, sync: checked between tiles

/** A real AbortSignal whose `aborted` turns true at its `after + 1`-th read; counts the reads. */
function abortingAfter(after: number): { signal: AbortSignal; reads: () => number } {
  const signal = new AbortController().signal;
  let reads = 0;
  Object.defineProperty(signal, 'aborted', { get: () => ++reads > after });
  return { signal, reads: () => reads };
}

test('sync decode: a signal that aborts mid-way stops it between tiles with ABORTED', () => {
  const tiles = decodeTiles({ c: 1, h: 2, w: 3, symbols: new Int16Array(6) }, TILE).length;
  assert.is(tiles, 6);
  const spy = abortingAfter(3);
  assert.is(codeOf(() => decodeWith(file, tiny.weights, { tile: TILE, signal: spy.signal })), 'ABORTED');
  assert.is(spy.reads(), 4); // stopped at the first check that saw it: tiles were left undone
  const untouched = abortingAfter(Infinity);
  decodeWith(file, tiny.weights, { tile: TILE, signal: untouched.signal });
  assert.ok(untouched.reads() >= tiles, `checked ${untouched.reads()} times for ${tiles} tiles`);
});

test('sync encode: a signal that aborts mid-way stops it between tiles with ABORTED', () => {
  const spy = abortingAfter(3);
  assert.is(codeOf(() => encodeWith(IMAGE, tiny.weights, { level: 1, tile: TILE, signal: spy.signal })), 'ABORTED');
  assert.is(spy.reads(), 4);
  const untouched = abortingAfter(Infinity);
  const bytes = encodeWith(IMAGE, tiny.weights, { level: 1, tile: TILE, signal: untouched.signal });
  assert.ok(Buffer.from(bytes).equals(file), 'a budget changes no byte');
  assert.ok(untouched.reads() >= 12, `checked ${untouched.reads()} times`); // 6 tiles of f_m and 6 of f_r at least
});

test('sync: an aborted signal or a passed deadline stops the work before it starts', () => {
  const past = Date.now() - 1;
  assert.is(codeOf(() => decodeSync(file, { weights: model, signal: AbortSignal.abort() })), 'ABORTED');
  assert.is(codeOf(() => encodeSync(IMAGE, { weights: model, level: 1, signal: AbortSignal.abort() })), 'ABORTED');
  assert.is(codeOf(() => decodeSync(file, { weights: model, deadline: past })), 'DEADLINE_EXCEEDED');
  assert.is(codeOf(() => encodeSync(IMAGE, { weights: model, level: 1, deadline: past })), 'DEADLINE_EXCEEDED');
  const timedOut = AbortSignal.abort(new DOMException('timed out', 'TimeoutError')); // what AbortSignal.timeout gives
  assert.is(codeOf(() => decodeSync(file, { weights: model, signal: timedOut })), 'DEADLINE_EXCEEDED');
  assert.is(decodeSync(file, { weights: model, deadline: Date.now() + 3_600_000, signal: new AbortController().signal }).width, 48);
});

test('sync decode: a deadline that passes mid-way stops it between tiles', () => {
  const realNow = Date.now;
  let calls = 0;
  Date.now = () => 1_000 + 10 * calls++; // a clock that moves 10 ms a reading
  try {
    assert.is(codeOf(() => decodeWith(file, tiny.weights, { tile: TILE, deadline: 1_035 })), 'DEADLINE_EXCEEDED');
    assert.is(calls, 5); // before the work, then before each tile: the 4th tile's check saw 1040 (of 6 tiles)
  } finally {
    Date.now = realNow;
  }
});

// ---------------------------------------------------------------------------------------------------------------
// budgets, pool: no task is started once the budget is spent

/** A pool that aborts `controller` when its `after`-th task of `kind` has finished, and counts the finished ones. */
class AbortingPool extends WorkerPool {
  finished = 0;
  constructor(private readonly kind: Task['kind'], private readonly after: number, private readonly controller: AbortController) {
    super(1);
  }
  override run<T extends Task>(task: T, weightBytes: Uint8Array, budget?: Parameters<WorkerPool['run']>[2]): Promise<TaskResult<T>> {
    const result = super.run(task, weightBytes, budget);
    if (task.kind === this.kind) {
      result.then(() => {
        if (++this.finished === this.after) this.controller.abort();
      }, () => {});
    }
    return result;
  }
}

test('pool decode: aborting after the first tile stops dispatching tiles (ABORTED)', async () => {
  const controller = new AbortController();
  const pool = new AbortingPool('decodeTile', 1, controller);
  try {
    const code = await asyncCodeOf(() => decodeParallel(file, tiny.weights, tiny.bytes, { pool, tile: TILE, signal: controller.signal }));
    assert.is(code, 'ABORTED');
    await new Promise((resolve) => setTimeout(resolve, 50)); // let a tile already running finish (no timing asserted)
    assert.ok(pool.finished <= 2, `${pool.finished} of 6 tiles ran`); // the first, and at most the one running when it aborted
  } finally {
    await pool.close();
  }
});

test('pool encode: aborting after the first analysis tile stops dispatching (ABORTED); a passed deadline stops it at once', async () => {
  const controller = new AbortController();
  const pool = new AbortingPool('mainAnalysis', 1, controller);
  try {
    const code = await asyncCodeOf(() => encodeParallel(IMAGE, tiny.weights, tiny.bytes, { level: 1, pool, tile: TILE, signal: controller.signal }));
    assert.is(code, 'ABORTED');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(pool.finished <= 2, `${pool.finished} of 6 tiles ran`);
    const past = Date.now() - 1;
    assert.is(await asyncCodeOf(() => encodeParallel(IMAGE, tiny.weights, tiny.bytes, { level: 1, pool, tile: TILE, deadline: past })), 'DEADLINE_EXCEEDED');
    assert.is(await asyncCodeOf(() => decodeParallel(file, tiny.weights, tiny.bytes, { pool, tile: TILE, deadline: past })), 'DEADLINE_EXCEEDED');
    // the pool is still good for work with no budget, and a budget changes no byte
    const again = await encodeParallel(IMAGE, tiny.weights, tiny.bytes, { level: 1, pool, tile: TILE, signal: new AbortController().signal });
    assert.ok(Buffer.from(again).equals(file));
  } finally {
    await pool.close();
  }
});

test('library async API: an aborted signal is ABORTED', async () => {
  assert.is(await asyncCodeOf(() => decode(file, { weights: tinyBytes, threads: 1, signal: AbortSignal.abort() })), 'ABORTED');
  assert.is(await asyncCodeOf(() => encode(IMAGE, { weights: tinyBytes, level: 1, signal: AbortSignal.abort() })), 'ABORTED');
  await close();
});

test.run();
