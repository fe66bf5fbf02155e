/**
 * Paper step 4, entropy bottleneck with latent quantisation, at quality level q:
 *   symbols s = round(a ⊙ g_q − μ_q)   (a: attention output, g_q: gains, μ_q: learned medians)
 *   decoder input ŷ / g_q = (s + μ_q) / g_q
 * Symbols are coded with the integer CDF tables of the weight file, in independent streams of
 * CHANNELS_PER_STREAM channels each so that streams can be decoded in parallel.
 */
import { roundHalfEven } from './preprocess.js';
import { decodeChannels, encodeChannels } from './symbol-coder.js';
import { tensor, type Tensor } from './tensor.js';
import type { LatentEntropy } from './weights.js';

/** 32 channels a stream: 4 streams for ŷ and 2 for ẑ at the default widths, each large enough to code well. */
export const CHANNELS_PER_STREAM = 32;

/**
 * Symbol arrays: the encoder quantises into int32; the decoder decodes into int16 (half the memory of a
 * large image's latents) unless a stream holds a value that int16 cannot, and then into int32.
 */
export type Symbols = Int16Array | Int32Array;

export interface Latent {
  c: number;
  h: number;
  w: number;
  symbols: Symbols;
}

export function streamCount(channels: number): number {
  return Math.ceil(channels / CHANNELS_PER_STREAM);
}

/** `symbols` may view a's buffer: each element is read before its slot is written. */
export function quantize(a: Tensor, gains: Float32Array, medians: Float32Array,
  symbols: Int32Array = new Int32Array(a.c * a.h * a.w)): Latent {
  const planeSize = a.h * a.w;
  for (let c = 0; c < a.c; c++) {
    const g = gains[c];
    const mu = medians[c];
    const base = c * planeSize;
    // float32 after each op, as the trainer computes y = a·g and y − μ in float32
    for (let p = 0; p < planeSize; p++) {
      symbols[base + p] = roundHalfEven(Math.fround(Math.fround(a.data[base + p] * g) - mu));
    }
  }
  return { c: a.c, h: a.h, w: a.w, symbols };
}

export function dequantize(latent: Latent, gains: Float32Array, medians: Float32Array): Tensor {
  const planeSize = latent.h * latent.w;
  const out = tensor(latent.c, latent.h, latent.w);
  for (let c = 0; c < latent.c; c++) {
    const g = gains[c];
    const mu = medians[c];
    const base = c * planeSize;
    for (let p = 0; p < planeSize; p++) out.data[base + p] = Math.fround(latent.symbols[base + p] + mu) / g;
  }
  return out;
}

/** Level q's row of a [L, C] parameter. */
export function levelRow(values: Float32Array, level: number, channels: number): Float32Array {
  return values.subarray(level * channels, (level + 1) * channels);
}

/** Channels [c0, c1) of a latent that stream `index` codes. */
function streamChannels(index: number, channels: number): { c0: number; c1: number } {
  const c0 = index * CHANNELS_PER_STREAM;
  return { c0, c1: Math.min(channels, c0 + CHANNELS_PER_STREAM) };
}

/** Stream `index` of a latent (its channel group only): streams are independent, so workers code them apart. */
export function encodeLatentStream(latent: Latent, index: number, entropy: LatentEntropy, level: number): Uint8Array {
  const { c0, c1 } = streamChannels(index, latent.c);
  return encodeChannels(latent.symbols, latent.h * latent.w, c0, c1, entropy.tables[level]);
}

/** Decodes stream `index` of a latent into `symbols` (its channel group only); false: a value does not fit them. */
export function decodeLatentStream(stream: Uint8Array, index: number, latent: Latent, entropy: LatentEntropy,
  level: number): boolean {
  const { c0, c1 } = streamChannels(index, latent.c);
  return decodeChannels(stream, latent.h * latent.w, c0, c1, entropy.tables[level], latent.symbols);
}
