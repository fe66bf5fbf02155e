import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  channelGate,
  channelMeanMax,
  channelMlp,
  conv2d,
  conv2dCheckerboard,
  conv2dSimple,
  gdn,
  gdnScratchLength,
  gdnSimple,
  globalAvgMaxPool,
  packConv2dWeights,
  packTransposedConv2dWeights,
  packTransposedConv2dWinograd,
  relu,
  sigmoid,
  exp,
  spatialGate,
  transposedConv2d,
  transposedConv2dScatter,
  transposedConv2dSimple,
  transposedConv2dWinograd,
  conv2dWinograd,
  conv2dWinogradScratchLength,
  packConv2dWinograd,
  winogradConvInput,
  winogradScratchLength,
  winogradTconvInput,
  type Conv2dDims,
  type GdnDims,
  type TransposedConv2dDims,
} from '../kernels/index.js';
import { Dim, loadPatch, storeOutputRow, transformKernel, transformOutput, transformPatch, vPlane } from '../kernels/winograd.js';
import { failsWith } from './helpers/assert-code.js';
import { mulberry32, type Rng } from './helpers/prng.js';

/** Uniform in [−scale, scale). */
function randomArray(rng: Rng, length: number, scale = 1): Float32Array {
  return Float32Array.from({ length }, () => (2 * rng() - 1) * scale);
}

/**
 * Operands for the bit-identity tests. With uniform data a change of summation order almost never
 * shows after rounding to float32 (the double sum has 29 spare bits), so the second kind makes it
 * show: inputs with ±2^40 spikes and ±1 weights, whose huge products often cancel exactly, leaving a
 * small result whose low bits depend on which small terms were absorbed while the partial sum was huge.
 */
const OPERANDS = {
  uniform: { input: (rng: Rng, n: number) => randomArray(rng, n), weights: (rng: Rng, n: number) => randomArray(rng, n, 0.5) },
  cancelling: {
    input: (rng: Rng, n: number) => Float32Array.from({ length: n }, () => (rng() < 0.1 ? (rng() < 0.5 ? -1 : 1) * 2 ** 40 : 2 * rng() - 1)),
    weights: (rng: Rng, n: number) => Float32Array.from({ length: n }, () => (rng() < 0.5 ? -1 : 1)),
  },
};
type Operands = keyof typeof OPERANDS;
const OPERAND_KINDS = Object.keys(OPERANDS) as Operands[];

/** Exact equality, element by element (so a failure names the first differing index). */
function assertBitIdentical(actual: Float32Array, expected: Float32Array): void {
  assert.is(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.unreachable(`element ${i}: ${actual[i]} !== ${expected[i]}`);
  }
}

