/**
 * One image's activations, CHW float32, and the layer calls the model is built from. These allocate the
 * output; the kernels in kernels/ never allocate.
 */
import {
  conv2d, conv2dCheckerboard, conv2dWinograd, packTransposedConv2dWeights, transposedConv2d, conv2dWinogradScratchLength, isWinogradConv, packConv2dWinograd, gdn, gdnScratchLength, packConv2dWeights, packTransposedConv2dWinograd, transposedConv2dWinograd,
  winogradScratchLength, type Conv2dDims, type TransposedConv2dWindow,
} from '../../kernels/index.js';
import { fail } from '../core/errors.js';
import { takeSpare } from '../core/spares.js';
import type { Region, Tensor } from '../core/types.js';
import type { Conv, Gdn, Transform } from '../format/weights.js';

/**
 * This thread's spare activation buffers. A tile's passes make tens of MB of short-lived activations; left
 * to the GC they pile up (it sees only the small JS wrappers) and set the peak RSS of a large image. So the
 * passes hand back (`recycle`) what they consumed, and `tensor` takes the smallest spare that fits.
 */
const spares: ArrayBuffer[] = [];
/** Enough for the buffers one tile's pass has alive at once; more would only hold memory. */
const MAX_SPARES = 4;

/** A zeroed tensor, in a recycled buffer when one fits. */
export function tensor(c: number, h: number, w: number): Tensor {
  const length = c * h * w;
  const spare = takeSpare(spares, length * Float32Array.BYTES_PER_ELEMENT);
  const data = spare ? new Float32Array(spare, 0, length).fill(0) : new Float32Array(length);
  return { c, h, w, data };
}

/** Gives t's buffer to later tensors of this thread: t must not be used afterwards. Shared buffers stay with their owners. */
export function recycle(t: Tensor): void {
  const buffer = t.data.buffer;
  if (!(buffer instanceof ArrayBuffer) || spares.includes(buffer)) return;
  spares.push(buffer);
  if (spares.length > MAX_SPARES) {
    // keep the largest: a small buffer is cheap to allocate again, a large one fits more requests
    let smallest = 0;
    for (let i = 1; i < spares.length; i++) if (spares[i].byteLength < spares[smallest].byteLength) smallest = i;
    spares.splice(smallest, 1);
  }
}

/** Bytes this thread keeps in spare buffers. */
export function spareBytes(): number {
  return spares.reduce((n, buffer) => n + buffer.byteLength, 0);
}

/** Drops this thread's spares (to the GC): for a host that wants the memory back between calls. */
export function releaseSpares(): void {
  spares.length = 0;
}

// The fast kernels read weights repacked into channel blocks; each layer is packed once, on first use.
const packedConvs = new WeakMap<Float32Array, Float64Array>();
const winogradConvs = new WeakMap<Float32Array, Float32Array>();
const winogradTransposedConvs = new WeakMap<Float32Array, Float32Array>();
const packedTransposedConvs = new WeakMap<Float32Array, Float64Array>();
/** The Winograd kernels' scratch, this thread's one, grown to the largest need seen. */
let winogradScratch = new Float64Array(0);
function scratchOf(length: number): Float64Array {
  if (winogradScratch.length < length) winogradScratch = new Float64Array(length);
  return winogradScratch;
}

/** A layer's weights packed by `pack`, once per layer and cache. */
function packedOnce<T>(cache: WeakMap<Float32Array, T>, layer: Conv, pack: () => T): T {
  let packed = cache.get(layer.weight);
  if (!packed) cache.set(layer.weight, (packed = pack()));
  return packed;
}

export const packedConv = (layer: Conv, d: Conv2dDims): Float64Array => packedOnce(packedConvs, layer, () => packConv2dWeights(layer.weight, d));

const tconvDims = (layer: Conv) => ({ inC: layer.inC, inH: 1, inW: 1, outC: layer.outC });

/** A layer's input has the channels its weights were made for (packed weights are cached per layer: a wrong x.c would not be seen there). */
function checkChannels(layer: string, x: Tensor, channels: number): void {
  if (x.c !== channels) fail('INTERNAL', `${layer}: input of ${x.c} channels, the layer takes ${channels}`);
}

/**
 * The convolutions convLayer runs by Winograd: the 5×5/2 ones (measured 1.9–2.4× faster than the direct kernel at the
 * analysis transforms' shapes). Its 3×3 ones stay direct and bit-stable: in the hyper kinds their outputs become scale
 * indexes (see transposedConvLayer). φ's 3×3 convs ask for Winograd themselves (winogradConvLayer).
 */
const winogradByDefault = (d: Conv2dDims): boolean => d.k === 5 && isWinogradConv(d);

/**
 * Conv2d with "same"-style padding k/2: stride 2 halves (rounding up), stride 1 keeps the size. The 5×5/2 layers
 * run Winograd, whose tiles `origin` places: the whole output's row and column of this output's (0, 0)
 * (tiling.analyzeRegion).
 */
