/** Node-side weight loading: the packaged weights/aara.bin, read once on first use (no import-time work). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fail } from '../core/errors.js';
import { readWeights, type Weights } from '../format/weights.js';

export const DEFAULT_WEIGHTS_PATH = fileURLToPath(new URL('../../../weights/aara.bin', import.meta.url));

const loaded = new Map<string, Weights>();

export function loadWeights(path: string = DEFAULT_WEIGHTS_PATH): Weights {
  let w = loaded.get(path);
  if (!w) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch {
      fail('FILE_NOT_FOUND', `weight file ${path}`);
    }
    w = readWeights(bytes);
    loaded.set(path, w);
  }
  return w;
}
