/**
 * Engine ↔ PyTorch parity of the hyper, checkerboard, spacechannel, ycontext and ychannel kinds, on fixtures train/export.py writes next to their
 * weights (test/fixtures/<kind>/; the weight file is the one of weights/ whose ID the fixtures name). The transforms
 * are the factorized kind's and parity.test.ts checks them layer by layer; this file checks what the kinds add.
 * Tolerances: the priors' means within 1e-4·(1 + max|ref|); symbols of ŵ, ŷ, ẑ equal except at rounding ties
 * (PyTorch's unrounded value within 1e-3 of k + ½), which are counted and listed; scale indexes equal except where
 * PyTorch's σ lies within 1e-4 (relative) of a table scale; x̂_m and x̂ within 1e-4 absolute.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Latent } from '../src/core/types.js';
import { decodeRegion, mainReconstruction } from '../src/model/decoder.js';
import { encodeLatents } from '../src/model/encoder.js';
import { laterPassCenters, mainCenters, residualCenters, scaleIndex, withCenters } from '../src/model/priors.js';
import type { ModelKind, Weights } from '../src/format/weights.js';
import { assertCloseValues, assertSymbols, ParityFixtures, repoPath, weightsOfFixtures, type Fixture } from './helpers/fixtures.js';

const latentOf = (f: Fixture): Latent => ({ c: f.shape[0], h: f.shape[1], w: f.shape[2], symbols: Int32Array.from(f.data) });

/** Interleaved RGB bytes from the CHW uint8 fixture. */
function pixels(fx: ParityFixtures, name: string): { rgb: Uint8Array; width: number; height: number } {
  const f = fx.get(name);
  const [, height, width] = f.shape;
  const rgb = new Uint8Array(width * height * 3);
  for (let c = 0; c < 3; c++) for (let p = 0; p < width * height; p++) rgb[p * 3 + c] = f.data[c * width * height + p];
  return { rgb, width, height };
}

/** Scale indexes against PyTorch's σ: equal unless σ sits on a table boundary. */
function assertIndexes(w: Weights, indexes: Uint8Array, sigma: Fixture, what: string): void {
  const scales = w.hyper!.gaussian.scales;
  for (let i = 0; i < indexes.length; i++) {
    const expected = scaleIndex(sigma.data[i], scales);
    if (indexes[i] === expected) continue;
    const boundary = scales[Math.min(indexes[i], expected)];
    assert.ok(Math.abs(sigma.data[i] - boundary) <= 1e-4 * boundary, `${what}[${i}]: index ${indexes[i]} ≠ ${expected} (σ ${sigma.data[i]})`);
  }
}

for (const kind of ['hyper', 'checkerboard', 'spacechannel', 'ycontext', 'ychannel'] satisfies ModelKind[]) {
  const fx = new ParityFixtures(repoPath(`test/fixtures/${kind}`));
  const w = weightsOfFixtures(fx);

  test(`the ${kind} fixtures belong to a ${kind}-kind weight file of weights/`, () => {
    assert.is(w.config.kind, kind);
  });

  const cases: Array<[string, number]> = [];
  for (const tag of ['crop', 'odd']) {
    for (let level = 0; level < w.config.levels; level++) if (fx.has(`${tag}.level${level}.sy`)) cases.push([tag, level]);
  }

  for (const [tag, level] of cases) {
    const key = (name: string) => fx.get(`${tag}.level${level}.${name}`);
    test(`${kind}: ${tag} at level ${level}: ŵ, ŷ, ẑ symbols and the priors match PyTorch; x̂_m and x̂ within 1e-4`, () => {
      const { rgb, width, height } = pixels(fx, `${tag}.pixels`);
      const enc = encodeLatents({ width, height, data: rgb }, w, level);
      const ties = assertSymbols(enc.hyper!.symbols!, key('sw'), key('w'), 'ŵ');
      // ŷ's symbols depend on ŵ through μ, ẑ's on ŷ: compare them only when what they depend on agreed everywhere
      if (ties === 0 && assertSymbols(enc.y.symbols!, key('sy'), key('y'), 'ŷ') === 0) assertSymbols(enc.z.symbols!, key('sz'), key('z'), 'ẑ');

      // the decoder's side, fed PyTorch's symbols: the priors it computes are PyTorch's
      const hyper = latentOf(key('sw'));
      const y = latentOf(key('sy'));
      withCenters(y, mainCenters(hyper, w, level, y));
      laterPassCenters({ y }, 'y', w, level); // from PyTorch's anchors, as a decoder has them (ycontext kind)
      assertCloseValues(y.means!, key('mu_y'), 'μ_y');
      assertIndexes(w, y.indexes!, key('sigma_y'), 'ŷ scale index');
      const z = latentOf(key('sz'));
      withCenters(z, residualCenters(y, w, level));
      laterPassCenters({ y, z }, 'z', w, level); // from PyTorch's anchors, as a decoder has them (checkerboard kinds)
      assertCloseValues(z.means!, key('mu_z'), 'μ_z');
      assertIndexes(w, z.indexes!, key('sigma_z'), 'ẑ scale index');
      const whole = { rows: { start: 0, end: y.h * 16 }, cols: { start: 0, end: y.w * 16 } };
      assertCloseValues(mainReconstruction(y, w, level, whole).data, key('x_main'), 'x_main', 1e-4);
      assertCloseValues(decodeRegion({ y, z }, w, level, whole).data, key('x_hat'), 'x_hat', 1e-4);
    });
  }
}

test.run();
