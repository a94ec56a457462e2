// How errors name where a record is: the readers of splits (line too long, bad record, damaged
// compressed data) and the runners of user code (what threw) say it alike.

/** Where in the input a record is: its file and byte offset, and its line number when it is known cheaply. */
export interface RecordPosition {
  readonly file: string;
  readonly offset: number;
  /** 1-based; known when the split starts at the file's first byte (the lines before are counted). */
  readonly line?: number;
  /** What the offset counts when not the file's bytes: `of its decompressed data` (codecs.ts, offsetsCount). */
  readonly of?: string;
  /** The record's key in skip mode, when not its offset (map-runner.ts, recordKey). */
  readonly record?: number;
}

/** `data/a.txt at byte 199 (line 4)`, `logs.gz at byte 12 of its decompressed data`: how error messages name a record. */
export function describePosition(at: RecordPosition): string {
  return `${at.file} at byte ${at.offset}${at.of !== undefined ? ` ${at.of}` : ''}${at.line !== undefined ? ` (line ${at.line})` : ''}`;
}
