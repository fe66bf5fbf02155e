/**
 * Paper step 5, decoding and fusion:
 *   x̂_m = g_m(ŷ / g_q),  r̂ = g_r(ẑ / h_q),  x̂ = x̂_m + r̂ + φ([x̂_m, r̂]),  φ = conv3 · ReLU · conv3
 * Only arithmetic and sqrt (IGDN) run here, in a fixed order: the same symbols give the same pixels on
 * every machine. Decoding works on regions (tiles) of the padded image; see src/model/tiling.ts.
 */
import { TOTAL_STRIDE, type Latent, type Latents, type Range, type Region, type Tensor } from '../core/types.js';
import { relu, winogradConvInput } from '../../kernels/index.js';
import { dequantize, levelRow } from './bottleneck.js';
import { gdnLayer, recycle, synthesis, tensor, transposedConvLayer, winogradConvLayer } from './tensor.js';
import { clip, cropLatent, cropTensor, fusionInput, pasteTensor, tconvInput } from './tiling.js';
import type { LatentEntropy, Transform, Weights } from '../format/weights.js';

/** Where x̂_m and r̂ lie: their tensors' (0, 0) in the image, and the image's size. */
export interface Placement {
  at: { y: number; x: number };
  size: { h: number; w: number };
}

/** x̂_m (or any tensor) as the whole image: its region and its placement. */
const wholeRegion = (t: Tensor): Region => ({ rows: { start: 0, end: t.h }, cols: { start: 0, end: t.w } });
const wholePlacement = (t: Tensor): Placement => ({ at: { y: 0, x: 0 }, size: { h: t.h, w: t.w } });

/**
 * φ([x̂_m, r̂]) over `region` of the image, from x̂_m and r̂ placed by `place` and holding fusionInput(region) clipped to
 * the image; by default over x̂_m's extent as the whole image (the parity tests compare it layer by layer). Both 3×3
 * convs run Winograd, tiles aligned to the image, so every element has the same bits whatever region is asked: conv1
 * over what conv2's tiles read (winogradConvInput(region, 1), clipped), conv2 over the region.
 */
export function fusionCorrection(xMain: Tensor, rHat: Tensor, w: Weights, region = wholeRegion(xMain),
  place = wholePlacement(xMain)): Tensor {
  const both = tensor(6, xMain.h, xMain.w);
  both.data.set(xMain.data, 0);
  both.data.set(rHat.data, xMain.data.length);
  const read: Region = { rows: clip(winogradConvInput(region.rows, 1), place.size.h), cols: clip(winogradConvInput(region.cols, 1), place.size.w) };
  const hidden = winogradConvLayer(both, w.fusion.conv1, place.at, read);
  recycle(both);
  relu(hidden.data, hidden.data, hidden.data.length);
  const phi = winogradConvLayer(hidden, w.fusion.conv2, { y: read.rows.start, x: read.cols.start }, region);
  recycle(hidden);
  return phi;
}

/** x̂ = fround(x̂_m + r̂) + φ over `region` (fusionCorrection's arguments). */
export function fuse(xMain: Tensor, rHat: Tensor, w: Weights, region = wholeRegion(xMain), place = wholePlacement(xMain)): Tensor {
  const phi = fusionCorrection(xMain, rHat, w, region, place);
  const out = tensor(3, phi.h, phi.w);
  const top = region.rows.start - place.at.y, left = region.cols.start - place.at.x;
  // a row is a function: compiled once, where this loop was compiled on-stack, then again, 3–4 times per cold decode
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < phi.h; y++) addRow(out.data, phi.data, (c * phi.h + y) * phi.w, xMain.data, rHat.data, (c * xMain.h + top + y) * xMain.w + left, phi.w);
  }
  recycle(phi);
  return out;
}

/** out[o + x] = fround(x̂_m + r̂) + φ along a row. */
function addRow(out: Float32Array, phi: Float32Array, o: number, xMain: Float32Array, rHat: Float32Array, from: number, width: number): void {
  for (let x = 0; x < width; x++) out[o + x] = Math.fround(xMain[from + x] + rHat[from + x]) + phi[o + x];
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
 * decode, ≈ 17 MB for a 512² tile, a fresh allocation in every decode, since the spares then hold x̂_m and r̂); conv1's
 * tiles reach 4 rows past the band on each side, ≈ 12 % more of its work at 64 rows.
 */
const FUSION_BAND_ROWS = 64;

/**
 * fuse over `region`, from x̂_m and r̂ over `inner` (holding fusionInput(region) clipped to the image of `size`), a band
 * of FUSION_BAND_ROWS rows at a time: each band reads its own rows of inner, so every pixel has the bits of φ over
 * the whole image.
 */
function fuseCropped(xMain: Tensor, rHat: Tensor, w: Weights, inner: Region, region: Region, size: { h: number; w: number }): Tensor {
  const height = region.rows.end - region.rows.start, width = region.cols.end - region.cols.start;
  const out = tensor(3, height, width);
  const everyColumn = { start: 0, end: xMain.w };
  for (let start = region.rows.start; start < region.rows.end; start += FUSION_BAND_ROWS) {
    const rows = { start, end: Math.min(region.rows.end, start + FUSION_BAND_ROWS) };
    const read = clip(fusionInput(rows), size.h); // within inner
    const from = { start: read.start - inner.rows.start, end: read.end - inner.rows.start };
    const m = cropTensor(xMain, from, everyColumn), r = cropTensor(rHat, from, everyColumn);
    const fused = fuse(m, r, w, { rows, cols: region.cols }, { at: { y: read.start, x: inner.cols.start }, size });
    recycle(m);
    recycle(r);
    pasteTensor(out.data, height, width, fused, { rows: { start: rows.start - region.rows.start, end: rows.end - region.rows.start }, cols: { start: 0, end: width } });
    recycle(fused);
  }
  return out;
}

/** x̂ = x̂_m + r̂ + φ([x̂_m, r̂]) over a pixel region. */
export function decodeRegion({ y, z }: Latents, w: Weights, level: number, region: Region): Tensor {
  const size = { h: y.h * TOTAL_STRIDE, w: y.w * TOTAL_STRIDE };
  const inner = { rows: clip(fusionInput(region.rows), size.h), cols: clip(fusionInput(region.cols), size.w) };
  const xMain = synthesizeRegion(mainBranch(y, w, level), inner);
  const rHat = synthesizeRegion(residualBranch(z, w, level), inner);
  const out = fuseCropped(xMain, rHat, w, inner, region, size);
  recycle(xMain);
  recycle(rHat);
  return out;
}

/** x̂ over rows `rows` (every column) from x̂_m and r̂ over the whole image: decodeRegion's last step, for the pool's bands. */
export function fusionBand(xMain: Tensor, rHat: Tensor, w: Weights, rows: Range): Tensor {
  // fuseCropped crops each of its bands, with its halo, from the whole image
  const whole = wholeRegion(xMain);
  return fuseCropped(xMain, rHat, w, whole, { rows, cols: whole.cols }, { h: xMain.h, w: xMain.w });
}
