/**
 * Runs in the browser (test/browser/golden.html, served by test/browser.test.ts): decodes the golden files with
 * the compiled ES modules as they are, no bundler, and hashes the pixels with Web Crypto. Must import nothing
 * that only Node has.
 */
import { decodeSync } from '../../src/codec/codec.js';
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

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
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
      // digest() takes only ArrayBuffer-backed views (not shared memory): hash a plain copy
      const digest = await crypto.subtle.digest('SHA-256', Uint8Array.from(img.data));
      results.push({ file: `${dir}/${file}`, width: img.width, height: img.height, sha256: hex(new Uint8Array(digest)), ms });
    }
  }
  return results;
}
