import Bzip2 from '@foxglove/wasm-bz2';
import { offsetsCount } from './codecs.ts';
import { wholeLines, type LineChunk } from './line-chunks.ts';
import { corruptInput, readUpTo, type SplitSource } from './planned-file.ts';
import { describePosition } from './record-position.ts';
import type { Split } from './splits.ts';

// A bzip2 file is a series of blocks, each of at most 900 kB of data, compressed on its own and
// starting with a 48-bit marker (π's digits, 0x314159265359) at any bit position; a stream ends
// with another marker (√π, 0x177245385090) and the CRC of its blocks' CRCs. So, as Hadoop's
// BZip2Codec does, a file splits at its blocks: a split owns the blocks whose marker starts in its
// byte range. Each run of owned blocks is rewritten as a stream of its own (a header, the blocks'
// bits shifted to the byte, an end marker and their combined CRC) and decoded by libbzip2 itself
// (@foxglove/wasm-bz2, which checks every block's CRC).
//
// Lines follow the rule of Hadoop's LineRecordReader on compressed splits: a split that does not
// own the file's first block drops its data up to the first newline (that line belongs to the
// split before), and a split reads on into the blocks after its own up to the first newline there:
// the line that starts exactly at its last block's end is the split's, and the next split drops it.
// Every line is read by exactly one split, whatever the split size (bzip2-split-reader.test.ts).
//
// A 48-bit marker can occur by chance inside compressed data (about once in 30,000 GB); a block
// cut there fails its CRC check, loudly: the task fails with TORPEDO_ERR_CORRUPT_INPUT.

const BLOCK_MAGIC = 0x314159265359;
const END_MAGIC = 0x177245385090;
/** Bits from a marker to the next block's data: the marker and a CRC. */
const MARKER_BITS = 48 + 32;
/** Compressed bytes read at a time while looking for markers. */
const READ_BYTES = 4 << 20;
/** Compressed bytes of blocks decoded in one call of the decoder. */
const BATCH_BYTES = 2 << 20;
/**
 * Blocks decoded in one call, at most: what bounds the call's output (and so a worker's memory)
 * where blocks compress to a few bytes each (a file of one repeated line: thousands of blocks in
 * 2 MB, gigabytes decoded at once).
 */
const BATCH_BLOCKS = 8;
const NL = 10;
const BZ_OUTBUFF_FULL = -8;

let decoder: Promise<Bzip2> | undefined;

/** One block: its marker's bit, the bit where the next marker starts, its CRC. */
interface Block {
  readonly bit: number;
  readonly end: number;
  readonly crc: number;
}

/**
 * The records of a bzip2 split (readCompressedSplit): chunks of whole lines of the data of the
 * blocks it owns, offsets counted from the first byte of its first block's data (the file's
 * data offsets in the split that starts the file).
 */
