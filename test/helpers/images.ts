/** Synthetic test images: seeded, so every run codes the same pixels. */
import type { RgbImage } from '../../src/io/pixels.js';
import { mulberry32 } from './prng.js';

/**
 * Smooth gradients plus noise: structure for the transforms, detail for the entropy coder. `data` may be
 * given (e.g. an array in shared memory) to fill it in place.
 */
export function syntheticImage(width: number, height: number, seed: number,
  data: Uint8Array = new Uint8Array(width * height * 3)): RgbImage {
  const rng = mulberry32(seed);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const smooth = 128 + 100 * Math.sin((x * (c + 1)) / 13 + y / 9);
        data[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(smooth + 40 * (rng() - 0.5))));
      }
    }
  }
  return { width, height, data };
}
