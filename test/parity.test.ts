/**
 * Engine ↔ PyTorch parity of the factorized kind, on fixtures written by train/export.py (test/fixtures/; the
 * weight file is the one of weights/ whose ID they name).
 * Tolerances: each layer's output within 1e-4·(1 + max|ref|) of PyTorch's (float32 sums in another order);
 * x̂_m and x̂ within 1e-4 absolute; quantised symbols equal, except rounding ties: each differing symbol must be
 * one whose unrounded value (stored by PyTorch) is within float noise of k+½.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Latent, Symbols, Tensor } from '../src/core/types.js';
import { attention } from '../src/model/attention.js';
import { dequantize, levelRow, quantize } from '../src/model/bottleneck.js';
import { decodeRegion, fusionCorrection, mainReconstruction } from '../src/model/decoder.js';
import { encodeLatents } from '../src/model/encoder.js';
import { toPaddedPlanes } from '../src/model/preprocess.js';
import { analysis, synthesis } from '../src/model/tensor.js';
import { assertCloseValues, assertSymbols, ParityFixtures, weightsOfFixtures, type Fixture } from './helpers/fixtures.js';

const fx = new ParityFixtures();
const w = weightsOfFixtures(fx);

function asTensor(f: Fixture): Tensor {
  const [c, h, wd] = f.shape;
  return { c, h, w: wd, data: Float32Array.from(f.data) };
}

function asLatent(f: Fixture): Latent {
  const [c, h, wd] = f.shape;
  return { c, h, w: wd, symbols: Int32Array.from(f.data) };
}

/** Interleaved RGB bytes from the CHW uint8 fixture. */
function pixels(name: string): { rgb: Uint8Array; width: number; height: number } {
  const f = fx.get(name);
  const [, height, width] = f.shape;
  const rgb = new Uint8Array(width * height * 3);
  for (let c = 0; c < 3; c++) for (let p = 0; p < width * height; p++) rgb[p * 3 + c] = f.data[c * width * height + p];
  return { rgb, width, height };
}

function assertClose(actual: Tensor, ref: Fixture, what: string, absolute?: number): void {
  assert.equal([actual.c, actual.h, actual.w], ref.shape, `${what}: shape`);
  assertCloseValues(actual.data, ref, what, absolute);
}

