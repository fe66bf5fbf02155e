import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bpp, msSsim, psnr } from '../src/eval/metrics.js';
import type { RgbImage } from '../src/io/pixels.js';
import { AaraError } from '../src/core/errors.js';
import { mulberry32 } from './helpers/prng.js';

interface Pair {
  name: string;
  width: number;
  height: number;
  a: string;
  b: string;
  psnr: number;
  /** train/model.py ms_ssim as it runs (its window is normalised in float32: ~1e-6 of rounding). */
  msSsim: number;
  /** the same with the window in float64: the exact maths. */
  msSsimFloat64Window: number;
}

const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('../../test/fixtures/metrics.json', import.meta.url)), 'utf8')) as { pairs: Pair[] };
const image = (pair: Pair, base64: string): RgbImage => ({ width: pair.width, height: pair.height, data: new Uint8Array(Buffer.from(base64, 'base64')) });

/** Smooth image plus uniform noise of the given amplitude (seeded). */
function noisy(width: number, height: number, amplitude: number, seed = 1): RgbImage {
  const rng = mulberry32(seed);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) {
    const pixel = Math.floor(i / 3);
    const smooth = 128 + 60 * Math.sin((pixel % width) / 6 + (i % 3)) * Math.cos(Math.floor(pixel / width) / 9);
    data[i] = Math.max(0, Math.min(255, Math.round(smooth + amplitude * (rng() * 2 - 1))));
  }
  return { width, height, data };
}

test('fixture pairs: PSNR and MS-SSIM agree with the Python trainer', () => {
  assert.ok(fixture.pairs.length >= 3);
  for (const pair of fixture.pairs) {
    const a = image(pair, pair.a);
    const b = image(pair, pair.b);
    const value = msSsim(a, b);
    assert.ok(Math.abs(psnr(a.data, b.data) - pair.psnr) < 1e-9, `${pair.name}: psnr ${psnr(a.data, b.data)} vs ${pair.psnr}`);
    assert.ok(Math.abs(value - pair.msSsim) < 1e-6, `${pair.name}: ms-ssim ${value} vs trainer ${pair.msSsim}`);
    assert.ok(Math.abs(value - pair.msSsimFloat64Window) < 1e-12, `${pair.name}: ms-ssim ${value} vs ${pair.msSsimFloat64Window}`);
  }
});

test('identical images: PSNR Infinity, MS-SSIM 1', () => {
  const img = noisy(37, 29, 20);
  assert.is(psnr(img.data, Uint8Array.from(img.data)), Infinity);
  assert.ok(Math.abs(msSsim(img, img) - 1) < 1e-12);
  const pixel = { width: 1, height: 1, data: Uint8Array.from([5, 6, 7]) };
  assert.ok(Math.abs(msSsim(pixel, pixel) - 1) < 1e-12, '1×1 works: every window shrinks to 1');
});

test('more noise scores lower', () => {
  const clean = noisy(64, 48, 0);
  const light = noisy(64, 48, 8, 2);
  const heavy = noisy(64, 48, 40, 2);
  assert.ok(psnr(clean.data, light.data) > psnr(clean.data, heavy.data));
  assert.ok(msSsim(clean, light) > msSsim(clean, heavy));
  assert.ok(msSsim(clean, heavy) > 0);
});

test('PSNR by hand: one byte off by 255 in 3 bytes', () => {
  assert.ok(Math.abs(psnr(Uint8Array.from([0, 0, 0]), Uint8Array.from([255, 0, 0])) - 10 * Math.log10(3)) < 1e-12);
});

test('bpp', () => {
  assert.is(bpp(1000, 100, 80), 1);
  assert.is(bpp(0, 3, 3), 0);
});

test('mismatched inputs are refused', () => {
  const code = (run: () => unknown) => {
    try {
      run();
    } catch (err) {
      assert.instance(err, AaraError);
      return (err as AaraError).code;
    }
    return assert.unreachable('expected an AaraError');
  };
  assert.is(code(() => psnr(new Uint8Array(3), new Uint8Array(6))), 'BAD_PIXELS');
  assert.is(code(() => psnr(new Uint8Array(0), new Uint8Array(0))), 'BAD_PIXELS');
  assert.is(code(() => msSsim(noisy(8, 8, 1), noisy(8, 9, 1))), 'BAD_DIMENSIONS');
  assert.is(code(() => msSsim(noisy(8, 8, 1), { width: 8, height: 8, data: new Uint8Array(10) })), 'BAD_PIXELS');
  assert.is(code(() => bpp(10, 0, 5)), 'BAD_DIMENSIONS');
});

test('each check of the inputs, and what its message says', () => {
  const message = (run: () => unknown, code: string): string => {
    try {
      run();
    } catch (err) {
      assert.is((err as AaraError).code, code);
      return (err as AaraError).message;
    }
    assert.unreachable(`expected ${code}`);
    return '';
  };
  assert.match(message(() => psnr(new Uint8Array(3), new Uint8Array(6)), 'BAD_PIXELS'), /non-empty buffers of equal length, got 3 and 6 bytes/);
  for (const [w, h] of [[0, 5], [5, 0], [-1, 5], [5, -2], [NaN, 3]]) {
    assert.match(message(() => bpp(10, w, h), 'BAD_DIMENSIONS'), new RegExp(`positive size, got ${w}×${h}`));
  }
  const image = (width: number, height: number, bytes = Math.max(0, width * height * 3)) => ({ width, height, data: new Uint8Array(bytes) });
  for (const bad of [image(0, 5), image(5, 0), image(2.5, 2, 15), image(2, 2.5, 15), image(2 ** 53, 1, 0), image(1, 2 ** 53, 0), image(4, 4, 47)]) {
    for (const pair of [[bad, image(4, 4)], [image(4, 4), bad]]) {
      assert.match(message(() => msSsim(pair[0], pair[1]), 'BAD_PIXELS'),
        new RegExp(`RGB images with width·height·3 bytes, got ${bad.width}×${bad.height} and ${bad.data.length} bytes`));
    }
  }
  assert.match(message(() => msSsim(image(8, 8), image(9, 8)), 'BAD_DIMENSIONS'), /images of one size, got 8×8 and 9×8/);
  assert.match(message(() => msSsim(image(8, 9), image(8, 8)), 'BAD_DIMENSIONS'), /images of one size, got 8×9 and 8×8/);
});

test.run();
