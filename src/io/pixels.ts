/**
 * Raw pixels: the RGB images the codec works on, and conversions from and to RGBA (canvas ImageData). Imports
 * nothing from Node, so the browser entry can use it (image-io.ts, which reads PNG and JPEG, needs Node's zlib).
 */
import { fail } from '../core/errors.js';

export interface RgbImage {
  width: number;
  height: number;
  /** RGB interleaved, row-major, width·height·3 bytes. */
  data: Uint8Array;
}

/** RGBA interleaved, row-major, width·height·4 bytes, alpha 255: ready for `new ImageData(data, width, height)`. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export function toRgb(input: { width: number; height: number; data: Uint8Array | Uint8ClampedArray }): RgbImage {
  const { width, height, data } = input;
  if (!isPositiveInteger(width) || !isPositiveInteger(height)) {
    fail('BAD_DIMENSIONS', `width and height must be integers ≥ 1, got ${String(width)}×${String(height)}`);
  }
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    fail('BAD_PIXELS', 'pixel data must be a Uint8Array or Uint8ClampedArray');
  }
  const pixels = width * height;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length === pixels * 3) return { width, height, data: bytes };
  if (bytes.length === pixels * 4) return { width, height, data: dropAlpha(bytes, pixels) };
  return fail('BAD_PIXELS', `${width}×${height} needs ${pixels * 3} (RGB) or ${pixels * 4} (RGBA) bytes, got ${bytes.length}`);
}

function isPositiveInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}

function dropAlpha(rgba: Uint8Array, pixels: number): Uint8Array {
  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    rgb[p * 3] = rgba[p * 4];
    rgb[p * 3 + 1] = rgba[p * 4 + 1];
    rgb[p * 3 + 2] = rgba[p * 4 + 2];
  }
  return rgb;
}

/** The opaque RGBA of an RGB image. */
export function toRgba(img: RgbImage): RgbaImage {
  const pixels = img.width * img.height;
  const rgba = new Uint8ClampedArray(pixels * 4);
  for (let p = 0; p < pixels; p++) {
    rgba[p * 4] = img.data[p * 3];
    rgba[p * 4 + 1] = img.data[p * 3 + 1];
    rgba[p * 4 + 2] = img.data[p * 3 + 2];
    rgba[p * 4 + 3] = 255;
  }
  return { width: img.width, height: img.height, data: rgba };
}
