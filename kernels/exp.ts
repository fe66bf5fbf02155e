/**
 * e^x from + − × ÷ and exact bit scaling only, in a fixed order: the same bits in every JavaScript engine.
 * Math.exp is implementation-defined (engines may differ in the last bits), and the encoder's attention gates
 * use e^x: with this, the same image encodes to the same bytes everywhere (issue 19).
 *
 * READ ME FIRST
 * - Range reduction (Cody–Waite): x = k·ln 2 + r, k = round(x / ln 2), |r| ≤ ½ ln 2. ln 2 is split into LN2_HI,
 *   whose low 32 bits are zero so k·LN2_HI is exact for |k| < 2^20, and LN2_LO: r keeps ≈ 2^−80 absolute error.
 * - e^r by its Taylor series to degree 13 in Horner form: the first term left out, r^14/14!, is < 2^−74 for
 *   |r| ≤ 0.347, far below a double's ulp of e^r (≥ 2^−53·0.7).
 * - 2^k is written into the exponent bits of a double (exact). Below −708 the result is 0 (no subnormals), above
 *   709 it is Infinity: sigmoid, the only user, is then 0 or 1 to double precision anyway.
 * Accuracy: within a few ulp of the true e^x (tested against Math.exp); what matters is that it is the same
 * everywhere, and that PyTorch's sigmoid stays within parity tolerance (1e-16 relative, far below 1e-4).
 */
const LN2_HI = 0.6931471803691238; // 0x3FE62E42FEE00000: 20 significant bits above the last 32 zero bits
const LN2_LO = 1.9082149292705877e-10; // ln 2 − LN2_HI
const INV_LN2 = 1.4426950408889634;
const MAX_X = 709;
const MIN_X = -708;
/** 1/n! for n = 13 … 1, for Horner's rule from the highest degree. */
const INVERSE_FACTORIALS = [
  1 / 6227020800, 1 / 479001600, 1 / 39916800, 1 / 3628800, 1 / 362880, 1 / 40320, 1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1,
];

const scale = new Float64Array(1);
const scaleBits = new Uint32Array(scale.buffer);
/** Index of the high 32-bit word of a double on this host (little-endian hosts: 1). */
const HIGH = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 1 : 0;

/** The exact power of two 2^k, −1022 ≤ k ≤ 1023. */
function powerOfTwo(k: number): number {
  scaleBits[1 - HIGH] = 0;
  scaleBits[HIGH] = (k + 1023) << 20;
  return scale[0];
}

export function exp(x: number): number {
  if (x !== x) return NaN;
  if (x > MAX_X) return Infinity;
  if (x < MIN_X) return 0;
  const k = Math.round(x * INV_LN2);
  const r = x - k * LN2_HI - k * LN2_LO;
  let p = INVERSE_FACTORIALS[0];
  for (let i = 1; i < INVERSE_FACTORIALS.length; i++) p = p * r + INVERSE_FACTORIALS[i];
  return (p * r + 1) * powerOfTwo(k);
}
