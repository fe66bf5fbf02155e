/**
 * The decoder's synthesis (x̂ = g_m(ŷ) + g_r(ẑ) + φ) on one image's latents, run by aara's engine and by two
 * peer runtimes on the same network and inputs:
 *   - onnxruntime-node (CPU EP) on bench/peers/aara-decoder.onnx, written by train/export_onnx.py;
 *   - tfjs-core with its pure-JS cpu backend, the same graph built here from weights/aara-factorized.bin (the
 *     factorized kind's decoder: the transforms the ONNX export covers).
 * Every runtime's x̂ is checked against the engine's (max abs diff ≤ 1e-3), so the times are of the same
 * computation. Prints a markdown table of wall time per decode and GFLOP/s = 2·MACs / time (MACs of the
 * convolutions and of the IGDN γ products; elementwise ops not counted).
 *
 * The ONNX file holds its own copy of the weights: it must be regenerated whenever weights/aara-factorized.bin changes
 *   python3 train/export_onnx.py --weights weights/aara-factorized.bin    (or --checkpoint train/checkpoints/aara.pt)
 * and the bench refuses (skips onnxruntime, exit code 1) an export whose sidecar weights ID is not the weight file's.
 * Run: npm run build && node dist/bench/peers.bench.js
 */
import type { Latent, Tensor } from '../src/core/types.js';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { Bench } from 'tinybench';
import { dequantize, levelRow } from '../src/model/bottleneck.js';
import { DEFAULT_LEVEL } from '../src/codec/codec.js';
import { decodeRegion } from '../src/model/decoder.js';
import { loadWeightFile } from '../src/io/weight-files.js';
import { encodeLatents } from '../src/model/encoder.js';
import { decodeImage } from '../src/io/image-io.js';
import type { RgbImage } from '../src/io/pixels.js';
import { tensor, transposedConvLayer } from '../src/model/tensor.js';
import type { Conv, Gdn, Transform, Weights } from '../src/format/weights.js';
import { repoPath } from '../test/helpers/fixtures.js';
import { mulberry32 } from '../test/helpers/prng.js';
import { syntheticImage } from '../test/helpers/images.js';

const KODAK = repoPath('../shared/datasets/kodak/kodim23.png');
const ONNX_MODEL = repoPath('bench/peers/aara-decoder.onnx');
const ONNX_SIDECAR = repoPath('bench/peers/aara-decoder.json');
const REGENERATE = 'python3 train/export_onnx.py --weights weights/aara-factorized.bin';
const TOLERANCE = 1e-3;
// a decode takes the engine seconds, onnxruntime under one, tfjs-cpu tens of seconds: few iterations suffice
const FAST_ITERATIONS = 3;
const TFJS_ITERATIONS = 1;

interface Runtime {
  name: string;
  threads: string;
  iterations: number;
  /** x̂ as CHW float32 [3, 16h, 16w]. */
  decode: () => Promise<Float32Array>;
}

function benchImage(): { img: RgbImage; name: string } {
  if (existsSync(KODAK)) return { img: decodeImage(readFileSync(KODAK)), name: 'kodim23' };
  return { img: syntheticImage(768, 512, 23), name: 'synthetic' };
}

function synthesisMacs(t: Transform, h: number, w: number): number {
  let macs = 0;
  t.convs.forEach((c, i) => {
    macs += c.inC * c.outC * 25 * h * w; // each input pixel meets all 25 taps once per (in, out) pair
    h *= 2;
    w *= 2;
    if (i < t.gdns.length) macs += c.outC * c.outC * h * w; // IGDN's γ · x² per pixel
  });
  return macs;
}

function decoderMacs(w: Weights, y: Latent): number {
  const { conv1, conv2 } = w.fusion;
  const fusionPerPixel = (conv1.inC * conv1.outC + conv2.inC * conv2.outC) * 9;
  return synthesisMacs(w.mainDecoder, y.h, y.w) + synthesisMacs(w.resDecoder, 2 * y.h, 2 * y.w) +
    fusionPerPixel * 16 * y.h * 16 * y.w;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

// ---- onnxruntime-node ----

/** Why the ONNX export cannot be used with these weights, or null when it can. */
function staleOnnxReason(w: Weights): string | null {
  if (!existsSync(ONNX_MODEL) || !existsSync(ONNX_SIDECAR)) {
    return `${ONNX_MODEL} or its sidecar .json is missing: run \`${REGENERATE}\``;
  }
  const exportedId = (JSON.parse(readFileSync(ONNX_SIDECAR, 'utf8')) as { weights_id: string }).weights_id;
  if (exportedId !== w.idHex) {
    return `bench/peers/aara-decoder.onnx was exported from weights ${exportedId}, but weights/aara-factorized.bin is ` +
      `${w.idHex}: the export is stale, regenerate it with \`${REGENERATE}\``;
  }
  return null;
}

async function onnxRuntime(y: Tensor, z: Tensor, intraOpNumThreads?: number): Promise<Runtime> {
  const session = await InferenceSession.create(ONNX_MODEL, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    ...(intraOpNumThreads === undefined ? {} : { intraOpNumThreads }),
  });
  const feeds = {
    y: new OrtTensor('float32', y.data, [1, y.c, y.h, y.w]),
    z: new OrtTensor('float32', z.data, [1, z.c, z.h, z.w]),
  };
  return {
    name: 'onnxruntime-node',
    threads: intraOpNumThreads === undefined ? `ORT default (${availableParallelism()}-core machine)` : String(intraOpNumThreads),
    iterations: FAST_ITERATIONS,
    decode: async () => (await session.run(feeds)).x_hat.data as Float32Array,
  };
}

