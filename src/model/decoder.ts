/**
 * Paper step 5, decoding and fusion:
 *   x̂_m = g_m(ŷ / g_q),  r̂ = g_r(ẑ / h_q),  x̂ = x̂_m + r̂ + φ([x̂_m, r̂]),  φ = conv3 · ReLU · conv3
 * Only arithmetic and sqrt (IGDN) run here, in a fixed order: the same symbols give the same pixels on
 * every machine. Decoding works on regions (tiles) of the padded image; see src/model/tiling.ts.
 */
import { TOTAL_STRIDE, type Latent, type Latents, type Range, type Region, type Tensor } from '../core/types.js';
import { relu } from '../../kernels/index.js';
import { dequantize, levelRow } from './bottleneck.js';
import { convLayer, gdnLayer, recycle, synthesis, tensor, transposedConvLayer } from './tensor.js';
import { clip, cropLatent, cropTensor, fusionInput, pasteTensor, tconvInput } from './tiling.js';
import type { LatentEntropy, Transform, Weights } from '../format/weights.js';

/** φ([x̂_m, r̂]) alone (the parity tests compare it layer by layer). */
export function fusionCorrection(xMain: Tensor, rHat: Tensor, w: Weights): Tensor {
  const both = tensor(6, xMain.h, xMain.w);
  both.data.set(xMain.data, 0);
  both.data.set(rHat.data, xMain.data.length);
  const hidden = convLayer(both, w.fusion.conv1, 1);
  recycle(both);
  relu(hidden.data, hidden.data, hidden.data.length);
  const phi = convLayer(hidden, w.fusion.conv2, 1);
  recycle(hidden);
  return phi;
}

export function fuse(xMain: Tensor, rHat: Tensor, w: Weights): Tensor {
  const phi = fusionCorrection(xMain, rHat, w);
  const out = tensor(3, xMain.h, xMain.w);
  for (let i = 0; i < out.data.length; i++) out.data[i] = Math.fround(xMain.data[i] + rHat.data[i]) + phi.data[i];
  recycle(phi);
  return out;
}

/**
 * The regions a synthesis transform of `layers` tconvs computes for a pixel region, the latent's first. Going back
 * from the region, each scale needs what the next tconv reads (its whole Winograd tiles' patches, clipped to the
 * image); every layer computes just that, so the halo never gets upsampled along with the tile.
 */
export function synthesisRegions(latent: { h: number; w: number }, layers: number, region: Region): Region[] {
  const regions = [region];
  for (let scale = 2 ** (layers - 1); scale >= 1; scale /= 2) {
    const next = regions[0];
    regions.unshift({ rows: clip(tconvInput(next.rows), latent.h * scale), cols: clip(tconvInput(next.cols), latent.w * scale) });
  }
  return regions;
}

/** A synthesis branch as the decoder runs it: its latent, transform and dequantisation, and how its first layer runs. */
export interface Branch {
  latent: Latent;
  t: Transform;
  gains: Float32Array;
  medians?: Float32Array;
  /** g_m's first layer (tconv · IGDN) over the whole latent, when ŷ keeps it (Latent.head): the layers start after it */
  head?: Tensor;
  /**
   * the first layer by the direct kernel: g_m's where its output is also c_z's input, in every kind with a hyperprior
   * (see transposedConvLayer); the factorized kind has no c_z, and runs it by Winograd like the others
   */
  directFirst: boolean;
}

/** The factorized prior's medians at a level (the Gaussian conditional's means travel with the latent). */
const medians = (entropy: LatentEntropy | undefined, level: number, channels: number) => entropy && levelRow(entropy.median, level, channels);

/** The decoder's two synthesis branches: g_m over ŷ, g_r over ẑ. */
export type BranchName = 'main' | 'residual';

/** Branch `name` over its latent (ŷ for 'main', ẑ for 'residual'). */
export const branchOf = (name: BranchName, latent: Latent, w: Weights, level: number): Branch =>
  name === 'main' ? mainBranch(latent, w, level) : residualBranch(latent, w, level);

/** x̂_m = g_m(ŷ / g_q). */
export function mainBranch(y: Latent, w: Weights, level: number): Branch {
  const { M } = w.config;
  return { latent: y, t: w.mainDecoder, gains: levelRow(w.gainY, level, M), medians: medians(w.entropyY, level, M), head: y.head, directFirst: w.hyper !== undefined };
}

/** r̂ = g_r(ẑ / h_q). */
export function residualBranch(z: Latent, w: Weights, level: number): Branch {
  const { Mr } = w.config;
  return { latent: z, t: w.resDecoder, gains: levelRow(w.gainZ, level, Mr), medians: medians(w.entropyZ, level, Mr), directFirst: false };
}

function synthesizeRegion(b: Branch, region: Region): Tensor {
  const regions = synthesisRegions(b.latent, b.t.convs.length, region);
  const from = b.head ? 1 : 0;
  const x = b.head
    ? cropTensor(b.head, regions[1].rows, regions[1].cols)
    : dequantize(cropLatent(b.latent, regions[0].rows, regions[0].cols), b.gains, b.medians);
  const out = synthesis(x, b.t, undefined, regions, from, b.directFirst);
  recycle(x);
  return out;
}

