import { stringify } from 'csv-stringify/sync';
import { TorpedoError } from '../errors.ts';
import type { JOB_SETTINGS } from '../protocol/job-settings.ts';
import { encodeValue } from './run-file.ts';

/** How a part file holds its records (`outputFormat`; docs/output-formats.md). */
export type OutputFormat = (typeof JOB_SETTINGS.outputFormat.choices)[number];

/**
 * Turns a reducer's pair into its line in a part file, for the formats other than `text` (which
 * OutputWriter writes itself, byte for byte as it always did). One per part file: a CSV format
 * learns its columns from the part's first record. Called by OutputWriter, once per pair, in
 * order; not idempotent (the first call may return a header line too).
 */
export interface RecordFormat {
  /** The line(s) for one pair, each ending in `\n`. */
  lines(key: string, value: unknown): string;
}

export function recordFormat(format: Exclude<OutputFormat, 'text'>): RecordFormat {
  return format === 'jsonl' ? new JsonLines() : new CsvFormat();
}

/** `{"key":…,"value":…}`: the key as a JSON string, the value as its JSON (null when there is none). */
class JsonLines implements RecordFormat {
  lines(key: string, value: unknown): string {
    return `{"key":${JSON.stringify(key)},"value":${encodeValue(value) ?? 'null'}}\n`;
  }
}

/**
 * CSV (RFC 4180 quoting, by csv-stringify; lines end in `\n`). The columns are `key`, then:
 * - the value's own keys, in the order of the part's first record, when values are objects;
 * - `value`, when values are not objects (a string, a number, a boolean, null).
 * A header row names them at the top of each part file (an empty part has none). Every later
 * record must have the same shape: an object with exactly those keys (in any order), or a
 * non-object. A field that is itself an object or an array is written as its JSON; null is empty.
 */
class CsvFormat implements RecordFormat {
  #columns: readonly string[] | undefined;
  #objects = false;

  lines(key: string, value: unknown): string {
    const object = isObject(value);
    let header = '';
    if (this.#columns === undefined) {
      this.#objects = object;
      this.#columns = object ? Object.keys(value) : ['value'];
      if (this.#columns.includes('key')) throw csvError(`its value has a field named "key", which is the CSV's first column (the pair's key)`, key);
      header = csvLine(['key', ...this.#columns]);
    }
    if (!object) {
      if (this.#objects) throw csvError(`its value ${describe(value)} is not an object, but the first record's was (columns: ${this.#columns.join(', ')})`, key);
      return header + csvLine([key, cell(value)]);
    }
    if (!this.#objects) throw csvError(`its value is an object, but the first record's was not (columns: key, value)`, key);
    const fields = value as Record<string, unknown>;
    for (const k of Object.keys(fields)) {
      if (!this.#columns.includes(k)) throw csvError(`its value has the field "${k}", which is not a column (the columns come from the part's first record: ${this.#columns.join(', ')})`, key);
    }
    const row = [key];
    for (const c of this.#columns) {
      if (!(c in fields)) throw csvError(`its value lacks the field "${c}", a column from the part's first record`, key);
      row.push(cell(fields[c]));
    }
    return header + csvLine(row);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  return encodeValue(v) ?? '';
}

function csvLine(cells: readonly string[]): string {
  return stringify([cells], { record_delimiter: 'unix' });
}

function describe(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

function csvError(why: string, key: string): TorpedoError {
  return new TorpedoError('TORPEDO_ERR_BAD_EMIT', `--output-format csv: the record with key ${JSON.stringify(key.slice(0, 80))} does not fit: ${why}`);
}