export function convLayer(x: Tensor, layer: Conv, stride: number, origin?: { y: number; x: number },
  out?: Tensor): Tensor {
  checkChannels('convLayer', x, layer.inC);
  const pad = layer.k >> 1;
  const outH = Math.floor((x.h + 2 * pad - layer.k) / stride) + 1;
  const outW = Math.floor((x.w + 2 * pad - layer.k) / stride) + 1;
  if (out && (out.c !== layer.outC || out.h !== outH || out.w !== outW)) throw new Error(`convLayer: out is ${out.c}×${out.h}×${out.w}, not ${layer.outC}×${outH}×${outW}`);
  out ??= tensor(layer.outC, outH, outW);
  const d = { inC: x.c, inH: x.h, inW: x.w, outC: layer.outC, outH, outW, k: layer.k, stride, pad };
  if (winogradByDefault(d)) {
    const packed = packedOnce(winogradConvs, layer, () => packConv2dWinograd(layer.weight, d));
    conv2dWinograd(out.data, x.data, packed, layer.bias, d, scratchOf(conv2dWinogradScratchLength(x.c)), origin);
  } else {
    conv2d(out.data, x.data, packedConv(layer, d), layer.bias, d);
  }
  return out;
}

/**
 * Rows `rows` of a 5×5/2 conv's whole output, every column, from x: rows from `xTop` of the layer's whole input, every
 * column (at least what winogradConvInput of the rows says, clipped). The Winograd kernel places its tiles on the whole
 * output, so each element has the bits of convLayer over any region holding its tile's patch.
 */
export function convBand(x: Tensor, layer: Conv, xTop: number, rows: Region['rows']): Tensor {
  checkChannels('convBand', x, layer.inC);
  const outW = Math.ceil(x.w / 2);
  const d = { inC: x.c, inH: x.h, inW: x.w, outC: layer.outC, outH: rows.end - rows.start, outW, k: layer.k, stride: 2, pad: layer.k >> 1 };
  if (!winogradByDefault(d)) fail('INTERNAL', `convBand: a ${layer.k}×${layer.k} conv (only 5×5, stride 2)`);
  const out = tensor(layer.outC, d.outH, outW);
  const packed = packedOnce(winogradConvs, layer, () => packConv2dWinograd(layer.weight, d));
  conv2dWinograd(out.data, x.data, packed, layer.bias, d, scratchOf(conv2dWinogradScratchLength(x.c)), { y: rows.start, x: 0 }, { y: xTop, x: 0 });
  return out;
}

/**
 * A 3×3 stride-1 "same" conv by Winograd over `region` of the whole output (the whole input's coordinates too), from x
 * whose (0, 0) is the whole input's `from`: φ's convolutions. The kernel places its tiles on the whole image, so each
 * element has the same bits whatever region is asked, as long as x holds what winogradConvInput(region, 1) says,
 * clipped to the image (outside x reads as zero: right only outside the image).
 */
export function winogradConvLayer(x: Tensor, layer: Conv, from: { y: number; x: number }, region: Region): Tensor {
  checkChannels('winogradConvLayer', x, layer.inC);
  const outH = region.rows.end - region.rows.start, outW = region.cols.end - region.cols.start;
  const d = { inC: x.c, inH: x.h, inW: x.w, outC: layer.outC, outH, outW, k: layer.k, stride: 1, pad: layer.k >> 1 };
  if (!isWinogradConv(d)) fail('INTERNAL', `winogradConvLayer: a ${layer.k}×${layer.k} conv (only 3×3)`);
  const out = tensor(layer.outC, outH, outW);
  const packed = packedOnce(winogradConvs, layer, () => packConv2dWinograd(layer.weight, d));
  conv2dWinograd(out.data, x.data, packed, layer.bias, d, scratchOf(conv2dWinogradScratchLength(x.c)),
    { y: region.rows.start, x: region.cols.start }, from);
  return out;
}

/**
 * A stride-1 "same" conv2d of x (zero where (row + column) % 2 ≠ anchors, unless 'dense') at the elements of parity
 * `outputs` only, written into `out` (a new tensor by default; the other elements are left as they are): conv2d's
 * values there, from the taps that can meet a non-zero input alone (kernels/conv2d-checkerboard.ts).
 */
export function checkerboardConvLayer(x: Tensor, layer: Conv, anchors: 0 | 1 | 'dense', outputs: 0 | 1,
  out: Tensor = tensor(layer.outC, x.h, x.w)): Tensor {
  checkChannels('checkerboardConvLayer', x, layer.inC);
  const d = { inC: x.c, inH: x.h, inW: x.w, outC: layer.outC, outH: x.h, outW: x.w, k: layer.k, stride: 1, pad: layer.k >> 1 };
  conv2dCheckerboard(out.data, x.data, packedConv(layer, d), layer.bias, d, anchors, outputs);
  return out;
}

