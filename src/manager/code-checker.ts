import { chmodSync, chownSync } from 'node:fs';
import { dirname } from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import { TorpedoError } from '../errors.ts';
import { compileJobInChild, probeJob, type ProbedJob, type ToolSandbox } from '../job/probe-job.ts';
import { jobIdentity, type SlotAllocator } from '../sandbox/index.ts';
import type { JobLimits } from './config.ts';

/** A submitted module to check: written to `source`; its bundle goes to `bundle`. */
export interface CodeCheck {
  readonly jobId: string;
  readonly ownerId: number;
  /** The module as sent (job.ts or job.mjs), alone in its directory. */
  readonly source: string;
  /** Where the bundle goes, alone in its directory. */
  readonly bundle: string;
  readonly typecheck: boolean;
  /** How error locations name the module (job.ts). */
  readonly name: string;
  /** Error locations are relative to this directory. */
  readonly relativeTo: string;
}

/**
 * The submit-time checks of a job module: bundled with esbuild, type-checked with tsc when it is
 * TypeScript, and loaded once to see that it has `map` and `reduce` — so that a syntax error is a
 * 400 with file:line at submit, not a failed job. All of it is user code (esbuild and tsc follow
 * the module's imports; loading runs its top-level code): it runs confined, never in the
 * manager's process. Called once per submission of code; throws TORPEDO_ERR_JOB_SYNTAX, _SHAPE,
 * _USER_CODE with the module's own message, or TORPEDO_ERR_RATE_LIMITED when too many wait.
 */
export interface CodeChecker {
  check(c: CodeCheck): Promise<ProbedJob>;
}

/**
 * The checks on this machine, in sandboxes (src/sandbox/) that see torpedo, the module's
 * directory (read-only) and the bundle's (writable), run as a uid of the submission's own, with
 * a time limit and memory limits; at most `maxCompiles` at once, `maxQueuedCompiles` waiting.
 */
export class LocalCodeChecker implements CodeChecker {
  readonly #limits: JobLimits;
  readonly #slots: SlotAllocator;
  readonly #identity: 'own' | 'caller';
  readonly #hidden: readonly string[];
  readonly #limit: LimitFunction;

  /** `identity`: 'own' (a slot's uid; needs the full sandbox), or 'caller' (weaker: see docs/security.md). */
  constructor(o: { limits: JobLimits; slots: SlotAllocator; identity: 'own' | 'caller'; hidden: readonly string[] }) {
    this.#limits = o.limits;
    this.#slots = o.slots;
    this.#identity = o.identity;
    this.#hidden = o.hidden;
    this.#limit = pLimit(o.limits.maxCompiles);
  }

  async check(c: CodeCheck): Promise<ProbedJob> {
    // p-limit counts a call about to start as pending: compare the sum with both caps together.
    const waiting = this.#limit.activeCount + this.#limit.pendingCount;
    if (waiting >= this.#limits.maxCompiles + this.#limits.maxQueuedCompiles) {
      throw new TorpedoError('TORPEDO_ERR_RATE_LIMITED', `${waiting} submissions are being compiled or waiting to be; try again in a few seconds`, { retryAfterSeconds: 5 });
    }
    return this.#limit(() => this.#run(c));
  }

  async #run(c: CodeCheck): Promise<ProbedJob> {
    const slot = this.#identity === 'own' ? this.#slots.allocate() : undefined;
    try {
      const identity = slot !== undefined ? jobIdentity(this.#limits.sandboxIds, slot, undefined) : 'caller';
      // The sandbox's uid reads the module (esbuild lists its directory) and writes the bundle;
      // the manager's home stays 0700, and the sandbox sees nothing else of it.
      if (identity !== 'caller') {
        chmodSync(dirname(c.source), 0o755);
        chmodSync(c.source, 0o644);
        chownSync(dirname(c.bundle), identity.uid, identity.gid);
      }
      const who: ToolSandbox = { identity, hidden: this.#hidden };
      await compileJobInChild(c.source, c.bundle, { typecheck: c.typecheck, name: c.name, relativeTo: c.relativeTo, sandbox: who, timeoutMs: this.#limits.compileTimeoutMs });
      return await probeJob(c.bundle, 'job', process.env['TORPEDO_NO_BUNDLE'] !== '1', who);
    } finally {
      if (slot !== undefined) this.#slots.release(slot);
    }
  }
}
