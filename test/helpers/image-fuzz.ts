/**
 * Hostile PNG and JPEG files for the image readers (issue 14): small valid seeds of every PNG kind the reader
 * takes (colour types, bit depths, Adam7) and of baseline and progressive JPEG, and seeded mutations of them —
 * bit flips with and without fixed chunk CRCs, truncation, header fields at boundary and random values, image
 * data that inflates short or long, scan data cut or padded, huge declared sizes. Shared by test/image-fuzz.test.ts
 * (a few hundred cases in `npm test`) and bench/fuzz.ts (the long run). The only acceptable outcomes are an
 * AaraError or an image of the size the file declares (imageDeclaredSize).
 */
import { readFileSync } from 'node:fs';
import { crc32, deflateSync, inflateSync } from 'node:zlib';
import { encode as encodeJpeg } from 'jpeg-js';
import { encodePng } from '../../src/io/image-io.js';
import { repoPath } from './fixtures.js';
import { randomBytes, randomInt, type Rng } from './prng.js';
import { syntheticImage } from './synthetic-images.js';

const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

export interface Seed {
  name: string;
  bytes: Uint8Array;
}

interface Chunk {
  type: string;
  data: Uint8Array;
}

function chunkBytes({ type, data }: Chunk): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i) & 255;
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function pngOf(chunks: Chunk[]): Uint8Array {
  return Buffer.concat([PNG_SIGNATURE, ...chunks.map(chunkBytes)]);
}

/** The chunks of a PNG, or undefined where the chunk structure is broken. */
function chunksOf(png: Uint8Array): Chunk[] | undefined {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: Chunk[] = [];
  let at = PNG_SIGNATURE.length;
  while (at + 12 <= png.length) {
    const length = view.getUint32(at);
    if (at + 12 + length > png.length) return undefined;
    chunks.push({ type: String.fromCharCode(...png.subarray(at + 4, at + 8)), data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  return chunks;
}

/** Every chunk's CRC recomputed (where the chunk structure allows it), so a change reaches what is behind the CRC. */
export function fixPngCrcs(png: Uint8Array): Uint8Array {
  const bytes = Uint8Array.from(png);
  const view = new DataView(bytes.buffer);
  let at = PNG_SIGNATURE.length;
  while (at + 12 <= bytes.length) {
    const length = view.getUint32(at);
    if (at + 12 + length > bytes.length) break;
    view.setUint32(at + 8 + length, crc32(bytes.subarray(at + 4, at + 8 + length)));
    at += 12 + length;
  }
  return bytes;
}

const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

/** A PNG of any kind: random samples, random (valid) row filters, a full palette for colour type 3. */
function handMadePng(rng: Rng, width: number, height: number, bitDepth: number, colorType: number, interlace: number): Uint8Array {
  const bitsPerPixel = SAMPLES[colorType] * bitDepth;
  const passes = interlace ? ADAM7.map(([x0, y0, dx, dy]) => [Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)]) : [[width, height]];
  const rows: Uint8Array[] = [];
  for (const [w, h] of passes) {
    if (w <= 0) continue;
    for (let y = 0; y < h; y++) rows.push(Uint8Array.of(randomInt(rng, 5), ...randomBytes(rng, Math.ceil((w * bitsPerPixel) / 8))));
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([bitDepth, colorType, 0, 0, interlace], 8);
  const chunks: Chunk[] = [{ type: 'IHDR', data: ihdr }];
  if (colorType === 3) chunks.push({ type: 'PLTE', data: randomBytes(rng, 3 * 2 ** bitDepth) }, { type: 'tRNS', data: randomBytes(rng, 4) });
  chunks.push({ type: 'IDAT', data: deflateSync(Buffer.concat(rows)) }, { type: 'IEND', data: new Uint8Array(0) });
  return pngOf(chunks);
}

function rgba(width: number, height: number, seed: number): Buffer {
  const rgb = syntheticImage(width, height, seed).data;
  const out = Buffer.alloc(width * height * 4, 255);
  for (let p = 0; p < width * height; p++) out.set(rgb.subarray(3 * p, 3 * p + 3), 4 * p);
  return out;
}

/** Small valid files: every PNG colour type, low and high bit depths, Adam7; baseline and progressive JPEG. */
export function imageSeeds(rng: Rng): { png: Seed[]; jpeg: Seed[] } {
  const png: Seed[] = [
    { name: 'PNG 8-bit RGB 24×16', bytes: encodePng(syntheticImage(24, 16, 1)) },
    { name: 'PNG 16-bit RGBA 13×9 Adam7', bytes: handMadePng(rng, 13, 9, 16, 6, 1) },
    { name: 'PNG 2-bit gray 17×5 Adam7', bytes: handMadePng(rng, 17, 5, 2, 0, 1) },
    { name: 'PNG 1-bit gray 9×9', bytes: handMadePng(rng, 9, 9, 1, 0, 0) },
    { name: 'PNG 4-bit palette + tRNS 11×6', bytes: handMadePng(rng, 11, 6, 4, 3, 0) },
    { name: 'PNG 16-bit gray+alpha 7×4', bytes: handMadePng(rng, 7, 4, 16, 4, 0) },
  ];
  const jpeg: Seed[] = [
    { name: 'JPEG baseline 24×16', bytes: new Uint8Array(encodeJpeg({ width: 24, height: 16, data: rgba(24, 16, 2) }, 80).data) },
    { name: 'JPEG baseline 9×7', bytes: new Uint8Array(encodeJpeg({ width: 9, height: 7, data: rgba(9, 7, 3) }, 95).data) },
    { name: 'JPEG progressive 32×24', bytes: new Uint8Array(readFileSync(repoPath('test/fixtures/progressive.jpg'))) },
  ];
  return { png, jpeg };
}

// ---------------------------------------------------------------------------------------------------------------
// what a file declares

/** The first JPEG frame header's size, walking segments as a decoder must; undefined where there is none. */
function jpegDeclaredSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    while (bytes[at] === 0xff) at++;
    const code = bytes[at++];
    if (code === 0xd9) return undefined;
    if (code === 0xd8 || code === 0x01 || (code >= 0xd0 && code <= 0xd7)) continue;
    const length = (bytes[at] << 8) | bytes[at + 1];
    if (code >= 0xc0 && code <= 0xcf && code !== 0xc4 && code !== 0xc8 && code !== 0xcc) {
      return { height: (bytes[at + 3] << 8) | bytes[at + 4], width: (bytes[at + 5] << 8) | bytes[at + 6] };
    }
    at += length;
    if (code === 0xda) {
      while (at + 1 < bytes.length && !(bytes[at] === 0xff && bytes[at + 1] !== 0 && !(bytes[at + 1] >= 0xd0 && bytes[at + 1] <= 0xd7))) at++;
    }
  }
  return undefined;
}

/** The size a PNG (IHDR) or JPEG (first frame header) declares: what a decoded image must measure. */
export function imageDeclaredSize(bytes: Uint8Array): { width: number; height: number } {
  if (bytes[0] === 0x89) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  return jpegDeclaredSize(bytes) ?? { width: -1, height: -1 };
}

// ---------------------------------------------------------------------------------------------------------------
// mutations

type Make = (rng: Rng, seed: Uint8Array) => Uint8Array;

function flipBits(rng: Rng, bytes: Uint8Array, from: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let flips = 1 + randomInt(rng, 4); flips > 0; flips--) {
    const bit = 8 * from + randomInt(rng, 8 * (out.length - from));
    out[bit >> 3] ^= 1 << (bit & 7);
  }
  return out;
}

