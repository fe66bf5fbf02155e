/**
 * Hostile .aara files for the fuzz test (test/fuzz.test.ts) and the long fuzz run (bench/fuzz.ts): mutations of
 * a real file, the CRC fix-up that lets a mutation get past the checksum to the checks behind it, and a tally of
 * what the decoder made of each case. The only acceptable outcomes are a typed AaraError or a valid image.
 */
import { crc32 } from '../../src/format/crc32.js';
import { AaraError, type ErrorCode } from '../../src/core/errors.js';
import type { RgbImage } from '../../src/io/pixels.js';
import { randomInt, type Rng } from './prng.js';

/** Offsets of the container's byte table (src/format/container.ts). */
export const HEADER = { version: 4, level: 5, flags: 6, streamCount: 7, width: 8, height: 12, weightsId: 16, streamLengths: 24 } as const;
const CRC_BYTES = 4;
const U32_MAX = 0xffffffff;

export const VALID_IMAGE = 'valid image';
/** An outcome that is neither an AaraError nor a valid image: always a bug. */
export const UNEXPECTED = 'UNEXPECTED';

/** A header field set to one value; `expect`: the error the format prescribes once the CRC is fixed, if it alone decides. */
export interface HeaderMutation {
  field: string;
  offset: number;
  size: 1 | 4;
  value: number;
  expect?: ErrorCode;
}

function field(name: string, offset: number, size: 1 | 4, cases: [number, ErrorCode?][]): HeaderMutation[] {
  return cases.map(([value, expect]) => ({ field: name, offset, size, value, expect }));
}

/**
 * Every header field of `file` at its boundary and absurd values. Sizes that pass the
 * default limits (65535 × a small side) reach the entropy decoder, which must fail on the short streams.
 */
export function headerMutations(file: Uint8Array): HeaderMutation[] {
  const streamCount = file[HEADER.streamCount];
  return [
    // version 2 is a hyper kind's (its coding groups chained): for a factorized file's weights, CORRUPT; either way not 1's streams
    ...field('version', HEADER.version, 1, [[0, 'UNSUPPORTED_VERSION'], [3, 'UNSUPPORTED_VERSION'], [255, 'UNSUPPORTED_VERSION']]),
    ...field('version', HEADER.version, 1, file[HEADER.version] === 1 ? [[2]] : [[1]]),
    ...field('level', HEADER.level, 1, [[0], [1], [2], [254], [255]]),
    ...field('flags', HEADER.flags, 1, [[0], [1], [2, 'CORRUPT'], [128, 'CORRUPT'], [255, 'CORRUPT']]),
    ...field('stream count', HEADER.streamCount, 1,
      [[0, 'CORRUPT'], [1], [streamCount - 1], [streamCount + 1], [64], [65, 'CORRUPT'], [255, 'CORRUPT']]),
    ...(['width', 'height'] as const).flatMap((name) =>
      field(name, HEADER[name], 4,
        [[0, 'BAD_DIMENSIONS'], [1], [17], [65535], [65536, 'TOO_LARGE'], [2 ** 31, 'TOO_LARGE'], [U32_MAX, 'TOO_LARGE']])),
    ...field('weights ID', HEADER.weightsId, 4, [[0, 'WEIGHTS_MISMATCH'], [U32_MAX, 'WEIGHTS_MISMATCH']]),
    ...Array.from({ length: streamCount }, (_, s) =>
      field(`stream ${s} length`, HEADER.streamLengths + 4 * s, 4, [[0], [1], [2 ** 31, 'TRUNCATED'], [U32_MAX, 'TRUNCATED']]),
    ).flat(),
  ];
}

/** One field of level, flags, stream count, width or height set to a random value: small (near the real one) or any. */
export function randomHeaderMutation(rng: Rng, file: Uint8Array): HeaderMutation {
  const fields = [['level', HEADER.level, 1], ['flags', HEADER.flags, 1], ['stream count', HEADER.streamCount, 1],
    ['width', HEADER.width, 4], ['height', HEADER.height, 4]] as const;
  const [name, offset, size] = fields[randomInt(rng, fields.length)];
  const current = size === 1 ? file[offset] : new DataView(file.buffer, file.byteOffset).getUint32(offset, true);
  const value = rng() < 0.5 ? randomInt(rng, 2 * current + 2) : randomInt(rng, size === 1 ? 256 : 2 ** 32);
  return { field: name, offset, size, value };
}

/** Rewrites the trailing CRC so the file passes the checksum (in place; returns `bytes`). */
export function fixCrc(bytes: Uint8Array): Uint8Array {
  if (bytes.length >= CRC_BYTES) {
    const crcAt = bytes.length - CRC_BYTES;
    new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(crcAt, crc32(bytes, 0, crcAt), true);
  }
  return bytes;
}

function writeField(bytes: Uint8Array, offset: number, size: 1 | 4, value: number): void {
  if (size === 1) bytes[offset] = value;
  else new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(offset, value, true);
}

/** `file` with one header field replaced; with `crc` the checksum is recomputed so later checks are reached. */
export function withHeaderField(file: Uint8Array, m: HeaderMutation, crc: boolean): Uint8Array {
  const copy = Uint8Array.from(file);
  writeField(copy, m.offset, m.size, m.value);
  return crc ? fixCrc(copy) : copy;
}

export function withBitFlipped(file: Uint8Array, bit: number): Uint8Array {
  const copy = Uint8Array.from(file);
  copy[bit >>> 3] ^= 1 << (bit & 7);
  return copy;
}

