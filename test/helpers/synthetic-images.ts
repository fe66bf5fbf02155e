/**
 * Reproducible test images: the same (width, height, seed) gives the same pixels on every machine, so files
 * encoded from them can be regenerated and compared byte for byte (test/golden/).
 */
import { PNG } from 'pngjs';
import type { RgbImage } from '../../src/io/pixels.js';
import { mulberry32, randomInt } from './prng.js';

/** Photograph-like enough to exercise the codec: smooth gradients, a hard-edged disc, and a little noise. */
export function syntheticImage(width: number, height: number, seed: number): RgbImage {
  const rng = mulberry32(seed);
  const data = new Uint8Array(width * height * 3);
  const cx = randomInt(rng, width);
  const cy = randomInt(rng, height);
  const radius = 1 + randomInt(rng, Math.max(1, Math.min(width, height) >> 1));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inDisc = (x - cx) ** 2 + (y - cy) ** 2 <= radius * radius;
      const base = [(255 * x) / width, (255 * y) / height, (255 * (x + y)) / (width + height)];
      for (let c = 0; c < 3; c++) {
        const value = (inDisc ? 255 - base[c] : base[c]) + randomInt(rng, 17) - 8;
        data[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(value)));
      }
    }
  }
  return { width, height, data };
}

/** An 8-bit grayscale PNG (colour type 0) of the luma of syntheticImage: a gray source file as cameras write. */
export function syntheticGrayPng(width: number, height: number, seed: number): Uint8Array {
  const rgb = syntheticImage(width, height, seed).data;
  const png = new PNG({ width, height });
  for (let p = 0; p < width * height; p++) {
    // BT.601 luma in integers, rounded
    const gray = (299 * rgb[3 * p] + 587 * rgb[3 * p + 1] + 114 * rgb[3 * p + 2] + 500) / 1000;
    png.data.fill(Math.floor(gray), 4 * p, 4 * p + 3);
    png.data[4 * p + 3] = 255;
  }
  return PNG.sync.write(png, { colorType: 0, inputColorType: 6, bitDepth: 8 });
}
