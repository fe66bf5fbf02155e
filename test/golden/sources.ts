/**
 * What the golden bitstreams in test/golden/ were made from (with weights/test-tiny.bin). make-golden.mjs writes
 * them; golden.test.ts re-encodes the reproducible (synthetic) sources and expects the committed bytes.
 * The Kodak crop needs ../shared/datasets/kodak only to be regenerated: the committed .aara file is the artifact.
 */
import { readFileSync } from 'node:fs';
import { decodeImage, type RgbImage } from '../../src/image-io.js';
import { repoPath } from '../helpers/fixtures.js';
import { syntheticGrayPng, syntheticImage } from '../helpers/synthetic-images.js';

export interface GoldenSource {
  file: string;
  level: number;
  /** how to make the input again, for golden.json */
  source: string;
  /** synthetic: the same pixels on every machine, so re-encoding must give the committed bytes */
  reproducible: boolean;
  image(): RgbImage & { grayscale: boolean };
}

export const GOLDEN_WEIGHTS = 'weights/test-tiny.bin';
const KODAK_23 = '../shared/datasets/kodak/kodim23.png';
/** the red parrot's eye and beak: feathers, a white face, a hard edge */
const KODAK_CROP = { x: 400, y: 112, width: 96, height: 64 };

function synthetic(width: number, height: number, seed: number, level: number): GoldenSource {
  return {
    file: `synthetic-${width}x${height}-level${level}.aara`,
    level,
    source: `syntheticImage(${width}, ${height}, ${seed}) from test/helpers/synthetic-images.ts`,
    reproducible: true,
    image: () => ({ ...syntheticImage(width, height, seed), grayscale: false }),
  };
}

function crop(img: RgbImage, r: typeof KODAK_CROP): RgbImage {
  const data = new Uint8Array(r.width * r.height * 3);
  for (let y = 0; y < r.height; y++) {
    const from = ((r.y + y) * img.width + r.x) * 3;
    data.set(img.data.subarray(from, from + r.width * 3), y * r.width * 3);
  }
  return { width: r.width, height: r.height, data };
}

function kodakCrop(level: number): GoldenSource {
  const { x, y, width, height } = KODAK_CROP;
  return {
    file: `kodim23-${width}x${height}-level${level}.aara`,
    level,
    source: `${KODAK_23}, the ${width}×${height} crop at (${x}, ${y})`,
    reproducible: false,
    image: () => ({ ...crop(decodeImage(new Uint8Array(readFileSync(repoPath(KODAK_23)))), KODAK_CROP), grayscale: false }),
  };
}

const GRAY = { width: 40, height: 24, seed: 4, level: 1 };

export const GOLDEN_SOURCES: GoldenSource[] = [
  synthetic(1, 1, 1, 0),
  synthetic(8, 8, 2, 1),
  synthetic(37, 29, 3, 0),
  synthetic(37, 29, 3, 1),
  {
    file: `gray-${GRAY.width}x${GRAY.height}-level${GRAY.level}.aara`,
    level: GRAY.level,
    source: `syntheticGrayPng(${GRAY.width}, ${GRAY.height}, ${GRAY.seed}) from test/helpers/synthetic-images.ts, read as RGB`,
    reproducible: true,
    image: () => {
      const img = decodeImage(syntheticGrayPng(GRAY.width, GRAY.height, GRAY.seed));
      return { width: img.width, height: img.height, data: img.data, grayscale: img.info.grayscale };
    },
  },
  kodakCrop(0),
  kodakCrop(1),
];

/** One line of golden.json. */
export interface GoldenEntry {
  file: string;
  width: number;
  height: number;
  level: number;
  grayscale: boolean;
  bytes: number;
  source: string;
  /** SHA-256 (hex) of the decoded RGB bytes */
  sha256: string;
}

export function readGoldenManifest(): { weights: string; weightsId: string; files: GoldenEntry[] } {
  return JSON.parse(readFileSync(repoPath('test/golden/golden.json'), 'utf8'));
}
