// How torpedo writes and reads sizes, once, for every place a person sees one: `torpedo run`'s
// help and summary, the progress bars, `torpedo datasets ls`, and the web UI (web/src/format.ts
// re-exports these). Shown sizes are binary, with IEC names (KiB, MiB, GiB: powers of 1024), so
// that "MiB" means one thing everywhere; flags accept both, `64MB` (10^6) and `64MiB` (2^20).
// Why: docs/units.md.
//
// No imports: the web UI imports this file too.

/** The binary units, smallest first: what sizes are shown in. */
const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** The units a size may be given in (lower case), as multiples of a byte. */
const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 2 ** 10,
  m: 1e6,
  mb: 1e6,
  mib: 2 ** 20,
  g: 1e9,
  gb: 1e9,
  gib: 2 ** 30,
  t: 1e12,
  tb: 1e12,
  tib: 2 ** 40,
};

/**
 * A size for a person to read: 1536 → "1.5 KiB", 26214400 → "25 MiB", 999 → "999 B". One decimal
 * below 100 of a unit (dropped when it is 0), none above. Every shown size goes through here.
 */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < IEC.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${Math.round(v)} B`;
  const digits = Math.abs(v) < 100 ? v.toFixed(1).replace(/\.0$/, '') : v.toFixed(0);
  return `${digits} ${IEC[u]}`;
}

/** A speed: 1048576 → "1 MiB/s". */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

/**
 * A size as a person types it in a flag, exactly, so that it reads back to the same number, in
 * the unit that writes it shortest (binary first): 268435456 → "256MiB", 64000000 → "64MB",
 * 1500 → "1500". The defaults in `torpedo run --help`.
 */
export function formatSizeFlag(n: number): string {
  let best = String(n);
  for (const [unit, size] of FLAG_UNITS) {
    const written = `${n / size}${unit}`;
    if (n >= size && n % size === 0 && written.length < best.length) best = written;
  }
  return best;
}

/** What formatSizeFlag may write, binary first (so that a tie goes to it). */
const FLAG_UNITS = [
  ['TiB', 2 ** 40],
  ['GiB', 2 ** 30],
  ['MiB', 2 ** 20],
  ['KiB', 2 ** 10],
  ['TB', 1e12],
  ['GB', 1e9],
  ['MB', 1e6],
  ['KB', 1e3],
] as const;

/**
 * A size typed by a person: `64MB` (powers of 1000), `1.5GiB` (powers of 1024), `4096` (bytes);
 * case and spaces do not matter. Undefined when `text` is not a size.
 */
export function parseSizeText(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()];
  if (m === null || unit === undefined) return undefined;
  return Math.floor(Number(m[1]) * unit);
}
