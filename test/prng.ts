/** A small seeded PRNG (mulberry32) so that randomized tests are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['a', 'Z', ' ', 'é', 'ß', '日本', '😀', '𝒳', '\uE000', '\uFFFD', "'", '_', '9', '\t', 'x'.repeat(40)];

/** A random string from pieces that exercise ASCII, 2-, 3- and 4-byte UTF-8 and the U+E000+ range. */
export function randomText(rand: () => number, maxPieces: number): string {
  let s = '';
  const n = Math.floor(rand() * maxPieces);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(rand() * PIECES.length)];
  return s;
}
