/*
 * The token-counting kernel (AssemblyScript, compiled to WebAssembly by bin/kernels.mjs): the inner
 * loop of word-count-like jobs, behind the job API's `ctx.countTokens`. It splits a chunk of input
 * into tokens with a 256-entry byte table and counts each token in an open-addressing hash table,
 * at about the speed of the same loop in C. Everything else (reading splits, partitioning,
 * sorting, spilling, Unicode rules) stays in TypeScript: src/shuffle/token-table.ts drives this.
 *
 * Memory is one linear memory with a bump allocator: `top` only grows until `clear()` moves it
 * back to `floor` (just past the input region). A region outgrown by the table (old slots, old
 * arena) stays unused until then: the waste is at most what is in use, and is counted in
 * `memoryBytes()` so that the engine's memory budget sees it (except in the rare case where the
 * input region had to move above a table).
 *
 * Layout of the table:
 *   slot  (16 bytes): key prefix u64 (first 8 bytes, zero-padded) · entry index + 1 u32 (0: empty) · hash u32
 *   entry (16 bytes): key offset in the arena u32 · key length u32 · total f64
 * Entries are in insertion order, so that the caller can read them without walking the slots. Keys
 * in the arena and the input region are followed by at least 8 readable bytes (PAD), which lets
 * keys be hashed and compared 8 bytes at a time.
 *
 * Run cache. A token holding a byte ≥ 0x80 can be handed back to the caller (whose Unicode rules
 * decide what it emits). When the caller reports that handling a run emitted at most one key with
 * a small integer value, the kernel remembers it — as an entry of the same table, keyed by the
 * run's original bytes, with RUN_FLAG in its length (so that no token lookup can match it) and
 * a salted hash — and replays that emit for later copies of the run without calling out: the
 * first run of each distinct spelling costs a call into JavaScript, the others nothing.
 *   run entry: original bytes offset u32 · length | RUN_FLAG u32 · emitted entry index + 1 u32 (0: none) · value u32
 */

const PAD: usize = 16;
const INITIAL_SLOTS: u32 = 1 << 14;
const INITIAL_INPUT: usize = 1 << 20;
const RUN_FLAG: u32 = 0x80000000;
const RUN_SALT: u32 = 0x5bd1e995;

let top: usize = 0;
let floor: usize = 0;

let fold: usize = 0;
/** The input chunk (original bytes), then its folded copy at input + twin. */
let input: usize = 0;
let inputCap: usize = 0;
let twin: usize = 0;

let slots: usize = 0;
let mask: u32 = 0;
let entries: usize = 0;
let used: u32 = 0;
let runs: u32 = 0;
let arena: usize = 0;
let arenaCap: usize = 0;
let arenaPos: usize = 0;

let tokens: f64 = 0;
let runEnd: u32 = 0;

/** Sets the kernel up; returns the address of the 256-byte token table for the caller to fill. */
export function setup(): usize {
  top = (__heap_base + 15) & ~15;
  fold = alloc(256);
  newInput(INITIAL_INPUT);
  newTable(INITIAL_SLOTS);
  return fold;
}

/** Returns the input region's address, made large enough for `n` bytes first. */
export function inputFor(n: usize): usize {
  // Rare (a line longer than the read size): a new region above everything; the table below it
  // stays valid, and clear() will start above it.
  if (n > inputCap) newInput(max(n, inputCap * 2));
  memory.fill(input + n, 0, PAD);
  return input;
}

/**
 * Counts the tokens of input[from, to) with a value of 1 each. `high` says what happens to a
 * token holding a byte ≥ 0x80: 0, counted like the others; 1, handed to the caller; 2, its cached
 * emit replayed if the run cache has its spelling, else handed to the caller. Handing over means
 * returning the token's start (its end is `highRunEnd()`); the caller calls again from its end.
 * Returns -1 when the range is done.
 */
export function scan(from: u32, to: u32, high: u32): i32 {
  let p = input + from;
  const end = input + to;
  const table = fold;
  const folded = twin;
  let n: f64 = 0;
  while (p < end) {
    let c = load<u8>(table + load<u8>(p));
    if (c == 0) {
      p++;
      continue;
    }
    const start = p;
    let bits: u32 = 0;
    do {
      bits |= load<u8>(p);
      store<u8>(p + folded, c);
      p++;
      if (p == end) break;
      c = load<u8>(table + load<u8>(p));
    } while (c != 0);
    const len = <u32>(p - start);
    if (high != 0 && (bits & 0x80) != 0) {
      const hit = high == 2 ? findRun(start, len) : 0;
      if (hit == 0) {
        tokens += n;
        runEnd = <u32>(p - input);
        return <i32>(start - input);
      }
      const emitted = load<u32>(hit, 8);
      if (emitted != 0) {
        const target = entries + (<usize>(emitted - 1) << 4);
        store<f64>(target, load<f64>(target, 8) + <f64>load<u32>(hit, 12), 8);
        n++;
      }
      continue;
    }
    add(start + folded, len, 1);
    n++;
  }
  tokens += n;
  return -1;
}

