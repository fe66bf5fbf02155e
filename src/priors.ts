/**
 * The hyper kind's priors (train/model.py): what the decoder computes, before it reads ŷ and ẑ, to know
 * each element's Gaussian N(μ, σ):
 *
 *   encoder only:  ŵ-symbols = Q(h_a(y / g_q) ⊙ k_q − μ_w)            (ŵ: hyper-latent, factorized prior)
 *   ŷ's prior:     (μ', σ') = h_s(ŵ / k_q) cropped to ŷ,  μ_y = μ' ⊙ g_q,  σ_y = σ' ⊙ g_q
 *   ẑ's prior:     f₈ = IGDN(tconv(ŷ / g_q))  (g_m's first layer: ẑ's 1/8 grid),  (μ', σ') = c_z(f₈),
 *                  μ_z = μ' ⊙ h_q,  σ_z = σ' ⊙ h_q
 *
 * READ ME FIRST
 * - Encoder and decoder must get bit-identical μ and scale indexes, or the file decodes to garbage: both run
 *   this code on the same symbols, whole-latent (never tiled, so tile size and worker count cannot matter).
 * - σ picks its CDF table by comparisons only: the first table scale ≥ σ. No Math.exp/log/pow, whose results
 *   differ between JavaScript engines; the kernels use + − × ÷ and sqrt in a fixed order.
 * - σ below the first table scale (even negative: h_s's output is not bounded) uses the first table, as the
 *   trainer's lower bound does.
 */
import { relu } from '../kernels/index.js';
import { dequantize, levelRow, shareable, type Centers, type Latent } from './bottleneck.js';
import { convLayer, gdnLayer, recycle, tensor, transposedConvLayer, type Tensor } from './tensor.js';
import type { Conv, HyperWeights, Weights } from './weights.js';

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

/**
 * μ ⊙ gains and table rows of σ ⊙ gains, from a network output [μ' (C), σ' (C), …] cropped to h × w.
 * Gains, means and σ are float32, like the trainer's.
 */
function gaussianCenters(params: Tensor, channels: number, h: number, w: number, gains: Float32Array, scales: Float32Array): Centers {
  const n = channels * h * w;
  const means = shareable((b) => new Float32Array(b), n * Float32Array.BYTES_PER_ELEMENT);
  const indexes = shareable((b) => new Uint8Array(b), n);
  for (let c = 0; c < channels; c++) {
    const g = gains[c];
    for (let row = 0; row < h; row++) {
      const mean = (c * params.h + row) * params.w;
      const sigma = ((channels + c) * params.h + row) * params.w;
      const at = (c * h + row) * w;
      for (let col = 0; col < w; col++) {
        means[at + col] = Math.fround(params.data[mean + col] * g);
        indexes[at + col] = scaleIndex(Math.fround(params.data[sigma + col] * g), scales);
      }
    }
  }
  return { means, indexes };
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

/** ŷ's means and scale indexes from the decoded hyper-latent ŵ. */
export function mainCenters(hyper: Latent, w: Weights, level: number, y: { h: number; w: number }): Centers {
  const hw = hyperOf(w);
  const { M, Nh } = w.config;
  const x = dequantize(hyper, levelRow(hw.gainW, level, Nh), levelRow(hw.entropyW.median, level, Nh));
  const params = network(x, hw.synthesis, (h, layer) => (layer.k === 5 ? transposedConvLayer(h, layer) : convLayer(h, layer, 1)));
  recycle(x);
  const centers = gaussianCenters(params, M, y.h, y.w, levelRow(w.gainY, level, M), hw.gaussian.scales);
  recycle(params);
  return centers;
}

/** g_m's first layer over the whole of ŷ is kept for the tiles (ŷ's `head`) up to this size: 8 Mpixel at N = 64. */
const MAX_HEAD_BYTES = 32 << 20;

/**
 * ẑ's means and scale indexes from ŷ (which must carry its means): c_z over f₈, g_m's first layer. Also sets
 * ŷ's `head` to f₈ (in memory workers can share) when it is small enough, so the tiles need not compute it again.
 */
export function residualCenters(y: Latent, w: Weights, level: number): Centers {
  const hw = hyperOf(w);
  const { M, Mr } = w.config;
  const x = dequantize(y, levelRow(w.gainY, level, M));
  const f8 = transposedConvLayer(x, w.mainDecoder.convs[0]);
  recycle(x);
  gdnLayer(f8, w.mainDecoder.gdns[0], true, f8);
  const params = network(f8, hw.resContext, (h, layer) => convLayer(h, layer, 1));
  if (f8.data.byteLength <= MAX_HEAD_BYTES) {
    y.head = { c: f8.c, h: f8.h, w: f8.w, data: shareable((b) => new Float32Array(b), f8.data.byteLength) };
    y.head.data.set(f8.data);
  }
  recycle(f8);
  const centers = gaussianCenters(params, Mr, 2 * y.h, 2 * y.w, levelRow(w.gainZ, level, Mr), hw.gaussian.scales);
  recycle(params);
  return centers;
}

/** The latent with its centres attached (the decoder's way: symbols first, then what they need). */
export function withCenters(latent: Latent, centers: Centers): void {
  if ('means' in centers) {
    latent.means = centers.means;
    latent.indexes = centers.indexes;
  }
}
