/**
 * The hyper kind's priors (train/model.py): what the decoder computes, before it reads ŷ and ẑ, to know
 * each element's Gaussian N(μ, σ):
 *
 *   encoder only:  ŵ-symbols = Q(h_a(y / g_q) ⊙ k_q − μ_w)            (ŵ: hyper-latent, factorized prior)
 *   ŷ's prior:     (μ', σ') = h_s(ŵ / k_q) cropped to ŷ,  μ_y = μ' ⊙ g_q,  σ_y = σ' ⊙ g_q
 *   ẑ's prior:     f₈ = IGDN(tconv(ŷ / g_q))  (g_m's first layer: ẑ's 1/8 grid),  (μ', σ') = c_z(f₈),
 *                  μ_z = μ' ⊙ h_q,  σ_z = σ' ⊙ h_q
 *   checkerboard:  ẑ's anchors (row + column even) as above; then for the others
 *                  (μ', σ') += e_z([μ', σ', s_z(ẑ_anchors / h_q)])   (s_z: conv5 over the anchors, the others 0)
 *   spacechannel:  each checkerboard pass in two channel halves (residualSteps): the second half's
 *                  (μ', σ') += k([ẑ / h_q of the first half at the pass's elements, 0 elsewhere; μ', σ' of the second])
 *                  with k_a over c_z's (μ', σ') at the anchors, k_o over the others pass's (at every element) at the others
 *   ycontext:      the spacechannel kind's ẑ, and ŷ coded in two steps (mainSteps): its anchors with h_s's (μ', σ'),
 *                  then the others with (μ', σ') += e_y([μ', σ', s_y(ŷ_anchors / g_q)]): the checkerboard's 'others'
 *                  pass over ŷ, the same code as ẑ's (a PriorPass names its latent)
 *   ychannel:      the ycontext kind, with ŷ's steps in channel halves as the spacechannel kind's ẑ (ŷ's k_a over h_s's
 *                  (μ', σ'), k_o over the others pass's)
 *
 * READ ME FIRST
 * - Encoder and decoder must get bit-identical μ and scale indexes, or the file decodes to garbage: both run
 *   this code on the same symbols, over the whole latent, never tiled; the passes are cut in bands of whole rows
 *   (PriorPass) whose halos make every cut exact, so band size and worker count cannot matter.
 * - σ picks its CDF table by comparisons only: the first table scale ≥ σ. No Math.exp/log/pow, whose results
 *   differ between JavaScript engines; the kernels use + − × ÷ and sqrt in a fixed order.
 * - σ below the first table scale (even negative: h_s's output is not bounded) uses the first table, as the
 *   trainer's lower bound does.
 * - Checkerboard: the non-anchors' prior reads the anchors' symbols and means only, so the encoder may run it
 *   while ẑ's other elements still hold their unquantised values (src/model/encoder.ts); likewise each pass of the
 *   spacechannel kind reads only what the steps before it coded.
 * - Spacechannel: k_o reads the others pass's (μ', σ') at the anchors too, where no stream uses them: the others
 *   pass computes s_z and e_z at every element, and keeps them (in ẑ's `context`, over c_z's output) when small.
 */
import type { Latent, Range, Tensor } from '../core/types.js';
import { relu } from '../../kernels/index.js';
import { shareable } from '../core/shared-memory.js';
import { dequantize, levelRow, type Centers, type LatentPart } from './bottleneck.js';
import { checkerboardConvLayer, convLayer, gdnLayer, recycle, tensor, transposedConvLayer } from './tensor.js';
import { clip, cropLatent, cropTensor, pasteTensor, tconvInput } from './tiling.js';
import type { Conv, HyperWeights, Weights } from '../format/weights.js';

/** The hyper kind's extra weights: a model of another kind reaching here is a bug. */
function hyperOf(w: Weights): HyperWeights {
  if (!w.hyper) throw new Error('priors.ts: a factorized model has no hyperprior');
  return w.hyper;
}

/** Size of ŵ's grid for a ŷ grid of h × w: two stride-2 convolutions, rounding up. */
export function hyperGrid(h: number, w: number): { h: number; w: number } {
  const half = (n: number) => Math.ceil(n / 2);
  return { h: half(half(h)), w: half(half(w)) };
}

/** conv/tconv layers with a ReLU after every one but the last. */
function network(x: Tensor, layers: Conv[], apply: (h: Tensor, layer: Conv) => Tensor): Tensor {
  let h = x;
  layers.forEach((layer, i) => {
    const next = apply(h, layer);
    if (h !== x) recycle(h);
    if (i + 1 < layers.length) relu(next.data, next.data, next.data.length);
    h = next;
  });
  return h;
}