function mismatches(a: Symbols, b: Int32Array | Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

test('fixtures belong to a factorized-kind weight file of weights/', () => {
  assert.is(w.idHex, fx.weightsId);
  assert.is(w.config.kind, 'factorized');
});

test('main encoder f_m, 32×32 input: every conv and GDN output', () => {
  const { rgb, width, height } = pixels('crop.pixels');
  const crop = new Uint8Array(32 * 32 * 3);
  for (let y = 0; y < 32; y++) crop.set(rgb.subarray(y * width * 3, y * width * 3 + 96), y * 96);
  assert.ok(height >= 32);
  const outs: Tensor[] = [];
  analysis(toPaddedPlanes(crop, 32, 32), w.mainEncoder, (t) => outs.push(t));
  assert.is(outs.length, 7);
  outs.forEach((t, i) => assertClose(t, fx.get(`layers.main_encoder.${i}`), `main_encoder.${i}`));
});

test('CBAM attention A_m and A_r on PyTorch encoder outputs', () => {
  assertClose(attention(asTensor(fx.get('layers.main_encoder.6')), w.mainAttention), fx.get('layers.main_attention'), 'main_attention');
  assertClose(attention(asTensor(fx.get('layers.res_encoder.4')), w.resAttention), fx.get('layers.res_attention'), 'res_attention');
});

test('main decoder g_m and residual decoder g_r: every tconv and IGDN output', () => {
  const q = fx.layerLevel;
  const { M, Mr } = w.config;
  const yHat = dequantize(asLatent(fx.get('layers.sy')), levelRow(w.gainY, q, M), levelRow(w.entropyY!.median, q, M));
  const outs: Tensor[] = [];
  synthesis(yHat, w.mainDecoder, (t) => outs.push(t));
  outs.forEach((t, i) => assertClose(t, fx.get(`layers.main_decoder.${i}`), `main_decoder.${i}`));
  const zHat = dequantize(asLatent(fx.get('layers.sz')), levelRow(w.gainZ, q, Mr), levelRow(w.entropyZ!.median, q, Mr));
  const res: Tensor[] = [];
  synthesis(zHat, w.resDecoder, (t) => res.push(t));
  res.forEach((t, i) => assertClose(t, fx.get(`layers.res_decoder.${i}`), `res_decoder.${i}`));
});

test('residual encoder f_r on r = x − x̂_m', () => {
  const { rgb, width } = pixels('crop.pixels');
  const crop = new Uint8Array(32 * 32 * 3);
  for (let y = 0; y < 32; y++) crop.set(rgb.subarray(y * width * 3, y * width * 3 + 96), y * 96);
  const x = toPaddedPlanes(crop, 32, 32);
  const xMain = fx.get('layers.x_main');
  for (let i = 0; i < x.data.length; i++) x.data[i] -= xMain.data[i];
  const outs: Tensor[] = [];
  analysis(x, w.resEncoder, (t) => outs.push(t));
  outs.forEach((t, i) => assertClose(t, fx.get(`layers.res_encoder.${i}`), `res_encoder.${i}`));
});

for (const [tag, level] of [['crop', 0], ['crop', 4], ['odd', 2]] as const) {
  test(`${tag} image at level ${level}: symbols equal PyTorch's (ties counted), x̂_m and x̂ within 1e-4`, () => {
    const { rgb, width, height } = pixels(`${tag}.pixels`);
    const enc = encodeLatents({ width, height, data: rgb }, w, level);
    const sy = fx.get(`${tag}.level${level}.sy`);
    const sz = fx.get(`${tag}.level${level}.sz`);
    const ties = assertSymbols(enc.y.symbols!, sy, fx.get(`${tag}.level${level}.y`), 'ŷ');
    // ẑ codes r = x − x̂_m: compare it only when ŷ, hence x̂_m, agreed everywhere
    if (ties === 0) assertSymbols(enc.z.symbols!, sz, fx.get(`${tag}.level${level}.z`), 'ẑ');
    // the decoder fed PyTorch's own symbols reproduces PyTorch's reconstructions
    const y = asLatent(sy);
    const z = asLatent(sz);
    const whole = { rows: { start: 0, end: y.h * 16 }, cols: { start: 0, end: y.w * 16 } };
    assertClose(mainReconstruction(y, w, level, whole), fx.get(`${tag}.level${level}.x_main`), 'x_main', 1e-4);
    assertClose(decodeRegion({ y, z }, w, level, whole), fx.get(`${tag}.level${level}.x_hat`), 'x_hat', 1e-4);
  });
}

test('fusion φ on PyTorch x̂_m and r̂', () => {
  const level = 4;
  const xm = asTensor(fx.get(`crop.level${level}.x_main`));
  const rh = asTensor(fx.get(`crop.level${level}.r_hat`));
  const phi = fusionCorrection(xm, rh, w);
  const ref = fx.get(`crop.level${level}.x_hat`);
  const expected = new Float32Array(ref.data.length);
  for (let i = 0; i < expected.length; i++) expected[i] = ref.data[i] - xm.data[i] - rh.data[i];
  assertClose(phi, { shape: ref.shape, data: expected }, 'phi', 1e-4);
});

test('quantize reproduces the fixture symbols from the fixture latents', () => {
  // y − μ stored by PyTorch: symbols are its rounding (ties to even)
  const q = 0;
  const yc = fx.get(`crop.level${q}.y`);
  const sy = fx.get(`crop.level${q}.sy`);
  const ones = new Float32Array(w.config.M).fill(1);
  const zeros = new Float32Array(w.config.M);
  const lat = quantize(asTensor(yc), ones, { medians: zeros });
  assert.is(mismatches(lat.symbols!, sy.data), 0);
});

test.run();
