// Streaming jobs (Hadoop Streaming's protocol): map and reduce as commands in any language.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { jsonSummary, prose, readParts, removeDir, ROOT, runCli, SEED_DIR, tempDir } from './helpers.ts';

const EXAMPLE = join(ROOT, 'examples', 'streaming');
const PY = ['--file', join(EXAMPLE, 'mapper.py'), '--file', join(EXAMPLE, 'reducer.py')];
let dir: string;
/** A few hundred KB of prose: several 64 KB splits. */
let corpus: string;
before(() => {
  dir = tempDir('torpedo-streaming-');
  corpus = join(dir, 'corpus');
  mkdirSync(corpus);
  writeFileSync(join(corpus, 'prose.txt'), prose(6000));
  writeFileSync(join(corpus, 'sample.txt'), readFileSync(join(SEED_DIR, 'sample.txt')));
});
after(() => removeDir(dir));

function streaming(args: readonly string[]): Promise<ReturnType<typeof runCli> extends Promise<infer R> ? R : never> {
  return runCli(['run', ...args, '--no-progress', '--json'], { timeoutMs: 120_000 });
}

test('the Python word count gives exactly the built-in wordcount’s part files, with and without a combiner', async () => {
  const builtin = join(dir, 'builtin');
  const r0 = await runCli(['run', 'wordcount', '--input', corpus, '--output', builtin, '--reducers', '3', '--split-size', '64KB', '--no-progress']);
  assert.equal(r0.code, 0, r0.stderr);
  for (const combiner of [[], ['--combiner', 'python3 reducer.py']]) {
    const out = join(dir, `python-${combiner.length}`);
    const r = await streaming(['--mapper', 'python3 mapper.py', '--reducer', 'python3 reducer.py', ...combiner, ...PY, '--input', corpus, '--output', out, '--reducers', '3', '--split-size', '64KB']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readParts(out), readParts(builtin));
    const s = jsonSummary(r);
    // The mapper's reporter:counter lines on stderr, summed over the map tasks.
    assert.equal(s.userCounters['wordcount.lines'], s.counters['map input records']);
    if (combiner.length > 0) assert.ok(s.counters['combine output pairs'] < s.counters['map output pairs']);
  }
});

