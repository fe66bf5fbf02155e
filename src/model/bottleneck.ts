/**
 * Paper step 4, entropy bottleneck with latent quantisation, at quality level q:
 *   symbols s = round(a ⊙ g_q − μ)   (a: attention output, g_q: gains, μ: the factorized prior's learned
 *                                     medians per channel, or the Gaussian conditional's predicted mean per element)
 *   decoder input ŷ / g_q = (s + μ) / g_q
 * Symbols are coded with the integer CDF tables of the weight file, in groups of CHANNELS_PER_GROUP channels: each
 * group its own stream (the factorized kind: streams decoded in parallel) or the groups chained in one stream.
 */
import { roundHalfEven, type CdfTables, type Latent, type Range, type Tensor } from '../core/types.js';
import type { RansDecoder, RansEncoder } from '../entropy/rans.js';
import { expectedBytes, putChannels, takeChannels } from '../entropy/symbol-coder.js';
import { tensor } from './tensor.js';

/** 32 channels a group: 4 groups for ŷ and 2 for ẑ at the default widths, each large enough to code well alone. */
export const CHANNELS_PER_GROUP = 32;

/**
 * Which elements of each channel plane a stream or a quantisation pass covers: all, or one colour of the
 * checkerboard (anchors: row + column even on the latent's own grid, i.e. in whole-image coordinates).
 */
export type LatentPart = 'all' | 'anchors' | 'others';

const partPositionsCache = new Map<string, Uint32Array>();

/** The increasing plane offsets of a part of an h × w plane (undefined: all of them); cached per shape. */
export function partPositions(h: number, w: number, part: LatentPart): Uint32Array | undefined {
  if (part === 'all') return undefined;
  const key = `${h}x${w}${part}`;
  let positions = partPositionsCache.get(key);
  if (!positions) {
    const parity = part === 'anchors' ? 0 : 1;
    positions = new Uint32Array(part === 'anchors' ? Math.ceil((h * w) / 2) : Math.floor((h * w) / 2));
    let n = 0;
    for (let row = 0; row < h; row++) {
      for (let col = (row + parity) & 1; col < w; col += 2) positions[n++] = row * w + col;
    }
    if (partPositionsCache.size > 16) partPositionsCache.clear(); // shapes of a few images, not a leak
    partPositionsCache.set(key, positions);
  }
  return positions;
}

/**
 * Centres μ of a latent's symbols: the factorized prior's medians (one per channel), or the Gaussian
 * conditional's means and table rows (one per element; see src/model/priors.ts), with the checkerboard kind's
 * c_z output for its second pass when small (Latent.context).
 */
export type Centers = { medians: Float32Array } | { means: Float32Array; indexes: Uint8Array; context?: Tensor };

/**
 * `symbols` may view a's buffer: each element is read before its slot is written. With a `part` or `channels`, only
 * those elements are quantised: the others keep a's values (as float32 bits, when `symbols` views a's buffer) for a
 * later step.
 */
export function quantize(a: Tensor, gains: Float32Array, centers: Centers,
  symbols: Int32Array = new Int32Array(a.c * a.h * a.w), part: LatentPart = 'all', channels: Range = { start: 0, end: a.c }): Latent {
  const planeSize = a.h * a.w;
  const means = 'means' in centers ? centers.means : undefined;
  const positions = partPositions(a.h, a.w, part);
  const count = positions ? positions.length : planeSize;
  for (let c = channels.start; c < channels.end; c++) {
    const g = gains[c];
    const mu = means ? 0 : (centers as { medians: Float32Array }).medians[c];
    const base = c * planeSize;
    // float32 after each op, as the trainer computes y = a·g and y − μ in float32
    for (let n = 0; n < count; n++) {
      const i = base + (positions ? positions[n] : n);
      symbols[i] = roundHalfEven(Math.fround(Math.fround(a.data[i] * g) - (means ? means[i] : mu)));
    }
  }
  return { c: a.c, h: a.h, w: a.w, symbols, ...(means && { means, indexes: (centers as { indexes: Uint8Array }).indexes }) };
}