function replaceBytes(rng: Rng, bytes: Uint8Array, from: number, to: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let changes = 1 + randomInt(rng, 6); changes > 0 && to > from; changes--) out[from + randomInt(rng, to - from)] = randomInt(rng, 256);
  return out;
}

/** Sizes a hostile header would declare: edges of the formats and of the limits, and random values. */
const SIZE_VALUES = [0, 1, 2, 7, 8, 9, 15, 16, 17, 255, 256, 1000, 4096, 4097, 6144, 6145, 8192, 65535, 65536, 2 ** 31 - 1, 2 ** 32 - 1];

function declaredDimension(rng: Rng, max: number): number {
  const r = rng();
  if (r < 0.5) return Math.min(max, SIZE_VALUES[randomInt(rng, SIZE_VALUES.length)]);
  if (r < 0.8) return Math.min(max, Math.floor(2 ** (rng() * 17))); // log-uniform up to 131072
  return randomInt(rng, max + 1);
}

function withPngHeader(seed: Uint8Array, change: (ihdr: DataView) => void): Uint8Array {
  const chunks = chunksOf(seed)!;
  const data = Uint8Array.from(chunks[0].data);
  change(new DataView(data.buffer));
  return pngOf([{ type: 'IHDR', data }, ...chunks.slice(1)]);
}

/** The seed with its image data inflated, changed by `change`, deflated again into one IDAT (CRCs valid). */
function withImageData(seed: Uint8Array, change: (raw: Uint8Array) => Uint8Array): Uint8Array {
  const chunks = chunksOf(seed)!;
  const idat = chunks.filter((c) => c.type === 'IDAT');
  const raw = new Uint8Array(inflateSync(Buffer.concat(idat.map((c) => c.data))));
  const others = chunks.filter((c) => c.type !== 'IDAT' && c.type !== 'IEND');
  return pngOf([...others, { type: 'IDAT', data: deflateSync(change(raw)) }, { type: 'IEND', data: new Uint8Array(0) }]);
}

/** [start, end) of the entropy-coded data of the JPEG's first scan. */
function firstScan(jpeg: Uint8Array): [number, number] {
  let at = 2;
  for (;;) {
    while (jpeg[at] === 0xff) at++;
    const code = jpeg[at++];
    const length = (jpeg[at] << 8) | jpeg[at + 1];
    at += length;
    if (code !== 0xda) continue;
    let end = at;
    while (!(jpeg[end] === 0xff && jpeg[end + 1] !== 0 && !(jpeg[end + 1] >= 0xd0 && jpeg[end + 1] <= 0xd7))) end++;
    return [at, end];
  }
}

