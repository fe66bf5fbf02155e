import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import type { CdfTables } from '../src/core/types.js';
import { AaraError, type ErrorCode } from '../src/core/errors.js';
import { PROB_SCALE, RANS_L, RansDecoder, RansEncoder } from '../src/entropy/rans.js';
import { decodeChannels, encodeChannels } from '../src/entropy/symbol-coder.js';
import {
  laplacianSymbols,
  laplacianTables,
  mulberry32,
  quantizeFrequencies,
  randomBytes,
  randomInt,
  tablesFromFrequencies,
  type Rng,
} from './helpers/prng.js';

const failsWith = (code: ErrorCode) => (e: unknown) => e instanceof AaraError && e.code === code;

/** Symbols drawn from `freqs` (by inverse CDF), so a round trip also exercises the likely ones. */
function drawSymbols(rng: Rng, freqs: number[], count: number): number[] {
  const starts = cumulative(freqs);
  return Array.from({ length: count }, () => {
    return owner(starts, randomInt(rng, PROB_SCALE));
  });
}

/** the symbol whose slots contain `slot` */
function owner(starts: number[], slot: number): number {
  let s = 0;
  while (s + 1 < starts.length && starts[s + 1] <= slot) s++;
  return s;
}

function cumulative(freqs: number[]): number[] {
  let sum = 0;
  return freqs.map((f) => (sum += f) - f);
}

function encodeWith(freqs: number[], symbols: number[]): Uint8Array {
  const starts = cumulative(freqs);
  const encoder = new RansEncoder();
  for (let i = symbols.length - 1; i >= 0; i--) encoder.put(starts[symbols[i]], freqs[symbols[i]]);
  return encoder.finish();
}

function decodeWith(freqs: number[], bytes: Uint8Array, count: number): number[] {
  const starts = cumulative(freqs);
  const decoder = new RansDecoder(bytes);
  const symbols = Array.from({ length: count }, () => {
    const s = owner(starts, decoder.peek());
    decoder.advance(starts[s], freqs[s]);
    return s;
  });
  decoder.finish();
  return symbols;
}

/** Ideal code length of `symbols` under `freqs`, in bytes. */
function idealBytes(freqs: number[], symbols: number[]): number {
  return symbols.reduce((bits, s) => bits - Math.log2(freqs[s] / PROB_SCALE), 0) / 8;
}

function roundTrip(freqs: number[], symbols: number[]): Uint8Array {
  const bytes = encodeWith(freqs, symbols);
  assert.equal(decodeWith(freqs, bytes, symbols.length), symbols);
  return bytes;
}

test('uniform random frequencies round trip near the ideal size', () => {
  const rng = mulberry32(1);
  const freqs = quantizeFrequencies(Array.from({ length: 200 }, () => rng()));
  const symbols = drawSymbols(rng, freqs, 20000);
  const bytes = roundTrip(freqs, symbols);
  assert.ok(bytes.length <= idealBytes(freqs, symbols) * 1.001 + 8, `${bytes.length} bytes`);
});

test('very skewed frequencies (one symbol with 65535 − k) round trip', () => {
  const rng = mulberry32(2);
  for (const k of [1, 3, 100]) {
    const freqs = [PROB_SCALE - 1 - k, ...Array<number>(k).fill(1)];
    const symbols = drawSymbols(rng, freqs, 5000);
    symbols[17] = k; // at least one improbable symbol
    const bytes = roundTrip(freqs, symbols);
    assert.ok(bytes.length <= idealBytes(freqs, symbols) * 1.01 + 8, `k = ${k}: ${bytes.length} bytes`);
  }
});

test('a symbol with all 2^16 slots costs nothing', () => {
  const bytes = roundTrip([PROB_SCALE], Array<number>(1000).fill(0));
  assert.is(bytes.length, 4);
});

test('the empty stream is the initial state L, little endian', () => {
  const bytes = new RansEncoder().finish();
  assert.equal([...bytes], [0, 0, 0x80, 0]);
  assert.is(RANS_L, 0x800000);
  new RansDecoder(bytes).finish();
});

