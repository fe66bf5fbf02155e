/**
 * Runs in the browser (test/browser/golden.html, served by test/browser.test.ts): decodes the golden files with
 * the compiled ES modules as they are, no bundler, and hashes the pixels with Web Crypto; encodes the golden
 * image sources the server hands out (/golden-inputs.json) and hashes the files. Must import nothing that only
 * Node has.
 */
import { decodeSync, encodeSync } from '../../src/codec/codec.js';
import { readWeights } from '../../src/format/weights.js';
import type { GoldenEntry } from '../golden/sources.js';

export interface BrowserResult {
  file: string;
  width: number;
  height: number;
  sha256: string;
  ms: number;
}

async function fetchBytes(path: string): Promise<Uint8Array> {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
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
  sha256: string;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function sha256(bytes: Uint8Array): Promise<string> {
  // digest() takes only ArrayBuffer-backed views (not shared memory): hash a plain copy
  return hex(new Uint8Array(await crypto.subtle.digest('SHA-256', Uint8Array.from(bytes))));
}

/** Encodes each input with its set's weights; results are keyed `dir/file`. */
export async function encodeGoldenSources(inputs: EncodeInput[]): Promise<EncodeResult[]> {
  const results: EncodeResult[] = [];
  for (const input of inputs) {
    const weights = readWeights(await fetchBytes(`/${input.weights}`));
    const data = Uint8Array.from(atob(input.rgb), (c) => c.charCodeAt(0));
    const bytes = encodeSync({ width: input.width, height: input.height, data }, weights, { level: input.level, grayscale: input.grayscale });
    results.push({ file: `${input.dir}/${input.file}`, sha256: await sha256(bytes) });
  }
  return results;
}

/** Decodes the golden files of the sets in `dirs` (folders from the repository root); results are keyed `dir/file`. */
export async function decodeGoldenFiles(dirs: string[]): Promise<BrowserResult[]> {
  const results: BrowserResult[] = [];
  for (const dir of dirs) {
    const manifest = JSON.parse(new TextDecoder().decode(await fetchBytes(`/${dir}/golden.json`))) as { weights: string; files: GoldenEntry[] };
    const weights = readWeights(await fetchBytes(`/${manifest.weights}`));
    for (const { file } of manifest.files) {
      const bytes = await fetchBytes(`/${dir}/${file}`);
      const started = performance.now();
      const img = decodeSync(bytes, weights);
      const ms = performance.now() - started;
      results.push({ file: `${dir}/${file}`, width: img.width, height: img.height, sha256: await sha256(img.data), ms });
    }
  }
  return results;
}
