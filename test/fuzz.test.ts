/**
 * Hostile bitstreams: every input must give a typed AaraError or a valid image — never another exception, never a
 * hang, never an allocation the declared size did not pass the limits for. Exhaustive over truncations and single
 * bit flips of a small real file, boundary values of every header field, and seeded random inputs; the long run
 * is bench/fuzz.ts. Speed is not asserted here (the project's rule: benchmarks measure it); the slowest case is
 * printed, bench/fuzz.ts reports it over a million cases, and a hang would outlive test/run.mjs's suite timeout.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { decodeSync, encodeSync } from '../src/codec/codec.js';
import { readWeights } from '../src/format/weights.js';
import {
  decodeOutcome,
  fixCrc,
  FuzzTally,
  HEADER,
  headerMutations,
  randomHeaderMutation,
  streamBytes,
  UNEXPECTED,
  VALID_IMAGE,
  withBitFlipped,
  withCorruptStreams,
  withHeaderField,
  withRandomTail,
  withShiftedStreamBoundary,
} from './helpers/bitstream-fuzz.js';
import { failsWith } from './helpers/assert-code.js';
import { loadTestWeights, repoPath } from './helpers/fixtures.js';
import { mulberry32, randomInt } from './helpers/prng.js';
import { syntheticImage } from './helpers/synthetic-images.js';

const RANDOM_RUNS = 300;

const tiny = loadTestWeights('test-tiny.bin');
const file = encodeSync(syntheticImage(40, 24, 7), tiny, { level: 1 });
const tally = new FuzzTally((bytes) => decodeSync(bytes, tiny));
const { start: streamsStart, end: streamsEnd } = streamBytes(file);

function outcomesOf(category: string): Record<string, number> {
  return Object.fromEntries(tally.counts.get(category) ?? []);
}

function assertOnly(category: string, allowed: string[]): void {
  const unexpected = Object.keys(outcomesOf(category)).filter((o) => !allowed.includes(o));
  assert.equal(unexpected, [], `${category}: ${JSON.stringify(outcomesOf(category))}\n${tally.problems.join('\n')}`);
}

test('the unmodified file decodes to its declared size', () => {
  assert.is(tally.run('unmodified', '40×24 level 1', file), VALID_IMAGE, tally.problems.join('\n'));
});

test('random bytes', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => tally.run('random bytes', `${bytes.length} bytes`, bytes) !== UNEXPECTED),
    { seed: 1, numRuns: RANDOM_RUNS });
  assertOnly('random bytes', ['BAD_MAGIC', 'TRUNCATED']);
});

test('a prefix of the real file then random bytes, with a stale or a fixed CRC', () => {
  fc.assert(fc.property(fc.nat({ max: file.length }), fc.uint8Array({ maxLength: 256 }), fc.boolean(), (prefix, tail, crc) =>
    tally.run('valid prefix + random', `prefix ${prefix}, tail ${tail.length}, crc ${crc}`, withRandomTail(file, prefix, tail, crc)) !== UNEXPECTED),
  { seed: 2, numRuns: RANDOM_RUNS });
});

test('random streams behind the real header, CRC fixed, reach the entropy decoder', () => {
  const length = streamsEnd - streamsStart + 4; // the streams and a CRC to be fixed
  fc.assert(fc.property(fc.uint8Array({ minLength: length, maxLength: length }), (tail) =>
    tally.run('random streams, CRC fixed', `${tail.length} bytes`, withRandomTail(file, streamsStart, tail, true)) !== UNEXPECTED),
  { seed: 3, numRuns: RANDOM_RUNS });
  assertOnly('random streams, CRC fixed', ['CORRUPT', VALID_IMAGE]);
});

test('truncation at every length is TRUNCATED', () => {
  for (let length = 0; length < file.length; length++) tally.run('truncated', `${length} bytes`, file.subarray(0, length));
  assert.equal(outcomesOf('truncated'), { TRUNCATED: file.length });
});

test('every single bit flip is caught (the CRC catches all of them)', () => {
  for (let bit = 0; bit < file.length * 8; bit++) tally.run('bit flip', `bit ${bit}`, withBitFlipped(file, bit));
  assertOnly('bit flip', ['BAD_MAGIC', 'UNSUPPORTED_VERSION', 'CORRUPT', 'TRUNCATED', 'BAD_DIMENSIONS', 'TOO_LARGE', 'CHECKSUM_MISMATCH']);
});

test('every bit flip in the streams, CRC fixed, reaches the entropy decoder', () => {
  for (let bit = streamsStart * 8; bit < streamsEnd * 8; bit++) {
    tally.run('stream bit flip, CRC fixed', `bit ${bit}`, fixCrc(withBitFlipped(file, bit)));
  }
  assertOnly('stream bit flip, CRC fixed', ['CORRUPT', VALID_IMAGE]);
});

test('header fields at boundary values, with a stale and a fixed CRC', () => {
  for (const m of headerMutations(file)) {
    const label = `${m.field} = ${m.value}`;
    tally.run('header field, stale CRC', label, withHeaderField(file, m, false));
    const outcome = tally.run('header field, CRC fixed', label, withHeaderField(file, m, true));
    if (m.expect) assert.is(outcome, m.expect, label);
  }
});

test('random stream bytes replaced, CRC fixed', () => {
  const rng = mulberry32(4);
  for (let i = 0; i < RANDOM_RUNS; i++) {
    const changes = 1 + randomInt(rng, 4);
    tally.run('stream bytes replaced, CRC fixed', `case ${i}`, withCorruptStreams(file, rng, changes));
  }
  assertOnly('stream bytes replaced, CRC fixed', ['CORRUPT', VALID_IMAGE]);
});

test('stream boundaries moved, CRC fixed', () => {
  const streamCount = file[HEADER.streamCount];
  for (let s = 0; s + 1 < streamCount; s++) {
    for (const delta of [-4, -3, -2, -1, 1, 2, 3, 4]) {
      tally.run('stream boundary moved, CRC fixed', `stream ${s} ${delta}`, withShiftedStreamBoundary(file, s, delta));
    }
  }
  assertOnly('stream boundary moved, CRC fixed', ['CORRUPT', 'TRUNCATED', VALID_IMAGE]);
});

/** `file` declaring width × height, CRC fixed: everything but the size is valid. */
function declaring(width: number, height: number): Uint8Array {
  const resized = withHeaderField(file, { field: 'width', offset: HEADER.width, size: 4, value: width }, false);
  return withHeaderField(resized, { field: 'height', offset: HEADER.height, size: 4, value: height }, true);
}