/**
 * ŷ / g_q = (s + μ) / g_q, with μ the latent's means or else the channel medians; a settled latent holds
 * fround(s + μ) already (its `values`).
 */
export function dequantize(latent: Latent, gains: Float32Array, medians?: Float32Array): Tensor {
  const planeSize = latent.h * latent.w;
  const out = tensor(latent.c, latent.h, latent.w);
  const { symbols, means, values } = latent;
  // a channel is a function called once per channel: V8 optimizes it after a few, where this loop ran ≈ 10 ms
  // unoptimized in a cold process's first decode
  for (let c = 0; c < latent.c; c++) {
    if (values) divideChannel(out.data, values, c * planeSize, planeSize, gains[c]);
    else offsetChannel(out.data, symbols!, means, means ? 0 : medians![c], c * planeSize, planeSize, gains[c]);
  }
  return out;
}

/** out[i] = values[i] / g over a channel's plane. */
function divideChannel(out: Float32Array, values: Float32Array, base: number, planeSize: number, g: number): void {
  for (let i = base; i < base + planeSize; i++) out[i] = values[i] / g;
}

/** out[i] = fround(s[i] + μ) / g over a channel's plane, μ the element's mean or else the channel's median. */
function offsetChannel(out: Float32Array, symbols: Int16Array | Int32Array, means: Float32Array | undefined, median: number,
  base: number, planeSize: number, g: number): void {
  for (let i = base; i < base + planeSize; i++) out[i] = Math.fround(symbols[i] + (means ? means[i] : median)) / g;
}

/**
 * A decoder's Gaussian latent whose streams are all read: fround(s + μ), all that its readers need (dequantize), is
 * written over its means and becomes its `values`; its symbols and indexes are dropped. 3 of 7 bytes an element:
 * ≈ 108 MB of a 6000×4000 image's ŷ and ẑ. The same float32 sums as dequantize's, so the same pixels.
 */
export function settle(latent: Latent): void {
  const { symbols, means } = latent;
  if (!symbols || !means) throw new Error('bottleneck.ts: only a decoded Gaussian latent settles');
  for (let i = 0; i < means.length; i++) means[i] = Math.fround(symbols[i] + means[i]);
  latent.values = means;
  delete latent.symbols;
  delete latent.means;
  delete latent.indexes;
}

/** Level q's row of a [L, C] parameter. */
export function levelRow(values: Float32Array, level: number, channels: number): Float32Array {
  return values.subarray(level * channels, (level + 1) * channels);
}

/** Channel groups of `width` channels (the last may be narrower) over `channels`. */
export function channelGroups(channels: Range, width = CHANNELS_PER_GROUP): Range[] {
  const groups: Range[] = [];
  for (let c0 = channels.start; c0 < channels.end; c0 += width) groups.push({ start: c0, end: Math.min(channels.end, c0 + width) });
  return groups;
}

/**
 * Codes a latent's channel group (and part) into an open rANS coder: a stream holds one group, or a chain of them
 * (src/codec/codec.ts, fileChains). Table rows are the latent's indexes when it has them (Gaussian conditional), else
 * its channels.
 */
export function putLatentGroup(encoder: RansEncoder, latent: Latent, channels: Range, tables: CdfTables, part: LatentPart = 'all'): void {
  putChannels(encoder, latent.symbols!, latent.h * latent.w, channels.start, channels.end, tables, latent.indexes, partPositions(latent.h, latent.w, part));
}

/** A first guess at a group's bytes: sizes an encoder's buffer only. */
export function latentGroupBytes(latent: Latent, channels: Range, part: LatentPart = 'all'): number {
  return expectedBytes(latent.h * latent.w, channels.start, channels.end, partPositions(latent.h, latent.w, part));
}

/** Reads a channel group (and part) into the latent's symbols; false: a value does not fit them. */
export function takeLatentGroup(decoder: RansDecoder, channels: Range, latent: Latent, tables: CdfTables, part: LatentPart = 'all'): boolean {
  return takeChannels(decoder, latent.h * latent.w, channels.start, channels.end, tables, latent.symbols!, latent.indexes, partPositions(latent.h, latent.w, part));
}
