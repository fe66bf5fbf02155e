/**
 * Paper step 3, attention (CBAM) on an encoder's output F [C, h, w]:
 *   channel: M_c = σ(MLP(avgpool F) + MLP(maxpool F)),  F_c = M_c ⊙ F
 *   spatial: M_s = σ(conv7×7([mean_c F_c; max_c F_c])), F_s = M_s ⊙ F_c
 * Pools are global over the whole latent, never per tile.
 */
import type { Tensor } from '../core/types.js';
import { channelGate, channelMeanMax, channelMlp, conv2d, globalAvgMaxPool, spatialGate } from '../../kernels/index.js';
import { packedConv, tensor } from './tensor.js';
import type { AttentionWeights } from '../format/weights.js';

/** `out` may be `f` itself: the pools read F before the gates write, and the gates are elementwise. */
export function attention(f: Tensor, w: AttentionWeights, out: Tensor = tensor(f.c, f.h, f.w)): Tensor {
  const channels = f.c;
  const planeSize = f.h * f.w;
  const avg = new Float32Array(channels);
  const max = new Float32Array(channels);
  globalAvgMaxPool(avg, max, f.data, channels, planeSize);
  const fromAvg = new Float32Array(channels);
  const fromMax = new Float32Array(channels);
  const hidden = new Float32Array(w.fc1.outC);
  channelMlp(fromAvg, avg, w.fc1.weight, w.fc1.bias, w.fc2.weight, w.fc2.bias, w.fc1.outC, hidden);
  channelMlp(fromMax, max, w.fc1.weight, w.fc1.bias, w.fc2.weight, w.fc2.bias, w.fc1.outC, hidden);
  const channelLogits = new Float32Array(channels);
  for (let c = 0; c < channels; c++) channelLogits[c] = fromAvg[c] + fromMax[c];

  channelGate(out.data, f.data, channelLogits, channels, planeSize);
  const descriptor = new Float32Array(2 * planeSize);
  channelMeanMax(descriptor, out.data, channels, planeSize);
  const spatialLogits = new Float32Array(planeSize);
  const d = { inC: 2, inH: f.h, inW: f.w, outC: 1, outH: f.h, outW: f.w, k: 7, stride: 1, pad: 3 };
  conv2d(spatialLogits, descriptor, packedConv(w.spatial, d), w.spatial.bias, d);
  spatialGate(out.data, out.data, spatialLogits, channels, planeSize);
  return out;
}
