import { openPartition, type PartitionOptions } from '../shuffle/partition-input.ts';

const TAB = 9;
const NL = 10;
const QUOTE = 34;
const BACKSLASH = 92;
const BATCH_BYTES = 1 << 16;

/**
 * Feeds the pairs of segment `partition` of the given run files, k-way merged by key bytes, to
 * `write` as `key<TAB>value\n` lines in batches of about 64 KB: a streaming reducer's (or
 * combiner's) stdin. Values are stored as JSON strings; most need no unescaping.
 * Returns the number of pairs and of distinct keys.
 */
export async function writeSortedLines(
  runFiles: readonly string[],
  partition: number,
  options: PartitionOptions,
  write: (batch: Buffer) => Promise<void>,
): Promise<{ pairs: number; groups: number; bytes: number }> {
  const input = openPartition(runFiles, partition, options);
  try {
    const { merger, bytes } = input;
    let batch = Buffer.allocUnsafe(BATCH_BYTES);
    let pos = 0;
    let pairs = 0;
    let groups = 0;
    const flush = async (): Promise<void> => {
      if (pos === 0) return;
      await write(Buffer.from(batch.subarray(0, pos)));
      pos = 0;
    };
    while (merger.next()) {
      groups++;
      merger.startGroup();
      do {
        const c = merger.current;
        const value = rawValue(c.buf, c.valueStart, c.valueEnd);
        const need = c.keyEnd - c.keyStart + value.length + 2;
        if (pos + need > batch.length) {
          await flush();
          if (need > batch.length) batch = Buffer.allocUnsafe(need);
        }
        pos += c.buf.copy(batch, pos, c.keyStart, c.keyEnd);
        batch[pos++] = TAB;
        batch.set(value, pos);
        pos += value.length;
        batch[pos++] = NL;
        pairs++;
      } while (merger.nextInGroup());
    }
    input.check();
    await flush();
    return { pairs, groups, bytes };
  } finally {
    input.close();
  }
}

/** The bytes of a JSON string value: the bytes between the quotes when nothing is escaped. */
function rawValue(buf: Buffer, start: number, end: number): Uint8Array {
  if (end - start < 2 || buf[start] !== QUOTE) return Buffer.from(buf.toString('utf8', start, end));
  const inner = buf.subarray(start + 1, end - 1);
  if (inner.indexOf(BACKSLASH) === -1) return inner;
  return Buffer.from(JSON.parse(buf.toString('utf8', start, end)) as string);
}
