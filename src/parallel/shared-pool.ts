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

/**
 * Whether an async call runs on the calling thread, as its sync twin does: when a worker cannot make it faster.
 * A pool of one thread has nothing to share out and adds a worker's start-up and JIT warm-up; an image of at most
 * one of the sync path's tiles' pixels (decode 256 × 256, encode 512 × 512) gives a second worker little but halos
 * to recompute. Measured (bench/RESULTS.md, cold start): a fresh process's first 256×256 decode took ≈ 1.3× the sync
 * call's time through 2 workers. The calling thread's event loop then waits for the call, as with the sync call.
 */
export function runsOnCallingThread(pixels: number, tile: number, threads: number): boolean {
  return threads === 1 || pixels <= tile * tile;
}
