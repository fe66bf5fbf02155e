/**
 * Quality 0…100 and the positions between levels: the file records the position in sixteenths of a level (flag
 * bit 1), the hyper kind interpolates the gains of ŷ and ẑ there, and the result lies between its neighbours in
 * rate and PSNR; every path (sync, pool, browser entry) gives the same bytes and pixels.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { atLevel, decodeSync, encodeSync, levelOfQuality } from '../src/codec/codec.js';
import { readContainer, writeContainer } from '../src/format/container.js';
import { psnr } from '../src/eval/metrics.js';
import { decodeImage } from '../src/io/image-io.js';
import { weightFile } from '../src/io/weight-files.js';
import { decodeParallel, encodeParallel } from '../src/parallel/parallel.js';
import { WorkerPool } from '../src/parallel/pool.js';
import * as aara from '../src/index.js';
import * as browser from '../src/browser/index.js';
import { failsWith } from './helpers/assert-code.js';
import { fixCrc } from './helpers/bitstream-fuzz.js';
import { loadTestWeights, repoPath } from './helpers/fixtures.js';
import { syntheticImage } from './helpers/synthetic-images.js';

const shipped = weightFile(readFileSync(repoPath('weights/aara.bin')));
const factorized = loadTestWeights('test-tiny.bin');
const pool = new WorkerPool(2);

/** A 128×96 crop of kodim23 (the parrots' heads): a photo, so rate and PSNR move with the gains as on real images. */
const photo = (() => {
  const img = decodeImage(new Uint8Array(readFileSync(repoPath('../shared/datasets/kodak/kodim23.png'))));
  const [x0, y0, width, height] = [400, 112, 128, 96];
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) data.set(img.data.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + width) * 3), y * width * 3);
  return { width, height, data };
})();

test('quality maps linearly onto the levels, in sixteenths (whole levels for the factorized kind)', () => {
  const top = shipped.weights.config.levels - 1;
  assert.is(levelOfQuality(0, shipped.weights), 0);
  assert.is(levelOfQuality(100, shipped.weights), top);
  assert.is(levelOfQuality(50, shipped.weights), Math.round(8 * top) / 16);
  for (let q = 0; q <= 100; q += 7) assert.ok(Number.isInteger(levelOfQuality(q, shipped.weights) * 16), `quality ${q}`);
  assert.ok(Number.isInteger(levelOfQuality(37, factorized)));
  failsWith('BAD_LEVEL', () => levelOfQuality(101, shipped.weights));
  failsWith('BAD_LEVEL', () => levelOfQuality(Number.NaN, shipped.weights));
});

test('the container records a position between levels in sixteenths, one way only', () => {
  const c = { flags: 0, width: 3, height: 2, weightsId: new Uint8Array(8), streams: [Uint8Array.of(1, 2)] };
  for (const level of [0, 3, 5.0625, 5.5, 12.9375]) assert.is(readContainer(writeContainer({ ...c, level })).level, level);
  const half = writeContainer({ ...c, level: 5.5 });
  assert.equal([half[5], half[6]], [88, 2]);
  failsWith('BAD_LEVEL', () => writeContainer({ ...c, level: 5.3 }));
  failsWith('BAD_LEVEL', () => writeContainer({ ...c, level: 16.5 }));
  // a whole level written in sixteenths: a second file for one image, refused (CRC fixed so only that is wrong)
  const forged = writeContainer({ ...c, level: 5 });
  forged[5] = 80;
  forged[6] = 2;
  failsWith('CORRUPT', () => readContainer(fixCrc(forged)), /whole level/);
});

test('atLevel interpolates the gains of ŷ and ẑ between the two levels, and nothing else', () => {
  const w = shipped.weights;
  const { M, Mr } = w.config;
  const at = atLevel(w, 5.25);
  assert.is(at.level, 5);
  for (let c = 0; c < M; c += 17) {
    const [a, b] = [w.gainY[5 * M + c], w.gainY[6 * M + c]];
    assert.is(at.w.gainY[5 * M + c], Math.fround(a + 0.25 * (b - a)));
  }
  assert.is(at.w.gainZ[5 * Mr + 3], Math.fround(w.gainZ[5 * Mr + 3] + 0.25 * (w.gainZ[6 * Mr + 3] - w.gainZ[5 * Mr + 3])));
  assert.equal(at.w.gainY.subarray(6 * M), w.gainY.subarray(6 * M));
  assert.is(at.w.hyper, w.hyper, 'ŵ keeps its model');
  assert.is(atLevel(w, 5.25).w, at.w, 'cached');
  assert.is(atLevel(w, 5).w, w);
});

test('between two levels: rate and PSNR lie between theirs; sync, pool and browser entry agree', async () => {
  const { weights: w, bytes } = shipped;
  const files = [5, 5.25, 5.5, 5.75, 6].map((level) => encodeSync(photo, w, { level }));
  const psnrs = files.map((f) => psnr(photo.data, decodeSync(f, w).data));
  for (let i = 1; i < files.length; i++) {
    assert.ok(files[i].length > files[i - 1].length, `rate grows: ${files.map((f) => f.length).join(' ')}`);
    assert.ok(psnrs[i] > psnrs[i - 1], `PSNR grows: ${psnrs.map((p) => p.toFixed(2)).join(' ')}`);
  }
  const half = files[2];
  assert.ok(Buffer.from(await encodeParallel(photo, w, bytes, { level: 5.5, pool })).equals(half), 'pooled encode');
  assert.equal((await decodeParallel(half, w, bytes, { pool })).data, decodeSync(half, w).data);
  const q = (5.5 / (w.config.levels - 1)) * 100; // the quality that lands on 5.5
  assert.is(levelOfQuality(q, w), 5.5);
  assert.ok(Buffer.from(aara.encodeSync(photo, { weights: bytes, quality: q })).equals(half), 'API quality');
  const rgba = browser.decode(half, browser.readWeights(bytes));
  assert.is(rgba.data[0], decodeSync(half, w).data[0]);
  assert.ok(Buffer.from(browser.encode(photo, browser.readWeights(bytes), { quality: q })).equals(half), 'browser quality');
});

test('the factorized kind has whole levels only: an encode between is BAD_LEVEL, a file between CORRUPT', () => {
  const img = syntheticImage(16, 16, 1);
  failsWith('BAD_LEVEL', () => encodeSync(img, factorized, { level: 0.5 }));
  const file = encodeSync(img, factorized, { level: 0 });
  const forged = Uint8Array.from(file);
  forged[5] = 8;
  forged[6] |= 2;
  failsWith('CORRUPT', () => decodeSync(fixCrc(forged), factorized), /whole levels only/);
  failsWith('BAD_ARGUMENT', () => aara.encodeSync(img, { weights: readFileSync(repoPath('weights/test-tiny.bin')), level: 1, quality: 50 }));
});

test.after(() => pool.close());

test.run();
