/**
 * The weight-file reader. It walks weights/aara.bin with one cursor in the order of train/export.py's
 * `tensors()`; this walk *is* the format (weights/FORMAT.md is its table). Tensors are zero-copy views.
 * The payload's SHA-256 must match the weights ID in the header: a flipped bit is BAD_WEIGHTS, not garbage.
 */
import { fail } from '../core/errors.js';
import { validateTables } from '../entropy/cdf-tables.js';
import { PROB_BITS, PROB_SCALE } from '../entropy/rans.js';
import { sha256 } from './sha256.js';
import type { CdfTables } from '../core/types.js';

export const WEIGHTS_MAGIC = 'AARAWGT\0';
/**
 * Version 1: the factorized kind (the layout before model kinds existed). Version 2: a model-kind field. Version 3:
 * as 2, with Gaussian tables fitted per latent and level (gaussian.rows, gaussian.map; train/fit_tables.py).
 */
export const WEIGHTS_VERSION = 1;
export const WEIGHTS_VERSION_KINDS = 2;
export const WEIGHTS_VERSION_FITTED = 3;
/** Model kinds by their header id (train/export.py KIND_IDS). */
const KIND_IDS: Record<number, ModelKind> = { 1: 'factorized', 2: 'hyper', 3: 'checkerboard', 4: 'spacechannel', 5: 'ycontext', 6: 'ychannel' };
/** Gaussian conditional tables: more scales than 255 would not fit the Uint8Array of scale indexes. */
const MAX_SCALES = 255;
const HEADER_BYTES = 64;
const MAX_WIDTH = 1024; // sanity bound on channel counts read from a (possibly hostile) header
const MAX_LEVELS = 64;
/** CBAM's channel MLP narrows C channels to C / 16 (at least 1). */
const ATTENTION_REDUCTION = 16;
/** Bound on a CDF row stride read from the file (the exporter clips tables at 4096 symbols). */
const MAX_TABLE_STRIDE = 1 << 16;
/** Bound on gaussian.rows: a row per latent, level and scale at most (2 · MAX_LEVELS · MAX_SCALES). */
const MAX_FITTED_ROWS = 2 * MAX_LEVELS * MAX_SCALES;

export interface Conv {
  weight: Float32Array;
  bias: Float32Array;
  inC: number;
  outC: number;
  k: number;
}
export interface Gdn {
  beta: Float32Array;
  gamma: Float32Array;
  channels: number;
}
/** conv5×5/2 (or tconv5×5/2) layers with a (I)GDN between consecutive ones. */
export interface Transform {
  convs: Conv[];
  gdns: Gdn[];
}
export interface AttentionWeights {
  fc1: Conv;
  fc2: Conv;
  spatial: Conv;
}
export interface LatentEntropy {
  median: Float32Array; // [L, C]
  tables: CdfTables[]; // per level
}
/**
 * factorized: the paper's model, per-channel factorized priors for ŷ and ẑ.
 * hyper: Gaussian conditionals for ŷ (mean-scale hyperprior, hyper-latent ŵ) and ẑ (from g_m's 1/8 features).
 * checkerboard: the hyper kind, and ẑ's non-anchor elements also conditioned on their decoded anchor neighbours.
 * spacechannel: the checkerboard kind, and in each of its passes ẑ's second channel half conditioned on the first.
 * ycontext: the spacechannel kind, and ŷ's non-anchor elements conditioned on its decoded anchors too.
 * ychannel: the ycontext kind, and in each of ŷ's passes its second channel half conditioned on the first.
 */
