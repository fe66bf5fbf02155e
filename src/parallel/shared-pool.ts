/**
 * The process's one worker pool and its memory gate: the library's async calls (and so `aara eval`) and the CLI's
 * commands all run on it. It starts with the first call that needs it (that call's thread count and memory) and
 * stops with closeSharedPool(); the next call starts a new one.
 */
import { totalmem } from 'node:os';
import { MemoryGate } from './memory-gate.js';
import { WorkerPool } from './pool.js';

export interface SharedPool {
  pool: WorkerPool;
  /** bytes of whole-image memory the calls on the pool may hold at once */
  gate: MemoryGate;
}

let shared: SharedPool | undefined;

/** The pool, started if it is not: `threads` default the cores, `memory` a quarter of the machine's. */
export function sharedPool(opts: { threads?: number; memory?: number }): SharedPool {
  shared ??= { pool: new WorkerPool(opts.threads), gate: new MemoryGate(opts.memory ?? Math.floor(totalmem() / 4)) };
  return shared;
}

/** Stops the pool's workers (tasks still queued or running reject). */
export async function closeSharedPool(): Promise<void> {
  const stopping = shared;
  shared = undefined;
  await stopping?.pool.close();
}
