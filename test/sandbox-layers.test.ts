// The outer layer alone: a worker's sandbox (bubblewrap, src/launcher/worker-sandbox.ts) without
// Node's permission model inside, so that what it holds is bubblewrap's doing. Node's layer is
// tested through real jobs (sandbox.test.ts, hostile-users.test.ts).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { workerPolicy, grantWorkerDirs } from '../src/launcher/worker-sandbox.ts';
import { layoutForOutput } from '../src/master/job-layout.ts';
import type { MasterSpec } from '../src/master/master-spec.ts';
import { cleanEnv, confine, jobIdentity, sandboxIds, sandboxSupport } from '../src/sandbox/index.ts';
import { removeDir, runCli, tempDir } from './helpers.ts';

const full = sandboxSupport().level === 'full';

describe('a worker’s sandbox, without Node’s permission model', { skip: full ? false : `needs bubblewrap as root: ${sandboxSupport().reason}` }, () => {
  let dir: string;
  let server: Server;
  let port: number;
  let spec: MasterSpec;
  const identity = jobIdentity(sandboxIds(), 40_000, 7);

  before(async () => {
    dir = tempDir('torpedo-layers-');
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'input.txt'), 'the input\n');
    chmodSync(join(dir, 'input.txt'), 0o644);
    writeFileSync(join(dir, 'secret.txt'), 'not for jobs\n', { mode: 0o644 });
    const output = join(dir, 'out');
    const layout = layoutForOutput(output);
    for (const d of [layout.workDir, layout.attempts, layout.map, layout.reduce, layout.logs]) mkdirSync(d, { recursive: true });
    chmodSync(layout.workDir, 0o711);
    writeFileSync(layout.spec, '{}');
    grantWorkerDirs(layout, identity);
    spec = { inputs: [join(dir, 'input.txt')], output, splits: [], reducers: 1, workers: 1, memoryBytes: 64 << 20, workerMemoryBytes: 0, taskTimeoutMs: 0 } as unknown as MasterSpec;
    server = createServer((s) => s.end('hello\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => {
    server.close();
    removeDir(dir);
  });

  /** Runs `script` in node inside the worker's sandbox and returns what it printed, as JSON. */
  function inside(script: string): Record<string, unknown> {
    const cmd = confine(workerPolicy(spec, layoutForOutput(spec.output), { identity }, cleanEnv({ TORPEDO_TOKEN: 'job-token' }), ''), [process.execPath, '-e', script]);
    const r = spawnSync(cmd.file, cmd.args as string[], { env: cmd.env, encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  test('it reads its inputs, writes only attempts/, map/ and reduce/, and sees nothing else of the host', () => {
    const layout = layoutForOutput(spec.output);
    const seen = inside(`
      const fs = require('fs');
      const t = (f) => { try { return 'ok:' + String(f()).slice(0, 20); } catch (e) { return e.code; } };
      console.log(JSON.stringify({
        input: t(() => fs.readFileSync(${JSON.stringify(spec.inputs[0])}, 'utf8')),
        secret: t(() => fs.readFileSync(${JSON.stringify(join(dir, 'secret.txt'))}, 'utf8')),
        shadow: t(() => fs.readFileSync('/etc/shadow', 'utf8')),
        listing: t(() => fs.readdirSync(${JSON.stringify(dir)}).join(' ')),
        spec: t(() => fs.writeFileSync(${JSON.stringify(layout.spec)}, 'changed')),
        newFile: t(() => fs.writeFileSync(${JSON.stringify(join(layout.workDir, 'setup.json'))}, 'forged')),
        attempt: t(() => fs.writeFileSync(${JSON.stringify(join(layout.attempts, 'x'))}, 'mine')),
        root: t(() => fs.writeFileSync('/evil', 'x')),
        env: Object.keys(process.env).sort().join(','),
        uid: process.getuid(),
        pids: fs.readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p)).length,
      }));
    `);
    assert.equal(seen['input'], 'ok:the input\n');
    assert.equal(seen['secret'], 'ENOENT', 'a file beside the input is not there at all');
    assert.equal(seen['shadow'], 'ENOENT');
    assert.equal(seen['listing'], 'ok:input.txt out', 'only the paths it was given, and the way to them');
    assert.equal(seen['spec'], 'EROFS', "the master's job.json cannot be changed");
    assert.equal(seen['newFile'], 'EROFS', 'nor files added beside it for the master to follow');
    assert.equal(seen['attempt'], 'ok:undefined');
    assert.equal(seen['root'], 'EROFS');
    assert.equal(seen['env'], 'HOME,LANG,PATH,PWD,TMPDIR,TORPEDO_TOKEN', 'what the policy sets, and the PWD bubblewrap sets');
    assert.equal(seen['uid'], identity.uid);
    assert.ok((seen['pids'] as number) <= 3, `it sees ${seen['pids']} processes: its own PID namespace`);
    assert.equal(readFileSync(layout.spec, 'utf8'), '{}');
  });

  test('it has no network: a server on the host’s loopback is unreachable', () => {
    const seen = inside(`
      const s = require('net').connect({ host: '127.0.0.1', port: ${port} });
      s.on('connect', () => { console.log(JSON.stringify({ net: 'connected' })); process.exit(0); });
      s.on('error', (e) => { console.log(JSON.stringify({ net: e.code })); process.exit(0); });
    `);
    assert.equal(seen['net'], 'ECONNREFUSED');
  });

  test('nothing it starts outlives it, not even a process in a session of its own', () => {
    const marker = `torpedo-layers-${process.pid}`;
    inside(`
      const { spawn } = require('child_process');
      spawn('setsid', ['sh', '-c', 'sleep 600; : ${marker}'], { detached: true, stdio: 'ignore' }).unref();
      setTimeout(() => console.log(JSON.stringify({ started: true })), 200);
    `);
    const ps = execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' });
    assert.ok(!ps.includes(marker), 'the daemon is gone with its sandbox');
    assert.ok(!existsSync('/evil'));
  });

  test('an input the job’s uid cannot read is refused before the output is touched', async () => {
    const secret = join(dir, 'owner-only.txt');
    writeFileSync(secret, 'mine\n', { mode: 0o600 });
    const out = join(dir, 'kept');
    mkdirSync(out);
    writeFileSync(join(out, 'part-r-00000'), 'an earlier output\n');
    const r = await runCli(['run', 'wordcount', '--input', secret, '--output', out, '--force', '--no-progress']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /TORPEDO_ERR_INPUT_NOT_FOUND: input .*owner-only.txt" cannot be read by the job's sandbox, which runs as uid \d+, not as you: make it readable \(chmod o\+r\), or run with --no-sandbox/);
    assert.equal(readFileSync(join(out, 'part-r-00000'), 'utf8'), 'an earlier output\n');
  });
});