export async function* readBzip2Split(fh: SplitSource, split: Split, size: number, chunkBytes: number, maxRecordBytes: number): AsyncGenerator<LineChunk> {
  const file = new CompressedBytes(fh, split, size);
  const header = await file.header();
  if (header.toString('latin1', 0, 3) !== 'BZh' || header[3]! < 0x31 || header[3]! > 0x39) {
    throw corruptInput(split, 'bzip2', 'it does not start with a bzip2 header ("BZh1" to "BZh9")', 0, { foreign: true });
  }
  const bz = await (decoder ??= Bzip2.init());
  const blockBytes = (header[3]! - 0x30) * 100_000;
  const skipFirst = split.start > 0;
  let dropped = 0;
  const where = (offset: number): string => describePosition({ file: split.file, offset, of: offsetsCount(split) });

  async function* data(): AsyncGenerator<Uint8Array> {
    const blocks = file.blocks(split.start * 8);
    let skipping = skipFirst;
    let batch: Block[] = [];
    let next: Block | undefined;
    // The first line dropped if it is not the split's; the rest of the owned blocks' data passed on.
    function* owned(out: Uint8Array): Generator<Uint8Array> {
      if (skipping) {
        const nl = out.indexOf(NL);
        dropped += nl === -1 ? out.length : nl + 1;
        out = out.subarray(nl === -1 ? out.length : nl + 1);
        skipping = nl === -1;
      }
      if (out.length > 0) yield out;
    }
    // The blocks the split owns, decoded a batch at a time. A batch holds blocks that follow each
    // other: the first block of a file's next stream starts another.
    for (;;) {
      const r = await blocks.next();
      const block = r.done === true ? undefined : r.value;
      const isOwned = block !== undefined && block.bit < split.end * 8;
      if (batch.length > 0 && (!isOwned || block.bit !== batch[batch.length - 1]!.end)) {
        yield* owned(decode(bz, file, batch, blockBytes, split));
        batch = [];
      }
      if (!isOwned) {
        next = block;
        break;
      }
      if (batch.length === 0) file.hold(block.bit);
      batch.push(block);
      if ((block.end - batch[0]!.bit) / 8 >= BATCH_BYTES || batch.length >= BATCH_BLOCKS) {
        yield* owned(decode(bz, file, batch, blockBytes, split));
        batch = [];
      }
    }
    // A split whose data is all the end of a line that started before it: nothing is its own.
    if (skipping) return;
    // Then the blocks after, up to the first newline: the end of the split's last line.
    for (let b = next; b !== undefined; ) {
      file.hold(b.bit);
      const out = decode(bz, file, [b], blockBytes, split);
      const nl = out.indexOf(NL);
      yield nl === -1 ? out : out.subarray(0, nl + 1);
      if (nl !== -1) return;
      const r = await blocks.next();
      b = r.done === true ? undefined : r.value;
    }
  }

  yield* wholeLines(data(), { chunkBytes, maxRecordBytes, offset: () => dropped, where, fileBytes: () => file.readBytes() });
}

/**
 * Decodes blocks that follow each other in the file as one stream of their own: a header, their
 * bits, an end marker and the CRC of their CRCs. libbzip2 checks each block's CRC and that one.
 */
function decode(bz: Bzip2, file: CompressedBytes, blocks: readonly Block[], blockBytes: number, split: Split): Uint8Array {
  const first = blocks[0]!;
  const last = blocks[blocks.length - 1]!;
  const bits = last.end - first.bit;
  const stream = Buffer.alloc(4 + Math.ceil((bits + MARKER_BITS) / 8));
  stream.write('BZh9', 0, 'latin1');
  file.copyBits(first.bit, bits, stream, 4);
  let combined = 0;
  for (const b of blocks) combined = (((combined << 1) | (combined >>> 31)) ^ b.crc) >>> 0;
  putBits(stream, 32 + bits, 24, Math.floor(END_MAGIC / 2 ** 24));
  putBits(stream, 32 + bits + 24, 24, END_MAGIC % 2 ** 24);
  putBits(stream, 32 + bits + 48, 32, combined);
  // Text decodes to about the block size; runs of a byte may expand it (up to 51 times).
  for (let guess = Math.ceil(blocks.length * blockBytes * 1.25) + 4096; ; guess *= 4) {
    try {
      return bz.decompress(stream, guess);
    } catch (e) {
      const code = Number(/failed: (-?\d+)/.exec(e instanceof Error ? e.message : '')?.[1]);
      if (code === BZ_OUTBUFF_FULL && guess < blocks.length * blockBytes * 64) continue;
      throw corruptInput(split, 'bzip2', `a block does not decode (libbzip2 error ${code}: ${bzipError(code)})`, Math.floor(first.bit / 8));
    }
  }
}

function bzipError(code: number): string {
  if (code === -4) return 'data error, a CRC does not match';
  if (code === -5) return 'not bzip2 data';
  if (code === -7) return 'unexpected end of data';
  return 'damaged data';
}

/** Writes the low `n` bits of `value` (n ≤ 32) at bit `bit` of `out`, most significant first. */
function putBits(out: Buffer, bit: number, n: number, value: number): void {
  for (let i = 0; i < n; i++) {
    const b = bit + i;
    const on = Math.floor(value / 2 ** (n - 1 - i)) % 2 === 1;
    const byte = b >> 3;
    const mask = 0x80 >> (b & 7);
    out[byte] = on ? out[byte]! | mask : out[byte]! & ~mask;
  }
}

