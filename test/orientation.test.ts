/**
 * EXIF orientation: a JPEG whose EXIF says "turn me" is read upright, so the .aara file and its decoded PNG show
 * what every viewer shows. The eight turns are checked against a hand-drawn 3×2 image, the EXIF reader against
 * both byte orders and damaged blocks, and a real JPEG with orientation 6 end to end.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { encode as encodeJpeg } from 'jpeg-js';
import { decodeImage } from '../src/io/image-io.js';
import { exifOrientation, orient } from '../src/io/orientation.js';
import { decodeSync, encodeSync } from '../src/index.js';
import { repoPath } from './helpers/fixtures.js';

/** 3×2, each pixel (v, v, v) with v its letter: a b c / d e f. */
const LETTERS = 'abcdef';
const stored = { width: 3, height: 2, data: Uint8Array.from([...LETTERS].flatMap((c) => [c.charCodeAt(0), c.charCodeAt(0), c.charCodeAt(0)])) };
const letters = (img: { width: number; data: Uint8Array }) =>
  Array.from({ length: img.data.length / 3 }, (_, p) => String.fromCharCode(img.data[p * 3])).join('').match(new RegExp(`.{${img.width}}`, 'g'))!.join('/');

test('the eight orientations, as drawn by hand', () => {
  const expected: Record<number, string> = {
    1: 'abc/def',
    2: 'cba/fed', // mirrored left–right
    3: 'fed/cba', // turned 180°
    4: 'def/abc', // mirrored top–bottom
    5: 'ad/be/cf', // transposed
    6: 'da/eb/fc', // turned 90° clockwise: the left column, bottom up, becomes the top row
    7: 'fc/eb/da', // the other diagonal
    8: 'cf/be/ad', // turned 90° counter-clockwise
  };
  for (const [orientation, drawing] of Object.entries(expected)) assert.is(letters(orient(stored, Number(orientation))), drawing, `orientation ${orientation}`);
});

/** An APP1 EXIF payload holding IFD0 with the orientation tag (and one other tag before it). */
function exif(orientation: number, little: boolean, type = 3): Uint8Array {
  const tiff: number[] = [];
  const u16 = (v: number) => (little ? tiff.push(v & 255, v >> 8) : tiff.push(v >> 8, v & 255));
  const u32 = (v: number) => (little ? [0, 8, 16, 24] : [24, 16, 8, 0]).forEach((s) => tiff.push((v >>> s) & 255));
  tiff.push(...(little ? [0x49, 0x49] : [0x4d, 0x4d]));
  u16(42);
  u32(8);
  u16(2); // two entries
  u16(0x010f); u16(2); u32(4); u32(0x41424300); // Make, ASCII, inline "ABC"
  u16(0x0112); u16(type); u32(1); u16(orientation); u16(0);
  u32(0); // no next IFD
  return Uint8Array.from([0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff]);
}

test('exifOrientation reads both byte orders and refuses nothing: damage gives 1', () => {
  for (const little of [true, false]) for (let o = 1; o <= 8; o++) assert.is(exifOrientation(exif(o, little)), o);
  assert.is(exifOrientation(exif(9, true)), 1, 'out of range');
  assert.is(exifOrientation(exif(6, true, 4)), 1, 'not a SHORT');
  const whole = exif(6, false);
  for (let cut = 0; cut < whole.length; cut++) assert.ok([1, 6].includes(exifOrientation(whole.subarray(0, cut))), `cut at ${cut}`);
  assert.is(exifOrientation(whole.subarray(0, 20)), 1);
  assert.is(exifOrientation(new TextEncoder().encode('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>')), 1, 'XMP');
});

/** `jpeg` with an APP1 segment holding `payload` right after SOI. */
function withApp1(jpeg: Uint8Array, payload: Uint8Array): Uint8Array {
  const length = payload.length + 2;
  return Uint8Array.from([0xff, 0xd8, 0xff, 0xe1, length >> 8, length & 255, ...payload, ...jpeg.subarray(2)]);
}

test('a JPEG with EXIF orientation 6 reads upright: width and height swap, the pixels turn, info says so', () => {
  const width = 40;
  const height = 24;
  const rgba = new Uint8Array(width * height * 4).map((_, i) => (i % 4 === 3 ? 255 : ((i >> 2) % width) * 6 + (i % 4) * 20 + Math.floor((i >> 2) / width) * 3));
  const plain = new Uint8Array(encodeJpeg({ width, height, data: rgba }, 95).data);
  const asStored = decodeImage(plain);
  const turned = decodeImage(withApp1(plain, exif(6, false)));
  assert.equal([turned.width, turned.height], [height, width]);
  assert.is(turned.info.orientation, 6);
  assert.is(asStored.info.orientation, undefined);
  assert.equal(turned.data, orient(asStored, 6).data);
  // the top-left displayed pixel is the stored bottom-left one
  assert.equal([...turned.data.subarray(0, 3)], [...asStored.data.subarray((height - 1) * width * 3, (height - 1) * width * 3 + 3)]);
  // through the codec: the .aara file is upright too
  const weights = readFileSync(repoPath('weights/test-tiny.bin'));
  const decoded = decodeSync(encodeSync(withApp1(plain, exif(6, true)), { weights, level: 1 }), { weights });
  assert.equal([decoded.width, decoded.height], [height, width]);
});

test.run();
