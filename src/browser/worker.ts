/**
 * The Web Worker behind AaraWorkers (./index.ts): it runs the entry's own synchronous decode and encode on the
 * buffers it is sent and transfers the results back. It keeps one model, the last weight file sent.
 */
import { AaraError } from '../core/errors.js';
import { decode, encode, readWeights, type WorkerReply, type WorkerRequest } from './index.js';
import type { Weights } from '../format/weights.js';

/** The part of a DedicatedWorkerGlobalScope used here (the DOM typings describe a window). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
}

const scope = globalThis as unknown as WorkerScope;
let weights: Weights | undefined;
/** why the weight file was refused: every later call says it */
let refused: AaraError | undefined;

scope.onmessage = ({ data: request }) => {
  try {
    if (request.op === 'weights') {
      weights = undefined;
      refused = undefined;
      try {
        weights = readWeights(request.bytes);
      } catch (err) {
        if (err instanceof AaraError) refused = err;
        throw err;
      }
      scope.postMessage({ id: request.id, result: null });
      return;
    }
    if (!weights) throw refused ?? new AaraError('BAD_WEIGHTS', 'no weight file reached the worker');
    if (request.op === 'decode') {
      const img = decode(request.file, weights, request.options);
      scope.postMessage({ id: request.id, result: img }, [img.data.buffer]);
    } else {
      const file = encode(request.image, weights, request.options);
      scope.postMessage({ id: request.id, result: file }, [file.buffer]);
    }
  } catch (err) {
    const known = err instanceof AaraError;
    scope.postMessage({ id: request.id, error: { code: known ? err.code : 'INTERNAL', message: known ? err.message : String(err) } });
  }
};
