/**
 * The hyper model kind (weights/test-tiny-hyper.bin, seeded and untrained) and the weight reader's checks: the
 * decoder rebuilds exactly the means and scale indexes the encoder used, every scale index is the first table
 * scale ≥ σ, and a damaged weight file is BAD_WEIGHTS before any tensor is used.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Latent } from '../src/core/types.js';
import { decodeLatents, decodeSync, decodeTile, decodeTiles, encodeSync, openFile } from '../src/codec/codec.js';
import { encodeLatents } from '../src/model/encoder.js';
import { hyperGrid, mainCenters, priorBandRows, residualCenters, scaleIndex } from '../src/model/priors.js';
import { sha256, sha256Portable } from '../src/format/sha256.js';
import { readWeights } from '../src/format/weights.js';
import { failsWith } from './helpers/assert-code.js';
import { repoPath } from './helpers/fixtures.js';
import { syntheticImage } from './helpers/images.js';

const hyperBytes = new Uint8Array(readFileSync(repoPath('weights/test-tiny-hyper.bin')));
const factorizedBytes = new Uint8Array(readFileSync(repoPath('weights/test-tiny.bin')));
const w = readWeights(hyperBytes);

test('the hyper test weights: kind, widths and tables from the version-2 header', () => {
  assert.equal(w.config, { kind: 'hyper', N: 8, M: 16, Nr: 8, Mr: 8, levels: 2, Nh: 8 });
  assert.is(w.entropyY, undefined);
  const g = w.hyper!.gaussian;
  assert.is(g.scales.length, 64);
  assert.ok(Math.abs(g.scales[0] - 0.11) < 1e-6 && Math.abs(g.scales[63] - 256) < 1e-3);
  assert.is(readWeights(factorizedBytes).config.kind, 'factorized');
});

test('every Gaussian table is symmetric and falls away from 0, and wider scales spread further', () => {
  const tables = w.hyper!.gaussian.sets[0]!;
  let previousZero = Infinity;
  for (let j = 0; j < tables.channels; j++) {
    const row = j * tables.stride;
    const center = tables.offset[j];
    const freq = (v: number) => tables.cdf[row + center + v + 1] - tables.cdf[row + center + v];
    assert.is(tables.length[j], 2 * center + 1, `row ${j}`);
    for (let v = 1; v <= center; v++) {
      assert.ok(Math.abs(freq(v) - freq(-v)) <= 1, `row ${j}: symmetric at ±${v}`);
      assert.ok(freq(v) <= freq(v - 1), `row ${j}: falls at ${v}`);
    }
    assert.ok(freq(0) <= previousZero, `row ${j}: P(0) shrinks as σ grows`);
    previousZero = freq(0);
  }
});

test('scaleIndex: the first table scale ≥ σ; below the table the first, above it the last', () => {
  const scales = w.hyper!.gaussian.scales;
  for (let j = 0; j < scales.length; j++) {
    assert.is(scaleIndex(scales[j], scales), j);
    if (j + 1 < scales.length) assert.is(scaleIndex(Math.fround(scales[j] * (1 + 2 ** -20)), scales), j + 1);
  }
  assert.is(scaleIndex(0, scales), 0);
  assert.is(scaleIndex(-5, scales), 0);
  assert.is(scaleIndex(1e9, scales), scales.length - 1);
});

test('the encoder codes non-trivial symbols of ŵ, ŷ and ẑ, with their means and indexes', () => {
  const img = syntheticImage(100, 70, 3);
  for (const level of [0, 1]) {
    const latents = encodeLatents(img, w, level);
    const { y, z, hyper } = latents;
    assert.ok(hyper, 'ŵ');
    assert.equal([hyper!.c, hyper!.h, hyper!.w], [8, hyperGrid(y.h, y.w).h, hyperGrid(y.h, y.w).w]);
    for (const [name, l] of [['ŵ', hyper!], ['ŷ', y], ['ẑ', z]] as const) {
      assert.ok(l.symbols!.some((s) => s !== 0), `${name} level ${level}: some symbols are not 0`);
    }
    for (const l of [y, z]) {
      assert.is(l.means!.length, l.symbols!.length);
      assert.ok(new Set(l.indexes).size > 1, 'several scales in use');
    }
  }
});

test('the decoder rebuilds the encoder’s means and indexes from the symbols alone, bit for bit', () => {
  for (const [width, height, level] of [[37, 29, 0], [100, 70, 1], [1, 1, 1], [130, 20, 0]] as const) {
    const img = syntheticImage(width, height, width + height);
    const latents = encodeLatents(img, w, level);
    const { y, hyper } = latents;
    const yAgain = { ...y, means: undefined, indexes: undefined };
    const fromHyper = mainCenters(hyper!, w, level, y) as { means: Float32Array; indexes: Uint8Array };
    assert.equal(fromHyper.means, y.means, 'ŷ means');
    assert.equal(fromHyper.indexes, y.indexes, 'ŷ indexes');
    for (const bandRows of [1, 2, 3]) { // h_s in bands of any height: the same values
      const banded = mainCenters(hyper!, w, level, y, bandRows) as { means: Float32Array; indexes: Uint8Array };
      assert.equal([banded.means, banded.indexes], [y.means, y.indexes], `ŷ's centres, h_s in bands of ${bandRows}`);
    }
    const fromY = residualCenters({ ...yAgain, means: fromHyper.means }, w, level) as { means: Float32Array; indexes: Uint8Array };
    assert.equal(fromY.means, latents.z.means, 'ẑ means');
    assert.equal(fromY.indexes, latents.z.indexes, 'ẑ indexes');
    // and the whole file: decodeSync gives the pixels of the encoder's own latents
    const file = encodeSync(img, w, { level });
    const expected = { width, height, data: new Uint8Array(width * height * 3) };
    for (const region of decodeTiles(y)) decodeTile(expected, latents, w, level, region);
    assert.equal(decodeSync(file, w).data, expected.data, `${width}×${height}`);
  }
});

test('a decoded file\'s ŷ and ẑ are settled: fround(s + μ) of the encoder\'s, no symbols, means or indexes kept', () => {
  for (const name of ['test-tiny-hyper', 'test-tiny-checkerboard', 'test-tiny-spacechannel', 'test-tiny-ycontext', 'test-tiny-ychannel']) {
    const model = readWeights(new Uint8Array(readFileSync(repoPath(`weights/${name}.bin`))));
    const img = syntheticImage(45, 38, 9);
    const encoded = encodeLatents(img, model, 1);
    const decoded = decodeLatents(openFile(encodeSync(img, model, { level: 1 }), model, {}), model);
    for (const key of ['y', 'z'] as const) {
      const [enc, dec] = [encoded[key], decoded[key]];
      assert.equal(Object.keys(dec).filter((k) => ['symbols', 'means', 'indexes', 'values'].includes(k)), ['values'], `${name} ${key}`);
      const expected = enc.means!.map((mu, i) => Math.fround(enc.symbols![i] + mu));
      assert.equal(dec.values, expected, `${name} ${key}: values`);
      assert.ok(expected.some((v, i) => v !== enc.means![i]), `${name} ${key}: some symbols move their element off its mean`);
    }
    assert.ok(decoded.hyper!.symbols, `${name}: ŵ (factorized tables) keeps its symbols`);
  }
});

test('ẑ\'s prior computed in bands of any height equals the one-band result, head (g_m\'s first layer) included', () => {
  const img = syntheticImage(70, 150, 5);
  const { y } = encodeLatents(img, w, 1);
  const one: Latent = { ...y, head: undefined };
  const whole = residualCenters(one, w, 1, 1 << 20) as { means: Float32Array; indexes: Uint8Array };
  for (const bandRows of [1, 2, 3, 7]) {
    const banded: Latent = { ...y, head: undefined };
    const centers = residualCenters(banded, w, 1, bandRows) as { means: Float32Array; indexes: Uint8Array };
    assert.equal(centers.means, whole.means, `means, bands of ${bandRows}`);
    assert.equal(centers.indexes, whole.indexes, `indexes, bands of ${bandRows}`);
    assert.equal(banded.head!.data, one.head!.data, `head, bands of ${bandRows}`);
  }
});

test('ẑ\'s prior bands: 64 rows, fewer on wide grids (c_z\'s output band near 4 MB), never fewer than 16', () => {
  const rows = (width: number) => priorBandRows(w, width);
  assert.is(w.config.Mr, 8); // c_z's output: 16 channels, 64 bytes a column
  assert.equal([rows(96), rows(1024), rows(2048), rows(4096), rows(8192)], [64, 64, 32, 16, 16]);
});

test('a file of one kind with weights of the other is WEIGHTS_MISMATCH', () => {
  const img = syntheticImage(20, 20, 1);
  const factorized = readWeights(factorizedBytes);
  failsWith('WEIGHTS_MISMATCH', () => decodeSync(encodeSync(img, w, { level: 0 }), factorized));
  failsWith('WEIGHTS_MISMATCH', () => decodeSync(encodeSync(img, factorized, { level: 0 }), w));
});

/** Offsets of a few tensors of each test file: its first weight, something in the middle, its CDF tables, its last byte. */
const DAMAGE_POINTS = [64, 1000, 0.5, 0.9, -1];

