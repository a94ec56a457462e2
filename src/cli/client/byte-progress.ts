import cliProgress from 'cli-progress';
import { formatBytes } from './format.ts';

/**
 * The bar of `datasets upload` and `download`: bytes moved of the total, and the rate. Drawn only
 * when `out` is a terminal, so that redirected stderr gets no control characters.
 */
export class ByteProgress {
  readonly #bar: cliProgress.SingleBar | undefined;
  readonly #started = performance.now();
  #bytes = 0;

  constructor(out: NodeJS.WriteStream, label: string, total: number | undefined) {
    if (out.isTTY !== true) return;
    this.#bar = new cliProgress.SingleBar(
      {
        stream: out,
        format: `${label} |{bar}| {moved}${total !== undefined ? ` / ${formatBytes(total)}` : ''} | {rate}/s`,
        barsize: 30,
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    // Without a known total (a download with no Content-Length) the bar stays empty; the count moves.
    this.#bar.start(total ?? 0, 0, { moved: '0 B', rate: '0 B' });
  }

  /** Called with every chunk as it passes. */
  add(bytes: number): void {
    this.#bytes += bytes;
    if (this.#bar === undefined) return;
    const secs = Math.max(0.001, (performance.now() - this.#started) / 1000);
    this.#bar.update(this.#bytes, { moved: formatBytes(this.#bytes), rate: formatBytes(Math.round(this.#bytes / secs)) });
  }

  stop(): void {
    this.#bar?.stop();
  }
}
