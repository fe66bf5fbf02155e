/**
 * CBAM's spatial descriptor of a CHW image: out row 0 is, per pixel, the mean over channels (a
 * double sum, c ascending, divided by channels); row 1 the max over channels. out is [2, planeSize].
 */
import { checkLength } from './check.js';

export function channelMeanMax(out: Float32Array, x: Float32Array, channels: number, planeSize: number): void {
  checkLength('channelMeanMax', 'x', x, channels * planeSize);
  checkLength('channelMeanMax', 'out', out, 2 * planeSize);
  for (let p = 0; p < planeSize; p++) {
    let sum = 0;
    let max = -Infinity;
    for (let c = 0, i = p; c < channels; c++, i += planeSize) {
      const v = x[i];
      sum += v;
      if (v > max) max = v;
    }
    out[p] = sum / channels;
    out[planeSize + p] = max;
  }
}
