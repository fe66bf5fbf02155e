/**
 * The .aara bitstream container. This table is the format; the README copies it from here.
 *
 * ```
 * offset  size   field
 * 0       4      magic "AARA"
 * 4       1      version: 1 or 2 (the same table; 2: a hyper kind's coding groups chained in one stream, S = 1 —
 *                src/codec/codec.ts, fileChains; 1: one group a stream: the factorized kind's files, and every kind's before)
 * 5       1      level (quality level index, 0-based), or with flag bit 1 the level in sixteenths (a quality
 *                between two levels: level byte/16, never a whole level)
 * 6       1      flags (bit 0: the source image was grayscale — informative only; bit 1: the level byte counts
 *                sixteenths; bit 2: a metadata section follows the streams; other bits must be 0)
 * 7       1      S = number of entropy streams (1..64)
 * 8       4      width  (u32, ≥ 1)
 * 12      4      height (u32, ≥ 1)
 * 16      8      weights ID (first 8 bytes of the weight file's ID)
 * 24      4·S    byte length of each stream (u32)
 * 24+4S   Σ      the streams, concatenated
 *         …      metadata section (flag bit 2 only): K = count of entries (u8, 1..2), then per entry, kinds
 *                increasing: kind (u8: 1 ICC colour profile, 2 EXIF as a TIFF structure, "II*\0" or "MM\0*"),
 *                byte length (u32, ≥ 1), the bytes. The decoder gives them back as they were stored.
 * end−4   4      CRC-32 of every byte before it
 * ```
 * All multi-byte fields are little endian.
 *
 * Readers check in file order — magic, version, header fields, sizes, then the CRC — and allocate nothing
 * proportional to a declared size: a truncated file reports TRUNCATED (not CHECKSUM_MISMATCH), a damaged one
 * CHECKSUM_MISMATCH or a more specific header error.
 */
import { crc32 } from './crc32.js';
import { fail } from '../core/errors.js';

export const MAGIC = 'AARA';
/** The versions this reader knows: the table is theirs; what the streams hold is the codec's (fileChains). */
export const VERSIONS: readonly number[] = [1, 2];
/** flags bit 0: the source image was grayscale (informative: the decoder still outputs what it decodes) */
export const FLAG_GRAYSCALE = 1;
/** flags bit 1: the level byte counts sixteenths of a level (a position between two levels); writeContainer sets it */
const FLAG_LEVEL_SIXTEENTHS = 2;
/** flags bit 2: a metadata section follows the streams; writeContainer sets it */
export const FLAG_METADATA = 4;
const KNOWN_FLAGS = FLAG_GRAYSCALE | FLAG_LEVEL_SIXTEENTHS | FLAG_METADATA;
/** Metadata entry kinds, in the order a file stores them. */
const METADATA_KINDS = ['icc', 'exif'] as const;
const METADATA_ENTRY_HEADER_BYTES = 5;
/** Positions between levels come in steps of 1/LEVEL_STEPS: fine enough for any quality 0…100, one byte for 16 levels. */
export const LEVEL_STEPS = 16;
/** The format's cap on S: far above any channel grouping, and it bounds the header at 24 + 256 bytes. */
export const MAX_STREAMS = 64;
export const WEIGHTS_ID_BYTES = 8;

const VERSION_OFFSET = 4;
const LEVEL_OFFSET = 5;
const FLAGS_OFFSET = 6;
const STREAM_COUNT_OFFSET = 7;
const WIDTH_OFFSET = 8;
const HEIGHT_OFFSET = 12;
const WEIGHTS_ID_OFFSET = 16;
/** the fixed part of the header; the S stream lengths follow it */
const FIXED_HEADER_BYTES = 24;
const STREAM_LENGTH_BYTES = 4;
const CRC_BYTES = 4;
const U32_MAX = 0xffffffff;
const U8_MAX = 0xff;

export interface Container {
  version: number;
  /** the quality level; between two levels (flag bit 1) a multiple of 1/LEVEL_STEPS */
  level: number;
  flags: number;
  width: number;
  height: number;
  /** 8 bytes */
  weightsId: Uint8Array;
  /** views into the file's bytes, zero-copy */
  streams: Uint8Array[];
  /** what the source image carried beside its pixels (views into the file's bytes); absent when nothing */
  metadata?: ImageMetadata;
}