export type ModelKind = 'factorized' | 'hyper' | 'checkerboard' | 'spacechannel' | 'ycontext' | 'ychannel';
/** The kinds with ẑ's checkerboard (s_z, e_z), those with its channel context (k_a, k_o) too, and those with ŷ's checkerboard (s_y, e_y). */
const SPATIAL_KINDS: readonly ModelKind[] = ['checkerboard', 'spacechannel', 'ycontext', 'ychannel'];
const CHANNEL_KINDS: readonly ModelKind[] = ['spacechannel', 'ycontext', 'ychannel'];
const MAIN_SPATIAL_KINDS: readonly ModelKind[] = ['ycontext', 'ychannel'];
export interface ModelConfig {
  kind: ModelKind;
  N: number;
  M: number;
  Nr: number;
  Mr: number;
  levels: number;
  /** width of the hyper and context networks and channels of ŵ (hyper kind; 0 otherwise) */
  Nh: number;
}
/**
 * The Gaussian conditional's tables: a latent element whose scale σ ≤ scales[j] (first such j) is coded with row j of
 * its latent's set at the file's level (gaussianSet). Version 2 files have one set for every latent and level;
 * version 3 files a set per latent and level, built on first use from the distinct rows the file stores.
 */
export interface GaussianTables {
  scales: Float32Array;
  /** set of latent l (ŷ 0, ẑ 1) at level q: sets[l · L + q], once built (version 2: all the same set, at load) */
  sets: (CdfTables | undefined)[];
  /** version 3: the distinct rows (row r: length[r] + 2 entries of cdf from rowStart[r]), map [2, L, S] → row */
  fitted?: { stride: number; cdf: Int32Array; rowStart: Int32Array; length: Int32Array; offset: Int32Array; map: Int32Array };
}

/** The latents coded with the Gaussian conditional, in gaussian.map's order. */
const GAUSSIAN_LATENTS = ['y', 'z'] as const;

/** The rows ŷ or ẑ is coded with at whole level `level`: S rows, row j for scale index j. */
export function gaussianSet(g: GaussianTables, latent: 'y' | 'z', level: number): CdfTables {
  const levels = g.sets.length / GAUSSIAN_LATENTS.length;
  if (!(Number.isInteger(level) && level >= 0 && level < levels)) return fail('INTERNAL', `no Gaussian tables for ${latent} at level ${level}`);
  const at = GAUSSIAN_LATENTS.indexOf(latent) * levels + level;
  const built = g.sets[at];
  if (built) return built;
  const f = g.fitted!;
  const count = g.scales.length;
  const set: CdfTables = {
    channels: count, stride: f.stride, cdf: new Int32Array(count * f.stride).fill(PROB_SCALE),
    length: new Int32Array(count), offset: new Int32Array(count),
  };
  for (let j = 0; j < count; j++) {
    const row = f.map[at * count + j];
    set.cdf.set(f.cdf.subarray(f.rowStart[row], f.rowStart[row] + f.length[row] + 2), j * f.stride);
    set.length[j] = f.length[row];
    set.offset[j] = f.offset[row];
  }
  return (g.sets[at] = set);
}
/** What the hyper kind adds: see train/model.py's diagram. */
export interface HyperWeights {
  gainW: Float32Array; // [L, Nh]
  /** h_a: conv3/1 M→Nh · ReLU · conv5/2 · ReLU · conv5/2 */
  analysis: Conv[];
  /** h_s: tconv5/2 · ReLU · tconv5/2 · ReLU · conv3/1 Nh→2M (μ, σ of ŷ / g_q) */
  synthesis: Conv[];
  /** c_z: conv3/1 N→Nh · ReLU · conv3/1 Nh→2Mr (μ, σ of ẑ / h_q) */
  resContext: Conv[];
  /** checkerboard kind: s_z conv5/1 Mr→Nh over ẑ's anchors / h_q, and e_z conv1 (2Mr+Nh)→2Nh · ReLU · conv1 2Nh→2Mr */
  resSpatial?: { spatial: Conv; params: Conv[] };
  /**
   * spacechannel kind: k_a (anchors) and k_o (others), each conv3/1 (Mr/2 + Mr)→Nh · ReLU · conv1 Nh→Mr over
   * [ẑ / h_q of the first Mr/2 channels at the pass's elements, μ', σ' of the other Mr/2]: Δμ', Δσ' of those
   */
  resChannel?: { anchors: Conv[]; others: Conv[] };
  /** ycontext kind: s_y conv5/1 M→Nh over ŷ's anchors / g_q, and e_y conv1 (2M+Nh)→2Nh · ReLU · conv1 2Nh→2M */
  mainSpatial?: { spatial: Conv; params: Conv[] };
  /** ychannel kind: ŷ's k_a, k_o, as resChannel's over M channels */
  mainChannel?: { anchors: Conv[]; others: Conv[] };
  entropyW: LatentEntropy;
  gaussian: GaussianTables;
}
export interface Weights {
  config: ModelConfig;
  /** 16 bytes: SHA-256 of the payload, truncated; bitstreams carry its first 8 bytes. */
  id: Uint8Array;
  idHex: string;
  byteLength: number;
  mainEncoder: Transform;
  mainAttention: AttentionWeights;
  mainDecoder: Transform;
  resEncoder: Transform;
  resAttention: AttentionWeights;
  resDecoder: Transform;
  fusion: { conv1: Conv; conv2: Conv };
  gainY: Float32Array; // [L, M]
  gainZ: Float32Array; // [L, Mr]
  /** factorized kind: the per-channel tables of ŷ and ẑ */
  entropyY?: LatentEntropy;
  entropyZ?: LatentEntropy;
  /** hyper kind */
  hyper?: HyperWeights;
}

