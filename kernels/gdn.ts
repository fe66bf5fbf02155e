/**
 * Generalized divisive normalization (Ballé et al.) of one CHW image, and its inverse:
 *   norm[i, p] = β_i + Σ_j γ[i·C + j] · x[j, p]²
 *   out[i, p]  = x[i, p] / √norm[i, p]   (GDN)   or   x[i, p] · √norm[i, p]   (inverse, IGDN)
 *
 * Determinism contract: norm is summed in one double, β_i first, then j ascending; x² is formed in
 * double (exact for a float32); √ is Math.sqrt (IEEE-exact, so the same on every machine); the
 * result is rounded to float32 only when stored. `gdn` equals `gdnSimple` bit for bit.
 */
import { checkAtLeast, checkLength } from './check.js';

export interface GdnDims {
  channels: number;
  planeSize: number;
  inverse: boolean;
}

/** Pixels squared into the scratch at a time (a multiple of PIXEL_BLOCK). */
const SQUARES_WIDTH = 63;
/** Channels × pixels summed together by the inner kernel (written out for exactly 4 × 3). */
const CHANNEL_BLOCK = 4;
const PIXEL_BLOCK = 3;

/** Float64 scratch `gdn` needs: the run's squares [C][SQUARES_WIDTH], CHANNEL_BLOCK rows of norms, packed γ. */
export function gdnScratchLength(channels: number): number {
  return (channels + CHANNEL_BLOCK) * SQUARES_WIDTH + Math.ceil(channels / CHANNEL_BLOCK) * CHANNEL_BLOCK * channels;
}

/** x and out [channels, planeSize], β [channels], γ [channels, channels]. */
function checkGdn(kernel: string, out: Float32Array, x: Float32Array, beta: Float32Array, gamma: Float32Array, d: GdnDims): void {
  checkLength(kernel, 'x', x, d.channels * d.planeSize);
  checkLength(kernel, 'out', out, d.channels * d.planeSize);
  checkLength(kernel, 'beta', beta, d.channels);
  checkLength(kernel, 'gamma', gamma, d.channels * d.channels);
}

/** The definition, directly. out must not alias x. */
export function gdnSimple(out: Float32Array, x: Float32Array, beta: Float32Array, gamma: Float32Array, d: GdnDims): void {
  checkGdn('gdnSimple', out, x, beta, gamma, d);
  const { channels, planeSize, inverse } = d;
  for (let i = 0; i < channels; i++) {
    for (let p = 0; p < planeSize; p++) {
      let norm = beta[i];
      for (let j = 0; j < channels; j++) {
        const v = x[j * planeSize + p];
        norm += gamma[i * channels + j] * (v * v);
      }
      const xi = x[i * planeSize + p];
      out[i * planeSize + p] = inverse ? xi * Math.sqrt(norm) : xi / Math.sqrt(norm);
    }
  }
}

/**
 * The fast form: for each run of SQUARES_WIDTH pixels, squares every channel once into the scratch
 * (length `gdnScratchLength(channels)`, which also holds γ widened to doubles and packed 4 rows side by side),
 * then sums 4 channels × 3 pixels at a time. Lanes past the last channel repeat it and pixels past the run's end
 * read zero squares; neither is stored.
 * out may be x itself: a run's squares are all taken before its first store, and a store reads only
 * the element it replaces. Equals `gdnSimple` bit for bit.
 */
export function gdn(out: Float32Array, x: Float32Array, beta: Float32Array, gamma: Float32Array, d: GdnDims, scratch: Float64Array): void {
  checkGdn('gdn', out, x, beta, gamma, d);
  checkAtLeast('gdn', 'scratch', scratch, gdnScratchLength(d.channels));
  const { channels, planeSize, inverse } = d;
  const normsOffset = channels * SQUARES_WIDTH;
  // γ as doubles, [i / 4][j][lane]: a block's 4 weights for one j side by side (lanes past the last channel repeat it)
  const gammaOffset = normsOffset + CHANNEL_BLOCK * SQUARES_WIDTH;
  for (let i = 0; i < Math.ceil(channels / CHANNEL_BLOCK) * CHANNEL_BLOCK; i++) {
    const row = Math.min(i, channels - 1) * channels, at = gammaOffset + (i - (i % CHANNEL_BLOCK)) * channels + (i % CHANNEL_BLOCK);
    for (let j = 0; j < channels; j++) scratch[at + j * CHANNEL_BLOCK] = gamma[row + j];
  }
  // a run is a function a layer calls many times: V8 optimizes it early, where this driver would wait for an OSR compile
  for (let p0 = 0; p0 < planeSize; p0 += SQUARES_WIDTH) {
    normalizeRun(out, x, beta, scratch, channels, planeSize, inverse, p0, Math.min(SQUARES_WIDTH, planeSize - p0), normsOffset, gammaOffset);
  }
}

