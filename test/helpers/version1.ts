/**
 * Version-1 files of the hyper kinds (each coding group its own stream, as every file was before chains): what the
 * encoder wrote then, made from the same latents, so tests can check they still decode, and to the same pixels.
 */
import { atLevel, encodeChain, fileChains } from '../../src/codec/codec.js';
import { writeContainer, WEIGHTS_ID_BYTES } from '../../src/format/container.js';
import type { Weights } from '../../src/format/weights.js';
import type { RgbImage } from '../../src/io/pixels.js';
import { encodeLatents } from '../../src/model/encoder.js';

export function version1File(img: RgbImage, w: Weights, level: number): Uint8Array {
  const at = atLevel(w, level); // encodeSync's steps
  const latents = encodeLatents(img, at.w, at.level);
  const streams = fileChains(at.w, 1).map((chain) => encodeChain(chain, latents, at.w, at.level));
  return writeContainer({ version: 1, level, flags: 0, width: img.width, height: img.height, weightsId: w.id.subarray(0, WEIGHTS_ID_BYTES), streams });
}
