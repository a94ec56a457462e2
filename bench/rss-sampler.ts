import { readFileSync } from 'node:fs';

const SAMPLE_INTERVAL_MS = 100;
/** Below this lifetime the samples mostly see the process before exec, so they mean nothing. */
const MIN_LIFETIME_MS = 500;

/**
 * Tracks the peak resident set size of the largest single process in a process tree, by
 * polling /proc: VmHWM is each process's own high-water mark, so a sample taken any time
 * before it exits sees its peak so far. Only growth in the last ~100 ms of a process's life can
 * be missed. It measures one process, not the sum, to be comparable with torpedo's per-worker
 * maxRssBytes; Node's child_process offers no rusage for children, hence /proc.
 */
export class RssSampler {
  readonly #rootPid: number;
  #peakBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;

  constructor(rootPid: number) {
    this.#rootPid = rootPid;
  }

  start(): void {
    this.#startedAt = performance.now();
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), SAMPLE_INTERVAL_MS);
  }

  /** Stops sampling; returns the peak in bytes, or undefined for a process too short-lived to sample or without /proc. */
  stop(): number | undefined {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const lived = performance.now() - this.#startedAt;
    return this.#peakBytes > 0 && lived >= MIN_LIFETIME_MS ? this.#peakBytes : undefined;
  }

  #sample(): void {
    for (const pid of descendantsAndSelf(this.#rootPid)) {
      const hwm = readVmHwmBytes(pid);
      if (hwm > this.#peakBytes) this.#peakBytes = hwm;
    }
  }
}

function descendantsAndSelf(root: number): number[] {
  const all: number[] = [];
  const queue = [root];
  for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
    all.push(pid);
    queue.push(...childrenOf(pid));
  }
  return all;
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1')
      .split(' ')
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return []; // exited between two reads, or no /proc: both mean "nothing to add"
  }
}

function readVmHwmBytes(pid: number): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
