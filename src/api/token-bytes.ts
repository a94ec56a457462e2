import { TorpedoError } from '../errors.ts';

export interface TokenBytesOptions {
  /** Store ASCII upper-case letters as lower case (A-Z count as a-z). Default false. */
  readonly lowerCase?: boolean;
  /** Bytes 0x80–0xFF (every byte of a non-ASCII UTF-8 character) are token bytes. Default false. */
  readonly nonAscii?: boolean;
}

/**
 * A token table for `ctx.countTokens`: `chars` lists the ASCII characters that make up tokens,
 * with ranges written `a-z` (a `-` first or last stands for itself). Every other byte separates
 * tokens.
 *
 * @example tokenBytes("A-Za-z0-9_'", { lowerCase: true, nonAscii: true }) // word count's words
 */
export function tokenBytes(chars: string, options: TokenBytesOptions = {}): Uint8Array {
  const table = new Uint8Array(256);
  for (let i = 0; i < chars.length; i++) {
    const from = chars.charCodeAt(i);
    let to = from;
    if (chars[i + 1] === '-' && i + 2 < chars.length) {
      to = chars.charCodeAt(i + 2);
      i += 2;
    }
    if (from > 0x7f || to > 0x7f || to < from) {
      throw new TorpedoError('TORPEDO_ERR_USER_CODE', `tokenBytes: ${JSON.stringify(chars)} must list ASCII characters and ascending ranges`);
    }
    for (let c = from; c <= to; c++) table[c] = c;
  }
  if (options.lowerCase === true) {
    for (let c = 0x41; c <= 0x5a; c++) if (table[c] !== 0) table[c] = c | 0x20;
  }
  if (options.nonAscii === true) for (let c = 0x80; c < 0x100; c++) table[c] = c;
  table[10] = 0;
  table[13] = 0;
  return table;
}
