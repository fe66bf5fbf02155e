/**
 * A small pool of worker threads (src/parallel/worker.ts) for the codec's tiles and streams. Workers start on first
 * use, one per queued task up to `size`, and hold the process open only while they have work: an idle pool
 * never keeps Node alive, and `close()` ends them (a later task starts fresh ones).
 *
 * Tasks carry shared memory, never copies: the weight file is put in a SharedArrayBuffer once, every request
 * names it (a reference, not a copy) and a worker parses it when it differs from its last one (zero-copy
 * views, so once per worker for one model); images, features, symbols and output pixels are shared arrays the tasks
 * write in place. An AaraError thrown in a worker is thrown again here with the same code and message.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { checkBudget, type Budget } from '../core/budget.js';
import { AaraError, fail } from '../core/errors.js';
import { workerThreads } from '../io/lazy-modules.js';
import { weightFile } from '../io/weight-files.js';
import type { Reply, Request, Task, TaskError, TaskResult, WeightsRef } from './worker.js';

/** Beside this module: dist/src/parallel/worker.js, or in the bundle (the package's entry) dist/bundle/worker.js. */
const WORKER_SCRIPT = new URL('./worker.js', import.meta.url);

/**
 * The flags workers start with: Node's own (loaders, profilers…) less those a worker refuses. --input-type applies
 * only to code given as a string (`node --input-type=module -e …`) and makes Node refuse a worker's script file;
 * V8 and per-process options (`node --max-old-space-size=4096`, --stack-size…) make `new Worker` throw when they
 * are named, so a worker starts without them (V8's flags are the process's: they still hold). Node names the ones
 * it refuses; those are dropped once, for every later worker too.
 */
let workerFlags: string[] | undefined;

function startWorker(): Worker {
  let flags = workerFlags ?? process.execArgv.filter((flag, i, all) => !flag.startsWith('--input-type') && all[i - 1] !== '--input-type');
  for (;;) {
    try {
      const worker = new (workerThreads().Worker)(WORKER_SCRIPT, { execArgv: flags });
      workerFlags = flags;
      return worker;
    } catch (error) {
      const refused = (error as NodeJS.ErrnoException).code === 'ERR_WORKER_INVALID_EXEC_ARGV'
        ? (error as Error).message.replace(/^[^:]*:\s*/, '').split(', ') : [];
      const kept: string[] = flags.filter((flag) => !refused.includes(flag));
      if (kept.length === flags.length) throw error;
      flags = kept;
    }
  }
}

interface Job {
  task: Task;
  model: WeightsRef;
  budget?: Budget;
  resolve: (result: Uint8Array | undefined) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  job?: Job;
}

/** The worker's error, thrown again on this side: an AaraError keeps its code (and so the CLI's exit status). */
function rethrown(e: TaskError): Error {
  const error = e.code ? new AaraError(e.code) : new Error();
  error.name = e.name;
  error.message = e.message;
  if (e.stack) error.stack = e.stack;
  return error;
}

export class WorkerPool {
  readonly size: number;
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  private readonly queue: Job[] = [];

  constructor(size = availableParallelism()) {
    if (!Number.isInteger(size) || size < 1) fail('INTERNAL', `worker pool of ${size} threads`);
    this.size = size;
  }

  /**
   * Runs `task` on a worker with the model of `weightBytes` (a weight file, read once: src/io/weight-files.ts).
   * With a budget, the task is not started once it is spent (checkBudget's error instead).
   */
  run<T extends Task>(task: T, weightBytes: Uint8Array, budget?: Budget): Promise<TaskResult<T>> {
    return new Promise<TaskResult<T>>((resolve, reject) => {
      const { key, bytes } = weightFile(weightBytes);
      const job: Job = { task, model: { key, bytes }, budget, resolve: resolve as Job['resolve'], reject };
      this.queue.push(job);
      this.dispatch();
    });
  }

  /**
   * Runs every task; the results in the tasks' order; `onDone` after each task that finishes (progress). With a
   * budget, tasks still queued when it is spent are not started (those running finish): at once when its signal
   * aborts, else when a worker would take them.
   */
  runAll<T extends Task>(tasks: T[], weightBytes: Uint8Array, budget?: Budget, onDone?: () => void): Promise<TaskResult<T>[]> {
    const all = Promise.all(tasks.map((task) => {
      const result = this.run(task, weightBytes, budget);
      return onDone ? result.then((value) => (onDone(), value)) : result;
    }));
    const signal = budget?.signal;
    if (signal === undefined) return all;
    const onAbort = () => this.dropQueued(budget!);
    signal.addEventListener('abort', onAbort, { once: true });
    return all.finally(() => signal.removeEventListener('abort', onAbort));
  }

  /** Rejects the queued jobs of a spent budget. */
  private dropQueued(budget: Budget): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const job = this.queue[i];
      if (job.budget !== budget) continue;
      try {
        checkBudget(budget);
      } catch (error) {
        this.queue.splice(i, 1);
        job.reject(error as Error);
      }
    }
  }

  /** Terminates the workers; tasks still queued or running reject. The pool restarts on its next task. */
  async close(): Promise<void> {
    const closed = new AaraError('INTERNAL', 'the worker pool was closed');
    for (const job of this.queue.splice(0)) job.reject(closed);
    const slots = [...this.slots];
    this.slots.clear();
    this.idle.length = 0;
    for (const slot of slots) {
      slot.job?.reject(closed);
      slot.job = undefined;
    }
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.idle.pop() ?? (this.slots.size < this.size ? this.spawn() : undefined);
      if (!slot) return;
      const job = this.queue.shift()!;
      try {
        checkBudget(job.budget);
      } catch (error) {
        this.idle.push(slot); // the slot stays free for the next job
        job.reject(error as Error);
        continue;
      }
      this.start(slot, job);
    }
  }

  private spawn(): Slot {
    const slot: Slot = { worker: startWorker() };
    slot.worker.unref();
    slot.worker.on('message', (reply: Reply) => this.finish(slot, reply));
    slot.worker.on('error', (e) => this.retire(slot, e));
    slot.worker.on('exit', (code) => this.retire(slot, new AaraError('INTERNAL', `a worker thread exited (code ${code})`)));
    this.slots.add(slot);
    return slot;
  }

  private start(slot: Slot, job: Job): void {
    const request: Request = { weights: job.model, task: job.task };
    slot.job = job;
    slot.worker.ref();
    slot.worker.postMessage(request);
  }

  private finish(slot: Slot, reply: Reply): void {
    if (!this.slots.has(slot)) return; // a reply racing close(): its job has been rejected already
    const job = slot.job;
    slot.job = undefined;
    slot.worker.unref();
    this.idle.push(slot);
    if (reply.error) job?.reject(rethrown(reply.error));
    else job?.resolve(reply.result);
    this.dispatch();
  }

  /** A worker died (an uncaught error, or it exited): its task fails, and a fresh worker takes the queue. */
  private retire(slot: Slot, error: Error): void {
    slot.job?.reject(error);
    slot.job = undefined;
    this.slots.delete(slot);
    const at = this.idle.indexOf(slot);
    if (at >= 0) this.idle.splice(at, 1);
    this.dispatch();
  }
}