/** A marker's 48 bits as 4-byte needles, one per bit shift: bytes 1 to 4 after the shift. */
function needles(magic: number): Buffer[] {
  const out: Buffer[] = [];
  for (let k = 0; k < 8; k++) {
    // With k bits before it in its first byte, byte j holds the marker's bits [8j - k, 8j - k + 8).
    const bytes = [1, 2, 3, 4].map((j) => Math.floor(magic / 2 ** (48 - (8 * j - k) - 8)) % 256);
    out.push(Buffer.from(bytes));
  }
  return out;
}

const BLOCK_NEEDLES = needles(BLOCK_MAGIC);
const END_NEEDLES = needles(END_MAGIC);

/** Where one needle (a marker at one bit shift) was last found, and how far it was looked for. */
class NeedleCursor {
  /** The marker's bit, when found. */
  bit = -1;
  /** File offset up to which the needle has been looked for. */
  scanned = 0;
  constructor(
    readonly needle: Buffer,
    readonly shift: number,
    readonly magic: number,
    readonly kind: 'block' | 'end',
  ) {}
}

/**
 * The compressed bytes of a split and those after it, read as the markers are looked for; what
 * lies before the oldest block still needed is let go.
 */
class CompressedBytes {
  #buf = Buffer.alloc(0);
  /** File offset of #buf[0]. */
  #start = 0;
  #len = 0;
  #held = Number.POSITIVE_INFINITY;
  readonly #fh: SplitSource;
  readonly #split: Split;
  readonly #size: number;

  constructor(fh: SplitSource, split: Split, size: number) {
    this.#fh = fh;
    this.#split = split;
    this.#size = size;
    this.#start = Math.max(0, split.start - 8);
  }

