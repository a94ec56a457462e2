// A job that reports what it can see and touch of the filesystem, for the tests of pods' mounts
// (test/kubernetes-launcher.test.ts): params `list`, `read` and `write` are comma-separated paths;
// each becomes one output line, `list PATH<TAB>entries` (or an error code), `read PATH<TAB>ok` or
// the code, `write PATH<TAB>ok` or the code. Run it with --no-sandbox: what stops it must be the
// pod's own view of the volume, not Node's permission model.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const attempt = (fn) => {
  try {
    return fn();
  } catch (e) {
    return e.code ?? e.message.slice(0, 60);
  }
};

const paths = (list) => (list ?? '').split(',').filter(Boolean);

export default {
  map(_line, emit, ctx) {
    for (const p of paths(ctx.params.list)) emit(`list ${p}\t${attempt(() => readdirSync(p).sort().join(' ') || '(empty)')}`, null);
    for (const p of paths(ctx.params.read)) emit(`read ${p}\t${attempt(() => (readFileSync(p), 'ok'))}`, null);
    for (const p of paths(ctx.params.write)) emit(`write ${p}\t${attempt(() => (writeFileSync(p, 'x'), rmSync(p), 'ok'))}`, null);
  },
  reduce(key, _values, emit) {
    emit(key, null);
  },
};
