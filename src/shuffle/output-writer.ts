import { closeSync, openSync, writeSync } from 'node:fs';
import { encodeValue } from './map-output.ts';

/**
 * Writes a part file: one `key<TAB>value` line per pair, the value raw if it is a string, else
 * as JSON; a null or undefined value writes the key alone.
 */
export class OutputWriter {
  lines = 0;
  readonly #fd: number;
  #pending: string[] = [];
  #pendingChars = 0;

  constructor(path: string) {
    this.#fd = openSync(path, 'wx');
  }

  write(key: string, value: unknown): void {
    const line =
      typeof value === 'string' ? `${key}\t${value}\n` : value === null || value === undefined ? `${key}\n` : `${key}\t${encodeValue(value)}\n`;
    this.#pending.push(line);
    this.#pendingChars += line.length;
    this.lines++;
    if (this.#pendingChars >= 1 << 19) this.#flush();
  }

  close(): void {
    this.#flush();
    closeSync(this.#fd);
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const bytes = Buffer.from(this.#pending.join(''));
    let off = 0;
    while (off < bytes.length) off += writeSync(this.#fd, bytes, off, bytes.length - off);
    this.#pending = [];
    this.#pendingChars = 0;
  }
}