/** Where the entropy-coded streams of a well-formed file lie. */
export function streamBytes(file: Uint8Array): { start: number; end: number } {
  return { start: HEADER.streamLengths + 4 * file[HEADER.streamCount], end: file.length - CRC_BYTES };
}

/** `file` with `changes` random stream bytes replaced and a valid CRC: only the entropy decoder can notice. */
export function withCorruptStreams(file: Uint8Array, rng: Rng, changes: number): Uint8Array {
  const copy = Uint8Array.from(file);
  const { start, end } = streamBytes(file);
  for (let i = 0; i < changes; i++) copy[start + randomInt(rng, end - start)] = randomInt(rng, 256);
  return fixCrc(copy);
}

/**
 * `file` with `delta` bytes moved from stream s + 1 to stream s (lengths only, total kept) and a valid CRC:
 * every stream is present and the container is consistent, but the rANS streams are cut in the wrong places.
 */
export function withShiftedStreamBoundary(file: Uint8Array, s: number, delta: number): Uint8Array {
  const copy = Uint8Array.from(file);
  const view = new DataView(copy.buffer);
  const at = HEADER.streamLengths + 4 * s;
  view.setUint32(at, (view.getUint32(at, true) + delta) >>> 0, true);
  view.setUint32(at + 4, (view.getUint32(at + 4, true) - delta) >>> 0, true);
  return fixCrc(copy);
}

/** A prefix of `file` followed by random bytes: the longer the prefix, the later the check that must catch it. */
export function withRandomTail(file: Uint8Array, prefix: number, tail: Uint8Array, crc: boolean): Uint8Array {
  const bytes = new Uint8Array(prefix + tail.length);
  bytes.set(file.subarray(0, prefix));
  bytes.set(tail, prefix);
  return crc ? fixCrc(bytes) : bytes;
}

/** The decoder's verdict on one input: an error code, VALID_IMAGE, or UNEXPECTED with what went wrong. */
/** The size an .aara file declares (its header): what a decoded image must measure. */
export function aaraDeclaredSize(bytes: Uint8Array): { width: number; height: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(HEADER.width, true), height: view.getUint32(HEADER.height, true) };
}

export function decodeOutcome(decode: (bytes: Uint8Array) => RgbImage, bytes: Uint8Array,
  declaredSize: (bytes: Uint8Array) => { width: number; height: number } = aaraDeclaredSize): { outcome: string; problem?: string } {
  let img: RgbImage;
  try {
    img = decode(bytes);
  } catch (err) {
    if (err instanceof AaraError) return { outcome: err.code };
    return { outcome: UNEXPECTED, problem: `threw ${(err as Error)?.stack ?? String(err)}` };
  }
  // a decoded file has a valid header: the image must be the size it declares
  const { width, height } = declaredSize(bytes);
  if (img.width !== width || img.height !== height || !(img.data instanceof Uint8Array) || img.data.length !== width * height * 3) {
    return { outcome: UNEXPECTED, problem: `image ${img.width}×${img.height} with ${img.data?.length} bytes, header says ${width}×${height}` };
  }
  return { outcome: VALID_IMAGE };
}

/** Outcome counts per category, the slowest case, and the first few problems with what reproduces them. */
export class FuzzTally {
  readonly counts = new Map<string, Map<string, number>>();
  readonly problems: string[] = [];
  problemCount = 0;
  cases = 0;
  maxMs = 0;
  slowest = '';

  constructor(private readonly decode: (bytes: Uint8Array) => RgbImage, private readonly keepProblems = 20,
    private readonly declaredSize = aaraDeclaredSize) {}

  /** Decode `bytes`, time it and count its outcome; `label` names the case for the report. */
  run(category: string, label: string, bytes: Uint8Array): string {
    const started = performance.now();
    const { outcome, problem } = decodeOutcome(this.decode, bytes, this.declaredSize);
    const ms = performance.now() - started;
    this.cases++;
    if (ms > this.maxMs) {
      this.maxMs = ms;
      this.slowest = `${category}: ${label}`;
    }
    const perCategory = this.counts.get(category) ?? new Map<string, number>();
    perCategory.set(outcome, (perCategory.get(outcome) ?? 0) + 1);
    this.counts.set(category, perCategory);
    if (problem !== undefined) {
      this.problemCount++;
      if (this.problems.length < this.keepProblems) this.problems.push(`${category}: ${label}: ${problem}`);
    }
    return outcome;
  }

  /** One row per category, one column per outcome seen, and a total row. */
  markdown(): string {
    const outcomes = [...new Set([...this.counts.values()].flatMap((m) => [...m.keys()]))].sort((a, b) =>
      a === VALID_IMAGE ? -1 : b === VALID_IMAGE ? 1 : a.localeCompare(b));
    const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
    const total = (outcome: string) => [...this.counts.values()].reduce((sum, m) => sum + (m.get(outcome) ?? 0), 0);
    return [
      row(['category', 'cases', ...outcomes]),
      row(['---', ...Array(outcomes.length + 1).fill('---:')]),
      ...[...this.counts].map(([category, m]) =>
        row([category, [...m.values()].reduce((a, b) => a + b, 0), ...outcomes.map((o) => m.get(o) ?? 0)])),
      row(['**all**', this.cases, ...outcomes.map(total)]),
    ].join('\n');
  }
}
