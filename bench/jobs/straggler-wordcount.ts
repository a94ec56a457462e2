import type { EmitBytes, MapBytesContext } from 'torpedo';
import wordcount from '../../examples/wordcount.ts';

/**
 * The built-in word count, except that the first attempt of the last map task (the one whose
 * split starts at `--param last=<offset>`, reached when its first chunk is at or past it) stalls for
 * `--param stall=ms` before it starts: a straggler, for bench/faults.sh.
 */
const stalled = new Set<string>();

export default {
  ...wordcount,
  mapBytes(buf: Uint8Array, start: number, end: number, emit: EmitBytes<number>, ctx: MapBytesContext) {
    if (ctx.attempt === 0 && ctx.offset >= Number(ctx.params['last']) && !stalled.has(ctx.taskId)) {
      stalled.add(ctx.taskId);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(ctx.params['stall'] ?? 10_000));
    }
    wordcount.mapBytes?.(buf, start, end, emit, ctx);
  },
};
