/**
 * The pool's layer bands: up to a size, the pool runs a transform a layer at a time over the whole image, each layer's
 * output cut into bands of rows (one a task), into shared tensors that the next layer's bands read. Tiles compute each
 * layer's halo again for every tile (a 768×512 decode in 384-px tiles: 1.13× the whole image's work; an encode in
 * 512 × 384 ones: 1.14×, counted by bench/tile-work.ts); bands on the kernels' tile grid compute nothing twice, and
 * every round hands its bands out anew, the largest first. The same bits: each element has the value any region
 * holding its kernel tile's patch gives it (src/model/tiling.ts).
 *
 *   decode: round r = layer r of g_m (over ŷ, after its head when kept) and of g_r (over ẑ) → φ and the pixels
 *   encode: f_m's layers → (main thread: ŷ) → g_m's layers → f_r's layers over x − x̂_m
 */
import { RESIDUAL_STRIDE, TOTAL_STRIDE, type Latent, type Range, type Tensor } from '../core/types.js';
import type { Budget } from '../core/budget.js';
import { releaseSharedTensor, reusedSharedTensor } from '../core/shared-memory.js';
import type { BranchName } from '../model/decoder.js';
import type { Transform, Weights } from '../format/weights.js';
import type { RgbImage } from '../io/pixels.js';
import type { WorkerPool } from './pool.js';
import type { AnalysisBandTask, SynthesisBandTask } from './worker.js';

/**
 * Decodes of up to this many padded pixels go by bands; larger ones by tiles, whose memory the tile bounds, where a
 * banded decode holds every layer's whole output (decodeBandBytes: 168 B a pixel with the shipped model's channels,
 * 176 MB at this size).
 */
export const BAND_DECODE_PIXELS = 1024 * 1024;
/** ... encodes up to the size the sync encoder takes in one tile (encoder.ts, encodeTile): the same whole-image tensors. */
export const BAND_ENCODE_PIXELS = 768 * 512;

/** Whether the pool decodes a padded h × w image by bands (not when a tile is asked for). */
export const decodesInBands = (h: number, w: number, tile?: number): boolean => tile === undefined && h * w <= BAND_DECODE_PIXELS;
/** ... encodes it by bands. */
export const encodesInBands = (h: number, w: number, tile?: unknown): boolean => tile === undefined && h * w <= BAND_ENCODE_PIXELS;

/** A layer's bands per worker: the round's last band to start leaves the other workers idle for at most about its time. */
const BANDS_PER_WORKER = 4;
/** Output rows of a Winograd tconv tile (4 input rows, doubled), and twice a conv's: bands on this grid compute no tile twice. */
const BAND_ALIGN = 8;

/** Rows [0, h) cut into about BANDS_PER_WORKER bands a worker, on the BAND_ALIGN grid. */
export function bandRows(h: number, workers: number): Range[] {
  const rows = Math.max(1, Math.ceil(h / (BANDS_PER_WORKER * workers * BAND_ALIGN))) * BAND_ALIGN;
  const bands: Range[] = [];
  for (let start = 0; start < h; start += rows) bands.push({ start, end: Math.min(h, start + rows) });
  return bands;
}

/** A transform's layers as rounds of bands: layer `first` + r in round r. */
export interface LayerPlan {
  t: Transform;
  first: number;
  /** layer `layer`'s whole output */
  output(layer: number): { c: number; h: number; w: number };
  /** the task computing rows `rows` of layer `layer` into `out` from x (its whole input; none for layer 0) */
  task(layer: number, x: Tensor | undefined, out: Tensor, rows: Range): SynthesisBandTask | AnalysisBandTask;
}

/** g_m over ŷ (from its head, when kept) or g_r over ẑ. `level`: the position, for the tasks. */
export function synthesisPlan(name: BranchName, t: Transform, latent: Latent, level: number): LayerPlan {
  return {
    t, first: name === 'main' && latent.head ? 1 : 0,
    output: (layer) => ({ c: t.convs[layer].outC, h: latent.h * 2 ** (layer + 1), w: latent.w * 2 ** (layer + 1) }),
    task: (layer, x, out, rows) => ({ kind: 'synthesisBand', latent, level, branch: name, layer, x, out, rows }),
  };
}