class Cursor {
  offset = HEADER_BYTES;
  constructor(private readonly bytes: Uint8Array) {}

  private take(count: number, name: string): number {
    const start = this.offset;
    if (!Number.isSafeInteger(count) || count < 0 || start + count * 4 > this.bytes.length) {
      fail('BAD_WEIGHTS', `file ends inside tensor ${name}`);
    }
    this.offset += count * 4;
    return this.bytes.byteOffset + start;
  }
  f32(count: number, name: string): Float32Array {
    return new Float32Array(this.bytes.buffer, this.take(count, name), count);
  }
  i32(count: number, name: string): Int32Array {
    return new Int32Array(this.bytes.buffer, this.take(count, name), count);
  }
  /** IEEE half floats (2 bytes each, the tensor padded to 4), widened exactly to float32: a copy, not a view. */
  f16(count: number, name: string): Float32Array {
    return widenHalves(new Uint16Array(this.bytes.buffer, this.take(Math.ceil(count / 2), name), count));
  }
  /** A stored table size: bounded so that the tensor it sizes is checked against the file's end, not allocated. */
  size(name: string, max: number): number {
    const v = this.i32(1, name)[0];
    if (v < 1 || v > max) fail('BAD_WEIGHTS', `${name} = ${v} out of range`);
    return v;
  }
}

/** HALF_UNITS[e] = 2^(e − 25): the value of one fraction unit of a half with exponent field e (1 … 30; 0: subnormal, as e = 1). */
const HALF_UNITS = (() => {
  const units = new Float64Array(31);
  units[0] = 1 / 16777216; // 2^−24, exact (powers of two only: no Math.pow, whose results engines may round apart)
  units[1] = units[0];
  for (let e = 2; e < 31; e++) units[e] = units[e - 1] * 2;
  return units;
})();

/**
 * `halfToFloat` of every half, by moving the bit fields where a half is normal or ±0 (float32's exponent bias is 127,
 * a half's 15: +112), through halfToFloat otherwise. Integer work only: a cold process runs it before the JIT has
 * optimized it, and there every double a loop makes is a heap allocation (halfToFloat in the loop took ≈ 45 ms of the
 * shipped file's load, this ≈ 5).
 */
export function widenHalves(halves: Uint16Array): Float32Array {
  const floats = new Float32Array(halves.length);
  const bits = new Uint32Array(floats.buffer);
  for (let i = 0; i < halves.length; i++) {
    const h = halves[i], exponent = h & 0x7c00;
    if (exponent === 0x7c00 || (exponent === 0 && (h & 0x3ff) !== 0)) floats[i] = halfToFloat(h);
    else bits[i] = ((h & 0x8000) << 16) | (exponent === 0 ? 0 : ((h & 0x7fff) + 0x1c000) << 13);
  }
  return floats;
}

