/**
 * A caller's budget for one encode or decode: an AbortSignal and/or a deadline (a `Date.now()` time in ms).
 * The codec checks it before it starts, between tiles (sync API) and before it hands a task to a worker (pool
 * API); a tile already running finishes. A spent budget is the AaraError ABORTED, or DEADLINE_EXCEEDED for a
 * passed deadline or a signal that timed out (AbortSignal.timeout).
 */
import { fail } from './errors.js';

export interface Budget {
  /** stops the work once aborted */
  signal?: AbortSignal;
  /** stops the work once Date.now() reaches it (ms since the epoch); works in the sync API, unlike a timer */
  deadline?: number;
}

/** Throws ABORTED / DEADLINE_EXCEEDED once the budget is spent. Reads `signal.aborted` once per call. */
export function checkBudget(budget: Budget | undefined): void {
  if (budget === undefined) return;
  const { signal, deadline } = budget;
  if (signal !== undefined && signal.aborted) {
    const reason: unknown = signal.reason;
    const timedOut = reason instanceof Error && reason.name === 'TimeoutError';
    fail(timedOut ? 'DEADLINE_EXCEEDED' : 'ABORTED', reason instanceof Error ? reason.message : reason === undefined ? undefined : String(reason));
  }
  if (deadline !== undefined && Date.now() >= deadline) fail('DEADLINE_EXCEEDED', `deadline ${new Date(deadline).toISOString()}`);
}

/** The budget fields of a caller's options, validated (BAD_ARGUMENT): an AbortSignal, a finite number. */
export function budgetOf(opts: { signal?: unknown; deadline?: unknown }): Budget {
  const { signal, deadline } = opts;
  if (signal !== undefined && !(signal instanceof AbortSignal)) fail('BAD_ARGUMENT', 'signal must be an AbortSignal');
  if (deadline !== undefined && !(typeof deadline === 'number' && Number.isFinite(deadline))) {
    fail('BAD_ARGUMENT', `deadline must be a finite number (ms since the epoch, as Date.now()), got ${String(deadline)}`);
  }
  return { ...(signal !== undefined && { signal }), ...(deadline !== undefined && { deadline }) } as Budget;
}
