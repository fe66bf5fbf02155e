/**
 * The images aara reads and writes: PNG or JPEG in (sniffed by magic bytes), 8-bit RGB PNG out.
 *
 * Metadata: the ICC colour profile (PNG iCCP, JPEG APP2 ICC_PROFILE segments) and EXIF (PNG eXIf, JPEG APP1) are
 * read as `metadata` and written back into a PNG (iCCP, eXIf). A JPEG turned upright by its EXIF orientation keeps
 * EXIF that says orientation 1, or viewers would turn it again. A damaged profile is left out, never fatal.
 *
 * Alpha policy: aara codes RGB only. When an image carries alpha (PNG colour types 4 and 6, or a tRNS chunk) the
 * alpha is dropped and every pixel keeps its stored RGB as is, whatever its opacity; `info.droppedAlpha` reports it.
 *
 * Hostile input: the declared size (PNG IHDR, JPEG SOF) is checked against the limits before anything is decoded,
 * and every library failure comes out as an AaraError.
 */
import { AaraError, fail } from '../core/errors.js';
// One set of size limits for images and bitstreams alike.
import { resolveLimits, type ImageMetadata, type Limits } from '../format/container.js';
import { crc32 } from '../format/crc32.js';
import { exifTiff, orient, tiffOrientation, uprightExif } from './orientation.js';
import { toRgb, type RgbImage } from './pixels.js';
import { jpegjs, pngjs, zlib } from './lazy-modules.js';

const PNG = () => pngjs().PNG;

export interface ReadInfo {
  format: 'png' | 'jpeg';
  grayscale: boolean;
  droppedAlpha: boolean;
  /** Bits per sample as stored in the file (PNG 1–16, JPEG 8); the pixels returned are always 8-bit. */
  bitDepth: number;
  /** the EXIF orientation (2–8) applied to turn a JPEG upright (orientation.ts); absent when stored upright */
  orientation?: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];
/** ICC profiles are kilobytes, rarely a few hundred; a compressed iCCP inflating past this is refused (left out). */
const MAX_ICC_BYTES = 16 << 20;
/** What a PNG chunk adds around its data: length, type, CRC. */
const PNG_CHUNK_OVERHEAD = 12;
/** IHDR, the first chunk, ends here: signature, then 13 bytes of data in a chunk. */
const PNG_IHDR_END = PNG_SIGNATURE.length + PNG_CHUNK_OVERHEAD + 13;

export type DecodedImage = RgbImage & { info: ReadInfo; metadata?: ImageMetadata };

/** `limits` are merged field by field over DEFAULT_LIMITS (resolveLimits). */
export function decodeImage(bytes: Uint8Array, partialLimits?: Partial<Limits>): DecodedImage {
  if (!(bytes instanceof Uint8Array)) fail('BAD_ARGUMENT', 'image bytes must be a Uint8Array');
  const limits = resolveLimits(partialLimits);
  if (startsWith(bytes, PNG_SIGNATURE)) return decodePng(bytes, limits);
  if (startsWith(bytes, JPEG_SIGNATURE)) return decodeJpeg(bytes, limits);
  return fail('UNSUPPORTED_IMAGE', `expected a PNG or JPEG file, found ${describeContent(bytes)}`);
}

/**
 * 8-bit RGB PNG (adaptive row filters, zlib level 9), with the metadata given as iCCP and eXIf chunks after IHDR.
 * Like toRgb, it also takes RGBA data and drops the alpha.
 */
export function encodePng(img: RgbImage, metadata?: ImageMetadata): Uint8Array {
  const { width, height, data } = toRgb(img);
  const png = new (PNG())();
  png.width = width;
  png.height = height;
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const bytes = PNG().sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false, bitDepth: 8 });
  const chunks: Uint8Array[] = [];
  // iCCP: a profile name (Latin-1, 1–79 bytes; the source's is not kept), a null, compression method 0, zlib data
  if (metadata?.icc) chunks.push(pngChunk('iCCP', concat(new TextEncoder().encode('ICC profile\0\0'), zlib().deflateSync(metadata.icc))));
  if (metadata?.exif) chunks.push(pngChunk('eXIf', metadata.exif));
  if (chunks.length === 0) return bytes;
  return concat(bytes.subarray(0, PNG_IHDR_END), ...chunks, bytes.subarray(PNG_IHDR_END));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A PNG chunk: length, type, data, CRC-32 of type and data. */
