/**
 * Why an attempt ended without a report from its worker, as the master saw it. The master
 * decides on the kind (a SIGKILL is counted apart from the rest); the text is for people.
 */
export type LossCause =
  /** The worker process ended on its own. */
  | { readonly kind: 'exit'; readonly workerId: string; readonly code: number | null }
  /** The worker process was killed by a signal. */
  | { readonly kind: 'signal'; readonly workerId: string; readonly signal: string }
  /** The worker stopped heartbeating: stuck, or cut off. */
  | { readonly kind: 'lease'; readonly workerId: string; readonly silentMs: number }
  /** The attempt ran past the task time limit. */
  | { readonly kind: 'timeout'; readonly workerId: string; readonly limitMs: number };

/** The cause of a worker's end, from what its launcher reported. */
export function exitCause(workerId: string, code: number | null, signal: string | null): LossCause {
  return signal !== null ? { kind: 'signal', workerId, signal } : { kind: 'exit', workerId, code };
}

/**
 * A SIGKILL comes from outside (an operator, the OOM killer, a node going away, or this master
 * replacing a silent worker), not from the task itself.
 */
export function killedFromOutside(cause: LossCause): boolean {
  return cause.kind === 'signal' && cause.signal === 'SIGKILL';
}

export function describeLoss(cause: LossCause): string {
  switch (cause.kind) {
    case 'exit':
      return `worker ${cause.workerId} exited (code ${cause.code})`;
    case 'signal':
      return `worker ${cause.workerId} exited (${cause.signal})`;
    case 'lease':
      return `no heartbeat from ${cause.workerId} for ${cause.silentMs} ms`;
    case 'timeout':
      return `ran longer than the task timeout (${cause.limitMs} ms) on ${cause.workerId}`;
  }
}