function assertClose(actual: Float32Array, expected: Float32Array, tolerance: number): void {
  assert.is(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tolerance)) assert.unreachable(`element ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

/** The [y0, y0 + h) × [x0, x0 + w) window of every channel of a CHW image. */
function crop(x: Float32Array, channels: number, height: number, width: number, y0: number, x0: number, h: number, w: number): Float32Array {
  const out = new Float32Array(channels * h * w);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < h; y++) out.set(x.subarray((c * height + y0 + y) * width + x0, (c * height + y0 + y) * width + x0 + w), (c * h + y) * w);
  }
  return out;
}

// ---------------------------------------------------------------- conv2d

function conv2dDims(inC: number, inH: number, inW: number, outC: number, k: number, stride: number, pad: number): Conv2dDims {
  const outH = Math.floor((inH + 2 * pad - k) / stride) + 1;
  const outW = Math.floor((inW + 2 * pad - k) / stride) + 1;
  return { inC, inH, inW, outC, outH, outW, k, stride, pad };
}

function randomConv(seed: number, d: Conv2dDims, kind: Operands) {
  const rng = mulberry32(seed);
  return {
    x: OPERANDS[kind].input(rng, d.inC * d.inH * d.inW),
    w: OPERANDS[kind].weights(rng, d.outC * d.inC * d.k * d.k),
    b: randomArray(rng, d.outC, 0.1),
  };
}

function runConv2d(fast: boolean, x: Float32Array, w: Float32Array, b: Float32Array, d: Conv2dDims): Float32Array {
  const out = new Float32Array(d.outC * d.outH * d.outW).fill(NaN);
  if (fast) conv2d(out, x, packConv2dWeights(w, d), b, d);
  else conv2dSimple(out, x, w, b, d);
  return out;
}

test('conv2dSimple: 1→1 channel, 3×3 input, 3×3 kernel, stride 1, pad 1 (hand-computed)', () => {
  // x = 1 2 3 / 4 5 6 / 7 8 9, w = 0 1 0 / 1 -1 1 / 0 1 0, b = 0.5
  const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const w = Float32Array.from([0, 1, 0, 1, -1, 1, 0, 1, 0]);
  const out = new Float32Array(9);
  conv2dSimple(out, x, w, Float32Array.of(0.5), conv2dDims(1, 3, 3, 1, 3, 1, 1));
  // corner (0,0): −1 + 2 + 4 + 0.5; centre: 2 + 4 − 5 + 6 + 8 + 0.5
  assert.equal(Array.from(out), [5.5, 7.5, 5.5, 9.5, 15.5, 11.5, 5.5, 13.5, 5.5]);
});

test('conv2dSimple: 2→2 channels, 4×4 input, 3×3 kernel, stride 2, pad 1 (hand-computed)', () => {
  // channel 0 all ones, channel 1 all twos; out channel 0 sums channel 0 (w 1), out channel 1 takes 3× channel 1's centre tap
  const x = new Float32Array(32);
  x.fill(1, 0, 16).fill(2, 16, 32);
  const w = new Float32Array(2 * 2 * 9);
  w.fill(1, 0, 9);
  w[(1 * 2 + 1) * 9 + 4] = 3;
  const out = new Float32Array(2 * 2 * 2);
  conv2dSimple(out, x, w, Float32Array.of(0, -1), conv2dDims(2, 4, 4, 2, 3, 2, 1));
  // outputs at input centres (0,0),(0,2),(2,0),(2,2): 2×2, 2×3, 3×2, 3×3 windows of ones
  assert.equal(Array.from(out), [4, 6, 6, 9, 5, 5, 5, 5]);
});

const convShapes: [string, Conv2dDims][] = [
  ['3→10 ch, 17×13, k5 s2 p2 (one 8-lane block + a 2-channel narrow block, pixel by pixel)', conv2dDims(3, 17, 13, 10, 5, 2, 2)],
  ['5→13 ch, 9×11, k3 s1 p1 (a 5-channel partial wide block)', conv2dDims(5, 9, 11, 13, 3, 1, 1)],
  ['2→1 ch, 6×5, k7 s1 p3 (spatial attention; kernel larger than input)', conv2dDims(2, 6, 5, 1, 7, 1, 3)],
  ['7→9 ch, 5×6, k1 s1 p0', conv2dDims(7, 5, 6, 9, 1, 1, 0)],
  ['4→3 ch, 5×4, k1 s1 p1 (bias-only border)', conv2dDims(4, 5, 4, 3, 1, 1, 1)],
  ['6→16 ch, 1×1, k5 s2 p2', conv2dDims(6, 1, 1, 16, 5, 2, 2)],
  ['3→8 ch, 3×2, k7 s1 p3 (no interior column)', conv2dDims(3, 3, 2, 8, 7, 1, 3)],
  ['8→12 ch, 4×40, k5 s2 p2 (4-lane 3-pixel blocks, shifted last block, 4-channel partial wide block)', conv2dDims(8, 4, 40, 12, 5, 2, 2)],
  ['5→7 ch, 7×23, k5 s2 p2 (4-lane 3-pixel blocks: 4 + 3 lanes, shifted last block)', conv2dDims(5, 7, 23, 7, 5, 2, 2)],
  ['4→13 ch, 6×30, k5 s1 p2 (4-lane 3-pixel blocks: 4 + 4 and 4 + 1 lanes)', conv2dDims(4, 6, 30, 13, 5, 1, 2)],
  ['16→16 ch, 11×27, k3 s1 p1', conv2dDims(16, 11, 27, 16, 3, 1, 1)],
  ['16→3 ch, 5×30, k3 s1 p1 (3-lane 8-pixel blocks, shifted last block: the fusion output)', conv2dDims(16, 5, 30, 3, 3, 1, 1)],
  ['6→2 ch, 9×40, k5 s2 p2 (3-lane blocks with 2 real channels)', conv2dDims(6, 9, 40, 2, 5, 2, 2)],
  ['3→4 ch, 8×8, k5 s2 p2 (even size)', conv2dDims(3, 8, 8, 4, 5, 2, 2)],
];

for (const [name, d] of convShapes) {
  for (const kind of OPERAND_KINDS) {
    test(`conv2d = conv2dSimple bit for bit, ${kind} data: ${name}`, () => {
      const { x, w, b } = randomConv(d.inC * 131 + d.inW, d, kind);
      assertBitIdentical(runConv2d(true, x, w, b, d), runConv2d(false, x, w, b, d));
    });
  }
}

/** Whether the input rows (or columns) output position o reads, clipped to the image, all lie in [lo, hi). */
function convReadsInside(o: number, k: number, stride: number, pad: number, size: number, lo: number, hi: number): boolean {
  return Math.max(0, o * stride - pad) >= lo && Math.min(size, o * stride - pad + k) <= hi;
}

const convTiles: [string, Conv2dDims, number, number, number, number][] = [
  ['5→9 ch, 23×29, k5 s2 p2, tile 12×14 at (6,8)', conv2dDims(5, 23, 29, 9, 5, 2, 2), 6, 8, 12, 14],
  ['5→9 ch, 23×29, k5 s2 p2, tile 13×17 at (0,12) (touching the image edge)', conv2dDims(5, 23, 29, 9, 5, 2, 2), 0, 12, 13, 17],
  ['4→11 ch, 19×21, k3 s1 p1, tile 9×10 at (5,3)', conv2dDims(4, 19, 21, 11, 3, 1, 1), 5, 3, 9, 10],
  ['2→1 ch, 15×16, k7 s1 p3, tile 10×11 at (3,4)', conv2dDims(2, 15, 16, 1, 7, 1, 3), 3, 4, 10, 11],
];

for (const [name, d, y0, x0, h, w] of convTiles) {
  test(`conv2d tile invariance, cancelling data: ${name}`, () => {
    const { x, w: weights, b } = randomConv(y0 * 7 + x0, d, 'cancelling');
    const whole = runConv2d(true, x, weights, b, d);
    const tileDims = conv2dDims(d.inC, h, w, d.outC, d.k, d.stride, d.pad);
    const tile = runConv2d(true, crop(x, d.inC, d.inH, d.inW, y0, x0, h, w), weights, b, tileDims);
    const oy0 = y0 / d.stride, ox0 = x0 / d.stride;
    let compared = 0;
    for (let oc = 0; oc < d.outC; oc++) {
      for (let ty = 0; ty < tileDims.outH; ty++) {
        if (!convReadsInside(oy0 + ty, d.k, d.stride, d.pad, d.inH, y0, y0 + h)) continue;
        for (let tx = 0; tx < tileDims.outW; tx++) {
          if (!convReadsInside(ox0 + tx, d.k, d.stride, d.pad, d.inW, x0, x0 + w)) continue;
          const inTile = tile[(oc * tileDims.outH + ty) * tileDims.outW + tx];
          const inWhole = whole[(oc * d.outH + oy0 + ty) * d.outW + ox0 + tx];
          if (!Object.is(inTile, inWhole)) assert.unreachable(`oc ${oc} (${oy0 + ty}, ${ox0 + tx}): ${inTile} !== ${inWhole}`);
          compared++;
        }
      }
    }
    assert.ok(compared >= d.outC * 4, `only ${compared} outputs compared`);
  });
}

// ---------------------------------------------------------------- conv 5×5/2 and 3×3/1 by Winograd

/** Winograd sums in another order, with G·g·Gᵀ rounded to float32: within 1e-5 of the direct sum relative to the output's scale. */
function assertNear(actual: Float32Array, expected: Float32Array): void {
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assertClose(actual, expected, 1e-5 * Math.max(1, scale));
}


function runConvWinograd(x: Float32Array, w: Float32Array, b: Float32Array, d: Conv2dDims): Float32Array {
  const out = new Float32Array(d.outC * d.outH * d.outW).fill(NaN);
  conv2dWinograd(out, x, packConv2dWinograd(w, d), b, d, new Float64Array(conv2dWinogradScratchLength(d.inC)));
  return out;
}

const conv5x5s2 = (inC: number, inH: number, inW: number, outC: number): Conv2dDims =>
  ({ inC, inH, inW, outC, outH: Math.ceil(inH / 2), outW: Math.ceil(inW / 2), k: 5, stride: 2, pad: 2 });

const conv3x3s1 = (inC: number, inH: number, inW: number, outC: number): Conv2dDims =>
  ({ inC, inH, inW, outC, outH: inH, outW: inW, k: 3, stride: 1, pad: 1 });

const winogradConvShapes: [string, Conv2dDims][] = [
  ['3→4 ch, 16×16', conv5x5s2(3, 16, 16, 4)],
  ['3×3/1: 6→16 ch, 20×28 (φ\'s first conv)', conv3x3s1(6, 20, 28, 16)],
  ['3×3/1: 16→3 ch, 9×13 (φ\'s second; a partial lane block, partial tiles)', conv3x3s1(16, 9, 13, 3)],
  ['3×3/1: 2→5 ch, 1×1', conv3x3s1(2, 1, 1, 5)],
  ['3×3/1: 5→4 ch, 7×70 (several chunks of 12 tiles)', conv3x3s1(5, 7, 70, 4)],
  ['3→5 ch, 9×11 (odd sizes, a partial lane block)', conv5x5s2(3, 9, 11, 5)],
  ['2→3 ch, 1×1', conv5x5s2(2, 1, 1, 3)],
  ['7→9 ch, 13×70 (several chunks of 12 tiles, partial tiles)', conv5x5s2(7, 13, 70, 9)],
  ['16→8 ch, 24×8', conv5x5s2(16, 24, 8, 8)],
];

for (const [name, d] of winogradConvShapes) {
  test(`conv2dWinograd = conv2dSimple within 1e-5: ${name}`, () => {
    const { x, w, b } = randomConv(d.inC * 13 + d.inW, d, 'uniform');
    assertNear(runConvWinograd(x, w, b, d), runConv2d(false, x, w, b, d));
  });
}

test('conv2dWinograd: a crop that holds winogradConvInput, told its origin, gives the whole image\'s bits (cancelling data)', () => {
  const d = conv5x5s2(5, 40, 56, 6);
  const { x, w, b } = randomConv(5, d, 'cancelling');
  const whole = runConvWinograd(x, w, b, d);
  // outputs rows 5…9, columns 9…18 of the whole output; the crop starts at even input rows/columns 6 and 14, which
  // are outputs 3 and 7: not on the tile grid, so its first tiles begin before it
  const rows = winogradConvInput({ start: 5, end: 10 }), cols = winogradConvInput({ start: 9, end: 19 });
  assert.equal([rows, cols], [{ start: 6, end: 26 }, { start: 14, end: 42 }]);
  const top = rows.start, left = cols.start, h = rows.end - top, wd = cols.end - left;
  const cd = conv5x5s2(d.inC, h, wd, d.outC);
  const part = new Float32Array(d.outC * cd.outH * cd.outW);
  conv2dWinograd(part, crop(x, d.inC, d.inH, d.inW, top, left, h, wd), packConv2dWinograd(w, cd), b, cd,
    new Float64Array(conv2dWinogradScratchLength(d.inC)), { y: top / 2, x: left / 2 });
  for (let oc = 0; oc < d.outC; oc++) {
    for (let oy = 5; oy < 10; oy++) {
      for (let ox = 9; ox < 19; ox++) {
        const a = part[(oc * cd.outH + oy - top / 2) * cd.outW + ox - left / 2], e = whole[(oc * d.outH + oy) * d.outW + ox];
        if (!Object.is(a, e)) assert.unreachable(`oc ${oc} (${oy}, ${ox}): ${a} !== ${e}`);
      }
    }
  }
});

test('conv2dWinograd: a band of output rows from a larger x, told both origins, gives the whole image\'s bits (cancelling data)', () => {
  const d = conv5x5s2(5, 40, 56, 6);
  const { x, w, b } = randomConv(7, d, 'cancelling');
  const whole = runConvWinograd(x, w, b, d);
  const pu = packConv2dWinograd(w, d), scratch = new Float64Array(conv2dWinogradScratchLength(d.inC));
  // from the whole x, and from rows 6 … 33 of it (what output rows 5 … 13 read: winogradConvInput), every column
  for (const [rows, from] of [[{ start: 5, end: 14 }, { start: 0, end: d.inH }], [{ start: 5, end: 14 }, winogradConvInput({ start: 5, end: 14 })],
    [{ start: 0, end: 3 }, { start: 0, end: d.inH }], [{ start: 16, end: 20 }, { start: 30, end: 40 }]] as const) {
    const h = rows.end - rows.start, inH = Math.min(d.inH, from.end) - from.start;
    const band = new Float32Array(d.outC * h * d.outW);
    conv2dWinograd(band, crop(x, d.inC, d.inH, d.inW, from.start, 0, inH, d.inW), pu, b, { ...d, inH, outH: h }, scratch,
      { y: rows.start, x: 0 }, { y: from.start, x: 0 });
    for (let oc = 0; oc < d.outC; oc++) {
      for (let oy = rows.start; oy < rows.end; oy++) {
        for (let ox = 0; ox < d.outW; ox++) {
          const a = band[(oc * h + oy - rows.start) * d.outW + ox], e = whole[(oc * d.outH + oy) * d.outW + ox];
          if (!Object.is(a, e)) assert.unreachable(`rows ${rows.start}…${rows.end} from ${from.start}: oc ${oc} (${oy}, ${ox}): ${a} !== ${e}`);
        }
      }
    }
  }
});

test('conv2dWinograd 3×3/1: regions of the output, each from a crop holding winogradConvInput(·, 1), give the whole image\'s bits (cancelling data)', () => {
  const d = conv3x3s1(5, 37, 45, 6);
  const { x, w, b } = randomConv(11, d, 'cancelling');
  const whole = runConvWinograd(x, w, b, d);
  const pu = packConv2dWinograd(w, d), scratch = new Float64Array(conv2dWinogradScratchLength(d.inC));
  const clipTo = (r: { start: number; end: number }, size: number) => ({ start: Math.max(0, r.start), end: Math.min(size, r.end) });
  // regions off the tile grid, at the image's edges, one pixel, and the last (partial) tiles
  const regions = [[{ start: 5, end: 14 }, { start: 9, end: 19 }], [{ start: 0, end: 3 }, { start: 0, end: d.inW }], [{ start: 17, end: 18 }, { start: 30, end: 31 }],
    [{ start: 30, end: 37 }, { start: 41, end: 45 }]] as const;
  for (const [rows, cols] of regions) {
    const from = { rows: clipTo(winogradConvInput(rows, 1), d.inH), cols: clipTo(winogradConvInput(cols, 1), d.inW) };
    const inH = from.rows.end - from.rows.start, inW = from.cols.end - from.cols.start;
    const h = rows.end - rows.start, wd = cols.end - cols.start;
    const part = new Float32Array(d.outC * h * wd);
    conv2dWinograd(part, crop(x, d.inC, d.inH, d.inW, from.rows.start, from.cols.start, inH, inW), pu, b, { ...d, inH, inW, outH: h, outW: wd },
      scratch, { y: rows.start, x: cols.start }, { y: from.rows.start, x: from.cols.start });
    for (let oc = 0; oc < d.outC; oc++) {
      for (let oy = rows.start; oy < rows.end; oy++) {
        for (let ox = cols.start; ox < cols.end; ox++) {
          const a = part[(oc * h + oy - rows.start) * wd + ox - cols.start], e = whole[(oc * d.outH + oy) * d.outW + ox];
          if (!Object.is(a, e)) assert.unreachable(`rows ${rows.start}…${rows.end}, columns ${cols.start}…${cols.end}: oc ${oc} (${oy}, ${ox}): ${a} !== ${e}`);
        }
      }
    }
  }
  assert.equal(winogradConvInput({ start: 5, end: 14 }, 1), { start: 3, end: 17 });
});

test('conv2dCheckerboard: the elements of its parity equal conv2dSimple\'s bit for bit (sparse or dense input), the others are not written', () => {
  const rng = mulberry32(29);
  // [inC, outC, h, w, k]: widths below, at and above the 4-pixel block (7 columns of one parity), a 1×1 image, 1×1 kernels
  const shapes = [[3, 5, 7, 11, 5], [8, 6, 1, 1, 5], [2, 9, 4, 3, 5], [5, 4, 6, 13, 3], [16, 12, 9, 20, 5], [4, 8, 12, 9, 5], [6, 5, 5, 12, 1]];
  for (const kind of OPERAND_KINDS) {
    for (const [inC, outC, h, w, k] of shapes) {
      for (const anchors of [0, 1, 'dense'] as const) {
        for (const outputs of [0, 1] as const) {
          const x = OPERANDS[kind].input(rng, inC * h * w);
          if (anchors !== 'dense') {
            for (let c = 0; c < inC; c++) for (let y = 0; y < h; y++) for (let col = 0; col < w; col++) if ((y + col) % 2 !== anchors) x[(c * h + y) * w + col] = 0;
          }
          const weights = OPERANDS[kind].weights(rng, outC * inC * k * k);
          const b = randomArray(rng, outC);
          const d: Conv2dDims = { inC, inH: h, inW: w, outC, outH: h, outW: w, k, stride: 1, pad: k >> 1 };
          const expected = new Float32Array(outC * h * w);
          conv2dSimple(expected, x, weights, b, d);
          const out = new Float32Array(outC * h * w).fill(NaN);
          conv2dCheckerboard(out, x, packConv2dWeights(weights, d), b, d, anchors, outputs);
          for (let i = 0; i < out.length; i++) {
            const computed = (Math.floor((i % (h * w)) / w) + (i % w)) % 2 === outputs;
            const what = `${kind} ${inC}→${outC} ${h}×${w} k${k} anchors ${anchors} outputs ${outputs}, element ${i}`;
            if (computed ? !Object.is(out[i], expected[i]) : !Number.isNaN(out[i])) assert.unreachable(`${what}: ${out[i]} vs ${expected[i]}`);
          }
        }
      }
    }
  }
  const d: Conv2dDims = { inC: 1, inH: 4, inW: 4, outC: 1, outH: 2, outW: 2, k: 3, stride: 2, pad: 1 };
  failsWith('INTERNAL', () => conv2dCheckerboard(new Float32Array(4), new Float32Array(16), new Float64Array(72), new Float32Array(1), d, 0, 1));
});

test('conv2dWinograd: only 5×5/2 padding 2 and 3×3/1 padding 1, and its buffers checked (INTERNAL)', () => {
  const d = conv5x5s2(2, 8, 8, 3);
  const f = (n: number) => new Float32Array(n);
  const pu = packConv2dWinograd(f(150), d), scratch = new Float64Array(conv2dWinogradScratchLength(2));
  failsWith('INTERNAL', () => packConv2dWinograd(f(54), { ...d, k: 3, pad: 1 }), /only 5×5 stride-2/);
  failsWith('INTERNAL', () => conv2dWinograd(f(48), f(128), pu, f(3), { ...d, stride: 1 }, scratch), /only 5×5 stride-2/);
  failsWith('INTERNAL', () => packConv2dWinograd(f(54), { ...d, k: 3, stride: 1, pad: 0 }), /3×3 stride-1 padding-1/);
  failsWith('INTERNAL', () => packConv2dWinograd(f(149), d), /packConv2dWinograd: w/);
  failsWith('INTERNAL', () => conv2dWinograd(f(48), f(127), pu, f(3), d, scratch), /conv2dWinograd: x/);
  failsWith('INTERNAL', () => conv2dWinograd(f(47), f(128), pu, f(3), d, scratch), /conv2dWinograd: out/);
  failsWith('INTERNAL', () => conv2dWinograd(f(48), f(128), pu, f(2), d, scratch), /conv2dWinograd: b/);
  failsWith('INTERNAL', () => conv2dWinograd(f(48), f(128), pu.subarray(1), f(3), d, scratch), /conv2dWinograd: pu/);
  failsWith('INTERNAL', () => conv2dWinograd(f(48), f(128), pu, f(3), d, scratch.subarray(1)), /conv2dWinograd: scratch/);
});

// ---------------------------------------------------------------- the Winograd kernels' contract, computed plainly

/**
 * The Winograd kernels' determinism contract (their READ ME FIRST) computed the plain way, tile by tile: every
 * one of the 36 products of every phase or polyphase channel, zeros included, summed channel by channel from 0 in
 * doubles, with the shared transforms. The kernels skip U's exact zeros and pack U in their own order: they must
 * give these bits.
 */
function kernelTaps(w: Float32Array, at: (ky: number, kx: number) => number, ky0: number, kx0: number, step: number, k = 5): Float64Array {
  const g = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      const ky = ky0 + step * r, kx = kx0 + step * c;
      g[r * 3 + c] = ky >= 0 && ky < k && kx >= 0 && kx < k ? w[at(ky, kx)] : 0;
    }
  }
  return g;
}

/** M[ξ][lane] = Σ_c V[ξ][c] · U_c[ξ], c ascending from 0 (tile 0 of V). */
function plainProducts(m: Float64Array, lane: number, v: Float64Array, channels: number, u: (c: number, xi: number) => number): void {
  for (let xi = 0; xi < Dim.XI; xi++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += v[xi * vPlane(channels) + c * Dim.CHUNK] * u(c, xi);
    m[xi * Dim.RECORD + lane] = sum;
  }
}

function tconvWinogradPlain(x: Float32Array, w: Float32Array, b: Float32Array, d: TransposedConv2dDims): Float32Array {
  const { inC, inH, inW, outC } = d, outH = 2 * inH, outW = 2 * inW;
  const out = new Float32Array(outC * outH * outW).fill(NaN);
  const u = new Float32Array(outC * inC * 4 * Dim.XI), gg = new Float64Array(18);
  for (let oc = 0; oc < outC; oc++) {
    for (let ic = 0; ic < inC; ic++) {
      for (let phase = 0; phase < 4; phase++) {
        // output (2m + a, 2n + b) reads x[m + dy, n + dx] with tap (a + 2 − 2dy, b + 2 − 2dx), dy = r − 1
        const g = kernelTaps(w, (ky, kx) => ((ic * outC + oc) * 5 + ky) * 5 + kx, (phase >> 1) + 4, (phase & 1) + 4, -2);
        transformKernel(u, ((oc * inC + ic) * 4 + phase) * Dim.XI, 1, g, gg);
      }
    }
  }
  const v = new Float64Array(Dim.XI * vPlane(inC)), patch = new Float64Array(Dim.XI), m = new Float64Array(Dim.XI * Dim.RECORD), rows = new Float64Array(4 * Dim.PATCH);
  for (let m0 = 0; m0 < inH; m0 += Dim.TILE) {
    for (let n0 = 0; n0 < inW; n0 += Dim.TILE) {
      for (let ic = 0; ic < inC; ic++) {
        loadPatch(patch, x, ic * inH * inW, inH, inW, m0 - 1, n0 - 1, 1);
        transformPatch(v, patch, inC, ic, 0);
      }
      for (let oc = 0; oc < outC; oc++) {
        for (let phase = 0; phase < 4; phase++) {
          plainProducts(m, phase, v, inC, (ic, xi) => u[((oc * inC + ic) * 4 + phase) * Dim.XI + xi]);
          transformOutput(rows, m, 0, phase);
          const ox = 2 * n0 + (phase & 1);
          for (let i = 0; i < Dim.TILE; i++) {
            const oy = 2 * (m0 + i) + (phase >> 1);
            if (oy < outH) storeOutputRow(out, rows, i, b[oc], (oc * outH + oy) * outW + ox, 2, ox, outW);
          }
        }
      }
    }
  }
  return out;
}

/** 5×5/2 (S = 2) or 3×3/1 (S = 1): the S² polyphase components of each input channel, each a 3×3 kernel. */
function convWinogradPlain(x: Float32Array, w: Float32Array, b: Float32Array, d: Conv2dDims): Float32Array {
  const { inC, inH, inW, outC, outH, outW, k, stride: s } = d, components = s * s, channels = components * inC;
  const out = new Float32Array(outC * outH * outW).fill(NaN);
  const u = new Float32Array(outC * channels * Dim.XI), gg = new Float64Array(18);
  // polyphase channel c = S²·ic + S·py + px: taps (S·dy + py, S·dx + px)
  const py = (c: number) => Math.floor((c % components) / s), px = (c: number) => c % s, icOf = (c: number) => Math.floor(c / components);
  for (let oc = 0; oc < outC; oc++) {
    for (let c = 0; c < channels; c++) {
      const g = kernelTaps(w, (ky, kx) => ((oc * inC + icOf(c)) * k + ky) * k + kx, py(c), px(c), s, k);
      transformKernel(u, (oc * channels + c) * Dim.XI, 1, g, gg);
    }
  }
  const v = new Float64Array(Dim.XI * vPlane(channels)), patch = new Float64Array(Dim.XI), m = new Float64Array(Dim.XI * Dim.RECORD), rows = new Float64Array(4 * Dim.PATCH);
  for (let oy0 = 0; oy0 < outH; oy0 += Dim.TILE) {
    for (let ox0 = 0; ox0 < outW; ox0 += Dim.TILE) {
      for (let c = 0; c < channels; c++) {
        loadPatch(patch, x, icOf(c) * inH * inW, inH, inW, s * (oy0 - 1) + py(c), s * (ox0 - 1) + px(c), s);
        transformPatch(v, patch, channels, c, 0);
      }
      for (let oc = 0; oc < outC; oc++) {
        plainProducts(m, 0, v, channels, (c, xi) => u[(oc * channels + c) * Dim.XI + xi]);
        transformOutput(rows, m, 0, 0);
        for (let i = 0; i < Dim.TILE && oy0 + i < outH; i++) storeOutputRow(out, rows, i, b[oc], (oc * outH + oy0 + i) * outW + ox0, 1, ox0, outW);
      }
    }
  }
  return out;
}

for (const kind of OPERAND_KINDS) {
  test(`conv2dWinograd = its contract computed plainly, bit for bit (U's zeros skipped), ${kind} data`, () => {
    for (const [name, d] of winogradConvShapes) {
      const { x, w, b } = randomConv(d.inC * 7 + d.inH, d, kind);
      const fast = runConvWinograd(x, w, b, d), plain = convWinogradPlain(x, w, b, d);
      for (let i = 0; i < fast.length; i++) if (!Object.is(fast[i], plain[i])) assert.unreachable(`${name}, element ${i}: ${fast[i]} vs ${plain[i]}`);
    }
  });
}

