import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TorpedoError } from '../errors.ts';
import { ROOT } from '../paths.ts';

/** The WebAssembly API used here: TypeScript's ES libraries and @types/node do not declare it. */
// eslint-disable-next-line @typescript-eslint/no-namespace -- describes the existing global, emits nothing
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  interface Memory {
    readonly buffer: ArrayBuffer;
  }
  class RuntimeError extends Error {}
}

/** The exports of kernels/token-count.ts (see there for what each does). */
interface TokenKernel {
  readonly memory: WebAssembly.Memory;
  setup(): number;
  inputFor(n: number): number;
  scan(from: number, to: number, high: number): number;
  highRunEnd(): number;
  cacheRun(from: number, to: number, emitted: number, value: number): void;
  takeTokens(): number;
  keySlot(n: number): number;
  addKey(n: number, value: number): number;
  size(): number;
  slotsAddress(): number;
  capacity(): number;
  arenaAddress(): number;
  memoryBytes(): number;
  clear(): void;
}

/**
 * Handles a token holding a byte ≥ 0x80, `buf[runStart, runEnd)` of the caller's buffer; returns
 * false if what it did must not be replayed from the run cache.
 */
export type OnHighRun = (runStart: number, runEnd: number) => boolean | void;

let compiled: WebAssembly.Module | undefined;

/** Set in the length of a kernel slot that is a cached run (see kernels/token-count.ts). */
const RUN_FLAG = 0x80000000;

/**
 * Loads the token-counting kernel, compiling it first if its module is missing or older than its
 * source (bin/kernels.mjs). Must have been awaited once in a process before `new TokenTable`.
 */
export async function loadTokenKernel(): Promise<void> {
  if (compiled !== undefined) return;
  const kernels = (await import(pathToFileURL(join(ROOT, 'bin', 'kernels.mjs')).href)) as { ensureKernels(): Promise<void>; kernelDir: string };
  await kernels.ensureKernels();
  compiled = new WebAssembly.Module(readFileSync(join(kernels.kernelDir, 'token-count.wasm')));
}

/**
 * Counts of byte-string keys in WebAssembly memory: the map-side `sum` combiner of `countTokens`
 * jobs. `countTokens` splits a chunk of input into tokens and counts them inside the kernel, with
 * no call into JavaScript per token; `add` counts one key given by the caller (e.g. a token the
 * job's `nonAscii` function split and emitted).
 */
export class TokenTable {
  readonly #k: TokenKernel;
  #bytes: Uint8Array;

  readonly #fold: number;

  constructor() {
    if (compiled === undefined) throw new Error('TokenTable: await loadTokenKernel() first');
    this.#k = new WebAssembly.Instance(compiled, { env: { abort: kernelAbort } }).exports as unknown as TokenKernel;
    this.#fold = this.#k.setup();
    this.#bytes = new Uint8Array(this.#k.memory.buffer);
  }

  get size(): number {
    return this.#k.size();
  }

  /** Bytes of memory the keys take (not counting the kernel's copy of the input chunk). */
  get memoryBytes(): number {
    return this.#k.memoryBytes();
  }

  /**
   * Counts every token of buf[start, end) (which must not cut a token) with a value of 1: a token is
   * a maximal run of bytes b with `tokenBytes[b] !== 0`, made of those `tokenBytes[b]`. A token
   * holding a byte ≥ 0x80 goes to `onHighRun(runStart, runEnd)` (offsets in `buf`) instead, when
   * given. Returns the number of tokens counted here.
   *
   * With `cacheRuns`, what `onHighRun` adds to this table while it runs is remembered per spelling
   * of the run and replayed for later copies of it, without calling `onHighRun` again — when that
   * was at most one `add` of an integer in [0, 2^32) and `onHighRun` did not return false (which
   * it should when it did anything else that counts, such as a user counter).
   *
   * Refused from inside `onHighRun` (the kernel is in the middle of a scan then): that is the job's
   * `nonAscii` function calling ctx.countTokens.
   */
  countTokens(buf: Uint8Array, start: number, end: number, tokenBytes: Uint8Array, onHighRun?: OnHighRun, cacheRuns = false): number {
    if (this.#record.on) {
      throw new TorpedoError('TORPEDO_ERR_USER_CODE', 'ctx.countTokens cannot be called from its own nonAscii function');
    }
    checkTokenBytes(tokenBytes);
    try {
      return this.#countTokens(buf, start, end, tokenBytes, onHighRun, cacheRuns);
    } catch (e) {
      throw kernelError(e);
    }
  }

