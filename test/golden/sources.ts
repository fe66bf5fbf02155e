/**
 * What the golden bitstreams were made from: one set per model kind, each pinned to its small test weights
 * (test/golden/ with weights/test-tiny.bin, test/golden/hyper/ with weights/test-tiny-hyper.bin, test/golden/checkerboard/
 * with weights/test-tiny-checkerboard.bin, test/golden/spacechannel/ with weights/test-tiny-spacechannel.bin,
 * test/golden/ycontext/ with weights/test-tiny-ycontext.bin, test/golden/ychannel/ with weights/test-tiny-ychannel.bin, and
 * test/golden/ychannel-fitted/ with weights/test-tiny-ychannel-fitted.bin: the same model, its Gaussian tables fitted per
 * latent and level, weight file version 3), and one set made
 * with the shipped weights (test/golden/shipped/, weights/aara.bin): the tiny weights' pixels are too coarse to show
 * a one-ulp drift in the arithmetic, trained weights' are not (test/golden-sensitivity.test.ts). Shipping new
 * weights regenerates that set (train/export.py runs `make-golden.mjs test/golden/shipped`). make-golden.mjs
 * writes them; golden.test.ts re-encodes the reproducible (synthetic) sources and expects the committed bytes.
 * A frozen set keeps files of an older container version as they were written (test/golden/ychannel-v1/: the ychannel
 * kind's version-1 files, one stream a coding group): decoded by every path, never made again.
 * The Kodak crop needs ../shared/datasets/kodak only to be regenerated: the committed .aara file is the artifact.
 */
import { readFileSync } from 'node:fs';
import { encodeStreams, encodeSync, latentShapes, writeFile } from '../../src/codec/codec.js';
import { decodeImage } from '../../src/io/image-io.js';
import type { RgbImage } from '../../src/io/pixels.js';
import type { Weights } from '../../src/format/weights.js';
import { repoPath } from '../helpers/fixtures.js';
import { laplacian, mulberry32 } from '../helpers/prng.js';
import { syntheticGrayPng, syntheticImage } from '../helpers/synthetic-images.js';

export interface GoldenSource {
  file: string;
  level: number;
  /** how to make the input again, for golden.json */
  source: string;
  /** made from seeded synthetic data by today's encoder: the same on every machine, so encoding again must give the committed bytes */
  reproducible: boolean;
  encode(w: Weights): Uint8Array;
  /** the encoder's input, for sources that are images (other engines encode it and must give the same bytes) */
  image?: () => RgbImage & { grayscale: boolean };
}

const KODAK_23 = '../shared/datasets/kodak/kodim23.png';
/** the red parrot's eye and beak: feathers, a white face, a hard edge */
const KODAK_CROP = { x: 400, y: 112, width: 96, height: 64 };
/**
 * Both parrots' heads: big enough for a one-ulp drift to reach the 8-bit pixels with trained weights (one output
 * byte in ≈ 60,000 moves in kodim23; this crop moved 6 at level 5 when √ was one ulp high)
 */
const KODAK_LARGE_CROP = { x: 208, y: 80, width: 384, height: 256 };

function fromImage(file: string, level: number, source: string, reproducible: boolean,
  image: () => RgbImage & { grayscale: boolean }): GoldenSource {
  return {
    file,
    level,
    source,
    reproducible,
    encode: (w) => {
      const img = image();
      return encodeSync(img, w, { level, grayscale: img.grayscale });
    },
    image,
  };
}

function synthetic(width: number, height: number, seed: number, level: number): GoldenSource {
  return fromImage(`synthetic-${width}x${height}-level${level}.aara`, level,
    `syntheticImage(${width}, ${height}, ${seed}) from test/helpers/synthetic-images.ts`, true,
    () => ({ ...syntheticImage(width, height, seed), grayscale: false }));
}

function grayPng(width: number, height: number, seed: number, level: number): GoldenSource {
  return fromImage(`gray-${width}x${height}-level${level}.aara`, level,
    `syntheticGrayPng(${width}, ${height}, ${seed}) from test/helpers/synthetic-images.ts, read as RGB`, true, () => {
      const img = decodeImage(syntheticGrayPng(width, height, seed));
      return { width: img.width, height: img.height, data: img.data, grayscale: img.info.grayscale };
    });
}

function crop(img: RgbImage, r: typeof KODAK_CROP): RgbImage {
  const data = new Uint8Array(r.width * r.height * 3);
  for (let y = 0; y < r.height; y++) {
    const from = ((r.y + y) * img.width + r.x) * 3;
    data.set(img.data.subarray(from, from + r.width * 3), y * r.width * 3);
  }
  return { width: r.width, height: r.height, data };
}

function kodakCrop(level: number, rect = KODAK_CROP): GoldenSource {
  const { x, y, width, height } = rect;
  return fromImage(`kodim23-${width}x${height}-level${level}.aara`, level,
    `${KODAK_23}, the ${width}×${height} crop at (${x}, ${y})`, false,
    () => ({ ...crop(decodeImage(new Uint8Array(readFileSync(repoPath(KODAK_23)))), rect), grayscale: false }));
}

/**
 * A file of seeded Laplace(0, scale) latents instead of an encoded image. The test weights are untrained: they
 * quantise every image to all-zero latents, so image files exercise neither the entropy decoder's symbols and
 * escapes nor the synthesis on anything but zeros. These files do (scale 3 puts ~3 % of the symbols past ±10, the
 * test tables' edge, into escapes).
 */