test('known bytes: one bypass bit from the initial state', () => {
  // C(s, L) with freq 2^15: floor(2^23 / 2^15) · 2^16 + start = 2^24 + start, no renormalisation
  for (const [bit, expected] of [[0, [0, 0, 0, 1]], [1, [0, 0x80, 0, 1]]] as const) {
    const encoder = new RansEncoder();
    encoder.putBits(bit, 1);
    const bytes = encoder.finish();
    assert.equal([...bytes], [...expected]);
    const decoder = new RansDecoder(bytes);
    assert.is(decoder.getBits(1), bit);
    decoder.finish();
  }
});

test('bypass values of 1 … 16 bits, mixed with modelled symbols', () => {
  const rng = mulberry32(3);
  const freqs = [60000, 5000, 536];
  const items = Array.from({ length: 4000 }, () => {
    const bits = 1 + randomInt(rng, 16);
    return { bits, value: randomInt(rng, 2 ** bits), symbol: randomInt(rng, 3) };
  });
  items.push({ bits: 16, value: 0xffff, symbol: 2 }, { bits: 1, value: 1, symbol: 0 });
  const encoder = new RansEncoder(1);
  for (const { bits, value, symbol } of [...items].reverse()) {
    encoder.put(cumulative(freqs)[symbol], freqs[symbol]); // encoded in reverse: decoded after the bits
    encoder.putBits(value, bits);
  }
  const decoder = new RansDecoder(encoder.finish());
  const starts = cumulative(freqs);
  for (const { bits, value, symbol } of items) {
    assert.is(decoder.getBits(bits), value);
    const s = owner(starts, decoder.peek());
    decoder.advance(starts[s], freqs[s]);
    assert.is(s, symbol);
  }
  decoder.finish();
});

const SCALES = [0.2, 0.7, 1.5, 3, 8, 30, 0.05, 2];

function codeGroups(symbols: Int32Array, planeSize: number, groups: number[], tables: CdfTables): Int32Array {
  const out = new Int32Array(symbols.length).fill(0x7eadbeef);
  for (let g = 0; g + 1 < groups.length; g++) {
    const bytes = encodeChannels(symbols, planeSize, groups[g], groups[g + 1], tables);
    decodeChannels(bytes, planeSize, groups[g], groups[g + 1], tables, out);
  }
  return out;
}

test('channel groups round trip as independent streams, near the ideal size', () => {
  const rng = mulberry32(4);
  const tables = laplacianTables(SCALES);
  const planeSize = 37 * 23;
  const symbols = laplacianSymbols(rng, SCALES, planeSize);
  assert.equal(codeGroups(symbols, planeSize, [0, 3, 3, 7, 8], tables), symbols); // incl. an empty group
  // the whole latent as one stream costs what the tables say (escapes cost their bypass bits on top)
  let ideal = 0;
  symbols.forEach((v, i) => {
    const c = Math.floor(i / planeSize);
    const index = Math.min(Math.max(v + tables.offset[c], -1), tables.length[c]);
    const s = index < 0 ? tables.length[c] : index;
    ideal -= Math.log2((tables.cdf[c * tables.stride + s + 1] - tables.cdf[c * tables.stride + s]) / PROB_SCALE);
  });
  const bytes = encodeChannels(symbols, planeSize, 0, SCALES.length, tables);
  const escapes = symbols.filter((v, i) => {
    const index = v + tables.offset[Math.floor(i / planeSize)];
    return index < 0 || index >= tables.length[Math.floor(i / planeSize)];
  }).length;
  assert.ok(bytes.length <= (ideal + escapes * 12) / 8 + 8, `${bytes.length} bytes, ideal ${ideal / 8}`);
});

test('escapes on both sides, up to the int32 extremes', () => {
  const tables = tablesFromFrequencies([
    { freqs: quantizeFrequencies([1, 8, 30, 8, 1, 0.1]), offset: 2 },
    { freqs: [PROB_SCALE - 1, 1], offset: 0 }, // one regular symbol: everything but 0 escapes
    { freqs: quantizeFrequencies([5, 1]), offset: -3 }, // value 0 itself escapes
  ]);
  const moderate = [0, 1, 2, 3, 4, 15, 16, 17, 255, 256, 65536, 2 ** 30];
  // the largest values every channel can escape: the index v + offset must stay ≥ −2^31
  const plane = [...moderate, ...moderate.map((v) => -v), 2 ** 31 - 1, -(2 ** 31) + 3];
  const symbols = Int32Array.from([...plane, ...plane, ...plane]);
  assert.equal(codeGroups(symbols, plane.length, [0, 1, 3], tables), symbols);
});

