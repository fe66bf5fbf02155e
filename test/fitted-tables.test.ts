/**
 * Weight file version 3: Gaussian tables fitted per latent and level (train/fit_tables.py). weights/test-tiny-ychannel-
 * fitted.bin is weights/test-tiny-ychannel.bin's seeded model with its tables fitted on 4 training images: the same
 * networks, so the same symbols — the tables change a file's bytes, never its pixels. (Hostile version-3 tables:
 * test/weights.test.ts.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { decodeSync, encodeSync } from '../src/codec/codec.js';
import { readContainer } from '../src/format/container.js';
import { decodeParallel, encodeParallel } from '../src/parallel/parallel.js';
import { WorkerPool } from '../src/parallel/pool.js';
import { gaussianSet, readWeights } from '../src/format/weights.js';
import { repoPath } from './helpers/fixtures.js';
import { syntheticImage } from './helpers/images.js';
import { failsWith } from './helpers/assert-code.js';
import { GOLDEN_SETS, readGoldenManifest } from './golden/sources.js';

const plainBytes = new Uint8Array(readFileSync(repoPath('weights/test-tiny-ychannel.bin')));
const fittedBytes = new Uint8Array(readFileSync(repoPath('weights/test-tiny-ychannel-fitted.bin')));
const plain = readWeights(plainBytes);
const fitted = readWeights(fittedBytes);
const LATENTS = ['y', 'z'] as const;

/** Row j of a set: its regular symbols' CDF entries, its offset. */
const row = (set: ReturnType<typeof gaussianSet>, j: number) =>
  [Array.from(set.cdf.subarray(j * set.stride, j * set.stride + set.length[j] + 2)), set.offset[j]];

test('version 3 reads as the version-2 file\'s model with a set of rows per latent and level, each built once', () => {
  assert.equal(new DataView(fittedBytes.buffer, fittedBytes.byteOffset).getUint32(8, true), 3);
  assert.equal(fitted.config, plain.config);
  assert.equal(fitted.hyper!.gaussian.scales, plain.hyper!.gaussian.scales);
  const g = fitted.hyper!.gaussian;
  const { levels } = fitted.config;
  const scales = g.scales.length;
  const sets = LATENTS.flatMap((latent) => Array.from({ length: levels }, (_, q) => gaussianSet(g, latent, q)));
  for (const [i, set] of sets.entries()) {
    assert.is(set.channels, scales);
    for (let j = 0; j < scales; j++) {
      const r = g.fitted!.map[i * scales + j];
      const start = g.fitted!.rowStart[r];
      assert.equal(row(set, j), [Array.from(g.fitted!.cdf.subarray(start, start + g.fitted!.length[r] + 2)), g.fitted!.offset[r]]);
      assert.is(set.length[j], 2 * set.offset[j] + 1, 'a symmetric range −c … c');
    }
  }
  assert.is(gaussianSet(g, 'z', 1), sets[levels + 1], 'built once');
  const differs = (a: number, b: number) => Array.from({ length: scales }, (_, j) => j).some((j) => JSON.stringify(row(sets[a], j)) !== JSON.stringify(row(sets[b], j)));
  // (the tiny model's ŷ has no scale small enough for rows of its own per level: its rows are every level's)
  assert.ok(differs(levels, levels + 1), 'ẑ\'s rows differ between the levels');
  assert.ok(differs(0, levels), 'ŷ\'s and ẑ\'s rows differ');
  // version 2: one set for every latent and level
  const one = gaussianSet(plain.hyper!.gaussian, 'y', 0);
  for (const latent of LATENTS) for (let q = 0; q < levels; q++) assert.is(gaussianSet(plain.hyper!.gaussian, latent, q), one);
  failsWith('INTERNAL', () => gaussianSet(g, 'y', levels), /no Gaussian tables for y at level 2/);
});

test('fitted tables change the bytes, never the pixels: sync and on the pool; each file wants its own weights', async () => {
  const pool = new WorkerPool(2);
  try {
    for (const [img, level] of [[syntheticImage(100, 70, 7), 1], [syntheticImage(37, 29, 3), 0.5], [syntheticImage(40, 24, 4), 0]] as const) {
      const before = encodeSync(img, plain, { level });
      const after = encodeSync(img, fitted, { level });
      assert.not.equal(readContainer(after).streams[0], readContainer(before).streams[0], 'other tables, other bytes');
      const pixels = decodeSync(before, plain).data;
      assert.equal(decodeSync(after, fitted).data, pixels, `${img.width}×${img.height} level ${level}`);
      assert.equal((await decodeParallel(after, fitted, fittedBytes, { pool, tile: 16 })).data, pixels);
      assert.ok(Buffer.from(await encodeParallel(img, fitted, fittedBytes, { pool, level })).equals(after), 'the pool writes the same bytes');
      failsWith('WEIGHTS_MISMATCH', () => decodeSync(after, plain));
    }
  } finally {
    await pool.close();
  }
});

test('the fitted golden set: the ychannel set\'s sources, the same decoded pixels in other bytes', () => {
  const [before, after] = ['test/golden/ychannel', 'test/golden/ychannel-fitted'].map((dir) => readGoldenManifest(GOLDEN_SETS.find((s) => s.dir === dir)!));
  assert.is(after.weightsId, fitted.idHex);
  assert.equal(after.files.map((f) => [f.file, f.sha256]), before.files.map((f) => [f.file, f.sha256]));
  assert.ok(after.files.some((f, i) => f.bytes !== before.files[i].bytes));
});

test.run();