// ---------------------------------------------------------------- transposed conv

function randomTconv(seed: number, d: TransposedConv2dDims, kind: Operands) {
  const rng = mulberry32(seed);
  return {
    x: OPERANDS[kind].input(rng, d.inC * d.inH * d.inW),
    w: OPERANDS[kind].weights(rng, d.inC * d.outC * 25),
    b: randomArray(rng, d.outC, 0.1),
  };
}

type TconvForm = 'winograd' | 'direct' | 'simple' | 'scatter';

function runTconv(form: TconvForm, x: Float32Array, w: Float32Array, b: Float32Array, d: TransposedConv2dDims): Float32Array {
  const out = new Float32Array(d.outC * 4 * d.inH * d.inW).fill(NaN);
  if (form === 'winograd') {
    transposedConv2dWinograd(out, x, packTransposedConv2dWinograd(w, d), b, d, new Float64Array(winogradScratchLength(d.inC)));
  } else if (form === 'direct') transposedConv2d(out, x, packTransposedConv2dWeights(w, d), b, d);
  else if (form === 'simple') transposedConv2dSimple(out, x, w, b, d);
  else transposedConv2dScatter(out, x, w, b, d);
  return out;
}

const tconvShapes: [string, TransposedConv2dDims][] = [
  ['3→10 ch, 5×7 → 10×14', { inC: 3, inH: 5, inW: 7, outC: 10 }],
  ['9→3 ch, 1×1 → 2×2', { inC: 9, inH: 1, inW: 1, outC: 3 }],
  ['2→1 ch, 2×9 → 4×18', { inC: 2, inH: 2, inW: 9, outC: 1 }],
  ['4→16 ch, 6×6 → 12×12', { inC: 4, inH: 6, inW: 6, outC: 16 }],
  ['5→13 ch, 1×13 → 2×26', { inC: 5, inH: 1, inW: 13, outC: 13 }],
  ['8→8 ch, 11×3 → 22×6', { inC: 8, inH: 11, inW: 3, outC: 8 }],
  ['6→16 ch, 3×21 → 6×42 (tiles past the right edge)', { inC: 6, inH: 3, inW: 21, outC: 16 }],
  ['5→3 ch, 4×12 → 8×24', { inC: 5, inH: 4, inW: 12, outC: 3 }],
  ['40→8 ch, 9×31 → 18×62 (several chunks of 12 tiles, a partial tile group)', { inC: 40, inH: 9, inW: 31, outC: 8 }],
];