test('int16 output: values that fit decode as in int32; a wider one (regular or escaped) returns false', () => {
  const tables = laplacianTables(SCALES);
  const planeSize = 41;
  const symbols = laplacianSymbols(mulberry32(9), SCALES, planeSize);
  symbols[5] = 32767;
  symbols[6] = -32768;
  const bytes = encodeChannels(symbols, planeSize, 0, SCALES.length, tables);
  const narrow = new Int16Array(symbols.length);
  assert.ok(decodeChannels(bytes, planeSize, 0, SCALES.length, tables, narrow));
  assert.equal(Int32Array.from(narrow), symbols);
  for (const wide of [32768, -32769, 2 ** 31 - 1]) {
    symbols[3 * planeSize + 7] = wide;
    const wideBytes = encodeChannels(symbols, planeSize, 0, SCALES.length, tables);
    assert.not.ok(decodeChannels(wideBytes, planeSize, 0, SCALES.length, tables, new Int16Array(symbols.length)), `${wide}`);
    const out = new Int32Array(symbols.length);
    assert.ok(decodeChannels(wideBytes, planeSize, 0, SCALES.length, tables, out));
    assert.equal(out, symbols);
  }
  // a table wide enough that a regular (not escaped) symbol overflows int16
  const broad = tablesFromFrequencies([{ freqs: quantizeFrequencies(Array.from({ length: 40_000 }, () => 1)), offset: 0 }]);
  const regular = Int32Array.from([0, 39_998, 5]); // 39,999 regular symbols, then the escape
  const regularBytes = encodeChannels(regular, 3, 0, 1, broad);
  assert.not.ok(decodeChannels(regularBytes, 3, 0, 1, broad, new Int16Array(3)));
});

test('same input ⇒ same bytes', () => {
  const tables = laplacianTables(SCALES);
  const symbols = laplacianSymbols(mulberry32(5), SCALES, 500);
  const first = encodeChannels(symbols, 500, 0, 8, tables);
  const second = encodeChannels(Int32Array.from(symbols), 500, 0, 8, laplacianTables(SCALES));
  assert.equal(first, second);
});

test('property: int32 symbols round trip with shifted offsets', () => {
  const tables = laplacianTables([0.5, 4]);
  // the escape holds 32 bits: v + offset must stay ≥ −2^31, so keep clear of the very bottom of int32
  const anyValue = fc.integer({ min: -(2 ** 31) + 64, max: 2 ** 31 - 1 });
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.integer({ min: -40, max: 40 }), anyValue), { minLength: 2, maxLength: 64 }),
      fc.integer({ min: -20, max: 20 }),
      (values, shift) => {
        const planeSize = values.length >> 1;
        const symbols = Int32Array.from(values.slice(0, 2 * planeSize));
        const shifted = { ...tables, offset: tables.offset.map((o) => o + shift) };
        const out = new Int32Array(symbols.length);
        decodeChannels(encodeChannels(symbols, planeSize, 0, 2, shifted), planeSize, 0, 2, shifted, out);
        assert.equal(out, symbols);
      },
    ),
    { numRuns: 300, seed: 6 },
  );
});

const small = laplacianTables([0.5, 3]);
const smallSymbols = Int32Array.from([0, 1, -1, 0, 40, -3, 2, 0, 0, 0, -200, 1]);
const smallStream = encodeChannels(smallSymbols, 6, 0, 2, small);
const decodeSmall = (bytes: Uint8Array) => decodeChannels(bytes, 6, 0, 2, small, new Int32Array(12));

test('every truncation and extension of a stream is CORRUPT', () => {
  decodeSmall(smallStream);
  for (let length = 0; length < smallStream.length; length++) {
    assert.throws(() => decodeSmall(smallStream.subarray(0, length)), failsWith('CORRUPT'), `length ${length}`);
  }
  const longer = new Uint8Array(smallStream.length + 1);
  longer.set(smallStream);
  assert.throws(() => decodeSmall(longer), failsWith('CORRUPT'));
});

