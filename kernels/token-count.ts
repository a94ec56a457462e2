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
 * A slot (32 bytes, two per cache line) holds all there is to a key but its bytes, so that a token
 * that is already counted costs one cache line (and, for tokens longer than 8 bytes, the arena):
 *   key prefix u64 (first 8 bytes, zero-padded) · total f64 · hash u32 · length u32 · arena offset + 1 u32 (0: empty) · unused u32
 * Keys in the arena and tokens being counted are followed by at least 8 readable bytes (PAD), which
 * lets keys be hashed and compared 8 bytes at a time. Tokens are folded into the start of a
 * scratch region (the input region's twin), which stays in the first-level cache.
 *
 * Run cache. A token holding a byte ≥ 0x80 can be handed back to the caller (whose Unicode rules
 * decide what it emits). When the caller reports that handling a run emitted at most one key with
 * a small integer value, the kernel remembers it — as a slot of the same table, keyed by the run's
 * original bytes, with RUN_FLAG in its length (so that no token lookup can match it) and a salted
 * hash — and replays that emit for later copies of the run without calling out: the first run of
 * each distinct spelling costs a call into JavaScript, the others nothing. In a run's slot the
 * total's 8 bytes hold the emitted key's slot index + 1 u32 (0: none) and the value u32. Growing
 * the table moves keys to other slots, so it forgets the cached runs.
 */

const PAD: usize = 16;
const INITIAL_SLOTS: u32 = 1 << 14;
const INITIAL_INPUT: usize = 1 << 20;
const RUN_FLAG: u32 = 0x80000000;
const RUN_SALT: u32 = 0x5bd1e995;

let top: usize = 0;
let floor: usize = 0;

let fold: usize = 0;
/** The input chunk (original bytes), then at input + twin a region as large where each token is folded. */
let input: usize = 0;
let inputCap: usize = 0;
let twin: usize = 0;

let slots: usize = 0;
let mask: u32 = 0;
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
  const folded = input + twin;
  let n: f64 = 0;
  while (p < end) {
    let c = load<u8>(table + load<u8>(p));
    if (c == 0) {
      p++;
      continue;
    }
    const start = p;
    let bits: u32 = 0;
    let q = folded;
    do {
      bits |= load<u8>(p);
      store<u8>(q, c);
      q++;
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
        const target = slots + (<usize>(emitted - 1) << 5);
        store<f64>(target, load<f64>(target, 8) + <f64>load<u32>(hit, 12), 8);
        n++;
      }
      continue;
    }
    add(folded, len, 1);
    n++;
  }
  tokens += n;
  return -1;
}

export function highRunEnd(): u32 {
  return runEnd;
}

/**
 * Remembers what handling the run input[from, to) emitted: the key in slot `emitted` (an index
 * from addKey, or -1 for nothing) with `value` (an integer in [0, 2^32)).
 */
export function cacheRun(from: u32, to: u32, emitted: i32, value: u32): void {
  const p = input + from;
  const n = to - from;
  const h = hashOf(p, n) ^ RUN_SALT;
  const slot = probe(p, n | RUN_FLAG, h, prefixOf(p, n));
  if (probeHit) return;
  store<u32>(slot, <u32>(emitted + 1), 8);
  store<u32>(slot, value, 12);
  runs++;
  insert(slot, p, n | RUN_FLAG, h);
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

/** Adds `value` to the total of the key written at keySlot(n). Returns the key's slot index. */
export function addKey(n: u32, value: f64): u32 {
  return add(arena + arenaPos, n, value);
}

/** The number of keys (not counting cached runs). */
export function size(): u32 {
  return used - runs;
}

/** The slots (32 bytes each; see the layout above), for the caller to read the keys from. */
export function slotsAddress(): usize {
  return slots;
}

export function capacity(): u32 {
  return mask + 1;
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
  slots = alloc(<usize>capacity << 5);
  memory.fill(slots, 0, <usize>capacity << 5);
  mask = capacity - 1;
  used = 0;
  runs = 0;
  arenaCap = <usize>capacity * 8;
  arena = alloc(arenaCap + PAD);
  arenaPos = 0;
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
 * Looks for the key p[0, n) whose length field is `lengthField` (n, or n | RUN_FLAG for a run):
 * returns its slot's address with probeHit true, or the empty slot where it belongs.
 */
let probeHit = false;

@inline
function probe(p: usize, lengthField: u32, h: u32, prefix: u64): usize {
  const n = lengthField & ~RUN_FLAG;
  let s = slots + (<usize>(h & mask) << 5);
  let off = load<u32>(s, 24);
  while (off != 0) {
    if (load<u64>(s) == prefix && load<u32>(s, 16) == h && load<u32>(s, 20) == lengthField && (n <= 8 || sameTail(arena + off - 1, p, n))) {
      probeHit = true;
      return s;
    }
    s = slots + ((s - slots + 32) & ((<usize>mask << 5) | 31));
    off = load<u32>(s, 24);
  }
  probeHit = false;
  return s;
}

/** The slot of the cached run with the original bytes p[0, n), or 0. */
function findRun(p: usize, n: u32): usize {
  if (runs == 0) return 0;
  const s = probe(p, n | RUN_FLAG, hashOf(p, n) ^ RUN_SALT, prefixOf(p, n));
  return probeHit ? s : 0;
}

/** Adds `value` to the key p[0, n), inserting it if new; returns its slot index. */
function add(p: usize, n: u32, value: f64): u32 {
  const h = hashOf(p, n);
  const slot = probe(p, n, h, prefixOf(p, n));
  if (probeHit) {
    store<f64>(slot, load<f64>(slot, 8) + value, 8);
    return <u32>((slot - slots) >> 5);
  }
  store<f64>(slot, value, 8);
  if (!insert(slot, p, n, h)) return <u32>((slot - slots) >> 5);
  return <u32>((probe(p, n, h, prefixOf(p, n)) - slots) >> 5); // it moved: the table grew
}

/**
 * Fills the empty slot `slot` (its 8 bytes at offset 8 already set) for the key p[0, n) with length
 * field `lengthField`, copying the key into the arena unless it is already at its end. Returns
 * whether the table grew (which moves keys to other slots).
 */
function insert(slot: usize, p: usize, lengthField: u32, h: u32): bool {
  const n = lengthField & ~RUN_FLAG;
  if (p != arena + arenaPos) {
    reserveArena(n);
    memory.copy(arena + arenaPos, p, n);
  }
  const key = arena + arenaPos;
  store<u64>(slot, prefixOf(key, n));
  store<u32>(slot, h, 16);
  store<u32>(slot, lengthField, 20);
  store<u32>(slot, <u32>arenaPos + 1, 24);
  arenaPos += n;
  used++;
  if (used * 2 <= mask + 1) return false;
  grow();
  return true;
}

/** Doubles the slots, re-placing each key by its stored hash; cached runs are dropped. */
function grow(): void {
  const oldSlots = slots;
  const oldCapacity = mask + 1;
  const capacity = oldCapacity * 2;
  slots = alloc(<usize>capacity << 5);
  memory.fill(slots, 0, <usize>capacity << 5);
  mask = capacity - 1;
  for (let j: u32 = 0; j < oldCapacity; j++) {
    const o = oldSlots + (<usize>j << 5);
    if (load<u32>(o, 24) == 0 || (load<u32>(o, 20) & RUN_FLAG) != 0) continue;
    let i = load<u32>(o, 16) & mask;
    while (load<u32>(slots + (<usize>i << 5), 24) != 0) i = (i + 1) & mask;
    memory.copy(slots + (<usize>i << 5), o, 32);
  }
  used -= runs;
  runs = 0;
}