// ---- tfjs-core, cpu backend (NHWC: its conv2dTranspose has no channels-first form) ----

/** PyTorch ConvTranspose2d weight [in, out, 5, 5] → tfjs filter [5, 5, out, in] (same taps, no flip). */
const tfTransposedFilter = (c: Conv) => tf.transpose(tf.tensor4d(c.weight, [c.inC, c.outC, c.k, c.k]), [2, 3, 1, 0]);
/** PyTorch Conv2d weight [out, in, k, k] → tfjs filter [k, k, in, out]. */
const tfFilter = (c: Conv) => tf.transpose(tf.tensor4d(c.weight, [c.outC, c.inC, c.k, c.k]), [2, 3, 1, 0]);

/**
 * ConvTranspose2d(5, stride 2, padding 2, output_padding 1). In tfjs the padding names the forward conv
 * (2h → h) whose gradient this is: PyTorch's padding 2 reads input rows 2o−2 … 2o+2, i.e. numeric pad 2;
 * 'same' would pad 1 above and 2 below, a one-pixel shift (the bench prints both against the engine).
 */
function tfTransposedConv(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, pad: 2 | 'same'): tf.Tensor4D {
  const [n, h, w] = x.shape;
  return tf.add(tf.conv2dTranspose(x, filter, [n, 2 * h, 2 * w, filter.shape[2]], 2, pad), bias);
}

interface TfLayer {
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
  /** IGDN after the layer: β [C] and γᵀ as a 1×1 filter (γ_ij weighs x_j² in channel i's norm). */
  igdn?: { beta: tf.Tensor1D; gammaT: tf.Tensor4D };
}

function tfSynthesisLayers(t: Transform): TfLayer[] {
  return t.convs.map((c, i): TfLayer => {
    const g: Gdn | undefined = t.gdns[i];
    return {
      filter: tfTransposedFilter(c),
      bias: tf.tensor1d(c.bias),
      igdn: g && {
        beta: tf.tensor1d(g.beta),
        gammaT: tf.reshape(tf.transpose(tf.tensor2d(g.gamma, [g.channels, g.channels])), [1, 1, g.channels, g.channels]),
      },
    };
  });
}

function tfSynthesis(x: tf.Tensor4D, layers: TfLayer[]): tf.Tensor4D {
  for (const { filter, bias, igdn } of layers) {
    x = tfTransposedConv(x, filter, bias, 2);
    if (igdn) x = tf.mul(x, tf.sqrt(tf.add(tf.conv2d(tf.square(x), igdn.gammaT, 1, 'valid'), igdn.beta)));
  }
  return x;
}

const toNhwc = (t: Tensor) => tf.transpose(tf.tensor4d(t.data, [1, t.c, t.h, t.w]), [0, 2, 3, 1]);

function tfjsRuntime(y: Tensor, z: Tensor, w: Weights): Runtime {
  const main = tfSynthesisLayers(w.mainDecoder);
  const residual = tfSynthesisLayers(w.resDecoder);
  const { conv1, conv2 } = w.fusion;
  const fusion = { f1: tfFilter(conv1), b1: tf.tensor1d(conv1.bias), f2: tfFilter(conv2), b2: tf.tensor1d(conv2.bias) };
  return {
    name: 'tfjs-core cpu backend',
    threads: '1',
    iterations: TFJS_ITERATIONS,
    decode: async () => {
      const out = tf.tidy(() => {
        const xMain = tfSynthesis(toNhwc(y), main);
        const rHat = tfSynthesis(toNhwc(z), residual);
        const hidden = tf.relu(tf.add<tf.Tensor4D>(tf.conv2d(tf.concat([xMain, rHat], 3), fusion.f1, 1, 'same'), fusion.b1));
        const phi = tf.add(tf.conv2d(hidden, fusion.f2, 1, 'same'), fusion.b2);
        return tf.transpose(tf.add(tf.add(xMain, rHat), phi), [0, 3, 1, 2]);
      });
      const data = (await out.data()) as Float32Array;
      out.dispose();
      return data;
    },
  };
}