function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(PNG_CHUNK_OVERHEAD + data.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) chunk[4 + i] = type.charCodeAt(i);
  chunk.set(data, 8);
  view.setUint32(8 + data.length, crc32(chunk, 4, 8 + data.length));
  return chunk;
}

/** The profile of an iCCP chunk's data (name, null, method 0, zlib stream), or undefined when it is damaged. */
function iccOfPngChunk(data: Uint8Array): Uint8Array | undefined {
  const nameEnd = data.indexOf(0);
  if (nameEnd < 1 || nameEnd > 79 || data[nameEnd + 1] !== 0) return undefined;
  try {
    return new Uint8Array(zlib().inflateSync(data.subarray(nameEnd + 2), { maxOutputLength: MAX_ICC_BYTES }));
  } catch {
    return undefined;
  }
}

/** `metadata` without its empty entries, or undefined when nothing is left. */
function present(metadata: ImageMetadata): ImageMetadata | undefined {
  const kept: ImageMetadata = {};
  if (metadata.icc && metadata.icc.length > 0) kept.icc = metadata.icc;
  if (metadata.exif && metadata.exif.length > 0) kept.exif = metadata.exif;
  return kept.icc || kept.exif ? kept : undefined;
}

/**
 * Validates a caller's pixel buffer and returns it as RGB. RGB input is returned as a view of the same memory
 * (no copy); RGBA input (length w·h·4) is copied without its alpha.
 */
function startsWith(bytes: Uint8Array, signature: readonly number[]): boolean {
  return bytes.length >= signature.length && signature.every((byte, i) => bytes[i] === byte);
}

/** Names the formats people most often feed by mistake; otherwise shows the leading bytes. */
function describeContent(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'an empty file';
  const ascii = (start: number, end: number) => String.fromCharCode(...bytes.subarray(start, end));
  if (ascii(0, 4) === 'GIF8') return 'a GIF image';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'a WebP image';
  if (ascii(4, 8) === 'ftyp') return 'an ISO-BMFF file (AVIF/HEIC/MP4)';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'a TIFF image';
  if (ascii(0, 2) === 'BM') return 'a BMP image';
  const hex = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `unknown content starting with bytes ${hex}`;
}

function checkDimensions(width: number, height: number, limits: Limits, format: string): void {
  if (width === 0 || height === 0) fail('BAD_DIMENSIONS', `${format} header declares ${width}×${height} pixels`);
  if (width > limits.maxWidth || height > limits.maxHeight || width * height > limits.maxPixels) {
    fail(
      'TOO_LARGE',
      `${width}×${height} exceeds the limit of ${limits.maxWidth}×${limits.maxHeight} and ${limits.maxPixels} pixels`,
    );
  }
}