/** An IEEE 754 half's value, exact in float32: sign, 5 exponent bits (bias 15), 10 fraction bits. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (exponent === 0 ? fraction : 1024 + fraction) * HALF_UNITS[exponent];
}

function conv(c: Cursor, name: string, inC: number, outC: number, k: number, transposed = false, half = false): Conv {
  // Conv2d weights are [outC, inC, k, k]; ConvTranspose2d weights [inC, outC, k, k]: same element count
  const weightName = `${name}.weight${transposed ? ' (transposed)' : ''}`;
  const weight = half ? c.f16(inC * outC * k * k, weightName) : c.f32(inC * outC * k * k, weightName);
  return { weight, bias: c.f32(outC, `${name}.bias`), inC, outC, k };
}

function gdn(c: Cursor, name: string, channels: number): Gdn {
  return { beta: c.f32(channels, `${name}.beta`), gamma: c.f32(channels * channels, `${name}.gamma`), channels };
}

/** widths [3, w1, ..., latent] (analysis) or [latent, ..., 3] (synthesis): conv, GDN, conv, GDN, ..., conv */
function transform(c: Cursor, name: string, widths: number[], transposed: boolean): Transform {
  const convs: Conv[] = [];
  const gdns: Gdn[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    convs.push(conv(c, `${name}.${2 * i}`, widths[i], widths[i + 1], 5, transposed));
    if (i + 2 < widths.length) gdns.push(gdn(c, `${name}.${2 * i + 1}`, widths[i + 1]));
  }
  return { convs, gdns };
}

function attention(c: Cursor, name: string, channels: number): AttentionWeights {
  const hidden = Math.max(1, Math.floor(channels / ATTENTION_REDUCTION));
  return {
    fc1: conv(c, `${name}.fc1`, channels, hidden, 1),
    fc2: conv(c, `${name}.fc2`, hidden, channels, 1),
    spatial: conv(c, `${name}.spatial`, 2, 1, 7),
  };
}

/**
 * CDF rows stored back to back, row j its length[j] + 2 entries, padded here to `stride` (with 2^16, as the
 * exporter pads a full table): the compact layout of the kinds from checkerboard on (the padding was 700 KB of the
 * hyper kind's Gaussian tables; ycontext: 370 KB of ŵ's too).
 */
function compactRows(c: Cursor, name: string, length: Int32Array, stride: number): Int32Array {
  const { rows, rowStart } = backToBackRows(c, name, length, stride);
  const cdf = new Int32Array(length.length * stride).fill(PROB_SCALE);
  for (let j = 0; j < length.length; j++) cdf.set(rows.subarray(rowStart[j], rowStart[j] + length[j] + 2), j * stride);
  return cdf;
}

/** CDF rows stored back to back, row j its length[j] + 2 entries (each checked to fit `stride`), and where each starts. */
function backToBackRows(c: Cursor, name: string, length: Int32Array, stride: number): { rows: Int32Array; rowStart: Int32Array } {
  const rowStart = new Int32Array(length.length);
  let total = 0;
  for (let j = 0; j < length.length; j++) {
    if (!(length[j] >= 1 && length[j] + 2 <= stride)) fail('BAD_WEIGHTS', `${name} row ${j}: table length ${length[j]}`);
    rowStart[j] = total;
    total += length[j] + 2;
  }
  return { rows: c.i32(total, name), rowStart };
}

