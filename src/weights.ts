/**
 * The weight-file reader. It walks weights/aara.bin with one cursor in the order of train/export.py's
 * `tensors()`; this walk *is* the format (weights/FORMAT.md is its table). Tensors are zero-copy views.
 */
import { fail } from './errors.js';
import type { CdfTables } from './symbol-coder.js';

export const WEIGHTS_MAGIC = 'AARAWGT\0';
export const WEIGHTS_VERSION = 1;
const HEADER_BYTES = 64;
const CDF_TOTAL = 1 << 16; // the header's CDF precision must be 16: the rANS coder's PROB_BITS
const MAX_WIDTH = 1024; // sanity bound on channel counts read from a (possibly hostile) header
const MAX_LEVELS = 64;

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
export interface ModelConfig {
  N: number;
  M: number;
  Nr: number;
  Mr: number;
  levels: number;
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
  entropyY: LatentEntropy;
  entropyZ: LatentEntropy;
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
}

function conv(c: Cursor, name: string, inC: number, outC: number, k: number, transposed = false): Conv {
  // Conv2d weights are [outC, inC, k, k]; ConvTranspose2d weights [inC, outC, k, k]: same element count
  const weight = c.f32(inC * outC * k * k, `${name}.weight${transposed ? ' (transposed)' : ''}`);
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
  const hidden = Math.max(1, Math.floor(channels / 16));
  return {
    fc1: conv(c, `${name}.fc1`, channels, hidden, 1),
    fc2: conv(c, `${name}.fc2`, hidden, channels, 1),
    spatial: conv(c, `${name}.spatial`, 2, 1, 7),
  };
}

function entropy(c: Cursor, name: string, levels: number, channels: number, stride: number): LatentEntropy {
  const median = c.f32(levels * channels, `${name}.median`);
  const offset = c.i32(levels * channels, `${name}.offset`);
  const length = c.i32(levels * channels, `${name}.length`);
  const cdf = c.i32(levels * channels * stride, `${name}.cdf`);
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

/** A table the coder can trust: 0 = cdf[0] < cdf[1] < … < cdf[length+1] = 2^16, offsets in range. */
function validateTables(t: CdfTables, name: string): void {
  for (let ch = 0; ch < t.channels; ch++) {
    const n = t.length[ch];
    if (n < 1 || n + 2 > t.stride) fail('BAD_WEIGHTS', `${name} channel ${ch}: table length ${n}`);
    if (Math.abs(t.offset[ch]) > 1 << 24) fail('BAD_WEIGHTS', `${name} channel ${ch}: offset ${t.offset[ch]}`);
    const row = ch * t.stride;
    if (t.cdf[row] !== 0 || t.cdf[row + n + 1] !== CDF_TOTAL) fail('BAD_WEIGHTS', `${name} channel ${ch}: CDF ends`);
    for (let i = 0; i <= n; i++) {
      if (t.cdf[row + i + 1] <= t.cdf[row + i]) fail('BAD_WEIGHTS', `${name} channel ${ch}: CDF not increasing`);
    }
  }
}

export function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const littleEndianHost = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Parse and validate a weight file. The returned tensors view `bytes` (copied once if misaligned). */
export function readWeights(input: Uint8Array): Weights {
  if (!littleEndianHost) fail('BAD_WEIGHTS', 'big-endian hosts are not supported');
  if (input.length < HEADER_BYTES) fail('BAD_WEIGHTS', `file too short (${input.length} bytes)`);
  // typed-array views need 4-byte alignment; Node's pooled small buffers may not have it
  const bytes = input.byteOffset % 4 === 0 ? input : input.slice();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== WEIGHTS_MAGIC) fail('BAD_WEIGHTS', 'bad magic (not an aara weight file)');
  const u32 = (offset: number) => view.getUint32(offset, true);
  const version = u32(8);
  if (version !== WEIGHTS_VERSION) fail('BAD_WEIGHTS', `unsupported weight file version ${version}`);
  const config: ModelConfig = { N: u32(12), M: u32(16), Nr: u32(20), Mr: u32(24), levels: u32(28) };
  for (const [key, v] of Object.entries(config)) {
    const max = key === 'levels' ? MAX_LEVELS : MAX_WIDTH;
    if (v < 1 || v > max) fail('BAD_WEIGHTS', `config ${key} = ${v} out of range`);
  }
  if (u32(32) !== 16) fail('BAD_WEIGHTS', `CDF precision ${u32(32)} (expected 16)`);
  const strideY = u32(36);
  const strideZ = u32(40);
  const payload = u32(44);
  if (payload !== bytes.length - HEADER_BYTES) {
    fail('BAD_WEIGHTS', `payload is ${bytes.length - HEADER_BYTES} bytes, header says ${payload}`);
  }
  const id = bytes.slice(48, 64);
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
    entropyY: entropy(c, 'entropy_y', levels, M, strideY),
    entropyZ: entropy(c, 'entropy_z', levels, Mr, strideZ),
  };
  if (c.offset !== bytes.length) fail('BAD_WEIGHTS', `${bytes.length - c.offset} unexpected bytes after the last tensor`);
  for (const g of [weights.gainY, weights.gainZ]) {
    for (const v of g) if (!(v > 0 && Number.isFinite(v))) fail('BAD_WEIGHTS', 'gains must be positive and finite');
  }
  return weights;
}
