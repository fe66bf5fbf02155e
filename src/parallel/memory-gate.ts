/**
 * A memory-aware cap on concurrent calls (issue 14): each async encode or decode on the shared pool holds an
 * estimate of its whole-image memory (README, Limits: ≈ 12 B/pixel to decode, ≈ 16 to encode, beyond the
 * tiles' working memory, which the pool's thread count bounds) from its start to its end; a call waits, in
 * arrival order, until its estimate fits beside those running. A call larger than the whole budget runs alone.
 * The estimate is what the codec's own arrays take, not the input's bytes or the caller's copies.
 */
import { checkBudget, type Budget } from '../core/budget.js';
import { fail } from '../core/errors.js';

/** Whole-image bytes a call holds per pixel (pixels, latents, output), from the 6000×4000 measurements. */
export const DECODE_BYTES_PER_PIXEL = 12;
export const ENCODE_BYTES_PER_PIXEL = 16;

interface Waiter {
  bytes: number;
  admit: () => void;
}

export class MemoryGate {
  private used = 0;
  private running = 0;
  private readonly queue: Waiter[] = [];

  constructor(readonly capacity: number) {
    if (!(Number.isSafeInteger(capacity) && capacity >= 1)) fail('BAD_ARGUMENT', `memory must be an integer ≥ 1 (bytes), got ${String(capacity)}`);
  }

  /** Bytes held by the calls running now. */
  get held(): number {
    return this.used;
  }

  /**
   * Waits until `bytes` fit (or nothing runs), then holds them until the returned release is called. A budget's
   * signal that aborts while the call waits rejects it (ABORTED) and takes it out of the queue.
   */
  async acquire(bytes: number, budget: Budget = {}): Promise<() => void> {
    checkBudget(budget);
    const waiter: Waiter = { bytes, admit: () => {} };
    const admitted = new Promise<void>((resolve) => (waiter.admit = resolve));
    this.queue.push(waiter);
    this.pump();
    const signal = budget.signal;
    if (this.queue.includes(waiter) && signal !== undefined) {
      const aborted = new Promise<never>((_, reject) => {
        const onAbort = () => {
          const at = this.queue.indexOf(waiter);
          if (at < 0) return; // admitted meanwhile: the call itself will notice the signal
          this.queue.splice(at, 1);
          this.pump();
          try {
            checkBudget(budget);
          } catch (error) {
            reject(error);
          }
        };
        signal.addEventListener('abort', onAbort, { once: true });
        admitted.then(() => signal.removeEventListener('abort', onAbort));
      });
      await Promise.race([admitted, aborted]);
    } else {
      await admitted;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
      this.running--;
      this.pump();
    };
  }

  /** Admits waiters in order while the first fits. */
  private pump(): void {
    while (this.queue.length > 0) {
      const next = this.queue[0];
      if (this.running > 0 && this.used + next.bytes > this.capacity) return;
      this.queue.shift();
      this.used += next.bytes;
      this.running++;
      next.admit();
    }
  }
}
