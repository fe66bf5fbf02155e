/**
 * Codes the integer latent symbols of one image with per-channel integer CDF tables, like CompressAI's
 * EntropyBottleneck (its rans_interface.cpp), as one rANS stream per group of channels.
 *
 * Value v of channel c has the index i = v + offset[c]:
 *  - 0 ≤ i < length[c]: the regular symbol i, slots [cdf[i], cdf[i + 1]) of its channel row;
 *  - otherwise the ESCAPE symbol (index length[c]), then in bypass (4-bit uniform chunks):
 *      u = 2·(−i) − 1 if i < 0, u = 2·(i − length[c]) if i ≥ length[c]   (u < 2^32, interleaves both sides)
 *      n = the number of 4-bit groups of u, 1 … 8, as one chunk (CompressAI writes the count in unary-ish
 *          chunks where 15 means "more"; n ≤ 8 < 15 so one chunk always suffices, and CompressAI's n = 0
 *          for u = 0 is written as n = 1: every value has exactly one code)
 *      the n groups of u, least significant first.
 *    A u ≥ 2^32 would need a 33rd bit: the encoder refuses it (INTERNAL: symbols outside the coder's contract).
 *    Only int32 values within |offset| ≤ 2^24 of ±2^31 can get there — no latent of sane weights comes close.
 * Symbols are decoded channel by channel (c0 … c1 − 1), in raster order inside a channel plane.
 *
 * Table rows: row c for channel c (factorized priors), or, given `indexes` (CompressAI's encode_with_indexes),
 * row indexes[i] for element i (the Gaussian conditional: one row per scale of its scale table).
 * Given `positions` (increasing offsets inside a plane), a stream codes only those elements of each plane, in that
 * order: the checkerboard kind codes a latent's anchors and its other elements in separate groups.
 * encodeChannels / decodeChannels code one group as a whole stream; putChannels / takeChannels code a group into an
 * open coder, so that several groups share one stream (a chain: one final state, one length, for all of them).
 */
import { fail } from '../core/errors.js';
import type { CdfTables, Symbols } from '../core/types.js';
import { checkRow, checkTableSizes } from './cdf-tables.js';
import { RansDecoder, RansEncoder } from './rans.js';

/** Bits per bypass chunk: CompressAI's bypass precision. */
const GROUP_BITS = 4;
/** 8 groups of 4 bits hold any u < 2^32: every index within ±2^31 of its table. */
const MAX_GROUPS = 8;
const MAX_ESCAPED = 2 ** (GROUP_BITS * MAX_GROUPS) - 1;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
/** Latents usually cost well under 2 bits per symbol; this only sizes the encoder's first buffer. */
const EXPECTED_BYTES_PER_SYMBOL = 0.25;

/** Code channels c0 … c1 − 1 of `symbols` ([C, planeSize], channel-major) as one rANS stream. */
export function encodeChannels(
  symbols: Symbols,
  planeSize: number,
  c0: number,
  c1: number,
  tables: CdfTables,
  indexes?: Uint8Array,
  positions?: Uint32Array,
): Uint8Array {
  const encoder = new RansEncoder(expectedBytes(planeSize, c0, c1, positions));
  putChannels(encoder, symbols, planeSize, c0, c1, tables, indexes, positions);
  return encoder.finish();
}

/** A first guess at the bytes of coding channels c0 … c1 − 1 (sizes the encoder's buffer only). */
export function expectedBytes(planeSize: number, c0: number, c1: number, positions?: Uint32Array): number {
  return (c1 - c0) * (positions ? positions.length : planeSize) * EXPECTED_BYTES_PER_SYMBOL;
}

/**
 * Push channels c0 … c1 − 1 of `symbols` into `encoder`, last symbol first: a stream that codes several groups
 * one after another (a chain) pushes the LAST group first, then finishes once.
 */
export function putChannels(
  encoder: RansEncoder,
  symbols: Symbols,
  planeSize: number,
  c0: number,
  c1: number,
  tables: CdfTables,
  indexes?: Uint8Array,
  positions?: Uint32Array,
): void {
  checkArguments(symbols, planeSize, c0, c1, tables, indexes, positions);
  const { cdf, stride, length, offset } = tables;
  const count = positions ? positions.length : planeSize;
  // rANS is LIFO: walk the symbols backwards so the decoder reads them forwards
  for (let c = c1 - 1; c >= c0; c--) {
    const plane = c * planeSize;
    for (let n = count - 1; n >= 0; n--) {
      const i = positions ? positions[n] : n;
      const r = indexes ? indexes[plane + i] : c;
      const row = r * stride;
      const escape = length[r];
      let index = symbols[plane + i] + offset[r];
      if (index < 0 || index >= escape) {
        putEscapedIndex(encoder, index, escape); // the payload comes after the ESCAPE symbol: push it first
        index = escape;
      }
      encoder.put(cdf[row + index], cdf[row + index + 1] - cdf[row + index]);
    }
  }
}

/**
 * Decode a stream of `encodeChannels` into channels c0 … c1 − 1 of `out`; hostile bytes ⇒ CORRUPT.
 * Returns false, leaving `out` part-written, when a value does not fit `out` (int16 for a file that needs int32).
 */
export function decodeChannels(
  bytes: Uint8Array,
  planeSize: number,
  c0: number,
  c1: number,
  tables: CdfTables,
  out: Symbols,
  indexes?: Uint8Array,
  positions?: Uint32Array,
): boolean {
  const decoder = new RansDecoder(bytes);
  if (!takeChannels(decoder, planeSize, c0, c1, tables, out, indexes, positions)) return false;
  decoder.finish();
  return true;
}