for (const [name, d] of tconvShapes) {
  for (const kind of OPERAND_KINDS) {
    test(`transposedConv2d (direct) = transposedConv2dSimple bit for bit, ${kind} data: ${name}`, () => {
      const { x, w, b } = randomTconv(d.inC * 31 + d.inW, d, kind);
      assertBitIdentical(runTconv('direct', x, w, b, d), runTconv('simple', x, w, b, d));
    });
  }
  test(`transposedConv2dWinograd = transposedConv2dSimple within 1e-5: ${name}`, () => {
    const { x, w, b } = randomTconv(d.inC * 31 + d.inW, d, 'uniform');
    assertNear(runTconv('winograd', x, w, b, d), runTconv('simple', x, w, b, d));
  });
  for (const kind of OPERAND_KINDS) {
    test(`transposedConv2dWinograd = its contract computed plainly, bit for bit (U's zeros skipped), ${kind} data: ${name}`, () => {
      const { x, w, b } = randomTconv(d.inC * 5 + d.outC, d, kind);
      assertBitIdentical(runTconv('winograd', x, w, b, d), tconvWinogradPlain(x, w, b, d));
    });
  }
  test(`transposedConv2dSimple (gather) = scatter ConvTranspose2d within 1e-5: ${name}`, () => {
    const { x, w, b } = randomTconv(d.inC * 17 + d.inH, d, 'uniform');
    assertClose(runTconv('simple', x, w, b, d), runTconv('scatter', x, w, b, d), 1e-5);
  });
}

