import { codecFor, defaultDelimiter, formatFor, isSplittable, type Codec, type InputCompression, type InputFormat } from './codecs.ts';
import type { InputFile } from './input-files.ts';

/** A byte range of one file; the lines that start inside it are its records. */
export interface Split {
  readonly file: string;
  readonly start: number;
  readonly end: number;
  /**
   * The file's size and modification time when the job was planned. The reader refuses a file
   * that differs (it changed or shrank since: TORPEDO_ERR_INPUT_CHANGED) and reads no byte past
   * `fileSize`. Absent in job.json written before they existed: then nothing is checked.
   */
  readonly fileSize?: number;
  readonly fileMtimeMs?: number;
  /** An object's ETag when planned (inputs in an object store): its reads ask for that version only. */
  readonly fileEtag?: string;
  /**
   * What user code sees as `ctx.file` (and a streaming command as `mapreduce_map_input_file`)
   * when it is not the path: in the manager, the dataset's name rather than a server path.
   */
  readonly name?: string;
  /**
   * The codec the file is read with (codecs.ts), decided when the job is planned. Then `start` and
   * `end` are bytes of the compressed file: all of it for gzip and zstd, a range whose bzip2
   * blocks the split reads (bzip2-split-reader.ts).
   */
  readonly compression?: Codec;
  /** The record format, when not text: JSON lines or CSV (codecs.ts, formatFor). */
  readonly format?: 'jsonl' | 'csv';
  /** A CSV split's field delimiter. */
  readonly delimiter?: string;
  /**
   * Whole small files the same map task reads after this one, in order: a combined split, as
   * Hadoop's CombineFileInputFormat packs small files up to the split size. Each keeps its own
   * name, codec and format (`ctx.file` is right for every record).
   */
  readonly more?: Split[];
}

/** The files' byte ranges a split reads, in order: itself, then those packed after it. */
export function splitPieces(split: Split): Split[] {
  if (split.more === undefined) return [split];
  const { more, ...first } = split;
  return [first, ...more];
}

/** The input bytes of a split, over all its pieces. */
export function splitBytes(split: Split): number {
  let n = split.end - split.start;
  for (const p of split.more ?? []) n += p.end - p.start;
  return n;
}

/** How the job reads its inputs: the settings planSplits decides each file's codec and format by. */
export interface InputReading {
  readonly inputCompression: InputCompression;
  readonly inputFormat: InputFormat;
  readonly csvDelimiter: 'auto' | 'comma' | 'tab' | 'semicolon' | 'pipe';
  readonly csvMultiline: boolean;
}

const DELIMITERS = { comma: ',', tab: '\t', semicolon: ';', pipe: '|' } as const;

/**
 * What a byte of a bzip2 file counts for against the split size: its data decodes to about that
 * many bytes (text: 3 to 5), and decoding costs most of a map task's time. So a bzip2 file of
 * 415 MB at the default 64 MiB runs as 25 tasks rather than 7, which keeps 2 workers busy to the
 * end (7 tasks leave one alone for the last); `--maps` counts the same way.
 */
const BZIP2_WEIGHT = 4;

/** The bytes a file counts for in planning: its size, weighted by the cost of decoding it. */
function plannedBytes(size: number, codec: Codec | undefined): number {
  return codec === 'bzip2' ? size * BZIP2_WEIGHT : size;
}

/**
 * Cuts files into byte ranges of at most `splitSize` bytes (the last one of a file may be
 * shorter). Ranges are not aligned here: the reader of a split aligns them to lines (Hadoop's
 * LineRecordReader rule), or to bzip2 blocks, so planning reads no input. A gzip or zstd file is
 * one split whatever its size. Files smaller than the split size are packed, in order, into
 * splits of up to the split size (`more`). Empty files get no split.
 */
export function planSplits(files: readonly InputFile[], splitSize: number, reading: Partial<InputReading> = {}): Split[] {
  const splits: Split[] = [];
  // Small whole files, packed into one split until the next would take it past the split size.
  let pack: Split[] = [];
  let packed = 0;
  const flush = (): void => {
    if (pack.length > 0) splits.push(pack.length === 1 ? pack[0]! : { ...pack[0]!, more: pack.slice(1) });
    pack = [];
    packed = 0;
  };
  for (const f of files) {
    if (f.size === 0) continue;
    const name = f.name ?? f.path;
    const codec = codecFor(name, reading.inputCompression ?? 'auto');
    const format = formatFor(name, reading.inputFormat ?? 'auto');
    const delimiter = format !== 'csv' ? undefined : reading.csvDelimiter === undefined || reading.csvDelimiter === 'auto' ? defaultDelimiter(name) : DELIMITERS[reading.csvDelimiter];
    // A CSV file whose quoted fields may hold newlines can only be read from its start.
    const whole = !isSplittable(codec) || (format === 'csv' && reading.csvMultiline === true);
    const piece = (start: number, end: number): Split => ({
      file: f.path,
      start,
      end,
      fileSize: f.size,
      fileMtimeMs: f.mtimeMs,
      ...(f.etag !== undefined ? { fileEtag: f.etag } : {}),
      ...(f.name !== undefined ? { name: f.name } : {}),
      ...(codec !== undefined ? { compression: codec } : {}),
      ...(format !== 'text' ? { format } : {}),
      ...(delimiter !== undefined ? { delimiter } : {}),
    });
    const cost = plannedBytes(f.size, codec);
    if (cost < splitSize && f.size < 2 ** 32) {
      if (packed + cost > splitSize) flush();
      pack.push(piece(0, f.size));
      packed += cost;
      continue;
    }
    flush();
    const size = whole ? f.size : Math.max(1, Math.floor((splitSize * f.size) / cost));
    for (let start = 0; start < f.size; start += size) splits.push(piece(start, Math.min(f.size, start + size)));
  }
  flush();
  return splits;
}

/** The split size that gives about `maps` splits over these files (bzip2 files weighted as in planSplits). */
export function splitSizeForMaps(files: readonly InputFile[], maps: number, reading: Partial<InputReading> = {}): number {
  const total = files.reduce((s, f) => s + plannedBytes(f.size, codecFor(f.name ?? f.path, reading.inputCompression ?? 'auto')), 0);
  return Math.max(1, Math.ceil(total / maps));
}
