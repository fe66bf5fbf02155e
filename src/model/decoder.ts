/**
 * Paper step 5, decoding and fusion:
 *   x̂_m = g_m(ŷ / g_q),  r̂ = g_r(ẑ / h_q),  x̂ = x̂_m + r̂ + φ([x̂_m, r̂]),  φ = conv3 · ReLU · conv3
 * Only arithmetic and sqrt (IGDN) run here, in a fixed order: the same symbols give the same pixels on
 * every machine. Decoding works on regions (tiles) of the padded image; see src/model/tiling.ts.
 */
import { TOTAL_STRIDE, type Latent, type Latents, type Region, type Tensor } from '../core/types.js';
import { relu } from '../../kernels/index.js';
import { dequantize, levelRow } from './bottleneck.js';
import { convLayer, recycle, synthesis, tensor } from './tensor.js';
import { clip, cropLatent, cropTensor, fusionInput, tconvInput } from './tiling.js';
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

function synthesizeRegion(latent: Latent, t: Transform, gains: Float32Array, medians: Float32Array | undefined, region: Region,
  head?: Tensor, directFirst = false): Tensor {
  const regions = synthesisRegions(latent, t.convs.length, region);
  const from = head ? 1 : 0;
  const x = head
    ? cropTensor(head, regions[1].rows, regions[1].cols)
    : dequantize(cropLatent(latent, regions[0].rows, regions[0].cols), gains, medians);
  const out = synthesis(x, t, undefined, regions, from, directFirst);
  recycle(x);
  return out;
}

/** The factorized prior's medians at a level (the Gaussian conditional's means travel with the latent). */
const medians = (entropy: LatentEntropy | undefined, level: number, channels: number) => entropy && levelRow(entropy.median, level, channels);

/** x̂_m = g_m(ŷ) over a pixel region. */
export function mainReconstruction(y: Latent, w: Weights, level: number, region: Region): Tensor {
  const { M } = w.config;
  // g_m's first layer is also c_z's input (the head): the direct kernel, as there (see transposedConvLayer)
  return synthesizeRegion(y, w.mainDecoder, levelRow(w.gainY, level, M), medians(w.entropyY, level, M), region, y.head, true);
}

/** x̂ = x̂_m + r̂ + φ([x̂_m, r̂]) over a pixel region. */
export function decodeRegion({ y, z }: Latents, w: Weights, level: number, region: Region): Tensor {
  const { Mr } = w.config;
  const size = { h: y.h * TOTAL_STRIDE, w: y.w * TOTAL_STRIDE };
  const inner = { rows: clip(fusionInput(region.rows), size.h), cols: clip(fusionInput(region.cols), size.w) };
  const xMain = mainReconstruction(y, w, level, inner);
  const rHat = synthesizeRegion(z, w.resDecoder, levelRow(w.gainZ, level, Mr), medians(w.entropyZ, level, Mr), inner);
  const fused = fuse(xMain, rHat, w);
  recycle(xMain);
  recycle(rHat);
  const out = cropTensor(fused,
    { start: region.rows.start - inner.rows.start, end: region.rows.end - inner.rows.start },
    { start: region.cols.start - inner.cols.start, end: region.cols.end - inner.cols.start });
  recycle(fused);
  return out;
}
