import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TorpedoError } from '../errors.ts';
import type { SandboxIdentity } from './sandbox-policy.ts';

/**
 * The uids and gids the sandboxes of a manager run as (TORPEDO_SANDBOX_IDS, `FIRST-LAST`): job
 * slots first — one uid (and a gid of the same number) for each job running or being checked at
 * once — then one dataset group per user (FIRST + slots + user id). None of them is the
 * manager's, and none is shared between users' jobs.
 */
export interface SandboxIds {
  readonly first: number;
  readonly last: number;
  /** How many jobs can have a uid at once. */
  readonly slots: number;
}

export const DEFAULT_SANDBOX_IDS = '2000000000-2099999999';
const SLOTS = 65_536;

let configured: SandboxIds | undefined;

/** This process's range: TORPEDO_SANDBOX_IDS, else the default. */
export function sandboxIds(): SandboxIds {
  configured ??= parseSandboxIds(process.env['TORPEDO_SANDBOX_IDS'] ?? DEFAULT_SANDBOX_IDS);
  return configured;
}

/**
 * A slot for a job run by hand (`torpedo run`, `torpedo master`), which has no manager to hand
 * out slots: a random one in the upper half, which managers reach only with 32 768 jobs at once.
 * Two such jobs may share a uid, rarely; both are the same caller's.
 */
export function randomSlot(ids: SandboxIds): number {
  return ids.slots / 2 + randomInt(ids.slots / 2);
}

export function parseSandboxIds(text: string): SandboxIds {
  const m = /^(\d+)-(\d+)$/.exec(text.trim());
  const first = Number(m?.[1]);
  const last = Number(m?.[2]);
  if (m === null || !(first >= 1000 && last < 2 ** 32 - 1 && last - first + 1 > SLOTS + 1)) {
    throw new TorpedoError(
      'TORPEDO_ERR_CONFIG',
      `TORPEDO_SANDBOX_IDS must be FIRST-LAST, uids of no one on this host, at least ${SLOTS + 2} of them, between 1000 and ${2 ** 32 - 2}; not ${JSON.stringify(text)}`,
    );
  }
  return { first, last, slots: SLOTS };
}

/** The identity of a job's sandboxes: the slot's uid and gid, and its owner's dataset group. */
export function jobIdentity(ids: SandboxIds, slot: number, ownerId: number | undefined): SandboxIdentity {
  if (!Number.isInteger(slot) || slot < 0 || slot >= ids.slots) throw new Error(`sandbox slot ${slot} is out of range`);
  const uid = ids.first + slot;
  return { uid, gid: uid, groups: ownerId === undefined ? [] : [ownerGroup(ids, ownerId)] };
}

/** The group that may read a user's datasets: only that user's jobs have it. */
export function ownerGroup(ids: SandboxIds, ownerId: number): number {
  const gid = ids.first + ids.slots + ownerId;
  if (gid > ids.last) throw new TorpedoError('TORPEDO_ERR_CONFIG', `user id ${ownerId} has no dataset group within TORPEDO_SANDBOX_IDS (${ids.first}-${ids.last})`);
  return gid;
}

/**
 * Hands out job slots: the lowest free one. One per job while it runs, and one per submission
 * while its code is checked; released when that ends. In one process: one manager per storage
 * directory (docs/manager.md).
 */
export class SlotAllocator {
  readonly #ids: SandboxIds;
  readonly #used = new Set<number>();

  constructor(ids: SandboxIds) {
    this.#ids = ids;
  }

  allocate(): number {
    for (let slot = 0; slot < this.#ids.slots; slot++) {
      if (!this.#used.has(slot)) {
        this.#used.add(slot);
        return slot;
      }
    }
    throw new TorpedoError('TORPEDO_ERR_RATE_LIMITED', `all ${this.#ids.slots} sandbox slots are in use; try again later`, { retryAfterSeconds: 10 });
  }

  release(slot: number): void {
    this.#used.delete(slot);
  }
}

/**
 * Whether this process's user namespace maps every id of the range (a container may map only
 * some): setting an unmapped uid fails.
 */
export function idsMapped(ids: SandboxIds): boolean {
  const covered = (file: string): boolean => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return true; // no user namespaces: every id exists
    }
    return text
      .trim()
      .split('\n')
      .some((line) => {
        const [inside, , count] = line.trim().split(/\s+/).map(Number) as [number, number, number];
        return inside <= ids.first && ids.last < inside + count;
      });
  };
  return covered('/proc/self/uid_map') && covered('/proc/self/gid_map');
}