function latentNoise(width: number, height: number, level: number, seed: number, scale: number): GoldenSource {
  return {
    file: `latents-${width}x${height}-level${level}.aara`,
    level,
    source: `Laplace(0, ${scale}) latent symbols from mulberry32(${seed}), coded with the weights' tables`,
    reproducible: true,
    encode: (w) => {
      const rng = mulberry32(seed);
      const latents = latentShapes(width, height, w, (length) => new Int32Array(length));
      for (const symbols of [latents.y.symbols!, latents.z.symbols!]) for (let i = 0; i < symbols.length; i++) symbols[i] = laplacian(rng, scale);
      return writeFile({ width, height, data: new Uint8Array(0) }, w, { level }, encodeStreams(latents, w, level));
    },
  };
}

function ychannelSources(): GoldenSource[] {
  return [synthetic(1, 1, 1, 0), synthetic(37, 29, 3, 0), synthetic(100, 70, 7, 1), grayPng(40, 24, 4, 1), kodakCrop(1), synthetic(37, 29, 3, 0.5)];
}

export interface GoldenSet {
  /** folder of the .aara files and golden.json, from the repository root */
  dir: string;
  weights: string;
  sources: GoldenSource[];
  /** the container version of its files when it is not what the encoder writes today: a frozen set */
  frozenVersion?: number;
}

/** The set made with the shipped weights: it changes whenever they do. */
export const SHIPPED_GOLDEN_DIR = 'test/golden/shipped';

export const GOLDEN_SETS: GoldenSet[] = [
  {
    dir: 'test/golden',
    weights: 'weights/test-tiny.bin',
    sources: [
      synthetic(1, 1, 1, 0),
      synthetic(8, 8, 2, 1),
      synthetic(37, 29, 3, 0),
      synthetic(37, 29, 3, 1),
      grayPng(40, 24, 4, 1),
      kodakCrop(0),
      kodakCrop(1),
      latentNoise(37, 29, 0, 5, 3),
      latentNoise(96, 64, 1, 6, 3),
    ],
  },
  {
    // the hyper test weights' priors vary from element to element, so images alone exercise ŵ, the means and
    // many scale indexes (test/hyper.test.ts checks the symbols are not all 0)
    dir: 'test/golden/hyper',
    weights: 'weights/test-tiny-hyper.bin',
    sources: [synthetic(1, 1, 1, 0), synthetic(37, 29, 3, 0), synthetic(100, 70, 7, 1), grayPng(40, 24, 4, 1), kodakCrop(0), kodakCrop(1),
      synthetic(37, 29, 3, 0.5)], // a level between two: interpolated gains
  },
  {
    // its random spatial context moves every non-anchor prior of ẑ (an odd-sized image: both colours meet the edges)
    dir: 'test/golden/checkerboard',
    weights: 'weights/test-tiny-checkerboard.bin',
    sources: [synthetic(1, 1, 1, 0), synthetic(37, 29, 3, 0), synthetic(100, 70, 7, 1), grayPng(40, 24, 4, 1), kodakCrop(1),
      synthetic(37, 29, 3, 0.5)],
  },
  {
    // its random channel contexts move the second channel half's priors at both colours, after the spatial context
    dir: 'test/golden/spacechannel',
    weights: 'weights/test-tiny-spacechannel.bin',
    sources: [synthetic(1, 1, 1, 0), synthetic(37, 29, 3, 0), synthetic(100, 70, 7, 1), grayPng(40, 24, 4, 1), kodakCrop(1),
      synthetic(37, 29, 3, 0.5)],
  },
  {
    // and its random ŷ context moves every non-anchor prior of ŷ, from s_y's halves
    dir: 'test/golden/ycontext',
    weights: 'weights/test-tiny-ycontext.bin',
    sources: [synthetic(1, 1, 1, 0), synthetic(37, 29, 3, 0), synthetic(100, 70, 7, 1), grayPng(40, 24, 4, 1), kodakCrop(1),
      synthetic(37, 29, 3, 0.5)],
  },
  {
    // and ŷ's random channel context moves its second half's priors at every element, from halves throughout
    dir: 'test/golden/ychannel',
    weights: 'weights/test-tiny-ychannel.bin',
    sources: ychannelSources(),
  },
  {
    // the same sources with the test weights' Gaussian tables fitted per latent and level (weight file version 3)
    dir: 'test/golden/ychannel-fitted',
    weights: 'weights/test-tiny-ychannel-fitted.bin',
    sources: ychannelSources(),
  },
  {
    // the same sources' files as the ychannel kind wrote them before chains: version 1 (made by 2925889's encoder)
    dir: 'test/golden/ychannel-v1',
    weights: 'weights/test-tiny-ychannel.bin',
    sources: ychannelSources().map((s) => ({ ...s, reproducible: false })), // today's encoder writes version 2
    frozenVersion: 1,
  },
  {
    dir: SHIPPED_GOLDEN_DIR,
    weights: 'weights/aara.bin',
    sources: [synthetic(64, 48, 8, 5), synthetic(64, 48, 8, 5.5), grayPng(40, 24, 4, 2), kodakCrop(2), kodakCrop(5, KODAK_LARGE_CROP)],
  },
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

export function readGoldenManifest(set: GoldenSet): { weights: string; weightsId: string; files: GoldenEntry[] } {
  return JSON.parse(readFileSync(repoPath(`${set.dir}/golden.json`), 'utf8'));
}