/** A factorized density's tables per level; `compact`: its CDF rows as compactRows reads them. */
function entropy(c: Cursor, name: string, levels: number, channels: number, stride: number, compact = false): LatentEntropy {
  const median = c.f32(levels * channels, `${name}.median`);
  const offset = c.i32(levels * channels, `${name}.offset`);
  const length = c.i32(levels * channels, `${name}.length`);
  const cdf = compact ? compactRows(c, `${name}.cdf`, length, stride) : c.i32(levels * channels * stride, `${name}.cdf`);
  const tables: CdfTables[] = [];
  for (let q = 0; q < levels; q++) {
    const table: CdfTables = {
      channels,
      stride,
      cdf: cdf.subarray(q * channels * stride, (q + 1) * channels * stride),
      length: length.subarray(q * channels, (q + 1) * channels),
      offset: offset.subarray(q * channels, (q + 1) * channels),
    };
    validateTables(table, `${name} level ${q}`);
    tables.push(table);
  }
  for (const m of median) if (!Number.isFinite(m)) fail('BAD_WEIGHTS', `${name}.median is not finite`);
  return { median, tables };
}

/**
 * The Gaussian conditional's tables; `compact` (the kinds from checkerboard on): its CDF rows as compactRows reads them;
 * `fitted` (version 3, compact kinds): R distinct rows (gaussian.rows) and the map of which each latent and level uses.
 */
function gaussian(c: Cursor, compact: boolean, levels: number, fitted: boolean): GaussianTables {
  const shape = c.i32(2, 'gaussian.shape');
  const [count, stride] = shape;
  if (count < 1 || count > MAX_SCALES || stride < 3 || stride > MAX_TABLE_STRIDE) {
    fail('BAD_WEIGHTS', `gaussian.shape = ${count} × ${stride} out of range`);
  }
  const scales = c.f32(count, 'gaussian.scale');
  for (let j = 0; j < count; j++) {
    if (!(scales[j] > 0 && Number.isFinite(scales[j])) || (j > 0 && !(scales[j] > scales[j - 1]))) {
      fail('BAD_WEIGHTS', 'gaussian.scale must be positive, finite and increasing');
    }
  }
  const sets = new Array<CdfTables | undefined>(GAUSSIAN_LATENTS.length * levels);
  if (fitted) {
    if (!compact) fail('BAD_WEIGHTS', 'fitted Gaussian tables need a kind with compact tables');
    const rows = c.size('gaussian.rows', MAX_FITTED_ROWS);
    const offset = c.i32(rows, 'gaussian.offset');
    const length = c.i32(rows, 'gaussian.length');
    const { rows: cdf, rowStart } = backToBackRows(c, 'gaussian.cdf', length, stride);
    for (let r = 0; r < rows; r++) {
      const n = length[r];
      const row: CdfTables = { channels: 1, stride: n + 2, cdf: cdf.subarray(rowStart[r], rowStart[r] + n + 2), length: length.subarray(r, r + 1), offset: offset.subarray(r, r + 1) };
      validateTables(row, `gaussian row ${r}`);
    }
    const map = c.i32(sets.length * count, 'gaussian.map');
    for (const row of map) if (!(row >= 0 && row < rows)) fail('BAD_WEIGHTS', `gaussian.map names row ${row} of ${rows}`);
    return { scales, sets, fitted: { stride, cdf, rowStart, length, offset, map } };
  }
  const offset = c.i32(count, 'gaussian.offset');
  const length = c.i32(count, 'gaussian.length');
  const cdf = compact ? compactRows(c, 'gaussian.cdf', length, stride) : c.i32(count * stride, 'gaussian.cdf');
  const tables: CdfTables = { channels: count, stride, cdf, length, offset };
  validateTables(tables, 'gaussian');
  return { scales, sets: sets.fill(tables) };
}

function layers(c: Cursor, name: string, specs: Array<[number, number, number, boolean?]>, half = false): Conv[] {
  // the networks' ReLUs sit between convolutions and are numbered like them (0, 2, 4 …), as in the trainer
  return specs.map(([inC, outC, k, transposed], i) => conv(c, `${name}.${2 * i}`, inC, outC, k, transposed, half));
}