/** Pixels p0 … p0 + count − 1 of every channel (count ≤ SQUARES_WIDTH), with gdn's scratch. */
function normalizeRun(out: Float32Array, x: Float32Array, beta: Float32Array, scratch: Float64Array, channels: number,
  planeSize: number, inverse: boolean, p0: number, count: number, normsOffset: number, gammaOffset: number): void {
  for (let j = 0; j < channels; j++) {
    const xRow = j * planeSize + p0, sqRow = j * SQUARES_WIDTH;
    for (let q = 0; q < count; q++) {
      const v = x[xRow + q];
      scratch[sqRow + q] = v * v;
    }
    scratch.fill(0, sqRow + count, sqRow + SQUARES_WIDTH);
  }
  for (let i0 = 0; i0 < channels; i0 += CHANNEL_BLOCK) {
    for (let q0 = 0; q0 < count; q0 += PIXEL_BLOCK) normBlock(scratch, normsOffset + q0, scratch, q0, beta, scratch, gammaOffset + i0 * channels, channels, i0);
    const lanes = Math.min(CHANNEL_BLOCK, channels - i0);
    for (let lane = 0; lane < lanes; lane++) {
      const row = (i0 + lane) * planeSize + p0, normRow = normsOffset + lane * SQUARES_WIDTH;
      for (let q = 0; q < count; q++) {
        const xi = x[row + q], norm = scratch[normRow + q];
        out[row + q] = inverse ? xi * Math.sqrt(norm) : xi / Math.sqrt(norm);
      }
    }
  }
}

/**
 * norms[normsIndex + lane·SQUARES_WIDTH + q] = β + Σ_j γ · squares[j·SQUARES_WIDTH + squaresIndex + q]
 * for channels i0 + lane (lane < 4; past the last channel, the last) and pixels q < 3: 12 sums, which fit the
 * registers (8 × 4 spilled most of its 32). A finished sum is stored as the double it is, so the norms are
 * exactly the simple form's.
 */
function normBlock(
  norms: Float64Array,
  normsIndex: number,
  squares: Float64Array,
  squaresIndex: number,
  beta: Float32Array,
  gamma: Float64Array,
  gammaIndex: number,
  channels: number,
  i0: number,
): void {
  const last = channels - 1;
  const i1 = Math.min(i0 + 1, last), i2 = Math.min(i0 + 2, last), i3 = Math.min(i0 + 3, last);
  let n00 = beta[i0], n01 = n00, n02 = n00;
  let n10 = beta[i1], n11 = n10, n12 = n10;
  let n20 = beta[i2], n21 = n20, n22 = n20;
  let n30 = beta[i3], n31 = n30, n32 = n30;
  const width = SQUARES_WIDTH; // a local, so the hot loop does not re-read the module binding
  for (let j = 0, si = squaresIndex, gi = gammaIndex; j < channels; j++, si += width, gi += 4) {
    const s0 = squares[si], s1 = squares[si + 1], s2 = squares[si + 2];
    let g = gamma[gi];
    n00 += g * s0; n01 += g * s1; n02 += g * s2;
    g = gamma[gi + 1];
    n10 += g * s0; n11 += g * s1; n12 += g * s2;
    g = gamma[gi + 2];
    n20 += g * s0; n21 += g * s1; n22 += g * s2;
    g = gamma[gi + 3];
    n30 += g * s0; n31 += g * s1; n32 += g * s2;
  }
  let o = normsIndex;
  norms[o] = n00; norms[o + 1] = n01; norms[o + 2] = n02;
  o += width;
  norms[o] = n10; norms[o + 1] = n11; norms[o + 2] = n12;
  o += width;
  norms[o] = n20; norms[o + 1] = n21; norms[o + 2] = n22;
  o += width;
  norms[o] = n30; norms[o + 1] = n31; norms[o + 2] = n32;
}
