import { CombiningMapOutput } from './combining-map-output.ts';
import type { EmitBytes, MapOutputMode, MapOutputOptions, MapOutputStats } from './map-output-mode.ts';
import { PlainMapOutput } from './plain-map-output.ts';
import type { RunFooter } from './run-file.ts';
import { SummingMapOutput } from './summing-map-output.ts';
import type { OnHighRun } from './token-table.ts';

export type { CombineMode, EmitBytes, MapOutputMode, MapOutputOptions, MapOutputStats } from './map-output-mode.ts';
/** The run-file value encoding lives with the run-file code; callers that import it from here still can. */
export { encodeValue } from './run-file.ts';

/** The map output for `options.combine`: the one place that looks at the combine mode. */
export function createMapOutputMode(options: MapOutputOptions): MapOutputMode {
  const combine = options.combine;
  switch (combine.kind) {
    case 'none':
      return new PlainMapOutput(options);
    case 'sum':
      return new SummingMapOutput(options);
    case 'function':
      return new CombiningMapOutput(options, combine.combine);
  }
}

/**
 * The map side of the shuffle (see MapOutputMode for each method's contract): `new MapOutput(o)`
 * is the map output of combine mode `o.combine`. A thin facade, so that its callers build it as
 * before: `emit` and `emitBytes` are the implementation's own functions, so a pair costs no call
 * more than it did; the other methods run once per chunk or once per task.
 */
export class MapOutput implements MapOutputMode {
  readonly emit: (key: string, value: unknown) => void;
  readonly emitBytes: EmitBytes;
  readonly #mode: MapOutputMode;

  constructor(options: MapOutputOptions) {
    this.#mode = createMapOutputMode(options);
    this.emit = this.#mode.emit;
    this.emitBytes = this.#mode.emitBytes;
  }

  get stats(): MapOutputStats {
    return this.#mode.stats;
  }

  countTokens(buf: Uint8Array, start: number, end: number, tokenBytes: Uint8Array, onHighRun?: OnHighRun): void {
    this.#mode.countTokens(buf, start, end, tokenBytes, onHighRun);
  }

  finish(path: string): RunFooter {
    return this.#mode.finish(path);
  }
}
