/**
 * A check the kinds with ŷ in steps (ycontext, ychannel) share: the decoder's side rebuilds the encoder's ŷ means and
 * scale indexes from the symbols alone, whatever the bands and whether h_s's output is kept or computed again, and a
 * file decodes to the encoder's own x̂.
 */
import * as assert from 'uvu/assert';
import type { Latent } from '../../src/core/types.js';
import { decodeSync, decodeTile, decodeTiles, encodeSync } from '../../src/codec/codec.js';
import { encodeLatents } from '../../src/model/encoder.js';
import { laterPassCenters, mainCenters, withCenters } from '../../src/model/priors.js';
import type { Weights } from '../../src/format/weights.js';
import { syntheticImage } from './images.js';

/**
 * ŷ's centres as a decoder gets them from its symbols and ŵ: h_s's, then each later step's, in bands of `bandRows`,
 * with h_s's output kept between the steps or (`keepContext` false) computed again from ŵ.
 */
function decoderMainCenters(w: Weights, y: Latent, hyper: Latent, level: number, bandRows: number | undefined, keepContext: boolean): Latent {
  const again: Latent = { c: y.c, h: y.h, w: y.w, symbols: y.symbols };
  withCenters(again, mainCenters(hyper, w, level, y, bandRows, keepContext));
  assert.is(again.context !== undefined, keepContext, 'h_s\'s output is kept for the later steps (or not)');
  laterPassCenters({ y: again, hyper }, 'y', w, level, bandRows);
  assert.is(again.context, undefined, 'and dropped once used');
  return again;
}

export function checkMainCentersRebuilt(w: Weights): void {
  for (const [width, height, level] of [[37, 29, 0], [100, 70, 1], [1, 1, 1], [130, 20, 0], [24, 200, 1]] as const) {
    const img = syntheticImage(width, height, width + height);
    const latents = encodeLatents(img, w, level);
    for (const [bandRows, keep] of [[undefined, true], [1, true], [2, false], [3, true], [5, false], [undefined, false]] as const) {
      const again = decoderMainCenters(w, latents.y, latents.hyper!, level, bandRows, keep);
      const cut = `${width}×${height}, bands of ${bandRows ?? 'default'}, h_s ${keep ? 'kept' : 'again'}`;
      assert.equal(again.means, latents.y.means, `${cut}: ŷ means`);
      assert.equal(again.indexes, latents.y.indexes, `${cut}: ŷ indexes`);
    }
    const expected = { width, height, data: new Uint8Array(width * height * 3) };
    for (const region of decodeTiles(latents.y)) decodeTile(expected, latents, w, level, region);
    assert.equal(decodeSync(encodeSync(img, w, { level }), w).data, expected.data, `${width}×${height}: the file decodes to the encoder's own x̂`);
  }
}
