/**
 * Weight files, read once: the one place this process loads models and keeps them. A model comes with its file's
 * bytes in shared memory (the pool's workers parse those very bytes) and a key that names the file to them. The
 * packaged weights/aara.bin is read on first use (no import-time work).
 */
import { shareable, sharedBytes } from '../core/shared-memory.js';
import { readWeights, type Weights } from '../format/weights.js';
import { readInput } from './files.js';
import { packageFile } from './package-files.js';

/** A model and the file it was read from: the main thread computes with the one, the workers parse the other. */
export interface WeightFile {
  weights: Weights;
  /** the file's bytes, in shared memory */
  bytes: Uint8Array;
  /** names the file in the pool's requests (the workers keep the model of the last key they saw) */
  key: number;
}

/** The same file by the caller's array or buffer or its shared copy, by path, and by model. */
const filesOfBytes = new WeakMap<Uint8Array | ArrayBuffer, WeightFile>();
const filesOfPaths = new Map<string, WeightFile>();
const filesOfModels = new WeakMap<Weights, WeightFile>();
let fileCount = 0;

/** Parses a weight file (its tensors view a shared copy of `bytes`), once per array or buffer given. */
export function weightFile(bytes: Uint8Array | ArrayBuffer): WeightFile {
  let file = filesOfBytes.get(bytes);
  if (!file) {
    const shared = sharedBytes(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
    file = { weights: readWeights(shared), bytes: shared, key: fileCount++ };
    filesOfBytes.set(bytes, file);
    filesOfBytes.set(shared, file);
    filesOfModels.set(file.weights, file);
  }
  return file;
}

/** A weight file by path (default: the packaged one), read once per process. */
export function loadWeightFile(path = packageFile('weights/aara.bin')): WeightFile {
  let file = filesOfPaths.get(path);
  if (!file) {
    file = weightFile(readInput(path, Infinity, (length) => shareable((b) => new Uint8Array(b), length))); // read into shared memory: no copy
    filesOfPaths.set(path, file);
  }
  return file;
}

/** The file of a model that weightFile or loadWeightFile read; undefined for any other object. */
export function fileOfModel(weights: Weights): WeightFile | undefined {
  return filesOfModels.get(weights);
}

/**
 * In a pool worker, the model of a file the main thread has read with its checksum check. Parsing makes views of
 * the shared bytes (no copy), but each model's kernels pack its weights on first use (tens of MB, and the time of
 * a small decode): a worker keeps the models of its last WORKER_MODELS files, so a program alternating between
 * two models (the factorized and the default, say) does not repack at every switch, and workers never pile up old models.
 */
const WORKER_MODELS = 2;
const workerModels = new Map<number, Weights>();

export function verifiedModel(file: Pick<WeightFile, 'key' | 'bytes'>): Weights {
  let weights = workerModels.get(file.key);
  if (weights) {
    workerModels.delete(file.key); // re-inserted below: the Map's order is the use order
  } else {
    weights = readWeights(file.bytes, 'verified');
    if (workerModels.size === WORKER_MODELS) workerModels.delete(workerModels.keys().next().value!);
  }
  workerModels.set(file.key, weights);
  return weights;
}
