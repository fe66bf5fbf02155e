import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import { PNG, type ColorType } from 'pngjs';
import { encode as encodeJpeg } from 'jpeg-js';
import { decodeImage, encodePng } from '../src/io/image-io.js';
import { toRgb, type RgbImage } from '../src/io/pixels.js';
import { psnr } from '../src/eval/metrics.js';
import { AaraError, type ErrorCode } from '../src/core/errors.js';
import { mulberry32, randomBytes, randomInt } from './helpers/prng.js';

const fixture = (name: string) => new Uint8Array(readFileSync(fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url))));

function throwsCode(run: () => unknown, codes: ErrorCode[], message?: RegExp): void {
  try {
    run();
  } catch (err) {
    assert.instance(err, AaraError);
    const { code, message: text } = err as AaraError;
    assert.ok(codes.includes(code), `expected ${codes.join(' or ')}, got ${code}: ${text}`);
    if (message) assert.match(text, message);
    return;
  }
  assert.unreachable(`expected ${codes.join(' or ')}`);
}

/** A smooth RGB test image, so lossy round trips can be judged by PSNR. */
function gradient(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 8) & 255;
      data[i + 1] = (y * 10) & 255;
      data[i + 2] = ((x + y) * 4) & 255;
    }
  }
  return { width, height, data };
}

function rgbaOf(img: RgbImage, alpha: (pixel: number) => number): Buffer {
  const rgba = Buffer.alloc(img.width * img.height * 4);
  for (let p = 0; p < img.width * img.height; p++) {
    rgba.set(img.data.subarray(p * 3, p * 3 + 3), p * 4);
    rgba[p * 4 + 3] = alpha(p);
  }
  return rgba;
}

/** pngjs's writer: 8-bit RGBA input converted to the colour type asked for. */
function pngjsPng(width: number, height: number, rgba: Buffer, colorType: ColorType): Uint8Array {
  const png = new PNG({ width, height });
  png.data = rgba;
  return PNG.sync.write(png, { colorType, inputColorType: 6, bitDepth: 8 });
}

// Hand-made PNGs, for what pngjs cannot write: palettes, low bit depths, tRNS, Adam7, hostile headers.

