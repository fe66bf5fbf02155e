/**
 * The synchronous codec: image → .aara bytes → image. This is the truth; the worker pool only splits
 * the same work across threads and must give byte-identical results.
 */
import { decodeLatentStream, encodeLatent, streamCount, type Latent } from './bottleneck.js';
import { DEFAULT_LIMITS, readContainer, writeContainer, type Limits } from './container.js';
import { decodeLatents } from './decoder.js';
import { encodeLatents } from './encoder.js';
import { fail } from './errors.js';
import { paddedSize, toPaddedPlanes, toRgbBytes, TOTAL_STRIDE } from './preprocess.js';
import type { RgbImage } from './image-io.js';
import { hexBytes, type Weights } from './weights.js';

export const GRAYSCALE_FLAG = 1;

export interface EncodeOptions {
  /** quality level, 0 (smallest file) … levels−1 (best quality) */
  level: number;
  /** informative flag stored in the file */
  grayscale?: boolean;
}

export interface DecodeOptions {
  limits?: Limits;
}

export function checkLevel(level: number, w: Weights): void {
  if (!Number.isInteger(level) || level < 0 || level >= w.config.levels) {
    fail('BAD_LEVEL', `level ${level} (this model has levels 0…${w.config.levels - 1})`);
  }
}

function checkImage(img: RgbImage, limits: Limits): void {
  const { width, height } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    fail('BAD_DIMENSIONS', `${width}×${height}`);
  }
  if (width > limits.maxWidth || height > limits.maxHeight || width * height > limits.maxPixels) {
    fail('TOO_LARGE', `${width}×${height} (limits ${limits.maxWidth}×${limits.maxHeight}, ${limits.maxPixels} pixels)`);
  }
  if (img.data.length !== width * height * 3) fail('BAD_PIXELS', `expected ${width * height * 3} RGB bytes, got ${img.data.length}`);
}

export function encodeSync(img: RgbImage, w: Weights, opts: EncodeOptions): Uint8Array {
  checkLevel(opts.level, w);
  checkImage(img, DEFAULT_LIMITS);
  const x = toPaddedPlanes(img.data, img.width, img.height);
  const { y, z } = encodeLatents(x, w, opts.level);
  const streams = [...encodeLatent(y, w.entropyY, opts.level), ...encodeLatent(z, w.entropyZ, opts.level)];
  return writeContainer({
    level: opts.level,
    flags: opts.grayscale ? GRAYSCALE_FLAG : 0,
    width: img.width,
    height: img.height,
    weightsId: w.id.subarray(0, 8),
    streams,
  });
}

/** Latent shapes of a width × height image: ŷ at 1/16, ẑ at 1/8 of the padded size. */
export function latentShapes(width: number, height: number, w: Weights): { y: Latent; z: Latent } {
  const h = paddedSize(height);
  const wd = paddedSize(width);
  const latent = (c: number, s: number): Latent => ({ c, h: h / s, w: wd / s, symbols: new Int32Array(c * (h / s) * (wd / s)) });
  return { y: latent(w.config.M, TOTAL_STRIDE), z: latent(w.config.Mr, TOTAL_STRIDE / 2) };
}

export function decodeSync(bytes: Uint8Array, w: Weights, opts: DecodeOptions = {}): RgbImage {
  const file = readContainer(bytes, opts.limits ?? DEFAULT_LIMITS);
  for (let i = 0; i < 8; i++) {
    if (file.weightsId[i] !== w.id[i]) {
      fail('WEIGHTS_MISMATCH', `file needs weights ${hexBytes(file.weightsId)}, loaded ${w.idHex.slice(0, 16)}`);
    }
  }
  checkLevel(file.level, w);
  const expected = streamCount(w.config.M) + streamCount(w.config.Mr);
  if (file.streams.length !== expected) fail('CORRUPT', `${file.streams.length} streams, this model writes ${expected}`);
  const { y, z } = latentShapes(file.width, file.height, w);
  const yStreams = streamCount(w.config.M);
  file.streams.forEach((s, i) => {
    if (i < yStreams) decodeLatentStream(s, i, y, w.entropyY, file.level);
    else decodeLatentStream(s, i - yStreams, z, w.entropyZ, file.level);
  });
  const xHat = decodeLatents(y, z, w, file.level);
  return { width: file.width, height: file.height, data: toRgbBytes(xHat, file.width, file.height) };
}
