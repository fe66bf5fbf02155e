/**
 * The kernels' argument checks, once per call: a buffer whose length does not match the dimensions is the
 * caller's bug (INTERNAL), caught before a loop reads past it (typed arrays give undefined, then NaN, silently).
 */
import { fail } from '../src/core/errors.js';

/** `array` has exactly `expected` elements. */
export function checkLength(kernel: string, name: string, array: ArrayLike<number>, expected: number): void {
  if (array.length !== expected) fail('INTERNAL', `${kernel}: ${name} has ${array.length} elements, its dimensions need ${expected}`);
}

/** `array` has at least `needed` elements (a scratch buffer, or the first n of an array). */
export function checkAtLeast(kernel: string, name: string, array: ArrayLike<number>, needed: number): void {
  if (array.length < needed) fail('INTERNAL', `${kernel}: ${name} has ${array.length} elements, it needs ${needed}`);
}