function hyperWeights(c: Cursor, config: ModelConfig, fitted: boolean): HyperWeights {
  const { N, M, Mr, Nh, levels } = config;
  const gainW = c.f32(levels * Nh, 'gain_w');
  const analysis = layers(c, 'hyper_analysis', [[M, Nh, 3], [Nh, Nh, 5], [Nh, Nh, 5]]);
  const synthesis = layers(c, 'hyper_synthesis', [[Nh, Nh, 5, true], [Nh, Nh, 5, true], [Nh, 2 * M, 3]]);
  const resContext = layers(c, 'res_context', [[N, Nh, 3], [Nh, 2 * Mr, 3]]);
  const spatialKind = SPATIAL_KINDS.includes(config.kind);
  // to keep the file within its 8 MB budget (train/export.py half_tensors): the ycontext kind stores s_y's weights as
  // halves, the ychannel kind every context network's weights; both store ŵ's tables compact
  const ychannel = config.kind === 'ychannel';
  // s_z, s_y: conv5/1 over the anchors / gains (the others 0); e_z, e_y: conv1 · ReLU · conv1 over [μ', σ', s]
  const spatialNet = (name: string, C: number, spatialHalf: boolean) => ({
    spatial: conv(c, `${name}.spatial`, C, Nh, 5, false, spatialHalf),
    params: layers(c, `${name}.params`, [[2 * C + Nh, 2 * Nh, 1], [2 * Nh, 2 * C, 1]], ychannel),
  });
  const resSpatial = spatialKind ? spatialNet('res_spatial', Mr, ychannel) : undefined;
  // k_a, k_o over a latent's C channels in halves
  const channelNet = (name: string, C: number) => {
    if (C % 2 !== 0) fail('BAD_WEIGHTS', `the ${config.kind} kind splits its latents' channels in halves: ${C}`);
    const net = (part: string) => layers(c, `${name}.${part}`, [[C / 2 + C, Nh, 3], [Nh, C, 1]], ychannel);
    return { anchors: net('anchors'), others: net('others') };
  };
  const resChannel = CHANNEL_KINDS.includes(config.kind) ? channelNet('res_channel', Mr) : undefined;
  const mainKind = MAIN_SPATIAL_KINDS.includes(config.kind);
  const mainSpatial = mainKind ? spatialNet('main_spatial', M, true) : undefined;
  const mainChannel = ychannel ? channelNet('main_channel', M) : undefined;
  const strideW = c.size('entropy_w.stride', MAX_TABLE_STRIDE);
  return {
    gainW, analysis, synthesis, resContext, ...(resSpatial && { resSpatial }), ...(resChannel && { resChannel }), ...(mainSpatial && { mainSpatial }),
    ...(mainChannel && { mainChannel }), entropyW: entropy(c, 'entropy_w', levels, Nh, strideW, mainKind),
    gaussian: gaussian(c, spatialKind, levels, fitted),
  };
}

export function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const littleEndianHost = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Parse and validate a weight file. The returned tensors view `bytes` (copied once if misaligned).
 * `checksum: 'verified'` skips the SHA-256 check (the portable digest takes ≈ 0.1 s for 7 MB) for bytes this process has already read
 * with the check: the pool's workers, handed the shared bytes of a model the main thread loaded.
 */
/** A model readWeights returned, as far as a plain object can tell (the entries take models or bytes). */
export function isWeights(value: unknown): value is Weights {
  return typeof value === 'object' && value !== null && 'config' in value && (value as Weights).id instanceof Uint8Array;
}

