/**
 * Paper step 5, decoding and fusion:
 *   x̂_m = g_m(ŷ / g_q),  r̂ = g_r(ẑ / h_q),  x̂ = x̂_m + r̂ + φ([x̂_m, r̂]),  φ = conv3 · ReLU · conv3
 * Only arithmetic and sqrt (IGDN) run here, in a fixed order: the same symbols give the same pixels on
 * every machine.
 */
import { relu } from '../kernels/index.js';
import { dequantize, levelRow, type Latent } from './bottleneck.js';
import { convLayer, synthesis, tensor, type Tensor } from './tensor.js';
import type { Weights } from './weights.js';

export function decodeMain(y: Latent, w: Weights, level: number): Tensor {
  const { M } = w.config;
  return synthesis(dequantize(y, levelRow(w.gainY, level, M), levelRow(w.entropyY.median, level, M)), w.mainDecoder);
}

export function decodeResidual(z: Latent, w: Weights, level: number): Tensor {
  const { Mr } = w.config;
  return synthesis(dequantize(z, levelRow(w.gainZ, level, Mr), levelRow(w.entropyZ.median, level, Mr)), w.resDecoder);
}

/** φ([x̂_m, r̂]) alone (the parity tests compare it layer by layer). */
export function fusionCorrection(xMain: Tensor, rHat: Tensor, w: Weights): Tensor {
  const both = tensor(6, xMain.h, xMain.w);
  both.data.set(xMain.data, 0);
  both.data.set(rHat.data, xMain.data.length);
  const hidden = convLayer(both, w.fusion.conv1, 1);
  relu(hidden.data, hidden.data, hidden.data.length);
  return convLayer(hidden, w.fusion.conv2, 1);
}

export function fuse(xMain: Tensor, rHat: Tensor, w: Weights): Tensor {
  const phi = fusionCorrection(xMain, rHat, w);
  const out = tensor(3, xMain.h, xMain.w);
  for (let i = 0; i < out.data.length; i++) out.data[i] = Math.fround(xMain.data[i] + rHat.data[i]) + phi.data[i];
  return out;
}

export function decodeLatents(y: Latent, z: Latent, w: Weights, level: number): Tensor {
  return fuse(decodeMain(y, w, level), decodeResidual(z, w, level), w);
}