test('bit flips and garbage either decode or throw CORRUPT, and never hang', () => {
  let caught = 0;
  const attempt = (bytes: Uint8Array) => {
    try {
      decodeSmall(bytes);
    } catch (e) {
      assert.ok(failsWith('CORRUPT')(e), String(e));
      caught++;
    }
  };
  for (let bit = 0; bit < smallStream.length * 8; bit++) {
    const flipped = Uint8Array.from(smallStream);
    flipped[bit >> 3] ^= 1 << (bit & 7);
    attempt(flipped);
  }
  const rng = mulberry32(7);
  for (let i = 0; i < 300; i++) attempt(randomBytes(rng, randomInt(rng, 40)));
  assert.ok(caught >= 0.95 * (smallStream.length * 8 + 300), `only ${caught} caught`);
  // a large plane from a few garbage bytes: the decoder runs out of bytes, it does not spin
  const many = laplacianTables([0.01]);
  assert.throws(
    () => decodeChannels(randomBytes(rng, 8), 1 << 20, 0, 1, many, new Int32Array(1 << 20)),
    failsWith('CORRUPT'),
  );
});

/** a one-channel stream: the ESCAPE symbol of `tables`, then raw 4-bit chunks (in decoding order) */
function escapeStream(tables: CdfTables, chunks: number[]): Uint8Array {
  const encoder = new RansEncoder();
  for (const chunk of [...chunks].reverse()) encoder.putBits(chunk, 4);
  const escape = tables.length[0];
  encoder.put(tables.cdf[escape], tables.cdf[escape + 1] - tables.cdf[escape]);
  return encoder.finish();
}

test('malformed escapes are CORRUPT', () => {
  const tables = tablesFromFrequencies([{ freqs: quantizeFrequencies([1, 4, 1, 1]), offset: 1 }]);
  const decode = (chunks: number[]) => decodeChannels(escapeStream(tables, chunks), 1, 0, 1, tables, new Int32Array(1));
  decode([1, 5]); // well formed
  for (const chunks of [[0], [9, 1, 1, 1, 1, 1, 1, 1, 1, 1], [15, 1], [2, 5, 0]]) {
    assert.throws(() => decode(chunks), failsWith('CORRUPT'), chunks.join(','));
  }
  // u = 2^32 − 2: index length + 2^31 − 1, beyond int32 once the offset is taken off
  assert.throws(() => decode([8, 0xe, 0xf, 0xf, 0xf, 0xf, 0xf, 0xf, 0xf]), failsWith('CORRUPT'));
});

test('bad arguments and tables are typed errors', () => {
  const symbols = new Int32Array(12);
  assert.throws(() => encodeChannels(symbols, 5, 0, 2, small), failsWith('INTERNAL'));
  assert.throws(() => encodeChannels(symbols, 6, 1, 3, small), failsWith('INTERNAL'));
  assert.throws(() => encodeChannels(symbols, 6, 2, 1, small), failsWith('INTERNAL'));
  const broken = (change: (t: CdfTables) => void) => {
    const t = laplacianTables([0.5, 3]);
    change(t);
    return t;
  };
  for (const t of [
    broken((t) => (t.length[1] = t.stride - 1)),
    broken((t) => (t.length[0] = 0)),
    broken((t) => (t.cdf[t.stride + t.length[1] + 1] = PROB_SCALE - 1)),
    broken((t) => (t.offset[0] = 2 ** 25)),
    { ...small, cdf: small.cdf.subarray(1) },
  ]) {
    assert.throws(() => encodeChannels(symbols, 6, 0, 2, t), failsWith('BAD_WEIGHTS'));
    assert.throws(() => decodeChannels(smallStream, 6, 0, 2, t, symbols), failsWith('BAD_WEIGHTS'));
  }
  // a value 2^31 away from the table needs 33 escape bits
  const far = broken((t) => (t.offset[0] = -(2 ** 24)));
  symbols[0] = -(2 ** 31);
  assert.throws(() => encodeChannels(symbols, 6, 0, 2, far), failsWith('INTERNAL'));
});

