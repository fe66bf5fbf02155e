/**
 * Global average and max pooling of a CHW image (CBAM's channel descriptors): per channel, the mean
 * (a double sum in raster order, divided by planeSize) and the max.
 */
import { checkLength } from './check.js';

export function globalAvgMaxPool(avgOut: Float32Array, maxOut: Float32Array, x: Float32Array, channels: number, planeSize: number): void {
  checkLength('globalAvgMaxPool', 'x', x, channels * planeSize);
  checkLength('globalAvgMaxPool', 'avgOut', avgOut, channels);
  checkLength('globalAvgMaxPool', 'maxOut', maxOut, channels);
  for (let c = 0; c < channels; c++) {
    const plane = c * planeSize;
    let sum = 0;
    let max = -Infinity;
    for (let p = 0; p < planeSize; p++) {
      const v = x[plane + p];
      sum += v;
      if (v > max) max = v;
    }
    avgOut[c] = sum / planeSize;
    maxOut[c] = max;
  }
}
