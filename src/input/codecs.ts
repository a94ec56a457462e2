// Which codec an input file is read with, and which record format: by its name's extensions, as
// Hadoop's CompressionCodecFactory, Spark and Dask decide them, unless the job forces one
// (`--input-compression`, `--input-format`). No imports: the web UI may show the same rule.

/** The codecs torpedo reads. */
export type Codec = 'gzip' | 'bzip2' | 'zstd';

/** The job setting: `auto` decides by extension, `none` reads every file as it is. */
export type InputCompression = 'auto' | 'none' | Codec;

const BY_EXTENSION: Readonly<Record<string, Codec>> = { '.gz': 'gzip', '.bz2': 'bzip2', '.zst': 'zstd' };

/**
 * The codec a file is read with: the forced one, none, or (`auto`) the one its name ends with:
 * `.gz`, `.bz2`, `.zst`. `name` is what the user knows the file by (a dataset's name in the
 * manager, whose stored files may be named otherwise).
 */
export function codecFor(name: string, setting: InputCompression): Codec | undefined {
  if (setting === 'none') return undefined;
  if (setting !== 'auto') return setting;
  const dot = name.lastIndexOf('.');
  return dot === -1 ? undefined : BY_EXTENSION[name.slice(dot).toLowerCase()];
}

/** The record formats: lines, JSON lines (`value` is the parsed value), CSV (`value` is a row). */
export type RecordFormat = 'text' | 'jsonl' | 'csv';

/** The job setting: `auto` decides by extension. */
export type InputFormat = 'auto' | RecordFormat;

const FORMAT_BY_EXTENSION: Readonly<Record<string, RecordFormat>> = { '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.csv': 'csv', '.tsv': 'csv' };

/**
 * The record format of a file: the forced one, or (`auto`) the one its name ends with, under a
 * compression extension: `.jsonl` and `.ndjson`, `.csv` and `.tsv` (`app.jsonl.gz` is JSON lines).
 * Anything else is text.
 */
export function formatFor(name: string, setting: InputFormat): RecordFormat {
  if (setting !== 'auto') return setting;
  return FORMAT_BY_EXTENSION[innerExtension(name)] ?? 'text';
}

/** The field delimiter of a CSV file when none is given: a tab in `.tsv` files, else a comma. */
export function defaultDelimiter(name: string): string {
  return innerExtension(name) === '.tsv' ? '\t' : ',';
}

/** The extension under a compression one: `.jsonl` for `a.jsonl.gz` and for `a.jsonl`. */
function innerExtension(name: string): string {
  const lower = name.toLowerCase();
  const dot = lower.lastIndexOf('.');
  if (dot === -1) return '';
  const ext = lower.slice(dot);
  if (BY_EXTENSION[ext] === undefined) return ext;
  const inner = lower.lastIndexOf('.', dot - 1);
  return inner === -1 ? '' : lower.slice(inner, dot);
}

/**
 * Whether a file of this codec is cut into several splits: bzip2 at its block boundaries
 * (bzip2-split-reader.ts). A gzip or zstd stream can only be read from its start: one split per file.
 */
export function isSplittable(codec: Codec | undefined): boolean {
  return codec === undefined || codec === 'bzip2';
}

/**
 * What a record's byte offset (`ctx.offset`) counts in a split of this codec, for error messages:
 * nothing for an uncompressed file (its bytes); the decompressed data of a gzip or zstd file, or of
 * the bzip2 split that starts the file; else the data of the bzip2 blocks from the split's start.
 */
export function offsetsCount(split: { readonly compression?: Codec; readonly start: number }): string | undefined {
  if (split.compression === undefined) return undefined;
  if (split.start === 0) return 'of its decompressed data';
  return `of the data of its bzip2 blocks from compressed byte ${split.start}`;
}
