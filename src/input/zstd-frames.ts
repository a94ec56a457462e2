import { Decompress } from 'fzstd';
import xxhash, { type XXHashAPI } from 'xxhash-wasm';

// zstd decoding that checks what it decodes. fzstd decodes a zstd stream in pieces but skips the
// checksum that ends a frame (the low 32 bits of the XXH64 of its content: zstd writes one by
// default), and a flipped bit in a compressed block mostly decodes to other bytes without an
// error. So the stream is walked frame by frame, from the lengths in its headers (RFC 8878,
// section 3.1), fzstd is given one frame at a time, and each frame's output is hashed (xxhash-wasm)
// and compared with its checksum. Skippable frames (a seek table, metadata) are passed over.

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

let hasher: Promise<XXHashAPI> | undefined;

/** Where the walk is: what the next `need` bytes are. */
type Part = 'magic' | 'skippable size' | 'skippable data' | 'frame header' | 'header fields' | 'block header' | 'block' | 'checksum';

/**
 * The decompressed data of a zstd stream given as chunks, every frame's checksum checked. Throws
 * an Error (made TORPEDO_ERR_CORRUPT_INPUT by the caller) for data that is not zstd, a checksum that
 * does not match, or a stream that ends inside a frame ("unexpected end of data").
 */
export async function* unzstdChecked(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const { create64 } = await (hasher ??= xxhash());
  const out: Uint8Array[] = [];
  let hash = create64();
  const decoder = new Decompress((chunk) => {
    if (chunk.length === 0) return;
    hash.update(chunk);
    out.push(chunk);
  });
  // The walk over the compressed bytes.
  let part = 'magic' as Part;
  let need = 4;
  const field = Buffer.alloc(14); // the bytes of a fixed-size part being gathered
  let have = 0;
  let lastBlock = false;
  let checksummed = false;
  let pos = 0; // compressed bytes walked

  /** Called when the `need` bytes of `part` are all there (in `field` for the small parts). */
  const next = (): void => {
    switch (part) {
      case 'magic': {
        const magic = field.readUInt32LE(0);
        if (magic === FRAME_MAGIC) [part, need] = ['frame header', 1];
        else if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) [part, need] = ['skippable size', 4];
        else throw new Error(`no zstd frame at compressed byte ${pos - 4} (its first bytes are not a frame's magic number)`);
        return;
      }
      case 'skippable size':
        need = field.readUInt32LE(0);
        part = need === 0 ? 'magic' : 'skippable data';
        if (need === 0) need = 4;
        return;
      case 'skippable data':
        [part, need] = ['magic', 4];
        return;
      case 'frame header': {
        const d = field[0]!;
        if ((d & 0x08) !== 0) throw new Error(`a frame header at compressed byte ${pos - 1} sets a reserved bit`);
        const singleSegment = (d & 0x20) !== 0;
        checksummed = (d & 0x04) !== 0;
        const fcs = [singleSegment ? 1 : 0, 2, 4, 8][d >> 6]!;
        const dictionary = [0, 1, 2, 4][d & 0x03]!;
        need = (singleSegment ? 0 : 1) + dictionary + fcs;
        part = 'header fields';
        if (need === 0) [part, need] = ['block header', 3];
        return;
      }
      case 'header fields':
        [part, need] = ['block header', 3];
        return;
      case 'block header': {
        const h = field[0]! | (field[1]! << 8) | (field[2]! << 16);
        lastBlock = (h & 1) === 1;
        const type = (h >> 1) & 3;
        if (type === 3) throw new Error(`a block at compressed byte ${pos - 3} has the reserved type`);
        need = type === 1 ? 1 : h >>> 3;
        part = 'block';
        if (need === 0) endOfBlock();
        return;
      }
      case 'block':
        endOfBlock();
        return;
      case 'checksum':
        [part, need] = ['magic', 4];
        return;
    }
  };
  const endOfBlock = (): void => {
    if (!lastBlock) [part, need] = ['block header', 3];
    else if (checksummed) [part, need] = ['checksum', 4];
    else [part, need] = ['magic', 4];
  };
  /** A frame ended: its output is all out (fzstd emits each block as it completes it). */
  const endOfFrame = (checksum: number | undefined): void => {
    const digest = hash.digest();
    if (checksum !== undefined && Number(digest & 0xffffffffn) !== checksum) {
      throw new Error(`a frame ending at compressed byte ${pos} does not match its checksum: the data is damaged`);
    }
    hash = create64();
  };

  for await (const chunk of source) {
    let fed = 0; // bytes of the chunk given to the decoder
    let i = 0;
    while (i < chunk.length) {
      const small = part !== 'block' && part !== 'skippable data';
      const take = Math.min(need - (small ? have : 0), chunk.length - i);
      if (small) {
        field.set(chunk.subarray(i, i + take), have);
        have += take;
      } else need -= take;
      i += take;
      pos += take;
      const done = small ? have === need : need === 0;
      if (!done) continue;
      have = 0;
      const was = part;
      const checksum = was === 'checksum' ? field.readUInt32LE(0) : undefined;
      next();
      if (part === 'magic' && (was === 'block' || was === 'block header' || was === 'checksum')) {
        // The frame ends here: the rest of it goes to the decoder as the end of a stream (so that
        // fzstd decodes a frame shorter than it waits for), then its output is checked.
        decoder.push(chunk.subarray(fed, i), true);
        fed = i;
        endOfFrame(checksum);
      }
    }
    if (fed < chunk.length) decoder.push(chunk.subarray(fed));
    yield* out.splice(0);
  }
  if (part !== 'magic' || have !== 0) throw new Error('unexpected end of data: the file ends inside a frame (it is truncated)');
  yield* out.splice(0);
}