/**
 * What an image carries beside its pixels that a viewer needs to show it as its author saw it: the ICC colour
 * profile (an ICC.1 profile's bytes) and EXIF (the TIFF structure, "II*\0" or "MM\0*", as in a PNG eXIf chunk).
 */
export interface ImageMetadata {
  icc?: Uint8Array;
  exif?: Uint8Array;
}

/** The entries of `m` a file stores: kinds in format order, empty ones left out. */
function metadataEntries(m: ImageMetadata | undefined): Array<[number, Uint8Array]> {
  const entries: Array<[number, Uint8Array]> = [];
  METADATA_KINDS.forEach((kind, i) => {
    const bytes = m?.[kind];
    if (bytes && bytes.length > 0) entries.push([i + 1, bytes]);
  });
  return entries;
}

/** Bytes of the metadata section of `m` (0 when there is nothing to store): for size targets that count the whole file. */
export function metadataBytes(m: ImageMetadata | undefined): number {
  const entries = metadataEntries(m);
  return entries.length === 0 ? 0 : 1 + entries.reduce((n, [, bytes]) => n + METADATA_ENTRY_HEADER_BYTES + bytes.length, 0);
}

export type Header = Omit<Container, 'streams'> & { streamCount: number };

export interface Limits {
  maxWidth: number;
  maxHeight: number;
  maxPixels: number;
}

/**
 * 65535 per side as in JPEG; 24 Mpx lets a 6000×4000 photo through, and bounds one call's work at minutes of
 * CPU and a few hundred MB (README, Limits: the per-megapixel cost). A server should set its own, lower.
 */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxWidth: 65535,
  maxHeight: 65535,
  maxPixels: 24 * 1024 * 1024,
});

const LIMIT_FIELDS = ['maxWidth', 'maxHeight', 'maxPixels'] as const;

/**
 * A caller's limits merged field by field over DEFAULT_LIMITS (`{ maxWidth, maxHeight }` keeps the default
 * maxPixels). Each given field must be an integer ≥ 1; anything else, or an unknown field, is BAD_ARGUMENT.
 */
export function resolveLimits(limits?: Partial<Limits>): Limits {
  if (limits === undefined || limits === DEFAULT_LIMITS) return DEFAULT_LIMITS;
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) return fail('BAD_ARGUMENT', `limits must be an object, got ${String(limits)}`);
  const unknown = Object.keys(limits).filter((key) => !(LIMIT_FIELDS as readonly string[]).includes(key));
  if (unknown.length > 0) fail('BAD_ARGUMENT', `unknown limits ${unknown.join(', ')} (known: ${LIMIT_FIELDS.join(', ')})`);
  const resolved = { ...DEFAULT_LIMITS };
  for (const field of LIMIT_FIELDS) {
    const value: unknown = limits[field];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || (value as number) < 1) fail('BAD_ARGUMENT', `limits.${field} must be an integer ≥ 1, got ${String(value)}`);
    resolved[field] = value as number;
  }
  return resolved;
}