function sofOffset(jpeg: Uint8Array): number {
  return jpeg.findIndex((b, i) => b === 0xff && (jpeg[i + 1] === 0xc0 || jpeg[i + 1] === 0xc2));
}

export interface ImageCategory {
  name: string;
  format: 'png' | 'jpeg';
  make: Make;
}

export const IMAGE_CATEGORIES: ImageCategory[] = [
  { name: 'PNG bit flips', format: 'png', make: (rng, seed) => flipBits(rng, seed, 8) },
  { name: 'PNG bit flips, CRCs fixed', format: 'png', make: (rng, seed) => fixPngCrcs(flipBits(rng, seed, 8)) },
  { name: 'PNG truncated', format: 'png', make: (rng, seed) => seed.subarray(0, randomInt(rng, seed.length)) },
  { name: 'PNG IHDR field, CRC fixed', format: 'png', make: (rng, seed) => withPngHeader(seed, (ihdr) => {
    const field = randomInt(rng, 5);
    if (field === 0) ihdr.setUint32(0, declaredDimension(rng, 2 ** 32 - 1));
    else if (field === 1) ihdr.setUint32(4, declaredDimension(rng, 2 ** 32 - 1));
    else if (field === 2) ihdr.setUint8(8, rng() < 0.7 ? [1, 2, 4, 8, 16][randomInt(rng, 5)] : randomInt(rng, 256));
    else if (field === 3) ihdr.setUint8(9, rng() < 0.7 ? [0, 2, 3, 4, 6][randomInt(rng, 5)] : randomInt(rng, 256));
    else ihdr.setUint8(12 - randomInt(rng, 3), randomInt(rng, 3));
  }) },
  { name: 'PNG huge declared size, CRC fixed', format: 'png', make: (rng, seed) => withPngHeader(seed, (ihdr) => {
    ihdr.setUint32(0, 1 + declaredDimension(rng, 65534));
    ihdr.setUint32(4, 1 + declaredDimension(rng, 65534));
  }) },
  { name: 'PNG image data short or long, CRC fixed', format: 'png', make: (rng, seed) => withImageData(seed, (raw) => {
    const delta = 1 + (rng() < 0.7 ? randomInt(rng, 8) : randomInt(rng, raw.length));
    return rng() < 0.5 ? raw.subarray(0, Math.max(0, raw.length - delta)) : Buffer.concat([raw, randomBytes(rng, delta)]);
  }) },
  { name: 'PNG image data bytes replaced, CRC fixed', format: 'png', make: (rng, seed) => withImageData(seed, (raw) => replaceBytes(rng, raw, 0, raw.length)) },
  { name: 'JPEG bit flips', format: 'jpeg', make: (rng, seed) => flipBits(rng, seed, 2) },
  { name: 'JPEG truncated', format: 'jpeg', make: (rng, seed) => seed.subarray(0, randomInt(rng, seed.length)) },
  { name: 'JPEG header bytes replaced', format: 'jpeg', make: (rng, seed) => replaceBytes(rng, seed, 2, firstScan(seed)[0]) },
  { name: 'JPEG frame header field', format: 'jpeg', make: (rng, seed) => {
    const out = Uint8Array.from(seed);
    const sof = sofOffset(seed);
    const field = randomInt(rng, 4);
    if (field < 2) {
      const value = declaredDimension(rng, 65535);
      out.set([value >> 8, value & 255], sof + 5 + 2 * field);
    } else if (field === 2) {
      out[sof + 9] = rng() < 0.5 ? randomInt(rng, 6) : randomInt(rng, 256); // components
    } else {
      out[sof + 11 + 3 * randomInt(rng, 3)] = randomInt(rng, 256); // a component's sampling factors
    }
    return out;
  } },
  { name: 'JPEG huge declared size', format: 'jpeg', make: (rng, seed) => {
    const out = Uint8Array.from(seed);
    const [width, height] = [1 + declaredDimension(rng, 65534), 1 + declaredDimension(rng, 65534)];
    out.set([height >> 8, height & 255, width >> 8, width & 255], sofOffset(seed) + 5);
    return out;
  } },
  { name: 'JPEG scan data cut or padded', format: 'jpeg', make: (rng, seed) => {
    const [start, end] = firstScan(seed);
    const at = start + randomInt(rng, end - start + 1);
    if (rng() < 0.5) return Buffer.concat([seed.subarray(0, at), seed.subarray(Math.min(end, at + 1 + randomInt(rng, end - at + 1)))]);
    return Buffer.concat([seed.subarray(0, at), randomBytes(rng, 1 + randomInt(rng, 2000)).map((b) => (b === 0xff ? 0 : b)), seed.subarray(at)]);
  } },
  { name: 'JPEG scan bytes replaced', format: 'jpeg', make: (rng, seed) => replaceBytes(rng, seed, ...firstScan(seed)) },
];
