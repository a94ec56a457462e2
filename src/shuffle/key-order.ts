/**
 * Keys are ordered by their UTF-8 bytes, the order of `LC_ALL=C sort`.
 *
 * JavaScript compares strings by UTF-16 code units, which agrees with UTF-8 byte order except when
 * one string has a surrogate (U+D800–DFFF, i.e. a code point above U+FFFF) and the other a code
 * unit in U+E000–FFFF at the first difference. `compareKeys` fixes exactly that case; `hasHighUnits`
 * lets hot paths use the plain `<` comparison when no key can hit it.
 */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Map surrogates above U+E000–FFFF so that code-unit order becomes code-point order.
      x = x < 0xe000 ? x + 0x2000 : x - 0x800;
      y = y < 0xe000 ? y + 0x2000 : y - 0x800;
    }
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

/** The plain comparison, valid when neither key has a code unit ≥ U+D800. */
export function compareAsciiOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const HIGH = /[\ud800-\uffff]/;

/** True if plain `<` could disagree with UTF-8 byte order for this key. */
export function hasHighUnits(key: string): boolean {
  return HIGH.test(key);
}
