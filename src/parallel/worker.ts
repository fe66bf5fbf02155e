/**
 * Worker entry of the pool (src/parallel/pool.ts): runs one tile, band or stream of the codec at a time. Every array a
 * task names lives in shared memory, so a worker reads its inputs and writes its slice of the output in place;
 * only an encoded stream comes back, transferred. The work itself is the synchronous codec's own functions.
 */
import type { Latent, Latents, Range, Region, Tensor } from '../core/types.js';
import { parentPort } from 'node:worker_threads';
import { atLevel, decodeGroupStream, decodeTile, encodeChain, fuseBand } from '../codec/codec.js';
import { branchOf, synthesisBand, type BranchName } from '../model/decoder.js';
import { analysisBand, mainAnalysisTile, pasteTile, residualAnalysisTile } from '../model/encoder.js';
import { priorBand, type PassLatents, type PriorPass } from '../model/priors.js';
import { AaraError, type ErrorCode } from '../core/errors.js';
import type { RgbImage } from '../io/pixels.js';
import type { Weights } from '../format/weights.js';
import { verifiedModel, type WeightFile } from '../io/weight-files.js';

/** f_m over one latent tile, pasted into the shared features [M, H/16, W/16]. */
export interface MainAnalysisTask {
  kind: 'mainAnalysis';
  image: RgbImage;
  region: Region;
  features: Tensor;
}
/** f_r(x − x̂_m) over one latent tile, pasted into the shared features [Mr, H/8, W/8]. */
export interface ResidualAnalysisTask {
  kind: 'residualAnalysis';
  image: RgbImage;
  y: Latent;
  level: number;
  region: Region;
  features: Tensor;
}
/** The stream of the file's coding groups `chain` (codec.ts, fileChains), returned. */
export interface EncodeStreamTask {
  kind: 'encodeStream';
  latents: Latents;
  level: number;
  chain: number[];
}
/**
 * A stream holding coding group `index` alone (a version-1 file), decoded into its channel group of the shared ŷ or ẑ
 * symbols; overflow[0] = 1 if they are too narrow.
 */
export interface DecodeStreamTask {
  kind: 'decodeStream';
  stream: Uint8Array;
  latents: Latents;
  level: number;
  index: number;
  overflow: Int32Array;
}
/** One tile of x̂, written into the shared output pixels. */
export interface DecodeTileTask {
  kind: 'decodeTile';
  out: RgbImage;
  latents: Latents;
  level: number;
  region: Region;
}
/**
 * Rows `rows` of one layer of g_m (over ŷ) or g_r (over ẑ) over the whole image, written into the shared `out` (that
 * layer's whole output); `x` is its whole input, absent for layer 0 (which reads the latent).
 */
export interface SynthesisBandTask {
  kind: 'synthesisBand';
  latent: Latent;
  level: number;
  branch: BranchName;
  layer: number;
  x?: Tensor;
  out: Tensor;
  rows: Range;
}
/**
 * Rows `rows` of one layer of f_m or f_r (with `xMain`, x̂_m over the whole image) over the whole image, written into the
 * shared `out`; `x` is its whole input, absent for layer 0 (which reads the image).
 */
export interface AnalysisBandTask {
  kind: 'analysisBand';
  image: RgbImage;
  xMain?: Tensor;
  layer: number;
  x?: Tensor;
  out: Tensor;
  rows: Range;
}
/** Rows `rows` of x̂ from the shared x̂_m and r̂ over the whole image, written into the shared output pixels. */
export interface FusionBandTask {
  kind: 'fusionBand';
  out: RgbImage;
  xMain: Tensor;
  rHat: Tensor;
  rows: Range;
}
/** One band of a prior pass over ẑ's grid (src/model/priors.ts): its rows of the pass's shared centres (and f₈). */
export interface PriorBandTask {
  kind: 'priorBand';
  pass: PriorPass;
  latents: PassLatents;
  level: number;
  rows: Range;
}
export type Task = MainAnalysisTask | ResidualAnalysisTask | AnalysisBandTask | EncodeStreamTask | DecodeStreamTask | DecodeTileTask
  | SynthesisBandTask | FusionBandTask | PriorBandTask;
export type TaskResult<T extends Task> = T extends EncodeStreamTask ? Uint8Array : undefined;

/** The weight file a task runs with: `key` names it in the pool, `bytes` is its shared copy. */
export type WeightsRef = Pick<WeightFile, 'key' | 'bytes'>;
/** A worker runs one request at a time, so replies need no id. */
export interface Request {
  weights: WeightsRef;
  task: Task;
}
export interface TaskError {
  /** set when the error was an AaraError: the main thread throws the same code */
  code?: ErrorCode;
  name: string;
  message: string;
  stack?: string;
}
export interface Reply {
  result?: Uint8Array;
  error?: TaskError;
}

/** Rows `rows` of `t`, every column: where a band goes. */
const wholeRows = (t: Tensor, rows: Range): Region => ({ rows, cols: { start: 0, end: t.w } });

/** `model` at the task's level position (codec.ts atLevel: a level between two interpolates the gains). */
function run(task: Task, model: Weights): Uint8Array | undefined {
  const { w, level } = 'level' in task ? atLevel(model, task.level) : { w: model, level: 0 };
  switch (task.kind) {
    case 'mainAnalysis': {
      pasteTile(task.features, mainAnalysisTile(task.image, w, task.region), task.region);
      return undefined;
    }
    case 'residualAnalysis': {
      pasteTile(task.features, residualAnalysisTile(task.image, task.y, w, level, task.region), task.region);
      return undefined;
    }
    case 'analysisBand':
      pasteTile(task.out, analysisBand(task.image, task.xMain, task.xMain ? w.resEncoder : w.mainEncoder, task.layer, task.x, task.rows),
        wholeRows(task.out, task.rows));
      return undefined;
    case 'encodeStream':
      return encodeChain(task.chain, task.latents, w, level);
    case 'decodeStream':
      if (!decodeGroupStream(task.stream, task.index, task.latents, w, level)) Atomics.store(task.overflow, 0, 1);
      return undefined;
    case 'decodeTile':
      decodeTile(task.out, task.latents, w, level, task.region);
      return undefined;
    case 'synthesisBand':
      pasteTile(task.out, synthesisBand(branchOf(task.branch, task.latent, w, level), task.layer, task.x, task.rows), wholeRows(task.out, task.rows));
      return undefined;
    case 'fusionBand':
      fuseBand(task.out, task.xMain, task.rHat, w, task.rows);
      return undefined;
    case 'priorBand':
      priorBand(task.pass, task.latents, w, level, task.rows);
      return undefined;
  }
}

function describe(e: unknown): TaskError {
  if (e instanceof AaraError) return { code: e.code, name: e.name, message: e.message, stack: e.stack };
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: 'Error', message: String(e) };
}

const port = parentPort;
if (!port) throw new Error('src/parallel/worker.ts runs inside a worker thread (see src/parallel/pool.ts)');
port.on('message', ({ weights, task }: Request) => {
  let reply: Reply;
  try {
    reply = { result: run(task, verifiedModel(weights)) }; // the main thread read these bytes with the checksum check
  } catch (e) {
    reply = { error: describe(e) };
  }
  // an encoded stream owns its buffer (RansEncoder.finish slices): hand it over instead of copying it
  port.postMessage(reply, reply.result ? [reply.result.buffer as ArrayBuffer] : []);
});