test('a flipped bit anywhere in the payload, or a NaN written into a tensor, is BAD_WEIGHTS', () => {
  const checkerboardBytes = new Uint8Array(readFileSync(repoPath('weights/test-tiny-checkerboard.bin')));
  const spacechannelBytes = new Uint8Array(readFileSync(repoPath('weights/test-tiny-spacechannel.bin')));
  const ycontextBytes = new Uint8Array(readFileSync(repoPath('weights/test-tiny-ycontext.bin')));
  const ychannelBytes = new Uint8Array(readFileSync(repoPath('weights/test-tiny-ychannel.bin')));
  for (const [name, bytes] of [['hyper', hyperBytes], ['factorized', factorizedBytes], ['checkerboard', checkerboardBytes],
    ['spacechannel', spacechannelBytes], ['ycontext', ycontextBytes], ['ychannel', ychannelBytes]] as const) {
    for (const point of DAMAGE_POINTS) {
      const at = point < 0 ? bytes.length + point : point < 1 ? Math.floor(bytes.length * point) : point;
      for (const bit of [0, 6]) {
        const damaged = bytes.slice();
        damaged[at] ^= 1 << bit;
        failsWith('BAD_WEIGHTS', () => readWeights(damaged), /does not match its weights ID/);
      }
    }
    const nan = bytes.slice();
    new DataView(nan.buffer).setFloat32(64 + 4 * 17, NaN, true);
    failsWith('BAD_WEIGHTS', () => readWeights(nan), /does not match its weights ID/);
    assert.is(readWeights(bytes.slice()).idHex.length, 32, `${name}: the intact file still reads`);
  }
});

