// A hostile user's job: on its one input record it tries every way out of its sandbox that
// test/hostile-users.test.ts lists, and reports each as `probe<TAB>outcome` (an error code when
// the attempt failed, `ok:…` when it worked). Targets come as params: paths, ports, a pid.
// --param action=… instead runs one attack that must be stopped: memory, spin (CPU), daemon.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';

const outcome = (fn) => {
  try {
    const r = fn();
    return `ok:${String(r).slice(0, 40).replace(/\s+/g, ' ')}`;
  } catch (e) {
    return e.code ?? e.message.slice(0, 60);
  }
};

const reach = (port) =>
  new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    socket.setTimeout(2000, () => socket.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    socket.on('connect', () => {
      socket.destroy();
      resolve('ok:connected');
    });
    socket.on('error', (e) => resolve(e.code ?? e.message));
  });

async function probes(p) {
  const out = {
    env: Object.keys(process.env).sort().join(',') || '(empty)',
    uid: String(process.getuid()),
    'read-shadow': outcome(() => readFileSync('/etc/shadow', 'utf8')),
    'read-secret': outcome(() => readFileSync(p.secretFile, 'utf8')),
    'read-other-dataset': outcome(() => readFileSync(p.otherDataset, 'utf8')),
    'read-other-output': outcome(() => readFileSync(p.otherOutput, 'utf8')),
    'list-home': outcome(() => readdirSync(p.home).join(' ')),
    'write-other-output': outcome(() => writeFileSync(p.otherOutput, 'replaced by a hostile job')),
    'write-host': outcome(() => writeFileSync(p.hostFile, 'written by a hostile job')),
    'write-torpedo': outcome(() => writeFileSync(p.torpedoFile, 'written by a hostile job')),
    'signal-manager': outcome(() => process.kill(Number(p.managerPid), 'SIGTERM')),
    spawn: outcome(() => spawn('/bin/sh', ['-c', 'true']).pid),
    'net-manager': await reach(p.managerPort),
    'net-postgres': await reach(p.postgresPort),
  };
  return out;
}

const hoard = [];

export default {
  async map(line, emit, ctx) {
    const action = ctx.params.action ?? 'probe';
    if (action === 'memory') for (;;) hoard.push(Buffer.alloc(32 << 20, 1));
    if (action === 'spin') for (;;);
    for (const [name, result] of Object.entries(await probes(ctx.params))) emit(`${name}\t${result}`, null);
  },
  reduce(key, values, emit) {
    emit(key, null);
  },
};
