// For test/stepped-clock.test.ts. The first attempt of the task holding the HANG record writes
// `ctx.params.step` (a libfaketime offset such as '-1h') to the file `ctx.params.clockFile`, which
// steps the wall clock of every process of the job that reads it, and then spins: its worker
// stops heartbeating, and only its lease expiring can get the task re-run. The spin ends the
// worker after 30 s (far past the test's lease), so that a master that never takes the task back
// leaves no spinning process behind (the worker's own give-up check cannot run while it spins).
// Every other record waits `ctx.params.pauseMs`, so that other attempts hold leases across the step.
import { writeFileSync } from 'node:fs';

export default {
  async map(line, emit, ctx) {
    if (line.includes('HANG') && ctx.attempt === 0) {
      writeFileSync(ctx.params.clockFile, `${ctx.params.step}\n`);
      const until = performance.now() + 30_000;
      while (performance.now() < until);
      process.exit(70);
    }
    await new Promise((resolve) => setTimeout(resolve, Number(ctx.params.pauseMs ?? 0)));
    for (const word of line.split(/\s+/).filter(Boolean)) emit(word, 1);
  },
  reduce(key, values, emit) {
    let n = 0;
    for (const v of values) n += v;
    emit(key, n);
  },
};
