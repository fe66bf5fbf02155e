/**
 * The eval's arithmetic, fast (the mutation run of bench/mutation.mjs uses this file; eval.test.ts runs the eval
 * end to end): BD-rate against published and hand-computed cases, averages as the means of per-image values,
 * MS-SSIM in decibels, the JSON of non-finite values.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bdRate, msSsimDecibels, type RdPoint } from '../src/eval/bd-rate.js';
import { jsonText } from '../src/eval/eval.js';
import { niceAxis } from '../src/eval/eval-plot.js';
import { averageOf, type Measurement } from '../src/eval/eval-report.js';

/** A curve whose log-rate is exactly a cubic in quality, so the BD fit reproduces it without error. */
const cubicCurve = (qualities: number[], rateFactor = 1): RdPoint[] =>
  qualities.map((q) => {
    const t = (q - 34) / 6;
    return { rate: rateFactor * Math.exp(-0.7 + 1.1 * t + 0.25 * t * t - 0.08 * t * t * t), quality: q };
  });

test('bdRate: the same curve at 0.9× the rate is −10 %, whatever the sample points', () => {
  const anchor = cubicCurve([28, 31, 34, 37, 40]);
  assert.ok(Math.abs(bdRate(anchor, cubicCurve([29, 32.5, 36, 39.5], 0.9))! - -10) < 1e-9);
  // and the anchor needs 1/0.9 − 1 = +11.1 % more than the test curve
  assert.ok(Math.abs(bdRate(cubicCurve([29, 32.5, 36, 39.5], 0.9), anchor)! - (100 / 0.9 - 100)) < 1e-9);
  assert.ok(Math.abs(bdRate(anchor, anchor)!) < 1e-12);
});

test('bdRate: three points fit a quadratic, two a line', () => {
  const quadratic = (qs: number[], f = 1) => qs.map((q) => ({ rate: f * Math.exp(0.2 * q - 0.001 * q * q), quality: q }));
  assert.ok(Math.abs(bdRate(quadratic([30, 33, 36]), quadratic([31, 34, 37], 0.8))! - -20) < 1e-9);
  const line = (qs: number[], f = 1) => qs.map((q) => ({ rate: f * Math.exp(0.1 * q), quality: q }));
  assert.ok(Math.abs(bdRate(line([30, 40]), line([32, 38], 1.5))! - 50) < 1e-9);
});

test("bdRate: Google compare-codecs' published unit test (visual_metrics_unittest.py)", () => {
  // LinearVector: rate 10, 20, 30, 40 with quality = slope × rate; slope 2 reaches each quality at half the rate
  const linear = (slope: number) => [10, 20, 30, 40].map((rate) => ({ rate, quality: slope * rate }));
  assert.ok(Math.abs(bdRate(linear(1), linear(2))! - -50) < 0.5);
  assert.ok(Math.abs(bdRate(linear(2), linear(1))! - 100) < 2);
});

test('bdRate: agrees with the numpy.polyfit implementation on the libx265 sample of FAU-LMS/bjontegaard', () => {
  const anchor = [9487.76, 4593.6, 2486.44, 1358.24].map((rate, i) => ({ rate, quality: [40.037, 38.615, 36.845, 34.851][i] }));
  const tested = [9787.8, 4469.0, 2451.52, 1356.24].map((rate, i) => ({ rate, quality: [40.121, 38.651, 36.97, 34.987][i] }));
  // −4.42046270609 from np.polyfit(psnr, log(rate), 3) integrated with np.polyint over the shared PSNR range
  assert.ok(Math.abs(bdRate(anchor, tested)! - -4.4204627061) < 1e-6);
});

test('bdRate: undefined without overlap or with too few points; infinite qualities left out', () => {
  assert.is(bdRate(cubicCurve([28, 30, 32, 33]), cubicCurve([35, 37, 39, 40])), undefined);
  assert.is(bdRate(cubicCurve([30]), cubicCurve([29, 32, 35])), undefined);
  const withLossless = [...cubicCurve([29, 32.5, 36, 39.5], 0.9), { rate: 12, quality: Infinity }];
  assert.ok(Math.abs(bdRate(cubicCurve([28, 31, 34, 37, 40]), withLossless)! - -10) < 1e-9);
  assert.throws(() => bdRate([{ rate: 0, quality: 30 }, { rate: 1, quality: 31 }], cubicCurve([30, 31])), /rates > 0 and qualities, got 0 \/ 30/);
  assert.throws(() => bdRate(cubicCurve([30, 31]), [{ rate: 1, quality: NaN }, { rate: 2, quality: 31 }]), /rates > 0 and qualities, got 1 \/ NaN/);
  // ranges that only touch (one shared quality), or a curve whose points share one quality: no range to average over
  assert.is(bdRate(cubicCurve([28, 30, 32]), cubicCurve([32, 34, 36])), undefined);
  assert.is(bdRate(cubicCurve([31, 31, 31]), cubicCurve([29, 32, 35])), undefined);
  assert.is(bdRate([{ rate: 1, quality: Infinity }, { rate: 2, quality: Infinity }], cubicCurve([29, 32, 35])), undefined);
});

test('eval JSON writes non-finite numbers (a lossless PSNR, an undefined BD-rate) as null, everything else as is', () => {
  const text = jsonText({ psnr: Infinity, low: -Infinity, nan: NaN, bpp: 0.25, nested: [{ psnr: Infinity, ok: 31.5 }], label: 'inf' }, 2);
  assert.equal(JSON.parse(text), { psnr: null, low: null, nan: null, bpp: 0.25, nested: [{ psnr: null, ok: 31.5 }], label: 'inf' });
  assert.ok(text.includes('\n  "psnr": null'), 'indented');
  assert.is(jsonText([1, Infinity]), '[1,null]');
});

test('msSsimDecibels and niceAxis', () => {
  assert.ok(Math.abs(msSsimDecibels(0.99) - 20) < 1e-9);
  const axis = niceAxis(26.3, 38.9);
  assert.equal(axis.ticks, [26, 28, 30, 32, 34, 36, 38, 40]);
  assert.is(axis.decimals, 0);
  assert.is(niceAxis(0, 0.93).decimals, 1);
});

test('averageOf: each field the mean of the per-image values; MS-SSIM in dB from the mean MS-SSIM', () => {
  const m = (bpp: number, psnr: number, msSsim: number, encodeSeconds: number, decodeSeconds: number): Measurement =>
    ({ bpp, psnr, msSsim, encodeSeconds, decodeSeconds }) as Measurement;
  const avg = averageOf([m(0.2, 30, 0.95, 1, 0.5), m(0.6, 34, 0.99, 3, 1.5), m(1.0, 38, 0.97, 2, 1)]);
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} ≠ ${b}`);
  close(avg.bpp, 0.6, 'bpp');
  close(avg.psnr, 34, 'PSNR');
  close(avg.msSsim, 0.97, 'MS-SSIM');
  close(avg.msSsimDb, -10 * Math.log10(1 - 0.97), 'MS-SSIM dB');
  close(avg.encodeSeconds, 2, 'encode seconds');
  close(avg.decodeSeconds, 1, 'decode seconds');
  const one = averageOf([m(0.25, 31, 0.9, 4, 2)]);
  assert.equal([one.bpp, one.psnr, one.msSsim], [0.25, 31, 0.9]);
});

test.run();