/** The AaraError `run` throws: its code must be `code`; returns its message. */
function messageOf(code: ErrorCode, run: () => unknown): string {
  try {
    run();
  } catch (e) {
    assert.ok(failsWith(code)(e), `${String(e)} is not ${code}`);
    return (e as Error).message;
  }
  assert.unreachable(`expected ${code}`);
  return '';
}

/** A 4-byte stream that holds only the start state x (little endian). */
const stateOnly = (x: number) => Uint8Array.from([x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, x >>> 24]);

test('the rANS decoder: each check at its boundary, with its message', () => {
  assert.match(messageOf('CORRUPT', () => new RansDecoder(new Uint8Array(3))), /rANS stream of 3 bytes has no state/);
  new RansDecoder(stateOnly(RANS_L)).finish(); // the empty stream
  new RansDecoder(stateOnly(RANS_L * 256 - 1)); // the largest state
  assert.match(messageOf('CORRUPT', () => new RansDecoder(stateOnly(RANS_L - 1))), /rANS start state out of range/);
  assert.match(messageOf('CORRUPT', () => new RansDecoder(stateOnly(RANS_L * 256))), /rANS start state out of range/);
  // a symbol that needs a renormalisation byte the stream does not have
  assert.match(messageOf('CORRUPT', () => new RansDecoder(stateOnly(RANS_L)).advance(0, 1)), /rANS stream ends early/);
  const longer = Uint8Array.from([...smallStream, 0]);
  assert.match(messageOf('CORRUPT', () => decodeSmall(longer)), /1 bytes left after the last rANS symbol/);
  assert.match(messageOf('CORRUPT', () => new RansDecoder(stateOnly(RANS_L + 1)).finish()), /rANS final state mismatch/);
});

test('malformed escapes: each says what is wrong', () => {
  const tables = tablesFromFrequencies([{ freqs: quantizeFrequencies([1, 4, 1, 1]), offset: 1 }]);
  const decode = (chunks: number[]) => () => decodeChannels(escapeStream(tables, chunks), 1, 0, 1, tables, new Int32Array(1));
  assert.match(messageOf('CORRUPT', decode([0])), /escape with 0 groups/);
  assert.match(messageOf('CORRUPT', decode([9, 1, 1, 1, 1, 1, 1, 1, 1, 1])), /escape with 9 groups/);
  assert.match(messageOf('CORRUPT', decode([2, 5, 0])), /escape with a leading zero group/);
  // u (4-bit groups, least significant first) = 2^32 − 4, − 6, − 3, − 1: value = escape + u/2 − offset (u even),
  // −(u + 1)/2 − offset (u odd), with escape 3 and offset 1
  assert.match(messageOf('CORRUPT', decode([8, 0xc, 0xf, 0xf, 0xf, 0xf, 0xf, 0xf, 0xf])), /escaped value 2147483648 overflows int32/);
  assert.match(messageOf('CORRUPT', decode([8, 0xf, 0xf, 0xf, 0xf, 0xf, 0xf, 0xf, 0xf])), /escaped value -2147483649 overflows int32/);
  const out = new Int32Array(1);
  decodeChannels(escapeStream(tables, [8, 0xa, 0xf, 0xf, 0xf, 0xf, 0xf, 0xf, 0xf]), 1, 0, 1, tables, out);
  assert.is(out[0], 2 ** 31 - 1, 'the largest int32 escapes and decodes');
  decodeChannels(escapeStream(tables, [8, 0xd, 0xf, 0xf, 0xf, 0xf, 0xf, 0xf, 0xf]), 1, 0, 1, tables, out);
  assert.is(out[0], -(2 ** 31), 'and the smallest');
  // index −2^31 − 1 (u = 2^32 + 1): the first index past what 32 escape bits hold
  assert.match(messageOf('INTERNAL', () => encodeChannels(Int32Array.of(-(2 ** 31)), 1, 0, 1, { ...tables, offset: Int32Array.of(-1) })),
    /latent index -2147483649 needs more than 32 escape bits/);
  const far = { ...tables, offset: Int32Array.of(-(2 ** 24)) };
  assert.match(messageOf('INTERNAL', () => encodeChannels(Int32Array.of(-(2 ** 31)), 1, 0, 1, far)), /latent index -2164260864 needs more than 32 escape bits/);
});

