import { isAscii } from 'node:buffer';
import type { Job, ReduceFn } from '../api/job.ts';
import { isSum } from '../api/builtin-functions.ts';
import { TorpedoError } from '../errors.ts';
import { offsetsCount } from '../input/codecs.ts';
import { readRecords } from '../input/record-reader.ts';
import { countLines, readSplit } from '../input/split-reader.ts';
import { splitPieces, type Split } from '../input/splits.ts';
import { MapOutput, type CombineMode } from '../shuffle/map-output.ts';
import { OutputWriter, type PartEncoding } from '../shuffle/output-writer.ts';
import { notAStringKey } from '../shuffle/byte-keys.ts';
import { noNamedOutputs, withNamedOutputs, type NamedOutputs } from '../shuffle/named-outputs.ts';
import type { PartChecksum } from '../protocol/part-checksum.ts';
import { defaultPartition, defaultPartitionBytes } from '../shuffle/partition.ts';
import { loadTokenKernel } from '../shuffle/token-table.ts';
import { userError, type AttemptContext } from './task-context.ts';

export interface MapRun {
  readonly job: Job;
  readonly jobName: string;
  readonly split: Split;
  readonly ctx: AttemptContext;
  readonly reducers: number;
  readonly memoryBytes: number;
  readonly maxRecordBytes: number;
  /** Byte offsets of records not to give to `map` (skip mode). */
  readonly skip: ReadonlySet<number>;
  /** Private directory of this attempt (spills). */
  readonly attemptDir: string;
  /** Where to write the task's output run (inside attemptDir); committed by the caller. */
  readonly outputPath: string;
  /** Called after each chunk with the input bytes consumed so far. */
  readonly onProgress: (bytes: number) => void;
  /** A map-only job's part format and codec (the job's outputFormat, outputCompression). */
  readonly encoding?: PartEncoding;
  /** A map-only job's named outputs (`emit.to`). */
  readonly named?: NamedOutputs;
  /** Records of JSON lines or CSV input that do not parse are skipped and counted, not fatal. */
  readonly skipBadRecords: boolean;
  /** CSV input has a header row (records are objects). */
  readonly csvHeader: boolean;
}

export interface MapResult {
  readonly counters: Record<string, number>;
  /** A map-only job's part: its size and CRC-32, for the output's manifest. */
  readonly part?: PartChecksum;
}

/** Bytes read at a time: large enough to amortise the read, small enough to stay in cache. */
const CHUNK_BYTES = 1 << 20;
const CR = 13;
const NL = 10;

/**
 * Runs one map attempt: reads the split, calls the job's map, writes a partitioned sorted run;
 * in a map-only job, the task's part file.
 */
