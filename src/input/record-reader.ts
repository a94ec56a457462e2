import { Readable } from 'node:stream';
import { parse, type CsvError, type Info, type Options } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { TorpedoError } from '../errors.ts';
import { offsetsCount } from './codecs.ts';
import { describePosition } from './record-position.ts';
import { readSplit } from './split-reader.ts';
import type { Split } from './splits.ts';

// The records of a JSON lines or CSV split: what `map` is given as its value. Text splits do not
// come here (map-runner.ts reads their lines itself). A record that does not parse is a bad
// record: the task fails with TORPEDO_ERR_BAD_RECORD naming its file and position, or, with
// --skip-bad-records, it is skipped and counted.

/** One record: its value, and where it starts (ctx.offset). */
export interface InputRecord {
  readonly value: unknown;
  readonly offset: number;
  /** 1-based, where the split starts the file. */
  readonly line?: number;
}

/** The records of one chunk of the split, and how far the split has been read. */
export interface RecordBatch {
  readonly records: readonly InputRecord[];
  /** Bytes of (decompressed) data read so far. */
  readonly dataBytes: number;
  /** Bytes of the file read so far (compressed files), for progress. */
  readonly fileBytes?: number;
}

export interface RecordReading {
  readonly chunkBytes: number;
  readonly maxRecordBytes: number;
  /** CSV: the first row names the columns (a record is an object), else a record is an array. */
  readonly csvHeader: boolean;
  /** Skip records that do not parse (and count them) instead of failing the task. */
  readonly skipBadRecords: boolean;
  /** Called for each record skipped because it does not parse. */
  readonly onSkipped: () => void;
}

/** The records of a JSON lines or CSV split, a batch per chunk read. */
export function readRecords(split: Split, o: RecordReading): AsyncGenerator<RecordBatch> {
  return split.format === 'csv' ? csvRecords(split, o) : jsonlRecords(split, o);
}

/** A record that does not parse: no retry can fix it. */
function badRecord(split: Split, offset: number, line: number | undefined, why: string): TorpedoError {
  const of = offsetsCount(split);
  const at = describePosition({ file: split.file, offset, ...(of !== undefined ? { of } : {}), ...(line !== undefined ? { line } : {}) });
  return new TorpedoError('TORPEDO_ERR_BAD_RECORD', `${at}: ${why}; --skip-bad-records skips such records and counts them`, { file: split.file, offset, retryable: false });
}

/** JSON lines: each line is one JSON value; blank lines are no records. */
async function* jsonlRecords(split: Split, o: RecordReading): AsyncGenerator<RecordBatch> {
  let lines = 0;
  let dataBytes = 0;
  for await (const chunk of readSplit(split, o.chunkBytes, o.maxRecordBytes)) {
    const records: InputRecord[] = [];
    const text = chunk.buf.toString('utf8', 0, chunk.length);
    let pos = 0;
    let bytePos = 0;
    while (pos < text.length) {
      let nl = text.indexOf('\n', pos);
      if (nl === -1) nl = text.length;
      const line = text.slice(pos, nl);
      const offset = chunk.offset + bytePos;
      lines++;
      if (line.trim() !== '') {
        const at = split.start === 0 ? lines : undefined;
        try {
          records.push({ value: JSON.parse(line), offset, ...(at !== undefined ? { line: at } : {}) });
        } catch (e) {
          if (!o.skipBadRecords) throw badRecord(split, offset, at, `not a JSON value (${(e as Error).message})`);
          o.onSkipped();
        }
      }
      bytePos += Buffer.byteLength(line) + 1;
      pos = nl + 1;
    }
    dataBytes += chunk.length;
    yield { records, dataBytes, ...(chunk.fileBytes !== undefined ? { fileBytes: chunk.fileBytes } : {}) };
  }
}

/**
 * CSV (RFC 4180, csv-parse): with a header, a record is an object of column → string (a row with
 * another number of fields is a bad record), else the array of its fields; the split
 * that starts the file reads the header as its first row, any other reads it from the file's
 * first line. A quoted field still open where a split's data ends crossed into the next split:
 * an error that names --csv-multiline (then each file is one split and quoted newlines are fine).
 */
