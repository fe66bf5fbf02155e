/**
 * Paper step 2, the dual-branch encoder:
 *   main:     ŷ-symbols = Q(A_m(f_m(x)) ⊙ g_q),  x̂_m = g_m(ŷ)        (x̂_m exactly as the decoder will see it)
 *   residual: r = x − x̂_m,  ẑ-symbols = Q(A_r(f_r(r)) ⊙ h_q)
 */
import { attention } from './attention.js';
import { levelRow, quantize, type Latent } from './bottleneck.js';
import { decodeMain } from './decoder.js';
import { analysis, tensor, type Tensor } from './tensor.js';
import type { Weights } from './weights.js';

export interface EncodedLatents {
  y: Latent;
  z: Latent;
  /** x̂_m, the main branch's reconstruction that the residual was taken against */
  xMain: Tensor;
}

export function encodeLatents(x: Tensor, w: Weights, level: number): EncodedLatents {
  const { M, Mr } = w.config;
  const y = quantize(
    attention(analysis(x, w.mainEncoder), w.mainAttention),
    levelRow(w.gainY, level, M),
    levelRow(w.entropyY.median, level, M),
  );
  const xMain = decodeMain(y, w, level);
  const residual = tensor(3, x.h, x.w);
  for (let i = 0; i < residual.data.length; i++) residual.data[i] = x.data[i] - xMain.data[i];
  const z = quantize(
    attention(analysis(residual, w.resEncoder), w.resAttention),
    levelRow(w.gainZ, level, Mr),
    levelRow(w.entropyZ.median, level, Mr),
  );
  return { y, z, xMain };
}