/**
 * Read channels c0 … c1 − 1 from `decoder`, which stays open: the caller finishes it after the chain's last group.
 * Returns false, as decodeChannels does, when a value does not fit `out`.
 */
export function takeChannels(
  decoder: RansDecoder,
  planeSize: number,
  c0: number,
  c1: number,
  tables: CdfTables,
  out: Symbols,
  indexes?: Uint8Array,
  positions?: Uint32Array,
): boolean {
  checkArguments(out, planeSize, c0, c1, tables, indexes, positions);
  // a channel is a function: V8 compiles it once, where this loop was compiled on-stack and again (a cold decode)
  for (let c = c0; c < c1; c++) if (!takeChannel(decoder, c, c * planeSize, planeSize, tables, out, indexes, positions)) return false;
  return true;
}

/** takeChannels' channel c, whose plane starts at out[plane]. */
function takeChannel(decoder: RansDecoder, c: number, plane: number, planeSize: number, tables: CdfTables, out: Symbols,
  indexes?: Uint8Array, positions?: Uint32Array): boolean {
  const { cdf, stride, length, offset } = tables;
  const count = positions ? positions.length : planeSize;
  for (let n = 0; n < count; n++) {
    const i = positions ? positions[n] : n;
    const r = indexes ? indexes[plane + i] : c;
    const row = r * stride;
    const escape = length[r];
    const zeroIndex = offset[r];
    // the symbol s owning the slot: the last s with cdf[s] ≤ slot (cdf[0] = 0 ≤ slot < cdf[escape + 1])
    const slot = decoder.peek();
    let index = 0;
    let above = escape + 1;
    while (above - index > 1) {
      const middle = (index + above) >>> 1;
      if (cdf[row + middle] <= slot) index = middle;
      else above = middle;
    }
    decoder.advance(cdf[row + index], cdf[row + index + 1] - cdf[row + index]);
    const value = index < escape ? index - zeroIndex : getEscapedValue(decoder, escape, zeroIndex);
    out[plane + i] = value;
    if (out[plane + i] !== value) return false; // an Int16Array too narrow for this file: the caller widens
  }
  return true;
}

/** Push the bypass payload of an out-of-table index, in reverse of the order `getEscapedValue` reads it. */
function putEscapedIndex(encoder: RansEncoder, index: number, escape: number): void {
  const u = index < 0 ? -2 * index - 1 : 2 * (index - escape);
  // only reachable with int32 values within MAX_OFFSET of ±2^31, which no sane weights produce
  if (u > MAX_ESCAPED) fail('INTERNAL', `latent index ${index} needs more than 32 escape bits`);
  let groups = 1;
  while (groups < MAX_GROUPS && u >>> (GROUP_BITS * groups) !== 0) groups++; // guard first: >>> 32 is >>> 0
  for (let g = groups - 1; g >= 0; g--) encoder.putBits((u >>> (GROUP_BITS * g)) & 0xf, GROUP_BITS);
  encoder.putBits(groups, GROUP_BITS);
}

/** Read the bypass payload after an ESCAPE symbol and return its value, which must fit an int32. */
function getEscapedValue(decoder: RansDecoder, escape: number, offset: number): number {
  const groups = decoder.getBits(GROUP_BITS);
  if (groups < 1 || groups > MAX_GROUPS) fail('CORRUPT', `escape with ${groups} groups`);
  let u = 0;
  let group = 0;
  for (let g = 0; g < groups; g++) {
    group = decoder.getBits(GROUP_BITS);
    u += group * 2 ** (GROUP_BITS * g); // u reaches 2^32: multiplication, not <<
  }
  if (groups > 1 && group === 0) fail('CORRUPT', 'escape with a leading zero group'); // not what we write
  const value = (u % 2 === 1 ? -(u + 1) / 2 : escape + u / 2) - offset;
  if (value < INT32_MIN || value > INT32_MAX) fail('CORRUPT', `escaped value ${value} overflows int32`);
  return value;
}

/**
 * Shapes from the caller and the O(1)-per-row facts of the tables (src/entropy/cdf-tables.ts; the weight reader checks the rest). With
 * `indexes`, the channel count is the symbols' (planes of planeSize) and every index must name a row.
 */
function checkArguments(data: Symbols, planeSize: number, c0: number, c1: number, t: CdfTables, indexes?: Uint8Array,
  positions?: Uint32Array): void {
  const channels = indexes ? (planeSize > 0 ? data.length / planeSize : c1) : t.channels;
  if (!(Number.isInteger(c0) && Number.isInteger(c1) && 0 <= c0 && c0 <= c1 && c1 <= channels)) {
    fail('INTERNAL', `channels ${c0}…${c1} of ${channels}`);
  }
  if (!(Number.isInteger(planeSize) && planeSize >= 0 && data.length === channels * planeSize)) {
    fail('INTERNAL', `${data.length} symbols for ${channels} planes of ${planeSize}`);
  }
  checkTableSizes(t, 'CDF');
  if (positions) {
    for (let n = 0; n < positions.length; n++) {
      if (!(positions[n] < planeSize && (n === 0 || positions[n] > positions[n - 1]))) {
        fail('INTERNAL', `positions must increase inside a plane of ${planeSize}`);
      }
    }
  }
  if (indexes) {
    if (indexes.length !== data.length) fail('INTERNAL', `${indexes.length} table indexes for ${data.length} symbols`);
    for (let i = c0 * planeSize; i < c1 * planeSize; i++) {
      if (indexes[i] >= t.channels) fail('INTERNAL', `table index ${indexes[i]} of ${t.channels} rows`);
    }
    return; // every row was checked when the weights were read
  }
  for (let c = c0; c < c1; c++) checkRow(t, c, 'CDF');
}
