import { checkAtLeast } from './check.js';

/** ReLU over n elements: out[i] = max(x[i], 0). out may alias x. */
export function relu(out: Float32Array, x: Float32Array, n: number): void {
  checkAtLeast('relu', 'x', x, n);
  checkAtLeast('relu', 'out', out, n);
  for (let i = 0; i < n; i++) {
    const v = x[i];
    out[i] = v > 0 ? v : 0;
  }
}