export async function runMap(run: MapRun): Promise<MapResult> {
  const { job, ctx, split, jobName } = run;
  // A map-only job (R = 0) writes its pairs straight to its part, in input order: no partition,
  // no combine, no sort (Hadoop's map-only convention).
  const direct = run.reducers === 0 ? new OutputWriter(run.outputPath, run.encoding) : undefined;
  const output =
    direct === undefined
      ? new MapOutput({
          reducers: run.reducers,
          partition: makePartitioner(run),
          ...(job.partition === undefined ? { partitionBytes: (b: Uint8Array, s: number, e: number) => defaultPartitionBytes(b, s, e, run.reducers) } : {}),
          combine: combineMode(job.combine, run),
          budgetBytes: run.memoryBytes,
          spillDir: run.attemptDir,
        })
      : undefined;
  let records = 0;
  let skipped = 0;
  let bytes = 0;
  let done = 0; // input bytes of the pieces read, for progress
  const skip = run.skip;
  // Records can only be skipped one by one: an attempt that skips any uses `map`, not `mapBytes`,
  // and mapBytes reads lines: JSON lines and CSV go to `map`.
  const mapBytes = skip.size === 0 && output !== undefined ? job.mapBytes : undefined;
  if (mapBytes !== undefined && output !== undefined) {
    await loadTokenKernel();
    ctx.tokenSink = (buf, start, end, tokenBytes, nonAscii) => {
      // A run whose nonAscii call counted anything in ctx must not be replayed from the cache.
      const onHighRun = nonAscii && ((s: number, e: number): boolean => {
        const counts = ctx.countCalls;
        nonAscii(buf, s, e);
        return ctx.countCalls === counts;
      });
      output.countTokens(buf, start, end, tokenBytes, onHighRun);
    };
  }
  const map = job.map;
  let directPairs = 0;
  // emit.to: a map-only job's named outputs; in a job with reducers, named outputs are reduce's.
  const named = run.named;
  const emit =
    output !== undefined
      ? withNamedOutputs(output.emit, noNamedOutputs('the map of a job with reducers'))
      : withNamedOutputs(
          (key: string, value: unknown) => {
            if (typeof key !== 'string') throw notAStringKey(key);
            direct!.write(key, value);
            directPairs++;
          },
          named !== undefined ? (name, key, value) => named.write(name, key, value) : noNamedOutputs('this map'),
        );
  // The files of a combined split in turn: ctx.file names each. A record's key in skip mode is
  // its offset, made unique across the split's pieces (recordKey).
  const pieces = splitPieces(split);
  for (let p = 0; p < pieces.length; p++) {
    const piece = pieces[p]!;
    ctx.file = piece.name ?? piece.file;
    const key = (offset: number): number => recordKey(p, offset);
    const of = offsetsCount(piece);
    let pieceRecords = 0;
    let pieceBytes = 0;
    const progress = (read: number): void => run.onProgress(done + read);
    if (piece.format !== undefined) {
      // JSON lines or CSV: map is given each parsed record.
      const read = readRecords(piece, { chunkBytes: Math.min(CHUNK_BYTES, run.maxRecordBytes), maxRecordBytes: run.maxRecordBytes, csvHeader: run.csvHeader, skipBadRecords: run.skipBadRecords, onSkipped: () => skipped++ });
      for await (const batch of read) {
        for (const record of batch.records) {
          ctx.offset = record.offset;
          if (skip.size > 0 && skip.has(key(record.offset))) {
            skipped++;
            continue;
          }
          try {
            const r = map(record.value as string, emit, ctx);
            if (r !== undefined) await r;
          } catch (e) {
            throw userError(e, jobName, 'map', { file: piece.file, offset: record.offset, record: key(record.offset), ...(record.line !== undefined ? { line: record.line } : {}), ...(of !== undefined ? { of } : {}) });
          }
          records++;
        }
        pieceBytes = batch.dataBytes;
        progress(batch.fileBytes ?? pieceBytes);
      }
    } else {
      for await (const chunk of readSplit(piece, Math.min(CHUNK_BYTES, run.maxRecordBytes), run.maxRecordBytes)) {
        const { buf, length, offset } = chunk;
        if (mapBytes !== undefined) {
          ctx.offset = offset;
          try {
            mapBytes(buf, 0, length, output!.emitBytes, ctx);
          } catch (e) {
            throw await locateRecord(run, piece, p, buf, length, offset, pieceRecords, e);
          }
          const n = countLines(buf, length);
          records += n;
          pieceRecords += n;
        } else {
          const text = buf.toString('utf8', 0, length);
          // Character index = byte index in ASCII text; otherwise track byte offsets by newlines.
          const ascii = isAscii(buf.subarray(0, length));
          let pos = 0;
          let bytePos = 0;
          while (pos < text.length) {
            let nl = text.indexOf('\n', pos);
            if (nl === -1) nl = text.length;
            let lineEnd = nl;
            if (lineEnd > pos && text.charCodeAt(lineEnd - 1) === CR) lineEnd--;
            ctx.offset = offset + (ascii ? pos : bytePos);
            const line = text.slice(pos, lineEnd);
            if (skip.size > 0 && skip.has(key(ctx.offset))) {
              skipped++;
            } else {
              try {
                const r = map(line, emit, ctx);
                if (r !== undefined) await r;
              } catch (e) {
                throw userError(e, jobName, 'map', { file: piece.file, offset: ctx.offset, record: key(ctx.offset), ...lineOf(piece, pieceRecords) });
              }
            }
            records++;
            pieceRecords++;
            pos = nl + 1;
            if (!ascii) bytePos = buf.indexOf(NL, bytePos) + 1 || length;
          }
        }
        pieceBytes += length;
        progress(chunk.fileBytes ?? pieceBytes);
      }
    }
    bytes += pieceBytes;
    done += piece.end - piece.start;
  }
  if (direct !== undefined) direct.close();
  else output?.finish(run.outputPath);
  return {
    ...(direct !== undefined ? { part: direct.checksum() } : {}),
    counters: {
      'map input records': records,
      'map input bytes': bytes,
      'map output pairs': output?.stats.outputPairs ?? directPairs,
      ...(output !== undefined ? { 'spilled runs': output.stats.spills } : { 'map output lines': direct?.lines ?? 0 }),
      ...(skipped > 0 ? { 'skipped records': skipped } : {}),
    },
  };
}