function streamsStart(streamCount: number): number {
  return FIXED_HEADER_BYTES + STREAM_LENGTH_BYTES * streamCount;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The file of `c`; its version defaults to the first (a container of the streams as they are). */
export function writeContainer(c: Omit<Container, 'version'> & { version?: number }): Uint8Array {
  const version = c.version ?? VERSIONS[0];
  if (!VERSIONS.includes(version)) fail('INTERNAL', `cannot write version ${version}`);
  const fractional = !Number.isInteger(c.level);
  const levelByte = fractional ? c.level * LEVEL_STEPS : c.level;
  if (!(Number.isInteger(levelByte) && levelByte >= 0 && levelByte <= U8_MAX)) fail('BAD_LEVEL', `level ${c.level}`);
  for (const [name, size] of [['width', c.width], ['height', c.height]] as const) {
    if (!(Number.isInteger(size) && size >= 1 && size <= U32_MAX)) fail('BAD_DIMENSIONS', `${name} ${size}`);
  }
  // the rest can only be wrong through a bug in the caller
  if (!(Number.isInteger(c.flags) && (c.flags & ~FLAG_GRAYSCALE) === 0 && c.flags >= 0)) {
    fail('INTERNAL', `cannot write unknown flags ${c.flags}`);
  }
  if (c.weightsId.length !== WEIGHTS_ID_BYTES) fail('INTERNAL', `weights ID of ${c.weightsId.length} bytes`);
  const streamCount = c.streams.length;
  if (streamCount < 1 || streamCount > MAX_STREAMS) fail('INTERNAL', `cannot write ${streamCount} streams`);
  let payload = 0;
  for (const stream of c.streams) {
    if (stream.length > U32_MAX) fail('TOO_LARGE', `stream of ${stream.length} bytes`);
    payload += stream.length;
  }
  const entries = metadataEntries(c.metadata);
  for (const [, entry] of entries) if (entry.length > U32_MAX) fail('TOO_LARGE', `metadata of ${entry.length} bytes`);

  const bytes = new Uint8Array(streamsStart(streamCount) + payload + metadataBytes(c.metadata) + CRC_BYTES);
  const view = viewOf(bytes);
  for (let i = 0; i < MAGIC.length; i++) bytes[i] = MAGIC.charCodeAt(i);
  bytes[VERSION_OFFSET] = version;
  bytes[LEVEL_OFFSET] = levelByte;
  bytes[FLAGS_OFFSET] = c.flags | (fractional ? FLAG_LEVEL_SIXTEENTHS : 0) | (entries.length > 0 ? FLAG_METADATA : 0);
  bytes[STREAM_COUNT_OFFSET] = streamCount;
  view.setUint32(WIDTH_OFFSET, c.width, true);
  view.setUint32(HEIGHT_OFFSET, c.height, true);
  bytes.set(c.weightsId, WEIGHTS_ID_OFFSET);
  let at = streamsStart(streamCount);
  c.streams.forEach((stream, s) => {
    view.setUint32(FIXED_HEADER_BYTES + STREAM_LENGTH_BYTES * s, stream.length, true);
    bytes.set(stream, at);
    at += stream.length;
  });
  if (entries.length > 0) {
    bytes[at++] = entries.length;
    for (const [kind, entry] of entries) {
      bytes[at] = kind;
      view.setUint32(at + 1, entry.length, true);
      bytes.set(entry, at + METADATA_ENTRY_HEADER_BYTES);
      at += METADATA_ENTRY_HEADER_BYTES + entry.length;
    }
  }
  view.setUint32(at, crc32(bytes, 0, at), true);
  return bytes;
}

/** Copies of the metadata a valid file kept (they do not hold on to the file), or undefined when it kept none. */
export function fileMetadata(file: Uint8Array): ImageMetadata | undefined {
  const { metadata } = readContainer(file);
  return metadata && { ...(metadata.icc && { icc: metadata.icc.slice() }), ...(metadata.exif && { exif: metadata.exif.slice() }) };
}

/** The same file with `metadata` in place of what it stored (nothing in it: the section is dropped); `file` itself when both are empty. */
export function withMetadata(file: Uint8Array, metadata: ImageMetadata | undefined): Uint8Array {
  if (metadataBytes(metadata) === 0 && (file[FLAGS_OFFSET] & FLAG_METADATA) === 0) return file;
  const c = readContainer(file);
  return writeContainer({ ...c, flags: c.flags & FLAG_GRAYSCALE, metadata });
}

/** The fixed header only (the first 24 bytes suffice), validated: for `info` and as readContainer's first step. */
export function readHeader(bytes: Uint8Array, partialLimits?: Partial<Limits>): Header {
  const limits = resolveLimits(partialLimits);
  for (let i = 0; i < MAGIC.length; i++) {
    if (i === bytes.length) fail('TRUNCATED', `${bytes.length} bytes`); // a prefix of the magic: truncated
    if (bytes[i] !== MAGIC.charCodeAt(i)) fail('BAD_MAGIC');
  }
  if (bytes.length <= VERSION_OFFSET) fail('TRUNCATED', `${bytes.length} bytes`);
  const version = bytes[VERSION_OFFSET];
  if (!VERSIONS.includes(version)) fail('UNSUPPORTED_VERSION', `version ${version}, this reader knows ${VERSIONS.join(' and ')}`);
  if (bytes.length < FIXED_HEADER_BYTES) fail('TRUNCATED', `${bytes.length} bytes, the header needs 24`);

  const view = viewOf(bytes);
  const flags = bytes[FLAGS_OFFSET];
  if ((flags & ~KNOWN_FLAGS) !== 0) fail('CORRUPT', `unknown flags 0x${flags.toString(16)}`);
  const levelByte = bytes[LEVEL_OFFSET];
  const sixteenths = (flags & FLAG_LEVEL_SIXTEENTHS) !== 0;
  // one way to write each level: a whole level in sixteenths would be a second file for the same image
  if (sixteenths && levelByte % LEVEL_STEPS === 0) fail('CORRUPT', `level byte ${levelByte} in sixteenths is a whole level`);
  const streamCount = bytes[STREAM_COUNT_OFFSET];
  if (streamCount < 1 || streamCount > MAX_STREAMS) fail('CORRUPT', `${streamCount} streams`);
  const width = view.getUint32(WIDTH_OFFSET, true);
  const height = view.getUint32(HEIGHT_OFFSET, true);
  if (width === 0 || height === 0) fail('BAD_DIMENSIONS', `${width}×${height}`);
  if (width > limits.maxWidth || height > limits.maxHeight || width * height > limits.maxPixels) {
    fail('TOO_LARGE', `${width}×${height}`);
  }
  return {
    version,
    level: sixteenths ? levelByte / LEVEL_STEPS : levelByte,
    flags,
    width,
    height,
    weightsId: bytes.subarray(WEIGHTS_ID_OFFSET, WEIGHTS_ID_OFFSET + WEIGHTS_ID_BYTES),
    streamCount,
  };
}

/** A whole, validated file; its streams are views into `bytes`. */
export function readContainer(bytes: Uint8Array, limits?: Partial<Limits>): Container {
  const { streamCount, ...header } = readHeader(bytes, limits);
  const start = streamsStart(streamCount);
  if (bytes.length < start + CRC_BYTES) fail('TRUNCATED', `${bytes.length} bytes, ${streamCount} streams`);

  const view = viewOf(bytes);
  const lengthAt = (s: number): number => view.getUint32(FIXED_HEADER_BYTES + STREAM_LENGTH_BYTES * s, true);
  let declared = 0; // ≤ 64 · (2^32 − 1): exact in a double
  for (let s = 0; s < streamCount; s++) declared += lengthAt(s);
  const crcAt = bytes.length - CRC_BYTES;
  const present = crcAt - start;
  if (declared > present) fail('TRUNCATED', `the streams need ${declared} bytes, ${present} are present`);
  const metadata = (header.flags & FLAG_METADATA) !== 0 ? readMetadata(bytes, start + declared, crcAt) : undefined;
  if (!metadata && declared < present) fail('CORRUPT', `${present - declared} unexpected bytes after the streams`);
  if (crc32(bytes, 0, crcAt) !== view.getUint32(crcAt, true)) fail('CHECKSUM_MISMATCH');

  const streams: Uint8Array[] = [];
  let at = start;
  for (let s = 0; s < streamCount; s++) {
    const length = lengthAt(s);
    streams.push(bytes.subarray(at, at + length));
    at += length;
  }
  return { ...header, streams, ...(metadata && { metadata }) };
}

/** The metadata section in bytes [from, end): exactly its entries, each kind once and in order. */
function readMetadata(bytes: Uint8Array, from: number, end: number): ImageMetadata {
  const view = viewOf(bytes);
  if (from >= end) fail('TRUNCATED', 'the metadata section is missing');
  const count = bytes[from];
  if (count < 1 || count > METADATA_KINDS.length) fail('CORRUPT', `${count} metadata entries`);
  const metadata: ImageMetadata = {};
  let at = from + 1;
  let previous = 0;
  for (let e = 0; e < count; e++) {
    if (at + METADATA_ENTRY_HEADER_BYTES > end) fail('TRUNCATED', 'inside the metadata section');
    const kind = bytes[at];
    if (kind <= previous || kind > METADATA_KINDS.length) fail('CORRUPT', `metadata entry of kind ${kind} after kind ${previous}`);
    const length = view.getUint32(at + 1, true);
    if (length === 0) fail('CORRUPT', 'an empty metadata entry');
    at += METADATA_ENTRY_HEADER_BYTES;
    if (length > end - at) fail('TRUNCATED', `a metadata entry of ${length} bytes, ${end - at} are present`);
    metadata[METADATA_KINDS[kind - 1]] = bytes.subarray(at, at + length);
    at += length;
    previous = kind;
  }
  if (at < end) fail('CORRUPT', `${end - at} unexpected bytes after the metadata`);
  return metadata;
}