export function highRunEnd(): u32 {
  return runEnd;
}

/**
 * Remembers what handling the run input[from, to) emitted: the entry `emitted` (an index from
 * addKey, or -1 for nothing) with `value` (an integer in [0, 2^32)).
 */
export function cacheRun(from: u32, to: u32, emitted: i32, value: u32): void {
  const p = input + from;
  const n = to - from;
  const h = hashOf(p, n) ^ RUN_SALT;
  const slot = probe(p, n | RUN_FLAG, h, prefixOf(p, n));
  if (probeHit != 0) return;
  const entry = insert(slot, p, n, h, 0);
  store<u32>(entry, n | RUN_FLAG, 4);
  store<u32>(entry, <u32>(emitted + 1), 8);
  store<u32>(entry, value, 12);
  runs++;
}

/** Tokens counted by scan() since the last call (keys added with addKey are the caller's to count). */
export function takeTokens(): f64 {
  const n = tokens;
  tokens = 0;
  return n;
}

/** Returns where the caller should write a key of `n` bytes before calling addKey(n, value). */
export function keySlot(n: u32): usize {
  reserveArena(n);
  return arena + arenaPos;
}

/** Adds `value` to the total of the key written at keySlot(n). Returns the key's entry index. */
export function addKey(n: u32, value: f64): u32 {
  return add(arena + arenaPos, n, value);
}

/** The number of keys (entries that are not cached runs). */
export function size(): u32 {
  return used - runs;
}

/** The number of entries, cached runs included (their length has RUN_FLAG set). */
export function entryCount(): u32 {
  return used;
}

export function entriesAddress(): usize {
  return entries;
}

export function arenaAddress(): usize {
  return arena;
}

/** Bytes of linear memory the table uses (not the input region, which is the size of a chunk). */
export function memoryBytes(): usize {
  return top - floor;
}

/** Forgets every key and cached run, keeping the memory for reuse. */
export function clear(): void {
  top = floor;
  newTable(INITIAL_SLOTS);
}

function alloc(bytes: usize): usize {
  const p = (top + 15) & ~15;
  const end = p + bytes;
  const have = (<usize>memory.size()) << 16;
  if (end > have && memory.grow(<i32>((end - have + 0xffff) >> 16)) < 0) unreachable();
  top = end;
  return p;
}

function newInput(capacity: usize): void {
  inputCap = capacity;
  twin = capacity + PAD;
  input = alloc(2 * twin);
  floor = top;
}

function newTable(capacity: u32): void {
  slots = alloc(<usize>capacity << 4);
  memory.fill(slots, 0, <usize>capacity << 4);
  mask = capacity - 1;
  entries = alloc(entryBytes(capacity));
  used = 0;
  runs = 0;
  arenaCap = <usize>capacity * 8;
  arena = alloc(arenaCap + PAD);
  arenaPos = 0;
}

/** Room for the entries of a table of `capacity` slots: it grows when more than half are used. */
function entryBytes(capacity: u32): usize {
  return ((<usize>capacity >> 1) + 1) << 4;
}

function reserveArena(n: u32): void {
  if (arenaPos + n <= arenaCap) return;
  const cap = max(arenaCap * 2, arenaPos + n);
  const bigger = alloc(cap + PAD);
  memory.copy(bigger, arena, arenaPos);
  arena = bigger;
  arenaCap = cap;
}

@inline
function prefixOf(p: usize, n: u32): u64 {
  const v = load<u64>(p);
  return n >= 8 ? v : v & ((<u64>1 << (<u64>n << 3)) - 1);
}

@inline
function hashOf(p: usize, n: u32): u32 {
  let h: u64 = 0x9e3779b97f4a7c15 ^ <u64>n;
  let k = n;
  while (k >= 8) {
    h = (h ^ load<u64>(p)) * 0xff51afd7ed558ccd;
    h ^= h >> 32;
    p += 8;
    k -= 8;
  }
  if (k != 0) h = (h ^ (load<u64>(p) & ((<u64>1 << (<u64>k << 3)) - 1))) * 0xc4ceb9fe1a85ec53;
  return <u32>(h ^ (h >> 29));
}