/** The first table scale ≥ σ (binary search over increasing scales), or the last. */
export function scaleIndex(sigma: number, scales: Float32Array): number {
  let lo = 0;
  let hi = scales.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sigma <= scales[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The parity of row + column of a checkerboard colour's elements. */
const PARITY = { anchors: 0, others: 1 } as const;

/** Whole-latent means and indexes, in memory workers can share. */
function allocateCenters(n: number): { means: Float32Array; indexes: Uint8Array } {
  return { means: shareable((b) => new Float32Array(b), n * Float32Array.BYTES_PER_ELEMENT), indexes: shareable((b) => new Uint8Array(b), n) };
}

/**
 * Rows [row0, row0 + rows) of a latent's centres (h × w a channel) from a network output [μ' (C), σ' (C), …]
 * whose row `from` is latent row `row0`: μ ⊙ gains, and the table rows of σ ⊙ gains. Gains, means and σ are
 * float32, like the trainer's. `part`: all elements, or one colour of the checkerboard only.
 */
function writeGaussianCenters(out: { means: Float32Array; indexes: Uint8Array }, h: number, w: number, row0: number, rows: number,
  params: Tensor, from: number, gains: Float32Array, scales: Float32Array, part: LatentPart = 'all'): void {
  const channels = gains.length;
  for (let c = 0; c < channels; c++) {
    const g = gains[c];
    for (let row = 0; row < rows; row++) {
      const mean = (c * params.h + from + row) * params.w;
      const sigma = ((channels + c) * params.h + from + row) * params.w;
      const at = (c * h + row0 + row) * w;
      const [first, step] = part === 'all' ? [0, 1] : [(row0 + row + PARITY[part]) & 1, 2];
      for (let col = first; col < w; col += step) {
        out.means[at + col] = Math.fround(params.data[mean + col] * g);
        out.indexes[at + col] = scaleIndex(Math.fround(params.data[sigma + col] * g), scales);
      }
    }
  }
}

/** Encoder: the hyper-latent's features h_a(y / g_q), from the attention output a (y = a ⊙ g_q in float32). */
export function hyperAnalysis(a: Tensor, w: Weights, level: number): Tensor {
  const { M } = w.config;
  const gains = levelRow(w.gainY, level, M);
  const x = tensor(a.c, a.h, a.w);
  const planeSize = a.h * a.w;
  for (let c = 0; c < a.c; c++) {
    const g = gains[c];
    for (let p = c * planeSize; p < (c + 1) * planeSize; p++) x.data[p] = Math.fround(a.data[p] * g) / g;
  }
  const out = network(x, hyperOf(w).analysis, (h, layer) => convLayer(h, layer, layer.k === 3 ? 1 : 2));
  recycle(x);
  return out;
}

/**
 * ŷ's coding steps, in the order both sides take them: all of it (h_s's prior, mainCenters), or for the ycontext kind
 * its anchors (h_s's prior), then its other elements (the 'others' pass over ŷ: s_y, e_y); the ychannel kind's as
 * ẑ's spacechannel steps, in channel halves.
 */
export function mainSteps(w: Weights): LatentStep[] {
  const all = { start: 0, end: w.config.M };
  if (!w.hyper?.mainSpatial) return [{ part: 'all', channels: all }];
  if (!w.hyper.mainChannel) return [{ part: 'anchors', channels: all }, { pass: 'others', part: 'others', channels: all }];
  return channelSteps(undefined, w.config.M);
}

/** The four steps of a latent of C channels coded in checkerboard passes and channel halves; `first` the first's pass. */
function channelSteps(first: PassKind | undefined, C: number): LatentStep[] {
  const [one, two] = [{ start: 0, end: C / 2 }, { start: C / 2, end: C }];
  return [
    { pass: first, part: 'anchors', channels: one },
    { pass: 'anchorChannels', part: 'anchors', channels: two },
    { pass: 'others', part: 'others', channels: one },
    { pass: 'otherChannels', part: 'others', channels: two },
  ];
}

/** A latent coded in steps with prior passes between them: ŷ (mainSteps) or ẑ (residualSteps). */
export type SteppedLatent = 'y' | 'z';

export function latentSteps(w: Weights, of: SteppedLatent): LatentStep[] {
  return of === 'y' ? mainSteps(w) : residualSteps(w);
}

/** The context networks of a latent's later passes, and its gains. */
function contextsOf(w: Weights, of: SteppedLatent): { spatial?: HyperWeights['resSpatial']; channel?: HyperWeights['resChannel']; gains: Float32Array } {
  const hw = hyperOf(w);
  return of === 'z' ? { spatial: hw.resSpatial, channel: hw.resChannel, gains: w.gainZ } : { spatial: hw.mainSpatial, channel: hw.mainChannel, gains: w.gainY };
}

/** Rows of halo h_s's last layer needs: one 3×3 convolution. */
const SYNTHESIS_HALO = 1;

/**
 * h_s's output [μ' (M), σ' (M)] (un-gained) for rows `rows` of ŷ's grid, its first `width` columns: ŵ dequantised over
 * the rows the band reads, the two transposed convolutions over windows of whole columns, the last 3×3 convolution with
 * SYNTHESIS_HALO rows a side (dropped: their zero padding is wrong there). h_s's output becomes scale indexes: the
 * direct kernels, whose bits every release has had (see transposedConvLayer); any cut gives the same values.
 */
function synthesisBand(hyper: Latent, w: Weights, level: number, rows: Range, width: number): Tensor {
  const hw = hyperOf(w);
  const { Nh } = w.config;
  const [first, second, last] = hw.synthesis;
  const grid1 = { h: 2 * hyper.h, w: 2 * hyper.w };
  const grid2 = { h: 4 * hyper.h, w: 4 * hyper.w }; // h_s's output: ŵ's grid × 4, which may pass ŷ's edges
  const rows2 = clip({ start: rows.start - SYNTHESIS_HALO, end: rows.end + SYNTHESIS_HALO }, grid2.h);
  const rows1 = clip(tconvInput(rows2), grid1.h);
  const rows0 = clip(tconvInput(rows1), hyper.h);
  const [cols0, cols1, cols2] = [{ start: 0, end: hyper.w }, { start: 0, end: grid1.w }, { start: 0, end: grid2.w }];
  const x = dequantize(cropLatent(hyper, rows0, cols0), levelRow(hw.gainW, level, Nh), levelRow(hw.entropyW.median, level, Nh));
  const t1 = transposedConvLayer(x, first, { input: { rows: rows0, cols: cols0 }, output: { rows: rows1, cols: cols1 } }, 'direct');
  recycle(x);
  relu(t1.data, t1.data, t1.data.length);
  const t2 = transposedConvLayer(t1, second, { input: { rows: rows1, cols: cols1 }, output: { rows: rows2, cols: cols2 } }, 'direct');
  recycle(t1);
  relu(t2.data, t2.data, t2.data.length);
  const params = convLayer(t2, last, 1);
  recycle(t2);
  const band = cropTensor(params, { start: rows.start - rows2.start, end: rows.end - rows2.start }, { start: 0, end: width });
  recycle(params);
  return band;
}

/**
 * ŷ's means and scale indexes from the decoded hyper-latent ŵ, h_s computed in bands of rows (`bandRows`: only how the
 * work is cut): at 6000×4000 its whole output would take 96 MB. The ycontext kinds write their first step's part only,
 * and keep h_s's output over ŷ as the centres' `context` for their later passes when it is small (`keepContext` false:
 * never; the tests compare), in shared memory: the pool's stream tasks carry ŷ, and a plain array would be copied to
 * each. Else the later passes compute their bands of it again.
 */
export function mainCenters(hyper: Latent, w: Weights, level: number, y: { h: number; w: number },
  bandRows = bandRowsOf(2 * w.config.M, y.w), keepContext = true): Centers {
  const { M } = w.config;
  const steps = mainSteps(w);
  const bytes = 2 * M * y.h * y.w * Float32Array.BYTES_PER_ELEMENT;
  const context: Tensor | undefined = steps.length > 1 && keepContext && bytes <= MAX_HEAD_BYTES
    ? { c: 2 * M, h: y.h, w: y.w, data: shareable((b) => new Float32Array(b), bytes) } : undefined;
  const centers: Centers = allocateCenters(M * y.h * y.w);
  const gains = levelRow(w.gainY, level, M);
  for (const rows of bandsOf(y.h, bandRows)) {
    const params = synthesisBand(hyper, w, level, rows, y.w);
    writeGaussianCenters(centers, y.h, y.w, rows.start, rows.end - rows.start, params, 0, gains, hyperOf(w).gaussian.scales, steps[0].part);
    if (context) pasteTensor(context.data, y.h, y.w, params, { rows, cols: { start: 0, end: y.w } });
    recycle(params);
  }
  if (context) centers.context = context;
  return centers;
}

/**
 * g_m's first layer over the whole of ŷ is kept for the tiles (ŷ's `head`) up to this size: 8 Mpixel at N = 64;
 * and the checkerboard kind keeps c_z's output for its second pass up to it too (4 Mpixel at Mr = 64).
 */
const MAX_HEAD_BYTES = 32 << 20;
/**
 * ẑ's prior is computed in bands of rows of its grid: a 6000×4000 image's f₈ and c_z activations would take
 * ≈ 290 MB at once. A band has at most PRIOR_BAND_ROWS rows (512 image rows), fewer on a wide image so that its
 * widest activation (c_z's output, 2·Mr channels) stays near BAND_BYTES, and at least MIN_BAND_ROWS: c_z is two 3×3
 * convolutions, so a band also computes 2 rows a side, which it then drops (their zero padding is wrong there; the
 * rows kept are exact): 25 % more at 16 rows. Each thread keeps a few activation buffers for reuse (tensor.ts), so
 * the band's size stays in memory: a 3000×2000 decode on 2 workers peaked at 351 MB with 64-row bands, 305 with
 * this rule's 21.
 */
const PRIOR_BAND_ROWS = 64;
export const MIN_BAND_ROWS = 16;
const BAND_BYTES = 4 << 20;

/** The band height for ẑ's grid `width` columns wide (any height gives the same values: only the memory and halos differ). */
export function priorBandRows(w: Weights, width: number): number {
  return bandRowsOf(2 * w.config.Mr, width);
}

/**
 * The band height of a pass over ŷ when ẑ's passes take `zBandRows`: half as many rows (ŷ's rows are twice as tall), so
 * ŷ's passes split among workers as ẑ's do; none: ŷ's own rule.
 */
export function mainBandRows(zBandRows: number | undefined): number | undefined {
  return zBandRows === undefined ? undefined : Math.ceil(zBandRows / 2);
}

/** The band height whose widest activation, `channels` × `width`, stays near BAND_BYTES (within the bounds above). */
function bandRowsOf(channels: number, width: number): number {
  const rowBytes = channels * width * Float32Array.BYTES_PER_ELEMENT;
  return Math.max(MIN_BAND_ROWS, Math.min(PRIOR_BAND_ROWS, Math.floor(BAND_BYTES / rowBytes)));
}
/** Rows of halo c_z needs: two 3×3 convolutions. */
const CONTEXT_HALO = 2;
/** Rows of halo s_z needs: one 5×5 convolution (e_z is 1×1). */
const SPATIAL_HALO = 2;
/** Rows of halo k_a and k_o need: one 3×3 convolution (then 1×1). */
const CHANNEL_HALO = 1;

/**
 * c_z's output [μ' (Mr), σ' (Mr)] (un-gained) for rows `rows` of ẑ's grid (all its columns): f₈, g_m's first layer
 * over ŷ, cropped from ŷ's `head` when it is kept, else computed over the band with CONTEXT_HALO rows a side (their
 * zero padding is wrong there: they are dropped). `keepF8` sees the band's own rows of f₈ (residualCenters builds
 * the head from them).
 */
function contextBand(y: Latent, w: Weights, level: number, rows: Range, keepF8?: (f8: Tensor) => void): Tensor {
  const { M } = w.config;
  const [h, wd] = [2 * y.h, 2 * y.w];
  const cols = { start: 0, end: wd };
  const withHalo = clip({ start: rows.start - CONTEXT_HALO, end: rows.end + CONTEXT_HALO }, h);
  let f8: Tensor;
  if (y.head) {
    f8 = cropTensor(y.head, withHalo, cols);
  } else {
    const yRows = clip(tconvInput(withHalo), y.h);
    const yCols = { start: 0, end: y.w };
    const x = dequantize(cropLatent(y, yRows, yCols), levelRow(w.gainY, level, M));
    f8 = transposedConvLayer(x, w.mainDecoder.convs[0], { input: { rows: yRows, cols: yCols }, output: { rows: withHalo, cols } }, 'direct');
    recycle(x);
    gdnLayer(f8, w.mainDecoder.gdns[0], true, f8);
  }
  const from = rows.start - withHalo.start;
  const own = { start: from, end: from + rows.end - rows.start };
  if (keepF8) {
    const kept = cropTensor(f8, own, cols);
    keepF8(kept);
    recycle(kept);
  }
  const params = network(f8, hyperOf(w).resContext, (t, layer) => convLayer(t, layer, 1));
  recycle(f8);
  const band = cropTensor(params, own, cols);
  recycle(params);
  return band;
}

/**
 * A prior computed band by band, each band writing only its own rows of arrays in shared memory: any thread may
 * compute any band, in any order, and any cut gives the same values (the tests compare), so the worker pool
 * computes the bands of one pass side by side. A pass is set up on the calling thread (…Pass), its bands run
 * (priorBand), then it is finished there (finishPass).
 *   'residual':  ẑ's first pass: c_z over f₈ → ẑ's centres (for the checkerboard kind: the anchors' final ones,
 *                the others' first guess); builds f₈ (ŷ's `head`) when small.
 *   'others':    the checkerboard's second pass: the non-anchor elements' centres from the decoded anchors (ẑ's: s_z,
 *                e_z over c_z's output; ŷ's: s_y, e_y over h_s's).
 *   'anchorChannels', 'otherChannels': the spacechannel kind's second channel half at the anchors (after 'residual'),
 *                at the others (after 'others'), from the first half decoded there.
 */
export type PassKind = 'residual' | 'anchorChannels' | 'others' | 'otherChannels';
export interface PriorPass {
  kind: PassKind;
  /** the latent whose centres it writes ('residual': ẑ) */
  latent: SteppedLatent;
  /** bands of rows of that latent's grid */
  bands: Range[];
  /** 'residual': ẑ's centres, filled band by band (and c_z's output kept for the second pass when small) */
  centers?: { means: Float32Array; indexes: Uint8Array; context?: Tensor };
  /** 'residual': f₈ over the whole latent, filled band by band; ŷ's head once the pass is finished */
  head?: Tensor;
  /** the last pass that reads its latent's kept context: finishing it drops the context */
  last?: boolean;
}

/** What a pass reads and writes: ŷ, and ẑ once it exists (the encoder's first pass comes before it). */
export interface PassLatents {
  y: Latent;
  z?: Latent;
  /** ŵ: ŷ's passes compute h_s's output from it when ŷ does not keep it */
  hyper?: Latent;
}

/** Bands of `bandRows` rows over h rows. */
function bandsOf(h: number, bandRows: number): Range[] {
  const bands: Range[] = [];
  for (let row0 = 0; row0 < h; row0 += bandRows) bands.push({ start: row0, end: Math.min(h, row0 + bandRows) });
  return bands;
}

/**
 * A latent's coding step: the elements and channels it codes (its streams), once its prior pass has given them their
 * centres.
 */
export interface LatentStep {
  /** none: the factorized kind's medians, or ŷ's first step (mainCenters) */
  pass?: PassKind;
  part: LatentPart;
  channels: Range;
}

/** ẑ's coding steps, in the order both sides take them (the first pass needs ŷ only: the encoder runs it before f_r). */
export function residualSteps(w: Weights): LatentStep[] {
  const { Mr } = w.config;
  const all = { start: 0, end: Mr };
  if (!w.hyper) return [{ part: 'all', channels: all }];
  if (!w.hyper.resSpatial) return [{ pass: 'residual', part: 'all', channels: all }];
  if (!w.hyper.resChannel) return [{ pass: 'residual', part: 'anchors', channels: all }, { pass: 'others', part: 'others', channels: all }];
  return channelSteps('residual', Mr);
}

/**
 * Sets up a pass of a latent's prior: ẑ's first from ŷ; the later ones over the latent `of`, whose earlier steps are
 * decoded or quantised. `bandRows` in rows of that latent's grid.
 */
export function startPass(kind: PassKind, latents: PassLatents, w: Weights, bandRows?: number, of: SteppedLatent = 'z'): PriorPass {
  if (kind === 'residual') return residualPass(latents.y, w, bandRows);
  const latent = latents[of]!;
  const { spatial, channel } = contextsOf(w, of);
  const context = kind === 'others' ? spatial : channel;
  if (!context || !latent.means || !latent.indexes) throw new Error(`priors.ts: the ${kind} pass needs its kind's context and the passes before it`);
  const last = kind === 'otherChannels' || (kind === 'others' && !channel);
  return { kind, latent: of, bands: bandsOf(latent.h, bandRows ?? bandRowsOf(2 * latent.c, latent.w)), last };
}

/**
 * Sets up ẑ's first pass from ŷ (which must carry its means): the centres, and f₈ (ŷ's head) when small enough,
 * allocated in shared memory. ŷ's old head is dropped (it is computed again here, from this ŷ). `bandRows` only
 * changes how the work is cut, `keepContext` false how the second pass gets c_z's output (the tests compare them).
 */
export function residualPass(y: Latent, w: Weights, bandRows = priorBandRows(w, 2 * y.w), keepContext = true): PriorPass {
  const { N, Mr } = w.config;
  const [h, wd] = [2 * y.h, 2 * y.w];
  const shared = (c: number): Tensor => ({ c, h, w: wd, data: shareable((b) => new Float32Array(b), c * h * wd * Float32Array.BYTES_PER_ELEMENT) });
  const centers: PriorPass['centers'] = allocateCenters(Mr * h * wd);
  if (keepContext && hyperOf(w).resSpatial && 2 * Mr * h * wd * Float32Array.BYTES_PER_ELEMENT <= MAX_HEAD_BYTES) centers.context = shared(2 * Mr);
  delete y.head;
  return { kind: 'residual', latent: 'z', bands: bandsOf(h, bandRows), centers, ...(N * h * wd * Float32Array.BYTES_PER_ELEMENT <= MAX_HEAD_BYTES && { head: shared(N) }) };
}

/** Rows `rows` of a pass's latent (any thread: the arrays it writes are shared). */
export function priorBand(pass: PriorPass, latents: PassLatents, w: Weights, level: number, rows: Range): void {
  const of = pass.latent;
  if (pass.kind === 'residual') residualBand(pass, latents.y, w, level, rows);
  else if (pass.kind === 'others') othersBand(of, latents, w, level, rows);
  else channelBand(pass.kind, of, latents, w, level, rows);
}

/**
 * Ends a pass on the calling thread: ŷ gets the first pass's head and ẑ (when there is one) its centres; the last
 * pass over a latent drops its kept context.
 */
export function finishPass(pass: PriorPass, latents: PassLatents): void {
  if (pass.kind === 'residual') {
    if (latents.z) withCenters(latents.z, pass.centers!);
    if (pass.head) latents.y.head = pass.head;
  } else if (pass.last) {
    delete latents[pass.latent]!.context;
  }
}

/** A pass's bands in turn, on this thread, then finished. */
export function runPass(pass: PriorPass, latents: PassLatents, w: Weights, level: number): void {
  for (const rows of pass.bands) priorBand(pass, latents, w, level, rows);
  finishPass(pass, latents);
}

/**
 * ẑ's means and scale indexes from ŷ (which must carry its means), on this thread (residualPass's bands); sets ŷ's
 * head. For the encoder, whose ẑ is not quantised yet.
 */
export function residualCenters(y: Latent, w: Weights, level: number, bandRows = priorBandRows(w, 2 * y.w), keepContext = true): Centers {
  const pass = residualPass(y, w, bandRows, keepContext);
  runPass(pass, { y }, w, level);
  return pass.centers!;
}

/** ẑ's first pass, band `rows`: c_z's output, written as centres (and pasted into the kept context and head). */
function residualBand(pass: PriorPass, y: Latent, w: Weights, level: number, rows: Range): void {
  const { Mr } = w.config;
  const [h, wd] = [2 * y.h, 2 * y.w];
  const cols = { start: 0, end: wd };
  const { head, centers } = pass;
  const params = contextBand(y, w, level, rows, head && ((f8) => pasteTensor(head.data, h, wd, f8, { rows, cols })));
  writeGaussianCenters(centers!, h, wd, rows.start, rows.end - rows.start, params, 0, levelRow(w.gainZ, level, Mr), hyperOf(w).gaussian.scales);
  if (centers!.context) pasteTensor(centers!.context.data, h, wd, params, { rows, cols });
  recycle(params);
}

/**
 * ẑ / h_q of its first `channels` channels at one colour's elements of rows `rows`, into `out` (rows from 0; its other
 * elements are left 0): the trainer's (round(z − μ) + μ) / h_q · mask, in float32.
 */
function writeDecoded(out: Tensor, z: Latent, gains: Float32Array, rows: Range, part: 'anchors' | 'others', channels: number): void {
  const { h, w: wd } = z;
  for (let ch = 0; ch < channels; ch++) {
    const g = gains[ch];
    for (let row = rows.start; row < rows.end; row++) {
      const at = (ch * h + row) * wd;
      const to = (ch * out.h + row - rows.start) * wd;
      for (let col = (row + PARITY[part]) & 1; col < wd; col += 2) out.data[to + col] = Math.fround(z.symbols![at + col] + z.means![at + col]) / g;
    }
  }
}

/**
 * A latent's first (μ', σ') over rows `rows` of its grid: its kept context when there is one (ŷ: h_s's output, ẑ: c_z's,
 * when small; or by now the 'others' pass's), else computed again (h_s from ŵ, c_z from ŷ).
 */
function contextRows(of: SteppedLatent, latents: PassLatents, w: Weights, level: number, rows: Range): Tensor {
  const latent = latents[of]!;
  if (latent.context) return cropTensor(latent.context, rows, { start: 0, end: latent.w });
  if (of === 'y') {
    if (!latents.hyper) throw new Error('priors.ts: ŷ\'s passes read h_s\'s output, kept or from ŵ');
    return synthesisBand(latents.hyper, w, level, rows, latent.w);
  }
  return contextBand(latents.y, w, level, rows);
}

/**
 * The checkerboard's (μ', σ') over rows `rows` of a latent's grid, from its decoded (or quantised) anchors and its first
 * (μ', σ'): e's Δ added at the non-anchor elements, and with a channel context at every element (k_o reads them all).
 */
function spatialParams(of: SteppedLatent, latents: PassLatents, w: Weights, level: number, rows: Range): Tensor {
  const latent = latents[of]!;
  const { spatial, channel, gains } = contextsOf(w, of);
  return checkerboardParams(latent, levelRow(gains, level, latent.c), spatial!, contextRows(of, latents, w, level, rows), rows, !!channel);
}

/**
 * A checkerboard context over rows `rows` of a latent (ẑ: s_z, e_z; ŷ: s_y, e_y): `base`, the rows' (μ', σ') before it
 * (2·C channels), plus e([μ', σ', s(anchors / gains)]) at the non-anchor elements, or with `everywhere` at every
 * element; returned in base's buffer. The anchors are read from the latent's symbols and means.
 */
function checkerboardParams(latent: Latent, gains: Float32Array, net: { spatial: Conv; params: Conv[] }, base: Tensor, rows: Range,
  everywhere: boolean): Tensor {
  const { c, h, w: wd } = latent;
  const inRows = clip({ start: rows.start - SPATIAL_HALO, end: rows.end + SPATIAL_HALO }, h);
  const anchors = tensor(c, inRows.end - inRows.start, wd);
  writeDecoded(anchors, latent, gains, inRows, 'anchors', c);
  // s from the anchors' taps (the rest of its input is 0) at the other elements (and at the anchors): row
  // inRows.start's parity is the anchors' in this band's coordinates
  const anchorParity = (inRows.start & 1) as 0 | 1;
  const spatial = checkerboardConvLayer(anchors, net.spatial, anchorParity, (1 - anchorParity) as 0 | 1);
  if (everywhere) checkerboardConvLayer(anchors, net.spatial, anchorParity, anchorParity, spatial);
  recycle(anchors);
  const from = rows.start - inRows.start;
  // e (1×1 convolutions: each element from its own channels) at those elements only, gathered into one row
  const plane = base.h * wd;
  const elements: number[] = [];
  for (let r = 0; r < base.h; r++) for (let col = everywhere ? 0 : (rows.start + r + 1) & 1; col < wd; col += everywhere ? 1 : 2) elements.push(r * wd + col);
  const n = elements.length;
  const input = tensor(2 * c + spatial.c, 1, n);
  for (let ch = 0; ch < 2 * c; ch++) for (let i = 0; i < n; i++) input.data[ch * n + i] = base.data[ch * plane + elements[i]];
  for (let ch = 0; ch < spatial.c; ch++) {
    const at = (ch * spatial.h + from) * wd;
    for (let i = 0; i < n; i++) input.data[(2 * c + ch) * n + i] = spatial.data[at + elements[i]];
  }
  recycle(spatial);
  const delta = network(input, net.params, (t, layer) => convLayer(t, layer, 1));
  recycle(input);
  for (let ch = 0; ch < 2 * c; ch++) {
    for (let i = 0; i < n; i++) base.data[ch * plane + elements[i]] = Math.fround(base.data[ch * plane + elements[i]] + delta.data[ch * n + i]);
  }
  recycle(delta);
  return base;
}

/**
 * Checkerboard, second pass, band `rows`: the non-anchor elements' means and scale indexes of a latent (spatialParams;
 * ẑ: c_z's output kept by the first pass, `z.context`, when small, else computed again: keeping it for a large image
 * would cost 8 bytes a pixel). With a channel context the band's (μ', σ') are kept there for k_o, over the first ones.
 */
function othersBand(of: SteppedLatent, latents: PassLatents, w: Weights, level: number, rows: Range): void {
  const latent = latents[of]!;
  const { channel, gains } = contextsOf(w, of);
  const params = spatialParams(of, latents, w, level, rows);
  writeGaussianCenters({ means: latent.means!, indexes: latent.indexes! }, latent.h, latent.w, rows.start, rows.end - rows.start, params, 0,
    levelRow(gains, level, latent.c), hyperOf(w).gaussian.scales, 'others');
  const { context } = latent;
  if (channel && context) pasteTensor(context.data, context.h, context.w, params, { rows, cols: { start: 0, end: latent.w } });
  recycle(params);
}

/**
 * Spacechannel kind, band `rows` of the pass over a latent's second channel half at the anchors ('anchorChannels': k_a
 * over its first μ', σ') or at the others ('otherChannels': k_o over spatialParams'): (μ', σ') += k([ẑ / h_q of the
 * first half at those elements, 0 elsewhere; μ', σ' of the second half]), k's two convolutions at those elements only.
 */
function channelBand(kind: 'anchorChannels' | 'otherChannels', of: SteppedLatent, latents: PassLatents, w: Weights, level: number, rows: Range): void {
  const z = latents[of]!;
  const { gaussian } = hyperOf(w);
  const contexts = contextsOf(w, of);
  const { c, h, w: wd } = z;
  const half = c / 2;
  const part = kind === 'anchorChannels' ? 'anchors' : 'others';
  const gains = levelRow(contexts.gains, level, c);
  const inRows = clip({ start: rows.start - CHANNEL_HALO, end: rows.end + CHANNEL_HALO }, h);
  // 'otherChannels': the latent's context holds spatialParams' output by now (othersBand), when it is kept
  const params = kind === 'anchorChannels' || z.context ? contextRows(of, latents, w, level, inRows) : spatialParams(of, latents, w, level, inRows);
  const plane = params.h * wd;
  const input = tensor(half + c, params.h, wd);
  writeDecoded(input, z, gains, inRows, part, half);
  input.data.set(params.data.subarray(half * plane, c * plane), half * plane); // μ' of the second half
  input.data.set(params.data.subarray((c + half) * plane, 2 * c * plane), c * plane); // σ' of the second half
  // the pass's elements have parity (PARITY[part] + inRows.start) & 1 in the band's coordinates
  const parity = ((PARITY[part] + inRows.start) & 1) as 0 | 1;
  const [conv3, conv1] = contexts.channel![part];
  const hidden = checkerboardConvLayer(input, conv3, 'dense', parity);
  recycle(input);
  relu(hidden.data, hidden.data, hidden.data.length);
  const second = checkerboardConvLayer(hidden, conv1, 'dense', parity);
  recycle(hidden);
  // (μ', σ') of the second half = theirs + Δ, in float32 (the other parity's elements hold garbage: never read)
  for (let i = 0; i < half * plane; i++) {
    second.data[i] = Math.fround(params.data[half * plane + i] + second.data[i]);
    second.data[half * plane + i] = Math.fround(params.data[(c + half) * plane + i] + second.data[half * plane + i]);
  }
  recycle(params);
  const from = rows.start - inRows.start;
  const offset = half * h * wd;
  writeGaussianCenters({ means: z.means!.subarray(offset), indexes: z.indexes!.subarray(offset) }, h, wd, rows.start, rows.end - rows.start,
    second, from, gains.subarray(half), gaussian.scales, part);
  recycle(second);
}

/**
 * A latent's passes after its first step (latentSteps), in turn on this thread, for a latent that holds all its symbols
 * and its first step's centres: the centres a decoder gets (each pass reads only what the steps before it decoded).
 * `bandRows` in rows of that latent's grid.
 */
export function laterPassCenters(latents: PassLatents, of: SteppedLatent, w: Weights, level: number, bandRows?: number): void {
  for (const step of latentSteps(w, of).slice(1)) runPass(startPass(step.pass!, latents, w, bandRows, of), latents, w, level);
}

/** The latent with its centres attached (the decoder's way: symbols first, then what they need). */
export function withCenters(latent: Latent, centers: Centers): void {
  if ('means' in centers) {
    latent.means = centers.means;
    latent.indexes = centers.indexes;
    if (centers.context) latent.context = centers.context;
  }
}