test('transposedConv2dSimple: 1→1 channel, 1×1 input → 2×2 (hand-computed)', () => {
  // a lone input pixel lands on output (2·0 − 2 + ky, 2·0 − 2 + kx): only ky, kx ∈ {2, 3} survive the crop
  const w = Float32Array.from({ length: 25 }, (_, i) => i);
  const out = new Float32Array(4);
  transposedConv2dSimple(out, Float32Array.of(2), w, Float32Array.of(1), { inC: 1, inH: 1, inW: 1, outC: 1 });
  assert.equal(Array.from(out), [1 + 2 * 12, 1 + 2 * 13, 1 + 2 * 17, 1 + 2 * 18]);
});

/** The input rows (or columns) that outputs [start, start + size) of a 2·inSize output read, clipped: the simple form's taps. */
function tconvReads(start: number, size: number, inSize: number): [number, number] {
  return [Math.max(0, (start >> 1) - 1), Math.min(inSize, ((start + size - 1) >> 1) + 2)];
}

/** ... and the Winograd form's: its tiles' whole patches. */
function winogradReads(start: number, size: number, inSize: number): [number, number] {
  const r = winogradTconvInput({ start, end: start + size });
  return [Math.max(0, r.start), Math.min(inSize, r.end)];
}

test('winogradTconvInput: whole aligned tiles of 4 input positions, one more a side', () => {
  assert.equal(winogradTconvInput({ start: 0, end: 1 }), { start: -1, end: 5 });
  assert.equal(winogradTconvInput({ start: 7, end: 8 }), { start: -1, end: 5 });
  assert.equal(winogradTconvInput({ start: 8, end: 9 }), { start: 3, end: 9 });
  assert.equal(winogradTconvInput({ start: 7, end: 17 }), { start: -1, end: 13 });
});