/**
 * Layer `layer` of a branch (its tconv, and IGDN after all but the last) over rows `rows` of the layer's whole-image
 * output, every column: how the pool decodes, a layer at a time (src/parallel/parallel.ts). `x` is the layer's input
 * over the whole image; for layer 0, undefined: the latent's rows it reads are dequantized here. Every element has
 * the bits decodeRegion gives it (the kernels place their tiles on the whole image: tiling.ts).
 */
export function synthesisBand(b: Branch, layer: number, x: Tensor | undefined, rows: Range): Tensor {
  const cols = { start: 0, end: b.latent.w * 2 ** layer };
  const inRows = x ? { start: 0, end: x.h } : clip(tconvInput(rows), b.latent.h);
  const input = x ?? dequantize(cropLatent(b.latent, inRows, cols), b.gains, b.medians);
  const out = transposedConvLayer(input, b.t.convs[layer], { input: { rows: inRows, cols }, output: { rows, cols: { start: 0, end: 2 * cols.end } } },
    b.directFirst && layer === 0 ? 'direct' : 'winograd');
  if (!x) recycle(input);
  return layer < b.t.gdns.length ? gdnLayer(out, b.t.gdns[layer], true, out) : out;
}

/** x̂_m = g_m(ŷ) over a pixel region. */
export function mainReconstruction(y: Latent, w: Weights, level: number, region: Region): Tensor {
  return synthesizeRegion(mainBranch(y, w, level), region);
}

/**
 * Rows of x̂ fused at a time: φ's 16-channel hidden layer then covers a band, not the whole region (4 MB for a 256²
 * decode, ≈ 17 MB for a 512² tile, a fresh allocation in every decode, since the spares then hold x̂_m and r̂); the
 * band's 2-row halo costs ≈ 5 % more of φ's work at 64 rows.
 */
const FUSION_BAND_ROWS = 64;

/**
 * fuse over `inner` (x̂_m and r̂ there), kept over `region` (inside it, by φ's halo wherever inner is not the image's
 * edge), a band of FUSION_BAND_ROWS rows at a time: each band reads its own halo within inner, so every pixel has the
 * bits of φ over the whole of inner.
 */
function fuseCropped(xMain: Tensor, rHat: Tensor, w: Weights, inner: Region, region: Region): Tensor {
  const height = region.rows.end - region.rows.start, width = region.cols.end - region.cols.start;
  const out = tensor(3, height, width);
  const everyColumn = { start: 0, end: xMain.w };
  const cols = { start: region.cols.start - inner.cols.start, end: region.cols.end - inner.cols.start };
  for (let start = region.rows.start; start < region.rows.end; start += FUSION_BAND_ROWS) {
    const rows = { start, end: Math.min(region.rows.end, start + FUSION_BAND_ROWS) };
    const read = fusionInput(rows); // within inner but at the image's edges, where inner stops and φ pads with zeros
    const from = { start: Math.max(read.start, inner.rows.start) - inner.rows.start, end: Math.min(read.end, inner.rows.end) - inner.rows.start };
    const m = cropTensor(xMain, from, everyColumn), r = cropTensor(rHat, from, everyColumn);
    const fused = fuse(m, r, w);
    recycle(m);
    recycle(r);
    const own = { start: rows.start - inner.rows.start - from.start, end: rows.end - inner.rows.start - from.start };
    const kept = cropTensor(fused, own, cols);
    recycle(fused);
    pasteTensor(out.data, height, width, kept, { rows: { start: rows.start - region.rows.start, end: rows.end - region.rows.start }, cols: { start: 0, end: width } });
    recycle(kept);
  }
  return out;
}

/** x̂ = x̂_m + r̂ + φ([x̂_m, r̂]) over a pixel region. */
export function decodeRegion({ y, z }: Latents, w: Weights, level: number, region: Region): Tensor {
  const size = { h: y.h * TOTAL_STRIDE, w: y.w * TOTAL_STRIDE };
  const inner = { rows: clip(fusionInput(region.rows), size.h), cols: clip(fusionInput(region.cols), size.w) };
  const xMain = synthesizeRegion(mainBranch(y, w, level), inner);
  const rHat = synthesizeRegion(residualBranch(z, w, level), inner);
  const out = fuseCropped(xMain, rHat, w, inner, region);
  recycle(xMain);
  recycle(rHat);
  return out;
}

/** x̂ over rows `rows` (every column) from x̂_m and r̂ over the whole image: decodeRegion's last step, for the pool's bands. */
export function fusionBand(xMain: Tensor, rHat: Tensor, w: Weights, rows: Range): Tensor {
  // fuseCropped crops each of its bands, with its halo, from the whole image
  const cols = { start: 0, end: xMain.w };
  return fuseCropped(xMain, rHat, w, { rows: { start: 0, end: xMain.h }, cols }, { rows, cols });
}
