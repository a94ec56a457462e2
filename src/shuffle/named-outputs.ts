import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Emit } from '../api/job.ts';
import { TorpedoError } from '../errors.ts';
import type { PartChecksum } from '../protocol/part-checksum.ts';
import { notAStringKey } from './byte-keys.ts';
import { OutputWriter, type PartEncoding } from './output-writer.ts';

/** A named output's name: letters and digits, from a letter (Hadoop's MultipleOutputs rule). */
export const OUTPUT_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/**
 * The named outputs of one attempt (`emit.to(name, key, value)`): a part-like file per name,
 * made when the name is first written, in the attempt's directory, in the output's format and
 * codec. `close` gives each file's size and CRC-32, for the manifest; the worker commits each
 * beside the task's part (worker.ts) and the job commit publishes them as NAME-r-NNNNN.
 */
export class NamedOutputs {
  readonly #writers = new Map<string, OutputWriter>();
  readonly #dir: string;
  readonly #encoding: () => PartEncoding;

  constructor(dir: string, encoding: () => PartEncoding) {
    this.#dir = dir;
    this.#encoding = encoding;
  }

  write(name: string, key: string, value: unknown): void {
    let w = this.#writers.get(name);
    if (w === undefined) {
      if (typeof name !== 'string' || !OUTPUT_NAME.test(name) || name === 'part') {
        throw new TorpedoError('TORPEDO_ERR_BAD_EMIT', `emit.to(${JSON.stringify(name)}, …): a named output's name is letters and digits, starting with a letter, and not "part"`);
      }
      mkdirSync(this.#dir, { recursive: true });
      w = new OutputWriter(join(this.#dir, name), this.#encoding());
      this.#writers.set(name, w);
    }
    if (typeof key !== 'string') throw notAStringKey(key);
    w.write(key, value);
  }

  /** Closes every file; their names, paths, and sizes and CRC-32s. */
  close(): { readonly name: string; readonly path: string; readonly checksum: PartChecksum }[] {
    return [...this.#writers].map(([name, w]) => {
      w.close();
      return { name, path: join(this.#dir, name), checksum: w.checksum() };
    });
  }
}

/** `emit` with its `to`: the function that writes the job's pairs, and where named ones go. */
export function withNamedOutputs<V>(emit: (key: string, value: V) => void, to: Emit<V>['to']): Emit<V> {
  const e = emit as Emit<V>;
  Object.defineProperty(e, 'to', { value: to, enumerable: false, configurable: true });
  return e;
}

/** The `to` of an emit that has no named outputs (combine; the map of a job with reducers). */
export function noNamedOutputs(where: string): Emit<unknown>['to'] {
  return (name) => {
    throw new TorpedoError(
      'TORPEDO_ERR_BAD_EMIT',
      `emit.to(${JSON.stringify(name)}, …) in ${where}: named outputs are written by reduce, or by the map of a map-only job (--reducers 0)`,
    );
  };
}
