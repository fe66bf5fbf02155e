/**
 * Golden bitstreams (one set per model kind, made by make-golden.mjs with their test weights): every decoding path must
 * give the recorded pixels, and encoding the reproducible sources again must give the committed bytes. A change
 * here means the format or the codec's arithmetic changed: old files would decode differently.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { decodeSync } from '../src/codec/codec.js';
import type { RgbImage } from '../src/io/pixels.js';
import { decodeParallel } from '../src/parallel/parallel.js';
import { WorkerPool } from '../src/parallel/pool.js';
import { readWeights, type Weights } from '../src/format/weights.js';
import { repoPath } from './helpers/fixtures.js';
import { GOLDEN_SETS, readGoldenManifest } from './golden/sources.js';

const pools = [new WorkerPool(1), new WorkerPool(3)];
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

for (const set of GOLDEN_SETS) {
  const weightBytes = new Uint8Array(readFileSync(repoPath(set.weights)));
  /** Every way of decoding a file; each must reproduce the golden pixels exactly. */
  const decoders: { name: string; decode: (bytes: Uint8Array, w: Weights) => RgbImage | Promise<RgbImage> }[] = [
    { name: 'decodeSync', decode: (bytes, w) => decodeSync(bytes, w) },
    ...[16, 32, 256].map((tile) => ({ name: `decodeSync tile ${tile}`, decode: (bytes: Uint8Array, w: Weights) => decodeSync(bytes, w, { tile }) })),
    ...pools.map((pool) => ({
      name: `decodeParallel, ${pool.size} worker${pool.size > 1 ? 's' : ''}, tile 16`,
      decode: (bytes: Uint8Array, w: Weights) => decodeParallel(bytes, w, weightBytes, { pool, tile: 16 }),
    })),
  ];
  const manifest = readGoldenManifest(set);
  const weights = readWeights(weightBytes);
  const goldenFile = (name: string) => new Uint8Array(readFileSync(repoPath(`${set.dir}/${name}`)));

  test(`${set.dir}: golden.json, the sources and the .aara files agree`, () => {
    assert.is(manifest.weightsId, weights.idHex, `${set.weights} is not the file the golden bitstreams were made with`);
    assert.is(manifest.weights, set.weights);
    const listed = manifest.files.map((f) => f.file).sort();
    assert.equal(listed, set.sources.map((s) => s.file).sort());
    assert.equal(readdirSync(repoPath(set.dir)).filter((f) => f.endsWith('.aara')).sort(), listed);
    // the gray PNG source must have come through as grayscale: the flag (byte 6, bit 0) records it
    for (const entry of manifest.files) assert.is((goldenFile(entry.file)[6] & 1) === 1, entry.grayscale, entry.file);
    assert.ok(manifest.files.some((entry) => entry.grayscale));
  });

  for (const entry of manifest.files) {
    for (const { name, decode } of decoders) {
      test(`${set.dir}/${entry.file}: ${name} gives the golden pixels`, async () => {
        const img = await decode(goldenFile(entry.file), weights);
        assert.is(img.width, entry.width);
        assert.is(img.height, entry.height);
        assert.is(img.data.length, entry.width * entry.height * 3);
        assert.is(sha256(img.data), entry.sha256);
      });
    }
  }

  if (set.frozenVersion !== undefined) {
    test(`${set.dir}: frozen files of container version ${set.frozenVersion}`, () => {
      for (const entry of manifest.files) assert.is(goldenFile(entry.file)[4], set.frozenVersion, entry.file);
    });
  }

  for (const source of set.sources.filter((s) => s.reproducible)) {
    test(`${set.dir}/${source.file}: encoding its source again gives the committed bytes`, () => {
      assert.ok(Buffer.from(source.encode(weights)).equals(goldenFile(source.file)), 'the encoder output changed');
    });
  }
}

test.after(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
});

test.run();
