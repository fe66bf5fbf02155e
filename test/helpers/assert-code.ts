/** One assertion for "this call fails with AaraError `code`" (and, optionally, a message that matches). */
import * as assert from 'uvu/assert';
import { AaraError, type ErrorCode } from '../../src/core/errors.js';

export function failsWith(code: ErrorCode, run: () => unknown, message?: RegExp): void {
  try {
    run();
  } catch (err) {
    assert.instance(err, AaraError);
    assert.is((err as AaraError).code, code, (err as Error).message);
    if (message) assert.match((err as Error).message, message);
    return;
  }
  assert.unreachable(`expected ${code}`);
}
