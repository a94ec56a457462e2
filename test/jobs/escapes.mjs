// Tries to leave its sandbox, as chosen by --param action=read|write|spawn.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

export default {
  map(line, emit, ctx) {
    const action = ctx.params.action;
    if (action === 'read') emit(readFileSync(ctx.params.path, 'utf8'), null);
    else if (action === 'write') writeFileSync(ctx.params.path, 'escaped');
    else if (action === 'spawn') emit(String(execFileSync('id')), null);
    emit(line, null);
  },
  reduce(key, values, emit) {
    emit(key, null);
  },
};