async function* csvRecords(split: Split, o: RecordReading): AsyncGenerator<RecordBatch> {
  const delimiter = split.delimiter ?? ',';
  const first = split.start === 0;
  // The columns, from the file's first line; in the split that starts the file, its first row.
  let columns: string[] | undefined = o.csvHeader && !first ? await csvHeaderOf(split, o) : undefined;
  if (columns?.length === 0) return;
  const options: Options = {
    delimiter,
    // TSV has no quoting: a quote is data.
    quote: delimiter === '\t' ? false : '"',
    // Rows are checked against the header here, not against each other by csv-parse.
    relax_column_count: true,
    bom: true,
    info: true,
    skip_empty_lines: true,
    // A quoted field never closed (with --csv-multiline, to the end of the file) is bounded as a line is.
    max_record_size: o.maxRecordBytes,
    skip_records_with_error: o.skipBadRecords,
    on_skip: () => {
      o.onSkipped();
      return undefined;
    },
  };
  let base = -1; // data offset of the split's first byte
  let fileBytes: number | undefined;
  let dataBytes = 0;
  async function* bytes(): AsyncGenerator<Buffer> {
    for await (const chunk of readSplit(split, o.chunkBytes, o.maxRecordBytes)) {
      if (base === -1) base = chunk.offset;
      dataBytes += chunk.length;
      fileBytes = chunk.fileBytes;
      yield Buffer.from(chunk.buf.subarray(0, chunk.length));
    }
  }
  // The reader's own errors (a line too long, a file changed) end the parse with them: an error
  // of a piped source is not the destination's, and unhandled it would end the worker.
  const source = Readable.from(bytes(), { objectMode: false });
  const parser = parse(options);
  source.on('error', (e) => parser.destroy(e));
  source.pipe(parser);
  let end = 0; // data bytes before the next record (from the split's first)
  let records: InputRecord[] = [];
  let n = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: Info }>) {
      const offset = base + end;
      const line = first ? info.lines : undefined;
      end = info.bytes;
      if (o.csvHeader && columns === undefined) {
        columns = record;
        continue;
      }
      let value: unknown = record;
      if (columns !== undefined) {
        if (record.length !== columns.length) {
          if (!o.skipBadRecords) throw badRecord(split, offset, line, `a CSV row of ${record.length} fields, where the header has ${columns.length} columns`);
          o.onSkipped();
          continue;
        }
        const row: Record<string, string> = {};
        columns.forEach((c, i) => (row[c] = record[i]!));
        value = row;
      }
      records.push({ value, offset, ...(line !== undefined ? { line } : {}) });
      if (++n % 1024 === 0) {
        yield { records, dataBytes, ...(fileBytes !== undefined ? { fileBytes } : {}) };
        records = [];
      }
    }
  } catch (e) {
    if (e instanceof TorpedoError) throw e;
    const err = e as CsvError;
    const offset = Math.max(0, base) + end;
    const line = first && typeof err.lines === 'number' ? err.lines : undefined;
    const crossed = err.code === 'CSV_QUOTE_NOT_CLOSED' || (!first && n === 0);
    const why = crossed
      ? `${err.message}: a quoted field with a newline in it crosses the end of this task's split (files are split at lines); run with --csv-multiline to read each CSV file as one split`
      : err.message;
    throw badRecord(split, offset, line, `not a CSV record (${why})`);
  }
  yield { records, dataBytes, ...(fileBytes !== undefined ? { fileBytes } : {}) };
}

/** The column names of a CSV file: its first line, read for a split that does not start it. */
async function csvHeaderOf(split: Split, o: RecordReading): Promise<string[]> {
  // A split of the file's first bytes: for bzip2, one that owns its first block (at byte 4).
  const head: Split = { ...split, start: 0, end: split.compression === 'bzip2' ? 5 : 1 };
  for await (const chunk of readSplit(head, 1 << 16, o.maxRecordBytes)) {
    const rows = parseSync(chunk.buf.subarray(0, chunk.length), { delimiter: split.delimiter ?? ',', quote: split.delimiter === '\t' ? false : '"', bom: true, to: 1 }) as string[][];
    return rows[0] ?? [];
  }
  return [];
}