test('the symbol coder\'s arguments: each check at its boundary, with its message', () => {
  const symbols = new Int32Array(12);
  const gaussian = laplacianTables([0.5, 1, 2, 3]); // 4 rows, addressed by index
  const rows = Uint8Array.from({ length: 12 }, (_, i) => i % 4);
  encodeChannels(symbols, 6, 0, 2, gaussian, rows);
  assert.match(messageOf('INTERNAL', () => encodeChannels(symbols, 6, 0, 3, gaussian, rows)), /channels 0…3 of 2/);
  assert.match(messageOf('INTERNAL', () => encodeChannels(symbols, 6, 0.5, 2, small)), /channels 0.5…2 of 2/);
  assert.match(messageOf('INTERNAL', () => encodeChannels(symbols, 6, 0, 1.5, small)), /channels 0…1.5 of 2/);
  assert.match(messageOf('INTERNAL', () => encodeChannels(symbols, 6, -1, 1, small)), /channels -1…1 of 2/);
  assert.match(messageOf('INTERNAL', () => encodeChannels(symbols, 6, 2, 1, small)), /channels 2…1 of 2/);
  assert.match(messageOf('INTERNAL', () => encodeChannels(symbols, 5, 0, 2, small)), /12 symbols for 2 planes of 5/);
  assert.match(messageOf('INTERNAL', () => encodeChannels(symbols, 2.5, 0, 2, gaussian, rows)), /12 symbols for 4.8 planes of 2.5|channels 0…2 of 4.8/);
  assert.match(messageOf('INTERNAL', () => encodeChannels(new Int32Array(0), -1, 0, 0, small)), /0 symbols for 2 planes of -1/);
  assert.is(encodeChannels(new Int32Array(0), 0, 0, 2, small).length, 4, 'empty planes: the state alone');
  assert.is(encodeChannels(new Int32Array(0), 0, 0, 2, gaussian, new Uint8Array(0)).length, 4, 'indexes over empty planes');
  assert.match(messageOf('INTERNAL', () => encodeChannels(symbols, 6, 0, 2, gaussian, rows.subarray(0, 5))), /5 table indexes for 12 symbols/);
  const beyond = rows.slice();
  beyond[7] = 4;
  assert.match(messageOf('INTERNAL', () => encodeChannels(symbols, 6, 0, 2, gaussian, beyond)), /table index 4 of 4 rows/);
  assert.match(messageOf('INTERNAL', () => encodeChannels(symbols, 6, 1, 2, gaussian, beyond)), /table index 4 of 4 rows/);
  encodeChannels(symbols, 6, 0, 1, gaussian, beyond); // the bad index is in a channel this stream does not code
  const next = rows.slice();
  next[6] = 4; // the first element of channel 1
  encodeChannels(symbols, 6, 0, 1, gaussian, next);
  assert.match(messageOf('INTERNAL', () => encodeChannels(new Int32Array(5), 2.5, 0, 2, small)), /5 symbols for 2 planes of 2.5/);
  beyond[7] = 3;
  encodeChannels(symbols, 6, 0, 2, gaussian, beyond); // the last row is a row
  assert.match(messageOf('INTERNAL', () => encodeChannels(symbols, 6, 0, 2, small, undefined, Uint32Array.of(1, 1))), /positions must increase inside a plane of 6/);
  assert.match(messageOf('INTERNAL', () => encodeChannels(symbols, 6, 0, 2, small, undefined, Uint32Array.of(6))), /positions must increase inside a plane of 6/);
  const short = { ...small, length: small.length.subarray(0, 1) };
  assert.match(messageOf('BAD_WEIGHTS', () => encodeChannels(symbols, 6, 0, 2, short)), /^.*CDF: CDF tables smaller than their channel count/);
  const badRow = { ...small, length: Int32Array.of(small.length[0], 0) };
  assert.match(messageOf('BAD_WEIGHTS', () => encodeChannels(symbols, 6, 0, 2, badRow)), /CDF channel 1: table length 0/);
});

test.run();