test('a huge declared size is refused before anything is allocated', () => {
  const huge = declaring(60000, 60000);
  const rssBefore = process.memoryUsage().rss;
  const { outcome } = decodeOutcome((bytes) => decodeSync(bytes, tiny), huge);
  const grownMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  assert.is(outcome, 'TOO_LARGE');
  assert.ok(grownMb < 16, `RSS grew ${grownMb.toFixed(1)} MB`); // the image would be 10 GB
  // just past each default limit
  assert.is(decodeOutcome((bytes) => decodeSync(bytes, tiny), declaring(65536, 1)).outcome, 'TOO_LARGE');
  assert.is(decodeOutcome((bytes) => decodeSync(bytes, tiny), declaring(6145, 4096)).outcome, 'TOO_LARGE'); // 24 Mpixel = 6144 × 4096
});

test('a size within the limits that the streams cannot fill is CORRUPT', () => {
  const started = performance.now();
  assert.is(decodeOutcome((bytes) => decodeSync(bytes, tiny), declaring(5000, 5000)).outcome, 'CORRUPT'); // ≤ 24 Mpixel
  console.log(`5000 × 5000 declared, 40 × 24 coded: CORRUPT after ${(performance.now() - started).toFixed(0)} ms`);
});

test('the caller\'s limits are applied to the declared size', () => {
  const limits = { maxWidth: 64, maxHeight: 64, maxPixels: 40 * 24 };
  const withLimits = (bytes: Uint8Array) => decodeSync(bytes, tiny, { limits });
  assert.is(decodeOutcome(withLimits, file).outcome, VALID_IMAGE);
  assert.is(decodeOutcome(withLimits, declaring(65, 1)).outcome, 'TOO_LARGE');
  assert.is(decodeOutcome(withLimits, declaring(40, 25)).outcome, 'TOO_LARGE');
});

test('decoding with the wrong weights is WEIGHTS_MISMATCH, both ways', () => {
  const real = readWeights(new Uint8Array(readFileSync(repoPath('weights/aara.bin'))));
  failsWith('WEIGHTS_MISMATCH', () => decodeSync(file, real));
  const smallest = { width: 1, height: 1, data: Uint8Array.of(10, 20, 30) };
  failsWith('WEIGHTS_MISMATCH', () => decodeSync(encodeSync(smallest, real, { level: 0 }), tiny));
});

test('seeded random header values, CRC fixed', () => {
  const rng = mulberry32(5);
  for (let i = 0; i < RANDOM_RUNS; i++) {
    const m = randomHeaderMutation(rng, file);
    tally.run('random header field, CRC fixed', `${m.field} = ${m.value}`, withHeaderField(file, m, true));
  }
});

test('outcomes: no unexpected exception', () => {
  console.log(`\n${tally.markdown()}\n\n${tally.cases} cases, slowest ${tally.maxMs.toFixed(1)} ms (${tally.slowest})`);
  assert.is(tally.problemCount, 0, tally.problems.join('\n'));
});

test.run();