/** One tconv layer on a small random input, tfjs (pad 2 and 'same') against the engine: max abs diffs. */
function tconvPaddingCheck(layer: Conv): { pad2: number; same: number } {
  const rng = mulberry32(5);
  const x = tensor(layer.inC, 3, 4);
  for (let i = 0; i < x.data.length; i++) x.data[i] = 2 * rng() - 1;
  const expected = transposedConvLayer(x, layer).data;
  const diff = (pad: 2 | 'same') => {
    const out = tf.tidy(() => tf.transpose(
      tfTransposedConv(toNhwc(x), tfTransposedFilter(layer), tf.tensor1d(layer.bias), pad), [0, 3, 1, 2]));
    const d = maxAbsDiff(out.dataSync() as Float32Array, expected);
    out.dispose();
    return d;
  };
  return { pad2: diff(2), same: diff('same') };
}

// ---- the run ----

async function seconds(runtime: Runtime): Promise<number> {
  const bench = new Bench({ time: 0, iterations: runtime.iterations });
  bench.add(runtime.name, async () => { await runtime.decode(); });
  await bench.run();
  return bench.tasks[0].result!.mean / 1000;
}

await tf.setBackend('cpu');
const { img, name } = benchImage();
const w = loadWeightFile(repoPath('weights/aara-factorized.bin')).weights;
const level = DEFAULT_LEVEL;
const latents = encodeLatents(img, w, level);
const { y, z } = latents;
const { M, Mr } = w.config;
const yIn = dequantize(y, levelRow(w.gainY, level, M), w.entropyY && levelRow(w.entropyY.median, level, M));
const zIn = dequantize(z, levelRow(w.gainZ, level, Mr), w.entropyZ && levelRow(w.entropyZ.median, level, Mr));
const whole = { rows: { start: 0, end: 16 * y.h }, cols: { start: 0, end: 16 * y.w } };
const macs = decoderMacs(w, y);
console.log(`${name} ${img.width}×${img.height} (padded ${16 * y.w}×${16 * y.h}), level ${level}, weights ${w.idHex}; ` +
  `ŷ ${y.c}×${y.h}×${y.w}, ẑ ${z.c}×${z.h}×${z.w}; decoder synthesis ${(macs / 1e9).toFixed(2)} GMAC`);

const padding = tconvPaddingCheck(w.mainDecoder.convs[1]);
console.log(`tfjs conv2dTranspose vs engine tconv (PyTorch ConvTranspose2d p2 op1) on a 3×4 input: ` +
  `pad 2 max abs diff ${padding.pad2.toExponential(1)}, 'same' ${padding.same.toExponential(1)}`);

const engine: Runtime = {
  name: 'aara engine (decodeRegion)',
  threads: '1',
  iterations: FAST_ITERATIONS,
  decode: async () => decodeRegion(latents, w, level, whole).data,
};
const runtimes: Runtime[] = [engine];
const onnxProblem = staleOnnxReason(w);
if (onnxProblem) {
  console.error(`onnxruntime-node not run: ${onnxProblem}`);
  process.exitCode = 1;
} else {
  runtimes.push(await onnxRuntime(yIn, zIn, 1), await onnxRuntime(yIn, zIn));
}
runtimes.push(tfjsRuntime(yIn, zIn, w));

// one untimed decode each (it also warms the runtime up) gives the x̂ that is checked against the engine's
const reference = await engine.decode();
const rows: string[] = [];
let engineSeconds = 0;
for (const runtime of runtimes) {
  const diff = runtime === engine ? 0 : maxAbsDiff(await runtime.decode(), reference);
  if (runtime !== engine) {
    console.log(`${runtime.name} (threads: ${runtime.threads}): max abs diff to the engine's x̂ ${diff.toExponential(2)}`);
  }
  if (!(diff <= TOLERANCE)) {
    console.error(`${runtime.name} does not compute the engine's x̂ (max abs diff ${diff} > ${TOLERANCE}); not timed`);
    process.exitCode = 1;
    continue;
  }
  const s = await seconds(runtime);
  if (runtime === engine) engineSeconds = s;
  const ratio = s >= engineSeconds ? `aara ${(s / engineSeconds).toFixed(1)}× faster` : `aara ${(engineSeconds / s).toFixed(1)}× slower`;
  rows.push(`| ${runtime.name} | ${runtime.threads} | ${s.toFixed(2)} | ${(2 * macs / s / 1e9).toFixed(1)} | ` +
    `${runtime === engine ? '1×' : ratio} |`);
}

console.log('\n| runtime | threads | seconds / decode | GFLOP/s | vs aara |\n|---|---|---|---|---|');
for (const row of rows) console.log(row);
console.log(`\nwall time, mean of ${FAST_ITERATIONS} decodes (tfjs: ${TFJS_ITERATIONS}); the engine decodes from symbols ` +
  `(dequantisation included), the peers from the dequantised latents.`);