const tconvWindows: [string, TransposedConv2dDims, number, number, number, number][] = [
  ['6→10 ch, 13×29, window 12×26 at (8,10)', { inC: 6, inH: 13, inW: 29, outC: 10 }, 8, 10, 12, 26],
  ['6→3 ch, 13×17, window 9×17 at (17,0) (odd start, touching two image edges)', { inC: 6, inH: 13, inW: 17, outC: 3 }, 17, 0, 9, 34],
  ['8→16 ch, 9×40, window 7×33 at (3,21) (odd starts and sizes)', { inC: 8, inH: 9, inW: 40, outC: 16 }, 3, 21, 7, 33],
  ['4→8 ch, 5×5, window 1×1 at (9,4)', { inC: 4, inH: 5, inW: 5, outC: 8 }, 9, 4, 1, 1],
  ['5→6 ch, 30×30, window 21×13 at (19,33) (tiles cut on every side)', { inC: 5, inH: 30, inW: 30, outC: 6 }, 19, 33, 21, 13],
];

/** A window's outputs from x cropped to `reads`' rows and columns, by `form`. */
function tconvWindow(form: 'winograd' | 'direct' | 'simple', x: Float32Array, weights: Float32Array, b: Float32Array, d: TransposedConv2dDims,
  reads: typeof tconvReads, outTop: number, outLeft: number, outH: number, outW: number): Float32Array {
  const [rowStart, rowEnd] = reads(outTop, outH, d.inH);
  const [colStart, colEnd] = reads(outLeft, outW, d.inW);
  const cropDims = { ...d, inH: rowEnd - rowStart, inW: colEnd - colStart };
  const cropped = crop(x, d.inC, d.inH, d.inW, rowStart, colStart, cropDims.inH, cropDims.inW);
  const win = { inTop: rowStart, inLeft: colStart, outTop, outLeft, outH, outW };
  const out = new Float32Array(d.outC * outH * outW).fill(NaN);
  if (form === 'simple') transposedConv2dSimple(out, cropped, weights, b, cropDims, win);
  else if (form === 'direct') transposedConv2d(out, cropped, packTransposedConv2dWeights(weights, cropDims), b, cropDims, win);
  else transposedConv2dWinograd(out, cropped, packTransposedConv2dWinograd(weights, cropDims), b, cropDims, new Float64Array(winogradScratchLength(d.inC)), win);
  return out;
}

for (const [name, d, outTop, outLeft, outH, outW] of tconvWindows) {
  for (const form of ['winograd', 'direct', 'simple'] as const) {
    test(`transposedConv2d ${form} window = the same outputs of the whole image, bit for bit, cancelling data: ${name}`, () => {
      const { x, w: weights, b } = randomTconv(outTop * 5 + outLeft, d, 'cancelling');
      const whole = runTconv(form, x, weights, b, d);
      const inWindow = tconvWindow(form, x, weights, b, d, form === 'winograd' ? winogradReads : tconvReads, outTop, outLeft, outH, outW);
      const wholeW = 2 * d.inW;
      for (let oc = 0; oc < d.outC; oc++) {
        for (let y = 0; y < outH; y++) {
          for (let xx = 0; xx < outW; xx++) {
            const a = inWindow[(oc * outH + y) * outW + xx];
            const e = whole[(oc * 2 * d.inH + outTop + y) * wholeW + outLeft + xx];
            if (!Object.is(a, e)) assert.unreachable(`oc ${oc} (${outTop + y}, ${outLeft + xx}): ${a} !== ${e}`);
          }
        }
      }
    });
  }
}

test('transposedConv2dWinograd: a window whose x lacks part of a tile\'s patch differs (the rule winogradTconvInput states is needed)', () => {
  const d = { inC: 4, inH: 12, inW: 12, outC: 4 };
  const { x, w: weights, b } = randomTconv(99, d, 'uniform');
  const whole = runTconv('winograd', x, weights, b, d);
  // outputs 8…9 read input rows 3…5 (the simple form's taps); their tile reads rows 3…8
  const short = tconvWindow('winograd', x, weights, b, d, tconvReads, 8, 8, 2, 2);
  let differs = false;
  for (let oc = 0; oc < d.outC; oc++) {
    for (let y = 0; y < 2; y++) for (let xx = 0; xx < 2; xx++) if (short[(oc * 2 + y) * 2 + xx] !== whole[(oc * 24 + 8 + y) * 24 + 8 + xx]) differs = true;
  }
  assert.ok(differs);
});

