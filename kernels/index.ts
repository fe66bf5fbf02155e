/** The model's operators: pure functions on single CHW float32 images, output first; only the pack* functions (called once at load time) allocate. */
export { conv2d, conv2dSimple, packConv2dWeights, type Conv2dDims } from './conv2d.js';
export { conv2dCheckerboard } from './conv2d-checkerboard.js';
export {
  packTransposedConv2dWeights,
  transposedConv2d,
  transposedConv2dScatter,
  transposedConv2dSimple,
  type TransposedConv2dDims,
  type TransposedConv2dWindow,
  wholeOutput,
} from './transposed-conv2d.js';
export {
  packTransposedConv2dWinograd,
  transposedConv2dWinograd,
  winogradScratchLength,
  winogradTconvInput,
  winogradWeightsLength,
} from './transposed-conv2d-winograd.js';
export { gdn, gdnScratchLength, gdnSimple, type GdnDims } from './gdn.js';
export { relu } from './relu.js';
export { globalAvgMaxPool } from './global-pool.js';
export { channelMlp } from './channel-mlp.js';
export { channelMeanMax } from './channel-mean-max.js';
export { channelGate, sigmoid, spatialGate } from './sigmoid-gate.js';
export { exp } from './exp.js';
export {
  conv2dWinograd,
  conv2dWinogradScratchLength,
  conv2dWinogradWeightsLength,
  isWinogradConv,
  packConv2dWinograd,
  winogradConvInput,
} from './conv2d-winograd.js';