/** f_m over the image, or f_r over the image less x̂_m (`xMain`, over the whole padded image). */
export function analysisPlan(t: Transform, image: RgbImage, size: { h: number; w: number }, xMain?: Tensor): LayerPlan {
  return {
    t, first: 0,
    output: (layer) => ({ c: t.convs[layer].outC, h: size.h / 2 ** (layer + 1), w: size.w / 2 ** (layer + 1) }),
    task: (layer, x, out, rows) => ({ kind: 'analysisBand', image, ...(xMain && { xMain }), layer, x, out, rows }),
  };
}

const layersOf = (p: LayerPlan) => p.t.convs.length - p.first;

/** The tasks `layerRounds` runs for these plans on `workers`. */
export function bandTaskCount(plans: LayerPlan[], workers: number): number {
  let n = 0;
  for (const p of plans) for (let r = 0; r < layersOf(p); r++) n += bandRows(p.output(p.first + r).h, workers).length;
  return n;
}

/**
 * Runs the plans' layers, round r the layer first + r of each plan that has one, its bands handed out largest first;
 * `inputs[i]` is plan i's first layer's input (undefined: the layer reads the latent or image itself). Returns each
 * plan's last output, in shared memory.
 */
export async function layerRounds(plans: LayerPlan[], inputs: (Tensor | undefined)[], pool: WorkerPool, weightBytes: Uint8Array,
  budget: Budget, afterBand?: () => void): Promise<Tensor[]> {
  const x = [...inputs];
  for (let r = 0; r < Math.max(...plans.map(layersOf)); r++) {
    const tasks: { task: SynthesisBandTask | AnalysisBandTask; macs: number }[] = [];
    const read: Tensor[] = [];
    plans.forEach((p, i) => {
      const layer = p.first + r;
      if (layer >= p.t.convs.length) return;
      const o = p.output(layer);
      // the bands write every row, every column of it
      const out = reusedSharedTensor(o.c, o.h, o.w);
      for (const rows of bandRows(o.h, pool.size)) {
        tasks.push({ task: p.task(layer, x[i], out, rows), macs: p.t.convs[layer].inC * o.c * (rows.end - rows.start) * o.w });
      }
      if (r > 0) read.push(x[i]!); // a round's output, which only this round reads (not the caller's input)
      x[i] = out;
    });
    tasks.sort((a, b) => b.macs - a.macs);
    await pool.runAll(tasks.map((t) => t.task), weightBytes, budget, afterBand);
    for (const t of read) releaseSharedTensor(t);
  }
  return x as Tensor[];
}

/** Float32 elements of every layer's whole output of these plans (what their rounds allocate). */
const planFloats = (plans: LayerPlan[]) => plans.reduce((n, p) => {
  for (let layer = p.first; layer < p.t.convs.length; layer++) {
    const o = p.output(layer);
    n += o.c * o.h * o.w;
  }
  return n;
}, 0);

/** A latent's grid for a plan's shapes (no symbols: only its size is read). */
const grid = (h: number, w: number, stride: number): Latent => ({ c: 0, h: h / stride, w: w / stride });

/**
 * Bytes of the whole-image tensors a banded decode of a padded h × w image allocates (every layer of g_m and g_r, g_m's
 * first too, which ŷ's head replaces for some kinds: an upper bound), beyond DECODE_BYTES_PER_PIXEL; 0 when it goes by tiles.
 */
export function decodeBandBytes(h: number, w: number, weights: Weights): number {
  if (!decodesInBands(h, w)) return 0;
  return 4 * planFloats([
    synthesisPlan('main', weights.mainDecoder, grid(h, w, TOTAL_STRIDE), 0), synthesisPlan('residual', weights.resDecoder, grid(h, w, RESIDUAL_STRIDE), 0),
  ]);
}

/** ... of a banded encode (f_m's, g_m's and f_r's layers), beyond ENCODE_BYTES_PER_PIXEL; 0 when it goes by tiles. */
export function encodeBandBytes(h: number, w: number, weights: Weights): number {
  if (!encodesInBands(h, w)) return 0;
  const image = { width: w, height: h, data: new Uint8Array(0) }, size = { h, w };
  return 4 * planFloats([
    analysisPlan(weights.mainEncoder, image, size), synthesisPlan('main', weights.mainDecoder, grid(h, w, TOTAL_STRIDE), 0),
    analysisPlan(weights.resEncoder, image, size),
  ]);
}
