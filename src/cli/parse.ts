import { InvalidArgumentError } from 'commander';

const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
};

/** Parses sizes like `64MB`, `1.5GiB`, `4096`: decimal units are powers of 1000, binary of 1024. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = UNITS[(m?.[2] ?? '').toLowerCase()];
  if (m === null || unit === undefined) {
    throw new InvalidArgumentError(`${JSON.stringify(text)} is not a size (examples: 64MB, 512KiB, 1GB, 1048576)`);
  }
  const bytes = Math.floor(Number(m[1]) * unit);
  if (bytes < 1) throw new InvalidArgumentError(`${JSON.stringify(text)} must be at least 1 byte`);
  return bytes;
}

/** Parses a positive integer flag value. */
export function parsePositiveInt(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new InvalidArgumentError(`${JSON.stringify(text)} is not a positive integer`);
  }
  return Number(text);
}

/** Accumulates `--param key=value` pairs. */
export function parseParam(text: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`${JSON.stringify(text)} is not key=value`);
  return { ...previous, [text.slice(0, eq)]: text.slice(eq + 1) };
}