test('the shell-only example (mapper.sh: tr; reducer.sh: uniq -c and awk)', async () => {
  const out = join(dir, 'shell');
  const r = await streaming([
    '--mapper', 'sh mapper.sh', '--reducer', 'sh reducer.sh',
    '--file', join(EXAMPLE, 'mapper.sh'), '--file', join(EXAMPLE, 'reducer.sh'),
    '--input', join(ROOT, 'examples', 'data'), '--output', out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const counts = new Map(readParts(out).join('').trim().split('\n').map((l) => l.split('\t') as [string, string]));
  assert.equal(counts.get('the'), '8');
  assert.equal(counts.get('mapreduce'), '2');
});

test('a failing command fails its attempts with the tail of its stderr', async () => {
  const r = await streaming(['--mapper', "echo 'about to fail' >&2; echo 'no such column: x' >&2; exit 3", '--reducer', 'cat', '--input', join(ROOT, 'examples', 'data'), '--output', join(dir, 'fails'), '--max-attempts', '2']);
  assert.equal(r.code, 1);
  const s = jsonSummary(r);
  assert.equal(s.status, 'failed');
  assert.match(s.error.message, /the mapper `echo .*` exited with status 3; its stderr ended with:\nabout to fail\nno such column: x/);
  assert.equal(s.phases.map.failedAttempts, 2);
  const missing = await streaming(['--mapper', 'cat', '--reducer', 'python3 no-such-reducer.py', '--input', join(ROOT, 'examples', 'data'), '--output', join(dir, 'missing'), '--max-attempts', '1']);
  assert.equal(missing.code, 1);
  assert.match(jsonSummary(missing).error.message, /reducer `python3 no-such-reducer.py` exited with status 2; its stderr ended with:\n.*No such file/);
});

test('UTF-8 keys are kept byte for byte and sorted by their bytes; values keep tabs, quotes and backslashes', async () => {
  const input = join(dir, 'utf8.txt');
  const keys = ['zebra', 'Zebra', 'é', 'e\u0301', '日本', '😀', 'a', 'ä', 'ﬁ'];
  writeFileSync(input, keys.map((k, i) => `${k}\tv${i} "quoted" back\\slash\textra`).join('\n') + '\n');
  const out = join(dir, 'utf8');
  const r = await streaming(['--mapper', 'cat', '--reducer', 'cat', '--input', input, '--output', out]);
  assert.equal(r.code, 0, r.stderr);
  const lines = readFileSync(join(out, 'part-r-00000')).toString('utf8').trimEnd().split('\n');
  const expected = keys
    .map((k, i) => `${k}\tv${i} "quoted" back\\slash\textra`)
    .sort((a, b) => Buffer.compare(Buffer.from(a.split('\t')[0] as string), Buffer.from(b.split('\t')[0] as string)));
  assert.deepEqual(lines, expected);
});

test('a partition far larger than the worker heap streams through the reducer', async () => {
  // 400k distinct 100-byte lines (40 MB) all land in one partition; workers get a 48 MB heap.
  const input = join(dir, 'big.txt');
  const line = (i: number): string => `${String(i).padStart(10, '0')}\t${'x'.repeat(88)}`;
  writeFileSync(input, Array.from({ length: 400_000 }, (_, i) => line(399_999 - i)).join('\n') + '\n');
  const out = join(dir, 'big');
  const r = await streaming(['--mapper', 'cat', '--reducer', 'cat', '--input', input, '--output', out, '--worker-memory', '48MB', '--memory', '8MB', '--split-size', '8MB']);
  assert.equal(r.code, 0, r.stderr);
  const s = jsonSummary(r);
  assert.equal(s.counters['reduce input pairs'], 400_000);
  const part = readFileSync(join(out, 'part-r-00000'), 'utf8');
  assert.equal(part.length, 400_000 * 100);
  assert.equal(part.slice(0, 100), `${line(0)}\n`);
  assert.ok(part.endsWith(`${line(399_999)}\n`));
  for (const w of s.workers) assert.ok(w.maxRssBytes < 200e6, `worker ${w.id} peaked at ${w.maxRssBytes} bytes`);
});

test('commands run confined: as nobody (when torpedo runs as root), without network, outside the output', async () => {
  const server = createServer((socket) => socket.end('hello\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const out = join(dir, 'confined');
    const probe = [
      'cat > /dev/null',
      'echo "uid\t$(id -u)"',
      `if python3 -c "import socket; socket.create_connection(('127.0.0.1', ${port}), timeout=2)" 2>/dev/null; then echo "net\tyes"; else echo "net\tno"; fi`,
      `if (echo x > ${join(out, 'evil')}) 2>/dev/null; then echo "write-output\tyes"; else echo "write-output\tno"; fi`,
      'if (echo x > ./mine) 2>/dev/null; then echo "write-cwd\tyes"; else echo "write-cwd\tno"; fi',
      'if env | grep -q TORPEDO_TOKEN; then echo "token\tyes"; else echo "token\tno"; fi',
    ].join('; ');
    mkdirSync(out, { recursive: true });
    const r = await runCli(['run', '--mapper', probe, '--reducer', 'cat', '--input', join(ROOT, 'examples', 'data'), '--output', out, '--force', '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
    const seen = Object.fromEntries(readParts(out).join('').trim().split('\n').map((l) => l.split('\t')));
    assert.equal(seen['net'], 'no', 'the command reached a server on loopback');
    assert.equal(seen['write-output'], 'no');
    assert.equal(seen['write-cwd'], 'yes');
    assert.equal(seen['token'], 'no');
    if (process.getuid?.() === 0) assert.equal(seen['uid'], '65534');
  } finally {
    server.close();
  }
});

test('a command that hangs is stopped by --task-timeout, and none of its processes are left', async () => {
  const marker = `torpedo-hang-${process.pid}`;
  const r = await streaming(['--mapper', `sleep 1000 # ${marker}`, '--reducer', 'cat', '--input', join(ROOT, 'examples', 'data'), '--output', join(dir, 'hang'), '--task-timeout', '1500', '--max-attempts', '1']);
  assert.equal(r.code, 1);
  assert.equal(jsonSummary(r).error.code, 'TORPEDO_ERR_TASK_TIMEOUT');
  await new Promise((resolve) => setTimeout(resolve, 500));
  const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  assert.doesNotMatch(ps, new RegExp(`sleep 1000 # ${marker}`));
});

test('streaming flags are checked', async () => {
  const data = join(ROOT, 'examples', 'data');
  const both = await runCli(['run', 'wordcount', '--mapper', 'cat', '--reducer', 'cat', '--input', data, '--output', join(dir, 'x')]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /either a job .* or --mapper\/--reducer/);
  const half = await runCli(['run', '--mapper', 'cat', '--input', data, '--output', join(dir, 'x')]);
  assert.equal(half.code, 2);
  assert.match(half.stderr, /needs both --mapper and --reducer/);
  const noFile = await runCli(['run', '--mapper', 'cat', '--reducer', 'cat', '--file', join(dir, 'nope.py'), '--input', data, '--output', join(dir, 'x')]);
  assert.equal(noFile.code, 2);
  assert.match(noFile.stderr, /--file .*nope\.py.*: no such file/);
});