// ---------------------------------------------------------------- GDN

/**
 * GDN operands. Real γ and β are positive, so no sum cancels and order changes stay invisible; the
 * cancelling kind (±2^20 input spikes, ±1 γ, β = 1000) exposes them as for the convolutions.
 */
function randomGdn(seed: number, channels: number, planeSize: number, kind: Operands) {
  const rng = mulberry32(seed);
  if (kind === 'cancelling') {
    return {
      x: Float32Array.from({ length: channels * planeSize }, () => (rng() < 0.1 ? (rng() < 0.5 ? -1 : 1) * 2 ** 20 : 2 * rng() - 1)),
      beta: new Float32Array(channels).fill(1000),
      gamma: OPERANDS.cancelling.weights(rng, channels * channels),
    };
  }
  return {
    x: randomArray(rng, channels * planeSize, 2),
    beta: Float32Array.from({ length: channels }, () => 0.5 + rng()),
    gamma: Float32Array.from({ length: channels * channels }, () => 0.1 * rng()),
  };
}

function runGdn(fast: boolean, x: Float32Array, beta: Float32Array, gamma: Float32Array, d: GdnDims): Float32Array {
  const out = new Float32Array(d.channels * d.planeSize).fill(NaN);
  if (fast) gdn(out, x, beta, gamma, d, new Float64Array(gdnScratchLength(d.channels)).fill(NaN));
  else gdnSimple(out, x, beta, gamma, d);
  return out;
}

test('gdnSimple and gdn: 2 channels × 1 pixel (direct formula)', () => {
  const x = Float32Array.of(3, -4);
  const beta = Float32Array.of(1, 2);
  const gamma = Float32Array.of(0.5, 0.25, 0, 1); // [i][j]
  const norms = [1 + 0.5 * 9 + 0.25 * 16, 2 + 0 * 9 + 1 * 16];
  for (const fast of [false, true]) {
    assert.equal(Array.from(runGdn(fast, x, beta, gamma, { channels: 2, planeSize: 1, inverse: false })), [
      Math.fround(3 / Math.sqrt(norms[0])),
      Math.fround(-4 / Math.sqrt(norms[1])),
    ]);
    assert.equal(Array.from(runGdn(fast, x, beta, gamma, { channels: 2, planeSize: 1, inverse: true })), [
      Math.fround(3 * Math.sqrt(norms[0])),
      Math.fround(-4 * Math.sqrt(norms[1])),
    ]);
  }
});

const gdnShapes: [number, number][] = [[1, 1], [3, 1], [5, 37], [8, 70], [13, 129], [64, 96]];

for (const [channels, planeSize] of gdnShapes) {
  for (const inverse of [false, true]) {
    for (const kind of OPERAND_KINDS) {
      test(`${inverse ? 'inverse ' : ''}gdn = gdnSimple bit for bit, ${kind} data: ${channels} channels × ${planeSize} pixels`, () => {
        const { x, beta, gamma } = randomGdn(channels * 1000 + planeSize, channels, planeSize, kind);
        const d = { channels, planeSize, inverse };
        assertBitIdentical(runGdn(true, x, beta, gamma, d), runGdn(false, x, beta, gamma, d));
      });
    }
    test(`${inverse ? 'inverse ' : ''}gdn in place = gdn into another array, bit for bit: ${channels} channels × ${planeSize} pixels`, () => {
      const { x, beta, gamma } = randomGdn(channels * 1000 + planeSize, channels, planeSize, 'uniform');
      const d = { channels, planeSize, inverse };
      const expected = runGdn(true, x, beta, gamma, d);
      gdn(x, x, beta, gamma, d, new Float64Array(gdnScratchLength(channels)));
      assertBitIdentical(x, expected);
    });
  }
}

// ---------------------------------------------------------------- small ops

test('relu: 6 elements, in place and out of place', () => {
  const x = Float32Array.of(-2, -0, 0, 0.5, 3, -1e-30);
  const out = new Float32Array(6);
  relu(out, x, 6);
  assert.equal(Array.from(out), [0, 0, 0, 0.5, 3, 0]);
  relu(x, x, 6);
  assert.equal(Array.from(x), [0, 0, 0, 0.5, 3, 0]);
});

test('globalAvgMaxPool: 2 channels × 3 pixels', () => {
  const avg = new Float32Array(2);
  const max = new Float32Array(2);
  globalAvgMaxPool(avg, max, Float32Array.of(1, 2, 6, -1, -5, -3), 2, 3);
  assert.equal(Array.from(avg), [3, -3]);
  assert.equal(Array.from(max), [6, -1]);
});

test('channelMeanMax: 3 channels × 2 pixels', () => {
  const out = new Float32Array(4);
  channelMeanMax(out, Float32Array.of(1, -1, 2, -2, 6, -6), 3, 2);
  assert.equal(Array.from(out), [3, -3, 6, -1]);
});

test('channelMlp: 4 channels, hidden 2 (hand-computed)', () => {
  const v = Float32Array.of(1, 2, 3, 4);
  const w1 = Float32Array.of(1, 0, 0, 0, /* */ 0, -1, 0, 0); // hidden = [v0 + 0.5, relu(−v1 + 0.5)]
  const b1 = Float32Array.of(0.5, 0.5);
  const w2 = Float32Array.of(1, 0, /* */ 0, 1, /* */ 2, 3, /* */ -1, 0);
  const b2 = Float32Array.of(0, 0, 1, 0);
  const out = new Float32Array(4);
  channelMlp(out, v, w1, b1, w2, b2, 2, new Float32Array(2));
  assert.equal(Array.from(out), [1.5, 0, 4, -1.5]);
});

test('exp: within 2 ulp of Math.exp over the range the gates see, exact at 0, 0 and Infinity beyond the range', () => {
  let worst = 0;
  for (let i = -200_000; i <= 200_000; i++) {
    const x = i / 1000 + 1e-7 * ((i * 7919) % 1000);
    const expected = Math.exp(x);
    worst = Math.max(worst, Math.abs(exp(x) - expected) / expected);
  }
  assert.ok(worst <= 2 * 2 ** -52, `max relative error ${worst}`);
  assert.is(exp(0), 1);
  assert.ok(Math.abs(exp(1) - Math.E) <= 2 ** -51, 'e within 1 ulp');
  assert.is(exp(800), Infinity);
  assert.is(exp(-800), 0);
  assert.ok(Number.isNaN(exp(NaN)));
  // σ(x) + σ(−x) = 1 and σ(0) = ½, whatever e^x's last bits
  for (const v of [0.1, 1, 3.7, 20]) assert.ok(Math.abs(sigmoid(v) + sigmoid(-v) - 1) < 1e-15, `σ(±${v})`);
  assert.ok(Math.abs(sigmoid(2) - 0.8807970779778823) < 1e-16, 'σ(2), from an independent table');
});

