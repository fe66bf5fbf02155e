/**
 * Bjøntegaard delta rate (G. Bjøntegaard, "Calculation of average PSNR differences between RD-curves",
 * VCEG-M33, 2001): fit log(rate) as a cubic polynomial of quality for each curve (least squares), integrate
 * both fits over the quality range the two curves share, and turn the mean log-rate difference into a percent.
 * This is the classic polynomial form (as in Google's compare-codecs and the widely copied Python port), not
 * the piecewise-cubic variant of the JCT-VC spreadsheet.
 */
import { fail } from '../core/errors.js';

export interface RdPoint {
  /** bits per pixel (any positive rate unit works: only ratios matter) */
  rate: number;
  /** PSNR in dB, MS-SSIM in dB, … : any quality that grows with the rate */
  quality: number;
}

const MAX_DEGREE = 3;

/**
 * Percent change of the bit rate `test` needs against `anchor` for equal quality, averaged over the shared
 * quality range: negative means `test` saves bits. Curves with fewer than four points are fitted with a
 * polynomial of degree points−1 (two points: a line). Points of non-finite quality (a lossless PSNR) are left
 * out. Undefined when a curve has fewer than two distinct qualities or the quality ranges do not overlap.
 */
export function bdRate(anchor: readonly RdPoint[], test: readonly RdPoint[]): number | undefined {
  const a = usablePoints(anchor);
  const t = usablePoints(test);
  const low = Math.max(minQuality(a), minQuality(t));
  const high = Math.min(maxQuality(a), maxQuality(t));
  // a shared range of positive width: each curve then has two distinct qualities at least (none: −∞ > +∞ fails)
  if (!(high > low)) return undefined;
  const meanLogRate = (points: RdPoint[]) => fitLogRate(points).integral(low, high) / (high - low);
  return (Math.exp(meanLogRate(t) - meanLogRate(a)) - 1) * 100;
}

/** MS-SSIM on the decibel scale usual in learned-compression papers: −10·log10(1 − MS-SSIM). */
export function msSsimDecibels(msSsim: number): number {
  return -10 * Math.log10(1 - msSsim);
}

function usablePoints(points: readonly RdPoint[]): RdPoint[] {
  for (const p of points) {
    if (!(p.rate > 0) || Number.isNaN(p.quality)) fail('INTERNAL', `BD-rate needs rates > 0 and qualities, got ${p.rate} / ${p.quality}`);
  }
  return points.filter((p) => Number.isFinite(p.quality));
}

const distinctQualities = (points: RdPoint[]) => new Set(points.map((p) => p.quality)).size;
const minQuality = (points: RdPoint[]) => Math.min(...points.map((p) => p.quality));
const maxQuality = (points: RdPoint[]) => Math.max(...points.map((p) => p.quality));

/**
 * Least-squares polynomial log(rate) ≈ Σ c_k t^k in t = (quality − center) / scale: centring and scaling to
 * about [−1, 1] keeps the normal equations well conditioned (qualities near 40 dB would reach 40⁶ otherwise).
 */
function fitLogRate(points: RdPoint[]): { integral: (from: number, to: number) => number } {
  const qualities = points.map((p) => p.quality);
  const center = (Math.min(...qualities) + Math.max(...qualities)) / 2;
  const scale = (Math.max(...qualities) - Math.min(...qualities)) / 2;
  const degree = Math.min(MAX_DEGREE, distinctQualities(points) - 1);
  const size = degree + 1;
  const normal = Array.from({ length: size }, () => new Float64Array(size + 1)); // [AᵀA | Aᵀy]
  for (const p of points) {
    const t = (p.quality - center) / scale;
    const powers = Array.from({ length: size }, (_, k) => t ** k);
    for (let row = 0; row < size; row++) {
      for (let col = 0; col < size; col++) normal[row][col] += powers[row] * powers[col];
      normal[row][size] += powers[row] * Math.log(p.rate);
    }
  }
  const coefficients = solve(normal);
  // ∫ Σ c_k t^k dq = scale · Σ c_k t^(k+1) / (k+1), with t the image of q
  const antiderivative = (q: number) => {
    const t = (q - center) / scale;
    return scale * coefficients.reduce((sum, c, k) => sum + (c * t ** (k + 1)) / (k + 1), 0);
  };
  return { integral: (from, to) => antiderivative(to) - antiderivative(from) };
}

/**
 * Gaussian elimination on an n × (n+1) augmented matrix [AᵀA | Aᵀy]. AᵀA is symmetric positive definite (the
 * points have more distinct qualities than the degree), so elimination needs no pivoting: every pivot is > 0.
 */
function solve(augmented: Float64Array[]): number[] {
  const n = augmented.length;
  for (let col = 0; col < n; col++) {
    for (let row = col + 1; row < n; row++) {
      const factor = augmented[row][col] / augmented[col][col];
      for (let k = col; k <= n; k++) augmented[row][k] -= factor * augmented[col][k];
    }
  }
  const x = new Array<number>(n);
  for (let row = n - 1; row >= 0; row--) {
    let sum = augmented[row][n];
    for (let k = row + 1; k < n; k++) sum -= augmented[row][k] * x[k];
    x[row] = sum / augmented[row][row];
  }
  return x;
}
