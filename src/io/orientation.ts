/**
 * EXIF orientation: cameras store a photo as the sensor saw it and say in the EXIF tag 0x0112 how to turn it for
 * display. aara codes the image upright (the way every viewer shows it), so the reader applies the tag.
 *
 * Tag values (EXIF 2.3, TIFF 6.0): 1 as stored, 2 mirrored left–right, 3 turned 180°, 4 mirrored top–bottom,
 * 5 mirrored over the main diagonal (transposed), 6 turned 90° clockwise, 7 mirrored over the other diagonal,
 * 8 turned 90° counter-clockwise. 5–8 swap width and height.
 */
import type { RgbImage } from './pixels.js';

const ORIENTATION_TAG = 0x0112;
const SHORT = 3;
const EXIF_HEADER = [0x45, 0x78, 0x69, 0x66, 0, 0]; // "Exif\0\0"

/** The TIFF structure of a JPEG APP1 segment's payload (after its length), or undefined when it is not EXIF. */
export function exifTiff(app1: Uint8Array): Uint8Array | undefined {
  if (app1.length < EXIF_HEADER.length + 8 || EXIF_HEADER.some((b, i) => app1[i] !== b)) return undefined;
  return app1.subarray(EXIF_HEADER.length);
}

/**
 * Byte offset in `tiff` of the orientation tag's value (a SHORT in the first IFD), or −1 when there is none or the
 * structure is damaged: a damaged EXIF block never stops an image from being read, and every read is bounds-checked.
 */
function orientationAt(tiff: Uint8Array): { at: number; little: boolean } | undefined {
  const little = tiff[0] === 0x49 && tiff[1] === 0x49; // "II"; "MM" is big-endian
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return undefined;
  const u16 = (at: number) => (at + 2 > tiff.length ? -1 : little ? tiff[at] | (tiff[at + 1] << 8) : (tiff[at] << 8) | tiff[at + 1]);
  const u32 = (at: number) => (at + 4 > tiff.length ? -1 : little ? (u16(at) | (u16(at + 2) << 16)) >>> 0 : ((u16(at) << 16) | u16(at + 2)) >>> 0);
  if (u16(2) !== 42) return undefined;
  const ifd = u32(4);
  const count = ifd < 0 ? -1 : u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + 12 * i;
    if (entry + 12 > tiff.length) return undefined;
    if (u16(entry) !== ORIENTATION_TAG) continue;
    if (u16(entry + 2) !== SHORT || u32(entry + 4) !== 1) return undefined;
    return { at: entry + 8, little };
  }
  return undefined;
}

/** The orientation (1–8) an EXIF TIFF structure states; 1 when it states none or a value out of range. */
export function tiffOrientation(tiff: Uint8Array): number {
  const tag = orientationAt(tiff);
  if (!tag) return 1;
  const value = tag.little ? tiff[tag.at] | (tiff[tag.at + 1] << 8) : (tiff[tag.at] << 8) | tiff[tag.at + 1];
  return value >= 1 && value <= 8 ? value : 1;
}

/** The orientation in the payload of a JPEG APP1 segment (after its length); 1 when it is not EXIF or states none. */
export function exifOrientation(app1: Uint8Array): number {
  const tiff = exifTiff(app1);
  return tiff ? tiffOrientation(tiff) : 1;
}

/** A copy of an EXIF TIFF structure that says "upright" (orientation 1): for an image the reader has turned. */
export function uprightExif(tiff: Uint8Array): Uint8Array {
  const copy = tiff.slice();
  const tag = orientationAt(copy);
  if (tag) {
    copy[tag.at] = tag.little ? 1 : 0;
    copy[tag.at + 1] = tag.little ? 0 : 1;
  }
  return copy;
}

/** The image turned upright by EXIF `orientation` (1–8); orientation 1 returns `img` itself. */
export function orient(img: RgbImage, orientation: number): RgbImage {
  if (orientation === 1) return img;
  const { width: W, height: H, data } = img;
  const swap = orientation >= 5;
  const width = swap ? H : W;
  const height = swap ? W : H;
  const out = new Uint8Array(data.length);
  // for each displayed pixel (x, y): the stored pixel (sx, sy) it shows
  const source: Record<number, (x: number, y: number) => [number, number]> = {
    2: (x, y) => [W - 1 - x, y],
    3: (x, y) => [W - 1 - x, H - 1 - y],
    4: (x, y) => [x, H - 1 - y],
    5: (x, y) => [y, x],
    6: (x, y) => [y, H - 1 - x],
    7: (x, y) => [W - 1 - y, H - 1 - x],
    8: (x, y) => [W - 1 - y, x],
  };
  const from = source[orientation];
  if (!from) return img;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [sx, sy] = from(x, y);
      const s = (sy * W + sx) * 3;
      const d = (y * width + x) * 3;
      out[d] = data[s];
      out[d + 1] = data[s + 1];
      out[d + 2] = data[s + 2];
    }
  }
  return { width, height, data: out };
}