test('sigmoid gates: 2 channels × 3 pixels, in place and out of place', () => {
  assert.is(sigmoid(0), 0.5);
  const x = Float32Array.of(1, 2, 3, 4, 5, 6);
  const logits = Float32Array.of(0, 1, -2);
  // σ(0), σ(1), σ(−2) from an independent table (1 / (1 + e^−x) in extended precision), not the kernel's sigmoid
  const sigma = [0.5, 0.7310585786300049, 0.11920292202211756];
  const byChannel = new Float32Array(6);
  channelGate(byChannel, x, logits.subarray(0, 2), 2, 3);
  assert.equal(Array.from(byChannel), [1, 2, 3, 4, 5, 6].map((v, i) => Math.fround(v * sigma[i < 3 ? 0 : 1])));
  const byPixel = Float32Array.from(x);
  spatialGate(byPixel, byPixel, logits, 2, 3);
  assert.equal(Array.from(byPixel), [1, 2, 3, 4, 5, 6].map((v, i) => Math.fround(v * sigma[i % 3])));
});

test('every kernel checks its buffers against its dimensions at entry (INTERNAL, before reading any)', () => {
  const f = (n: number) => new Float32Array(n);
  const d: Conv2dDims = { inC: 2, inH: 4, inW: 4, outC: 3, outH: 2, outW: 2, k: 3, stride: 2, pad: 1 };
  const w = f(3 * 2 * 9);
  const pw = packConv2dWeights(w, d);
  failsWith('INTERNAL', () => conv2d(f(12), f(31), pw, f(3), d), /conv2d: x has 31 elements, its dimensions need 32/);
  failsWith('INTERNAL', () => conv2d(f(11), f(32), pw, f(3), d), /conv2d: out/);
  failsWith('INTERNAL', () => conv2d(f(12), f(32), pw, f(2), d), /conv2d: b/);
  failsWith('INTERNAL', () => conv2d(f(12), f(32), pw.subarray(1), f(3), d), /conv2d: pw/);
  failsWith('INTERNAL', () => conv2d(f(12), f(32), pw, f(3), { ...d, inC: 1 }), /conv2d: x/);
  failsWith('INTERNAL', () => conv2dSimple(f(12), f(32), w.subarray(1), f(3), d), /conv2dSimple: w/);
  failsWith('INTERNAL', () => packConv2dWeights(w, { ...d, k: 5 }), /packConv2dWeights: w/);

  const t: TransposedConv2dDims = { inC: 2, inH: 3, inW: 3, outC: 3 };
  const tw = f(2 * 3 * 25);
  const tpw = packTransposedConv2dWeights(tw, t);
  failsWith('INTERNAL', () => transposedConv2d(f(108), f(17), tpw, f(3), t), /transposedConv2d: x/);
  failsWith('INTERNAL', () => transposedConv2d(f(107), f(18), tpw, f(3), t), /transposedConv2d: out/);
  failsWith('INTERNAL', () => transposedConv2d(f(108), f(18), tpw.subarray(8), f(3), t), /transposedConv2d: pw/);
  failsWith('INTERNAL', () => packTransposedConv2dWeights(tw.subarray(1), t), /packTransposedConv2dWeights: w/);
  const tpu = packTransposedConv2dWinograd(tw, t);
  const ts = new Float64Array(winogradScratchLength(2));
  failsWith('INTERNAL', () => transposedConv2dWinograd(f(108), f(17), tpu, f(3), t, ts), /transposedConv2dWinograd: x/);
  failsWith('INTERNAL', () => transposedConv2dWinograd(f(107), f(18), tpu, f(3), t, ts), /transposedConv2dWinograd: out/);
  failsWith('INTERNAL', () => transposedConv2dWinograd(f(108), f(18), tpu, f(3), { ...t, outC: 2 }, ts), /transposedConv2dWinograd: out/);
  failsWith('INTERNAL', () => transposedConv2dWinograd(f(108), f(18), tpu, f(2), t, ts), /transposedConv2dWinograd: b/);
  failsWith('INTERNAL', () => transposedConv2dWinograd(f(108), f(18), tpu.subarray(4), f(3), t, ts), /transposedConv2dWinograd: pu/);
  failsWith('INTERNAL', () => transposedConv2dWinograd(f(108), f(18), tpu, f(3), t, ts.subarray(1)), /transposedConv2dWinograd: scratch/);
  failsWith('INTERNAL', () => transposedConv2dWinograd(f(4), f(18), tpu, f(3), t, ts, { inTop: 0, inLeft: 0, outTop: 0, outLeft: 0, outH: 2, outW: 3 }),
    /transposedConv2dWinograd: out has 4 elements, its dimensions need 18/);
  failsWith('INTERNAL', () => transposedConv2dSimple(f(108), f(18), tw.subarray(1), f(3), t), /transposedConv2dSimple: w/);
  failsWith('INTERNAL', () => transposedConv2dScatter(f(108), f(18), tw, f(4), t), /transposedConv2dScatter: b/);
  failsWith('INTERNAL', () => packTransposedConv2dWinograd(tw.subarray(1), t), /packTransposedConv2dWinograd: w/);

  const g: GdnDims = { channels: 3, planeSize: 5, inverse: false };
  const scratch = new Float64Array(gdnScratchLength(3));
  failsWith('INTERNAL', () => gdn(f(15), f(14), f(3), f(9), g, scratch), /gdn: x/);
  failsWith('INTERNAL', () => gdn(f(15), f(15), f(2), f(9), g, scratch), /gdn: beta/);
  failsWith('INTERNAL', () => gdn(f(15), f(15), f(3), f(3), g, scratch), /gdn: gamma/);
  failsWith('INTERNAL', () => gdn(f(15), f(15), f(3), f(9), g, scratch.subarray(1)), /gdn: scratch/);
  failsWith('INTERNAL', () => gdnSimple(f(16), f(15), f(3), f(9), g), /gdnSimple: out/);

  failsWith('INTERNAL', () => channelMlp(f(4), f(4), f(8), f(2), f(7), f(4), 2, f(2)), /channelMlp: w2/);
  failsWith('INTERNAL', () => channelMlp(f(4), f(4), f(8), f(2), f(8), f(4), 2, f(1)), /channelMlp: scratch/);
  failsWith('INTERNAL', () => globalAvgMaxPool(f(2), f(2), f(9), 2, 5), /globalAvgMaxPool: x/);
  failsWith('INTERNAL', () => globalAvgMaxPool(f(2), f(1), f(10), 2, 5), /globalAvgMaxPool: maxOut/);
  failsWith('INTERNAL', () => channelMeanMax(f(5), f(10), 2, 5), /channelMeanMax: out/);
  failsWith('INTERNAL', () => channelGate(f(10), f(10), f(5), 2, 5), /channelGate: logits/);
  failsWith('INTERNAL', () => spatialGate(f(10), f(10), f(2), 2, 5), /spatialGate: logits/);
  failsWith('INTERNAL', () => relu(f(3), f(4), 4), /relu: out/);
});

test.run();
