/**
 * The slot array shared by ByteTable and StringTable: open addressing with linear probing, four
 * int32s per slot — hash, entry index + 1 (0 marks an empty slot), key start, key length — so a
 * probe reads one cache line. Each table keeps its own lookup loop (they compare keys
 * differently, and it is the hottest code of a combining job); growing is the same for both.
 */
export const SLOT = 4;

/** A slot array of twice the capacity of `old`, holding the same entries. */
export function doubleSlots(old: Int32Array): Int32Array {
  const n = (old.length / SLOT) * 2;
  const slots = new Int32Array(n * SLOT);
  const mask = n - 1;
  for (let s = 0; s < old.length; s += SLOT) {
    if (old[s + 1] === 0) continue;
    let i = (old[s] as number) & mask;
    while (slots[i * SLOT + 1] !== 0) i = (i + 1) & mask;
    // Four stores, not set(subarray): a subarray is an object per entry, which made growing a
    // table of 100 k words cost more than filling it.
    const d = i * SLOT;
    slots[d] = old[s] as number;
    slots[d + 1] = old[s + 1] as number;
    slots[d + 2] = old[s + 2] as number;
    slots[d + 3] = old[s + 3] as number;
  }
  return slots;
}
