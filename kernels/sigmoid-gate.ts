/**
 * CBAM's gates: multiply a CHW image by the sigmoid of per-channel or per-pixel logits. Attention runs only in
 * the encoder; its e^x is the engine-independent one of exp.ts, so an image encodes to the same bytes everywhere.
 */
import { checkLength } from './check.js';
import { exp } from './exp.js';

export function sigmoid(v: number): number {
  return 1 / (1 + exp(-v));
}

/** x and out [channels, planeSize], and the gate's logits. */
function checkGate(kernel: string, out: Float32Array, x: Float32Array, logits: Float32Array, channels: number, planeSize: number,
  gates: number): void {
  checkLength(kernel, 'x', x, channels * planeSize);
  checkLength(kernel, 'out', out, channels * planeSize);
  checkLength(kernel, 'logits', logits, gates);
}

/** out[c, p] = x[c, p] · σ(logits[c]). out may alias x. */
export function channelGate(out: Float32Array, x: Float32Array, logits: Float32Array, channels: number, planeSize: number): void {
  checkGate('channelGate', out, x, logits, channels, planeSize, channels);
  for (let c = 0; c < channels; c++) {
    const gate = sigmoid(logits[c]);
    const plane = c * planeSize;
    for (let p = 0; p < planeSize; p++) out[plane + p] = x[plane + p] * gate;
  }
}

/** out[c, p] = x[c, p] · σ(logits[p]); each σ is computed once. out may alias x. */
export function spatialGate(out: Float32Array, x: Float32Array, logits: Float32Array, channels: number, planeSize: number): void {
  checkGate('spatialGate', out, x, logits, channels, planeSize, planeSize);
  for (let p = 0; p < planeSize; p++) {
    const gate = sigmoid(logits[p]);
    for (let c = 0, i = p; c < channels; c++, i += planeSize) out[i] = x[i] * gate;
  }
}