function chunk(type: string, data: Uint8Array = new Uint8Array(0)): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function ihdr(width: number, height: number, bitDepth: number, colorType: number, interlace = 0): Buffer {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data.set([bitDepth, colorType, 0, 0, interlace], 8);
  return chunk('IHDR', data);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngFile(...chunks: Buffer[]): Uint8Array {
  return Buffer.concat([PNG_SIGNATURE, ...chunks, chunk('IEND')]);
}

type SampleAt = (x: number, y: number, channel: number) => number;

/** Unfiltered scanlines (filter byte 0) of the pixels (x0 + i·dx, y0 + j·dy), samples packed MSB first. */
function scanlines(width: number, height: number, samples: number, depth: number, at: SampleAt, [x0, y0, dx, dy] = [0, 0, 1, 1]): Uint8Array {
  const columns = Math.max(0, Math.ceil((width - x0) / dx));
  const rows = Math.max(0, Math.ceil((height - y0) / dy));
  if (columns === 0) return new Uint8Array(0);
  const rowBytes = Math.ceil((columns * samples * depth) / 8);
  const out = new Uint8Array(rows * (rowBytes + 1));
  for (let j = 0; j < rows; j++) {
    const row = out.subarray(j * (rowBytes + 1) + 1, (j + 1) * (rowBytes + 1));
    let bit = 0;
    for (let i = 0; i < columns; i++) {
      for (let c = 0; c < samples; c++, bit += depth) {
        const value = at(x0 + i * dx, y0 + j * dy, c);
        if (depth === 16) {
          row[bit / 8] = value >> 8;
          row[bit / 8 + 1] = value & 255;
        } else {
          row[bit >> 3] |= value << (8 - depth - (bit & 7));
        }
      }
    }
  }
  return out;
}

const ADAM7: Array<[number, number, number, number]> = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

function idat(width: number, height: number, samples: number, depth: number, at: SampleAt, interlaced = false): Buffer {
  const raw = interlaced
    ? Buffer.concat(ADAM7.map((pass) => scanlines(width, height, samples, depth, at, pass)))
    : scanlines(width, height, samples, depth, at);
  return chunk('IDAT', deflateSync(raw));
}

const CMYK_NOTE = /CMYK JPEG is not supported; convert to RGB/;

/** SOI, a frame header, EOI: enough for the header checks, which come before any decoding. */
function jpegHeader(marker: number, precision: number, width: number, height: number, components: number): Uint8Array {
  const sof = [precision, height >> 8, height & 255, width >> 8, width & 255, components];
  for (let c = 0; c < components; c++) sof.push(c + 1, 0x11, 0);
  const length = sof.length + 2;
  return Uint8Array.from([0xff, 0xd8, 0xff, marker, length >> 8, length & 255, ...sof, 0xff, 0xd9]);
}

// ---------------------------------------------------------------------------------------------------------------

test('8-bit RGB PNG round trip through encodePng', () => {
  const img = gradient(19, 7);
  const png = encodePng(img);
  assert.equal([...png.subarray(24, 26)], [8, 2], 'IHDR says 8-bit RGB');
  const back = decodeImage(png);
  assert.is(back.width, 19);
  assert.is(back.height, 7);
  assert.equal(back.data, img.data);
  assert.equal(back.info, { format: 'png', grayscale: false, droppedAlpha: false, bitDepth: 8 });
});

test('16-bit PNG samples become round(v / 257)', () => {
  const values = [0, 65535, 32767, 32768, 25828, 25829, 257, 128, 129];
  const png = pngFile(ihdr(values.length, 1, 16, 2), idat(values.length, 1, 3, 16, (x, _y, c) => (c === 0 ? values[x] : 65535 - values[x])));
  const img = decodeImage(png);
  assert.equal(img.info, { format: 'png', grayscale: false, droppedAlpha: false, bitDepth: 16 });
  const expected = values.map((v) => Math.round(v / 257));
  assert.equal([...img.data.filter((_, i) => i % 3 === 0)], expected);
  assert.equal([...img.data.filter((_, i) => i % 3 === 1)], values.map((v) => Math.round((65535 - v) / 257)));
  assert.equal(expected.slice(2, 6), [127, 128, 100, 101]);
});

test('16-bit RGBA PNG written by pngjs', () => {
  const rgba16 = new Uint16Array([1000, 30000, 65535, 0, 65535, 0, 514, 65535]);
  const png = new PNG({ width: 2, height: 1 });
  png.data = Buffer.from(rgba16.buffer);
  const bytes = PNG.sync.write(png, { colorType: 6, inputColorType: 6, bitDepth: 16 });
  const img = decodeImage(bytes);
  assert.equal([...img.data], [4, 117, 255, 255, 0, 2]);
  assert.equal(img.info, { format: 'png', grayscale: false, droppedAlpha: true, bitDepth: 16 });
});

test('gray PNG: R = G = B = the stored gray value', () => {
  const grayAt: SampleAt = (x, y) => (x * 29 + y * 61) & 255;
  const decoded = decodeImage(pngFile(ihdr(9, 4, 8, 0), idat(9, 4, 1, 8, grayAt)));
  assert.equal(decoded.info, { format: 'png', grayscale: true, droppedAlpha: false, bitDepth: 8 });
  const expected = Array.from({ length: 36 }, (_, p) => grayAt(p % 9, Math.floor(p / 9), 0)).flatMap((g) => [g, g, g]);
  assert.equal([...decoded.data], expected);
  // pngjs's gray writer agrees on R = G = B
  const viaPngjs = decodeImage(pngjsPng(9, 4, rgbaOf(gradient(9, 4), () => 255), 0));
  for (let p = 0; p < 36; p++) assert.ok(viaPngjs.data[p * 3] === viaPngjs.data[p * 3 + 1] && viaPngjs.data[p * 3] === viaPngjs.data[p * 3 + 2]);
});

test('gray+alpha PNG: alpha dropped, gray kept even where transparent', () => {
  const png = pngFile(ihdr(3, 1, 8, 4), idat(3, 1, 2, 8, (x, _y, c) => (c === 0 ? [10, 128, 250][x] : [0, 128, 255][x])));
  const img = decodeImage(png);
  assert.equal([...img.data], [10, 10, 10, 128, 128, 128, 250, 250, 250]);
  assert.equal(img.info, { format: 'png', grayscale: true, droppedAlpha: true, bitDepth: 8 });
});

test('low bit depth gray PNG is scaled to 0..255', () => {
  const png = pngFile(ihdr(4, 1, 2, 0), idat(4, 1, 1, 2, (x) => x));
  const img = decodeImage(png);
  assert.equal([...img.data.filter((_, i) => i % 3 === 0)], [0, 85, 170, 255]);
  assert.is(img.info.bitDepth, 2);
});

test('palette PNG (2-bit, with tRNS): colours from the palette, alpha dropped', () => {
  const palette = [255, 0, 0, 0, 255, 0, 0, 0, 255, 7, 8, 9];
  const png = pngFile(
    ihdr(5, 2, 2, 3),
    chunk('PLTE', Uint8Array.from(palette)),
    chunk('tRNS', Uint8Array.from([0, 128])),
    idat(5, 2, 1, 2, (x, y) => (x + y) % 4),
  );
  const img = decodeImage(png);
  for (let y = 0; y < 2; y++) {
    for (let x = 0; x < 5; x++) {
      const p = (y * 5 + x) * 3;
      const entry = ((x + y) % 4) * 3;
      assert.equal([...img.data.subarray(p, p + 3)], palette.slice(entry, entry + 3));
    }
  }
  assert.equal(img.info, { format: 'png', grayscale: false, droppedAlpha: true, bitDepth: 2 });
});

test('palette PNG without tRNS has no alpha to drop', () => {
  const png = pngFile(ihdr(2, 1, 8, 3), chunk('PLTE', Uint8Array.from([1, 2, 3, 4, 5, 6])), idat(2, 1, 1, 8, (x) => 1 - x));
  const img = decodeImage(png);
  assert.equal([...img.data], [4, 5, 6, 1, 2, 3]);
  assert.is(img.info.droppedAlpha, false);
});

test('RGBA PNG: alpha dropped, RGB of transparent pixels kept as stored', () => {
  const img = gradient(6, 5);
  const decoded = decodeImage(pngjsPng(6, 5, rgbaOf(img, (p) => (p % 3) * 100), 6));
  assert.equal(decoded.data, img.data);
  assert.equal(decoded.info, { format: 'png', grayscale: false, droppedAlpha: true, bitDepth: 8 });
});

test('RGB PNG with a tRNS colour: that colour is kept, not zeroed', () => {
  const trns = Uint8Array.from([0, 200, 0, 100, 0, 50]);
  const png = pngFile(ihdr(2, 1, 8, 2), chunk('tRNS', trns), idat(2, 1, 3, 8, (x, _y, c) => (x === 0 ? [200, 100, 50][c] : 9)));
  const img = decodeImage(png);
  assert.equal([...img.data], [200, 100, 50, 9, 9, 9]);
  assert.is(img.info.droppedAlpha, true);
});

test('interlaced (Adam7) and plain PNGs decode to the samples written', () => {
  const rgbAt: SampleAt = (x, y, c) => (x * 31 + y * 17 + c * 70) & 255;
  for (const [width, height] of [[13, 9], [1, 1], [3, 10], [8, 8]]) {
    const expected = Array.from({ length: width * height * 3 }, (_, i) => rgbAt(Math.floor(i / 3) % width, Math.floor(i / 3 / width), i % 3));
    const plain = decodeImage(pngFile(ihdr(width, height, 8, 2), idat(width, height, 3, 8, rgbAt)));
    const interlaced = decodeImage(pngFile(ihdr(width, height, 8, 2, 1), idat(width, height, 3, 8, rgbAt, true)));
    assert.equal([...plain.data], expected, `${width}×${height} plain`);
    assert.equal([...interlaced.data], expected, `${width}×${height} interlaced`);
  }
  const bitAt: SampleAt = (x, y) => (x ^ y) & 1;
  const expected = Array.from({ length: 11 * 6 * 3 }, (_, i) => 255 * bitAt(Math.floor(i / 3) % 11, Math.floor(i / 33), 0));
  assert.equal([...decodeImage(pngFile(ihdr(11, 6, 1, 0), idat(11, 6, 1, 1, bitAt))).data], expected, '1-bit gray plain');
  assert.equal([...decodeImage(pngFile(ihdr(11, 6, 1, 0, 1), idat(11, 6, 1, 1, bitAt, true))).data], expected, '1-bit gray interlaced');
});

test('interlaced PNG whose data inflates past its declared size is refused', () => {
  const bomb = chunk('IDAT', deflateSync(new Uint8Array(1 << 20)));
  throwsCode(() => decodeImage(pngFile(ihdr(4, 4, 8, 2, 1), bomb)), ['BAD_IMAGE'], /larger than its header declares/);
});

test('issue 14 repro: IHDR 20000×1 RGB with one inflated byte is refused, not filled from freed memory', () => {
  const png = pngFile(ihdr(20000, 1, 8, 2), chunk('IDAT', deflateSync(Uint8Array.of(0))));
  throwsCode(() => decodeImage(png), ['BAD_IMAGE'], /shorter than its header declares \(1 of 60001 bytes\)/);
  // a tiny file declaring 8192×8192 cannot hold 64 Mpixel of data: refused instead of read as a black image
  const big = pngFile(ihdr(8192, 8192, 8, 2), chunk('IDAT', deflateSync(new Uint8Array(1 << 16))));
  throwsCode(() => decodeImage(big, { maxPixels: 64 * 1024 * 1024 }), ['BAD_IMAGE'], /shorter than its header declares/);
  throwsCode(() => decodeImage(big), ['TOO_LARGE']); // past the default 24 Mpixel
});

test('image data one byte short or one byte long is refused for every colour type, bit depth and interlace', () => {
  const kinds: Array<[number, number, number]> = [
    [0, 1, 1], [0, 2, 1], [0, 4, 1], [0, 8, 1], [0, 16, 1],
    [2, 8, 3], [2, 16, 3],
    [3, 1, 1], [3, 2, 1], [3, 4, 1], [3, 8, 1],
    [4, 8, 2], [4, 16, 2],
    [6, 8, 4], [6, 16, 4],
  ];
  const palette = chunk('PLTE', Uint8Array.from({ length: 256 * 3 }, (_, i) => (i * 7) & 255));
  for (const [colorType, depth, samples] of kinds) {
    for (const interlaced of [false, true]) {
      const [width, height] = [11, 7];
      const at: SampleAt = (x, y, c) => (x * 5 + y * 3 + c) % (1 << Math.min(depth, 8));
      const raw = interlaced
        ? Buffer.concat(ADAM7.map((pass) => scanlines(width, height, samples, depth, at, pass)))
        : Buffer.from(scanlines(width, height, samples, depth, at));
      const head = colorType === 3 ? [ihdr(width, height, depth, colorType, +interlaced), palette] : [ihdr(width, height, depth, colorType, +interlaced)];
      const what = `colour type ${colorType}, ${depth} bit${interlaced ? ', Adam7' : ''}`;
      const exact = decodeImage(pngFile(...head, chunk('IDAT', deflateSync(raw))));
      assert.is(exact.data.length, width * height * 3, what);
      const short = pngFile(...head, chunk('IDAT', deflateSync(raw.subarray(0, raw.length - 1))));
      throwsCode(() => decodeImage(short), ['BAD_IMAGE'], /shorter than its header declares/);
      const empty = pngFile(...head, chunk('IDAT', deflateSync(new Uint8Array(0))));
      throwsCode(() => decodeImage(empty), ['BAD_IMAGE'], /shorter than its header declares/);
      const long = pngFile(...head, chunk('IDAT', deflateSync(Buffer.concat([raw, Uint8Array.of(0)]))));
      throwsCode(() => decodeImage(long), ['BAD_IMAGE'], /larger than its header declares/);
    }
  }
});

test('bytes after IEND are ignored', () => {
  const png = Buffer.concat([encodePng(gradient(3, 3)), Buffer.from('trailing junk')]);
  assert.equal(decodeImage(png).data, gradient(3, 3).data);
});

test('1×1 PNG and JPEG', () => {
  const pixel = { width: 1, height: 1, data: Uint8Array.from([12, 200, 77]) };
  assert.equal(decodeImage(encodePng(pixel)).data, pixel.data);
  const jpeg = decodeImage(encodeJpeg({ width: 1, height: 1, data: rgbaOf(pixel, () => 255) }, 100).data);
  assert.is(jpeg.width, 1);
  assert.is(jpeg.height, 1);
  assert.ok(pixel.data.every((v, i) => Math.abs(v - jpeg.data[i]) <= 3), `${[...jpeg.data]}`);
});

test('baseline JPEG (jpeg-js encoder)', () => {
  const img = gradient(40, 24);
  const jpeg = encodeJpeg({ width: 40, height: 24, data: rgbaOf(img, () => 255) }, 90).data;
  const decoded = decodeImage(jpeg);
  assert.is(decoded.width, 40);
  assert.is(decoded.height, 24);
  assert.equal(decoded.info, { format: 'jpeg', grayscale: false, droppedAlpha: false, bitDepth: 8 });
  assert.ok(psnr(decoded.data, img.data) > 30, `psnr ${psnr(decoded.data, img.data)}`);
});

test('progressive JPEG (made by cjpeg -progressive from gradient(32, 24))', () => {
  const bytes = fixture('progressive.jpg');
  assert.ok(bytes.some((b, i) => b === 0xff && bytes[i + 1] === 0xc2), 'has a SOF2 marker');
  const decoded = decodeImage(bytes);
  assert.is(decoded.width, 32);
  assert.is(decoded.height, 24);
  assert.is(decoded.info.format, 'jpeg');
  assert.ok(psnr(decoded.data, gradient(32, 24).data) > 35, `psnr ${psnr(decoded.data, gradient(32, 24).data)}`);
});

test('JPEG kinds that are refused by their frame header', () => {
  throwsCode(() => decodeImage(jpegHeader(0xc0, 8, 16, 16, 4)), ['UNSUPPORTED_IMAGE'], CMYK_NOTE);
  throwsCode(() => decodeImage(jpegHeader(0xc2, 8, 16, 16, 4)), ['UNSUPPORTED_IMAGE'], CMYK_NOTE);
  throwsCode(() => decodeImage(jpegHeader(0xc3, 8, 16, 16, 3)), ['UNSUPPORTED_IMAGE'], /lossless/);
  throwsCode(() => decodeImage(jpegHeader(0xc9, 8, 16, 16, 3)), ['UNSUPPORTED_IMAGE'], /arithmetic/);
  throwsCode(() => decodeImage(jpegHeader(0xc1, 12, 16, 16, 3)), ['UNSUPPORTED_IMAGE'], /12-bit/);
  throwsCode(() => decodeImage(jpegHeader(0xc0, 8, 16, 16, 2)), ['UNSUPPORTED_IMAGE'], /2 colour components/);
});

test('declared sizes are checked before decoding', () => {
  // Headers only: decoding them would fail with BAD_IMAGE, so these codes prove the check came first.
  throwsCode(() => decodeImage(pngFile(ihdr(100000, 100000, 8, 2))), ['TOO_LARGE']);
  throwsCode(() => decodeImage(pngFile(ihdr(0xffffffff, 1, 8, 2))), ['TOO_LARGE']);
  throwsCode(() => decodeImage(Buffer.concat([PNG_SIGNATURE, ihdr(70000, 2, 8, 2)])), ['TOO_LARGE']);
  throwsCode(() => decodeImage(jpegHeader(0xc0, 8, 60000, 60000, 3)), ['TOO_LARGE']);
  throwsCode(() => decodeImage(pngFile(ihdr(0, 5, 8, 2))), ['BAD_DIMENSIONS']);
  throwsCode(() => decodeImage(jpegHeader(0xc0, 8, 16, 0, 3)), ['BAD_DIMENSIONS']);
  const small = encodePng(gradient(10, 10));
  throwsCode(() => decodeImage(small, { maxWidth: 100, maxHeight: 100, maxPixels: 99 }), ['TOO_LARGE']);
  throwsCode(() => decodeImage(small, { maxWidth: 9, maxHeight: 100, maxPixels: 1000 }), ['TOO_LARGE']);
  assert.is(decodeImage(small, { maxWidth: 10, maxHeight: 10, maxPixels: 100 }).width, 10);
});

test('a JPEG whose scan data is too short for its declared size is refused before jpeg-js allocates the image', () => {
  const jpeg = Uint8Array.from(encodeJpeg({ width: 16, height: 16, data: rgbaOf(gradient(16, 16), () => 255) }, 90).data);
  const sof = jpeg.findIndex((b, i) => b === 0xff && jpeg[i + 1] === 0xc0);
  const declaring = (width: number, height: number) => {
    const bytes = Uint8Array.from(jpeg);
    bytes.set([height >> 8, height & 255, width >> 8, width & 255], sof + 5);
    return bytes;
  };
  assert.is(decodeImage(declaring(16, 16)).width, 16);
  // within the default limits, but 3 × 393216 blocks need ≥ 147456 bytes of scan data (a bit a block), and there are < 1000
  throwsCode(() => decodeImage(declaring(6144, 4096)), ['BAD_IMAGE'], /scan data of \d+ bytes is too short for 6144×4096/);
  throwsCode(() => decodeImage(declaring(400, 400)), ['BAD_IMAGE'], /too short/);
});

test('other formats are named in the error', () => {
  throwsCode(() => decodeImage(Buffer.from('GIF89a\x01\x00\x01\x00')), ['UNSUPPORTED_IMAGE'], /GIF/);
  throwsCode(() => decodeImage(Buffer.from('RIFF\x00\x00\x00\x00WEBPVP8 ')), ['UNSUPPORTED_IMAGE'], /WebP/);
  throwsCode(() => decodeImage(new Uint8Array(0)), ['UNSUPPORTED_IMAGE'], /empty/);
  throwsCode(() => decodeImage(Uint8Array.from([1, 2, 3])), ['UNSUPPORTED_IMAGE'], /01 02 03/);
});

test('broken PNGs: bad CRC, invalid header fields, missing palette', () => {
  const png = Buffer.from(encodePng(gradient(8, 8)));
  png[png.length - 20] ^= 0x55; // inside IDAT
  throwsCode(() => decodeImage(png), ['BAD_IMAGE']);
  throwsCode(() => decodeImage(pngFile(ihdr(4, 4, 4, 2))), ['BAD_IMAGE'], /colour type 2 with bit depth 4/);
  throwsCode(() => decodeImage(pngFile(ihdr(2, 1, 8, 3), idat(2, 1, 1, 8, () => 0))), ['BAD_IMAGE']);
  throwsCode(() => decodeImage(pngFile(chunk('tEXt', Buffer.from('a\0b')), ihdr(2, 2, 8, 2))), ['BAD_IMAGE'], /IHDR/);
  const outOfPalette = pngFile(ihdr(2, 1, 8, 3), chunk('PLTE', Uint8Array.from([1, 2, 3])), idat(2, 1, 1, 8, () => 5));
  throwsCode(() => decodeImage(outOfPalette), ['BAD_IMAGE']);
});

test('every truncation of a PNG or JPEG is an AaraError', () => {
  const img = gradient(16, 16);
  const files = [encodePng(img), encodeJpeg({ width: 16, height: 16, data: rgbaOf(img, () => 255) }, 80).data, fixture('progressive.jpg')];
  for (const file of files) {
    for (let cut = 0; cut < file.length; cut++) throwsCode(() => decodeImage(file.subarray(0, cut)), ['BAD_IMAGE', 'UNSUPPORTED_IMAGE']);
  }
});

test('random byte corruption never escapes as a foreign exception', () => {
  const rng = mulberry32(7);
  const img = gradient(24, 16);
  const files = [encodePng(img), encodeJpeg({ width: 24, height: 16, data: rgbaOf(img, () => 255) }, 80).data, fixture('progressive.jpg')];
  for (const file of files) {
    for (let trial = 0; trial < 300; trial++) {
      const damaged = Uint8Array.from(file);
      const flips = 1 + randomInt(rng, 4);
      for (let k = 0; k < flips; k++) damaged[randomInt(rng, damaged.length)] = randomBytes(rng, 1)[0];
      try {
        const decoded = decodeImage(damaged, { maxWidth: 4096, maxHeight: 4096, maxPixels: 1 << 20 });
        assert.is(decoded.data.length, decoded.width * decoded.height * 3);
      } catch (err) {
        if (!(err instanceof AaraError)) throw err;
      }
    }
  }
});

test('toRgb: RGB is a view, RGBA loses its alpha, anything else is refused', () => {
  const rgb = Uint8Array.from([1, 2, 3, 4, 5, 6]);
  const view = toRgb({ width: 2, height: 1, data: rgb });
  assert.is(view.data.buffer, rgb.buffer);
  assert.equal([...toRgb({ width: 1, height: 2, data: Uint8ClampedArray.from([1, 2, 3, 9, 4, 5, 6, 9]) }).data], [1, 2, 3, 4, 5, 6]);
  throwsCode(() => toRgb({ width: 2, height: 1, data: new Uint8Array(7) }), ['BAD_PIXELS']);
  throwsCode(() => toRgb({ width: 2, height: 1, data: new Int16Array(6) as unknown as Uint8Array }), ['BAD_PIXELS']);
  for (const [width, height] of [[0, 1], [1, -1], [1.5, 2], [NaN, 1], [Infinity, 1]]) {
    throwsCode(() => toRgb({ width, height, data: new Uint8Array(3) }), ['BAD_DIMENSIONS']);
  }
});

test.run();
