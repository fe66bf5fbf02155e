/**
 * What a caller hands the public entries (src/index.ts for Node, src/browser/index.ts), checked before anything
 * runs: an options object whose every field is one the call takes — a misspelt or foreign option such as
 * `{ quality: 80 }` is BAD_ARGUMENT, never silently ignored — and bytes as a Uint8Array (Node's Buffer is one)
 * or an ArrayBuffer.
 */
import { fail } from './errors.js';

/** How an unexpected value reads in an error message. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'plain object'}`;
  return typeof value;
}

/** `opts` as given (nothing is an empty object), once it is an object holding only fields of `allowed`. */
export function knownOptions<T extends object>(opts: T | undefined, allowed: readonly string[], call: string): T {
  if (opts === undefined) return {} as T;
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) fail('BAD_ARGUMENT', `options must be an object, got ${describe(opts)}`);
  const unknown = Object.keys(opts).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    fail('BAD_ARGUMENT', `${call} takes no option ${unknown.map((key) => JSON.stringify(key)).join(', ')}; its options: ${allowed.join(', ')}`);
  }
  return opts;
}

/** A view of bytes given as a Uint8Array or an (Shared)ArrayBuffer; BAD_ARGUMENT for anything else. */
export function asBytes(input: unknown, what: string): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && input instanceof SharedArrayBuffer)) return new Uint8Array(input);
  return fail('BAD_ARGUMENT', `${what} must be a Uint8Array or an ArrayBuffer, got ${describe(input)}`);
}