/** Bytes 8.. of two keys of length n (> 8) are equal. */
function sameTail(a: usize, b: usize, n: u32): bool {
  let i: usize = 8;
  for (; i + 8 <= <usize>n; i += 8) if (load<u64>(a + i) != load<u64>(b + i)) return false;
  const rest = <usize>n - i;
  if (rest == 0) return true;
  const m = (<u64>1 << (<u64>rest << 3)) - 1;
  return ((load<u64>(a + i) ^ load<u64>(b + i)) & m) == 0;
}

/**
 * Looks for the key p[0, n) whose entry length field is `lengthField`: returns its slot's address
 * with the found entry's index + 1 in `probeHit`, or the empty slot where it belongs (probeHit 0).
 */
let probeHit: u32 = 0;

@inline
function probe(p: usize, lengthField: u32, h: u32, prefix: u64): usize {
  const n = lengthField & ~RUN_FLAG;
  let i = h & mask;
  let s = slots + (<usize>i << 4);
  let e = load<u32>(s, 8);
  while (e != 0) {
    if (load<u64>(s) == prefix && load<u32>(s, 12) == h) {
      const entry = entries + (<usize>(e - 1) << 4);
      if (load<u32>(entry, 4) == lengthField && (n <= 8 || sameTail(arena + load<u32>(entry), p, n))) {
        probeHit = e;
        return s;
      }
    }
    i = (i + 1) & mask;
    s = slots + (<usize>i << 4);
    e = load<u32>(s, 8);
  }
  probeHit = 0;
  return s;
}

/** The entry of the cached run with the original bytes p[0, n), or 0. */
function findRun(p: usize, n: u32): usize {
  if (runs == 0) return 0;
  probe(p, n | RUN_FLAG, hashOf(p, n) ^ RUN_SALT, prefixOf(p, n));
  return probeHit == 0 ? 0 : entries + (<usize>(probeHit - 1) << 4);
}

/** Adds `value` to the key p[0, n), inserting it if new; returns its entry index. */
function add(p: usize, n: u32, value: f64): u32 {
  const h = hashOf(p, n);
  const slot = probe(p, n, h, prefixOf(p, n));
  if (probeHit != 0) {
    const entry = entries + (<usize>(probeHit - 1) << 4);
    store<f64>(entry, load<f64>(entry, 8) + value, 8);
    return probeHit - 1;
  }
  const index = used;
  insert(slot, p, n, h, value);
  return index;
}

/**
 * Makes a new entry for the key p[0, n) in the empty slot `slot` (copying the key into the arena
 * unless it is already at its end); returns the entry's address (valid until the next insert).
 */
function insert(slot: usize, p: usize, n: u32, h: u32, value: f64): usize {
  if (p != arena + arenaPos) {
    reserveArena(n);
    memory.copy(arena + arenaPos, p, n);
  }
  const index = used;
  let entry = entries + (<usize>index << 4);
  store<u32>(entry, <u32>arenaPos);
  store<u32>(entry, n, 4);
  store<f64>(entry, value, 8);
  arenaPos += n;
  used++;
  store<u64>(slot, prefixOf(arena + load<u32>(entry), n));
  store<u32>(slot, used, 8);
  store<u32>(slot, h, 12);
  if (used * 2 > mask + 1) {
    grow();
    entry = entries + (<usize>index << 4);
  }
  return entry;
}

/** Doubles the slots (re-placing each by its stored hash) and the entries. */
function grow(): void {
  const oldSlots = slots;
  const oldCapacity = mask + 1;
  const capacity = oldCapacity * 2;
  slots = alloc(<usize>capacity << 4);
  memory.fill(slots, 0, <usize>capacity << 4);
  mask = capacity - 1;
  for (let j: u32 = 0; j < oldCapacity; j++) {
    const o = oldSlots + (<usize>j << 4);
    if (load<u32>(o, 8) == 0) continue;
    let i = load<u32>(o, 12) & mask;
    while (load<u32>(slots + (<usize>i << 4), 8) != 0) i = (i + 1) & mask;
    memory.copy(slots + (<usize>i << 4), o, 16);
  }
  const bigger = alloc(entryBytes(capacity));
  memory.copy(bigger, entries, <usize>used << 4);
  entries = bigger;
}
