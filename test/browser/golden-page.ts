/**
 * Runs in the browser (test/browser/golden.html, served by test/browser.test.ts) through the public browser entry
 * only (src/browser/index.ts, `aara/browser`), the compiled ES modules as they are, no bundler: decodes the golden
 * files on the main thread and in Web Workers (AaraWorkers) and hashes the pixels with Web Crypto; encodes the
 * golden image sources the server hands out (/golden-inputs.json), both ways, and hashes the files.
 */
import { AaraWorkers, decode, encode, readWeights, type RgbaImage } from '../../src/browser/index.js';
import type { GoldenEntry } from '../golden/sources.js';

export interface BrowserResult {
  file: string;
  width: number;
  height: number;
  /** SHA-256 of the RGB bytes decoded on the main thread */
  sha256: string;
  /** the same, decoded in a Web Worker */
  workerSha256: string;
  ms: number;
}

/** An image source of a golden set, as test/browser.test.ts serves it: its encoding must be the committed file. */
export interface EncodeInput {
  dir: string;
  file: string;
  weights: string;
  level: number;
  width: number;
  height: number;
  grayscale: boolean;
  /** RGB bytes, base64 */
  rgb: string;
}

export interface EncodeResult {
  file: string;
  /** SHA-256 of the file encoded from RGBA pixels on the main thread, and in a Web Worker */
  sha256: string;
  workerSha256: string;
}

async function fetchBytes(path: string): Promise<Uint8Array> {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function sha256(bytes: Uint8Array): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest('SHA-256', Uint8Array.from(bytes))));
}

/** The RGB bytes of decoded RGBA (the golden hashes are of RGB). */
function rgbOf(img: RgbaImage): Uint8Array {
  const rgb = new Uint8Array(img.width * img.height * 3);
  for (let p = 0; p < img.width * img.height; p++) rgb.set(img.data.subarray(p * 4, p * 4 + 3), p * 3);
  return rgb;
}

/** RGBA (alpha 255) of RGB bytes, as a canvas would hand them over. */
function rgbaOf(rgb: Uint8Array): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray((rgb.length / 3) * 4).fill(255);
  for (let p = 0; p < rgb.length / 3; p++) rgba.set(rgb.subarray(p * 3, p * 3 + 3), p * 4);
  return rgba;
}

/** Decodes the golden files of the sets in `dirs` (folders from the repository root); results are keyed `dir/file`. */
export async function decodeGoldenFiles(dirs: string[]): Promise<BrowserResult[]> {
  const results: BrowserResult[] = [];
  for (const dir of dirs) {
    const manifest = JSON.parse(new TextDecoder().decode(await fetchBytes(`/${dir}/golden.json`))) as { weights: string; files: GoldenEntry[] };
    const weightBytes = await fetchBytes(`/${manifest.weights}`);
    const weights = readWeights(weightBytes);
    const workers = new AaraWorkers(weightBytes, { workers: 2 });
    try {
      for (const { file } of manifest.files) {
        const bytes = await fetchBytes(`/${dir}/${file}`);
        const started = performance.now();
        const img = decode(bytes, weights);
        const ms = performance.now() - started;
        const inWorker = await workers.decode(bytes);
        results.push({ file: `${dir}/${file}`, width: img.width, height: img.height, sha256: await sha256(rgbOf(img)),
          workerSha256: await sha256(rgbOf(inWorker)), ms });
      }
    } finally {
      workers.close();
    }
  }
  return results;
}

/** Encodes each input with its set's weights from RGBA pixels, on the main thread and in a worker. */
export async function encodeGoldenSources(inputs: EncodeInput[]): Promise<EncodeResult[]> {
  const results: EncodeResult[] = [];
  for (const input of inputs) {
    const weightBytes = await fetchBytes(`/${input.weights}`);
    const image = { width: input.width, height: input.height, data: rgbaOf(Uint8Array.from(atob(input.rgb), (c) => c.charCodeAt(0))) };
    const workers = new AaraWorkers(weightBytes, { workers: 1 });
    try {
      results.push({
        file: `${input.dir}/${input.file}`,
        sha256: await sha256(encode(image, readWeights(weightBytes), { level: input.level })),
        workerSha256: await sha256(await workers.encode(image, { level: input.level })),
      });
    } finally {
      workers.close();
    }
  }
  return results;
}
