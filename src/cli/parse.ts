import { InvalidArgumentError } from 'commander';
import { parseSizeText } from '../protocol/units.ts';

/**
 * `--split-size`, `--memory` … : sizes like `64MB`, `1.5GiB`, `4096` (decimal units are powers of
 * 1000, binary ones of 1024; src/protocol/units.ts), as commander's argParser.
 */
export function parseSize(text: string): number {
  const bytes = parseSizeText(text);
  if (bytes === undefined) throw new InvalidArgumentError(`${JSON.stringify(text)} is not a size (examples: 64MiB, 512KiB, 1GiB, 64MB, 1048576)`);
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

/** Parses a non-negative integer flag value (`--reducers 0`: a map-only job). */
export function parseCount(text: string): number {
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) {
    throw new InvalidArgumentError(`${JSON.stringify(text)} is not a whole number (0, 1, 2 …)`);
  }
  return Number(text);
}

/** Accumulates `--param key=value` pairs. */
export function parseParam(text: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`${JSON.stringify(text)} is not key=value`);
  return { ...previous, [text.slice(0, eq)]: text.slice(eq + 1) };
}