/**
 * ConvTranspose2d(5, stride 2, padding 2, output_padding 1): doubles the size, by Winograd F(4×4, 3×3) (measured
 * 2–3× faster than the direct kernel on every layer of the model), or with `kernel` 'direct' by the direct phase
 * form, whose bits every release has had: the layers whose outputs become scale indexes (h_s; g_m's first layer,
 * c_z's input) run it, so a file keeps decoding with the indexes its encoder used (a float32 ulp moved in σ can
 * move an index, and the rANS decode would then fail), while the pixels' layers may change their last bits.
 * With `window`, x covers the rows/columns `window.input` of its scale and the output covers `window.output` of the
 * next (both in whole-image coordinates; x must hold what `tconvInput` of the output says, clipped to the image).
 */
export function transposedConvLayer(x: Tensor, layer: Conv, window?: { input: Region; output: Region },
  kernel: 'winograd' | 'direct' = 'winograd'): Tensor {
  checkChannels('transposedConvLayer', x, layer.inC);
  const d = { inC: x.c, inH: x.h, inW: x.w, outC: layer.outC };
  const win: TransposedConv2dWindow | undefined = window && {
    inTop: window.input.rows.start, inLeft: window.input.cols.start,
    outTop: window.output.rows.start, outLeft: window.output.cols.start,
    outH: window.output.rows.end - window.output.rows.start, outW: window.output.cols.end - window.output.cols.start,
  };
  const out = tensor(layer.outC, win ? win.outH : 2 * x.h, win ? win.outW : 2 * x.w);
  if (kernel === 'direct') {
    const packed = packedOnce(packedTransposedConvs, layer, () => packTransposedConv2dWeights(layer.weight, tconvDims(layer)));
    transposedConv2d(out.data, x.data, packed, layer.bias, d, win);
  } else {
    const packed = packedOnce(winogradTransposedConvs, layer, () => packTransposedConv2dWinograd(layer.weight, tconvDims(layer)));
    transposedConv2dWinograd(out.data, x.data, packed, layer.bias, d, scratchOf(winogradScratchLength(x.c)), win);
  }
  return out;
}

/** (I)GDN; `out` may be x itself (see kernels/gdn.ts). */
export function gdnLayer(x: Tensor, layer: Gdn, inverse: boolean, out: Tensor = tensor(x.c, x.h, x.w)): Tensor {
  checkChannels('gdnLayer', x, layer.channels);
  gdn(out.data, x.data, layer.beta, layer.gamma, { channels: x.c, planeSize: x.h * x.w, inverse },
    new Float64Array(gdnScratchLength(x.c)));
  return out;
}

/**
 * Runs conv · (I)GDN · … · conv; `each` sees every layer's output (the parity tests use it). Without
 * `each`, (I)GDN works in place and each intermediate is recycled once the next layer has consumed it
 * (x stays the caller's).
 */
function chain(x: Tensor, t: Transform, layer: (h: Tensor, c: Conv, i: number) => Tensor, inverse: boolean,
  each?: (out: Tensor) => void, from = 0): Tensor {
  let h = x;
  const step = (next: Tensor): void => {
    if (each) each(next);
    else if (h !== x && h !== next) recycle(h);
    h = next;
  };
  t.convs.forEach((c, i) => {
    if (i < from) return;
    step(layer(h, c, i));
    if (i < t.gdns.length) step(gdnLayer(h, t.gdns[i], inverse, each ? undefined : h));
  });
  return h;
}

/**
 * f_m / f_r: conv5/2 · GDN · … · conv5/2. `origin`: the whole image's pixel row and column of x's (0, 0), a multiple of
 * 2^layers (default: x is the whole image).
 */
export function analysis(x: Tensor, t: Transform, each?: (out: Tensor) => void, origin = { y: 0, x: 0 }): Tensor {
  return chain(x, t, (h, c, i) => convLayer(h, c, 2, { y: origin.y / 2 ** (i + 1), x: origin.x / 2 ** (i + 1) }), false, each);
}

/**
 * g_m / g_r: tconv5/2 · IGDN · … · tconv5/2. Whole tensors, or with `regions` (one per scale, the input's
 * first) each layer computes only regions[i + 1] of its output from x = regions[0] of the latent. With
 * `from` = k, x is what layer k − 1 (and its IGDN) gave, over regions[k], and the layers before k are skipped.
 * `directFirst`: the first layer by the direct kernel (g_m's, whose output is also c_z's input: see transposedConvLayer).
 */
export function synthesis(x: Tensor, t: Transform, each?: (out: Tensor) => void, regions?: Region[], from = 0,
  directFirst = false): Tensor {
  return chain(x, t, (h, c, i) => transposedConvLayer(h, c, regions && { input: regions[i], output: regions[i + 1] },
    directFirst && i === 0 ? 'direct' : 'winograd'), true, each, from);
}