  /** The file's first 4 bytes. */
  async header(): Promise<Buffer> {
    const buf = Buffer.alloc(4);
    await readUpTo(this.#fh, this.#split, this.#size, buf, 0, 0);
    return buf;
  }

  /** Bytes of the split read so far. */
  readBytes(): number {
    return Math.max(0, Math.min(this.#split.end, this.#start + this.#len) - this.#split.start);
  }

  /** Bytes from bit `bit` on are kept until `hold` is called again: blocks still to decode. */
  hold(bit: number): void {
    this.#held = bit;
  }

  /**
   * The blocks whose markers start at or after bit `from`, in order, across the streams of a
   * multi-stream file; a file that ends inside a block is truncated (TORPEDO_ERR_CORRUPT_INPUT).
   */
  async *blocks(from: number): AsyncGenerator<Block> {
    const cursors = [...BLOCK_NEEDLES.map((n, k) => new NeedleCursor(n, k, BLOCK_MAGIC, 'block')), ...END_NEEDLES.map((n, k) => new NeedleCursor(n, k, END_MAGIC, 'end'))];
    let at = from;
    let current: { bit: number; crc: number } | undefined;
    for (;;) {
      const marker = await this.#nextMarker(at, cursors);
      if (current !== undefined) {
        if (marker === undefined) throw corruptInput(this.#split, 'bzip2', 'it is truncated: it ends inside a block, with no end-of-stream marker', this.#size);
        yield { bit: current.bit, end: marker.bit, crc: current.crc };
        current = undefined;
      }
      if (marker === undefined) return;
      if (marker.kind === 'block') current = { bit: marker.bit, crc: await this.#bits(marker.bit + 48, 32) };
      at = marker.bit + MARKER_BITS;
    }
  }

  /** The first marker at or after bit `from`. */
  async #nextMarker(from: number, cursors: readonly NeedleCursor[]): Promise<{ bit: number; kind: 'block' | 'end' } | undefined> {
    for (;;) {
      let best: NeedleCursor | undefined;
      for (const c of cursors) if (this.#find(c, from) && (best === undefined || c.bit < best.bit)) best = c;
      // Every marker before the best one found lies wholly in what is read: none is missed.
      if (best !== undefined) return { bit: best.bit, kind: best.kind };
      if (this.#start + this.#len >= this.#size) return undefined;
      await this.#readMore(from);
    }
  }

  /**
   * Moves a cursor to the first verified marker at or after bit `from` in what is read: false if
   * there is none there (yet: a match whose marker is not wholly read waits for more).
   */
  #find(c: NeedleCursor, from: number): boolean {
    if (c.bit >= from) return true;
    const end = this.#start + this.#len;
    // Needle byte 1 of a marker at `from` or later; the bytes before `scanned` hold no match.
    let pos = Math.max(Math.floor(from / 8) + 1, c.scanned, this.#start + 1);
    for (;;) {
      const i = this.#buf.subarray(0, this.#len).indexOf(c.needle, pos - this.#start);
      if (i === -1) {
        c.scanned = Math.max(pos, end - 3);
        return false;
      }
      const at = this.#start + i;
      if (at - 1 + 7 > end) {
        c.scanned = at;
        return false;
      }
      const bit = (at - 1) * 8 + c.shift;
      if (bit >= from && this.#verify(bit, c.magic)) {
        c.bit = bit;
        c.scanned = at;
        return true;
      }
      pos = at + 1;
    }
  }

  #verify(bit: number, magic: number): boolean {
    const rel = bit - this.#start * 8;
    return this.#bitsIn(rel, 24) === Math.floor(magic / 2 ** 24) && this.#bitsIn(rel + 24, 24) === magic % 2 ** 24;
  }

  /** `n` bits (n ≤ 32) at bit `rel` of what is held. */
  #bitsIn(rel: number, n: number): number {
    let v = 0;
    const first = rel >> 3;
    const last = (rel + n - 1) >> 3;
    for (let i = first; i <= last; i++) v = v * 256 + (this.#buf[i] ?? 0);
    const extra = (last - first + 1) * 8 - (rel & 7) - n;
    return Math.floor(v / 2 ** extra) % 2 ** n;
  }

  async #bits(bit: number, n: number): Promise<number> {
    while (bit + n > (this.#start + this.#len) * 8 && this.#start + this.#len < this.#size) await this.#readMore(bit);
    return this.#bitsIn(bit - this.#start * 8, n);
  }

  /** Reads the next bytes of the file, letting go of those before bit `keep` and the held blocks. */
  async #readMore(keep: number): Promise<void> {
    const drop = Math.max(0, Math.min(Math.floor(Math.min(keep, this.#held) / 8) - 8 - this.#start, this.#len));
    if (drop > 0 && drop >= this.#len / 2) {
      this.#buf.copy(this.#buf, 0, drop, this.#len);
      this.#start += drop;
      this.#len -= drop;
    }
    const want = Math.min(READ_BYTES, this.#size - (this.#start + this.#len));
    if (this.#len + want > this.#buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.#len + want, this.#buf.length * 2));
      this.#buf.copy(bigger, 0, 0, this.#len);
      this.#buf = bigger;
    }
    let got = 0;
    while (got < want) got += await readUpTo(this.#fh, this.#split, this.#size, this.#buf, this.#len + got, this.#start + this.#len + got);
    this.#len += got;
  }

  /**
   * Copies `n` bits from bit `bit` of the file (held: a block asked for by `blocks` and not yet let
   * go) to `out` from byte `at`, shifted to start on a byte.
   */
  copyBits(bit: number, n: number, out: Buffer, at: number): void {
    const rel = bit - this.#start * 8;
    const b0 = rel >> 3;
    const k = rel & 7;
    const bytes = Math.ceil(n / 8);
    if (k === 0) this.#buf.copy(out, at, b0, b0 + bytes);
    else for (let i = 0; i < bytes; i++) out[at + i] = ((this.#buf[b0 + i]! << k) | ((this.#buf[b0 + i + 1] ?? 0) >> (8 - k))) & 0xff;
    // Bits past `n` in the last byte are the next marker's: cleared, for what is written after.
    if (n % 8 !== 0) out[at + bytes - 1] = out[at + bytes - 1]! & (0xff << (8 - (n % 8)));
  }
}
