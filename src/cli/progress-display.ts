import cliProgress from 'cli-progress';
import type { Master, Phase } from '../master/master.ts';
import { formatRate } from '../protocol/units.ts';

/**
 * The progress bar of `torpedo run`: phase, tasks done/total, the speed of map input (MiB/s). On a terminal it
 * redraws in place; otherwise it prints one line per phase change.
 */
export class ProgressDisplay {
  readonly #out: NodeJS.WriteStream;
  #bar: cliProgress.SingleBar | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastPhase: Phase | undefined;

  constructor(out: NodeJS.WriteStream) {
    this.#out = out;
  }

  watch(master: Master): void {
    const started = performance.now();
    const tty = this.#out.isTTY === true;
    if (tty) {
      this.#bar = new cliProgress.SingleBar(
        {
          stream: this.#out,
          format: '{phase} |{bar}| {done}/{tasks} tasks | {rate} | {elapsed}s',
          barsize: 30,
          hideCursor: true,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.#bar.start(1000, 0, { phase: 'start ', done: 0, tasks: 0, rate: formatRate(0), elapsed: '0.0' });
    }
    const tick = (): void => {
      const p = master.progress();
      const secs = (performance.now() - started) / 1000;
      const rate = formatRate(secs > 0 ? p.mapBytes / secs : 0);
      if (this.#bar) {
        // The map phase fills by bytes read (smooth); the others by tasks done.
        const fraction = p.phase === 'map' && p.inputBytes > 0 ? p.mapBytes / p.inputBytes : p.total > 0 ? p.done / p.total : 1;
        this.#bar.update(Math.round(fraction * 1000), { phase: p.phase.padEnd(6), done: p.done, tasks: p.total, rate, elapsed: secs.toFixed(1) });
      } else if (p.phase !== this.#lastPhase) {
        this.#out.write(`torpedo: ${p.phase} (${p.total} tasks) at ${secs.toFixed(1)}s\n`);
      }
      this.#lastPhase = p.phase;
    };
    this.#timer = setInterval(tick, 200);
    this.#timer.unref();
    tick();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#bar?.stop();
    this.#bar = undefined;
  }
}
