/**
 * Worker entry of ToolRunner (src/eval/classic-codecs.ts): runs one command-line tool at a time and times it
 * here, so the time is the tool's own even while the main thread is busy (scoring another step).
 */
import { spawnSync } from 'node:child_process';
import { parentPort } from 'node:worker_threads';

export interface ToolRequest {
  program: string;
  args: string[];
  timeoutMs: number;
}

export interface ToolReply {
  seconds: number;
  status: number | null;
  signal: string | null;
  error?: string;
  /** the end of its stderr */
  stderr: string;
}

/** What is kept of a tool's stderr for an error message. */
const STDERR_KEPT = 4096;

const port = parentPort;
if (!port) throw new Error('src/eval/tool-worker.ts runs inside a worker thread (see ToolRunner in src/eval/classic-codecs.ts)');
port.on('message', ({ program, args, timeoutMs }: ToolRequest) => {
  const started = performance.now();
  const run = spawnSync(program, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: timeoutMs });
  const reply: ToolReply = {
    seconds: (performance.now() - started) / 1000,
    status: run.status,
    signal: run.signal,
    error: run.error?.message,
    stderr: (run.stderr ?? '').slice(-STDERR_KEPT),
  };
  port.postMessage(reply);
});
