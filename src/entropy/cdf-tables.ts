/**
 * What a CDF table must be for the rANS coder to trust it. The weight reader checks every row of every table
 * once (`validateTables`); the symbol coder checks, per call, the O(1) facts of the rows it is about to use
 * (`checkRow`), so that a table built elsewhere (a test, a bench) cannot make it read out of bounds.
 */
import { fail } from '../core/errors.js';
import type { CdfTables } from '../core/types.js';
import { PROB_SCALE } from './rans.js';

/** |offset| bound: it keeps v + offset (and so an escaped value's u) near the int32 range. */
export const MAX_OFFSET = 1 << 24;

/** The tables hold the rows their channel count says. */
export function checkTableSizes(t: CdfTables, name: string): void {
  if (t.cdf.length < t.channels * t.stride || t.length.length < t.channels || t.offset.length < t.channels) {
    fail('BAD_WEIGHTS', `${name}: CDF tables smaller than their channel count`);
  }
}

/** Row r: 1 ≤ length, length + 2 ≤ stride, |offset| ≤ MAX_OFFSET, cdf[0] = 0 and cdf[length + 1] = PROB_SCALE. */
export function checkRow(t: CdfTables, r: number, name: string): void {
  const n = t.length[r];
  const row = r * t.stride;
  if (!(n >= 1 && n + 2 <= t.stride)) fail('BAD_WEIGHTS', `${name} channel ${r}: table length ${n}`);
  if (Math.abs(t.offset[r]) > MAX_OFFSET) fail('BAD_WEIGHTS', `${name} channel ${r}: offset ${t.offset[r]}`);
  if (t.cdf[row] !== 0 || t.cdf[row + n + 1] !== PROB_SCALE) fail('BAD_WEIGHTS', `${name} channel ${r}: CDF ends`);
}

/** Every row as checkRow, and strictly increasing: 0 = cdf[0] < cdf[1] < … < cdf[length + 1] = PROB_SCALE. */
export function validateTables(t: CdfTables, name: string): void {
  checkTableSizes(t, name);
  for (let r = 0; r < t.channels; r++) {
    checkRow(t, r, name);
    // a row is a function: compiled once, where this loop was compiled on-stack and again, at load time, on the
    // compiler thread a cold process's first decode then waited for
    if (!increasing(t.cdf, r * t.stride, t.length[r])) fail('BAD_WEIGHTS', `${name} channel ${r}: CDF not increasing`);
  }
}

/** cdf[row] < cdf[row + 1] < … < cdf[row + length + 1]. */
function increasing(cdf: Int32Array, row: number, length: number): boolean {
  for (let i = 0; i <= length; i++) if (cdf[row + i + 1] <= cdf[row + i]) return false;
  return true;
}
