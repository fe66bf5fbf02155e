/**
 * CBAM's shared channel MLP on one C-vector: out = W2 · relu(W1 · v + b1) + b2, with w1 [hidden, C]
 * and w2 [C, hidden] (PyTorch Linear layouts), C = v.length. Each output is one double sum, bias
 * first, then its inputs ascending; the hidden layer is rounded to float32 into scratch [hidden]
 * (a layer boundary, as in the float32 model).
 */
import { checkAtLeast, checkLength } from './check.js';

export function channelMlp(
  out: Float32Array,
  v: Float32Array,
  w1: Float32Array,
  b1: Float32Array,
  w2: Float32Array,
  b2: Float32Array,
  hidden: number,
  scratch: Float32Array,
): void {
  const channels = v.length;
  checkLength('channelMlp', 'out', out, channels);
  checkLength('channelMlp', 'w1', w1, hidden * channels);
  checkLength('channelMlp', 'b1', b1, hidden);
  checkLength('channelMlp', 'w2', w2, channels * hidden);
  checkLength('channelMlp', 'b2', b2, channels);
  checkAtLeast('channelMlp', 'scratch', scratch, hidden);
  for (let h = 0; h < hidden; h++) {
    const row = h * channels;
    let acc = b1[h];
    for (let c = 0; c < channels; c++) acc += w1[row + c] * v[c];
    scratch[h] = acc > 0 ? acc : 0;
  }
  for (let c = 0; c < channels; c++) {
    const row = c * hidden;
    let acc = b2[c];
    for (let h = 0; h < hidden; h++) acc += w2[row + h] * scratch[h];
    out[c] = acc;
  }
}