test('sha256 (native and portable): the FIPS 180-4 examples, and node:crypto on every length around the block boundaries', () => {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  for (const digest of [sha256, sha256Portable]) {
    assert.is(hex(digest(new Uint8Array(0))), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.is(hex(digest(new TextEncoder().encode('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.is(hex(digest(new TextEncoder().encode('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))),
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  }
  const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 255);
  for (let n = 0; n <= 300; n++) {
    assert.is(hex(sha256Portable(data.subarray(0, n))), createHash('sha256').update(data.subarray(0, n)).digest('hex'), `${n} bytes`);
  }
});

test('version-2 header: an unknown model kind and out-of-range widths are BAD_WEIGHTS', () => {
  const kind = hyperBytes.slice();
  new DataView(kind.buffer).setUint32(12, 9, true);
  failsWith('BAD_WEIGHTS', () => readWeights(kind), /unknown model kind 9/);
  const width = hyperBytes.slice();
  new DataView(width.buffer).setUint32(36, 0, true); // Nh
  failsWith('BAD_WEIGHTS', () => readWeights(width), /config Nh = 0/);
  const version = hyperBytes.slice();
  new DataView(version.buffer).setUint32(8, 4, true);
  failsWith('BAD_WEIGHTS', () => readWeights(version), /unsupported weight file version 4/);
  // version 3 (fitted tables, test/fitted-tables.test.ts) stores compact rows: the hyper kind's padded ones cannot be
  new DataView(version.buffer).setUint32(8, 3, true);
  failsWith('BAD_WEIGHTS', () => readWeights(version), /fitted Gaussian tables need a kind with compact tables/);
});

test.run();