  #countTokens(buf: Uint8Array, start: number, end: number, tokenBytes: Uint8Array, onHighRun: OnHighRun | undefined, cacheRuns: boolean): number {
    this.#view().set(tokenBytes, this.#fold); // 256 bytes per call: the caller may change its table
    const n = end - start;
    const at = this.#k.inputFor(n);
    this.#view().set(buf.subarray(start, end), at);
    if (onHighRun === undefined) {
      this.#k.scan(0, n, 0);
      return this.#k.takeTokens();
    }
    const mode = cacheRuns ? 2 : 1;
    let from = 0;
    for (let run = this.#k.scan(0, n, mode); run >= 0; run = this.#k.scan(from, n, mode)) {
      from = this.#k.highRunEnd();
      const record = this.#record;
      record.adds = 0;
      record.slot = -1;
      record.value = 0;
      record.on = true;
      let cacheable: boolean;
      try {
        cacheable = onHighRun(start + run, start + from) !== false;
      } finally {
        record.on = false;
      }
      // The kernel replays at most one add, of a value it can hold (a u32).
      const replayable = record.adds <= 1 && Number.isInteger(record.value) && record.value >= 0 && record.value <= 0xffffffff;
      if (cacheRuns && cacheable && replayable) this.#k.cacheRun(run, from, record.slot, record.value);
    }
    return this.#k.takeTokens();
  }

  /** What `add` did during the current onHighRun call: how many adds, and the last one's slot and value. */
  readonly #record = { on: false, adds: 0, slot: -1, value: 0 };

  /** Adds `value` to the total of the key buf[start, end). */
  add(buf: Uint8Array, start: number, end: number, value: number): void {
    const n = end - start;
    let slot: number;
    try {
      const at = this.#k.keySlot(n);
      const view = this.#view();
      for (let i = 0; i < n; i++) view[at + i] = buf[start + i] as number;
      slot = this.#k.addKey(n, value);
    } catch (e) {
      throw kernelError(e);
    }
    const record = this.#record;
    if (record.on) {
      record.adds++;
      record.slot = slot;
      record.value = value;
    }
  }

  /**
   * Calls `fn` for every key (in the table's order, which depends only on what was counted) with
   * the key's bytes as `bytes[keyStart, keyEnd)` and its total. `bytes` is the kernel's memory:
   * valid only during the call.
   */
  forEachBytes(fn: (bytes: Uint8Array, keyStart: number, keyEnd: number, total: number) => void): void {
    const view = this.#view();
    const slots = new DataView(view.buffer, this.#k.slotsAddress(), this.#k.capacity() * 32);
    const arena = this.#k.arenaAddress();
    for (let s = 0; s < slots.byteLength; s += 32) {
      const offset = slots.getUint32(s + 24, true);
      const length = slots.getUint32(s + 20, true);
      if (offset === 0 || length >= RUN_FLAG) continue; // empty, or a cached run
      const keyStart = arena + offset - 1;
      fn(view, keyStart, keyStart + length, slots.getFloat64(s + 8, true));
    }
  }

  /** Forgets every key, keeping the memory for reuse. */
  clear(): void {
    this.#k.clear();
  }

  /** A view of the kernel's memory, renewed after the memory grew (which detaches the old one). */
  #view(): Uint8Array {
    if (this.#bytes.byteLength === 0) this.#bytes = new Uint8Array(this.#k.memory.buffer);
    return this.#bytes;
  }
}

/** A token table must be 256 bytes, and end tokens at line ends: `\n` and `\r` are separators. */
function checkTokenBytes(t: Uint8Array): void {
  if (!(t instanceof Uint8Array) || t.length !== 256 || t[10] !== 0 || t[13] !== 0) {
    throw new TorpedoError(
      'TORPEDO_ERR_USER_CODE',
      'countTokens: the token table must be a Uint8Array of 256 entries in which \\n and \\r are 0 (separators); see tokenBytes()',
    );
  }
}

/** The kernel traps (`unreachable`) only when its memory cannot grow (WebAssembly's 4 GB limit). */
function kernelError(e: unknown): unknown {
  if (!(e instanceof WebAssembly.RuntimeError)) return e;
  return new TorpedoError(
    'TORPEDO_ERR_OUT_OF_MEMORY',
    `countTokens: the token table could not grow (${e.message}); a smaller --memory makes the task spill sooner`,
  );
}

function kernelAbort(): never {
  throw new Error('token-count kernel: abort');
}
