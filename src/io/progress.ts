/**
 * The one progress bar (batches of the CLI, `aara eval`): a line on stderr, redrawn in place, on a terminal only:
 * [####....] done/total label (elapsed, time left). Only one bar can stand on the terminal, so whether one does is
 * this module's: any other line written to the terminal calls eraseProgress() first.
 */

/** Whether a bar stands, unfinished, on stderr's current line. */
let drawn = false;

export function eraseProgress(): void {
  if (!drawn) return;
  process.stderr.write('\r\x1b[K');
  drawn = false;
}

const clock = (seconds: number) => `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;

export class ProgressBar {
  private done = 0;
  private readonly started = performance.now();
  private readonly enabled: boolean;

  /** `show`: the caller wants a bar (not quiet…); it shows only when stderr is a terminal. */
  constructor(private total: number, show: boolean) {
    this.enabled = show && Boolean(process.stderr.isTTY);
  }

  /** One more step done, `label` naming it; the last one leaves the finished bar on its own line. */
  advance(label: string): void {
    this.done++;
    if (!this.enabled) return;
    const width = 30;
    const filled = Math.round((width * this.done) / this.total);
    const elapsed = (performance.now() - this.started) / 1000;
    const left = this.done < this.total ? `, ~${clock((elapsed * (this.total - this.done)) / this.done)} left` : '';
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total} ${label.slice(0, 40)} (${clock(elapsed)}${left})`;
    process.stderr.write(`\r${line.slice(0, (process.stderr.columns ?? 100) - 1)}\x1b[K`);
    drawn = this.done < this.total;
    if (!drawn) process.stderr.write('\n');
  }

  /** Steps that will not run (a dropped codec): they leave the total. */
  skip(steps: number): void {
    this.total -= steps;
  }

  /** Clears a bar the skipped steps left unfinished. */
  finish(): void {
    eraseProgress();
  }
}
