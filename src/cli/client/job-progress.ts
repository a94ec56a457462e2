import cliProgress from 'cli-progress';
import type { Phases, ProgressEvent } from './api-types.ts';

/**
 * The bar of `submit --wait` and `status --watch`, fed by the job's events: phase, tasks done/total
 * of that phase, seconds since following began. On a terminal it redraws in place; otherwise it
 * prints one line per phase change, like `torpedo run`'s display.
 */
export class JobProgressBar {
  readonly #out: NodeJS.WriteStream;
  readonly #id: string;
  readonly #started = performance.now();
  #bar: cliProgress.SingleBar | undefined;
  #lastLabel: string | undefined;

  constructor(out: NodeJS.WriteStream, id: string) {
    this.#out = out;
    this.#id = id;
    if (out.isTTY !== true) return;
    this.#bar = new cliProgress.SingleBar(
      {
        stream: out,
        format: '{label} |{bar}| {tasksDone}/{tasks} tasks | {elapsed}s',
        barsize: 30,
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    this.#bar.start(1000, 0, { label: 'queued', tasksDone: 0, tasks: 0, elapsed: '0.0' });
  }

  update(p: ProgressEvent): void {
    // Before it runs, and once it has ended, the status says more than the phase.
    const label = p.status === 'running' ? p.phase : p.status;
    const { done, total } = current(p.phase, p.phases);
    const elapsed = ((performance.now() - this.#started) / 1000).toFixed(1);
    if (this.#bar !== undefined) {
      // The map phase fills by bytes read (smooth); the others by tasks done.
      const fraction = p.phase === 'map' && p.inputBytes > 0 ? p.mapBytes / p.inputBytes : total > 0 ? done / total : 0;
      this.#bar.update(Math.round(Math.min(1, fraction) * 1000), { label: label.padEnd(9), tasksDone: done, tasks: total, elapsed });
    } else if (label !== this.#lastLabel) {
      const tasks = ['setup', 'map', 'reduce'].includes(label) ? ` (${total} tasks)` : '';
      this.#out.write(`torpedo: job ${this.#id}: ${label}${tasks} at ${elapsed}s\n`);
    }
    this.#lastLabel = label;
  }

  stop(): void {
    this.#bar?.stop();
    this.#bar = undefined;
  }
}

/** The done/total of the phase being run; commit and the end count as the reduce phase. */
function current(phase: string, phases: Phases): { done: number; total: number } {
  if (phase === 'setup' || phase === 'map') return phases[phase];
  return phases.reduce;
}