/** Runs a decoding library, turning its exceptions into AaraErrors (its memory caps count as TOO_LARGE). */
function decodeWithLibrary<T>(format: string, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    if (err instanceof AaraError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    if (/maxMemoryUsageInMB|maxResolutionInMP/.test(message)) fail('TOO_LARGE', `${format}: ${message}`);
    return fail('BAD_IMAGE', `corrupt ${format}: ${message}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// PNG

interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
}

interface PngLayout {
  header: PngHeader;
  /** [start, end) byte ranges of tRNS chunks. */
  transparencyChunks: Array<[number, number]>;
  imageData: Uint8Array[];
  /** Offset just past IEND; trailing bytes (common in the wild) are ignored, pngjs would reject them. */
  end: number;
  /** the data of the first iCCP and eXIf chunks */
  iccChunk?: Uint8Array;
  exifChunk?: Uint8Array;
}

/** Samples per pixel of each PNG colour type, and the bit depths the PNG specification allows for it. */
const PNG_COLOR_TYPES: Record<number, { samples: number; depths: number[] }> = {
  0: { samples: 1, depths: [1, 2, 4, 8, 16] },
  2: { samples: 3, depths: [8, 16] },
  3: { samples: 1, depths: [1, 2, 4, 8] },
  4: { samples: 2, depths: [8, 16] },
  6: { samples: 4, depths: [8, 16] },
};

function decodePng(bytes: Uint8Array, limits: Limits): DecodedImage {
  const layout = readPngLayout(bytes, limits);
  const { width, height, bitDepth, colorType, interlaced } = layout.header;
  // The image data must inflate to exactly the size the header implies. pngjs caps nothing for interlaced images,
  // and for short non-interlaced data it returns its whole Buffer.allocUnsafe chunk: the missing rows would be
  // whatever memory the process freed before (issue 14). Checking costs a second inflate (≈ 2 ms per MB).
  checkInflatedSize(layout.imageData, interlaced ? interlacedDataSize(layout.header) : progressiveDataSize(layout.header));
  // pngjs scales 16-bit samples by round(v·255/65535) = round(v/257) and expands gray and palette to RGBA.
  const decoded = decodeWithLibrary('PNG', () => PNG().sync.read(pngForDecoder(bytes, layout)));
  const rgb = toRgb({ width, height, data: decoded.data });
  const metadata = present({ icc: layout.iccChunk && iccOfPngChunk(layout.iccChunk), exif: layout.exifChunk?.slice() });
  return {
    ...rgb,
    ...(metadata && { metadata }),
    info: {
      format: 'png',
      grayscale: colorType === 0 || colorType === 4,
      droppedAlpha: colorType === 4 || colorType === 6 || layout.transparencyChunks.length > 0,
      bitDepth,
    },
  };
}

/** Walks the chunk list without decompressing anything; checks IHDR and the size limits first. */
function readPngLayout(bytes: Uint8Array, limits: Limits): PngLayout {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const transparencyChunks: Array<[number, number]> = [];
  const imageData: Uint8Array[] = [];
  let header: PngHeader | undefined;
  let iccChunk: Uint8Array | undefined;
  let exifChunk: Uint8Array | undefined;
  let offset = PNG_SIGNATURE.length;
  for (;;) {
    if (offset + 12 > bytes.length) fail('BAD_IMAGE', 'PNG is truncated (no IEND chunk)');
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const dataStart = offset + 8;
    const chunkEnd = dataStart + length + 4;
    if (chunkEnd > bytes.length) fail('BAD_IMAGE', `PNG is truncated in the chunk at byte ${offset}`);
    if (header === undefined) {
      if (type !== 'IHDR' || length !== 13) fail('BAD_IMAGE', 'PNG does not start with a valid IHDR chunk');
      header = parseIhdr(view, dataStart);
      checkDimensions(header.width, header.height, limits, 'PNG');
    } else if (type === 'tRNS') {
      transparencyChunks.push([offset, chunkEnd]);
    } else if (type === 'IDAT') {
      imageData.push(bytes.subarray(dataStart, dataStart + length));
    } else if (type === 'iCCP') {
      iccChunk ??= bytes.subarray(dataStart, dataStart + length);
    } else if (type === 'eXIf') {
      exifChunk ??= bytes.subarray(dataStart, dataStart + length);
    } else if (type === 'IEND') {
      return { header, transparencyChunks, imageData, end: chunkEnd, iccChunk, exifChunk };
    }
    offset = chunkEnd;
  }
}

function parseIhdr(view: DataView, at: number): PngHeader {
  const header = {
    width: view.getUint32(at),
    height: view.getUint32(at + 4),
    bitDepth: view.getUint8(at + 8),
    colorType: view.getUint8(at + 9),
    interlaced: view.getUint8(at + 12) === 1,
  };
  if (!PNG_COLOR_TYPES[header.colorType]?.depths.includes(header.bitDepth)) {
    fail('BAD_IMAGE', `PNG declares colour type ${header.colorType} with bit depth ${header.bitDepth}`);
  }
  return header;
}

/**
 * The bytes handed to pngjs: up to IEND, without tRNS chunks. Alpha is dropped anyway, and for gray and RGB
 * images pngjs would otherwise zero the RGB of pixels matching the transparent colour.
 */
function pngForDecoder(bytes: Uint8Array, layout: PngLayout): Buffer {
  const kept: Uint8Array[] = [];
  let from = 0;
  for (const [start, end] of layout.transparencyChunks) {
    kept.push(bytes.subarray(from, start));
    from = end;
  }
  kept.push(bytes.subarray(from, layout.end));
  return kept.length === 1 ? Buffer.from(bytes.buffer, bytes.byteOffset, layout.end) : Buffer.concat(kept);
}

/** Adam7 passes as [x0, y0, dx, dy]. */
const ADAM7_PASSES = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/** Size of the filtered, interlaced scanlines (one filter byte per row of each non-empty pass). */
function interlacedDataSize({ width, height, bitDepth, colorType }: PngHeader): number {
  const bitsPerPixel = PNG_COLOR_TYPES[colorType].samples * bitDepth;
  let size = 0;
  for (const [x0, y0, dx, dy] of ADAM7_PASSES) {
    const passWidth = Math.max(0, Math.ceil((width - x0) / dx));
    const passHeight = Math.max(0, Math.ceil((height - y0) / dy));
    if (passWidth > 0) size += passHeight * (1 + Math.ceil((passWidth * bitsPerPixel) / 8));
  }
  return size;
}

/** Size of the filtered scanlines of a non-interlaced image: one filter byte per row. */
function progressiveDataSize({ width, height, bitDepth, colorType }: PngHeader): number {
  return height * (1 + Math.ceil((width * PNG_COLOR_TYPES[colorType].samples * bitDepth) / 8));
}

function checkInflatedSize(imageData: Uint8Array[], expected: number): void {
  let inflated: Buffer;
  try {
    inflated = zlib().inflateSync(Buffer.concat(imageData), { maxOutputLength: expected });
  } catch (err) {
    const tooLong = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    return fail('BAD_IMAGE', tooLong ? 'PNG image data is larger than its header declares' : `corrupt PNG: ${(err as Error).message}`);
  }
  if (inflated.length !== expected) {
    fail('BAD_IMAGE', `PNG image data is shorter than its header declares (${inflated.length} of ${expected} bytes)`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// JPEG

interface JpegFrame {
  /** Start-of-frame marker, 0xC0–0xCF: says how the image is coded. */
  marker: number;
  precision: number;
  width: number;
  height: number;
  components: number;
  /** each component's horizontal and vertical sampling factors (1–4) */
  sampling: Array<[number, number]>;
}

/** Frame kinds jpeg-js cannot decode, by SOF marker. */
const UNSUPPORTED_JPEG_CODING: Record<number, string> = {
  0xc3: 'lossless',
  0xc5: 'hierarchical',
  0xc6: 'hierarchical',
  0xc7: 'hierarchical',
  0xc9: 'arithmetic-coded',
  0xca: 'arithmetic-coded',
  0xcb: 'arithmetic-coded',
  0xcd: 'arithmetic-coded',
  0xce: 'arithmetic-coded',
  0xcf: 'arithmetic-coded',
};

function decodeJpeg(bytes: Uint8Array, limits: Limits): DecodedImage {
  const { frame, scanBytes, exif, iccSegments } = readJpegFrame(bytes);
  const orientation = exif ? tiffOrientation(exif) : 1;
  const coding = UNSUPPORTED_JPEG_CODING[frame.marker];
  if (coding) fail('UNSUPPORTED_IMAGE', `${coding} JPEG is not supported; only baseline and progressive`);
  if (frame.components === 4) fail('UNSUPPORTED_IMAGE', 'CMYK JPEG is not supported; convert to RGB');
  if (frame.components !== 1 && frame.components !== 3) {
    fail('UNSUPPORTED_IMAGE', `JPEG with ${frame.components} colour components is not supported`);
  }
  if (frame.precision !== 8) fail('UNSUPPORTED_IMAGE', `${frame.precision}-bit JPEG is not supported; only 8-bit`);
  checkDimensions(frame.width, frame.height, limits, 'JPEG');
  checkScanData(frame, scanBytes);
  const decoded = decodeWithLibrary('JPEG', () =>
    jpegjs().decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxResolutionInMP: Math.ceil(limits.maxPixels / 1e6),
      maxMemoryUsageInMB: jpegMemoryBudgetMB(limits.maxPixels),
    }),
  );
  const rgb = orient(toRgb({ width: frame.width, height: frame.height, data: decoded.data }), orientation);
  const metadata = present({ icc: iccOfJpegSegments(iccSegments), exif: exif && (orientation !== 1 ? uprightExif(exif) : exif.slice()) });
  return {
    ...rgb,
    ...(metadata && { metadata }),
    info: { format: 'jpeg', grayscale: frame.components === 1, droppedAlpha: false, bitDepth: 8, ...(orientation !== 1 && { orientation }) },
  };
}

/** "ICC_PROFILE\0", then the segment's number (1-based) and the count, then a piece of the profile (ICC.1 B.4). */
const ICC_SEGMENT_HEADER = 'ICC_PROFILE\0';

/** The profile of a JPEG's APP2 ICC_PROFILE segments, or undefined when there is none or a piece is missing. */
function iccOfJpegSegments(segments: Uint8Array[]): Uint8Array | undefined {
  if (segments.length === 0) return undefined;
  const count = segments[0][ICC_SEGMENT_HEADER.length + 1];
  const pieces: Uint8Array[] = [];
  for (const s of segments) {
    const [number, total] = [s[ICC_SEGMENT_HEADER.length], s[ICC_SEGMENT_HEADER.length + 1]];
    if (total !== count || number < 1 || number > count || pieces[number - 1]) return undefined;
    pieces[number - 1] = s.subarray(ICC_SEGMENT_HEADER.length + 2);
  }
  if (pieces.length !== count || pieces.some((p) => p === undefined)) return undefined;
  return concat(...pieces);
}

/**
 * jpeg-js's working memory: per component up to 4 bytes a pixel of coefficients (more with MCU padding), plus the
 * component planes and the output. 24 bytes a pixel covers three full-resolution components with room to spare.
 */
function jpegMemoryBudgetMB(maxPixels: number): number {
  return Math.ceil((maxPixels * 24) / (1024 * 1024)) + 16;
}

/**
 * Walks the marker segments and the entropy-coded data up to the end-of-image marker and returns the frame
 * header. The whole walk matters: jpeg-js fills missing scan data with gray instead of failing, so truncation
 * must be caught here.
 */
function readJpegFrame(bytes: Uint8Array): { frame: JpegFrame; scanBytes: number; exif?: Uint8Array; iccSegments: Uint8Array[] } {
  let frame: JpegFrame | undefined;
  let scanBytes = 0;
  let exif: Uint8Array | undefined;
  const iccSegments: Uint8Array[] = [];
  let offset = 2; // past SOI
  for (;;) {
    const marker = nextJpegMarker(bytes, offset);
    offset = marker.end;
    if (marker.code === 0xd9) return { frame: frame ?? fail('BAD_IMAGE', 'JPEG has no frame header'), scanBytes, exif, iccSegments };
    if (!hasSegment(marker.code)) continue;
    const length = segmentLength(bytes, offset);
    const payload = bytes.subarray(offset + 2, offset + length);
    // the first EXIF APP1 segment is the image's EXIF and says how to turn it (a later one, or an XMP APP1, does not count)
    if (marker.code === 0xe1 && exif === undefined) exif = exifTiff(payload);
    if (marker.code === 0xe2 && payload.length > ICC_SEGMENT_HEADER.length + 2 &&
      String.fromCharCode(...payload.subarray(0, ICC_SEGMENT_HEADER.length)) === ICC_SEGMENT_HEADER) iccSegments.push(payload);
    if (isStartOfFrame(marker.code) && frame === undefined) frame = parseFrameHeader(bytes, offset, marker.code, length);
    if (marker.code !== 0xda) {
      offset += length;
    } else if (frame === undefined) {
      fail('BAD_IMAGE', 'JPEG scan comes before its frame header');
    } else {
      offset = endOfEntropyCodedData(bytes, offset + length);
      scanBytes += offset - (marker.end + length);
    }
  }
}

/** The marker at `offset` (after any 0xFF fill bytes): its code and the offset just past it. */
function nextJpegMarker(bytes: Uint8Array, offset: number): { code: number; end: number } {
  if (offset >= bytes.length) fail('BAD_IMAGE', 'JPEG is truncated (no end-of-image marker)');
  if (bytes[offset] !== 0xff) fail('BAD_IMAGE', `JPEG marker expected at byte ${offset}`);
  let at = offset + 1;
  while (bytes[at] === 0xff) at++;
  if (at >= bytes.length) fail('BAD_IMAGE', 'JPEG is truncated (no end-of-image marker)');
  return { code: bytes[at], end: at + 1 };
}

/** Every marker but SOI, EOI, RSTn and TEM is followed by a segment that starts with its 16-bit length. */
function hasSegment(code: number): boolean {
  return !(code === 0xd8 || code === 0xd9 || code === 0x01 || (code >= 0xd0 && code <= 0xd7));
}

function segmentLength(bytes: Uint8Array, offset: number): number {
  const length = offset + 2 <= bytes.length ? (bytes[offset] << 8) | bytes[offset + 1] : 0;
  if (length < 2 || offset + length > bytes.length) fail('BAD_IMAGE', `JPEG segment at byte ${offset} is truncated`);
  return length;
}

/** SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC) which share the range. */
function isStartOfFrame(code: number): boolean {
  return code >= 0xc0 && code <= 0xcf && code !== 0xc4 && code !== 0xc8 && code !== 0xcc;
}

function parseFrameHeader(bytes: Uint8Array, offset: number, marker: number, length: number): JpegFrame {
  if (length < 8) fail('BAD_IMAGE', 'JPEG frame header is too short');
  const components = bytes[offset + 7];
  if (length < 8 + 3 * components) fail('BAD_IMAGE', `JPEG frame header is too short for ${components} components`);
  const sampling = Array.from({ length: components }, (_, c): [number, number] => {
    const factors = bytes[offset + 9 + 3 * c];
    const [h, v] = [factors >> 4, factors & 15];
    if (h < 1 || h > 4 || v < 1 || v > 4) fail('BAD_IMAGE', `JPEG component ${c} has sampling factors ${h}×${v}`);
    return [h, v];
  });
  return {
    marker,
    precision: bytes[offset + 2],
    height: (bytes[offset + 3] << 8) | bytes[offset + 4],
    width: (bytes[offset + 5] << 8) | bytes[offset + 6],
    components,
    sampling,
  };
}

/**
 * Every 8×8 block of every component has its DC coefficient Huffman-coded in some scan (baseline or progressive),
 * and a Huffman code is at least one bit: scan data shorter than a bit a block cannot be the declared image.
 * jpeg-js would first allocate the whole image's coefficients (≈ 1 GB for a 3.5 KB file declaring 8192×8192)
 * and then fill the missing blocks with gray or fail: such files are refused here, before it runs.
 */
function checkScanData(frame: JpegFrame, scanBytes: number): void {
  const hMax = Math.max(...frame.sampling.map(([h]) => h));
  const vMax = Math.max(...frame.sampling.map(([, v]) => v));
  let blocks = 0;
  for (const [h, v] of frame.sampling) {
    blocks += Math.ceil(Math.ceil((frame.width * h) / hMax) / 8) * Math.ceil(Math.ceil((frame.height * v) / vMax) / 8);
  }
  if (scanBytes * 8 < blocks) {
    fail('BAD_IMAGE', `JPEG scan data of ${scanBytes} bytes is too short for ${frame.width}×${frame.height} (${blocks} blocks need ≥ ${Math.ceil(blocks / 8)} bytes)`);
  }
}

/** Inside entropy-coded data 0xFF is followed only by 0x00 (stuffing), RSTn or fill bytes: any other marker ends it. */
function endOfEntropyCodedData(bytes: Uint8Array, from: number): number {
  for (let i = from; i + 1 < bytes.length; i++) {
    if (bytes[i] !== 0xff) continue;
    const next = bytes[i + 1];
    if (next !== 0x00 && next !== 0xff && !(next >= 0xd0 && next <= 0xd7)) return i;
  }
  return fail('BAD_IMAGE', 'JPEG is truncated (no end-of-image marker)');
}