export function readWeights(input: Uint8Array, checksum: 'verify' | 'verified' = 'verify'): Weights {
  if (!littleEndianHost) fail('BAD_WEIGHTS', 'big-endian hosts are not supported');
  if (input.length < HEADER_BYTES) fail('BAD_WEIGHTS', `file too short (${input.length} bytes)`);
  // typed-array views need 4-byte alignment; Node's pooled small buffers may not have it
  const bytes = input.byteOffset % 4 === 0 ? input : input.slice();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== WEIGHTS_MAGIC) fail('BAD_WEIGHTS', 'bad magic (not an aara weight file)');
  const u32 = (offset: number) => view.getUint32(offset, true);
  const version = u32(8);
  if (![WEIGHTS_VERSION, WEIGHTS_VERSION_KINDS, WEIGHTS_VERSION_FITTED].includes(version)) fail('BAD_WEIGHTS', `unsupported weight file version ${version}`);
  // version 1 has no kind field: its fields sit 4 bytes earlier, and its ŷ, ẑ table strides follow the precision
  const at = version === WEIGHTS_VERSION ? 12 : 16;
  const kind = version === WEIGHTS_VERSION ? 'factorized' : KIND_IDS[u32(12)];
  if (kind === undefined) fail('BAD_WEIGHTS', `unknown model kind ${u32(12)} (this engine reads ${Object.values(KIND_IDS).join(', ')})`);
  const config: ModelConfig = {
    kind, N: u32(at), M: u32(at + 4), Nr: u32(at + 8), Mr: u32(at + 12), levels: u32(at + 16),
    Nh: kind === 'factorized' ? 0 : u32(at + 20),
  };
  for (const [key, v] of Object.entries(config)) {
    if (key === 'kind' || (key === 'Nh' && kind === 'factorized')) continue;
    const max = key === 'levels' ? MAX_LEVELS : MAX_WIDTH;
    if (!(v >= 1 && v <= max)) fail('BAD_WEIGHTS', `config ${key} = ${v} out of range`);
  }
  const precisionAt = version === WEIGHTS_VERSION ? 32 : 40;
  if (u32(precisionAt) !== PROB_BITS) fail('BAD_WEIGHTS', `CDF precision ${u32(precisionAt)} (expected ${PROB_BITS})`);
  const payload = u32(44);
  if (payload !== bytes.length - HEADER_BYTES) {
    fail('BAD_WEIGHTS', `payload is ${bytes.length - HEADER_BYTES} bytes, header says ${payload}`);
  }
  const id = bytes.slice(48, 64);
  const digest = checksum === 'verify' ? sha256(bytes.subarray(HEADER_BYTES)) : id;
  for (let i = 0; i < id.length; i++) {
    if (digest[i] !== id[i]) fail('BAD_WEIGHTS', `payload does not match its weights ID ${hexBytes(id)} (the file is damaged)`);
  }
  const { N, M, Nr, Mr, levels } = config;
  const c = new Cursor(bytes);
  const weights: Weights = {
    config,
    id,
    idHex: hexBytes(id),
    byteLength: bytes.length,
    mainEncoder: transform(c, 'main_encoder', [3, N, N, N, M], false),
    mainAttention: attention(c, 'main_attention', M),
    mainDecoder: transform(c, 'main_decoder', [M, N, N, N, 3], true),
    resEncoder: transform(c, 'res_encoder', [3, Nr, Nr, Mr], false),
    resAttention: attention(c, 'res_attention', Mr),
    resDecoder: transform(c, 'res_decoder', [Mr, Nr, Nr, 3], true),
    fusion: { conv1: conv(c, 'fusion.conv1', 6, 16, 3), conv2: conv(c, 'fusion.conv2', 16, 3, 3) },
    gainY: c.f32(levels * M, 'gain_y'),
    gainZ: c.f32(levels * Mr, 'gain_z'),
  };
  if (kind === 'factorized') {
    if (version === WEIGHTS_VERSION_FITTED) fail('BAD_WEIGHTS', 'the factorized kind has no Gaussian tables to fit');
    weights.entropyY = entropy(c, 'entropy_y', levels, M, u32(36));
    weights.entropyZ = entropy(c, 'entropy_z', levels, Mr, u32(40));
  } else {
    weights.hyper = hyperWeights(c, config, version === WEIGHTS_VERSION_FITTED);
  }
  if (c.offset !== bytes.length) fail('BAD_WEIGHTS', `${bytes.length - c.offset} unexpected bytes after the last tensor`);
  for (const g of [weights.gainY, weights.gainZ, weights.hyper?.gainW ?? []]) {
    for (const v of g) if (!(v > 0 && Number.isFinite(v))) fail('BAD_WEIGHTS', 'gains must be positive and finite');
  }
  return weights;
}