/**
 * mapBytes threw somewhere in a chunk: replay the chunk's lines through `map` (same pairs, by the
 * job contract; the attempt fails anyway, so they are discarded) to name the record that throws.
 * That makes the error point at a record, and lets --skip-bad-records skip just that record.
 */
async function locateRecord(run: MapRun, piece: Split, p: number, buf: Buffer, length: number, offset: number, linesBefore: number, original: unknown): Promise<Error> {
  const { ctx } = run;
  const discard = withNamedOutputs((): void => {}, () => {});
  let pos = 0;
  let lines = linesBefore;
  while (pos < length) {
    let nl = buf.indexOf(NL, pos);
    if (nl === -1 || nl >= length) nl = length;
    const end = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
    ctx.offset = offset + pos;
    try {
      const r = run.job.map(buf.toString('utf8', pos, end), discard, ctx);
      if (r !== undefined) await r;
    } catch (e) {
      return userError(e, run.jobName, 'map', { file: piece.file, offset: ctx.offset, record: recordKey(p, ctx.offset), ...lineOf(piece, lines) });
    }
    lines++;
    pos = nl + 1;
  }
  return userError(original, run.jobName, 'mapBytes (map did not throw on the same lines)', { file: piece.file, offset });
}

/**
 * A record's key in skip mode: its offset in the first file of a split, `piece × 2^32 + offset`
 * in the others of a combined split (whose files are smaller than 4 GiB: planSplits packs no
 * larger one).
 */
export function recordKey(piece: number, offset: number): number {
  return piece === 0 ? offset : piece * 2 ** 32 + offset;
}

/**
 * The line number of the record after `linesBefore` lines of the split, when it is known without
 * reading more: in a split that starts at the file's first byte. Elsewhere the lines before the
 * split are not counted (that would read the file up to it), and errors give the byte only.
 */
function lineOf(split: Split, linesBefore: number): { line?: number; of?: string } {
  const of = offsetsCount(split);
  return { ...(split.start === 0 ? { line: linesBefore + 1 } : {}), ...(of !== undefined ? { of } : {}) };
}

function makePartitioner(run: MapRun): (key: string) => number {
  const R = run.reducers;
  const user = run.job.partition;
  if (user === undefined) return (key) => defaultPartition(key, R);
  return (key) => {
    let p: unknown;
    try {
      p = user(key, R, run.ctx);
    } catch (e) {
      throw userError(e, run.jobName, 'partition', { file: run.split.file, offset: run.ctx.offset });
    }
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p >= R) {
      throw new TorpedoError(
        'TORPEDO_ERR_PARTITION_RANGE',
        `${run.jobName}: partition(${JSON.stringify(key.slice(0, 80))}, ${R}) returned ${String(p)}; it must be an integer in [0, ${R})`,
      );
    }
    return p;
  };
}

function combineMode(combine: ReduceFn<unknown, unknown> | undefined, run: MapRun): CombineMode {
  if (combine === undefined) return { kind: 'none' };
  if (isSum(combine)) return { kind: 'sum' };
  return {
    kind: 'function',
    combine: (key, values) => {
      const out: unknown[] = [];
      try {
        const emit = withNamedOutputs((k: string, v: unknown) => {
          if (k !== key) {
            throw new TorpedoError('TORPEDO_ERR_BAD_EMIT', `combine must emit only the key it was given (${JSON.stringify(key)}), got ${JSON.stringify(k)}`);
          }
          out.push(v);
        }, noNamedOutputs('combine'));
        const r = combine(key, values, emit, run.ctx);
        if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
          throw new TorpedoError('TORPEDO_ERR_JOB_SHAPE', `${run.jobName}: combine must be synchronous`);
        }
      } catch (e) {
        throw userError(e, run.jobName, 'combine', { file: run.split.file, offset: run.ctx.offset });
      }
      return out;
    },
  };
}
